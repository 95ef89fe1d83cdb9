-- The documented first call works right after CREATE EXTENSION, with the default search_path, for the
-- superuser and for any role given access; analytics.-qualified calls keep working; CREATE EXTENSION
-- ... SCHEMA puts the bare names in that schema.
SHOW search_path;
CREATE EXTENSION agile_analytics CASCADE;
SET analytics.tenant_id = 'acme';
SELECT a ->> 'status' AS status, a -> 'spec' ->> 'entity' AS entity, a ->> 'row_count' AS row_count FROM analytics_ask('which sprints spilled over most last quarter?') AS a;
SELECT analytics_run('{"metrics": ["closed"]}') -> 'rows' AS rows;
SELECT analytics_compile('{"metrics": ["closed"]}') = analytics.analytics_compile('{"metrics": ["closed"]}') AS same_answer;
SELECT count(*) AS metrics FROM analytics_metrics();
SELECT view_name FROM analytics_refresh_views() ORDER BY 1;
-- The bare names: one for each analytics_* function of schema analytics, same arguments and result,
-- same comment, an SQL-standard body that forwards to it.
SELECT p.oid::regprocedure AS bare, pg_get_function_result(p.oid) AS result,
       obj_description(p.oid, 'pg_proc') = obj_description(q.oid, 'pg_proc') AS same_comment,
       p.prosqlbody IS NOT NULL AS sql_standard_body
FROM pg_proc p
JOIN pg_proc q ON q.proname = p.proname AND q.pronamespace = 'analytics'::regnamespace AND q.proargtypes = p.proargtypes
WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'analytics\_%'
ORDER BY 1;
SELECT count(*) AS analytics_functions_without_a_bare_name FROM pg_proc q
WHERE q.pronamespace = 'analytics'::regnamespace AND q.proname LIKE 'analytics\_%'
  AND NOT EXISTS (SELECT FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.proname = q.proname AND p.proargtypes = q.proargtypes);
-- A reader given access calls them by their bare names too; access is checked on analytics.<name>.
CREATE ROLE regress_bare_reader;
SELECT analytics_grant('regress_bare_reader', 'reader');
SET ROLE regress_bare_reader;
SELECT analytics_run('{"metrics": ["closed"]}') -> 'rows' AS rows;
SELECT analytics_version() ->> 'tenant_id' AS tenant;
SELECT analytics_cache_clear();
RESET ROLE;
SELECT analytics_grant('regress_bare_reader', 'none');
DROP ROLE regress_bare_reader;
-- Another schema for the bare names.
DROP EXTENSION agile_analytics;
DROP EXTENSION vector;
CREATE SCHEMA other;
CREATE EXTENSION agile_analytics SCHEMA other CASCADE;
SELECT extname, extnamespace::regnamespace AS schema FROM pg_extension WHERE extname IN ('agile_analytics', 'vector') ORDER BY 1;
SELECT analytics_version();
SELECT other.analytics_version() ->> 'tenant_id' AS tenant;
SET search_path = "$user", public, other;
SELECT analytics_run('{"metrics": ["closed"]}') -> 'rows' AS rows;
RESET search_path;
DROP EXTENSION agile_analytics CASCADE;
DROP SCHEMA other CASCADE;
-- Not into pg_catalog (the first schema of this search_path): a clear error, and nothing is installed.
SET search_path = pg_catalog;
CREATE EXTENSION agile_analytics CASCADE;
RESET search_path;
SELECT count(*) AS installed FROM pg_extension WHERE extname IN ('agile_analytics', 'vector');
