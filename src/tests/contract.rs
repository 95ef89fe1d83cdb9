//! The installed schema matches the contract in `analytics_core::schema`.

use pgrx::prelude::*;

#[pg_schema]
mod tests {
    use crate::tests::support::*;
    use analytics_core::schema::BASE_TABLES;
    use pgrx::prelude::*;

    #[pg_test]
    fn base_tables_match_the_contract_exactly() {
        for table in BASE_TABLES {
            let installed: Vec<(String, String, bool)> =
                Spi::connect(|client| {
                    let rows = client.select(
                        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
                     FROM pg_attribute a
                     WHERE a.attrelid = to_regclass('analytics.' || $1) AND a.attnum > 0 AND NOT a.attisdropped
                     ORDER BY a.attnum",
                        None,
                        &[table.name.into()],
                    )?;
                    rows.map(|r| Ok((r.get::<String>(1)?.unwrap(), r.get::<String>(2)?.unwrap(), r.get::<bool>(3)?.unwrap())))
                        .collect::<Result<Vec<_>, pgrx::spi::Error>>()
                })
                .expect("read pg_attribute");
            let expected: Vec<(String, String, bool)> =
                table.columns.iter().map(|c| (c.name.to_string(), c.sql_type.to_string(), c.nullable)).collect();
            assert_eq!(installed, expected, "columns of analytics.{}", table.name);
        }
    }

    /// The compiler reads analytics.issues instead of issue_facts when a query needs only these columns.
    #[pg_test]
    fn issue_facts_passes_the_issue_columns_through_row_for_row() {
        crate::tests::metrics::tests::load_fixture();
        let cols = analytics_core::schema::ISSUE_FACTS_FROM_ISSUES.join(", ");
        assert!(int("SELECT count(*) FROM analytics.issues") > 0);
        for (a, b) in [("issue_facts", "issues"), ("issues", "issue_facts")] {
            let q = format!("SELECT count(*) FROM (SELECT {cols} FROM analytics.{a} EXCEPT ALL SELECT {cols} FROM analytics.{b}) AS d");
            assert_eq!(int(&q), 0, "rows of {a} missing from {b}");
        }
    }

    #[pg_test]
    fn every_tenant_table_has_forced_rls_and_one_policy() {
        for table in BASE_TABLES.iter().filter(|t| t.tenant_scoped) {
            let q = format!(
                "SELECT (relrowsecurity AND relforcerowsecurity)::int::bigint FROM pg_class WHERE oid = 'analytics.{}'::regclass",
                table.name
            );
            assert_eq!(int(&q), 1, "RLS enabled and forced on {}", table.name);
            let q =
                format!("SELECT count(*) FROM pg_policies WHERE schemaname = 'analytics' AND tablename = '{}' AND cmd = 'ALL'", table.name);
            assert_eq!(int(&q), 1, "one policy on {}", table.name);
        }
    }

    #[pg_test]
    fn children_reference_parents_within_the_tenant() {
        // Every foreign key of a tenant table starts with tenant_id, so no row can point across tenants.
        let bad = int("SELECT count(*) FROM pg_constraint c
             WHERE c.contype = 'f' AND c.connamespace = 'analytics'::regnamespace
               AND (SELECT attname FROM pg_attribute WHERE attrelid = c.conrelid AND attnum = c.conkey[1]) <> 'tenant_id'");
        assert_eq!(bad, 0);
        let fks = int("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'analytics'::regnamespace");
        assert_eq!(
            fks, 9,
            "transitions, changes, comments, sprint_issues (2), job_results, jira_source_secrets, jira_source_issues, issue_embeddings"
        );
    }

    #[pg_test]
    fn current_tenant_is_null_unless_set() {
        set_tenant(None);
        assert_eq!(text("SELECT analytics.current_tenant()"), None);
        set_tenant(Some("acme"));
        assert_eq!(text("SELECT analytics.current_tenant()"), Some("acme".into()));
        assert_eq!(text("SELECT analytics.analytics_version() ->> 'tenant_id'"), Some("acme".into()));
        assert_eq!(text("SELECT analytics.analytics_version() ->> 'extension'"), Some(env!("CARGO_PKG_VERSION").into()));
    }

    #[pg_test]
    fn tenant_id_defaults_to_the_session_tenant() {
        set_tenant(Some("acme"));
        exec("INSERT INTO analytics.issues (issue_key, created_at) VALUES ('D-1', now())");
        assert_eq!(text("SELECT tenant_id FROM analytics.issues WHERE issue_key = 'D-1'"), Some("acme".into()));
    }

    #[pg_test]
    fn constraints_reject_bad_rows() {
        install_sqlstate_helper();
        set_tenant(None);
        let cases = [
            ("INSERT INTO analytics.issues (issue_key, created_at) VALUES ('N-1', now())", "23502"),
            ("INSERT INTO analytics.issues (tenant_id, issue_key, created_at) VALUES ('', 'E-1', now())", "23514"),
            ("INSERT INTO analytics.issues (tenant_id, issue_key, created_at, status_category) VALUES ('t', 'C-1', now(), 'doing')", "23514"),
            ("INSERT INTO analytics.issues (tenant_id, issue_key, created_at, story_points) VALUES ('t', 'P-1', now(), -1)", "23514"),
            ("INSERT INTO analytics.sprints (tenant_id, board, name, state) VALUES ('t', 'b', 's', 'open')", "23514"),
            ("INSERT INTO analytics.sprints (tenant_id, board, name, state) VALUES ('t', 'b', 's', 'closed')", "23514"),
            ("INSERT INTO analytics.sprints (tenant_id, board, name, start_date, end_date) VALUES ('t', 'b', 's', now(), now() - interval '1 day')", "23514"),
            ("INSERT INTO analytics.issue_changes (tenant_id, issue_id, field, changed_at) VALUES ('t', 1, 'Story Points', now())", "23514"),
        ];
        for (sql, state) in cases {
            assert_eq!(sqlstate_of(sql).as_deref(), Some(state), "{sql}");
        }
        exec("INSERT INTO analytics.issues (tenant_id, issue_key, created_at) VALUES ('t', 'U-1', now())");
        assert_eq!(
            sqlstate_of("INSERT INTO analytics.issues (tenant_id, issue_key, created_at) VALUES ('t', 'U-1', now())").as_deref(),
            Some("23505"),
            "issue keys are unique per tenant and instance"
        );
        exec("INSERT INTO analytics.issues (tenant_id, instance_id, issue_key, created_at) VALUES ('t', 'other', 'U-1', now())");
    }
}
