//! Tenant isolation as a non-superuser: for every tenant table, tenant A can neither read, update,
//! delete nor insert tenant B's rows, and a session without a tenant sees nothing.

use pgrx::prelude::*;

#[pg_schema]
mod tests {
    use crate::tests::support::*;
    use analytics_core::schema::BASE_TABLES;
    use pgrx::prelude::*;

    const A: &str = "tenant_a";
    const B: &str = "tenant_b";

    /// One row per table for each tenant, written as the superuser. Returns B's (issue id, sprint id).
    fn seed_two_tenants() -> (i64, i64) {
        let mut ids = (0, 0);
        for t in [A, B] {
            let issue = int(&format!(
                "INSERT INTO analytics.issues (tenant_id, issue_key, project_key, summary, created_at)
                 VALUES ('{t}', 'K-1', 'K', 'secret of {t}', '2025-01-01') RETURNING id"
            ));
            let sprint = int(&format!(
                "INSERT INTO analytics.sprints (tenant_id, external_id, board, name, state, start_date, end_date)
                 VALUES ('{t}', 1, 'Board', 'Sprint 1', 'active', '2025-01-02', '2025-01-16') RETURNING id"
            ));
            exec(&format!(
                "INSERT INTO analytics.issue_transitions (tenant_id, issue_id, from_status, to_status, from_category, to_category, changed_at)
                 VALUES ('{t}', {issue}, 'To Do', 'In Progress', 'todo', 'in_progress', '2025-01-03')"
            ));
            exec(&format!(
                "INSERT INTO analytics.issue_changes (tenant_id, issue_id, field, from_value, to_value, changed_at)
                 VALUES ('{t}', {issue}, 'story_points', NULL, '3', '2025-01-01')"
            ));
            exec(&format!(
                "INSERT INTO analytics.issue_comments (tenant_id, issue_id, author, body, created_at)
                 VALUES ('{t}', {issue}, 'x', 'hello', '2025-01-04')"
            ));
            exec(&format!(
                "INSERT INTO analytics.sprint_issues (tenant_id, sprint_id, issue_id, added_at)
                 VALUES ('{t}', {sprint}, {issue}, '2025-01-01')"
            ));
            ids = (issue, sprint);
        }
        ids
    }

    /// An INSERT of one row into `table` for `tenant`, linked to the given issue and sprint.
    fn insert_sql(table: &str, tenant: &str, issue: i64, sprint: i64) -> String {
        match table {
            "issues" => format!("INSERT INTO analytics.issues (tenant_id, issue_key, created_at) VALUES ('{tenant}', 'NEW-1', now())"),
            "issue_transitions" => format!("INSERT INTO analytics.issue_transitions (tenant_id, issue_id, to_status, changed_at) VALUES ('{tenant}', {issue}, 'Done', now())"),
            "issue_changes" => format!("INSERT INTO analytics.issue_changes (tenant_id, issue_id, field, changed_at) VALUES ('{tenant}', {issue}, 'priority', now())"),
            "issue_comments" => format!("INSERT INTO analytics.issue_comments (tenant_id, issue_id, body, created_at) VALUES ('{tenant}', {issue}, 'hi', now())"),
            "sprints" => format!("INSERT INTO analytics.sprints (tenant_id, board, name) VALUES ('{tenant}', 'Board', 'New')"),
            "sprint_issues" => format!("INSERT INTO analytics.sprint_issues (tenant_id, sprint_id, issue_id, added_at) VALUES ('{tenant}', {sprint}, {issue}, now())"),
            other => panic!("no insert for {other}"),
        }
    }

    fn make_role(name: &str, access: &str) {
        exec(&format!("CREATE ROLE {name} NOLOGIN NOSUPERUSER NOBYPASSRLS"));
        exec(&format!("SELECT analytics.analytics_grant('{name}', '{access}')"));
    }

    #[pg_test]
    fn writer_of_tenant_a_cannot_touch_tenant_b() {
        install_sqlstate_helper();
        let (b_issue, b_sprint) = seed_two_tenants();
        let a_issue = int(&format!("SELECT id FROM analytics.issues WHERE tenant_id = '{A}'"));
        let a_sprint = int(&format!("SELECT id FROM analytics.sprints WHERE tenant_id = '{A}'"));
        make_role("rls_test_writer", "writer");
        exec("SET LOCAL ROLE rls_test_writer");
        assert_eq!(text("SELECT current_user::text"), Some("rls_test_writer".into()));

        set_tenant(None);
        for t in BASE_TABLES {
            assert_eq!(int(&format!("SELECT count(*) FROM analytics.{}", t.name)), 0, "no tenant: {} must look empty", t.name);
            assert_eq!(
                sqlstate_of(&insert_sql(t.name, A, a_issue, a_sprint)).as_deref(),
                Some("42501"),
                "no tenant: insert into {} must be refused",
                t.name
            );
        }

        set_tenant(Some(A));
        for t in BASE_TABLES {
            let name = t.name;
            assert_eq!(int(&format!("SELECT count(*) FROM analytics.{name}")), 1, "A sees its own row in {name}");
            assert_eq!(int(&format!("SELECT count(*) FROM analytics.{name} WHERE tenant_id = '{B}'")), 0, "A reads B in {name}");
            assert_eq!(
                int(&format!("WITH u AS (UPDATE analytics.{name} SET tenant_id = tenant_id WHERE tenant_id = '{B}' RETURNING 1) SELECT count(*) FROM u")),
                0,
                "A updates B in {name}"
            );
            assert_eq!(
                int(&format!("WITH d AS (DELETE FROM analytics.{name} WHERE tenant_id = '{B}' RETURNING 1) SELECT count(*) FROM d")),
                0,
                "A deletes B in {name}"
            );
            assert_eq!(sqlstate_of(&insert_sql(name, B, b_issue, b_sprint)).as_deref(), Some("42501"), "A inserts a row of B into {name}");
            assert_eq!(
                sqlstate_of(&format!("UPDATE analytics.{name} SET tenant_id = '{B}'")).as_deref(),
                Some("42501"),
                "A hands its row in {name} to B"
            );
        }
        // A row of A cannot point at B's issue or sprint either (the foreign keys include tenant_id).
        for name in ["issue_transitions", "issue_changes", "issue_comments", "sprint_issues"] {
            assert_eq!(sqlstate_of(&insert_sql(name, A, b_issue, b_sprint)).as_deref(), Some("23503"), "A links {name} to B's rows");
        }
        // A's own writes work.
        for t in BASE_TABLES {
            assert_eq!(sqlstate_of(&insert_sql(t.name, A, a_issue, a_sprint)), None, "A inserts into {}", t.name);
        }
        assert_eq!(int("WITH d AS (DELETE FROM analytics.issues WHERE issue_key = 'NEW-1' RETURNING 1) SELECT count(*) FROM d"), 1);

        exec("RESET ROLE");
        for t in BASE_TABLES {
            assert_eq!(
                int(&format!("SELECT count(*) FROM analytics.{} WHERE tenant_id = '{B}'", t.name)),
                1,
                "B's row in {} is intact",
                t.name
            );
        }
        assert_eq!(text(&format!("SELECT summary FROM analytics.issues WHERE tenant_id = '{B}'")), Some(format!("secret of {B}")));
    }

    #[pg_test]
    fn reader_reads_its_tenant_and_writes_nothing() {
        install_sqlstate_helper();
        let (_, _) = seed_two_tenants();
        let a_issue = int(&format!("SELECT id FROM analytics.issues WHERE tenant_id = '{A}'"));
        let a_sprint = int(&format!("SELECT id FROM analytics.sprints WHERE tenant_id = '{A}'"));
        make_role("rls_test_reader", "reader");
        exec("SET LOCAL ROLE rls_test_reader");
        set_tenant(Some(A));
        for t in BASE_TABLES {
            assert_eq!(int(&format!("SELECT count(*) FROM analytics.{}", t.name)), 1);
            assert_eq!(sqlstate_of(&insert_sql(t.name, A, a_issue, a_sprint)).as_deref(), Some("42501"), "reader inserts into {}", t.name);
            assert_eq!(sqlstate_of(&format!("DELETE FROM analytics.{}", t.name)).as_deref(), Some("42501"));
        }
        exec("RESET ROLE");
        let shipped = int("SELECT jsonb_array_length(analytics._catalog_builtin())");
        exec("SET LOCAL ROLE rls_test_reader");
        assert_eq!(int("SELECT count(*) FROM analytics.metrics_catalog"), shipped, "the catalog is shared by all tenants");
        assert_eq!(
            sqlstate_of("INSERT INTO analytics.metrics_user (name, display_name, description, category, version, entity, base_relation, sql_expression, default_aggregation, allowed_aggregations, unit) VALUES ('x','x','x','x',1,'issue','x','x','count','{count}','count')").as_deref(),
            Some("42501"),
            "only admins edit the catalog"
        );
        assert_eq!(
            sqlstate_of("SELECT analytics.analytics_grant('rls_test_reader', 'admin')").as_deref(),
            Some("42501"),
            "readers cannot grant"
        );
    }

    #[pg_test]
    fn grant_levels_replace_each_other_and_bad_levels_fail() {
        install_sqlstate_helper();
        make_role("rls_test_role", "admin");
        let has = |privilege: &str| {
            int(&format!("SELECT has_table_privilege('rls_test_role', 'analytics.metrics_user', '{privilege}')::int::bigint"))
        };
        assert_eq!(has("INSERT"), 1);
        exec("SELECT analytics.analytics_grant('rls_test_role', 'reader')");
        assert_eq!(has("INSERT"), 0, "lowering the level revokes");
        assert_eq!(has("SELECT"), 1);
        exec("SELECT analytics.analytics_grant('rls_test_role', 'none')");
        assert_eq!(has("SELECT"), 0);
        assert_eq!(int("SELECT has_schema_privilege('rls_test_role', 'analytics', 'USAGE')::int::bigint"), 0);
        assert_eq!(sqlstate_of("SELECT analytics.analytics_grant('rls_test_role', 'owner')").as_deref(), Some("22023"));
        assert_eq!(sqlstate_of("SELECT analytics.analytics_grant('no_such_role_x', 'reader')").as_deref(), Some("42704"));
        assert_eq!(sqlstate_of("SELECT analytics.analytics_grant('rls_test_role', NULL)").as_deref(), Some("22004"));
    }
}
