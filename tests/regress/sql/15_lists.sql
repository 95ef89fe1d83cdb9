-- List specs: "fields" instead of "metrics" returns the issues (or sprints) themselves, with the number
-- that qualified them; a filter {"metric": ...} keeps the rows that metric counts. Data: the metrics fixture.
CREATE EXTENSION agile_analytics CASCADE;
\i tests/fixtures/metrics_fixture.sql
CREATE ROLE regress_list_reader NOLOGIN;
SELECT analytics.analytics_grant('regress_list_reader', 'reader');
SET ROLE regress_list_reader;
SET analytics.tenant_id = 'fx';
-- Stuck and in-progress work at 2025-02-20, oldest first.
SELECT * FROM analytics.analytics_rows('{"fields": ["key", "summary", "status", "assignee", "days_in_status"], "filters": [{"metric": "stuck_count"}], "date_range": {"to": "2025-02-20"}}');
SELECT * FROM analytics.analytics_rows('{"fields": ["key", "assignee", {"name": "ageing_wip", "alias": "days_in_progress"}], "filters": [{"metric": "wip"}], "date_range": {"to": "2025-02-20"}}');
-- Blocked more than 0 hours (statuses Blocked, or flagged), most first; reopened issues; bugs by key.
SELECT * FROM analytics.analytics_rows('{"fields": ["key", "blocked_hours"], "filters": [{"metric": "blocked_hours", "operator": "gt", "value": 0}]}');
SELECT * FROM analytics.analytics_rows('{"fields": ["key", "summary", "reopen_count"], "filters": [{"metric": "reopened_count"}]}');
SELECT * FROM analytics.analytics_rows('{"fields": ["key", "priority", "label"], "filters": [{"metric": "bug_count"}], "sort_by": ["key"]}');
-- A date range without a field applies to the metric filter's own date (closed: resolved_at), or to creation.
SELECT * FROM analytics.analytics_rows('{"fields": ["key", "resolved_at", "lead_time_days"], "filters": [{"metric": "closed"}], "date_range": {"from": "2025-01-10", "to": "2025-02-01"}, "sort_by": [{"field": "lead_time_days", "direction": "desc"}]}');
SELECT analytics.analytics_explain('{"fields": ["key"], "date_range": {"last": "30 days"}}') -> 'spec' -> 'date_range' AS defaulted_range;
-- Sprints can be listed too, with their per-sprint values.
SELECT * FROM analytics.analytics_rows('{"entity": "sprint", "fields": ["sprint", "state", "velocity", "spillover_ratio"], "filters": [{"field": "state", "operator": "eq", "value": "closed"}], "sort_by": ["sprint"]}');
-- The SQL: columns from the whitelist, values as parameters, the tenant as $1.
SELECT analytics.analytics_compile('{"fields": ["key", "days_in_status"], "filters": [{"metric": "stuck_count", "params": {"days": 7}}], "limit": 20}') ->> 'sql' AS sql;
SELECT analytics.analytics_compile('{"fields": ["key", "days_in_status"], "filters": [{"metric": "stuck_count", "params": {"days": 7}}], "limit": 20}') -> 'columns' AS columns;
-- Questions: list phrasing gets a list, "how many" a count (dry runs: the spec and the sentence).
SELECT a -> 'spec' AS spec, a ->> 'explanation' AS explanation FROM analytics.analytics_ask('list the stuck issues', '{"dry_run": true}') AS a;
SELECT a -> 'spec' AS spec, a ->> 'explanation' AS explanation FROM analytics.analytics_ask('how many issues are stuck', '{"dry_run": true}') AS a;
SELECT a -> 'spec' AS spec, a ->> 'explanation' AS explanation FROM analytics.analytics_ask('show me open high priority bugs', '{"dry_run": true}') AS a;
SELECT a -> 'spec' AS spec, a ->> 'explanation' AS explanation FROM analytics.analytics_ask('which issues are in progress', '{"dry_run": true}') AS a;
-- No issue of this tenant is in a status named Blocked now, so "blocked" is no value it knows: a question back.
SELECT a ->> 'status' AS status, a ->> 'explanation' AS explanation FROM analytics.analytics_ask('which issues are blocked', '{"dry_run": true}') AS a;
-- Tenant other sees its own issue only.
SET analytics.tenant_id = 'other';
SELECT * FROM analytics.analytics_rows('{"fields": ["key", "summary"]}');
SET analytics.tenant_id = 'fx';
-- Errors: SQLSTATE 22023 with every problem, its path and a hint.
\set VERBOSITY verbose
SELECT analytics.analytics_run('{"fields": ["key", "tenant_id", "bug_count", "sumary"]}');
SELECT analytics.analytics_run('{"fields": ["key\"; DROP TABLE analytics.issues; --", {"name": "summary", "alias": "x\" FROM pg_authid --"}]}');
SELECT analytics.analytics_run('{"fields": ["key"], "metrics": ["bug_count"], "group_by": ["assignee"]}');
SELECT analytics.analytics_run('{"metrics": ["bug_count"], "filters": [{"metric": "stuck_count"}]}');
SELECT analytics.analytics_run('{"fields": ["key"], "filters": [{"metric": "bug_count", "operator": "gt", "value": 1}, {"metric": "net_flow"}]}');
SELECT count(*) AS issues_still_there FROM analytics.issues;
RESET ROLE;
DROP EXTENSION agile_analytics CASCADE;
DROP ROLE regress_list_reader;
