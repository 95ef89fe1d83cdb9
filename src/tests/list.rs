//! List specs on the hand-built fixture (tests/fixtures/metrics_fixture.md): which issues are stuck,
//! blocked, reopened, in progress, with the numbers that qualified them; a list's length equals the count
//! metric over the same filters; lists are tenant-scoped, explained, cached and publishable as views.

use pgrx::prelude::*;

#[pg_schema]
mod tests {
    use crate::tests::metrics::tests::load_fixture;
    use crate::tests::support::*;
    use pgrx::prelude::*;

    /// "key=value" per row for the given columns, in row order.
    fn rows(spec: &str, cols: &[&str]) -> Vec<String> {
        let per_col: Vec<Vec<String>> = cols.iter().map(|c| column(spec, c)).collect();
        (0..per_col.first().map_or(0, Vec::len))
            .map(|i| cols.iter().zip(&per_col).map(|(c, v)| format!("{c}={}", v[i])).collect::<Vec<_>>().join(" "))
            .collect()
    }

    fn num(v: &str) -> String {
        format!("{:.4}", v.parse::<f64>().unwrap_or(f64::NAN))
    }

    #[pg_test]
    fn lists_name_the_issues_computed_by_hand() {
        load_fixture();
        set_tenant(Some("fx"));
        // Stuck at 02-20 00:00 (5 days without a move): ALP-9, last moved 02-11 09:00, 8.625 days.
        let stuck = r#"{"fields": ["key", "summary", "status", "assignee", "days_in_status"], "filters": [{"metric": "stuck_count"}], "date_range": {"to": "2025-02-20"}}"#;
        assert_eq!(
            rows(stuck, &["key", "summary", "status", "assignee"]),
            vec!["key=ALP-9 summary=Stuck in progress status=In Progress assignee=dev2"]
        );
        assert_eq!(column(stuck, "days_in_status").iter().map(|v| num(v)).collect::<Vec<_>>(), vec!["8.6250"]);
        // In progress at 02-20: ALP-9 (8.625 days in progress), ALP-10 (1.625), oldest first.
        let wip = r#"{"fields": ["key", "ageing_wip"], "filters": [{"metric": "wip"}], "date_range": {"to": "2025-02-20"}}"#;
        assert_eq!(column(wip, "key"), vec!["ALP-9", "ALP-10"]);
        assert_eq!(column(wip, "ageing_wip").iter().map(|v| num(v)).collect::<Vec<_>>(), vec!["8.6250", "1.6250"]);
        // Unassigned work in progress: ALP-10.
        let unassigned = r#"{"fields": ["key"], "filters": [{"metric": "wip_no_assignee"}], "date_range": {"to": "2025-02-20"}}"#;
        assert_eq!(column(unassigned, "key"), vec!["ALP-10"]);
        // Blocked: ALP-4 48 h in Blocked, ALP-6 6 h flagged; most first.
        let blocked = r#"{"fields": ["key", "blocked_hours"], "filters": [{"metric": "blocked_hours", "operator": "gt", "value": 0}]}"#;
        assert_eq!(column(blocked, "key"), vec!["ALP-4", "ALP-6"]);
        assert_eq!(column(blocked, "blocked_hours").iter().map(|v| num(v)).collect::<Vec<_>>(), vec!["48.0000", "6.0000"]);
        let long = r#"{"fields": ["key"], "filters": [{"metric": "blocked_hours", "operator": "gte", "value": 10}]}"#;
        assert_eq!(column(long, "key"), vec!["ALP-4"]);
        // Reopened: ALP-3, once.
        let reopened = r#"{"fields": ["key", "reopen_count"], "filters": [{"metric": "reopened_count"}]}"#;
        assert_eq!(rows(reopened, &["key", "reopen_count"]), vec!["key=ALP-3 reopen_count=1"]);
        // Bugs: ALP-3 and ALP-8, by key; escaped defects labelled production: ALP-3.
        assert_eq!(
            column(r#"{"fields": ["key"], "filters": [{"metric": "bug_count"}], "sort_by": ["key"]}"#, "key"),
            vec!["ALP-3", "ALP-8"]
        );
        assert_eq!(
            column(r#"{"fields": ["key"], "filters": [{"metric": "escaped_defects", "params": {"labels": ["production"]}}]}"#, "key"),
            vec!["ALP-3"]
        );
        // Still open at 02-20: ALP-7 the longest where it is (to do since 01-25 09:00: 25.625 days).
        let open = r#"{"fields": ["key", "days_in_status"], "filters": [{"field": "status_category", "operator": "ne", "value": "done"}], "date_range": {"to": "2025-02-20"}, "limit": 1}"#;
        assert_eq!(column(open, "key"), vec!["ALP-7"]);
        assert_eq!(num(&column(open, "days_in_status")[0]), "25.6250");
        // Lead times of resolved stories, longest first, through a per-issue column.
        let lead = r#"{"fields": ["key", "lead_time_days"], "filters": [{"metric": "closed"}], "sort_by": [{"field": "lead_time_days", "direction": "desc"}], "limit": 2}"#;
        assert_eq!(column(lead, "lead_time_days").iter().map(|v| num(v)).collect::<Vec<_>>(), vec!["25.0000", "21.0000"]);
    }

    #[pg_test]
    fn a_list_is_as_long_as_the_count_over_the_same_filters() {
        load_fixture();
        set_tenant(Some("fx"));
        let counts: Vec<String> = Spi::connect(|c| {
            c.select(
                "SELECT name FROM analytics.metrics_catalog WHERE entity = 'issue' AND 'count' = ANY (allowed_aggregations) AND kind <> 'formula' ORDER BY name",
                None,
                &[],
            )?
            .map(|r| r.get::<String>(1).map(|v| v.unwrap_or_default()))
            .collect::<Result<Vec<_>, _>>()
        })
        .unwrap();
        assert!(counts.len() >= 10, "{counts:?}");
        let filter_sets = [
            "[]",
            r#"[{"field": "issue_type", "operator": "eq", "value": "Story"}]"#,
            r#"[{"field": "priority", "operator": "in", "value": ["High", "Highest", "Medium"]}, {"field": "assignee", "operator": "is_not_null"}]"#,
        ];
        let ranges = [r#"{"to": "2025-02-20"}"#, r#"{"from": "2025-01-05", "to": "2025-01-20"}"#];
        let mut compared = 0;
        for m in &counts {
            for f in filter_sets {
                for r in ranges {
                    let agg = format!(r#"{{"metrics": [{{"name": "{m}", "aggregation": "count"}}], "filters": {f}, "date_range": {r}}}"#);
                    let count = int(&format!("SELECT coalesce((analytics.analytics_run('{agg}') -> 'rows' -> 0 ->> '{m}')::bigint, 0)"));
                    let filters = f.trim_end_matches(']').to_string() + if f == "[]" { "" } else { ", " };
                    let list =
                        format!(r#"{{"fields": ["key"], "filters": {}{{"metric": "{m}"}}], "date_range": {r}, "limit": 1000}}"#, filters);
                    let listed = int(&format!("SELECT (analytics.analytics_run('{list}') ->> 'row_count')::bigint"));
                    assert_eq!(listed, count, "{m} {f} {r}");
                    compared += 1;
                }
            }
        }
        assert_eq!(compared, counts.len() * 6);
    }

    #[pg_test]
    fn lists_are_tenant_scoped_explained_cached_and_publishable() {
        load_fixture();
        set_tenant(Some("other"));
        let all = r#"{"fields": ["key", "summary"], "limit": 1000}"#;
        let keys = column(all, "key");
        assert_eq!(keys.len(), 1, "tenant other has one issue: {keys:?}");
        assert!(!keys.iter().any(|k| k.starts_with("ALP-")));
        set_tenant(Some("fx"));
        assert_eq!(column(all, "key").len(), 10);
        // The explanation says it is a list, and the SQL filters by tenant with a parameter.
        let explained = text(&format!("SELECT analytics.analytics_explain('{all}')::text")).unwrap();
        assert!(explained.contains("\"fields\"") && explained.contains("f.tenant_id = $1"), "{explained}");
        // Cached like any spec: the second run is served from the cache.
        let first = text(&format!("SELECT analytics.analytics_run('{all}') ->> 'cached'"));
        let second = text(&format!("SELECT analytics.analytics_run('{all}') ->> 'cached'"));
        assert_eq!((first.as_deref(), second.as_deref()), (Some("false"), Some("true")));
        // A published list is a drill-through view for BI tools, scoped to the reader's tenant.
        exec(&format!(
            "SELECT analytics.analytics_create_view('stuck_drill', '{}')",
            r#"{"fields": ["key", "status"], "filters": [{"metric": "wip"}], "date_range": {"to": "2025-02-20"}}"#
        ));
        assert_eq!(int("SELECT count(*) FROM analytics_views.stuck_drill"), 2);
        set_tenant(Some("other"));
        // Tenant other's one issue was in progress (Blocked) from 01-02 to 03-01.
        assert_eq!(text("SELECT string_agg(key, ',') FROM analytics_views.stuck_drill"), Some("OTH-1".into()));
    }

    #[pg_test]
    fn hostile_and_wrong_lists_fail_with_sqlstate_and_hint() {
        install_sqlstate_helper();
        set_tenant(Some("fx"));
        for spec in [
            r#"{"fields": ["tenant_id"]}"#,
            r#"{"fields": ["key\"; DROP TABLE analytics.issues; --"]}"#,
            r#"{"fields": [{"name": "summary", "alias": "x\" FROM pg_authid --"}]}"#,
            r#"{"fields": ["key"], "metrics": ["bug_count"]}"#,
            r#"{"fields": ["bug_count"]}"#,
            r#"{"metrics": ["bug_count"], "filters": [{"metric": "stuck_count"}]}"#,
        ] {
            assert_eq!(
                sqlstate_of(&format!("SELECT analytics.analytics_run('{}')", spec.replace('\'', "''"))).as_deref(),
                Some("22023"),
                "{spec}"
            );
        }
        assert!(int("SELECT count(*) FROM analytics.issues") >= 0, "the table is still there");
    }
}
