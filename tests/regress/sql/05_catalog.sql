-- The metrics catalog: listing, looking up, checking, editing, errors.
CREATE EXTENSION agile_analytics CASCADE;
SELECT category, count(*) AS metrics FROM analytics.metrics_catalog GROUP BY category ORDER BY category;
SELECT name, entity, kind, unit, default_aggregation, version, source FROM analytics.analytics_metrics() ORDER BY name;
SELECT name FROM analytics.analytics_metrics('quality');
SELECT name FROM analytics.analytics_metrics(search => 'Spill');
SELECT name FROM analytics.analytics_metrics(search => '100%_');
SELECT count(*) AS problems FROM analytics.analytics_catalog_check();
SELECT jsonb_pretty(analytics.analytics_metric('escaped_defects') - 'created_at' - 'updated_at');
SELECT analytics.analytics_metric('velocty');
SELECT analytics.analytics_metric('lead_time_p95');
SELECT analytics.analytics_metric('zzz');
SELECT analytics.analytics_metric(NULL);
-- Creating a metric: every problem is reported in DETAIL, and nothing is written.
SELECT analytics.analytics_metric_upsert('{"name": "Bad Name", "display_name": "x", "description": "y", "category": "z", "entity": "issue", "base_relation": "analytics.issues", "sql_expression": "f.id; DROP TABLE analytics.issues", "default_aggregation": "sum", "allowed_aggregations": ["count"], "unit": "count"}');
SELECT analytics.analytics_metric_upsert('{"name": "x", "display_name": "x"}');
SELECT analytics.analytics_metric_upsert('{"name": "x", "display_name": "x", "description": "y", "category": "z", "entity": "issue", "base_relation": "analytics.issue_facts", "sql_expression": "f.id", "time_field": "created_at", "default_aggregation": "count", "allowed_aggregations": ["count"], "unit": "count", "dependencies": ["x"]}');
SELECT analytics.analytics_metric_upsert('{"name": "x", "display_name": "x", "description": "y", "category": "z", "entity": "issue", "base_relation": "analytics.issue_facts", "sql_expression": "pg_sleep(f.id)::text::int + f.missing", "time_field": "created_at", "default_aggregation": "sum", "allowed_aggregations": ["sum"], "unit": "count"}');
SELECT count(*) AS user_rows FROM analytics.metrics_user;
SELECT analytics.analytics_metric_upsert('{"name": "high_priority_bugs", "display_name": "High-priority bugs", "description": "Bugs of priority High or Highest created in the period.", "category": "quality", "entity": "issue", "base_relation": "analytics.issue_facts", "sql_expression": "f.id", "filter": "f.issue_type = ''Bug'' AND f.priority = ANY ({{priorities}})", "parameters": {"priorities": {"type": "text[]", "default": ["High", "Highest"], "description": "Priorities that count."}}, "time_field": "created_at", "default_aggregation": "count", "allowed_aggregations": ["count"], "unit": "count", "synonyms": ["urgent bugs"]}');
SELECT name, version, source, is_active FROM analytics.metrics_catalog WHERE name = 'high_priority_bugs';
SELECT analytics.analytics_metric_deprecate('high_priority_bugs');
SELECT count(*) AS listed FROM analytics.analytics_metrics(search => 'urgent');
SELECT analytics.analytics_metric_activate('high_priority_bugs');
SELECT count(*) AS listed FROM analytics.analytics_metrics(search => 'urgent');
SELECT count(*) AS problems FROM analytics.analytics_catalog_check();
-- Values for the session tenant (there is no data here, so counts are 0 and percentiles NULL).
SET analytics.tenant_id = 'acme';
SELECT analytics.analytics_metric_value('created') AS created, analytics.analytics_metric_value('lead_time_p50') AS lead_time_p50, analytics.analytics_metric_value('throughput_ratio') AS throughput_ratio;
SELECT analytics.analytics_metric_value('stuck_count', '{"days": "five"}');
SELECT analytics.analytics_metric_value('stuck_count', '{"weeks": 2}');
-- Scheduling needs pg_cron, which this database does not have.
SELECT analytics.analytics_schedule_refresh();
SELECT analytics.analytics_unschedule_refresh();
SELECT view_name FROM analytics.analytics_refresh_views(false) ORDER BY 1;
SELECT analytics.analytics_refresh_views(NULL);
DROP EXTENSION agile_analytics CASCADE;
