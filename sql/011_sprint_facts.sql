-- analytics.sprint_facts: one row per sprint, the base relation of sprint metrics (definitions in
-- catalog/sprint_health.toml, throughput.toml, composite.toml). Membership comes from sprint_issues
-- intervals; estimates and statuses are taken as of the moment that matters (start, add, removal,
-- completion) from issue_changes and issue_transitions, with the same rules as analytics.points_at and
-- analytics.category_at, written as joins so that a full refresh does not call a function per member.
-- Every join matches the tenant as well as the id: the materialized copy is refreshed as the extension
-- owner, whom row-level security does not limit, and ids are unique only per tenant.

CREATE VIEW analytics.sprint_facts WITH (security_invoker = true) AS
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

COMMENT ON VIEW analytics.sprint_facts IS 'Base relation of sprint metrics: one row per sprint with planned/added/removed/completed/spilled story points, spillover, scope churn, planning error, velocity, z-scores against the board''s closed sprints and the problem score. Computed live; analytics.sprint_stats serves the materialized copy. Runs as the caller: row-level security applies.';
COMMENT ON COLUMN analytics.sprint_facts.planned_sp IS 'Points of issues in the sprint at start_date (added at or before it, not removed by then), as estimated at start_date.';
COMMENT ON COLUMN analytics.sprint_facts.added_sp IS 'Points of issues added after start_date and before complete_date (now, for an active sprint), as estimated when added.';
COMMENT ON COLUMN analytics.sprint_facts.removed_sp IS 'Points of issues removed after start_date and before complete_date, as estimated when removed.';
COMMENT ON COLUMN analytics.sprint_facts.completed_sp IS 'Closed sprints: points (as estimated at complete_date) of issues in the sprint at completion and done by then.';
COMMENT ON COLUMN analytics.sprint_facts.spilled_sp IS 'Closed sprints: points of issues in the sprint at completion and not done.';
COMMENT ON COLUMN analytics.sprint_facts.spillover_ratio IS 'spilled_sp / (planned_sp + added_sp); NULL when the divisor is 0.';
COMMENT ON COLUMN analytics.sprint_facts.scope_churn_ratio IS '(added_sp + removed_sp) / planned_sp; NULL when planned_sp is 0.';
COMMENT ON COLUMN analytics.sprint_facts.accuracy_abs IS 'Closed sprints: |completed_sp - planned_sp| / planned_sp; NULL when planned_sp is 0.';
COMMENT ON COLUMN analytics.sprint_facts.velocity IS 'Closed sprints: completed_sp averaged over this sprint and the board''s two previous closed sprints.';
COMMENT ON COLUMN analytics.sprint_facts.sprint_problematic_score IS 'Closed sprints: weighted sum (weights from the catalog) of spillover_ratio_z, scope_churn_ratio_z, accuracy_abs_z and -completed_sp_z; an undefined z counts as 0.';

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
