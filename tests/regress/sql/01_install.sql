-- Installing and removing the extension: what CREATE EXTENSION makes, and that DROP removes all of it.
SELECT count(*) AS roles_before FROM pg_roles \gset
CREATE EXTENSION agile_analytics CASCADE;
SELECT extname, extversion, extnamespace::regnamespace AS schema FROM pg_extension WHERE extname IN ('agile_analytics', 'vector') ORDER BY 1;
SELECT (SELECT count(*) FROM pg_roles) = :roles_before AS creates_no_roles;
-- Tables, with row-level security enabled and forced on every tenant table.
SELECT relname, relkind, relrowsecurity AS rls, relforcerowsecurity AS forced, obj_description(oid, 'pg_class') IS NOT NULL AS documented FROM pg_class WHERE relnamespace = 'analytics'::regnamespace AND relkind IN ('r', 'v', 'm') ORDER BY relname;
SELECT tablename, policyname, cmd, qual, with_check FROM pg_policies WHERE schemaname = 'analytics' ORDER BY tablename;
-- Functions, each documented.
SELECT p.oid::regprocedure AS function, p.provolatile AS volatility, obj_description(p.oid, 'pg_proc') IS NOT NULL AS documented FROM pg_proc p WHERE p.pronamespace = 'analytics'::regnamespace ORDER BY p.oid::regprocedure::text;
SELECT key FROM jsonb_each(analytics.analytics_version()) ORDER BY key;
SELECT analytics.analytics_version() ->> 'extension' AS version;
-- Settings the extension defines; the analytics prefix is reserved, so a typo is an error.
SELECT name, setting, context FROM pg_settings WHERE name LIKE 'analytics.%' ORDER BY name;
SET analytics.tennant_id = 'acme';
-- DROP EXTENSION removes everything it created (pgvector, installed by CASCADE, stays).
DROP EXTENSION agile_analytics CASCADE;
SELECT count(*) AS analytics_schemas FROM pg_namespace WHERE nspname = 'analytics';
SELECT count(*) AS leftover_objects FROM pg_class WHERE relname IN ('issues', 'issue_transitions', 'issue_changes', 'issue_comments', 'sprints', 'sprint_issues', 'metrics_catalog', 'metrics_builtin', 'metrics_user', 'access_privileges', 'issue_facts', 'sprint_facts', 'mv_sprint_stats_enriched', 'mv_issue_comment_stats', 'sprint_stats', 'issue_comment_stats', 'view_refreshes');
SELECT count(*) AS leftover_functions FROM pg_proc WHERE proname LIKE 'analytics%' OR proname IN ('current_tenant', 'to_points', 'points_at', 'category_at', 'blocked_hours', '_probe_error', '_metric_probe', '_catalog_builtin', '_catalog_problems');
SELECT extname FROM pg_extension ORDER BY 1;
-- And it installs again.
CREATE EXTENSION agile_analytics;
SELECT count(*) AS tables FROM pg_tables WHERE schemaname = 'analytics';
-- A schema named analytics that is not ours is never taken over.
DROP EXTENSION agile_analytics;
CREATE SCHEMA analytics;
CREATE EXTENSION agile_analytics;
DROP SCHEMA analytics;
CREATE EXTENSION agile_analytics;
SELECT nspname, pg_describe_object(classid, objid, 0) AS member FROM pg_depend d JOIN pg_namespace n ON n.oid = d.objid WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'agile_analytics') AND d.classid = 'pg_namespace'::regclass;
