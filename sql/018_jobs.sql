-- Async analytics jobs (docs/jobs.md): a queue in PostgreSQL, as durable as the data and as isolated
-- as the tenant. Users have no privileges on these tables: the job functions (src/api/jobs.rs) read and
-- write them as the extension's owner, always for the session's tenant and the calling role, as the
-- result cache does. Row-level security scopes them to the tenant as well.

-- What can run as a job. Data, so later parts add kinds (embed, jira_sync, eval) with one row each:
-- `function` is the SQL function the job does the work of; submitting needs EXECUTE on it, so a job
-- can do only what its submitter could do directly.
CREATE TABLE analytics.job_kinds (
    kind        text PRIMARY KEY CHECK (kind ~ '^[a-z][a-z0-9_]{0,62}$'),
    function    text NOT NULL,
    reusable    boolean NOT NULL,
    description text NOT NULL
);
COMMENT ON TABLE analytics.job_kinds IS 'The kinds of async job: each needs EXECUTE on its function to be submitted; a reusable kind''s completed job answers the same submit again while the data it read is unchanged.';
INSERT INTO analytics.job_kinds (kind, function, reusable, description) VALUES
    ('run', 'analytics.analytics_run(jsonb)', true, 'Run an AnalyticsSpec (payload: the spec) for the tenant, as the submitter.'),
    ('ask', 'analytics.analytics_ask(text,jsonb)', true, 'Answer a question (payload: {"question", "options"}) for the tenant, as the submitter.'),
    ('refresh_views', 'analytics.analytics_refresh_views(boolean)', false, 'Refresh the materialized statistics of every tenant (payload: {"concurrently": true|false}) or only of the stale tenants ({"stale_only": true}, what the workers queue every analytics.refresh_interval); admin access.');
REVOKE ALL ON analytics.job_kinds FROM PUBLIC;

CREATE TABLE analytics.jobs (
    tenant_id        text NOT NULL CHECK (tenant_id <> ''),
    id               uuid NOT NULL DEFAULT gen_random_uuid(),
    kind             text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{0,62}$'),
    payload          jsonb NOT NULL,
    payload_hash     text NOT NULL,
    settings         jsonb NOT NULL,
    submitted_by     oid NOT NULL,
    idempotency_key  text CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    priority         integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN -100 AND 100),
    max_attempts     integer NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 20),
    run_after        timestamptz NOT NULL DEFAULT now(),
    state            text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    attempt          integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    attempt_token    uuid,
    cancel_requested boolean NOT NULL DEFAULT false,
    progress         real NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    stage            text,
    error            jsonb,
    result_rows      bigint,
    data_versions    bigint[],
    worker_pid       integer,
    heartbeat_at     timestamptz,
    submitted_at     timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    CONSTRAINT jobs_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT jobs_finished_has_time CHECK ((state IN ('completed', 'failed', 'cancelled')) = (finished_at IS NOT NULL))
);
COMMENT ON TABLE analytics.jobs IS 'Async analytics jobs: one row per job, scoped by tenant and submitting role (see docs/jobs.md). Not readable by users: see analytics_job_status() and analytics_jobs().';
COMMENT ON COLUMN analytics.jobs.payload_hash IS 'What makes two submits the same job: analytics._cache_md5 of the payload''s hash (the canonical spec hash for run jobs, else the SHA-256 of the payload with its keys in order), so the session settings that change an answer (TimeZone, DateStyle, ...) are part of it.';
COMMENT ON COLUMN analytics.jobs.settings IS 'The submitting session''s settings that change an answer (TimeZone, DateStyle, IntervalStyle, extra_float_digits): the job runs with them.';
COMMENT ON COLUMN analytics.jobs.data_versions IS 'analytics._cache_versions of the tenant when the job''s result was computed: a completed job answers the same submit again only while they are unchanged.';
COMMENT ON COLUMN analytics.jobs.submitted_by IS 'OID of the submitting role: the job runs as this role, and only it sees the job.';
COMMENT ON COLUMN analytics.jobs.attempt_token IS 'Written afresh by each claim; a worker writes progress, result and final state only while it still matches.';
-- Idempotency: while a job is queued or running, the same payload (or the same idempotency key) from
-- the same role and tenant is that job. Unique indexes, so concurrent submits cannot both insert.
CREATE UNIQUE INDEX jobs_active_payload_idx ON analytics.jobs (tenant_id, submitted_by, kind, payload_hash)
    WHERE state IN ('queued', 'running');
CREATE UNIQUE INDEX jobs_active_key_idx ON analytics.jobs (tenant_id, submitted_by, idempotency_key)
    WHERE idempotency_key IS NOT NULL AND state IN ('queued', 'running');
CREATE INDEX jobs_queued_idx ON analytics.jobs (priority DESC, run_after, submitted_at) WHERE state = 'queued';
CREATE INDEX jobs_id_idx ON analytics.jobs (id);
CREATE INDEX jobs_tenant_role_idx ON analytics.jobs (tenant_id, submitted_by, submitted_at DESC);
ALTER TABLE analytics.jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON analytics.jobs
    USING (tenant_id = analytics.current_tenant()) WITH CHECK (tenant_id = analytics.current_tenant());
REVOKE ALL ON analytics.jobs FROM PUBLIC;

-- A completed job's answer (the shape of analytics_run's for a run job).
CREATE TABLE analytics.job_results (
    tenant_id text NOT NULL CHECK (tenant_id <> ''),
    job_id    uuid NOT NULL,
    result    jsonb NOT NULL,
    CONSTRAINT job_results_pkey PRIMARY KEY (tenant_id, job_id),
    CONSTRAINT job_results_job_fk FOREIGN KEY (tenant_id, job_id) REFERENCES analytics.jobs (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE analytics.job_results IS 'The answer of each completed job. Not readable by users: see analytics_job_result() and analytics_job_rows().';
ALTER TABLE analytics.job_results ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.job_results FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON analytics.job_results
    USING (tenant_id = analytics.current_tenant()) WITH CHECK (tenant_id = analytics.current_tenant());
REVOKE ALL ON analytics.job_results FROM PUBLIC;

-- A submit's run_after option as a point in time: 22023 with a HINT when it is not one (the cast's own
-- 22007 would name no option).
CREATE FUNCTION analytics._job_run_after(run_after text) RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN run_after::timestamptz;
EXCEPTION WHEN data_exception THEN
    RAISE EXCEPTION 'run_after must be a point in time, not %', quote_literal(run_after)
        USING ERRCODE = 'invalid_parameter_value', DETAIL = SQLERRM,
              HINT = 'Give a timestamptz in the options, e.g. {"run_after": "2026-12-01 09:00+00"}.';
END
$$;
COMMENT ON FUNCTION analytics._job_run_after(text) IS 'Internal: a job''s run_after option as a timestamptz; 22023 with a HINT when it is not one.';
REVOKE ALL ON FUNCTION analytics._job_run_after(text) FROM PUBLIC;

-- Every tenant's jobs, for a superuser watching the queue (no grants: superusers only).
CREATE VIEW analytics.job_queue AS
SELECT j.tenant_id, j.id, j.kind, j.submitted_by::regrole AS submitted_by, j.state, j.attempt, j.max_attempts,
       j.progress, j.stage, j.priority, j.run_after, j.submitted_at, j.started_at, j.finished_at,
       j.worker_pid, j.heartbeat_at, j.error ->> 'sqlstate' AS error_sqlstate
FROM analytics.jobs j;
COMMENT ON VIEW analytics.job_queue IS 'Every tenant''s jobs, for superusers (row-level security applies to everyone else, who see none).';
REVOKE ALL ON analytics.job_queue FROM PUBLIC;
