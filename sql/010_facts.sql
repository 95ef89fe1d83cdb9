-- The base relations metrics are computed on (documented in docs/catalog.md, "Base relations"):
--   analytics.issue_facts   one row per issue:  the issue's columns plus derived durations and counts
--   analytics.sprint_facts  one row per sprint: commitment, scope change, completion, velocity, z-scores
-- Both are security_invoker views: they run with the caller's rights, so row-level security applies.
-- Derived columns are scalar subqueries: a query pays only for the columns it reads.

-- A story-point value from the changelog's text ('3', ' 5.0 '); NULL for anything else.
CREATE FUNCTION analytics.to_points(v text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN v ~ '^\s*[0-9]{1,9}(\.[0-9]{1,6})?\s*$' THEN trim(v)::numeric END;
COMMENT ON FUNCTION analytics.to_points(text) IS 'Story points from changelog text; NULL when the text is not a non-negative number.';

-- The estimate of an issue in force at a moment: the last story_points change at or before it; before the
-- first change, that change's from_value; with no story_points history at all, the issue's current points.
CREATE FUNCTION analytics.points_at(p_issue_id bigint, p_at timestamptz) RETURNS numeric
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
COMMENT ON FUNCTION analytics.points_at(bigint, timestamptz) IS 'Story points of an issue as estimated at a moment (from issue_changes, falling back to the current estimate when there is no history).';

-- The status category of an issue at a moment: the last transition at or before it; before the first
-- transition, that transition's from_category (todo when unknown); with no history, the current category.
-- NULL before the issue was created.
CREATE FUNCTION analytics.category_at(p_issue_id bigint, p_at timestamptz) RETURNS text
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
COMMENT ON FUNCTION analytics.category_at(bigint, timestamptz) IS 'Status category (todo, in_progress, done) of an issue at a moment, from its transitions.';

-- The status name of an issue at a moment, by the rules of category_at (matching the tenant as well).
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

-- Hours an issue spent blocked until p_until: in one of p_statuses (by status history) or flagged (by
-- issue_changes field flagged), overlaps counted once.
CREATE FUNCTION analytics.blocked_hours(p_issue_id bigint, p_statuses text[], p_until timestamptz DEFAULT now())
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
COMMENT ON FUNCTION analytics.blocked_hours(bigint, text[], timestamptz) IS 'Hours an issue spent in any of the given statuses or flagged, until a moment (default now); overlapping spells count once.';

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

-- The columns derived from status history come from one LATERAL aggregate per issue: a query that uses
-- none of them does not join it (PostgreSQL removes a LEFT JOIN to a one-row aggregate whose columns are
-- unused), and one that does gets a nested loop rather than a subplan per column. Every join by id also
-- matches the tenant: ids are unique per tenant, and a role that bypasses row-level security sees all.
CREATE VIEW analytics.issue_facts WITH (security_invoker = true) AS
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
COMMENT ON VIEW analytics.issue_facts IS 'Base relation of issue metrics: one row per issue with derived facts (lead and cycle time, reopens, comments, first response, latest board and sprint). Runs as the caller: row-level security applies.';
COMMENT ON COLUMN analytics.issue_facts.lead_time_days IS 'resolved_at - created_at in days, for resolved issues (NULL when resolved before created: bad data).';
COMMENT ON COLUMN analytics.issue_facts.cycle_time_days IS 'First entry into an in-progress status to the last entry into a done status, in days, for issues that are done now (a reopened and re-done issue counts until its final done).';
COMMENT ON COLUMN analytics.issue_facts.reopen_count IS 'Transitions from a done category to a non-done one.';
COMMENT ON COLUMN analytics.issue_facts.first_response_hours IS 'Hours from creation to the first comment by someone other than the reporter.';
COMMENT ON COLUMN analytics.issue_facts.board IS 'Board of the sprint the issue was most recently added to (NULL: never in a sprint).';
COMMENT ON COLUMN analytics.issue_facts.sprint IS 'Name of the sprint the issue was most recently added to.';
