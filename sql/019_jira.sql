-- Jira sync (issue 18, docs/jira.md): the sources a tenant syncs from, their credentials, and which
-- issues each full resync saw. Users have no privileges on these tables: the functions
-- (src/api/jira.rs, and the two below) read and write them as the extension's owner, always for the
-- session's tenant; the job workers' jira_sync jobs (src/jobs/jira.rs) write them as the job's
-- submitter's tenant. The credentials table is read by the job workers only.

CREATE TABLE analytics.jira_sources (
    tenant_id        text NOT NULL CHECK (tenant_id <> ''),
    name             text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
    config           jsonb NOT NULL,
    created_by       oid NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    watermark        timestamptz,
    syncs            bigint NOT NULL DEFAULT 0 CHECK (syncs >= 0),
    full_sync        bigint,
    last_job         uuid,
    last_started_at  timestamptz,
    last_finished_at timestamptz,
    last_result      jsonb,
    last_error       jsonb,
    CONSTRAINT jira_sources_pkey PRIMARY KEY (tenant_id, name)
);
COMMENT ON TABLE analytics.jira_sources IS 'Jira sites a tenant syncs from (analytics_jira_source_upsert); not readable by users: see analytics_jira_sources().';
COMMENT ON COLUMN analytics.jira_sources.watermark IS 'The greatest updated of the issues written so far, advanced in the transaction of each page: the next sync asks for issues updated since it, less the overlap (config.overlap_minutes).';
COMMENT ON COLUMN analytics.jira_sources.full_sync IS 'The number of a full resync under way: an attempt that resumes it goes on from the watermark and still compares the keys at the end.';
ALTER TABLE analytics.jira_sources ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.jira_sources FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON analytics.jira_sources
    USING (tenant_id = analytics.current_tenant()) WITH CHECK (tenant_id = analytics.current_tenant());
REVOKE ALL ON analytics.jira_sources FROM PUBLIC;

-- Credentials: written by analytics_jira_source_secret (superusers and the extension's owner), read by
-- the job workers; no other role has any privilege on the table, and no function returns it.
CREATE TABLE analytics.jira_source_secrets (
    tenant_id text NOT NULL,
    name      text NOT NULL,
    secret    jsonb NOT NULL,
    set_by    oid NOT NULL,
    set_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT jira_source_secrets_pkey PRIMARY KEY (tenant_id, name),
    CONSTRAINT jira_source_secrets_source_fk FOREIGN KEY (tenant_id, name) REFERENCES analytics.jira_sources (tenant_id, name) ON DELETE CASCADE
);
COMMENT ON TABLE analytics.jira_source_secrets IS 'The credential of each Jira source: readable by nobody but the extension''s owner and superusers.';
ALTER TABLE analytics.jira_source_secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.jira_source_secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON analytics.jira_source_secrets
    USING (tenant_id = analytics.current_tenant()) WITH CHECK (tenant_id = analytics.current_tenant());
REVOKE ALL ON analytics.jira_source_secrets FROM PUBLIC;

-- The issue keys each source's syncs returned, with the number of the last sync that saw each: after a
-- full resync, the keys it did not see are the issues Jira no longer returns for the JQL.
CREATE TABLE analytics.jira_source_issues (
    tenant_id  text NOT NULL,
    name       text NOT NULL,
    issue_key  text NOT NULL,
    last_seen  bigint NOT NULL,
    CONSTRAINT jira_source_issues_pkey PRIMARY KEY (tenant_id, name, issue_key),
    CONSTRAINT jira_source_issues_source_fk FOREIGN KEY (tenant_id, name) REFERENCES analytics.jira_sources (tenant_id, name) ON DELETE CASCADE
);
COMMENT ON TABLE analytics.jira_source_issues IS 'The issue keys each Jira source''s syncs returned, and the number of the last sync that saw each (for the report and prune of a full resync).';
ALTER TABLE analytics.jira_source_issues ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.jira_source_issues FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON analytics.jira_source_issues
    USING (tenant_id = analytics.current_tenant()) WITH CHECK (tenant_id = analytics.current_tenant());
REVOKE ALL ON analytics.jira_source_issues FROM PUBLIC;

INSERT INTO analytics.job_kinds (kind, function, reusable, description) VALUES
    ('jira_sync', 'analytics.analytics_jira_sync(text,jsonb)', false, 'Sync a Jira source into the tenant (payload: {"source", "full", "prune"}), page by page, each page in its own transaction; admin access.');

-- The tenant's sources, without their credentials.
CREATE FUNCTION analytics.analytics_jira_sources()
RETURNS TABLE (name text, base_url text, flavor text, jql text, has_secret boolean, watermark timestamptz,
               syncs bigint, last_job uuid, last_started_at timestamptz, last_finished_at timestamptz,
               last_result jsonb, last_error jsonb, config jsonb)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT s.name, s.config ->> 'base_url', s.config ->> 'flavor', s.config ->> 'jql',
           EXISTS (SELECT FROM analytics.jira_source_secrets k WHERE k.tenant_id = s.tenant_id AND k.name = s.name),
           s.watermark, s.syncs, s.last_job, s.last_started_at, s.last_finished_at, s.last_result, s.last_error, s.config
    FROM analytics.jira_sources s
    WHERE s.tenant_id = analytics.current_tenant()
    ORDER BY s.name;
END;
COMMENT ON FUNCTION analytics.analytics_jira_sources() IS
  'The session tenant''s Jira sources: name, base_url, flavor, jql, has_secret, watermark (the greatest updated synced), syncs, the last sync''s job, times, result ({"issues_written", "requests", ...}) and error, and the whole config. Never the credential. Admin access.';
REVOKE ALL ON FUNCTION analytics.analytics_jira_sources() FROM PUBLIC;

-- A source's sync on a pg_cron schedule, for the session's tenant, as the calling role.
CREATE FUNCTION analytics.analytics_schedule_jira_sync(name text, schedule text DEFAULT '*/30 * * * *') RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant text := analytics.current_tenant();
    jobid bigint;
BEGIN
    IF tenant IS NULL THEN
        RAISE EXCEPTION 'no tenant is set for this session' USING ERRCODE = 'insufficient_privilege',
            HINT = 'SET analytics.tenant_id = ''your_tenant'';';
    END IF;
    IF NOT EXISTS (SELECT FROM analytics.analytics_jira_sources() s WHERE s.name = analytics_schedule_jira_sync.name) THEN
        RAISE EXCEPTION 'no Jira source "%" for tenant "%"', analytics_schedule_jira_sync.name, tenant
            USING ERRCODE = 'undefined_object', HINT = 'SELECT name FROM analytics_jira_sources() lists them.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in database %', current_database()
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'analytics_schedule_jira_sync() schedules the sync as a pg_cron job.',
                  HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name, restart PostgreSQL and run CREATE EXTENSION pg_cron; or call analytics_jira_sync(name) from your own scheduler.';
    END IF;
    IF schedule IS NULL OR btrim(schedule) = '' THEN
        RAISE EXCEPTION 'schedule must not be empty'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use cron syntax, e.g. ''*/30 * * * *''.';
    END IF;
    -- The command is built from quoted literals only; it runs as the calling role.
    EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO jobid
        USING 'agile_analytics_jira_sync:' || tenant || ':' || analytics_schedule_jira_sync.name, schedule,
              format('SET analytics.tenant_id = %L; SELECT analytics.analytics_jira_sync(%L);', tenant, analytics_schedule_jira_sync.name);
    RETURN jobid;
END
$$;
COMMENT ON FUNCTION analytics.analytics_schedule_jira_sync(text, text) IS
  'Schedule analytics_jira_sync(name) for the session''s tenant with pg_cron (job name agile_analytics_jira_sync:<tenant>:<name>; default every 30 minutes), as the calling role; returns the cron job id. Scheduling again replaces the schedule. Needs pg_cron in this database. Admin access.';
REVOKE ALL ON FUNCTION analytics.analytics_schedule_jira_sync(text, text) FROM PUBLIC;

CREATE FUNCTION analytics.analytics_unschedule_jira_sync(name text) RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job text := 'agile_analytics_jira_sync:' || coalesce(analytics.current_tenant(), '') || ':' || analytics_unschedule_jira_sync.name;
    found boolean;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT EXISTS (SELECT FROM cron.job WHERE jobname = $1)' INTO found USING job;
    IF found THEN
        EXECUTE 'SELECT cron.unschedule($1)' USING job;
    END IF;
    RETURN found;
END
$$;
COMMENT ON FUNCTION analytics.analytics_unschedule_jira_sync(text) IS
  'Remove the pg_cron job of analytics_schedule_jira_sync(name) for the session''s tenant; returns whether there was one. Admin access.';
REVOKE ALL ON FUNCTION analytics.analytics_unschedule_jira_sync(text) FROM PUBLIC;

INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('admin', 'function', 'analytics.analytics_jira_sources()', 'EXECUTE'),
    ('admin', 'function', 'analytics.analytics_schedule_jira_sync(text,text)', 'EXECUTE'),
    ('admin', 'function', 'analytics.analytics_unschedule_jira_sync(text)', 'EXECUTE');
