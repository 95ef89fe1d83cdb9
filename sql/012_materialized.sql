-- Materialized statistics: analytics.sprint_facts and per-issue comment statistics, kept in tables per
-- tenant. A tenant's rows depend on that tenant's data alone (z-scores are per board), so a refresh
-- replaces one tenant's rows in one transaction: readers see the old rows or the new, never half, and
-- readers and refreshes of other tenants are never blocked. analytics.stats_refreshes records what each
-- tenant's rows were computed from; while that is still current (analytics._stats_fresh), sprint specs
-- are answered from the statistics instead of computing sprint_facts (docs/catalog.md, "Routing").
-- Refreshed on demand (analytics_refresh_views: every tenant; analytics_refresh_stats: one tenant), by
-- pg_cron (analytics_schedule_refresh) or by the extension's job workers (analytics.refresh_interval:
-- only the tenants whose data changed). Nobody but the extension reads the tables directly: readers use
-- the tenant-filtered views analytics.sprint_stats and analytics.issue_comment_stats.

-- The columns of analytics.sprint_facts, in its order (a refresh inserts SELECT * FROM it; the schema
-- test compares them with the view's).
CREATE TABLE analytics.mv_sprint_stats_enriched (
    sprint_id                bigint NOT NULL,
    tenant_id                text NOT NULL,
    instance_id              text,
    board                    text,
    name                     text,
    state                    text,
    start_date               timestamptz,
    end_date                 timestamptz,
    complete_date            timestamptz,
    planned_issues           bigint,
    planned_sp               numeric,
    added_sp                 numeric,
    removed_sp               numeric,
    completed_issues         bigint,
    completed_sp             numeric,
    spilled_sp               numeric,
    spillover_ratio          numeric,
    scope_churn_ratio        numeric,
    accuracy_abs             numeric,
    velocity                 numeric,
    planned_sp_z             numeric,
    added_sp_z               numeric,
    removed_sp_z             numeric,
    completed_sp_z           numeric,
    spillover_ratio_z        numeric,
    scope_churn_ratio_z      numeric,
    accuracy_abs_z           numeric,
    velocity_z               numeric,
    sprint_problematic_score numeric,
    CONSTRAINT mv_sprint_stats_enriched_pk PRIMARY KEY (tenant_id, sprint_id)
);
CREATE INDEX mv_sprint_stats_enriched_tenant_idx
    ON analytics.mv_sprint_stats_enriched (tenant_id, sprint_problematic_score DESC NULLS LAST);
COMMENT ON TABLE analytics.mv_sprint_stats_enriched IS 'analytics.sprint_facts of every tenant as of that tenant''s last refresh (analytics.stats_refreshes). Not for direct reading: use analytics.sprint_stats.';

CREATE TABLE analytics.mv_issue_comment_stats (
    issue_id             bigint NOT NULL,
    tenant_id            text NOT NULL,
    issue_key            text,
    comment_count        bigint NOT NULL,
    distinct_commenters  bigint NOT NULL,
    first_comment_at     timestamptz,
    last_comment_at      timestamptz,
    first_response_hours numeric,
    CONSTRAINT mv_issue_comment_stats_pk PRIMARY KEY (tenant_id, issue_id)
);
COMMENT ON TABLE analytics.mv_issue_comment_stats IS 'Per issue: comment_count, distinct_commenters, first and last comment time, first_response_hours (first comment by someone other than the reporter), as of the tenant''s last refresh. All tenants; read it through analytics.issue_comment_stats.';

-- Row-level security on both, for anyone given access to them by mistake (the views below run as the
-- extension's owner, which refreshes every tenant and is not limited by it).
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['mv_sprint_stats_enriched', 'mv_issue_comment_stats'] LOOP
        EXECUTE format('ALTER TABLE analytics.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON analytics.%I USING (tenant_id = analytics.current_tenant())', t);
        EXECUTE format('REVOKE ALL ON analytics.%I FROM PUBLIC', t);
    END LOOP;
END
$$;

-- Tenant-filtered windows onto the statistics. They run with the extension owner's rights (so readers
-- need no access to the tables) and show only the session's tenant; security_barrier keeps other
-- tenants' rows away from any function in a caller's WHERE clause.
CREATE VIEW analytics.sprint_stats WITH (security_barrier = true) AS
SELECT * FROM analytics.mv_sprint_stats_enriched WHERE tenant_id = analytics.current_tenant();
COMMENT ON VIEW analytics.sprint_stats IS 'The session tenant''s sprint statistics (planned/added/removed/completed points, spillover, scope churn, planning error, velocity, z-scores, problem score) as of the last refresh.';

CREATE VIEW analytics.issue_comment_stats WITH (security_barrier = true) AS
SELECT * FROM analytics.mv_issue_comment_stats WHERE tenant_id = analytics.current_tenant();
COMMENT ON VIEW analytics.issue_comment_stats IS 'The session tenant''s per-issue comment statistics as of the last refresh.';

-- What a refresh writes, as views over every tenant (a refresh filters them by tenant_id, which reaches
-- the scans: both group by it). Internal: only the refresh functions read them.
CREATE VIEW analytics._issue_comment_facts WITH (security_invoker = true) AS
SELECT i.id AS issue_id, i.tenant_id, i.issue_key,
       count(c.id) AS comment_count,
       count(DISTINCT c.author) AS distinct_commenters,
       min(c.created_at) AS first_comment_at,
       max(c.created_at) AS last_comment_at,
       extract(epoch FROM min(c.created_at) FILTER (WHERE c.author IS DISTINCT FROM i.reporter) - i.created_at) / 3600.0
           AS first_response_hours
FROM analytics.issues i
LEFT JOIN analytics.issue_comments c ON c.tenant_id = i.tenant_id AND c.issue_id = i.id
GROUP BY i.id, i.tenant_id, i.issue_key, i.reporter, i.created_at;
COMMENT ON VIEW analytics._issue_comment_facts IS 'Internal: the per-issue comment statistics computed live (what analytics.mv_issue_comment_stats holds after a refresh).';
REVOKE ALL ON analytics._issue_comment_facts FROM PUBLIC;

-- sprint_facts counts the members a running sprint gained or lost before now(): a change dated later
-- alters the statistics without a write, so they are fresh only until then.
CREATE VIEW analytics._stats_valid_until WITH (security_invoker = true) AS
SELECT si.tenant_id, min(m.at) AS valid_until
FROM analytics.sprint_issues si
JOIN analytics.sprints s ON s.tenant_id = si.tenant_id AND s.id = si.sprint_id
CROSS JOIN LATERAL (VALUES (si.added_at), (si.removed_at)) AS m(at)
WHERE s.complete_date IS NULL AND s.state <> 'future' AND s.start_date IS NOT NULL AND m.at >= now()
GROUP BY si.tenant_id;
COMMENT ON VIEW analytics._stats_valid_until IS 'Internal: per tenant, the first membership change of a running sprint dated now or later (until when statistics refreshed now stay fresh).';
REVOKE ALL ON analytics._stats_valid_until FROM PUBLIC;

-- When each tenant's statistics were refreshed and from what.
CREATE TABLE analytics.stats_refreshes (
    tenant_id      text PRIMARY KEY,
    data_version   bigint NOT NULL,
    global_version bigint NOT NULL,
    catalog_stamp  bigint NOT NULL,
    valid_until    timestamptz,
    refreshed_at   timestamptz NOT NULL,
    refresh_ms     numeric NOT NULL
);
COMMENT ON TABLE analytics.stats_refreshes IS 'Per tenant, the last refresh of its statistics: the tenant''s data version, the global version and the catalog stamp they were computed from (read before computing), when, how long; valid_until: the first membership change of a running sprint dated after the refresh (sprint_facts counts changes before now()). Fresh while all are current: analytics._stats_fresh.';
REVOKE ALL ON analytics.stats_refreshes FROM PUBLIC;

-- When each statistics table was last refreshed in full.
CREATE TABLE analytics.view_refreshes (
    view_name    text PRIMARY KEY,
    refreshed_at timestamptz NOT NULL,
    refresh_ms   numeric NOT NULL,
    concurrent   boolean NOT NULL
);
COMMENT ON TABLE analytics.view_refreshes IS 'Last full refresh (analytics_refresh_views) of each statistics table: when, how long, whether asked for concurrently. Per-tenant refreshes are in analytics.stats_refreshes.';

-- The refreshed_at of a tenant's statistics while they are what sprint_facts would compute now, else NULL.
CREATE FUNCTION analytics._stats_fresh_for(p_tenant text) RETURNS timestamptz
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.refreshed_at FROM analytics.stats_refreshes r
    WHERE r.tenant_id = p_tenant
      AND r.data_version = coalesce((SELECT d.version FROM analytics.data_versions d WHERE d.tenant_id = p_tenant), 0)
      AND r.global_version = coalesce((SELECT d.version FROM analytics.data_versions d WHERE d.tenant_id = ''), 0)
      AND r.catalog_stamp = (SELECT c.stamp FROM analytics.catalog_stamp c)
      AND (r.valid_until IS NULL OR now() <= r.valid_until)
$$;
COMMENT ON FUNCTION analytics._stats_fresh_for(text) IS 'Internal: when the tenant''s statistics were refreshed, if nothing they depend on changed since (its data version, the global version, the catalog stamp, valid_until); NULL when stale or never refreshed.';
REVOKE ALL ON FUNCTION analytics._stats_fresh_for(text) FROM PUBLIC;

CREATE FUNCTION analytics._stats_fresh() RETURNS timestamptz
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT analytics._stats_fresh_for(analytics.current_tenant()) $$;
COMMENT ON FUNCTION analytics._stats_fresh() IS 'Internal: analytics._stats_fresh_for the session''s tenant (how analytics_run decides to answer sprint specs from the statistics).';
REVOKE ALL ON FUNCTION analytics._stats_fresh() FROM PUBLIC;

-- The tenants with data or statistics (a loose index scan over the issues' primary key).
CREATE FUNCTION analytics._stats_tenants() RETURNS SETOF text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE t(tenant_id) AS (
        (SELECT i.tenant_id FROM analytics.issues i ORDER BY i.tenant_id LIMIT 1)
        UNION ALL
        SELECT (SELECT i.tenant_id FROM analytics.issues i WHERE i.tenant_id > t.tenant_id ORDER BY i.tenant_id LIMIT 1)
        FROM t WHERE t.tenant_id IS NOT NULL
    )
    SELECT t.tenant_id FROM t WHERE t.tenant_id IS NOT NULL
    UNION SELECT s.tenant_id FROM analytics.sprints s
    UNION SELECT r.tenant_id FROM analytics.stats_refreshes r
$$;
COMMENT ON FUNCTION analytics._stats_tenants() IS 'Internal: every tenant with issues, sprints or statistics.';
REVOKE ALL ON FUNCTION analytics._stats_tenants() FROM PUBLIC;

-- A clear 25006 before any work where nothing can be written (a standby, a read-only transaction).
CREATE FUNCTION analytics._ensure_writable(what text) RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_is_in_recovery() OR current_setting('transaction_read_only')::boolean THEN
        RAISE EXCEPTION '% cannot run here: this transaction is read-only', what
            USING ERRCODE = 'read_only_sql_transaction',
                  DETAIL = 'On a standby (in recovery) or in a read-only transaction nothing can be written.',
                  HINT = 'Run it on the primary, in a read-write transaction; a standby follows the primary''s changes.';
    END IF;
END
$$;
COMMENT ON FUNCTION analytics._ensure_writable(text) IS 'Internal: raises 25006 (with the function''s name) in a transaction that cannot write.';
REVOKE ALL ON FUNCTION analytics._ensure_writable(text) FROM PUBLIC;

CREATE FUNCTION analytics.analytics_refresh_stats(tenant text)
RETURNS TABLE (view_name text, refresh_ms numeric, stats_rows bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- JIT compiling sprint_facts' plan (its estimated cost is high) takes longer than computing it: ~2 s.
SET jit = off
AS $$
DECLARE
    v_data bigint;
    v_global bigint;
    v_stamp bigint;
    v_until timestamptz;
    t_all timestamptz := clock_timestamp();
    t0 timestamptz;
    n bigint;
BEGIN
    PERFORM analytics._ensure_writable('analytics_refresh_stats');
    IF $1 IS NULL OR $1 = '' THEN
        RAISE EXCEPTION 'tenant must not be empty'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass a tenant id, e.g. analytics_refresh_stats(''acme''); analytics_refresh_views() refreshes every tenant.';
    END IF;
    -- One refresh of a tenant at a time (a second waits for the first); others go on; a full refresh
    -- waits for them all, and they for it.
    PERFORM pg_advisory_xact_lock_shared(hashtext('agile_analytics.stats_all'));
    PERFORM pg_advisory_xact_lock(hashtext('agile_analytics.stats'), hashtext($1));
    -- What the statistics are computed from, read before computing them: a write that commits meanwhile
    -- leaves the tenant stale (refreshed again next time), never fresh without that write's effect.
    SELECT coalesce((SELECT d.version FROM analytics.data_versions d WHERE d.tenant_id = $1), 0),
           coalesce((SELECT d.version FROM analytics.data_versions d WHERE d.tenant_id = ''), 0),
           (SELECT c.stamp FROM analytics.catalog_stamp c)
      INTO v_data, v_global, v_stamp;

    t0 := clock_timestamp();
    DELETE FROM analytics.mv_sprint_stats_enriched s WHERE s.tenant_id = $1;
    INSERT INTO analytics.mv_sprint_stats_enriched SELECT * FROM analytics.sprint_facts f WHERE f.tenant_id = $1;
    GET DIAGNOSTICS n = ROW_COUNT;
    view_name := 'analytics.mv_sprint_stats_enriched';
    refresh_ms := round((extract(epoch FROM clock_timestamp() - t0) * 1000)::numeric, 1);
    stats_rows := n;
    RETURN NEXT;

    t0 := clock_timestamp();
    DELETE FROM analytics.mv_issue_comment_stats s WHERE s.tenant_id = $1;
    INSERT INTO analytics.mv_issue_comment_stats SELECT * FROM analytics._issue_comment_facts f WHERE f.tenant_id = $1;
    GET DIAGNOSTICS n = ROW_COUNT;
    view_name := 'analytics.mv_issue_comment_stats';
    refresh_ms := round((extract(epoch FROM clock_timestamp() - t0) * 1000)::numeric, 1);
    stats_rows := n;
    RETURN NEXT;

    SELECT v.valid_until INTO v_until FROM analytics._stats_valid_until v WHERE v.tenant_id = $1;
    INSERT INTO analytics.stats_refreshes AS r (tenant_id, data_version, global_version, catalog_stamp, valid_until, refreshed_at, refresh_ms)
    VALUES ($1, v_data, v_global, v_stamp, v_until, now(), round((extract(epoch FROM clock_timestamp() - t_all) * 1000)::numeric, 1))
    ON CONFLICT ON CONSTRAINT stats_refreshes_pkey DO UPDATE
        SET data_version = excluded.data_version, global_version = excluded.global_version, catalog_stamp = excluded.catalog_stamp,
            valid_until = excluded.valid_until, refreshed_at = excluded.refreshed_at, refresh_ms = excluded.refresh_ms;
END
$$;
COMMENT ON FUNCTION analytics.analytics_refresh_stats(text) IS
  'Refresh one tenant''s statistics (sprint stats with z-scores, issue comment stats) in one transaction; returns each table with the time in ms and the tenant''s rows. Readers (of this tenant too) are not blocked and see the old rows or the new. Admin access.';
REVOKE ALL ON FUNCTION analytics.analytics_refresh_stats(text) FROM PUBLIC;

CREATE FUNCTION analytics.analytics_refresh_stale_stats()
RETURNS TABLE (tenant_id text, view_name text, refresh_ms numeric, stats_rows bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t text;
BEGIN
    PERFORM analytics._ensure_writable('analytics_refresh_stale_stats');
    FOR t IN SELECT x FROM analytics._stats_tenants() AS x WHERE analytics._stats_fresh_for(x) IS NULL ORDER BY 1 LOOP
        RETURN QUERY SELECT t, r.view_name, r.refresh_ms, r.stats_rows FROM analytics.analytics_refresh_stats(t) AS r;
    END LOOP;
END
$$;
COMMENT ON FUNCTION analytics.analytics_refresh_stale_stats() IS
  'Refresh the statistics of every tenant whose data, the catalog or the time changed them since its last refresh (what the job workers do every analytics.refresh_interval); returns a row per tenant and table. Admin access.';
REVOKE ALL ON FUNCTION analytics.analytics_refresh_stale_stats() FROM PUBLIC;

CREATE FUNCTION analytics.analytics_refresh_views(concurrently boolean DEFAULT true)
RETURNS TABLE (view_name text, refresh_ms numeric)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    t_all timestamptz := clock_timestamp();
    t0 timestamptz;
    ms numeric[] := ARRAY[0, 0];
BEGIN
    PERFORM analytics._ensure_writable('analytics_refresh_views');
    -- CONCURRENTLY is a keyword: the parameter is read as $1.
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'concurrently must not be null'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Pass true or false: every refresh now replaces each tenant''s rows in one transaction and never blocks readers.';
    END IF;
    -- Per-tenant refreshes wait for a full one (and it for them): they would insert the same keys.
    PERFORM pg_advisory_xact_lock(hashtext('agile_analytics.stats_all'));
    -- Cached results may read the statistics: invalidate them all (before the tenants record the version).
    UPDATE analytics.data_versions SET version = version + 1, changed_at = now() WHERE tenant_id = '';
    -- What every tenant's statistics are computed from, read before computing them (as
    -- analytics_refresh_stats does); all tenants at once: set-based statements over every tenant are
    -- faster than one per tenant (20 s against 25 s for the sprint statistics at 1M issues).
    INSERT INTO analytics.stats_refreshes AS r (tenant_id, data_version, global_version, catalog_stamp, valid_until, refreshed_at, refresh_ms)
    SELECT t.t, coalesce(d.version, 0), (SELECT g.version FROM analytics.data_versions g WHERE g.tenant_id = ''),
           (SELECT c.stamp FROM analytics.catalog_stamp c), NULL, now(), 0
    FROM analytics._stats_tenants() AS t(t) LEFT JOIN analytics.data_versions d ON d.tenant_id = t.t
    ON CONFLICT ON CONSTRAINT stats_refreshes_pkey DO UPDATE
        SET data_version = excluded.data_version, global_version = excluded.global_version, catalog_stamp = excluded.catalog_stamp,
            valid_until = NULL, refreshed_at = excluded.refreshed_at;

    t0 := clock_timestamp();
    DELETE FROM analytics.mv_sprint_stats_enriched;
    INSERT INTO analytics.mv_sprint_stats_enriched SELECT * FROM analytics.sprint_facts;
    ms[1] := round((extract(epoch FROM clock_timestamp() - t0) * 1000)::numeric, 1);
    t0 := clock_timestamp();
    DELETE FROM analytics.mv_issue_comment_stats;
    INSERT INTO analytics.mv_issue_comment_stats SELECT * FROM analytics._issue_comment_facts;
    ms[2] := round((extract(epoch FROM clock_timestamp() - t0) * 1000)::numeric, 1);

    -- Until when each tenant stays fresh; refresh_ms: the whole refresh's.
    UPDATE analytics.stats_refreshes AS r
    SET valid_until = (SELECT v.valid_until FROM analytics._stats_valid_until v WHERE v.tenant_id = r.tenant_id),
        refresh_ms = round((extract(epoch FROM clock_timestamp() - t_all) * 1000)::numeric, 1);

    FOR i IN 1..2 LOOP
        view_name := (ARRAY['analytics.mv_sprint_stats_enriched', 'analytics.mv_issue_comment_stats'])[i];
        refresh_ms := ms[i];
        INSERT INTO analytics.view_refreshes AS v (view_name, refreshed_at, refresh_ms, concurrent)
        VALUES (analytics_refresh_views.view_name, now(), analytics_refresh_views.refresh_ms, $1)
        ON CONFLICT ON CONSTRAINT view_refreshes_pkey DO UPDATE
            SET refreshed_at = excluded.refreshed_at, refresh_ms = excluded.refresh_ms, concurrent = excluded.concurrent;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION analytics.analytics_refresh_views(boolean) IS
  'Refresh the statistics (sprint stats with z-scores, issue comment stats) of every tenant in one transaction; returns each table with its refresh time in ms. concurrently is kept for compatibility: no refresh blocks readers. Admin access.';
REVOKE ALL ON FUNCTION analytics.analytics_refresh_views(boolean) FROM PUBLIC;

-- For the background worker: refresh the stale tenants, and report an error as text instead of raising it.
CREATE FUNCTION analytics._refresh_views_for_worker() RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM analytics.analytics_refresh_stale_stats();
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
COMMENT ON FUNCTION analytics._refresh_views_for_worker() IS 'Internal: the background worker''s refresh of stale tenants; returns the error (SQLSTATE: message) or NULL.';
REVOKE ALL ON FUNCTION analytics._refresh_views_for_worker() FROM PUBLIC;

CREATE FUNCTION analytics.analytics_schedule_refresh(schedule text DEFAULT '*/15 * * * *') RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job bigint;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in database %', current_database()
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'analytics_schedule_refresh() schedules the refresh as a pg_cron job.',
                  HINT = format('Add pg_cron to shared_preload_libraries, set cron.database_name = %L, restart PostgreSQL and run CREATE EXTENSION pg_cron; or set analytics.refresh_interval to let the extension''s background worker refresh the views.', current_database());
    END IF;
    IF schedule IS NULL OR btrim(schedule) = '' THEN
        RAISE EXCEPTION 'schedule must not be empty'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use cron syntax, e.g. ''*/15 * * * *'', or ''30 seconds''.';
    END IF;
    EXECUTE 'SELECT cron.schedule($1, $2, $3)'
        INTO job
        USING 'agile_analytics_refresh_views', schedule, 'SELECT analytics.analytics_refresh_views()';
    RETURN job;
END
$$;
COMMENT ON FUNCTION analytics.analytics_schedule_refresh(text) IS
  'Schedule analytics_refresh_views() with pg_cron (job name agile_analytics_refresh_views; default every 15 minutes); returns the cron job id. Scheduling again replaces the schedule. Needs pg_cron in this database. Admin access.';
REVOKE ALL ON FUNCTION analytics.analytics_schedule_refresh(text) FROM PUBLIC;

CREATE FUNCTION analytics.analytics_unschedule_refresh() RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found boolean;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT EXISTS (SELECT FROM cron.job WHERE jobname = $1)' INTO found USING 'agile_analytics_refresh_views';
    IF found THEN
        EXECUTE 'SELECT cron.unschedule($1)' USING 'agile_analytics_refresh_views';
    END IF;
    RETURN found;
END
$$;
COMMENT ON FUNCTION analytics.analytics_unschedule_refresh() IS
  'Remove the pg_cron job made by analytics_schedule_refresh(); returns whether there was one. Admin access.';
REVOKE ALL ON FUNCTION analytics.analytics_unschedule_refresh() FROM PUBLIC;

INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'table', 'analytics.sprint_stats', 'SELECT'),
    ('reader', 'table', 'analytics.issue_comment_stats', 'SELECT'),
    ('reader', 'table', 'analytics.issue_facts', 'SELECT'),
    ('reader', 'table', 'analytics.sprint_facts', 'SELECT'),
    ('reader', 'table', 'analytics.view_refreshes', 'SELECT'),
    ('reader', 'function', 'analytics.to_points(text)', 'EXECUTE'),
    ('reader', 'function', 'analytics.points_at(bigint,timestamptz)', 'EXECUTE'),
    ('reader', 'function', 'analytics.category_at(bigint,timestamptz)', 'EXECUTE'),
    ('reader', 'function', 'analytics.blocked_hours(bigint,text[],timestamptz)', 'EXECUTE'),
    ('reader', 'function', 'analytics._stats_fresh()', 'EXECUTE'),
    ('admin', 'table', 'analytics.stats_refreshes', 'SELECT'),
    ('admin', 'function', 'analytics.analytics_refresh_views(boolean)', 'EXECUTE'),
    ('admin', 'function', 'analytics.analytics_refresh_stats(text)', 'EXECUTE'),
    ('admin', 'function', 'analytics.analytics_refresh_stale_stats()', 'EXECUTE'),
    ('admin', 'function', 'analytics.analytics_schedule_refresh(text)', 'EXECUTE'),
    ('admin', 'function', 'analytics.analytics_unschedule_refresh()', 'EXECUTE');
