-- What analytics_ask knows about a tenant's data: the distinct values a question may name, per
-- dimension (the most frequent 500 of each). Runs as the caller, so row-level security applies.

CREATE FUNCTION analytics._ask_values(p_tenant text) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH pairs AS (
        SELECT d.dim, d.v, count(*) AS n
        FROM analytics.issues i
        CROSS JOIN LATERAL (VALUES ('issue_type', i.issue_type), ('priority', i.priority), ('status', i.status),
                                   ('project', i.project_key), ('assignee', i.assignee), ('reporter', i.reporter),
                                   ('epic', i.epic_key)) AS d(dim, v)
        WHERE i.tenant_id = p_tenant AND d.v IS NOT NULL AND d.v <> ''
        GROUP BY d.dim, d.v
        UNION ALL
        SELECT 'label', l, count(*) FROM analytics.issues i, unnest(i.labels) AS l WHERE i.tenant_id = p_tenant GROUP BY l
        UNION ALL
        SELECT 'component', c, count(*) FROM analytics.issues i, unnest(i.components) AS c WHERE i.tenant_id = p_tenant GROUP BY c
        UNION ALL
        SELECT 'board', s.board, count(*) FROM analytics.sprints s WHERE s.tenant_id = p_tenant GROUP BY s.board
    ), ranked AS (
        SELECT dim, v, row_number() OVER (PARTITION BY dim ORDER BY n DESC, v) AS rn FROM pairs
    )
    SELECT coalesce(jsonb_object_agg(dim, vals), '{}')
    FROM (SELECT dim, jsonb_agg(v ORDER BY v) AS vals FROM ranked WHERE rn <= 500 GROUP BY dim) AS per_dim
$$;
COMMENT ON FUNCTION analytics._ask_values(text) IS 'Internal: the distinct values (at most 500 per dimension, most frequent first) that analytics_ask matches in questions, for one tenant; runs as the caller.';
