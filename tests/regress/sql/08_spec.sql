-- AnalyticsSpec: validate, compile, run, rows, explain, errors. Data: the hand-built metrics fixture.
CREATE EXTENSION agile_analytics CASCADE;
\i tests/fixtures/metrics_fixture.sql
CREATE ROLE regress_spec_reader NOLOGIN;
SELECT analytics.analytics_grant('regress_spec_reader', 'reader');
SET ROLE regress_spec_reader;
SET analytics.tenant_id = 'fx';
SELECT analytics.analytics_validate('{"metrics": ["lead_time_p50"], "group_by": ["priority"]}');
SELECT jsonb_pretty(analytics.analytics_validate('{"metrics": ["lead_tme_p50", {"name": "bug_count", "aggregation": "avg"}], "group_by": ["priorty"], "filters": [{"field": "tenant_id", "operator": "eq", "value": "other"}], "limit": 5000}'));
SELECT jsonb_pretty(analytics.analytics_compile('{"metrics": ["lead_time_p90", {"name": "bug_count", "alias": "bugs"}], "group_by": ["board", {"field": "resolved_at", "interval": "month"}], "filters": [{"field": "issue_type", "operator": "in", "value": ["Bug", "Story"]}], "date_range": {"field": "resolved_at", "from": "2025-01-01", "to": "2025-04-01"}, "sort_by": [{"field": "bugs", "direction": "desc"}], "limit": 20}'));
SELECT analytics.analytics_compile('{"metrics": ["cycle_time"]}') ->> 'spec_hash' = analytics.analytics_compile('{"metrics": [{"name": "cycle_time", "aggregation": "p50"}], "limit": 100}') ->> 'spec_hash' AS same_hash;
-- A literal is read as text (analytics_compile(text)): the same answer as its jsonb, and jsonb's own errors.
SELECT analytics.analytics_compile('{"limit": 5, "metrics": ["created"]}') = analytics.analytics_compile('{"metrics": ["created"], "limit": 5}'::jsonb) AS same_answer;
SELECT analytics.analytics_compile('{"metrics": ["created"], "limit": 5');
SELECT analytics.analytics_compile('{"metrics": ["\u0000"]}');
SELECT analytics.analytics_compile(NULL);
-- Results: rows keyed by column name.
SELECT jsonb_pretty(analytics.analytics_run('{"metrics": ["closed", "lead_time_p50", "story_points_closed"], "group_by": ["issue_type"]}') - 'query_ms' - 'sql');
SELECT r.value FROM jsonb_array_elements(analytics.analytics_run('{"metrics": ["created", "closed", "throughput_ratio"], "group_by": [{"field": "created_at", "interval": "month"}]}') -> 'rows') AS r;
SELECT * FROM analytics.analytics_rows('{"entity": "sprint", "metrics": ["planned_sp", "completed_sp", "spillover_ratio", "velocity"], "group_by": ["sprint"], "filters": [{"field": "state", "operator": "eq", "value": "closed"}]}');
SELECT * FROM analytics.analytics_rows('{"metrics": ["bug_count"], "group_by": ["label"], "sort_by": ["bug_count"]}');
SELECT * FROM analytics.analytics_rows('{"metrics": ["velocity", "completed_sp"], "group_by": ["board"], "date_range": {"last_sprints": 2}}');
SELECT * FROM analytics.analytics_rows('{"metrics": [{"name": "wip", "alias": "wip_feb_20"}, "stuck_count"], "date_range": {"to": "2025-02-20"}}');
SELECT * FROM analytics.analytics_rows('{"metrics": ["escaped_defects", {"name": "escaped_defects", "alias": "prod_only", "params": {"labels": ["production"]}}]}');
SELECT * FROM analytics.analytics_rows('{"metrics": ["closed"], "filters": [{"field": "assignee", "operator": "eq", "value": "x'');DROP TABLE analytics.issues;--"}]}');
SELECT (analytics.analytics_run('{"metrics": ["created"]}') -> 'rows' -> 0 ->> 'created')::int AS fx_created;
SET analytics.tenant_id = 'other';
SELECT (analytics.analytics_run('{"metrics": ["created"]}') -> 'rows' -> 0 ->> 'created')::int AS other_created;
SET analytics.tenant_id = 'nobody';
SELECT analytics.analytics_run('{"metrics": ["created", "lead_time_p50"], "group_by": ["priority"]}') -> 'rows' AS empty_tenant_rows;
-- Explain.
SET analytics.tenant_id = 'fx';
SELECT e ->> 'tenant_id' AS tenant, jsonb_typeof(e -> 'plan') AS plan, e -> 'spec' -> 'metrics' -> 0 ->> 'aggregation' AS default_aggregation, jsonb_array_length(e -> 'definitions') AS definitions FROM analytics.analytics_explain('{"metrics": ["throughput_ratio"]}') AS e;
-- Reading assigns no transaction ID (one would fail on a standby, and make a reading transaction flush
-- WAL at commit); only storing a result in the cache writes.
BEGIN;
SET LOCAL analytics.cache_ttl = 0;
SELECT analytics.analytics_run('{"metrics": ["created"]}') -> 'row_count' AS run_rows;
SELECT count(*) AS rows FROM analytics.analytics_rows('{"metrics": ["created"], "group_by": ["status"]}');
SELECT jsonb_typeof(analytics.analytics_explain('{"metrics": ["created"]}') -> 'plan') AS plan;
SELECT analytics.analytics_validate('{"metrics": ["created"]}') ->> 'valid' AS valid;
SELECT analytics.analytics_metric('created') ->> 'version' AS version;
SELECT pg_current_xact_id_if_assigned() IS NULL AS no_transaction_id;
COMMIT;
-- Errors.
SELECT analytics.analytics_run('{"metrics": ["velocty"]}');
SELECT analytics.analytics_run('{"metrics": ["created"], "filters": [{"field": "tenant_id", "operator": "eq", "value": "other"}]}');
SELECT analytics.analytics_run('{"metrics": ["created", "velocity"]}');
SELECT analytics.analytics_run('{"metrics": ["created"], "date_range": {"from": "2025-05-01", "to": "2025-01-01"}}');
SELECT analytics.analytics_run('[1, 2]');
SELECT analytics.analytics_run(NULL);
RESET analytics.tenant_id;
SELECT analytics.analytics_run('{"metrics": ["created"]}');
-- A query that runs too long is canceled with a hint (the slow metric is an admin's, made for this test).
RESET ROLE;
SELECT analytics.analytics_metric_upsert('{"name": "slow_count", "display_name": "Slow count", "description": "Counts issues, sleeping 0.2 s per issue.", "category": "test", "entity": "issue", "base_relation": "analytics.issue_facts", "sql_expression": "(SELECT 1 FROM pg_sleep(0.2))", "time_field": "created_at", "default_aggregation": "count", "allowed_aggregations": ["count"], "unit": "count"}') ->> 'version' AS version;
SET ROLE regress_spec_reader;
SET analytics.tenant_id = 'fx';
SET analytics.statement_timeout = 100;
SELECT analytics.analytics_run('{"metrics": ["slow_count"]}');
RESET analytics.statement_timeout;
RESET ROLE;
-- In a read-only transaction (as on a standby) specs are answered; functions that write refuse at once.
BEGIN READ ONLY;
SELECT analytics.analytics_run('{"metrics": ["created"]}') -> 'row_count' AS run_rows;
SELECT analytics.analytics_metric_deprecate('created');
ROLLBACK;
DROP EXTENSION agile_analytics CASCADE;
DROP ROLE regress_spec_reader;
