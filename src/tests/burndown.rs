//! Sprint burndown and burnup on the metrics fixture: the daily scope, done and remaining points of each
//! sprint and the guideline, computed by hand (tests/fixtures/metrics_fixture.md, "Burndown"); the
//! function behind them agrees with sprint_facts at every sprint's start and completion; the series'
//! span, grid and errors.

use pgrx::prelude::*;

#[pg_schema]
mod tests {
    use crate::tests::metrics::tests::load_fixture;
    use crate::tests::support::*;
    use pgrx::prelude::*;

    fn numbers(spec: &str, col: &str) -> Vec<f64> {
        column(spec, col).iter().map(|v| v.parse::<f64>().unwrap_or_else(|_| panic!("{col}: {v:?} in {spec}"))).collect()
    }

    fn fixture() {
        load_fixture();
        set_tenant(Some("fx"));
        exec("SET LOCAL analytics.cache_ttl = 0");
        exec("SET LOCAL TimeZone = 'UTC'");
    }

    fn burn(sprint: &str) -> String {
        format!(
            r#"{{"metrics": ["sprint_scope_sp", "sprint_done_sp", "sprint_remaining_sp", "sprint_guideline_sp"],
                "group_by": [{{"field": "as_of", "interval": "day"}}],
                "filters": [{{"field": "sprint", "operator": "eq", "value": "{sprint}"}}]}}"#
        )
    }

    fn days(first: u32, n: u32, month: &str) -> Vec<String> {
        (first..first + n).map(|d| format!("2025-{month}-{d:02}")).collect()
    }

    #[pg_test]
    fn alpha_1_burns_down_day_by_day_from_its_start_to_its_completion() {
        fixture();
        let spec = burn("Alpha 1");
        // 01-06 (start 09:00) to 01-20 (completed 08:00): 15 days, each measured at its end.
        assert_eq!(column(&spec, "as_of_day"), days(6, 15, "01"));
        // ALP-3 added 01-08; done 01-09, reopened 01-12, done 01-13. ALP-4 removed 01-10 09:00 while ALP-2
        // went from 5 to 8 at 12:00; ALP-1 done 01-10; ALP-5 (unestimated) done 01-15 counts 0 points.
        let scope = [13, 13, 15, 15, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13];
        let done = [0, 0, 0, 2, 5, 5, 3, 5, 5, 5, 5, 5, 5, 5, 5];
        assert_eq!(numbers(&spec, "sprint_scope_sp"), scope.map(f64::from));
        assert_eq!(numbers(&spec, "sprint_done_sp"), done.map(f64::from));
        let remaining: Vec<f64> = scope.iter().zip(done).map(|(s, d)| f64::from(s - d)).collect();
        assert_eq!(numbers(&spec, "sprint_remaining_sp"), remaining);
        // The guideline: 13 points at the start falling to 0 at the planned end (14 days later); a day's
        // end is 0.625 days + k after the 09:00 start; the last day is read at the completion (13 d 23 h).
        let guide = numbers(&spec, "sprint_guideline_sp");
        for (k, g) in guide.iter().enumerate().take(14) {
            let want = 13.0 * (1.0 - (k as f64 + 0.625) / 14.0);
            assert!((g - want).abs() < 1e-6, "day {k}: {g} vs {want}");
        }
        assert!((guide[14] - 13.0 * (1.0 - (13.0 + 23.0 / 24.0) / 14.0)).abs() < 1e-6, "{}", guide[14]);
    }

    #[pg_test]
    fn alpha_2_and_3_burn_with_late_estimates_and_mid_sprint_additions() {
        fixture();
        // Alpha 2: ALP-6 unestimated until 01-21 10:00 (3 points), ALP-2 done 01-23, ALP-4 done 01-28.
        let spec = burn("Alpha 2");
        assert_eq!(column(&spec, "as_of_day"), [days(20, 12, "01"), days(1, 3, "02")].concat());
        let scope = [13, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16];
        let remaining = [13, 16, 16, 8, 8, 8, 8, 8, 3, 3, 3, 3, 3, 3, 3];
        assert_eq!(numbers(&spec, "sprint_scope_sp"), scope.map(f64::from));
        assert_eq!(numbers(&spec, "sprint_remaining_sp"), remaining.map(f64::from));
        // Alpha 3: ALP-8 added 02-04; ALP-6 done 02-05, ALP-8 02-06; ALP-7 never starts.
        let spec = burn("Alpha 3");
        assert_eq!(column(&spec, "as_of_day"), days(3, 15, "02"));
        let mut scope = vec![11.0];
        scope.extend([12.0; 14]);
        let mut done = vec![0.0, 0.0, 3.0];
        done.extend([4.0; 12]);
        assert_eq!(numbers(&spec, "sprint_scope_sp"), scope);
        assert_eq!(numbers(&spec, "sprint_done_sp"), done);
    }

    #[pg_test]
    fn the_burn_agrees_with_sprint_facts_at_start_and_completion() {
        fixture();
        // At its start a sprint's scope is planned_sp (and its issue count planned_issues); at its
        // completion done is completed_sp and remaining spilled_sp: for every closed sprint of both tenants.
        exec("SET LOCAL analytics.tenant_id = ''");
        let bad = int("SELECT count(*) FROM analytics.sprints s, LATERAL (SELECT * FROM analytics.sprint_facts f WHERE f.tenant_id = s.tenant_id AND f.sprint_id = s.id) f
             WHERE s.state = 'closed' AND (
                (analytics.sprint_burn_at(s.tenant_id, s.id, s.start_date)).scope_sp IS DISTINCT FROM f.planned_sp
             OR (analytics.sprint_burn_at(s.tenant_id, s.id, s.start_date)).scope_issues IS DISTINCT FROM f.planned_issues
             OR (analytics.sprint_burn_at(s.tenant_id, s.id, s.complete_date)).done_sp IS DISTINCT FROM f.completed_sp
             OR (analytics.sprint_burn_at(s.tenant_id, s.id, s.complete_date)).remaining_sp IS DISTINCT FROM f.spilled_sp
             OR (analytics.sprint_burn_at(s.tenant_id, s.id, 'infinity')).done_sp IS DISTINCT FROM f.completed_sp)");
        let closed = int("SELECT count(*) FROM analytics.sprints WHERE state = 'closed'");
        assert_eq!(bad, 0, "every closed sprint ({closed}) agrees");
        assert!(closed >= 3, "{closed}");
        // Ids are per tenant: another tenant's id names nothing.
        assert_eq!(int("SELECT (analytics.sprint_burn_at('fx', 901, now())).scope_issues"), 0);
    }

    #[pg_test]
    fn sprint_series_span_grid_scalar_and_errors() {
        fixture();
        // The last sprint per board: Alpha 3's days.
        let last = r#"{"metrics": ["sprint_remaining_sp"], "group_by": [{"field": "as_of", "interval": "day"}], "date_range": {"last_sprints": 1}}"#;
        assert_eq!(column(last, "as_of_day"), days(3, 15, "02"));
        // Grouped by sprint over a range: a row per sprint and day it ran; 01-20 has Alpha 1 (at its
        // completion) and Alpha 2.
        let grid = r#"{"metrics": ["sprint_remaining_sp"], "group_by": [{"field": "as_of", "interval": "day"}, "sprint"],
                       "date_range": {"from": "2025-01-19", "to": "2025-01-22"}}"#;
        assert_eq!(column(grid, "as_of_day"), ["2025-01-19", "2025-01-20", "2025-01-20", "2025-01-21"]);
        assert_eq!(column(grid, "sprint"), ["Alpha 1", "Alpha 1", "Alpha 2", "Alpha 2"]);
        assert_eq!(numbers(grid, "sprint_remaining_sp"), [8.0, 8.0, 13.0, 16.0]);
        // Without other groups every bucket is a row: the sprints running in it summed, 0 when none ran.
        let sum = r#"{"metrics": ["sprint_remaining_sp"], "group_by": [{"field": "as_of", "interval": "day"}],
                      "date_range": {"from": "2025-01-19", "to": "2025-01-22"}}"#;
        assert_eq!(numbers(sum, "sprint_remaining_sp"), [8.0, 21.0, 16.0]);
        let after = r#"{"metrics": ["sprint_remaining_sp"], "group_by": [{"field": "as_of", "interval": "week"}],
                        "date_range": {"from": "2025-03-03", "to": "2025-03-17"}}"#;
        assert_eq!(numbers(after, "sprint_remaining_sp"), [0.0, 0.0]);
        // One number: every sprint now (closed ones at their completion) leaves its spill, 8 + 3 + 8.
        assert_eq!(numbers(r#"{"metrics": ["sprint_remaining_sp"]}"#, "sprint_remaining_sp"), [19.0]);
        let at = r#"{"metrics": [{"name": "sprint_scope_sp", "params": {"as_of": "2025-01-21 12:00+00"}}], "group_by": ["sprint"]}"#;
        assert_eq!(column(at, "sprint"), ["Alpha 1", "Alpha 2", "Alpha 3", "Alpha 4"]);
        // Alpha 1 at its completion; Alpha 3 before its start: what was planned into it by then (nothing:
        // ALP-7 is created on 01-25); Alpha 4 (future) has no burn.
        assert_eq!(column(at, "sprint_scope_sp"), ["13", "16", "0", ""]);
        // A sprint statistic is no series; a series is no place for a sprint's own dates.
        let err = |spec: &str| {
            text(&format!(
                "SELECT string_agg((e ->> 'path') || ':' || (e ->> 'code'), ',') FROM jsonb_array_elements(analytics.analytics_validate('{spec}'::jsonb) -> 'errors') AS e"
            ))
            .unwrap_or_default()
        };
        assert_eq!(err(r#"{"metrics": ["velocity"], "group_by": [{"field": "as_of", "interval": "day"}]}"#), "$.metrics[0]:not_in_series");
        assert_eq!(
            err(
                r#"{"metrics": ["sprint_done_sp"], "group_by": [{"field": "as_of", "interval": "day"}, {"field": "start_date", "interval": "week"}]}"#
            ),
            "$.group_by[0]:series_with_date_group"
        );
    }

    #[pg_test]
    fn ask_draws_the_current_sprints_burndown() {
        fixture();
        // Make Alpha 3 the running sprint (as if not completed yet).
        exec("SET LOCAL analytics.tenant_id = ''");
        exec("UPDATE analytics.sprints SET state = 'active', complete_date = NULL WHERE id = 103");
        set_tenant(Some("fx"));
        let a: serde_json::Value =
            text("SELECT analytics.analytics_ask('show the burndown of the current sprint', '{\"chart\": true}')::text")
                .map(|t| serde_json::from_str(&t).unwrap())
                .unwrap();
        assert_eq!(a["status"], "answered", "{a}");
        let spec = a["spec"].to_string();
        assert!(spec.contains("sprint_remaining_sp") && spec.contains("sprint_guideline_sp"), "{spec}");
        let rows = a["rows"].as_array().unwrap_or_else(|| panic!("{a}"));
        // From 02-03 to today, one row per day (up to the spec's limit).
        assert!(rows.len() >= 15, "{}", rows.len());
        assert_eq!(rows[0]["as_of_day"], "2025-02-03");
        assert_eq!(rows[2]["sprint_remaining_sp"].as_f64(), Some(9.0), "{}", rows[2]);
        assert_eq!(a["chart"]["mark"]["type"], "line", "{}", a["chart"]);
    }
}
