-- Sprint specs answered from the materialized statistics (issue 19): the same rows as computed live,
-- for 47 fixed specs (the golden sprint specs of 10_spec_vs_sql among them) and 240 generated ones;
-- staleness per tenant; per-tenant refresh; access.
SET analytics.cache_ttl = 0;
SET analytics.tenant_id = 'acme';
-- A spec's rows live and routed, and whether the routed run read the statistics.
CREATE FUNCTION pg_temp.both_ways(spec jsonb) RETURNS TABLE (rows bigint, mismatches bigint, source text) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('analytics.stats_routing', 'off', true);
    CREATE TEMP TABLE live_rows AS SELECT r FROM analytics.analytics_rows(spec) AS r;
    PERFORM set_config('analytics.stats_routing', 'on', true);
    CREATE TEMP TABLE routed_rows AS SELECT r FROM analytics.analytics_rows(spec) AS r;
    RETURN QUERY SELECT (SELECT count(*) FROM routed_rows),
        (SELECT count(*) FROM ((SELECT r FROM live_rows EXCEPT ALL SELECT r FROM routed_rows) UNION ALL (SELECT r FROM routed_rows EXCEPT ALL SELECT r FROM live_rows)) d),
        coalesce(analytics.analytics_run(spec) -> 'source' ->> 'sprint_stats', 'none');
    DROP TABLE live_rows;
    DROP TABLE routed_rows;
END $$;
-- The table holds sprint_facts' columns, names and types in order (a refresh inserts SELECT * FROM it).
SELECT count(*) AS column_differences FROM (
  (SELECT attnum, attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'analytics.sprint_facts'::regclass AND attnum > 0 AND NOT attisdropped
   EXCEPT SELECT attnum, attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'analytics.mv_sprint_stats_enriched'::regclass AND attnum > 0 AND NOT attisdropped)
  UNION ALL
  (SELECT attnum, attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'analytics.mv_sprint_stats_enriched'::regclass AND attnum > 0 AND NOT attisdropped
   EXCEPT SELECT attnum, attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'analytics.sprint_facts'::regclass AND attnum > 0 AND NOT attisdropped)) d;
-- Never refreshed: live.
SELECT analytics.analytics_run('{"entity": "sprint", "metrics": ["velocity"]}') -> 'source' AS source;
SELECT view_name, stats_rows > 0 AS has_rows FROM analytics.analytics_refresh_stats('acme') ORDER BY 1;
SELECT analytics.analytics_run('{"entity": "sprint", "metrics": ["velocity"]}') -> 'source' ->> 'sprint_stats' AS source,
       analytics.analytics_run('{"entity": "sprint", "metrics": ["velocity"]}') ->> 'sql' LIKE '%FROM analytics.sprint_stats AS f%' AS reads_stats;
SELECT analytics.analytics_explain('{"entity": "sprint", "metrics": ["velocity"]}') -> 'source' ->> 'sprint_stats' AS explain_source;
-- Issue specs and sprint specs that read only the sprints table have no source.
SELECT analytics.analytics_run('{"metrics": ["created"]}') ? 'source' AS issue_spec_has_source;
-- Fixed specs: every sprint statistic with its default and other aggregations, groups, filters, ranges.
CREATE TEMP TABLE fixed (n serial, spec jsonb);
INSERT INTO fixed (spec) SELECT jsonb_build_object('entity', 'sprint', 'metrics', jsonb_build_array(m.name), 'group_by', g.g)
FROM analytics.metrics_catalog m, (VALUES ('[]'::jsonb), ('["board"]'), ('["state"]'), ('[{"field": "complete_date", "interval": "month"}]')) AS g(g)
WHERE m.entity = 'sprint' AND m.kind = 'measure' AND m.is_active ORDER BY m.name, g.g::text;
INSERT INTO fixed (spec) VALUES
  ('{"entity": "sprint", "metrics": ["completed_sp", "spillover_ratio"], "group_by": ["board"], "date_range": {"last_sprints": 6}}'),
  ('{"entity": "sprint", "metrics": [{"name": "velocity", "aggregation": "p90"}], "group_by": ["board"], "filters": [{"field": "state", "operator": "eq", "value": "closed"}]}'),
  ('{"entity": "sprint", "metrics": ["sprint_problematic_score"], "group_by": ["sprint"], "sort_by": [{"field": "sprint_problematic_score", "direction": "desc"}], "limit": 5}'),
  ('{"entity": "sprint", "metrics": ["planned_sp", "added_sp", "removed_sp"], "group_by": ["sprint"], "date_range": {"field": "start_date", "from": "2026-01-01", "to": "2026-04-01"}}'),
  -- The sprint specs of 10_spec_vs_sql (checked there against hand-written SQL).
  ('{"entity": "sprint", "metrics": ["planned_sp", "completed_sp"], "group_by": ["board"], "filters": [{"field": "state", "operator": "eq", "value": "closed"}]}'),
  ('{"entity": "sprint", "metrics": ["spillover_ratio"], "group_by": ["board"], "date_range": {"from": "2026-01-01", "to": "2026-07-01"}}'),
  ('{"entity": "sprint", "metrics": ["velocity"], "group_by": ["board"], "date_range": {"last_sprints": 3}}'),
  ('{"entity": "sprint", "metrics": [{"name": "scope_churn_ratio", "aggregation": "p50"}, {"name": "accuracy_abs", "aggregation": "max"}], "group_by": ["board"], "filters": [{"field": "state", "operator": "eq", "value": "closed"}]}'),
  ('{"entity": "sprint", "metrics": ["added_sp", "removed_sp"], "group_by": [{"field": "start_date", "interval": "quarter"}], "filters": [{"field": "state", "operator": "eq", "value": "closed"}]}'),
  ('{"entity": "sprint", "metrics": ["completed_sp"], "group_by": ["sprint"], "sort_by": ["completed_sp"], "limit": 5}'),
  ('{"entity": "sprint", "metrics": ["sprint_scope_sp", "sprint_done_sp", "sprint_remaining_sp"], "group_by": [{"field": "as_of", "interval": "day"}, "sprint"], "filters": [{"field": "state", "operator": "eq", "value": "closed"}], "date_range": {"from": "2026-01-01", "to": "2026-07-01"}, "limit": 1000}');
SELECT count(*) AS fixed_specs, sum(b.rows) AS rows, sum(b.mismatches) AS mismatches, count(*) FILTER (WHERE b.source = 'materialized') AS routed
FROM fixed f, LATERAL pg_temp.both_ways(f.spec) AS b;
-- Generated specs (a fixed seed): one to three sprint metrics with any allowed aggregation, up to two
-- groups, a filter and a range, a sort and a limit; the valid ones run both ways.
SELECT setseed(0.19);
CREATE TEMP TABLE gen AS
WITH m AS (SELECT array_agg(name ORDER BY name) AS names FROM analytics.metrics_catalog WHERE entity = 'sprint' AND is_active),
c AS (SELECT k, m.names[1 + floor(random() * cardinality(m.names))::int] AS m1, m.names[1 + floor(random() * cardinality(m.names))::int] AS m2,
             floor(random() * 3)::int AS nm, (ARRAY['avg', 'sum', 'min', 'max', 'p50', 'p90', NULL])[1 + floor(random() * 7)::int] AS agg,
             (ARRAY['[]', '["board"]', '["state"]', '["sprint"]', '["board", "state"]', '[{"field": "start_date", "interval": "quarter"}]', '["board", {"field": "end_date", "interval": "month"}]'])[1 + floor(random() * 7)::int]::jsonb AS g,
             (ARRAY['[]', '[{"field": "state", "operator": "eq", "value": "closed"}]', '[{"field": "state", "operator": "in", "value": ["active", "closed"]}]', '[{"field": "board", "operator": "is_not_null"}]'])[1 + floor(random() * 4)::int]::jsonb AS f,
             (ARRAY[NULL, '{"last_sprints": 3}', '{"last_sprints": 10}', '{"field": "complete_date", "from": "2026-02-01"}', '{"last": "90 days"}'])[1 + floor(random() * 5)::int]::jsonb AS r,
             (ARRAY[NULL, 3, 20])[1 + floor(random() * 3)::int] AS lim
      FROM m, generate_series(1, 400) AS k)
SELECT k, jsonb_strip_nulls(jsonb_build_object('entity', 'sprint',
         'metrics', CASE nm WHEN 0 THEN jsonb_build_array(m1) WHEN 1 THEN jsonb_build_array(jsonb_build_object('name', m1, 'aggregation', agg, 'alias', 'a1'))
                    ELSE jsonb_build_array(m1, jsonb_build_object('name', m2, 'aggregation', agg, 'alias', 'a2')) END,
         'group_by', g, 'filters', f, 'date_range', r, 'limit', lim)) AS spec
FROM c;
DELETE FROM gen WHERE NOT (analytics.analytics_validate(spec) ->> 'valid')::boolean;
SELECT count(*) >= 200 AS at_least_200_valid FROM gen;
SELECT count(*) AS specs, sum(b.rows) AS rows, sum(b.mismatches) AS mismatches, count(*) FILTER (WHERE b.source = 'materialized') AS routed,
       count(*) FILTER (WHERE b.source = 'none') AS reading_sprints_only
FROM (SELECT * FROM gen ORDER BY k LIMIT 240) g, LATERAL pg_temp.both_ways(g.spec) AS b;
-- Staleness is per tenant: a write to acme sends acme's sprint specs live; globex stays routed.
SELECT count(*) FROM analytics.analytics_refresh_views();
SELECT refreshed_at AS globex_refreshed FROM analytics.stats_refreshes WHERE tenant_id = 'globex' \gset
CREATE TEMP TABLE globex_before AS SELECT * FROM analytics.mv_sprint_stats_enriched WHERE tenant_id = 'globex';
UPDATE analytics.issues SET story_points = coalesce(story_points, 0) + 1 WHERE tenant_id = 'acme' AND id = (SELECT min(id) FROM analytics.issues WHERE tenant_id = 'acme');
SELECT analytics.analytics_run('{"entity": "sprint", "metrics": ["velocity"]}') -> 'source' ->> 'sprint_stats' AS acme_after_write;
SET analytics.tenant_id = 'globex';
SELECT analytics.analytics_run('{"entity": "sprint", "metrics": ["velocity"]}') -> 'source' ->> 'sprint_stats' AS globex_after_acme_write;
-- Only the stale tenant is refreshed; globex's rows and refresh time are untouched.
SELECT tenant_id, view_name FROM analytics.analytics_refresh_stale_stats() ORDER BY 1, 2;
SELECT refreshed_at = :'globex_refreshed' AS globex_untouched FROM analytics.stats_refreshes WHERE tenant_id = 'globex';
SELECT count(*) AS globex_rows_changed FROM ((TABLE globex_before EXCEPT ALL SELECT * FROM analytics.mv_sprint_stats_enriched WHERE tenant_id = 'globex')
  UNION ALL (SELECT * FROM analytics.mv_sprint_stats_enriched WHERE tenant_id = 'globex' EXCEPT ALL TABLE globex_before)) d;
SET analytics.tenant_id = 'acme';
SELECT analytics.analytics_run('{"entity": "sprint", "metrics": ["velocity"]}') -> 'source' ->> 'sprint_stats' AS acme_after_refresh;
SELECT * FROM analytics.analytics_refresh_stale_stats();
-- A catalog change (the problem score's weights) makes every tenant stale.
SELECT analytics.analytics_metric_deprecate('velocity') IS NOT NULL AS deprecated;
SELECT count(DISTINCT tenant_id) AS stale_tenants FROM analytics.analytics_refresh_stale_stats();
-- Errors and access.
SELECT * FROM analytics.analytics_refresh_stats(NULL);
SELECT * FROM analytics.analytics_refresh_stats('');
CREATE ROLE stats_reader NOLOGIN;
SELECT analytics.analytics_grant('stats_reader', 'reader');
SET ROLE stats_reader;
SELECT count(*) FROM analytics.mv_sprint_stats_enriched;
SELECT count(*) FROM analytics.stats_refreshes;
SELECT * FROM analytics.analytics_refresh_stats('acme');
SELECT count(*) > 0 AS reader_sees_own_stats FROM analytics.sprint_stats;
SELECT analytics.analytics_run('{"entity": "sprint", "metrics": ["completed_sp"]}') -> 'source' ->> 'sprint_stats' AS reader_source;
RESET ROLE;
DROP OWNED BY stats_reader;
DROP ROLE stats_reader;
