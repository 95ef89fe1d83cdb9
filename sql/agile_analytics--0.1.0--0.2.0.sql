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

-- New in 0.2.0: status at a moment (catalog metric issues_in_status, as_of series).
CREATE FUNCTION analytics.status_at(p_tenant_id text, p_issue_id bigint, p_at timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN p_at < i.created_at THEN NULL
                WHEN b.found THEN b.to_status
                WHEN a.found THEN a.from_status
                ELSE i.status END
    FROM analytics.issues i
    LEFT JOIN LATERAL (SELECT true AS found, t.to_status FROM analytics.issue_transitions t
                       WHERE t.tenant_id = i.tenant_id AND t.issue_id = i.id AND t.changed_at <= p_at
                       ORDER BY t.changed_at DESC, t.id DESC LIMIT 1) b ON true
    LEFT JOIN LATERAL (SELECT true AS found, t.from_status FROM analytics.issue_transitions t
                       WHERE t.tenant_id = i.tenant_id AND t.issue_id = i.id AND t.changed_at > p_at
                       ORDER BY t.changed_at, t.id LIMIT 1) a ON true
    WHERE i.tenant_id = p_tenant_id AND i.id = p_issue_id;
END;
COMMENT ON FUNCTION analytics.status_at(text, bigint, timestamptz) IS 'Status name of an issue at a moment, from its transitions (the rules of category_at; before the first transition, its from_status); NULL before the issue was created.';

-- A sprint's burn at a moment (capped at its completion): the issues in it then (added at or before it,
-- not removed by then) with their estimates then, and those of them done then. The rules of
-- sprint_facts: at start_date, scope_sp is planned_sp; at complete_date, done_sp is completed_sp.
CREATE FUNCTION analytics.sprint_burn_at(p_tenant_id text, p_sprint_id bigint, p_at timestamptz,
                                         OUT scope_sp numeric, OUT done_sp numeric, OUT remaining_sp numeric,
                                         OUT scope_issues bigint, OUT done_issues bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    WITH s AS (
        SELECT s.tenant_id, s.id, least(p_at, coalesce(s.complete_date, p_at)) AS at
        FROM analytics.sprints s WHERE s.tenant_id = p_tenant_id AND s.id = p_sprint_id
    ), m AS (
        SELECT DISTINCT si.issue_id, s.at FROM s
        JOIN analytics.sprint_issues si ON si.tenant_id = s.tenant_id AND si.sprint_id = s.id
        WHERE si.added_at <= s.at AND (si.removed_at IS NULL OR si.removed_at > s.at)
    ), v AS (
        SELECT CASE WHEN pb.found THEN analytics.to_points(pb.v) WHEN pa.found THEN analytics.to_points(pa.v) ELSE i.story_points END AS points,
               CASE WHEN m.at < i.created_at THEN NULL WHEN cb.found THEN cb.cat WHEN ca.found THEN coalesce(ca.cat, 'todo')
                    ELSE i.status_category END = 'done' AS done
        FROM m
        JOIN analytics.issues i ON i.tenant_id = p_tenant_id AND i.id = m.issue_id
        LEFT JOIN LATERAL (SELECT true AS found, c.to_value AS v FROM analytics.issue_changes c
                           WHERE c.tenant_id = i.tenant_id AND c.issue_id = i.id AND c.field = 'story_points' AND c.changed_at <= m.at
                           ORDER BY c.changed_at DESC, c.id DESC LIMIT 1) pb ON true
        LEFT JOIN LATERAL (SELECT true AS found, c.from_value AS v FROM analytics.issue_changes c
                           WHERE c.tenant_id = i.tenant_id AND c.issue_id = i.id AND c.field = 'story_points' AND c.changed_at > m.at
                           ORDER BY c.changed_at, c.id LIMIT 1) pa ON true
        LEFT JOIN LATERAL (SELECT true AS found, t.to_category AS cat FROM analytics.issue_transitions t
                           WHERE t.tenant_id = i.tenant_id AND t.issue_id = i.id AND t.changed_at <= m.at
                           ORDER BY t.changed_at DESC, t.id DESC LIMIT 1) cb ON true
        LEFT JOIN LATERAL (SELECT true AS found, t.from_category AS cat FROM analytics.issue_transitions t
                           WHERE t.tenant_id = i.tenant_id AND t.issue_id = i.id AND t.changed_at > m.at
                           ORDER BY t.changed_at, t.id LIMIT 1) ca ON true
    )
    SELECT coalesce(sum(v.points), 0), coalesce(sum(v.points) FILTER (WHERE v.done), 0),
           coalesce(sum(v.points) FILTER (WHERE NOT v.done OR v.done IS NULL), 0),
           count(*), count(*) FILTER (WHERE v.done)
    FROM v;
END;
COMMENT ON FUNCTION analytics.sprint_burn_at(text, bigint, timestamptz) IS 'A sprint at a moment (capped at its completion): points and issues in it then (scope_sp, scope_issues) of those the ones done then (done_sp, done_issues) and not done (remaining_sp), estimates and statuses as of that moment. The burndown is remaining_sp per day.';

-- New in 0.2.0: Monte Carlo forecasts (catalog metrics forecast_items and forecast_date).
CREATE  FUNCTION analytics."forecast_days"(
	"ages" double precision[],
	"items" INT,
	"confidence" double precision,
	"trials" INT,
	"weeks_of_history" INT,
	"seed" INT
) RETURNS INT
IMMUTABLE PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'forecast_days_wrapper';
CREATE  FUNCTION analytics."forecast_items"(
	"ages" double precision[],
	"horizon_days" INT,
	"confidence" double precision,
	"trials" INT,
	"weeks_of_history" INT,
	"seed" INT
) RETURNS bigint
IMMUTABLE PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'forecast_items_wrapper';
COMMENT ON FUNCTION analytics.forecast_items(double precision[], integer, double precision, integer, integer, integer) IS
  'Monte Carlo forecast (catalog metric forecast_items): from the ages in days of resolved issues (0 = the last day before the forecast), their daily throughput over the last weeks_of_history weeks, resampled day by day with a seeded generator over horizon_days days in each of trials futures; returns the number of items done in at least confidence of them (NULL without history).';
COMMENT ON FUNCTION analytics.forecast_days(double precision[], integer, double precision, integer, integer, integer) IS
  'Monte Carlo forecast (catalog metric forecast_date): the number of days within which items issues are done in at least confidence of trials resampled futures of the daily throughput of the last weeks_of_history weeks (NULL without throughput, or beyond ten years).';
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.forecast_items(double precision[],integer,double precision,integer,integer,integer)', 'EXECUTE'),
    ('reader', 'function', 'analytics.forecast_days(double precision[],integer,double precision,integer,integer,integer)', 'EXECUTE');

-- New in 0.2.0: time in status (catalog metric time_in_status).
CREATE FUNCTION analytics.time_in_status(p_tenant_id text, p_issue_id bigint, p_statuses text[], p_until timestamptz DEFAULT now())
RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    WITH spells AS (
        SELECT t.changed_at AS s,
               lead(t.changed_at) OVER (ORDER BY t.changed_at, t.id) AS e,
               t.to_status
        FROM analytics.issue_transitions t
        WHERE t.tenant_id = p_tenant_id AND t.issue_id = p_issue_id AND t.changed_at < p_until
    )
    SELECT sum(extract(epoch FROM coalesce(e, p_until) - s)) / 86400.0
    FROM spells
    WHERE lower(to_status) = ANY (SELECT lower(x) FROM unnest(p_statuses) AS x);
END;
COMMENT ON FUNCTION analytics.time_in_status(text, bigint, text[], timestamptz) IS 'Days an issue spent in any of the given statuses (names compared case-insensitively), every spell counted, until a moment (default now); NULL when it never entered them.';

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

COMMENT ON TABLE analytics.analytics_cache IS 'Results of analytics_run per tenant and spec (found by analytics._cache_md5: the MD5 of the spec''s jsonb text and the session settings that change its answer; spec_hash is the canonical SHA-256); valid while catalog_stamp, data_version and global_version equal analytics._cache_versions(tenant_id) and expires_at has not passed. Not readable by users: see analytics_cache_stats().';

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

-- The validity rule of a cache entry is written once (analytics._cache_get, with the versions of
-- analytics._cache_versions); the unused cache_key column goes (the entries stay).
ALTER TABLE analytics.analytics_cache DROP COLUMN cache_key;
-- The versions a cache entry records when it is stored and must still match to be served: the catalog
-- stamp, the tenant's data version and the global version. PL/pgSQL, like _cache_get: its plans are
-- kept between calls. Called as the extension owner (by _cache_get and by the Rust code that stores).
CREATE FUNCTION analytics._cache_versions(tenant text) RETURNS bigint[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN ARRAY[(SELECT s.stamp FROM analytics.catalog_stamp s),
                 coalesce((SELECT d.version FROM analytics.data_versions d WHERE d.tenant_id = tenant), 0),
                 coalesce((SELECT d.version FROM analytics.data_versions d WHERE d.tenant_id = ''), 0)];
END
$$;
COMMENT ON FUNCTION analytics._cache_versions(text) IS 'Internal: a tenant''s current {catalog stamp, data version, global version}, which a cached result must have recorded to be served.';
REVOKE ALL ON FUNCTION analytics._cache_versions(text) FROM PUBLIC;

-- A cache hit, served without leaving SQL: the session tenant's entry for this key, if caching is on,
-- its versions are the current ones and it has not expired. The validity rule of an entry: every
-- lookup, the SQL fast path's and the Rust code's, goes through here.
CREATE OR REPLACE FUNCTION analytics._cache_get(spec_text_md5 text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
-- PL/pgSQL, not SQL: its statement plans are kept between calls, which a SQL function's are not.
DECLARE
    tenant text := analytics.current_tenant();
    versions bigint[];
BEGIN
    IF current_setting('analytics.cache_ttl', true) = '0' THEN
        RETURN NULL;
    END IF;
    versions := analytics._cache_versions(tenant);
    RETURN (
        SELECT c.result || jsonb_build_object('cached', true,
                   'query_ms', round((extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::numeric, 3))
        FROM analytics.analytics_cache c
        WHERE c.tenant_id = tenant
          AND c.spec_text_md5 = $1
          AND ARRAY[c.catalog_stamp, c.data_version, c.global_version] = versions
          AND c.expires_at > now());
END
$$;
COMMENT ON FUNCTION analytics._cache_get(text) IS 'Internal: a valid cached analytics_run result of the session''s tenant for a spec text, or NULL.';
REVOKE ALL ON FUNCTION analytics._cache_get(text) FROM PUBLIC;

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
-- 0.2.0's analytics_ask takes options.chart.
COMMENT ON FUNCTION analytics.analytics_ask(text, jsonb) IS
  'Answer a question in plain English for the session''s tenant: the question becomes an AnalyticsSpec (builtin translator by default, or the LLM of analytics.llm_provider; a model only writes a spec, never SQL), which is validated, compiled and run. Returns {"question", "status": answered | clarification_needed, "spec", "sql", "columns", "rows", "row_count", "cached", "provider", "model", "attempts", "metrics", "tenant_id", "explanation", "clarification": {"reason", "candidates"}, "today"}. options: provider, model, limit, dry_run (spec and SQL, no run), today (YYYY-MM-DD for relative periods), chart (true: a Vega-Lite chart of the rows in "chart").';
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
-- The shipped metric catalog (catalog/*.toml, read from the new library): a changed definition is
-- replaced, a new one added; whether a metric is deprecated (is_active) and the user's metrics
-- (metrics_user) stay as they are. Only rows that differ are written (the catalog triggers bump the
-- catalog stamp all the same, so cached results are computed again). 0.2.0: stuck_count (version 2)
-- matches the tenant in its subquery.
INSERT INTO analytics.metrics_builtin AS b (name, display_name, description, category, version, entity, kind,
    base_relation, sql_expression, filter, time_field, parameters, default_aggregation, allowed_aggregations,
    unit, tags, synonyms, dependencies, weights)
SELECT d.name, d.display_name, d.description, d.category, d.version, d.entity, d.kind, d.base_relation,
       d.sql_expression, d.filter, d.time_field, coalesce(d.parameters, '{}'), d.default_aggregation,
       d.allowed_aggregations, d.unit, coalesce(d.tags, '{}'), coalesce(d.synonyms, '{}'),
       coalesce(d.dependencies, '{}'), d.weights
FROM pg_catalog.jsonb_to_recordset(analytics._catalog_builtin()) AS d(
    name text, display_name text, description text, category text, version integer, entity text, kind text,
    base_relation text, sql_expression text, filter text, time_field text, parameters jsonb,
    default_aggregation text, allowed_aggregations text[], unit text, tags text[], synonyms text[],
    dependencies text[], weights jsonb)
ON CONFLICT (name) DO UPDATE SET
    display_name = excluded.display_name,
    description = excluded.description,
    category = excluded.category,
    version = excluded.version,
    entity = excluded.entity,
    kind = excluded.kind,
    base_relation = excluded.base_relation,
    sql_expression = excluded.sql_expression,
    filter = excluded.filter,
    time_field = excluded.time_field,
    parameters = excluded.parameters,
    default_aggregation = excluded.default_aggregation,
    allowed_aggregations = excluded.allowed_aggregations,
    unit = excluded.unit,
    tags = excluded.tags,
    synonyms = excluded.synonyms,
    dependencies = excluded.dependencies,
    weights = excluded.weights,
    updated_at = pg_catalog.now()
WHERE (b.display_name, b.description, b.category, b.version, b.entity, b.kind, b.base_relation, b.sql_expression, b.filter, b.time_field, b.parameters, b.default_aggregation, b.allowed_aggregations, b.unit, b.tags, b.synonyms, b.dependencies, b.weights) IS DISTINCT FROM
      (excluded.display_name, excluded.description, excluded.category, excluded.version, excluded.entity, excluded.kind, excluded.base_relation, excluded.sql_expression, excluded.filter, excluded.time_field, excluded.parameters, excluded.default_aggregation, excluded.allowed_aggregations, excluded.unit, excluded.tags, excluded.synonyms, excluded.dependencies, excluded.weights);


-- Async jobs (issue 15): the queue (sql/018_jobs.sql) and its functions (src/api/jobs.rs).
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

CREATE  FUNCTION analytics."analytics_job_submit"(
	"kind" TEXT,
	"payload" jsonb,
	"options" jsonb DEFAULT '{}'
) RETURNS uuid
VOLATILE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'job_submit_wrapper';
COMMENT ON FUNCTION analytics.analytics_job_submit(text, jsonb, jsonb) IS
  'Submit an async job for the session''s tenant, run as the calling role: kind run (payload: a spec), ask ({"question", "options"}), embed ({"batch"}; writer), refresh_views ({"concurrently"}; admin) or jira_sync ({"source"}; admin). options: priority (-100..100), max_attempts (1..20, default 3), run_after (timestamptz), idempotency_key. The same payload (or key) while its job is queued or running, or completed within analytics.cache_ttl, returns that job''s id.';
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_job_submit(text,jsonb,jsonb)', 'EXECUTE');
REVOKE ALL ON FUNCTION analytics.analytics_job_submit(text,jsonb,jsonb) FROM PUBLIC;

CREATE  FUNCTION analytics."analytics_job_status"(
	"id" uuid
) RETURNS jsonb
VOLATILE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'job_status_wrapper';
COMMENT ON FUNCTION analytics.analytics_job_status(uuid) IS
  'A job of the calling role and session tenant: {"id", "kind", "state": queued | running | completed | failed | cancelled, "progress" (0..1), "stage", "attempt", "max_attempts", "priority", "run_after", "submitted_at", "started_at", "finished_at", "error": {"sqlstate", "message", "detail", "hint"}, "result_rows", "cancel_requested", "workers" (job workers serving this database)}.';
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_job_status(uuid)', 'EXECUTE');
REVOKE ALL ON FUNCTION analytics.analytics_job_status(uuid) FROM PUBLIC;

CREATE  FUNCTION analytics."analytics_job_result"(
	"id" uuid
) RETURNS jsonb
VOLATILE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'job_result_wrapper';
COMMENT ON FUNCTION analytics.analytics_job_result(uuid) IS
  'The answer of a completed job of the calling role (a run job''s has the shape of analytics_run''s). 55000 while it is not completed, with its state in DETAIL.';
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_job_result(uuid)', 'EXECUTE');
REVOKE ALL ON FUNCTION analytics.analytics_job_result(uuid) FROM PUBLIC;

CREATE  FUNCTION analytics."analytics_job_rows"(
	"id" uuid
) RETURNS SETOF jsonb
VOLATILE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'job_rows_wrapper';
COMMENT ON FUNCTION analytics.analytics_job_rows(uuid) IS
  'The rows of a completed job''s answer, one jsonb object per row, for results too large to read at once. 55000 while it is not completed.';
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_job_rows(uuid)', 'EXECUTE');
REVOKE ALL ON FUNCTION analytics.analytics_job_rows(uuid) FROM PUBLIC;

CREATE  FUNCTION analytics."analytics_job_cancel"(
	"id" uuid
) RETURNS bool
VOLATILE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'job_cancel_wrapper';
COMMENT ON FUNCTION analytics.analytics_job_cancel(uuid) IS
  'Cancel a job of the calling role: a queued one at once, a running one is asked to stop (cancel_requested). Returns false when it had finished already.';
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_job_cancel(uuid)', 'EXECUTE');
REVOKE ALL ON FUNCTION analytics.analytics_job_cancel(uuid) FROM PUBLIC;

CREATE  FUNCTION analytics."_jobs_wake"() RETURNS void
STRICT VOLATILE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'jobs_wake_wrapper';
COMMENT ON FUNCTION analytics._jobs_wake() IS 'Internal: wakes this database''s job workers (or asks the launcher to start them) when the transaction commits.';
REVOKE ALL ON FUNCTION analytics._jobs_wake() FROM PUBLIC;

CREATE  FUNCTION analytics."analytics_jobs"(
	"state" TEXT DEFAULT NULL,
	"lim" INT DEFAULT 100
) RETURNS TABLE (
	"id" uuid,
	"kind" TEXT,
	"state" TEXT,
	"progress" real,
	"stage" TEXT,
	"attempt" INT,
	"submitted_at" timestamp with time zone,
	"finished_at" timestamp with time zone
)
VOLATILE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'job_list_wrapper';
COMMENT ON FUNCTION analytics.analytics_jobs(text, integer) IS
  'The calling role''s jobs of the session''s tenant, newest first: id, kind, state, progress, stage, attempt, submitted_at, finished_at. state filters (NULL: all); lim caps the rows (1..10000).';
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_jobs(text,integer)', 'EXECUTE');
REVOKE ALL ON FUNCTION analytics.analytics_jobs(text,integer) FROM PUBLIC;


-- The job functions are not PUBLIC's (their access rows grant them to readers): the roles 0.1.0's
-- analytics_grant() gave reader access (they may execute _cache_get, a reader object) get them now.
DO $$
DECLARE
    r regrole;
    f text;
BEGIN
    FOR r IN SELECT a.grantee::regrole FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) AS a
             WHERE p.oid = 'analytics._cache_get(text)'::regprocedure AND a.privilege_type = 'EXECUTE'
               AND a.grantee <> p.proowner AND a.grantee <> 0 LOOP
        FOREACH f IN ARRAY ARRAY['analytics.analytics_job_submit(text,jsonb,jsonb)', 'analytics.analytics_job_status(uuid)',
                                 'analytics.analytics_job_result(uuid)', 'analytics.analytics_job_rows(uuid)',
                                 'analytics.analytics_job_cancel(uuid)', 'analytics.analytics_jobs(text,integer)'] LOOP
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s', f::regprocedure, r);
        END LOOP;
    END LOOP;
END
$$;


-- Scale-out keys (issue 14): every primary key, unique constraint and foreign key of a tenant table
-- includes tenant_id, the distribution column a Citus deployment would use (docs/operations.md,
-- "Scale-out"). The base tables' primary keys become (tenant_id, id); issues_tenant_id_id and
-- sprints_tenant_id_id, the same columns, go, and the foreign keys are made again on the primary keys;
-- sprint_issues_interval gains tenant_id; plain indexes on issues (id) and sprints (id) serve the reads
-- by id alone; the materialized views' unique indexes gain tenant_id. Rows are kept: the keys and
-- indexes are rebuilt in place (the six tables are locked while this runs). A foreign key or view of
-- the user's that depends on the old primary key stops the update with PostgreSQL's error naming it.
ALTER TABLE analytics.issue_transitions DROP CONSTRAINT issue_transitions_issue_fk;
ALTER TABLE analytics.issue_changes DROP CONSTRAINT issue_changes_issue_fk;
ALTER TABLE analytics.issue_comments DROP CONSTRAINT issue_comments_issue_fk;
ALTER TABLE analytics.sprint_issues DROP CONSTRAINT sprint_issues_sprint_fk, DROP CONSTRAINT sprint_issues_issue_fk;
ALTER TABLE analytics.issues DROP CONSTRAINT issues_pkey, DROP CONSTRAINT issues_tenant_id_id,
    ADD CONSTRAINT issues_pkey PRIMARY KEY (tenant_id, id);
CREATE INDEX issues_id_idx ON analytics.issues (id);
ALTER TABLE analytics.sprints DROP CONSTRAINT sprints_pkey, DROP CONSTRAINT sprints_tenant_id_id,
    ADD CONSTRAINT sprints_pkey PRIMARY KEY (tenant_id, id);
CREATE INDEX sprints_id_idx ON analytics.sprints (id);
ALTER TABLE analytics.issue_transitions DROP CONSTRAINT issue_transitions_pkey,
    ADD CONSTRAINT issue_transitions_pkey PRIMARY KEY (tenant_id, id),
    ADD CONSTRAINT issue_transitions_issue_fk FOREIGN KEY (tenant_id, issue_id)
        REFERENCES analytics.issues (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE analytics.issue_changes DROP CONSTRAINT issue_changes_pkey,
    ADD CONSTRAINT issue_changes_pkey PRIMARY KEY (tenant_id, id),
    ADD CONSTRAINT issue_changes_issue_fk FOREIGN KEY (tenant_id, issue_id)
        REFERENCES analytics.issues (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE analytics.issue_comments DROP CONSTRAINT issue_comments_pkey,
    ADD CONSTRAINT issue_comments_pkey PRIMARY KEY (tenant_id, id),
    ADD CONSTRAINT issue_comments_issue_fk FOREIGN KEY (tenant_id, issue_id)
        REFERENCES analytics.issues (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE analytics.sprint_issues DROP CONSTRAINT sprint_issues_pkey, DROP CONSTRAINT sprint_issues_interval,
    ADD CONSTRAINT sprint_issues_pkey PRIMARY KEY (tenant_id, id),
    ADD CONSTRAINT sprint_issues_sprint_fk FOREIGN KEY (tenant_id, sprint_id)
        REFERENCES analytics.sprints (tenant_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT sprint_issues_issue_fk FOREIGN KEY (tenant_id, issue_id)
        REFERENCES analytics.issues (tenant_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT sprint_issues_interval UNIQUE (tenant_id, sprint_id, issue_id, added_at);

-- Ids are unique per tenant now, so every join by id also matches the tenant wherever row-level
-- security may not narrow the rows: the materialized views are refreshed as the extension owner, and a
-- superuser or BYPASSRLS role sees every tenant. issue_facts (which also gains the summary, for list
-- specs, as its last column) and sprint_facts are replaced in place; the materialized statistics become
-- tables (below).
CREATE OR REPLACE VIEW analytics.issue_facts WITH (security_invoker = true) AS
SELECT i.id, i.tenant_id, i.instance_id, i.issue_key, i.project_key, i.issue_type, i.status, i.status_category,
       i.priority, i.assignee, i.reporter, i.story_points, i.labels, i.components, i.epic_key,
       i.created_at, i.updated_at, i.resolved_at,
       CASE WHEN i.resolved_at >= i.created_at
            THEN extract(epoch FROM i.resolved_at - i.created_at) / 86400.0 END AS lead_time_days,
       h.first_in_progress_at,
       CASE WHEN i.status_category = 'done' THEN h.cycle_time_days END AS cycle_time_days,
       h.reopen_count,
       h.last_reopened_at,
       h.last_transition_at,
       (SELECT count(*) FROM analytics.issue_comments c WHERE c.tenant_id = i.tenant_id AND c.issue_id = i.id) AS comment_count,
       (SELECT extract(epoch FROM min(c.created_at) - i.created_at) / 3600.0 FROM analytics.issue_comments c
         WHERE c.tenant_id = i.tenant_id AND c.issue_id = i.id AND c.author IS DISTINCT FROM i.reporter) AS first_response_hours,
       (SELECT s.board FROM analytics.sprint_issues si JOIN analytics.sprints s ON s.tenant_id = si.tenant_id AND s.id = si.sprint_id
         WHERE si.tenant_id = i.tenant_id AND si.issue_id = i.id ORDER BY si.added_at DESC, si.id DESC LIMIT 1) AS board,
       (SELECT s.name FROM analytics.sprint_issues si JOIN analytics.sprints s ON s.tenant_id = si.tenant_id AND s.id = si.sprint_id
         WHERE si.tenant_id = i.tenant_id AND si.issue_id = i.id ORDER BY si.added_at DESC, si.id DESC LIMIT 1) AS sprint,
       i.summary
FROM analytics.issues i
LEFT JOIN LATERAL (
    SELECT min(t.changed_at) FILTER (WHERE t.to_category = 'in_progress') AS first_in_progress_at,
           extract(epoch FROM max(t.changed_at) FILTER (WHERE t.to_category = 'done')
                            - min(t.changed_at) FILTER (WHERE t.to_category = 'in_progress')) / 86400.0 AS cycle_time_days,
           count(*) FILTER (WHERE t.from_category = 'done' AND t.to_category IS DISTINCT FROM 'done') AS reopen_count,
           max(t.changed_at) FILTER (WHERE t.from_category = 'done' AND t.to_category IS DISTINCT FROM 'done') AS last_reopened_at,
           max(t.changed_at) AS last_transition_at
    FROM analytics.issue_transitions t
    WHERE t.tenant_id = i.tenant_id AND t.issue_id = i.id
) AS h ON true;

CREATE OR REPLACE VIEW analytics.sprint_facts WITH (security_invoker = true) AS
WITH member AS (
    SELECT s.tenant_id, si.sprint_id, si.issue_id, si.added_at, si.removed_at, s.start_date, s.complete_date,
           coalesce(s.complete_date, now()) AS cutoff
    FROM analytics.sprint_issues si
    JOIN analytics.sprints s ON s.tenant_id = si.tenant_id AND s.id = si.sprint_id
    WHERE s.state <> 'future' AND s.start_date IS NOT NULL
), flags AS (
    SELECT m.*,
           m.added_at <= m.start_date AND (m.removed_at IS NULL OR m.removed_at > m.start_date) AS at_start,
           m.complete_date IS NOT NULL AND m.added_at <= m.complete_date
               AND (m.removed_at IS NULL OR m.removed_at > m.complete_date) AS at_complete,
           m.added_at > m.start_date AND m.added_at < m.cutoff AS added_during,
           m.removed_at > m.start_date AND m.removed_at < m.cutoff AS removed_during
    FROM member m
), per_member AS (
    SELECT f.tenant_id, f.sprint_id, f.issue_id, f.at_start, f.at_complete, f.added_during, f.removed_during,
           CASE WHEN f.at_start THEN
               CASE WHEN ps.found THEN analytics.to_points(ps.v) WHEN fc.found THEN analytics.to_points(fc.v) ELSE i.story_points END
           END AS start_points,
           CASE WHEN f.at_complete THEN
               CASE WHEN pc.found THEN analytics.to_points(pc.v) WHEN fc.found THEN analytics.to_points(fc.v) ELSE i.story_points END
           END AS complete_points,
           CASE WHEN f.at_complete THEN
               CASE WHEN cc.found THEN cc.cat WHEN ft.found THEN coalesce(ft.cat, 'todo') ELSE i.status_category END = 'done'
           END AS done_at_complete,
           CASE WHEN f.added_during THEN
               CASE WHEN pa.found THEN analytics.to_points(pa.v) WHEN fc.found THEN analytics.to_points(fc.v) ELSE i.story_points END
           END AS added_points,
           CASE WHEN f.removed_during THEN
               CASE WHEN pr.found THEN analytics.to_points(pr.v) WHEN fc.found THEN analytics.to_points(fc.v) ELSE i.story_points END
           END AS removed_points
    FROM flags f
    JOIN analytics.issues i ON i.tenant_id = f.tenant_id AND i.id = f.issue_id
    -- The first estimate change: before it, its from_value was in force.
    LEFT JOIN LATERAL (SELECT true AS found, c.from_value AS v FROM analytics.issue_changes c
                       WHERE c.tenant_id = f.tenant_id AND c.issue_id = f.issue_id AND c.field = 'story_points'
                       ORDER BY c.changed_at, c.id LIMIT 1) fc ON true
    -- The first transition: before it, its from_category held.
    LEFT JOIN LATERAL (SELECT true AS found, t.from_category AS cat FROM analytics.issue_transitions t
                       WHERE t.tenant_id = f.tenant_id AND t.issue_id = f.issue_id AND t.changed_at > f.complete_date AND f.at_complete
                       ORDER BY t.changed_at, t.id LIMIT 1) ft ON true
    -- The last estimate change at or before each moment that matters.
    LEFT JOIN LATERAL (SELECT true AS found, c.to_value AS v FROM analytics.issue_changes c
                       WHERE f.at_start AND c.tenant_id = f.tenant_id AND c.issue_id = f.issue_id AND c.field = 'story_points' AND c.changed_at <= f.start_date
                       ORDER BY c.changed_at DESC, c.id DESC LIMIT 1) ps ON true
    LEFT JOIN LATERAL (SELECT true AS found, c.to_value AS v FROM analytics.issue_changes c
                       WHERE f.at_complete AND c.tenant_id = f.tenant_id AND c.issue_id = f.issue_id AND c.field = 'story_points' AND c.changed_at <= f.complete_date
                       ORDER BY c.changed_at DESC, c.id DESC LIMIT 1) pc ON true
    LEFT JOIN LATERAL (SELECT true AS found, c.to_value AS v FROM analytics.issue_changes c
                       WHERE f.added_during AND c.tenant_id = f.tenant_id AND c.issue_id = f.issue_id AND c.field = 'story_points' AND c.changed_at <= f.added_at
                       ORDER BY c.changed_at DESC, c.id DESC LIMIT 1) pa ON true
    LEFT JOIN LATERAL (SELECT true AS found, c.to_value AS v FROM analytics.issue_changes c
                       WHERE f.removed_during AND c.tenant_id = f.tenant_id AND c.issue_id = f.issue_id AND c.field = 'story_points' AND c.changed_at <= f.removed_at
                       ORDER BY c.changed_at DESC, c.id DESC LIMIT 1) pr ON true
    -- The status category at completion: the last transition at or before it.
    LEFT JOIN LATERAL (SELECT true AS found, t.to_category AS cat FROM analytics.issue_transitions t
                       WHERE f.at_complete AND t.tenant_id = f.tenant_id AND t.issue_id = f.issue_id AND t.changed_at <= f.complete_date
                       ORDER BY t.changed_at DESC, t.id DESC LIMIT 1) cc ON true
), per_sprint AS (
    -- Grouped by tenant too, so a filter on the tenant reaches the membership scan.
    SELECT tenant_id, sprint_id,
           count(DISTINCT issue_id) FILTER (WHERE at_start) AS planned_issues,
           sum(start_points) AS planned_sp,
           sum(added_points) AS added_sp,
           sum(removed_points) AS removed_sp,
           count(DISTINCT issue_id) FILTER (WHERE at_complete AND done_at_complete) AS completed_issues,
           sum(complete_points) FILTER (WHERE done_at_complete) AS completed_sp,
           sum(complete_points) FILTER (WHERE NOT done_at_complete) AS spilled_sp
    FROM per_member
    GROUP BY tenant_id, sprint_id
), base AS (
    SELECT s.id AS sprint_id, s.tenant_id, s.instance_id, s.board, s.name, s.state,
           s.start_date, s.end_date, s.complete_date,
           CASE WHEN s.state <> 'future' THEN coalesce(p.planned_issues, 0) END AS planned_issues,
           CASE WHEN s.state <> 'future' THEN coalesce(p.planned_sp, 0) END AS planned_sp,
           CASE WHEN s.state <> 'future' THEN coalesce(p.added_sp, 0) END AS added_sp,
           CASE WHEN s.state <> 'future' THEN coalesce(p.removed_sp, 0) END AS removed_sp,
           CASE WHEN s.state = 'closed' THEN coalesce(p.completed_issues, 0) END AS completed_issues,
           CASE WHEN s.state = 'closed' THEN coalesce(p.completed_sp, 0) END AS completed_sp,
           CASE WHEN s.state = 'closed' THEN coalesce(p.spilled_sp, 0) END AS spilled_sp
    FROM analytics.sprints s
    LEFT JOIN per_sprint p ON p.tenant_id = s.tenant_id AND p.sprint_id = s.id
), ratios AS (
    SELECT b.*,
           b.spilled_sp / nullif(b.planned_sp + b.added_sp, 0) AS spillover_ratio,
           (b.added_sp + b.removed_sp) / nullif(b.planned_sp, 0) AS scope_churn_ratio,
           CASE WHEN b.state = 'closed' THEN abs(b.completed_sp - b.planned_sp) / nullif(b.planned_sp, 0) END AS accuracy_abs,
           CASE WHEN b.state = 'closed' THEN
               avg(b.completed_sp) OVER (PARTITION BY b.tenant_id, b.instance_id, b.board, b.state = 'closed'
                                         ORDER BY b.complete_date, b.sprint_id
                                         ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) END AS velocity
    FROM base b
), z AS (
    SELECT r.*,
           CASE WHEN r.state = 'closed' THEN (r.planned_sp - avg(r.planned_sp) OVER w) / nullif(stddev_samp(r.planned_sp) OVER w, 0) END AS planned_sp_z,
           CASE WHEN r.state = 'closed' THEN (r.added_sp - avg(r.added_sp) OVER w) / nullif(stddev_samp(r.added_sp) OVER w, 0) END AS added_sp_z,
           CASE WHEN r.state = 'closed' THEN (r.removed_sp - avg(r.removed_sp) OVER w) / nullif(stddev_samp(r.removed_sp) OVER w, 0) END AS removed_sp_z,
           CASE WHEN r.state = 'closed' THEN (r.completed_sp - avg(r.completed_sp) OVER w) / nullif(stddev_samp(r.completed_sp) OVER w, 0) END AS completed_sp_z,
           CASE WHEN r.state = 'closed' THEN (r.spillover_ratio - avg(r.spillover_ratio) OVER w) / nullif(stddev_samp(r.spillover_ratio) OVER w, 0) END AS spillover_ratio_z,
           CASE WHEN r.state = 'closed' THEN (r.scope_churn_ratio - avg(r.scope_churn_ratio) OVER w) / nullif(stddev_samp(r.scope_churn_ratio) OVER w, 0) END AS scope_churn_ratio_z,
           CASE WHEN r.state = 'closed' THEN (r.accuracy_abs - avg(r.accuracy_abs) OVER w) / nullif(stddev_samp(r.accuracy_abs) OVER w, 0) END AS accuracy_abs_z,
           CASE WHEN r.state = 'closed' THEN (r.velocity - avg(r.velocity) OVER w) / nullif(stddev_samp(r.velocity) OVER w, 0) END AS velocity_z
    FROM ratios r
    WINDOW w AS (PARTITION BY r.tenant_id, r.instance_id, r.board, r.state = 'closed')
)
SELECT z.sprint_id, z.tenant_id, z.instance_id, z.board, z.name, z.state, z.start_date, z.end_date, z.complete_date,
       z.planned_issues, z.planned_sp, z.added_sp, z.removed_sp, z.completed_issues, z.completed_sp, z.spilled_sp,
       z.spillover_ratio, z.scope_churn_ratio, z.accuracy_abs, z.velocity,
       z.planned_sp_z, z.added_sp_z, z.removed_sp_z, z.completed_sp_z, z.spillover_ratio_z,
       z.scope_churn_ratio_z, z.accuracy_abs_z, z.velocity_z,
       CASE WHEN z.state = 'closed' THEN
             coalesce((w.weights ->> 'spillover_ratio')::numeric, 0) * coalesce(z.spillover_ratio_z, 0)
           + coalesce((w.weights ->> 'scope_churn_ratio')::numeric, 0) * coalesce(z.scope_churn_ratio_z, 0)
           + coalesce((w.weights ->> 'accuracy_abs')::numeric, 0) * coalesce(z.accuracy_abs_z, 0)
           - coalesce((w.weights ->> 'completed_sp')::numeric, 0) * coalesce(z.completed_sp_z, 0)
       END AS sprint_problematic_score
FROM z
LEFT JOIN (SELECT weights FROM analytics.metrics_catalog WHERE name = 'sprint_problematic_score') w ON true;

-- New in 0.2.0: the materialized statistics are tables maintained per tenant (a materialized view
-- cannot refresh part of itself). The views over them are dropped and made again with their grants
-- (read before they are dropped); a view of the user's over them stops the update with PostgreSQL's
-- error naming it. The statistics are computed again at the end (derived data, nothing is lost).
SELECT pg_catalog.set_config('agile_analytics_upgrade.stats_grants',
    coalesce(pg_catalog.string_agg(pg_catalog.format('GRANT %s ON %s TO %s%s', a.privilege_type, c.oid::regclass,
        a.grantee::regrole, CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), E'\n'), ''), true)
FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) AS a
WHERE c.oid IN ('analytics.issue_comment_stats'::regclass, 'analytics.sprint_stats'::regclass)
  AND a.grantee <> c.relowner AND a.grantee <> 0;
DROP VIEW analytics.issue_comment_stats;
DROP VIEW analytics.sprint_stats;
DROP MATERIALIZED VIEW analytics.mv_issue_comment_stats;
DROP MATERIALIZED VIEW analytics.mv_sprint_stats_enriched;

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

-- view_refreshes (0.1.0) now records full refreshes only.
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

CREATE OR REPLACE FUNCTION analytics.analytics_refresh_views(concurrently boolean DEFAULT true)
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
CREATE OR REPLACE FUNCTION analytics._refresh_views_for_worker() RETURNS text
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


DO $$
DECLARE
    g text;
BEGIN
    FOREACH g IN ARRAY pg_catalog.string_to_array(pg_catalog.current_setting('agile_analytics_upgrade.stats_grants'), E'\n') LOOP
        EXECUTE g;
    END LOOP;
END
$$;
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics._stats_fresh()', 'EXECUTE'),
    ('admin', 'table', 'analytics.stats_refreshes', 'SELECT'),
    ('admin', 'function', 'analytics.analytics_refresh_stats(text)', 'EXECUTE'),
    ('admin', 'function', 'analytics.analytics_refresh_stale_stats()', 'EXECUTE');
SELECT count(*) FROM analytics._stats_tenants() AS t, LATERAL analytics.analytics_refresh_stats(t) AS r;

-- Jira sync (issue 18): sources, credentials and sync state (sql/019_jira.sql), the jira_sync job
-- kind, and the functions of src/api/jira.rs.
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

CREATE  FUNCTION analytics."analytics_jira_sync"(
	"name" TEXT, /* Option < & str > */
	"options" jsonb DEFAULT '{}' /* Option < JsonbText > */
) RETURNS uuid /* Result < Uuid, ErrorReport > */
VOLATILE  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'jira_sync_wrapper';

CREATE  FUNCTION analytics."analytics_jira_source_secret"(
	"name" TEXT, /* Option < & str > */
	"secret" jsonb /* Option < JsonbText > */
) RETURNS jsonb /* Result < JsonB, ErrorReport > */
VOLATILE  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'jira_source_secret_wrapper';

CREATE  FUNCTION analytics."analytics_jira_source_drop"(
	"name" TEXT /* Option < & str > */
) RETURNS bool /* Result < bool, ErrorReport > */
VOLATILE  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'jira_source_drop_wrapper';

CREATE  FUNCTION analytics."analytics_jira_source_upsert"(
	"name" TEXT, /* Option < & str > */
	"config" jsonb /* Option < JsonbText > */
) RETURNS jsonb /* Result < JsonB, ErrorReport > */
VOLATILE  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'jira_source_upsert_wrapper';

COMMENT ON FUNCTION analytics.analytics_jira_source_upsert(text, jsonb) IS
  'Add a Jira source for the session''s tenant, or replace its config: {"base_url", "flavor": "cloud"|"server", "jql", "boards": {id: name} (else discovered from the JQL''s projects), "page_size" (100), "overlap_minutes" (10), "time_zone" (else the API user''s), and analytics_ingest_jira''s options instance_id, sprint_field, story_points_field, status_categories}. Returns {"name", "created", "has_secret", "config"}. Admin access.';
COMMENT ON FUNCTION analytics.analytics_jira_source_secret(text, jsonb) IS
  'Set a Jira source''s credential: {"email", "api_token"} (Cloud, HTTP Basic), {"token"} (Server/DC personal access token, Bearer), {"username", "password"}, or {"file": "/path"} (a JSON file with one of those, read on the server: the credential then never appears in a statement). Superusers and the extension''s owner only; no function returns it. Returns {"name", "kind", "set"}.';
COMMENT ON FUNCTION analytics.analytics_jira_source_drop(text) IS
  'Remove a Jira source of the session''s tenant with its credential and sync state (the issues it loaded stay); returns whether there was one. Admin access.';
COMMENT ON FUNCTION analytics.analytics_jira_sync(text, jsonb) IS
  'Queue a sync of a Jira source as a jira_sync job and return its id (analytics_job_status shows progress: stages sprints, issues, changelogs). Incremental from the source''s watermark; options {"full": true} resyncs every issue and reports those Jira no longer returns, {"full": true, "prune": true} deletes them. Admin access.';
REVOKE ALL ON FUNCTION analytics.analytics_jira_source_upsert(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION analytics.analytics_jira_source_secret(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION analytics.analytics_jira_source_drop(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION analytics.analytics_jira_sync(text, jsonb) FROM PUBLIC;
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('admin', 'function', 'analytics.analytics_jira_source_upsert(text,jsonb)', 'EXECUTE'),
    ('admin', 'function', 'analytics.analytics_jira_source_drop(text)', 'EXECUTE'),
    ('admin', 'function', 'analytics.analytics_jira_sync(text,jsonb)', 'EXECUTE');
-- The roles 0.1.0's analytics_grant() gave admin access (they may execute analytics_refresh_views) get
-- the new admin functions now.
DO $$
DECLARE
    r regrole;
    f text;
BEGIN
    FOR r IN SELECT a.grantee::regrole FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) AS a
             WHERE p.oid = 'analytics.analytics_refresh_views(boolean)'::regprocedure AND a.privilege_type = 'EXECUTE'
               AND a.grantee <> p.proowner AND a.grantee <> 0 LOOP
        FOREACH f IN ARRAY ARRAY['analytics.analytics_jira_source_upsert(text,jsonb)', 'analytics.analytics_jira_source_drop(text)',
                                 'analytics.analytics_jira_sync(text,jsonb)', 'analytics.analytics_jira_sources()',
                                 'analytics.analytics_schedule_jira_sync(text,text)', 'analytics.analytics_unschedule_jira_sync(text)'] LOOP
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s', f::regprocedure, r);
        END LOOP;
    END LOOP;
END
$$;

-- Semantic search (issue 16; sql/020_search.sql): semantic and lexical search over issues (docs/search.md). Embeddings are derived data, like the
-- result cache: users read them (row-level security scopes them to the tenant) and never write them;
-- the embedding functions write them as the extension's owner, for the session's tenant only.

-- One embedding per issue and model; content_hash is the SHA-256 of the text that was embedded
-- (summary and description), so an issue is embedded again only when that text changed. The vector has
-- no fixed length here (models differ); each model's index casts to its length.
CREATE TABLE analytics.issue_embeddings (
    tenant_id    text NOT NULL CHECK (tenant_id <> ''),
    issue_id     bigint NOT NULL,
    model        text NOT NULL CHECK (model ~ '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$'),
    content_hash text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    embedding    vector NOT NULL,
    embedded_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT issue_embeddings_pkey PRIMARY KEY (tenant_id, issue_id, model),
    CONSTRAINT issue_embeddings_issue_fk FOREIGN KEY (tenant_id, issue_id)
        REFERENCES analytics.issues (tenant_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE analytics.issue_embeddings IS 'Embeddings of issues (summary and description), one per issue and model; written only by the extension''s embedding functions, read through row-level security.';
COMMENT ON COLUMN analytics.issue_embeddings.content_hash IS 'SHA-256 (hex) of the text that was embedded: the issue is embedded again only when it changes.';

-- One HNSW index per model, shared by every tenant (an index per tenant would be thousands of partial
-- indexes). pgvector uses it only for a query that repeats the cast and the model filter:
--   WHERE model = 'all-MiniLM-L6-v2' ORDER BY embedding::vector(384) <=> $1 LIMIT k
-- The tenant filter applies after the index scan, so searches use pgvector's iterative scans to still
-- return k rows for a small tenant beside a large one.
-- ef_construction 128 (pgvector's default is 64): recall@10 against an exact scan at 100,000 vectors
-- 0.956 instead of 0.888 at ef_search 40, for twice the build time (59 s; scripts/bench_search.sh).
CREATE INDEX issue_embeddings_minilm_hnsw ON analytics.issue_embeddings
    USING hnsw ((embedding::vector(384)) vector_cosine_ops) WITH (m = 16, ef_construction = 128)
    WHERE model = 'all-MiniLM-L6-v2';

ALTER TABLE analytics.issue_embeddings ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.issue_embeddings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON analytics.issue_embeddings
    USING (tenant_id = analytics.current_tenant()) WITH CHECK (tenant_id = analytics.current_tenant());
REVOKE ALL ON analytics.issue_embeddings FROM PUBLIC;
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges)
VALUES ('reader', 'table', 'analytics.issue_embeddings', 'SELECT');
-- Roles given reader access (or more) by analytics_grant() before the update read embeddings too.
DO $$
DECLARE
    r regrole;
BEGIN
    FOR r IN SELECT a.grantee::regrole FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) AS a
             WHERE c.oid = 'analytics.issues'::regclass AND a.privilege_type = 'SELECT'
               AND a.grantee <> c.relowner AND a.grantee <> 0 LOOP
        EXECUTE pg_catalog.format('GRANT SELECT ON analytics.issue_embeddings TO %s', r);
    END LOOP;
END
$$;

-- Lexical search: PostgreSQL full-text search over summary and description, English configuration.
-- A query uses this index when it repeats the expression.
CREATE INDEX issues_fts_idx ON analytics.issues
    USING gin (pg_catalog.to_tsvector('pg_catalog.english'::pg_catalog.regconfig,
                                      coalesce(summary, '') || ' ' || coalesce(description, '')));

-- Embedding on change (docs/search.md): statement triggers on issues mark the tenants whose summaries
-- or descriptions a write inserted or changed. Every analytics.embed_interval seconds the job workers
-- queue an `embed` job for each marked tenant, when the builtin model is installed. A mark commits with
-- the write that made it and is cleared only in the transaction that queues a job, which sees that
-- write: no change waits for another one to be embedded.
CREATE TABLE analytics.embedding_queue (
    tenant_id text PRIMARY KEY CHECK (tenant_id <> ''),
    marked_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE analytics.embedding_queue IS 'The tenants with issues to embed (new, or summary or description changed), marked by statement triggers on analytics.issues; the job workers queue an embed job for each.';
REVOKE ALL ON analytics.embedding_queue FROM PUBLIC;

CREATE FUNCTION analytics._embed_mark() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO analytics.embedding_queue (tenant_id)
        SELECT DISTINCT n.tenant_id FROM new_rows n
        ON CONFLICT (tenant_id) DO NOTHING;
    ELSE
        INSERT INTO analytics.embedding_queue (tenant_id)
        SELECT DISTINCT n.tenant_id FROM new_rows n JOIN old_rows o ON o.tenant_id = n.tenant_id AND o.id = n.id
        WHERE n.summary IS DISTINCT FROM o.summary OR n.description IS DISTINCT FROM o.description
        ON CONFLICT (tenant_id) DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics._embed_mark() IS 'Internal: statement trigger on analytics.issues that marks the tenants whose issue texts a write inserted or changed, for embedding.';
REVOKE ALL ON FUNCTION analytics._embed_mark() FROM PUBLIC;
CREATE TRIGGER embed_mark_ins AFTER INSERT ON analytics.issues
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics._embed_mark();
CREATE TRIGGER embed_mark_upd AFTER UPDATE ON analytics.issues
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics._embed_mark();

-- New embeddings change what a similar_to spec finds: they bump the tenant's data version, so no cached
-- result from before them is served.
CREATE TRIGGER data_version_ins AFTER INSERT ON analytics.issue_embeddings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics._bump_data_version();
CREATE TRIGGER data_version_upd AFTER UPDATE ON analytics.issue_embeddings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION analytics._bump_data_version();

INSERT INTO analytics.job_kinds (kind, function, reusable, description) VALUES
    ('embed', 'analytics.analytics_embed_issues(integer)', false, 'Embed the tenant''s new and changed issues (payload: {"batch": 1..100000, default 200}) with the builtin model, batch by batch, each batch in its own transaction, until none is left; writer access. Queued by the job workers for tenants with changed issues (analytics.embed_interval).');

-- Semantic search, the SQL API (issue 16; src/api/search.rs).
CREATE  FUNCTION analytics."analytics_embed_issues"(
	"batch" INT DEFAULT 1000
) RETURNS bigint
VOLATILE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'analytics_embed_issues_wrapper';
COMMENT ON FUNCTION analytics.analytics_embed_issues(integer) IS
  'Embed the session tenant''s issues (summary and description) that have no embedding yet or changed since, at most batch of them, with the model of analytics.embedding_provider (builtin: all-MiniLM-L6-v2); returns how many. Call it until it returns 0. Writer access.';
REVOKE ALL ON FUNCTION analytics.analytics_embed_issues(integer) FROM PUBLIC;
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('writer', 'function', 'analytics.analytics_embed_issues(integer)', 'EXECUTE');

CREATE  FUNCTION analytics."analytics_similar_issues"(
	"query" TEXT,
	"k" INT DEFAULT 10,
	"filters" jsonb DEFAULT '{}',
	"mode" TEXT DEFAULT 'hybrid',
	"min_score" double precision DEFAULT NULL
) RETURNS TABLE (
	"issue_key" TEXT,
	"summary" TEXT,
	"status" TEXT,
	"score" double precision
)
VOLATILE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'analytics_similar_issues_wrapper';
COMMENT ON FUNCTION analytics.analytics_similar_issues(text, integer, jsonb, text, double precision) IS
  'The session tenant''s k issues most similar to a text: issue_key, summary, status, score. mode: hybrid (default: meaning and words, score = 0.8 x cosine + 0.2 x lexical score of the 50 best of each), semantic (score: cosine similarity of the embeddings) or lexical (full-text search, words weighted by their rarity; score: the matched share, in [0, 1]). filters: a spec''s filters (e.g. [{"field": "issue_type", "operator": "eq", "value": "Bug"}]). min_score: rows less similar than this cosine are left out (NULL: 0.3; lexical: 0). Reader access.';
REVOKE ALL ON FUNCTION analytics.analytics_similar_issues(text, integer, jsonb, text, double precision) FROM PUBLIC;
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_similar_issues(text,integer,jsonb,text,double precision)', 'EXECUTE');

CREATE  FUNCTION analytics."analytics_similar_to_issue"(
	"issue_key" TEXT,
	"k" INT DEFAULT 10
) RETURNS TABLE (
	"issue_key" TEXT,
	"summary" TEXT,
	"status" TEXT,
	"score" double precision
)
VOLATILE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'analytics_similar_to_issue_wrapper';
COMMENT ON FUNCTION analytics.analytics_similar_to_issue(text, integer) IS
  'The session tenant''s k issues most similar in meaning to the issue issue_key (left out itself): issue_key, summary, status, score (cosine similarity of the embeddings). Finds earlier reports of the same problem. Reader access.';
REVOKE ALL ON FUNCTION analytics.analytics_similar_to_issue(text, integer) FROM PUBLIC;
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_similar_to_issue(text,integer)', 'EXECUTE');

-- Roles given access by analytics_grant() before the update: readers may search, writers embed.
DO $$
DECLARE
    r regrole;
BEGIN
    FOR r IN SELECT a.grantee::regrole FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) AS a
             WHERE c.oid = 'analytics.issues'::regclass AND a.privilege_type = 'SELECT'
               AND a.grantee <> c.relowner AND a.grantee <> 0 LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION analytics.analytics_similar_issues(text,integer,jsonb,text,double precision) TO %s', r);
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION analytics.analytics_similar_to_issue(text,integer) TO %s', r);
    END LOOP;
    FOR r IN SELECT a.grantee::regrole FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) AS a
             WHERE c.oid = 'analytics.issues'::regclass AND a.privilege_type = 'INSERT'
               AND a.grantee <> c.relowner AND a.grantee <> 0 LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION analytics.analytics_embed_issues(integer) TO %s', r);
    END LOOP;
END
$$;

-- (After every function of 0.2.0 exists.)
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

-- The job workers of this database start when the update commits (not a minute later).
SELECT analytics._jobs_wake();
