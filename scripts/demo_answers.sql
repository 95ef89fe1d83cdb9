-- Example answers printed by `make demo`, run as role agile_reader (its tenant is acme).
\pset footer off
\echo '-- Who am I, and what can I see?'
SELECT current_user AS role, analytics.current_tenant() AS tenant,
       (SELECT count(*) FROM analytics.issues) AS issues,
       (SELECT count(*) FROM analytics.sprints) AS sprints,
       (SELECT count(DISTINCT board) FROM analytics.sprints) AS boards;

\echo '-- Without a tenant, row-level security shows nothing:'
SET analytics.tenant_id = '';
SELECT count(*) AS issues_visible_without_tenant FROM analytics.issues;
RESET analytics.tenant_id;

\echo '-- Key numbers of the last 90 days, from the metrics catalog (analytics_metric_value):'
SELECT name AS metric, unit,
       round(analytics.analytics_metric_value(name, '{}', now() - interval '90 days', now()), 2) AS value
FROM analytics.metrics_catalog
WHERE name IN ('created', 'closed', 'throughput_ratio', 'lead_time_p50', 'lead_time_p90', 'cycle_time',
               'reopen_rate', 'escaped_defects', 'wip', 'stuck_count', 'first_response_hours')
ORDER BY array_position(ARRAY['created', 'closed', 'throughput_ratio', 'lead_time_p50', 'lead_time_p90',
                              'cycle_time', 'reopen_rate', 'escaped_defects', 'wip', 'stuck_count',
                              'first_response_hours'], name);

\echo '-- The most problematic closed sprints (z-scores against their board; analytics.sprint_stats):'
SELECT board, name AS sprint, complete_date::date AS completed, planned_sp, completed_sp,
       round(spillover_ratio, 2) AS spillover, round(scope_churn_ratio, 2) AS churn,
       round(sprint_problematic_score, 2) AS problem_score
FROM analytics.sprint_stats
WHERE state = 'closed'
ORDER BY sprint_problematic_score DESC NULLS LAST
LIMIT 5;

\echo '-- Which sprints spilled over most last quarter? (spillover_ratio = points open at completion / (planned + added))'
SELECT board, name AS sprint, complete_date::date AS completed, planned_sp, added_sp, spilled_sp,
       round(spillover_ratio, 2) AS spillover_ratio
FROM analytics.sprint_stats
WHERE complete_date >= date_trunc('quarter', now()) - interval '3 months'
  AND complete_date < date_trunc('quarter', now())
ORDER BY spillover_ratio DESC NULLS LAST, complete_date
LIMIT 5;

\echo '-- Lead time (created -> resolved) of issues resolved in the last 90 days, by project'
SELECT project_key AS project, count(*) AS resolved,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at) / 86400)::numeric, 1) AS p50_days,
       round(percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at) / 86400)::numeric, 1) AS p90_days
FROM analytics.issues
WHERE resolved_at >= now() - interval '90 days' AND issue_type <> 'Epic'
GROUP BY project_key
ORDER BY project_key;

\echo '-- Created vs closed, last 6 months'
SELECT to_char(m, 'YYYY-MM') AS month,
       (SELECT count(*) FROM analytics.issues WHERE created_at >= m AND created_at < m + interval '1 month') AS created,
       (SELECT count(*) FROM analytics.issues WHERE resolved_at >= m AND resolved_at < m + interval '1 month') AS closed
FROM generate_series(date_trunc('month', now()) - interval '5 months', date_trunc('month', now()), interval '1 month') AS m
ORDER BY m;

\echo '-- In-progress issues that have not moved for more than 5 days'
SELECT i.issue_key, i.status, i.assignee,
       round(extract(epoch FROM now() - max(t.changed_at))::numeric / 86400, 1) AS days_since_last_move
FROM analytics.issues i
JOIN analytics.issue_transitions t ON t.issue_id = i.id
WHERE i.status_category = 'in_progress' AND i.issue_type <> 'Epic'
GROUP BY i.id, i.issue_key, i.status, i.assignee
HAVING max(t.changed_at) < now() - interval '5 days'
ORDER BY days_since_last_move DESC
LIMIT 5;

\echo ''
\echo '================ analytics_ask: questions in plain English (builtin translator, no LLM) ================'
\echo '-- SELECT analytics_ask(''what was our velocity over the last 6 sprints by board?'')'
SELECT a ->> 'explanation' AS explanation FROM analytics_ask('what was our velocity over the last 6 sprints by board?') AS a;
SELECT r ->> 'board' AS board, round((r ->> 'velocity')::numeric, 1) AS velocity
FROM analytics_ask('what was our velocity over the last 6 sprints by board?') AS a, jsonb_array_elements(a -> 'rows') AS r;
\echo '-- SELECT analytics_ask(''which sprints spilled over most last quarter?'')'
SELECT a ->> 'explanation' AS explanation FROM analytics_ask('which sprints spilled over most last quarter?') AS a;
SELECT r ->> 'sprint' AS sprint, round((r ->> 'spillover_ratio')::numeric, 3) AS spillover_ratio
FROM analytics_ask('which sprints spilled over most last quarter?') AS a, jsonb_array_elements(a -> 'rows') AS r LIMIT 5;
\echo '-- SELECT analytics_ask(''median lead time of bugs by priority in the last 90 days'')'
SELECT r ->> 'priority' AS priority, round((r ->> 'lead_time_p50')::numeric, 1) AS median_days
FROM analytics_ask('median lead time of bugs by priority in the last 90 days') AS a, jsonb_array_elements(a -> 'rows') AS r;
\echo '-- A question it cannot map with confidence gets a question back, never a guess:'
SELECT a ->> 'status' AS status, a -> 'clarification' ->> 'reason' AS reason,
       jsonb_path_query_array(a, '$.clarification.candidates[*].description') AS candidates
FROM analytics_ask('How many frontend bugs were created last month?') AS a;
