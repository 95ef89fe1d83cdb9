//! As_of series (`{"field": "as_of", "interval": ...}`) on the metrics fixture: hand-computed weekly
//! cumulative flow, created vs closed and net flow (tests/fixtures/metrics_fixture.md, "Series"); the
//! state form of snapshots (one pass over the history) gives the same rows as evaluating the metric's
//! filter at every bucket's end, also on edge cases of the history; every issue metric runs as a series.

use pgrx::prelude::*;

#[pg_schema]
mod tests {
    use crate::tests::metrics::tests::load_fixture;
    use crate::tests::support::*;
    use pgrx::prelude::*;

    /// Every row of a spec as text, in order.
    fn rows(spec: &str) -> Vec<String> {
        Spi::connect(|c| {
            c.select("SELECT r::text FROM analytics.analytics_rows($1::jsonb) AS r", None, &[spec.into()])?
                .map(|r| r.get::<String>(1).map(|v| v.unwrap_or_default()))
                .collect::<Result<Vec<_>, _>>()
        })
        .unwrap_or_else(|e| panic!("{spec}: {e}"))
    }

    fn nums(v: &[i64]) -> Vec<String> {
        v.iter().map(i64::to_string).collect()
    }

    const WEEKS: &str = r#""group_by": [{"field": "as_of", "interval": "week"}], "date_range": {"from": "2025-01-06", "to": "2025-02-24"}"#;

    fn fixture() {
        load_fixture();
        set_tenant(Some("fx"));
        exec("SET LOCAL analytics.cache_ttl = 0");
    }

    #[pg_test]
    fn weekly_cumulative_flow_is_the_state_at_each_week_end() {
        fixture();
        let spec = format!(r#"{{"metrics": ["backlog_count", "wip", "done_count"], {WEEKS}}}"#);
        let weeks = column(&spec, "as_of_week");
        assert_eq!(weeks, ["2025-01-06", "2025-01-13", "2025-01-20", "2025-01-27", "2025-02-03", "2025-02-10", "2025-02-17"]);
        assert_eq!(column(&spec, "backlog_count"), nums(&[2, 2, 2, 1, 1, 2, 1]));
        assert_eq!(column(&spec, "wip"), nums(&[2, 1, 1, 1, 0, 1, 2]));
        assert_eq!(column(&spec, "done_count"), nums(&[1, 3, 4, 5, 7, 7, 7]));
        // Every issue created by a week's end is in exactly one band.
        let created_by = |end: &str| int(&format!("SELECT count(*) FROM analytics.issues WHERE tenant_id = 'fx' AND created_at < '{end}'"));
        let ends = ["2025-01-13", "2025-01-20", "2025-01-27", "2025-02-03", "2025-02-10", "2025-02-17", "2025-02-24"];
        for (i, end) in ends.iter().enumerate() {
            let total: i64 = ["backlog_count", "wip", "done_count"].iter().map(|c| column(&spec, c)[i].parse::<i64>().unwrap()).sum();
            assert_eq!(total, created_by(end), "bands add up to the issues created by {end}");
        }
    }

    #[pg_test]
    fn created_closed_and_net_flow_per_week_fill_empty_weeks_with_zero() {
        fixture();
        let spec = format!(r#"{{"metrics": ["created", "closed", "net_flow"], {WEEKS}}}"#);
        assert_eq!(column(&spec, "created"), nums(&[1, 1, 1, 0, 1, 2, 0]));
        assert_eq!(column(&spec, "closed"), nums(&[1, 2, 1, 1, 2, 0, 0]));
        assert_eq!(column(&spec, "net_flow"), nums(&[0, -1, 0, -1, -1, 2, 0]));
        // The other tenant's issue (resolved 2025-03-01) never counts; a month series spans whole months.
        let months = r#"{"metrics": ["closed"], "group_by": [{"field": "as_of", "interval": "month"}], "date_range": {"from": "2025-01-01", "to": "2025-04-01"}}"#;
        assert_eq!(column(months, "closed"), nums(&[5, 2, 0]));
    }

    #[pg_test]
    fn status_series_counts_the_status_at_each_day_end() {
        fixture();
        let days = r#""group_by": [{"field": "as_of", "interval": "day"}], "date_range": {"from": "2025-01-08", "to": "2025-01-25"}"#;
        let review = column(&format!(r#"{{"metrics": ["issues_in_status"], {days}}}"#), "issues_in_status");
        let on = |v: &[usize]| -> Vec<String> { (0..17).map(|i| if v.contains(&i) { "1" } else { "0" }.to_string()).collect() };
        // In Review: ALP-1 on 2025-01-09 10:00 .. 01-10 10:00, ALP-2 on 01-22 09:00 .. 01-23 09:00.
        assert_eq!(review, on(&[1, 14]));
        // Blocked (any case): ALP-4 from 2025-01-22 09:00 to 01-24 09:00: the ends of the 22nd and 23rd.
        let blocked = format!(
            r#"{{"metrics": [{{"name": "issues_in_status", "params": {{"statuses": ["blocked"]}}, "alias": "blocked"}}], {days}}}"#
        );
        assert_eq!(column(&blocked, "blocked"), on(&[14, 15]));
    }

    #[pg_test]
    fn snapshots_that_are_no_state_are_taken_at_each_bucket_end() {
        fixture();
        let spec = format!(r#"{{"metrics": ["ageing_wip", "stuck_count"], {WEEKS}}}"#);
        let age: f64 = column(&spec, "ageing_wip")[0].parse().unwrap();
        // Week of 2025-01-06: ALP-2 in progress since 01-08 09:00, at 01-12 23:59:59.999999.
        assert!((age - (4.0 + 15.0 / 24.0)).abs() < 1e-6, "{age}");
        assert_eq!(column(&spec, "ageing_wip")[4], "", "no work in progress at the end of the week of 02-03");
        // Stuck (in progress, no status change for 5 days) at each week's end: ALP-2 (since 01-08) on
        // 01-19; ALP-6 (01-27) on 02-02; ALP-9 (02-11) on 02-16 and 02-23, with ALP-10 (02-18) on 02-23.
        assert_eq!(column(&spec, "stuck_count"), nums(&[0, 1, 0, 1, 0, 1, 2]));
    }

    /// Copies of the state metrics whose filters the series compiler does not recognise (parenthesized):
    /// they take the general form, one evaluation per issue and bucket.
    fn general_copies() {
        for (name, filter) in [
            ("g_backlog", "(analytics.category_at(f.id, {{as_of}}) = 'todo')"),
            ("g_wip", "(analytics.category_at(f.id, {{as_of}}) = 'in_progress')"),
            ("g_done", "(analytics.category_at(f.id, {{as_of}}) = 'done')"),
            ("g_wip_no_assignee", "(analytics.category_at(f.id, {{as_of}}) = 'in_progress' AND f.assignee IS NULL)"),
            (
                "g_review",
                "(lower(analytics.status_at(f.tenant_id, f.id, {{as_of}})) = ANY (SELECT lower(x) FROM unnest({{statuses}}) AS x))",
            ),
        ] {
            let params = if name == "g_review" {
                r#"{"as_of": {"type": "timestamptz", "default": "now"}, "statuses": {"type": "text[]", "default": ["In Review"]}}"#
            } else {
                r#"{"as_of": {"type": "timestamptz", "default": "now"}}"#
            };
            let def = serde_json::json!({
                "name": name, "display_name": name, "description": "The general form of a state metric.", "category": "test",
                "entity": "issue", "kind": "snapshot", "base_relation": "analytics.issue_facts", "sql_expression": "f.id",
                "filter": filter, "parameters": serde_json::from_str::<serde_json::Value>(params).unwrap(),
                "default_aggregation": "count", "allowed_aggregations": ["count"], "unit": "count"
            });
            Spi::run_with_args("SELECT analytics.analytics_metric_upsert($1::jsonb)", &[def.to_string().into()]).expect("upsert");
        }
    }

    /// Edge cases of the history: an issue without transitions, one whose first transition comes after
    /// its creation from another category (no initial row), one with a transition before its creation,
    /// ties at one moment, a status name in another case.
    fn edge_history() {
        exec(
            "INSERT INTO analytics.issues (id, tenant_id, issue_key, project_key, issue_type, status, status_category, labels, created_at) VALUES
             (201, 'edge', 'E-1', 'E', 'Story', 'In Progress', 'in_progress', '{a}', '2025-01-02 10:00+00'),
             (202, 'edge', 'E-2', 'E', 'Story', 'Done', 'done', '{a,b}', '2025-01-02 10:00+00'),
             (203, 'edge', 'E-3', 'E', 'Bug', 'Done', 'done', '{}', '2025-01-05 10:00+00'),
             (204, 'edge', 'E-4', 'E', 'Bug', 'In Review', 'in_progress', '{b}', '2025-01-03 10:00+00'),
             (205, 'edge', 'E-5', 'E', 'Task', 'To Do', 'todo', '{}', '2025-01-09 10:00+00')",
        );
        exec(
            "INSERT INTO analytics.issue_transitions (tenant_id, issue_id, from_status, to_status, from_category, to_category, changed_at) VALUES
             ('edge', 202, 'In Progress', 'Done', 'in_progress', 'done', '2025-01-06 12:00+00'),
             ('edge', 203, NULL, 'In Progress', NULL, 'in_progress', '2025-01-04 10:00+00'),
             ('edge', 203, 'In Progress', 'Done', 'in_progress', 'done', '2025-01-07 10:00+00'),
             ('edge', 204, NULL, 'To Do', NULL, 'todo', '2025-01-03 10:00+00'),
             ('edge', 204, 'To Do', 'In Progress', 'todo', 'in_progress', '2025-01-04 10:00+00'),
             ('edge', 204, 'In Progress', 'in review', 'in_progress', 'in_progress', '2025-01-04 10:00+00'),
             ('edge', 204, 'in review', 'Done', 'in_progress', 'done', '2025-01-06 10:00+00'),
             ('edge', 204, 'Done', 'In Review', 'done', 'in_progress', '2025-01-08 10:00+00'),
             ('edge', 205, 'To Do', 'To Do', 'todo', 'todo', '2025-01-09 10:00+00')",
        );
    }

    #[pg_test]
    fn the_state_form_gives_the_rows_of_the_general_form() {
        load_fixture();
        edge_history();
        general_copies();
        exec("SET LOCAL analytics.cache_ttl = 0");
        let pairs = [
            ("backlog_count", "g_backlog"),
            ("wip", "g_wip"),
            ("done_count", "g_done"),
            ("wip_no_assignee", "g_wip_no_assignee"),
            ("issues_in_status", "g_review"),
        ];
        let shapes = [
            (r#"[{"field": "as_of", "interval": "day"}]"#, r#"{"from": "2024-12-28", "to": "2025-03-03"}"#, "[]"),
            (
                r#"[{"field": "as_of", "interval": "week"}, "label"]"#,
                r#"{"from": "2024-12-30 12:00+00", "to": "2025-02-20 06:00+00"}"#,
                "[]",
            ),
            (
                r#"["issue_type", {"field": "as_of", "interval": "day"}]"#,
                r#"{"from": "2025-01-01", "to": "2025-01-12"}"#,
                r#"[{"field": "label", "operator": "not_in", "value": ["b"]}]"#,
            ),
            (r#"[{"field": "as_of", "interval": "month"}]"#, r#"{"last": "30 months"}"#, "[]"),
        ];
        let mut compared = 0;
        for tenant in ["fx", "edge"] {
            set_tenant(Some(tenant));
            for (group, range, filters) in shapes {
                for (fast, general) in pairs {
                    let spec = |m: &str| {
                        format!(
                            r#"{{"metrics": [{{"name": "{m}", "alias": "n"}}], "group_by": {group}, "date_range": {range}, "filters": {filters}, "limit": 1000}}"#
                        )
                    };
                    let (a, b) = (rows(&spec(fast)), rows(&spec(general)));
                    assert!(!a.is_empty(), "{tenant} {fast} {group}");
                    assert_eq!(a, b, "{tenant}: {fast} vs {general}, {group} {range} {filters}");
                    compared += a.len();
                }
            }
        }
        assert!(compared > 500, "{compared} rows compared");
        // The two forms really are different SQL: the state form reads the transitions once.
        let sql = |m: &str| {
            text(&format!(
                r#"SELECT analytics.analytics_compile('{{"metrics": ["{m}"], "group_by": [{{"field": "as_of", "interval": "day"}}], "date_range": {{"last": "9 days"}}}}'::jsonb) ->> 'sql'"#
            ))
            .unwrap()
        };
        assert!(!sql("wip").contains("category_at") && sql("g_wip").contains("category_at"));
        // Edge tenant, by hand: E-1 (no history) is in progress from its creation; E-2's first transition
        // (in progress -> done on 01-06) says it was in progress before; E-3 entered in progress before it
        // was created; E-4 went to In Review and In Progress at one moment (the later id counts).
        set_tenant(Some("edge"));
        let days = r#""group_by": [{"field": "as_of", "interval": "day"}], "date_range": {"from": "2025-01-02", "to": "2025-01-10"}"#;
        assert_eq!(column(&format!(r#"{{"metrics": ["wip"], {days}}}"#), "wip"), nums(&[2, 2, 3, 4, 2, 1, 2, 2]));
        assert_eq!(column(&format!(r#"{{"metrics": ["issues_in_status"], {days}}}"#), "issues_in_status"), nums(&[0, 0, 1, 1, 0, 0, 1, 1]));
    }

    #[pg_test]
    fn every_issue_metric_runs_as_a_series() {
        fixture();
        let names: Vec<String> = Spi::connect(|c| {
            // (Forecasts, formulas without dependencies, aggregate their whole history: no series.)
            c.select(
                "SELECT name FROM analytics.metrics_builtin WHERE entity = 'issue' AND NOT (kind = 'formula' AND dependencies = '{}') ORDER BY name",
                None,
                &[],
            )?
                .map(|r| r.get::<String>(1).map(|v| v.unwrap_or_default()))
                .collect::<Result<Vec<_>, _>>()
        })
        .unwrap();
        assert!(names.len() >= 20, "{names:?}");
        for n in &names {
            for group in
                [r#"[{"field": "as_of", "interval": "week"}]"#, r#"[{"field": "as_of", "interval": "month"}, "label", "priority"]"#]
            {
                let spec = format!(
                    r#"{{"metrics": ["{n}"], "group_by": {group}, "date_range": {{"from": "2025-01-01", "to": "2025-03-01"}}, "limit": 1000}}"#
                );
                let got = rows(&spec);
                let want = if group.contains("label") {
                    // Every month × every (label, priority) pair of the tenant's issues.
                    2 * int("SELECT count(DISTINCT (l, priority)) FROM analytics.issues, unnest(CASE WHEN cardinality(labels) = 0 THEN ARRAY[NULL::text] ELSE labels END) AS l WHERE tenant_id = 'fx'")
                } else {
                    9
                };
                assert_eq!(got.len() as i64, want, "{spec}");
            }
        }
    }

    #[pg_test]
    fn ask_reads_a_cumulative_flow_and_charts_it() {
        fixture();
        let answer = |q: &str| {
            text(&format!("SELECT analytics.analytics_ask('{q}', '{{\"today\": \"2025-02-24\", \"chart\": true}}')::text"))
                .map(|t| serde_json::from_str::<serde_json::Value>(&t).unwrap())
                .unwrap()
        };
        let a = answer("show the cumulative flow diagram");
        assert_eq!(a["status"], "answered", "{}", a["explanation"]);
        assert_eq!(a["spec"]["group_by"][0]["field"], "as_of");
        // "The last 30 days" up to today (02-24, written as dates): 01-25 .. 02-24.
        assert_eq!(a["row_count"], 31, "{}", a["spec"]);
        // The last day, 02-24: to do ALP-7, in progress ALP-9 and ALP-10, done 7.
        let last = &a["rows"][30];
        assert_eq!(
            (last["backlog_count"].as_i64(), last["wip"].as_i64(), last["done_count"].as_i64()),
            (Some(1), Some(2), Some(7)),
            "{last}"
        );
        assert_eq!(a["chart"]["mark"]["type"], "area");
        assert_eq!(a["chart"]["data"]["values"], a["rows"]);
        assert_eq!(a["chart"]["encoding"]["x"]["field"], "as_of_day");
        assert!(a["explanation"].as_str().unwrap().contains("for each day"), "{}", a["explanation"]);
        // One number is no chart.
        assert!(answer("how many issues are in progress")["chart"].is_null());
    }

    #[pg_test]
    fn cycle_time_histogram_in_buckets() {
        fixture();
        // Cycle times (days): ALP-5 1, ALP-8 1, ALP-1 3, ALP-3 5, ALP-4 7, ALP-6 9, ALP-2 15.
        let spec = r#"{"metrics": ["closed"], "group_by": [{"field": "cycle_time_days", "bucket": 5}], "filters": [{"field": "cycle_time_days", "operator": "is_not_null"}]}"#;
        assert_eq!(
            rows(spec),
            [r#"{"closed": 3, "cycle_time_days": 0}"#, r#"{"closed": 3, "cycle_time_days": 5}"#, r#"{"closed": 1, "cycle_time_days": 15}"#]
        );
        let count = |filter: &str| column(&format!(r#"{{"metrics": ["closed"], "filters": [{filter}]}}"#), "closed");
        assert_eq!(count(r#"{"field": "cycle_time_days", "operator": "gt", "value": 5}"#), ["3"]);
        assert_eq!(count(r#"{"field": "cycle_time_days", "operator": "between", "value": [1, 5]}"#), ["3"], "half-open");
        assert_eq!(count(r#"{"field": "cycle_time_days", "operator": "in", "value": ["1", 15]}"#), ["3"]);
        // The default bucket is 1 day; story points are a number too.
        let by_day = column(
            r#"{"metrics": ["closed"], "group_by": ["cycle_time_days"], "filters": [{"field": "cycle_time_days", "operator": "lte", "value": 3}]}"#,
            "cycle_time_days",
        );
        assert_eq!(by_day, ["1", "3"]);
        assert_eq!(
            column(r#"{"metrics": ["created"], "group_by": [{"field": "story_points", "bucket": 4}]}"#, "created"),
            ["5", "1", "2", "2"]
        );
    }

    #[pg_test]
    fn series_mistakes_are_explained() {
        fixture();
        install_sqlstate_helper();
        let err = |spec: &str| {
            text(&format!(
                "SELECT string_agg(e ->> 'code', ',') FROM jsonb_array_elements(analytics.analytics_validate('{spec}'::jsonb) -> 'errors') AS e"
            ))
            .unwrap_or_default()
        };
        assert_eq!(err(r#"{"metrics": ["wip"], "group_by": [{"field": "as_of", "interval": "day"}]}"#), "series_needs_range");
        assert_eq!(err(r#"{"metrics": ["wip"], "group_by": [{"field": "as_of"}], "date_range": {"last": "9 days"}}"#), "missing_key");
        assert_eq!(
            err(r#"{"metrics": ["wip"], "group_by": [{"field": "as_of", "interval": "hour"}], "date_range": {"last": "9 days"}}"#),
            "invalid_value"
        );
        assert_eq!(
            err(
                r#"{"metrics": ["created"], "group_by": [{"field": "as_of", "interval": "day"}, {"field": "created_at", "interval": "week"}], "date_range": {"last": "9 days"}}"#
            ),
            "series_with_date_group"
        );
        assert_eq!(
            err(
                r#"{"metrics": [{"name": "wip", "params": {"as_of": "2025-01-01"}}], "group_by": [{"field": "as_of", "interval": "day"}], "date_range": {"last": "9 days"}}"#
            ),
            "invalid_value"
        );
        assert_eq!(
            err(r#"{"metrics": ["velocity"], "group_by": [{"field": "as_of", "interval": "day"}], "date_range": {"last": "9 days"}}"#),
            "not_in_series"
        );
        assert_eq!(
            err(r#"{"metrics": ["wip"], "group_by": [{"field": "as_of", "interval": "day"}], "date_range": {"to": "2025-01-01"}}"#),
            "series_needs_range"
        );
        assert_eq!(
            sqlstate_of(r#"SELECT analytics.analytics_run('{"metrics": ["wip"], "group_by": [{"field": "as_of", "interval": "day"}]}')"#)
                .as_deref(),
            Some("22023")
        );
    }
}
