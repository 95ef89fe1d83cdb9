//! analytics_ingest_jira on the fixtures of tests/fixtures/jira: rows, hand-computed sprint metrics,
//! idempotence, updates in place, all-or-nothing, tenants and access.

use pgrx::prelude::*;

#[pg_schema]
mod tests {
    use crate::tests::support::*;
    use pgrx::prelude::*;

    const V2: &str = include_str!("../../tests/fixtures/jira/search_v2_server.json");
    const V3: &str = include_str!("../../tests/fixtures/jira/search_v3_cloud.json");
    const AGILE: &str = include_str!("../../tests/fixtures/jira/agile_sprints.json");
    const SINGLE: &str = include_str!("../../tests/fixtures/jira/single_issue.json");
    const OPTIONS: &str = r#"{"status_categories": {"Waiting for QA": "in_progress"}}"#;

    fn ingest(payload: &str, options: &str) -> serde_json::Value {
        let r = Spi::get_one_with_args::<pgrx::JsonB>(
            "SELECT analytics.analytics_ingest_jira($1::jsonb, $2::jsonb)",
            &[payload.into(), options.into()],
        )
        .unwrap()
        .unwrap();
        r.0
    }

    fn counts() -> Vec<i64> {
        ["issues", "issue_transitions", "issue_changes", "issue_comments", "sprints", "sprint_issues"]
            .iter()
            .map(|t| int(&format!("SELECT count(*) FROM analytics.{t}")))
            .collect()
    }

    fn writer() {
        exec("CREATE ROLE ingest_test_writer NOLOGIN");
        exec("SELECT analytics.analytics_grant('ingest_test_writer', 'writer')");
        exec("SET LOCAL ROLE ingest_test_writer");
    }

    fn sprint(name: &str, col: &str) -> Option<f64> {
        Spi::get_one_with_args::<f64>(&format!("SELECT {col}::float8 FROM analytics.sprint_facts WHERE name = $1"), &[name.into()]).unwrap()
    }

    #[pg_test]
    fn server_payload_loads_with_hand_computed_sprint_metrics() {
        writer();
        set_tenant(Some("jx"));
        let r = ingest(V2, OPTIONS);
        assert_eq!(r["issues_inserted"], 5, "{r}");
        assert_eq!(r["issues_updated"], 0);
        assert_eq!(r["transitions"], 3 + 5 + 4 + 1 + 2);
        assert_eq!(r["changes"], 1 + 2 + 2 + 2);
        assert_eq!(r["comments"], 1);
        assert_eq!(r["sprints"], 3);
        assert_eq!(r["memberships"], 1 + 3 + 1 + 1);
        assert_eq!(r["warnings"], serde_json::json!([]));
        assert_eq!(counts(), vec![5, 15, 7, 1, 3, 6]);
        assert_eq!(text("SELECT name FROM analytics.sprints WHERE external_id = 11"), Some("SRV Sprint 11, the first".into()));
        assert_eq!(text("SELECT board || ' ' || state FROM analytics.sprints WHERE external_id = 13"), Some("5 active".into()));
        let s11 = "SRV Sprint 11, the first";
        let s12 = "SRV Sprint 12";
        // Sprint 11: SRV-1 (3) and SRV-2 (5) at the start; SRV-3 added without points; SRV-2 removed (5).
        for (col, want) in [
            ("planned_sp", 8.0),
            ("added_sp", 0.0),
            ("removed_sp", 5.0),
            ("completed_sp", 3.0),
            ("spilled_sp", 0.0),
            ("planned_issues", 2.0),
            ("completed_issues", 2.0),
            ("spillover_ratio", 0.0),
            ("scope_churn_ratio", 0.625),
            ("accuracy_abs", 0.625),
            ("velocity", 3.0),
        ] {
            assert_eq!(sprint(s11, col), Some(want), "{s11} {col}");
        }
        // Sprint 12: SRV-2 planned at 5, re-estimated to 8, done then reopened before completion: spilled 8.
        for (col, want) in [
            ("planned_sp", 5.0),
            ("completed_sp", 0.0),
            ("spilled_sp", 8.0),
            ("spillover_ratio", 1.6),
            ("accuracy_abs", 1.0),
            ("velocity", 1.5),
        ] {
            assert_eq!(sprint(s12, col), Some(want), "{s12} {col}");
        }
        // Sprint 13 (active): SRV-2 carried over (8) and SRV-5 (2).
        assert_eq!(sprint("SRV Sprint 13", "planned_sp"), Some(10.0));
        assert_eq!(sprint("SRV Sprint 13", "completed_sp"), None);
        // Issue metrics read the loaded history: SRV-3 was blocked (flagged) for 24 hours; SRV-2 reopened once.
        assert_eq!(int("SELECT analytics.analytics_metric_value('reopened_count')::bigint"), 1);
        assert_eq!(int("SELECT analytics.analytics_metric_value('blocked_hours')::bigint"), 24);
        assert_eq!(int("SELECT analytics.analytics_metric_value('escaped_defects')::bigint"), 1);
    }

    #[pg_test]
    fn loading_again_updates_in_place() {
        writer();
        set_tenant(Some("jx"));
        ingest(V2, OPTIONS);
        let before = counts();
        let r = ingest(V2, OPTIONS);
        assert_eq!((r["issues_inserted"].as_i64(), r["issues_updated"].as_i64()), (Some(0), Some(5)), "{r}");
        assert_eq!(counts(), before, "the same payload twice leaves the same state");
        // A later export of one issue with one more comment replaces that issue's history.
        let mut single: serde_json::Value = serde_json::from_str(SINGLE).unwrap();
        single["fields"]["comment"]["comments"].as_array_mut().unwrap().push(
            serde_json::json!({"id": "2", "author": {"displayName": "Qa"}, "body": "Verified.", "created": "2025-03-07T10:00:00.000+0000"}),
        );
        single["fields"]["summary"] = serde_json::json!("SRV-1 renamed");
        let r = ingest(&single.to_string(), OPTIONS);
        assert_eq!(r["issues_updated"], 1);
        let mut after = before.clone();
        after[3] += 1;
        assert_eq!(counts(), after);
        assert_eq!(text("SELECT summary FROM analytics.issues WHERE issue_key = 'SRV-1'"), Some("SRV-1 renamed".into()));
    }

    #[pg_test]
    fn unknown_statuses_are_reported() {
        writer();
        set_tenant(Some("jx"));
        let r = ingest(V2, "{}");
        let w = r["warnings"].to_string();
        assert!(w.contains("Waiting for QA") && w.contains("status_categories"), "{w}");
        assert_eq!(int("SELECT count(*) FROM analytics.issue_transitions WHERE to_status = 'Waiting for QA' AND to_category IS NULL"), 1);
    }

    #[pg_test]
    fn cloud_payload_and_agile_sprints() {
        writer();
        set_tenant(Some("jx"));
        let r = ingest(AGILE, r#"{"boards": {"7": "Web team"}}"#);
        assert_eq!(r["sprints"], 3);
        let r = ingest(V3, r#"{"boards": {"7": "Web team"}}"#);
        assert_eq!(r["issues_inserted"], 2, "{r}");
        assert_eq!(
            text("SELECT goal FROM analytics.sprints WHERE external_id = 21"),
            Some("Ship checkout".into()),
            "an issue's copy keeps the sprint's goal"
        );
        assert_eq!(text("SELECT board FROM analytics.sprints WHERE external_id = 21"), Some("Web team".into()));
        assert_eq!(text("SELECT body FROM analytics.issue_comments"), Some("Reproduced.\nFix is up.".into()));
        assert_eq!(text("SELECT epic_key FROM analytics.issues WHERE issue_key = 'WEB-1'"), Some("WEB-100".into()));
        // WEB-1 (2 points) done in sprint 21; WEB-2 unestimated, carried over to 22.
        assert_eq!(sprint("WEB Sprint 1", "completed_sp"), Some(2.0));
        assert_eq!(sprint("WEB Sprint 1", "completed_issues"), Some(1.0));
        assert_eq!(
            int("SELECT count(*) FROM analytics.sprint_issues si JOIN analytics.sprints s ON s.id = si.sprint_id WHERE s.external_id = 22"),
            1
        );
    }

    #[pg_test]
    fn malformed_payloads_write_nothing() {
        install_sqlstate_helper();
        writer();
        set_tenant(Some("jx"));
        ingest(V2, OPTIONS);
        let before = counts();
        let mut broken: serde_json::Value = serde_json::from_str(V2).unwrap();
        broken["issues"][4]["fields"]["created"] = serde_json::json!("not a date");
        broken["issues"][0]["fields"]["summary"] = serde_json::json!("changed, but must not be written");
        let sql = format!("SELECT analytics.analytics_ingest_jira('{}')", broken.to_string().replace('\'', "''"));
        assert_eq!(sqlstate_of(&sql).as_deref(), Some("22023"));
        assert_eq!(counts(), before);
        assert_eq!(text("SELECT summary FROM analytics.issues WHERE issue_key = 'SRV-1'"), Some("SRV-1 summary".into()));
        for bad in ["'[1]'", "'{\"issues\": [{\"key\": 5}]}'", "'{}'", "NULL", "'{\"issues\": []}', '{\"colour\": 1}'"] {
            let state = sqlstate_of(&format!("SELECT analytics.analytics_ingest_jira({bad})"));
            assert!(matches!(state.as_deref(), Some("22023") | Some("22004")), "{bad}: {state:?}");
        }
    }

    #[pg_test]
    fn tenants_and_access() {
        install_sqlstate_helper();
        writer();
        set_tenant(None);
        assert_eq!(
            sqlstate_of(&format!("SELECT analytics.analytics_ingest_jira('{}')", SINGLE.replace('\'', "''"))).as_deref(),
            Some("42501")
        );
        set_tenant(Some("ja"));
        ingest(V2, OPTIONS);
        set_tenant(Some("jb"));
        let r = ingest(V2, OPTIONS);
        assert_eq!(r["issues_inserted"], 5, "another tenant gets its own rows");
        assert_eq!(int("SELECT count(*) FROM analytics.issues"), 5, "and sees only those");
        exec("RESET ROLE");
        exec("CREATE ROLE ingest_test_reader NOLOGIN");
        exec("SELECT analytics.analytics_grant('ingest_test_reader', 'reader')");
        exec("SET LOCAL ROLE ingest_test_reader");
        assert_eq!(
            sqlstate_of(&format!("SELECT analytics.analytics_ingest_jira('{}')", SINGLE.replace('\'', "''"))).as_deref(),
            Some("42501")
        );
    }
}
