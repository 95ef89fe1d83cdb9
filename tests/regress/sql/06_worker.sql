-- The job workers refresh the stale tenants' statistics on their own (this cluster runs with
-- analytics.worker_database = 'regress_06_worker' and analytics.refresh_interval = 1: its supervisor
-- queues a refresh_views job for the stale tenants every second).
SELECT name, setting FROM pg_settings WHERE name IN ('analytics.refresh_interval', 'analytics.worker_database') ORDER BY name;
CREATE EXTENSION agile_analytics CASCADE;
BEGIN;
\i tests/fixtures/metrics_fixture.sql
COMMIT;
DO $$ BEGIN FOR i IN 1..120 LOOP EXIT WHEN (SELECT count(*) FROM analytics.mv_sprint_stats_enriched) > 0; PERFORM pg_sleep(0.25); END LOOP; END $$;
DO $$ BEGIN FOR i IN 1..120 LOOP EXIT WHEN (SELECT count(*) FROM analytics.stats_refreshes) = 2; PERFORM pg_sleep(0.25); END LOOP; END $$;
SELECT tenant_id, analytics._stats_fresh_for(tenant_id) IS NOT NULL AS fresh FROM analytics.stats_refreshes ORDER BY 1;
SELECT count(*) AS full_refreshes FROM analytics.view_refreshes;
SELECT count(*) AS supervisors_here FROM pg_stat_activity WHERE backend_type = 'agile_analytics supervisor' AND datname = current_database();
SELECT kind, tenant_id, submitted_by::regrole = (SELECT extowner FROM pg_extension WHERE extname = 'agile_analytics')::regrole AS as_owner
FROM analytics.jobs WHERE state = 'completed' GROUP BY 1, 2, 3;
SET analytics.tenant_id = 'fx';
SELECT name, planned_sp, completed_sp, round(spillover_ratio, 4) AS spillover_ratio FROM analytics.sprint_stats ORDER BY sprint_id;
