-- agile_analytics 0.1.0 -> 0.2.0. Each change of a later issue is added here, in the order the
-- changes were made (CONTRIBUTING.md). Released upgrade scripts are never edited.
\echo Use "ALTER EXTENSION agile_analytics UPDATE TO '0.2.0'" to load this file. \quit

-- Security (CHANGELOG.md): every SQL function gets an SQL-standard body, resolved here once, and every
-- other function that runs SQL a SET search_path clause, so no caller's search_path changes what the
-- extension's SQL means. CREATE OR REPLACE keeps each function's OID, owner, grants and comment (row-level
-- security policies, column defaults and views refer to them by OID).

CREATE OR REPLACE FUNCTION analytics.current_tenant() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN nullif(pg_catalog.current_setting('analytics.tenant_id', true), '');

CREATE OR REPLACE FUNCTION analytics.to_points(v text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN v ~ '^\s*[0-9]{1,9}(\.[0-9]{1,6})?\s*$' THEN trim(v)::numeric END;

CREATE OR REPLACE FUNCTION analytics.points_at(p_issue_id bigint, p_at timestamptz) RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN b.found THEN analytics.to_points(b.to_value)
                WHEN a.found THEN analytics.to_points(a.from_value)
                ELSE i.story_points END
    FROM analytics.issues i
    LEFT JOIN LATERAL (SELECT true AS found, c.to_value FROM analytics.issue_changes c
                       WHERE c.issue_id = i.id AND c.field = 'story_points' AND c.changed_at <= p_at
                       ORDER BY c.changed_at DESC, c.id DESC LIMIT 1) b ON true
    LEFT JOIN LATERAL (SELECT true AS found, c.from_value FROM analytics.issue_changes c
                       WHERE c.issue_id = i.id AND c.field = 'story_points' AND c.changed_at > p_at
                       ORDER BY c.changed_at, c.id LIMIT 1) a ON true
    WHERE i.id = p_issue_id;
END;

CREATE OR REPLACE FUNCTION analytics.category_at(p_issue_id bigint, p_at timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN p_at < i.created_at THEN NULL
                WHEN b.found THEN b.to_category
                WHEN a.found THEN coalesce(a.from_category, 'todo')
                ELSE i.status_category END
    FROM analytics.issues i
    LEFT JOIN LATERAL (SELECT true AS found, t.to_category FROM analytics.issue_transitions t
                       WHERE t.issue_id = i.id AND t.changed_at <= p_at
                       ORDER BY t.changed_at DESC, t.id DESC LIMIT 1) b ON true
    LEFT JOIN LATERAL (SELECT true AS found, t.from_category FROM analytics.issue_transitions t
                       WHERE t.issue_id = i.id AND t.changed_at > p_at
                       ORDER BY t.changed_at, t.id LIMIT 1) a ON true
    WHERE i.id = p_issue_id;
END;

CREATE OR REPLACE FUNCTION analytics.blocked_hours(p_issue_id bigint, p_statuses text[], p_until timestamptz DEFAULT now())
RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    WITH status_spells AS (
        SELECT t.changed_at AS s,
               lead(t.changed_at) OVER (ORDER BY t.changed_at, t.id) AS e,
               t.to_status
        FROM analytics.issue_transitions t
        WHERE t.issue_id = p_issue_id
    ), flag_changes AS (
        SELECT c.changed_at AS s,
               lead(c.changed_at) OVER (ORDER BY c.changed_at, c.id) AS e,
               coalesce(c.to_value, '') <> '' AS flagged
        FROM analytics.issue_changes c
        WHERE c.issue_id = p_issue_id AND c.field = 'flagged'
    ), spells AS (
        SELECT tstzrange(s, least(coalesce(e, p_until), p_until)) AS r FROM status_spells
        WHERE to_status = ANY (p_statuses) AND s < p_until
        UNION ALL
        SELECT tstzrange(s, least(coalesce(e, p_until), p_until)) FROM flag_changes
        WHERE flagged AND s < p_until
    )
    SELECT coalesce(sum(extract(epoch FROM upper(r) - lower(r))), 0) / 3600.0
    FROM (SELECT unnest(range_agg(r)) AS r FROM spells) u;
END;

CREATE OR REPLACE FUNCTION analytics.analytics_metrics(category text DEFAULT NULL, search text DEFAULT NULL)
RETURNS SETOF analytics.metrics_catalog
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT c.*
    FROM analytics.metrics_catalog c
    WHERE c.is_active
      AND ($1 IS NULL OR c.category = $1)
      AND ($2 IS NULL
           OR strpos(lower(c.name), lower($2)) > 0
           OR strpos(lower(c.display_name), lower($2)) > 0
           OR strpos(lower(c.description), lower($2)) > 0
           OR EXISTS (SELECT FROM unnest(c.synonyms) s WHERE strpos(lower(s), lower($2)) > 0))
    ORDER BY c.category, c.name;
END;


-- The Rust functions that run SQL.
ALTER FUNCTION analytics._analytics_run(text) SET search_path TO pg_catalog, pg_temp;
ALTER FUNCTION analytics._catalog_problems() SET search_path TO pg_catalog, pg_temp;
ALTER FUNCTION analytics.analytics_metric(text) SET search_path TO pg_catalog, pg_temp;
ALTER FUNCTION analytics.analytics_metric_deprecate(text) SET search_path TO pg_catalog, pg_temp;
ALTER FUNCTION analytics.analytics_metric_activate(text) SET search_path TO pg_catalog, pg_temp;
ALTER FUNCTION analytics.analytics_drop_view(text) SET search_path TO pg_catalog, pg_temp;
ALTER FUNCTION analytics.analytics_cache_stats() SET search_path TO pg_catalog, pg_temp;
ALTER FUNCTION analytics.analytics_cache_clear() SET search_path TO pg_catalog, pg_temp;

-- Result cache: an entry is found by the spec text and the session settings that change its answer.
-- Entries stored by 0.1.0 (found by the spec text alone) are no longer found; they expire as before.

CREATE FUNCTION analytics._cache_md5(spec_text text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN md5(spec_text || chr(31) || current_setting('TimeZone') || chr(31) || current_setting('DateStyle')
           || chr(31) || current_setting('IntervalStyle') || chr(31) || current_setting('extra_float_digits'));
COMMENT ON FUNCTION analytics._cache_md5(text) IS 'Internal: what a cached analytics_run result is found by (the MD5 of the spec text and the session settings that change its answer).';
REVOKE ALL ON FUNCTION analytics._cache_md5(text) FROM PUBLIC;

COMMENT ON TABLE analytics.analytics_cache IS 'Results of analytics_run per tenant and spec (found by analytics._cache_md5: the MD5 of the spec''s jsonb text and the session settings that change its answer; spec_hash is the canonical SHA-256). cache_key = SHA-256 of spec hash, tenant, catalog stamp, data version and global version. Not readable by users: see analytics_cache_stats().';

INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics._cache_md5(text)', 'EXECUTE');
-- Roles given access by 0.1.0's analytics_grant() call analytics_run, which now needs _cache_md5.
DO $$
DECLARE
    r regrole;
BEGIN
    FOR r IN SELECT a.grantee::regrole FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) AS a
             WHERE p.oid = 'analytics._cache_get(text)'::regprocedure AND a.privilege_type = 'EXECUTE'
               AND a.grantee <> p.proowner AND a.grantee <> 0 LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION analytics._cache_md5(text) TO %s', r);
    END LOOP;
END
$$;

-- analytics_run (a SET clause, the new cache key).

-- analytics_run serves cache hits in SQL (no parsing, no JSON round trip through Rust) and runs the
-- spec in Rust on a miss (which counts the miss and stores the result).
CREATE OR REPLACE FUNCTION analytics.analytics_run(spec jsonb) RETURNS jsonb
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

-- One place per SQL function (issue 14): each function below is the Rust function itself, taking
-- jsonb; 0.1.0's SQL wrapper around it and its Rust half (_analytics_<name>(text)) go. CREATE OR
-- REPLACE keeps the function's OID, grants and comment.
CREATE OR REPLACE FUNCTION analytics.analytics_validate(spec jsonb) RETURNS jsonb
STABLE SET search_path TO pg_catalog, pg_temp
LANGUAGE c AS 'MODULE_PATHNAME', 'validate_wrapper';
DROP FUNCTION analytics._analytics_validate(text);
DELETE FROM analytics.access_privileges WHERE object_type = 'function' AND object_name = 'analytics._analytics_validate(text)';
CREATE OR REPLACE FUNCTION analytics.analytics_rows(spec jsonb) RETURNS SETOF jsonb
VOLATILE SET search_path TO pg_catalog, pg_temp
LANGUAGE c AS 'MODULE_PATHNAME', 'rows_wrapper';
CREATE OR REPLACE FUNCTION analytics.analytics_explain(spec jsonb) RETURNS jsonb
VOLATILE SET search_path TO pg_catalog, pg_temp
LANGUAGE c AS 'MODULE_PATHNAME', 'explain_wrapper';
CREATE OR REPLACE FUNCTION analytics.analytics_create_view(name text, spec jsonb, replace boolean DEFAULT false) RETURNS jsonb
VOLATILE SET search_path TO pg_catalog, pg_temp
LANGUAGE c AS 'MODULE_PATHNAME', 'create_view_wrapper';
CREATE OR REPLACE FUNCTION analytics.analytics_metric_upsert(definition jsonb) RETURNS jsonb
VOLATILE SET search_path TO pg_catalog, pg_temp
LANGUAGE c AS 'MODULE_PATHNAME', 'metric_upsert_wrapper';
CREATE OR REPLACE FUNCTION analytics.analytics_metric_value(name text, params jsonb DEFAULT '{}', date_from timestamptz DEFAULT NULL, date_to timestamptz DEFAULT NULL) RETURNS numeric
VOLATILE SET search_path TO pg_catalog, pg_temp
LANGUAGE c AS 'MODULE_PATHNAME', 'metric_value_wrapper';
CREATE OR REPLACE FUNCTION analytics.analytics_ingest_jira(payload jsonb, options jsonb DEFAULT '{}') RETURNS jsonb
VOLATILE SET search_path TO pg_catalog, pg_temp
LANGUAGE c AS 'MODULE_PATHNAME', 'ingest_jira_wrapper';
CREATE OR REPLACE FUNCTION analytics.analytics_ask(question text, options jsonb DEFAULT '{}') RETURNS jsonb
VOLATILE SET search_path TO pg_catalog, pg_temp
LANGUAGE c AS 'MODULE_PATHNAME', 'ask_wrapper';
CREATE OR REPLACE FUNCTION analytics.analytics_eval(cases jsonb) RETURNS jsonb
VOLATILE SET search_path TO pg_catalog, pg_temp
LANGUAGE c AS 'MODULE_PATHNAME', 'eval_wrapper';
DROP FUNCTION analytics._analytics_rows(text);
DROP FUNCTION analytics._analytics_explain(text);
DROP FUNCTION analytics._analytics_create_view(text, text, boolean);
DROP FUNCTION analytics._analytics_metric_upsert(text);
DROP FUNCTION analytics._analytics_metric_value(text, text, timestamptz, timestamptz);
DROP FUNCTION analytics._analytics_ingest_jira(text, text);
DROP FUNCTION analytics._analytics_ask(text, text);
DROP FUNCTION analytics._analytics_eval(text);
DELETE FROM analytics.access_privileges WHERE object_type = 'function' AND object_name IN (
    'analytics._analytics_rows(text)', 'analytics._analytics_explain(text)', 'analytics._analytics_create_view(text,text,boolean)',
    'analytics._analytics_metric_upsert(text)', 'analytics._analytics_metric_value(text,text,timestamptz,timestamptz)',
    'analytics._analytics_ingest_jira(text,text)', 'analytics._analytics_ask(text,text)', 'analytics._analytics_eval(text)');

-- The bare names (issue 14): SELECT analytics_ask(...) with the default search_path.
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
