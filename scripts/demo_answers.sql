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

\echo '-- Which sprints spilled over most last quarter? (points still open at completion / points in the sprint)'
WITH closed AS (
    SELECT id, board, name, complete_date
    FROM analytics.sprints
    WHERE state = 'closed'
      AND complete_date >= date_trunc('quarter', now()) - interval '3 months'
      AND complete_date < date_trunc('quarter', now())
), members AS (
    SELECT c.id AS sprint_id, coalesce(i.story_points, 0) AS sp,
           (si.removed_at IS NULL OR si.removed_at > c.complete_date) AS at_completion,
           (SELECT t.to_category FROM analytics.issue_transitions t
             WHERE t.issue_id = si.issue_id AND t.changed_at <= c.complete_date
             ORDER BY t.changed_at DESC LIMIT 1) AS category_at_completion
    FROM closed c
    JOIN analytics.sprint_issues si ON si.sprint_id = c.id
    JOIN analytics.issues i ON i.id = si.issue_id
)
SELECT c.board, c.name AS sprint, c.complete_date::date AS completed,
       sum(m.sp) AS points_in_sprint,
       sum(m.sp) FILTER (WHERE m.at_completion AND m.category_at_completion IS DISTINCT FROM 'done') AS points_spilled,
       round(sum(m.sp) FILTER (WHERE m.at_completion AND m.category_at_completion IS DISTINCT FROM 'done')
             / nullif(sum(m.sp), 0), 2) AS spillover_ratio
FROM closed c JOIN members m ON m.sprint_id = c.id
GROUP BY c.id, c.board, c.name, c.complete_date
ORDER BY spillover_ratio DESC NULLS LAST, c.complete_date
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
