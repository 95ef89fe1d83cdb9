-- Runs last: the hand-declared functions, the remaining comments and access rows, the shipped metric
-- catalog, and the bare names of the user-facing functions.

-- The functions written in Rust declare themselves (their COMMENTs and access rows stand beside them);
-- two are declared here by hand. analytics_compile is the Rust function itself (src/api/compile.rs),
-- reading and returning jsonb bytes.
-- The text form serves string literals (which resolve to text): repeated calls skip parsing the spec.
CREATE FUNCTION analytics.analytics_compile(spec jsonb) RETURNS jsonb
LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'analytics_compile_wrapper';
CREATE FUNCTION analytics.analytics_compile(spec text) RETURNS jsonb
LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'analytics_compile_text_wrapper';
-- analytics_run is the one hand-written wrapper: it serves cache hits in SQL (no parsing, no JSON round
-- trip through Rust; a hit costs about a primary-key lookup) and runs the spec in Rust on a miss (which
-- counts the miss and stores the result).
CREATE FUNCTION analytics.analytics_run(spec jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    text_form text := spec::text;
    hit jsonb := analytics._cache_get(analytics._cache_md5(text_form));
BEGIN
    IF hit IS NOT NULL THEN
        PERFORM analytics._cache_count(true);
        RETURN hit;
    END IF;
    RETURN analytics._analytics_run(text_form)::jsonb;
END
$$;

DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
             WHERE p.pronamespace = 'analytics'::regnamespace AND p.proname LIKE '\_analytics\_%' LOOP
        EXECUTE format('COMMENT ON FUNCTION %s IS %L', f,
            'Internal: the Rust half of ' || substr(split_part(f::text, '(', 1), length('analytics._') + 1) || '(); call that one.');
    END LOOP;
END
$$;


COMMENT ON FUNCTION analytics.analytics_version() IS
  'Versions of agile_analytics, its core, and the PostgreSQL server, plus this session''s tenant: {"extension", "core", "postgres", "tenant_id"}.';
COMMENT ON FUNCTION analytics.analytics_metric(text) IS
  'One metric of the effective catalog as jsonb (every definition column plus source). Unknown names fail with 42704 and a "did you mean" hint.';
COMMENT ON FUNCTION analytics.analytics_metric_deprecate(text) IS
  'Deprecate a metric (admin): it is no longer listed or offered, but stays inspectable. Returns {"name", "is_active", "active_dependents"}.';
COMMENT ON FUNCTION analytics.analytics_metric_activate(text) IS
  'Re-activate a deprecated metric (admin).';
COMMENT ON FUNCTION analytics.analytics_compile(jsonb) IS
  'Compile an AnalyticsSpec to one parameterized query: {"sql", "params", "spec_hash", "columns", "metrics": [{"name", "version"}]}. Every value is a $n parameter; identifiers come only from the catalog and whitelists. Invalid specs fail with 22023 and every problem (JSON) in DETAIL.';
COMMENT ON FUNCTION analytics.analytics_compile(text) IS
  'analytics_compile for a spec written as text (a string literal resolves here): the same answer and errors as analytics_compile(text::jsonb); repeated calls are answered without parsing the spec again.';
COMMENT ON FUNCTION analytics.analytics_run(jsonb) IS
  'Run an AnalyticsSpec for the session''s tenant, as the caller (row-level security applies): {"columns", "rows", "row_count", "query_ms", "cached", "spec_hash", "sql", "tenant_id", "metrics"}. Limited by analytics.statement_timeout (57014 with a HINT).';
COMMENT ON FUNCTION analytics.analytics_cache_stats() IS
  'The result cache: {"hits", "misses", "hit_ratio" (since server start when preloaded, else this session), "entries", "bytes" (the session tenant''s live entries; all tenants'' without a tenant), "ttl_seconds"}.';
COMMENT ON FUNCTION analytics.analytics_cache_clear() IS
  'Delete cached results: the session tenant''s, or every tenant''s when no tenant is set. Returns how many. Admin access.';
COMMENT ON FUNCTION analytics.analytics_drop_view(text) IS
  'Drop a view made by analytics_create_view. Admin access.';
COMMENT ON FUNCTION analytics._cache_count(boolean) IS 'Internal: counts a cache hit or miss for analytics_cache_stats().';
COMMENT ON FUNCTION analytics._catalog_builtin() IS 'Internal: the shipped metric definitions (catalog/*.toml) as jsonb.';
COMMENT ON FUNCTION analytics._catalog_problems() IS 'Internal: static problems of the metric catalog (analytics_catalog_check adds SQL planning).';
COMMENT ON FUNCTION analytics._metric_probe(jsonb) IS 'Internal: the probe query analytics_catalog_check plans for a catalog row.';

INSERT INTO analytics.metrics_builtin (name, display_name, description, category, version, entity, kind,
    base_relation, sql_expression, filter, time_field, parameters, default_aggregation, allowed_aggregations,
    unit, tags, synonyms, dependencies, weights)
SELECT d.name, d.display_name, d.description, d.category, d.version, d.entity, d.kind, d.base_relation,
       d.sql_expression, d.filter, d.time_field, coalesce(d.parameters, '{}'), d.default_aggregation,
       d.allowed_aggregations, d.unit, coalesce(d.tags, '{}'), coalesce(d.synonyms, '{}'),
       coalesce(d.dependencies, '{}'), d.weights
FROM jsonb_to_recordset(analytics._catalog_builtin()) AS d(
    name text, display_name text, description text, category text, version integer, entity text, kind text,
    base_relation text, sql_expression text, filter text, time_field text, parameters jsonb,
    default_aggregation text, allowed_aggregations text[], unit text, tags text[], synonyms text[],
    dependencies text[], weights jsonb);

INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_version()', 'EXECUTE'),
    ('reader', 'function', 'analytics.analytics_metric(text)', 'EXECUTE'),
    ('reader', 'function', 'analytics.analytics_metrics(text,text)', 'EXECUTE'),
    ('reader', 'function', 'analytics._catalog_builtin()', 'EXECUTE'),
    ('reader', 'function', 'analytics._analytics_run(text)', 'EXECUTE'),
    ('reader', 'function', 'analytics._cache_count(boolean)', 'EXECUTE'),
    ('reader', 'function', 'analytics._cache_get(text)', 'EXECUTE'),
    ('reader', 'function', 'analytics._cache_md5(text)', 'EXECUTE'),
    ('reader', 'function', 'analytics._ask_values(text)', 'EXECUTE'),
    ('reader', 'function', 'analytics.analytics_compile(jsonb)', 'EXECUTE'),
    ('reader', 'function', 'analytics.analytics_compile(text)', 'EXECUTE'),
    ('reader', 'function', 'analytics.analytics_run(jsonb)', 'EXECUTE'),
    ('reader', 'function', 'analytics._catalog_problems()', 'EXECUTE'),
    ('reader', 'function', 'analytics._metric_probe(jsonb)', 'EXECUTE'),
    ('reader', 'function', 'analytics._probe_error(text)', 'EXECUTE'),
    ('reader', 'function', 'analytics.analytics_catalog_check()', 'EXECUTE'),
    ('reader', 'function', 'analytics.analytics_cache_stats()', 'EXECUTE'),
    ('admin', 'function', 'analytics.analytics_cache_clear()', 'EXECUTE'),
    ('admin', 'function', 'analytics.analytics_drop_view(text)', 'EXECUTE'),
    ('admin', 'function', 'analytics.analytics_metric_deprecate(text)', 'EXECUTE'),
    ('admin', 'function', 'analytics.analytics_metric_activate(text)', 'EXECUTE');
REVOKE ALL ON FUNCTION analytics.analytics_cache_clear() FROM PUBLIC;
REVOKE ALL ON FUNCTION analytics.analytics_drop_view(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION analytics.analytics_metric_deprecate(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION analytics.analytics_metric_activate(text) FROM PUBLIC;

-- The user-facing functions under their own names in the extension's schema (public unless CREATE
-- EXTENSION ... SCHEMA names another), so that SELECT analytics_ask('...') works with the default
-- search_path, the way pgvector's and PostGIS's prefixed functions do; tables, views and internals stay
-- in schema analytics. Each is generated from analytics.<name> with the same arguments, defaults,
-- result, volatility and comment, and forwards to it: analytics.<name> keeps working (pg_cron jobs and
-- scripts written for 0.1.0), its access levels (analytics_grant) are checked there, and the SQL-standard
-- body is resolved here, once, and inlined where PostgreSQL can.
DO $bare$
DECLARE
    f record;
    args text;
BEGIN
    -- (An extension script runs with pg_catalog first in its search path.)
    IF '@extschema@' = 'pg_catalog' THEN
        RAISE EXCEPTION 'agile_analytics cannot put its functions into schema pg_catalog'
            USING ERRCODE = 'invalid_schema_name',
                  DETAIL = 'The extension''s schema is the first schema of the search_path, or the one CREATE EXTENSION ... SCHEMA names.',
                  HINT = 'CREATE EXTENSION agile_analytics SCHEMA public CASCADE;';
    END IF;
    FOR f IN SELECT p.oid, p.proname, p.proretset, p.provolatile, p.proparallel, p.pronargs, p.proargnames, p.proargmodes
             FROM pg_proc p
             WHERE p.pronamespace = 'analytics'::regnamespace AND p.proname ~ '^analytics_'
             ORDER BY p.proname, p.oid LOOP
        -- The input arguments by name ($n where a name is missing).
        SELECT string_agg(CASE WHEN coalesce(a.name, '') = '' THEN '$' || a.i ELSE quote_ident(a.name) END, ', ' ORDER BY a.i)
        INTO args
        FROM (SELECT u.i, f.proargnames[u.i] AS name, coalesce(f.proargmodes[u.i], 'i') AS mode
              FROM generate_series(1, greatest(f.pronargs::int, coalesce(cardinality(f.proargmodes), 0))) AS u(i)) AS a
        WHERE a.mode IN ('i', 'b', 'v');
        EXECUTE format('CREATE FUNCTION @extschema@.%I(%s) RETURNS %s LANGUAGE sql %s PARALLEL %s %s',
            f.proname, pg_get_function_arguments(f.oid), pg_get_function_result(f.oid),
            CASE f.provolatile WHEN 'i' THEN 'IMMUTABLE' WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END,
            CASE f.proparallel WHEN 's' THEN 'SAFE' WHEN 'r' THEN 'RESTRICTED' ELSE 'UNSAFE' END,
            CASE WHEN f.proretset THEN format('BEGIN ATOMIC SELECT * FROM analytics.%I(%s); END', f.proname, coalesce(args, ''))
                 ELSE format('RETURN analytics.%I(%s)', f.proname, coalesce(args, '')) END);
        EXECUTE format('COMMENT ON FUNCTION @extschema@.%I(%s) IS %L', f.proname,
            pg_get_function_identity_arguments(f.oid), obj_description(f.oid, 'pg_proc'));
    END LOOP;
END
$bare$;

-- The job workers of this database start when CREATE EXTENSION commits (not a minute later).
SELECT analytics._jobs_wake();
