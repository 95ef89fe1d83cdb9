-- Each backend keeps the parsed catalog; a change made by another session reaches it at once.
CREATE EXTENSION agile_analytics CASCADE;
CREATE EXTENSION dblink;
SET analytics.tenant_id = 'acme';
SELECT analytics.analytics_validate('{"metrics": ["open_bugs"]}') ->> 'valid' AS known_before;
SELECT dblink_connect('other', 'dbname=' || current_database() || ' host=' || current_setting('unix_socket_directories') || ' port=' || current_setting('port'));
SELECT r FROM dblink('other', $$SELECT analytics.analytics_metric_upsert('{"name": "open_bugs", "display_name": "Open bugs", "description": "Bugs not resolved yet, by creation.", "category": "quality", "entity": "issue", "base_relation": "analytics.issue_facts", "sql_expression": "f.id", "filter": "f.issue_type = ''Bug'' AND f.resolved_at IS NULL", "time_field": "created_at", "default_aggregation": "count", "allowed_aggregations": ["count"], "unit": "count"}')::text$$) AS t(r text);
SELECT analytics.analytics_validate('{"metrics": ["open_bugs"]}') ->> 'valid' AS known_after;
SELECT r FROM dblink('other', $$SELECT analytics.analytics_metric_deprecate('open_bugs')::text$$) AS t(r text);
SELECT analytics.analytics_validate('{"metrics": ["open_bugs"]}') ->> 'valid' AS known_after_deprecation;
SELECT dblink_disconnect('other');
DROP EXTENSION dblink;
DROP EXTENSION agile_analytics CASCADE;
