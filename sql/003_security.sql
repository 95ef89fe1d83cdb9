-- Tenant isolation, enforced by PostgreSQL: row-level security on every tenant-scoped table.
-- Fail-closed: with analytics.tenant_id unset or empty, analytics.current_tenant() is NULL and no row
-- matches. FORCE makes the table owner obey the policies too (superusers and BYPASSRLS roles still
-- bypass RLS, as everywhere in PostgreSQL). WITH CHECK rejects writes of another tenant's rows.

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['issues', 'issue_transitions', 'issue_changes', 'issue_comments',
                             'sprints', 'sprint_issues'] LOOP
        EXECUTE format('ALTER TABLE analytics.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE analytics.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON analytics.%I
                           USING (tenant_id = analytics.current_tenant())
                           WITH CHECK (tenant_id = analytics.current_tenant())$p$, t);
    END LOOP;
END
$$;

-- What each access level of analytics_grant() includes. Later parts of the extension add their objects
-- here, so one function keeps granting the right set. Levels are cumulative: writer includes reader,
-- admin includes writer.
CREATE TABLE analytics.access_privileges (
    access      text NOT NULL CHECK (access IN ('reader', 'writer', 'admin')),
    object_type text NOT NULL CHECK (object_type IN ('schema', 'table', 'sequence', 'function')),
    object_name text NOT NULL,
    privileges  text NOT NULL CHECK (privileges ~ '^[A-Z]+(, [A-Z]+)*$'),
    PRIMARY KEY (access, object_type, object_name)
);
COMMENT ON TABLE analytics.access_privileges IS 'What analytics_grant() grants for each access level (reader < writer < admin).';

INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges)
SELECT 'reader', 'table', 'analytics.' || t, 'SELECT'
FROM unnest(ARRAY['issues', 'issue_transitions', 'issue_changes', 'issue_comments', 'sprints',
                  'sprint_issues', 'metrics_catalog', 'metrics_builtin', 'metrics_user']) AS t
UNION ALL
SELECT 'writer', 'table', 'analytics.' || t, 'INSERT, UPDATE, DELETE'
FROM unnest(ARRAY['issues', 'issue_transitions', 'issue_changes', 'issue_comments', 'sprints',
                  'sprint_issues']) AS t
UNION ALL
SELECT 'admin', 'table', 'analytics.metrics_user', 'INSERT, UPDATE, DELETE'
UNION ALL
SELECT 'reader', 'schema', 'analytics', 'USAGE'
UNION ALL
SELECT 'reader', 'function', 'analytics.current_tenant()', 'EXECUTE';

-- Sequences behind the identity columns: writers need them to insert.
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges)
SELECT 'writer', 'sequence', pg_get_serial_sequence('analytics.' || t, 'id'), 'USAGE, SELECT'
FROM unnest(ARRAY['issues', 'issue_transitions', 'issue_changes', 'issue_comments', 'sprints',
                  'sprint_issues']) AS t;

CREATE FUNCTION analytics.analytics_grant(role regrole, access text) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    levels text[];
    p record;
    n integer := 0;
BEGIN
    IF role IS NULL OR access IS NULL THEN
        RAISE EXCEPTION 'role and access must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Call analytics_grant(''some_role'', ''reader''), ''writer'', ''admin'' or ''none''.';
    END IF;
    levels := CASE lower(access)
        WHEN 'reader' THEN ARRAY['reader']
        WHEN 'writer' THEN ARRAY['reader', 'writer']
        WHEN 'admin'  THEN ARRAY['reader', 'writer', 'admin']
        WHEN 'none'   THEN ARRAY[]::text[]
    END;
    IF levels IS NULL THEN
        RAISE EXCEPTION 'unknown access level "%"', access
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Access levels are reader, writer, admin (each includes the ones before it) and none.',
                  HINT = 'Use analytics_grant(role, ''reader''), ''writer'', ''admin'' or ''none''.';
    END IF;

    -- Start from nothing, so lowering a role's level really takes privileges away.
    FOR p IN SELECT DISTINCT ap.object_type, ap.object_name FROM analytics.access_privileges ap LOOP
        IF p.object_type = 'schema' THEN
            EXECUTE format('REVOKE ALL ON SCHEMA %I FROM %s', p.object_name, role);
        ELSIF p.object_type = 'function' THEN
            EXECUTE format('REVOKE ALL ON FUNCTION %s FROM %s', p.object_name::regprocedure, role);
        ELSIF p.object_type = 'sequence' THEN
            EXECUTE format('REVOKE ALL ON SEQUENCE %s FROM %s', p.object_name::regclass, role);
        ELSE
            EXECUTE format('REVOKE ALL ON TABLE %s FROM %s', p.object_name::regclass, role);
        END IF;
    END LOOP;

    FOR p IN SELECT ap.object_type, ap.object_name, ap.privileges FROM analytics.access_privileges ap
             WHERE ap.access = ANY (levels) ORDER BY ap.object_type = 'schema' DESC, ap.object_name LOOP
        IF p.object_type = 'schema' THEN
            EXECUTE format('GRANT %s ON SCHEMA %I TO %s', p.privileges, p.object_name, role);
        ELSIF p.object_type = 'function' THEN
            EXECUTE format('GRANT %s ON FUNCTION %s TO %s', p.privileges, p.object_name::regprocedure, role);
        ELSIF p.object_type = 'sequence' THEN
            EXECUTE format('GRANT %s ON SEQUENCE %s TO %s', p.privileges, p.object_name::regclass, role);
        ELSE
            EXECUTE format('GRANT %s ON TABLE %s TO %s', p.privileges, p.object_name::regclass, role);
        END IF;
        n := n + 1;
    END LOOP;
    RETURN format('%s: %s (%s grants)', role, lower(access), n);
END
$$;
COMMENT ON FUNCTION analytics.analytics_grant(regrole, text) IS
  'Give a role access to agile_analytics: reader (read tenant data and the catalog, call read functions), writer (reader + insert/update/delete tenant data), admin (writer + edit the metrics catalog and run maintenance), or none (revoke all). Replaces the role''s previous level. RLS still limits every level to the tenant in analytics.tenant_id. Only the extension owner (or a superuser) can call it.';
REVOKE ALL ON FUNCTION analytics.analytics_grant(regrole, text) FROM PUBLIC;
