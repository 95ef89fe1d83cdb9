-- Materialized statistics, refreshed on demand (analytics_refresh_views), by pg_cron
-- (analytics_schedule_refresh) or by the extension's own worker (analytics.refresh_interval).
-- Materialized views ignore row-level security, so nobody but the extension reads them directly:
-- readers use the tenant-filtered views analytics.sprint_stats and analytics.issue_comment_stats.

CREATE MATERIALIZED VIEW analytics.mv_sprint_stats_enriched AS
SELECT * FROM analytics.sprint_facts;
-- The unique indexes (which REFRESH ... CONCURRENTLY needs) include tenant_id, as every key does.
CREATE UNIQUE INDEX mv_sprint_stats_enriched_pk ON analytics.mv_sprint_stats_enriched (tenant_id, sprint_id);
CREATE INDEX mv_sprint_stats_enriched_tenant_idx
    ON analytics.mv_sprint_stats_enriched (tenant_id, sprint_problematic_score DESC NULLS LAST);
COMMENT ON MATERIALIZED VIEW analytics.mv_sprint_stats_enriched IS 'Materialized analytics.sprint_facts for all tenants. Not for direct reading (materialized views ignore row-level security): use analytics.sprint_stats.';

CREATE MATERIALIZED VIEW analytics.mv_issue_comment_stats AS
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
CREATE UNIQUE INDEX mv_issue_comment_stats_pk ON analytics.mv_issue_comment_stats (tenant_id, issue_id);
CREATE INDEX mv_issue_comment_stats_tenant_idx ON analytics.mv_issue_comment_stats (tenant_id);
COMMENT ON MATERIALIZED VIEW analytics.mv_issue_comment_stats IS 'Per issue: comment_count, distinct_commenters, first and last comment time, first_response_hours (first comment by someone other than the reporter). All tenants; read it through analytics.issue_comment_stats.';

-- Tenant-filtered windows onto the materialized views. They run with the extension owner's rights (so
-- readers need no access to the materialized views) and show only the session's tenant; security_barrier
-- keeps other tenants' rows away from any function in a caller's WHERE clause.
CREATE VIEW analytics.sprint_stats WITH (security_barrier = true) AS
SELECT * FROM analytics.mv_sprint_stats_enriched WHERE tenant_id = analytics.current_tenant();
COMMENT ON VIEW analytics.sprint_stats IS 'The session tenant''s sprint statistics (planned/added/removed/completed points, spillover, scope churn, planning error, velocity, z-scores, problem score) as of the last refresh.';

CREATE VIEW analytics.issue_comment_stats WITH (security_barrier = true) AS
SELECT * FROM analytics.mv_issue_comment_stats WHERE tenant_id = analytics.current_tenant();
COMMENT ON VIEW analytics.issue_comment_stats IS 'The session tenant''s per-issue comment statistics as of the last refresh.';

-- When each materialized view was last refreshed.
CREATE TABLE analytics.view_refreshes (
    view_name    text PRIMARY KEY,
    refreshed_at timestamptz NOT NULL,
    refresh_ms   numeric NOT NULL,
    concurrent   boolean NOT NULL
);
COMMENT ON TABLE analytics.view_refreshes IS 'Last refresh of each materialized view: when, how long, whether concurrently.';

CREATE FUNCTION analytics.analytics_refresh_views(concurrently boolean DEFAULT true)
RETURNS TABLE (view_name text, refresh_ms numeric)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v text;
    t0 timestamptz;
BEGIN
    -- CONCURRENTLY is a keyword: the parameter is read as $1.
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'concurrently must not be null'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Pass true (readers are not blocked) or false (faster).';
    END IF;
    FOREACH v IN ARRAY ARRAY['mv_sprint_stats_enriched', 'mv_issue_comment_stats'] LOOP
        t0 := clock_timestamp();
        IF $1 THEN
            EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY analytics.%I', v);
        ELSE
            EXECUTE format('REFRESH MATERIALIZED VIEW analytics.%I', v);
        END IF;
        view_name := 'analytics.' || v;
        refresh_ms := round((extract(epoch FROM clock_timestamp() - t0) * 1000)::numeric, 1);
        INSERT INTO analytics.view_refreshes AS r (view_name, refreshed_at, refresh_ms, concurrent)
        VALUES (analytics_refresh_views.view_name, now(), analytics_refresh_views.refresh_ms, $1)
        ON CONFLICT ON CONSTRAINT view_refreshes_pkey DO UPDATE
            SET refreshed_at = excluded.refreshed_at, refresh_ms = excluded.refresh_ms, concurrent = excluded.concurrent;
        RETURN NEXT;
    END LOOP;
    -- Cached results may read the refreshed views: invalidate them all.
    UPDATE analytics.data_versions SET version = version + 1, changed_at = now() WHERE tenant_id = '';
END
$$;
COMMENT ON FUNCTION analytics.analytics_refresh_views(boolean) IS
  'Refresh the materialized statistics (sprint stats with z-scores, issue comment stats) for all tenants; returns each view with its refresh time in ms. concurrently (default true) does not block readers. Admin access.';
REVOKE ALL ON FUNCTION analytics.analytics_refresh_views(boolean) FROM PUBLIC;

-- For the background worker: refresh, and report an error as text instead of raising it.
CREATE FUNCTION analytics._refresh_views_for_worker() RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM analytics.analytics_refresh_views(true);
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
COMMENT ON FUNCTION analytics._refresh_views_for_worker() IS 'Internal: the background worker''s refresh; returns the error (SQLSTATE: message) or NULL.';
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
    ('admin', 'function', 'analytics.analytics_refresh_views(boolean)', 'EXECUTE'),
    ('admin', 'function', 'analytics.analytics_schedule_refresh(text)', 'EXECUTE'),
    ('admin', 'function', 'analytics.analytics_unschedule_refresh()', 'EXECUTE');
