use super::*;
use crate::catalog::{builtin, MetricDef};
use serde_json::{json, Value};

fn catalog() -> Vec<MetricDef> {
    builtin::metrics().unwrap()
}

fn ok(v: Value) -> Spec {
    parse(&v, &catalog()).unwrap_or_else(|e| panic!("{v}: {e:#?}"))
}

fn errs(v: Value) -> Vec<SpecError> {
    parse(&v, &catalog()).expect_err(&format!("{v} should be invalid"))
}

fn codes(v: Value) -> Vec<(String, &'static str)> {
    errs(v).into_iter().map(|e| (e.path, e.code)).collect()
}

#[test]
fn the_example_from_the_issue_compiles() {
    let spec = ok(json!({ "entity": "issue",
        "metrics": ["lead_time_p90", {"name": "bug_count", "alias": "bugs"}],
        "group_by": ["board", {"field": "resolved_at", "interval": "month"}],
        "filters": [{"field": "issue_type", "operator": "in", "value": ["Bug", "Story"]}],
        "date_range": {"field": "resolved_at", "from": "2025-01-01", "to": "2025-04-01"},
        "sort_by": [{"field": "bugs", "direction": "desc"}],
        "limit": 20 }));
    assert_eq!(spec.columns(), vec!["board", "resolved_at_month", "lead_time_p90", "bugs"]);
    let c = compile(&spec, &catalog(), "acme").unwrap();
    assert_eq!(
        c.sql,
        "SELECT f.board AS \"board\", date_trunc('month', f.resolved_at)::date AS \"resolved_at_month\", \
         percentile_cont(0.9) WITHIN GROUP (ORDER BY (f.lead_time_days)) AS \"lead_time_p90\", \
         count(f.id) FILTER (WHERE f.issue_type = 'Bug') AS \"bugs\" \
         FROM analytics.issue_facts AS f \
         WHERE f.tenant_id = $1::text AND f.issue_type = ANY ($2::text[]) AND f.resolved_at >= $3::timestamptz AND f.resolved_at < $4::timestamptz \
         GROUP BY 1, date_trunc('month', f.resolved_at) ORDER BY \"bugs\" DESC NULLS LAST LIMIT $5::integer"
    );
    use crate::catalog::params::Bound;
    assert_eq!(
        c.params,
        vec![
            Bound::Text("acme".into()),
            Bound::TextArray(vec!["Bug".into(), "Story".into()]),
            Bound::Text("2025-01-01".into()),
            Bound::Text("2025-04-01".into()),
            Bound::Integer(20)
        ]
    );
    assert_eq!(c.metrics.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), vec!["lead_time_p90", "bug_count"]);
}

#[test]
fn canonical_form_and_hash_ignore_spelling() {
    let a = ok(json!({"metrics": ["cycle_time"]}));
    let b = ok(json!({"metrics": [{"name": "cycle_time"}], "entity": "issue", "limit": 100}));
    let c = ok(json!({"limit": 100, "metrics": [{"aggregation": "p50", "alias": "cycle_time", "name": "cycle_time"}]}));
    assert_eq!(a.canonical(), b.canonical());
    assert_eq!(a.hash(), b.hash());
    assert_eq!(a.hash(), c.hash());
    assert_eq!(a.hash().len(), 64);
    let d = ok(json!({"metrics": [{"name": "cycle_time", "aggregation": "p90"}]}));
    assert_ne!(a.hash(), d.hash());
    let canon = a.canonical();
    assert_eq!(canon["metrics"][0]["aggregation"], "p50");
    assert_eq!(canon["limit"], 100);
    // Keys come out sorted.
    let text = canon.to_string();
    assert!(text.find("\"date_range\"").unwrap() < text.find("\"entity\"").unwrap());
}

#[test]
fn entity_is_inferred_and_mixing_is_refused() {
    assert_eq!(ok(json!({"metrics": ["velocity"]})).entity, crate::catalog::Entity::Sprint);
    let e = codes(json!({"metrics": ["velocity", "bug_count"]}));
    assert_eq!(e, vec![("$.metrics[1]".to_string(), "entity_mismatch")]);
}

#[test]
fn every_error_is_reported_with_path_and_suggestions() {
    let e = errs(json!({
        "metrics": ["lead_tme_p50", {"name": "bug_count", "aggregation": "sum"}],
        "group_by": ["priorty"],
        "filters": [{"field": "tenant_id", "operator": "eq", "value": "other"}],
        "sort_by": ["nothing"],
        "limit": 0,
        "colour": "red"}));
    let got: Vec<(&str, &str)> = e.iter().map(|x| (x.path.as_str(), x.code)).collect();
    assert_eq!(
        got,
        vec![
            ("$.colour", "unknown_key"),
            ("$.metrics[0]", "unknown_metric"),
            ("$.group_by[0]", "unknown_dimension"),
            ("$.filters[0].field", "forbidden_field"),
            ("$.metrics[1].aggregation", "aggregation_not_allowed"),
            ("$.sort_by[0]", "unknown_sort_field"),
            ("$.limit", "limit_out_of_range"),
        ]
    );
    assert_eq!(e[1].suggestions, vec!["lead_time_p50", "lead_time_p90", "lead_time_avg"]);
    assert_eq!(e[2].suggestions, vec!["priority"]);
    assert!(e[4].hint.as_deref().unwrap().contains("count"));
}

#[test]
fn synonyms_are_suggested_for_unknown_metrics() {
    let e = errs(json!({"metrics": ["spillover"]}));
    assert_eq!(e[0].suggestions[0], "spillover_ratio");
}

#[test]
fn formulas_take_no_aggregation_and_expand() {
    let e = codes(json!({"metrics": [{"name": "throughput_ratio", "aggregation": "avg"}]}));
    assert_eq!(e, vec![("$.metrics[0].aggregation".to_string(), "aggregation_not_allowed")]);
    let c = compile(&ok(json!({"metrics": ["throughput_ratio"], "date_range": {"last": "1 quarter"}})), &catalog(), "t").unwrap();
    assert!(
        c.sql.contains("count(f.id) FILTER (WHERE (f.resolved_at IS NOT NULL) AND f.resolved_at >= now() - $2::interval)"),
        "{}",
        c.sql
    );
    assert!(c.sql.contains("f.created_at >= now() - $3::interval"), "each metric keeps its own time field: {}", c.sql);
    assert_eq!(c.params[1], crate::catalog::params::Bound::Text("3 months".into()));
    assert_eq!(c.metrics.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), vec!["throughput_ratio", "closed", "created"]);
}

#[test]
fn snapshots_take_the_end_of_the_period_and_refuse_date_groups() {
    let s = ok(json!({"metrics": ["wip"], "date_range": {"from": "2025-01-01", "to": "2025-02-01"}}));
    assert_eq!(s.metrics[0].params["as_of"], json!("2025-02-01"));
    let e = codes(json!({"metrics": ["wip"], "group_by": [{"field": "created_at", "interval": "week"}]}));
    assert_eq!(e, vec![("$.metrics[0]".to_string(), "snapshot_by_date")]);
}

#[test]
fn last_sprints_is_for_sprints_only() {
    let c =
        compile(&ok(json!({"metrics": ["velocity"], "group_by": ["board"], "date_range": {"last_sprints": 6}})), &catalog(), "t").unwrap();
    assert!(c.sql.contains("r.rn <= $2::integer"), "{}", c.sql);
    assert_eq!(
        codes(json!({"metrics": ["created"], "date_range": {"last_sprints": 6}})),
        vec![("$.date_range.last_sprints".to_string(), "invalid_value")]
    );
}

#[test]
fn filters_are_checked_against_their_field() {
    assert_eq!(
        codes(json!({"metrics": ["created"], "filters": [{"field": "label", "operator": "gt", "value": "x"}]})),
        vec![("$.filters[0].operator".to_string(), "invalid_operator")]
    );
    assert_eq!(
        codes(json!({"metrics": ["created"], "filters": [{"field": "created_at", "operator": "eq", "value": "yesterday"}]})),
        vec![("$.filters[0].value".to_string(), "invalid_date")]
    );
    assert_eq!(
        codes(json!({"metrics": ["created"], "filters": [{"field": "priority", "operator": "in", "value": []}]})),
        vec![("$.filters[0].value".to_string(), "invalid_value")]
    );
    assert_eq!(
        codes(json!({"metrics": ["created"], "filters": [{"field": "priority", "operator": "=", "value": "High"}]}))[0].1,
        "invalid_operator"
    );
    assert_eq!(
        errs(json!({"metrics": ["created"], "filters": [{"field": "priority", "operator": "=", "value": "High"}]}))[0].suggestions,
        vec!["eq"]
    );
    let c = compile(&ok(json!({"metrics": ["created"], "filters": [{"field": "label", "operator": "eq", "value": "production"}, {"field": "assignee", "operator": "is_null"}]})), &catalog(), "t").unwrap();
    assert!(c.sql.contains("$2::text = ANY (f.labels) AND f.assignee IS NULL"), "{}", c.sql);
}

#[test]
fn date_ranges_are_checked() {
    assert_eq!(
        codes(json!({"metrics": ["created"], "date_range": {"from": "2025-04-01", "to": "2025-01-01"}})),
        vec![("$.date_range".to_string(), "inverted_range")]
    );
    assert_eq!(
        codes(json!({"metrics": ["created"], "date_range": {"last": "ninety days"}})),
        vec![("$.date_range.last".to_string(), "invalid_value")]
    );
    assert_eq!(
        codes(json!({"metrics": ["created"], "date_range": {"field": "sprint", "from": "2025-01-01"}})),
        vec![("$.date_range.field".to_string(), "invalid_value")]
    );
    assert!(ok(json!({"metrics": ["created"], "date_range": {"last": "2 weeks"}})).date_range.is_some());
}

#[test]
fn aliases_must_be_identifiers_and_unique() {
    assert_eq!(
        codes(json!({"metrics": [{"name": "created", "alias": "x\"; DROP TABLE y; --"}]})),
        vec![("$.metrics[0].alias".to_string(), "invalid_value")]
    );
    assert_eq!(codes(json!({"metrics": ["created", "created"]})), vec![("$.metrics[1]".to_string(), "duplicate_alias")]);
    assert_eq!(
        codes(json!({"metrics": [{"name": "created", "alias": "priority"}], "group_by": ["priority"]})),
        vec![("$.metrics[0].alias".to_string(), "duplicate_alias")]
    );
}

#[test]
fn labels_group_one_row_per_label() {
    let c = compile(&ok(json!({"metrics": ["bug_count"], "group_by": ["label"]})), &catalog(), "t").unwrap();
    assert!(
        c.sql.contains("CROSS JOIN LATERAL unnest(CASE WHEN cardinality(f.labels) = 0 THEN ARRAY[NULL::text] ELSE f.labels END) AS g0(v)"),
        "{}",
        c.sql
    );
    assert!(c.sql.starts_with("SELECT g0.v AS \"label\""), "{}", c.sql);
}

#[test]
fn no_spec_text_ever_reaches_the_sql() {
    let evil = "Robert'); DROP TABLE analytics.issues; --";
    let spec = ok(json!({
        "metrics": [{"name": "escaped_defects", "params": {"labels": [evil]}}],
        "group_by": ["priority"],
        "filters": [{"field": "assignee", "operator": "eq", "value": evil}, {"field": "project", "operator": "contains", "value": evil}],
        "date_range": {"from": "2025-01-01", "to": "2025-12-31 23:59:59+00"}}));
    let c = compile(&spec, &catalog(), evil).unwrap();
    assert!(!c.sql.contains("Robert") && !c.sql.contains("DROP") && !c.sql.contains("2025"), "{}", c.sql);
}

#[test]
fn hostile_shapes_never_panic() {
    let deep = (0..200).fold(json!(1), |acc, _| json!([acc]));
    let long = "x".repeat(1 << 20);
    for v in [
        json!(null),
        json!(1),
        json!("metrics"),
        json!([]),
        json!({}),
        json!({"metrics": null}),
        json!({"metrics": {}}),
        json!({"metrics": [null, 1, true, [], {}]}),
        json!({"metrics": [{"name": 5}]}),
        json!({"metrics": deep.clone()}),
        json!({"metrics": ["created"], "group_by": deep}),
        json!({"metrics": [long.clone()]}),
        json!({"metrics": ["created"], "filters": [{"field": "priority", "operator": "in", "value": vec!["a"; 10_000]}]}),
        json!({"metrics": vec!["created"; 10_000]}),
        json!({"metrics": ["created"], "limit": -5}),
        json!({"metrics": ["created"], "limit": 1e300}),
        json!({"metrics": ["created"], "limit": 18446744073709551615u64}),
        json!({"metrics": ["created"], "sort_by": [{"field": 1}]}),
        json!({"metrics": ["created"], "date_range": {"last": "99999999999999999999 days"}}),
        json!({"metrics": [{"name": "stuck_count", "params": {"days": 1e12}}]}),
        json!({"metrics": ["créé\u{202e}"]}),
    ] {
        let r = parse(&v, &catalog());
        if let Ok(s) = r {
            let _ = compile(&s, &catalog(), "t");
        }
    }
}

/// The corpus of tests/specs/hostile.json with its compact markers expanded.
pub fn hostile_corpus() -> Vec<(String, String, String)> {
    let cases: Vec<Value> = serde_json::from_str(include_str!("../../../../tests/specs/hostile.json")).unwrap();
    cases
        .into_iter()
        .map(|c| {
            let text = expand(c["spec_text"].as_str().unwrap());
            (c["name"].as_str().unwrap().to_string(), text, c["expect"].as_str().unwrap().to_string())
        })
        .collect()
}

/// `@@MB@@` -> 1 MiB of "x"; `@@10K:<json>@@` -> the JSON 10,000 times, comma-separated.
pub fn expand(text: &str) -> String {
    let mut out = text.replace("@@MB@@", &"x".repeat(1 << 20));
    while let Some(start) = out.find("@@10K:") {
        let end = start + 6 + out[start + 6..].find("@@").unwrap();
        let item = out[start + 6..end].to_string();
        out.replace_range(start..end + 2, &vec![item; 10_000].join(","));
    }
    out
}

#[test]
fn hostile_corpus_is_rejected_or_compiles_safely() {
    let corpus = hostile_corpus();
    assert!(corpus.len() >= 150, "{} cases", corpus.len());
    for (name, text, expect) in corpus {
        if expect != "22023" && expect != "ok" {
            continue; // refused by PostgreSQL's jsonb input before any of our code runs
        }
        let v = match crate::json_arg::parse(Some(&text)) {
            Ok(v) => v.unwrap(),
            Err(_) if expect == "22023" => continue, // too deep: refused before parsing
            Err(e) => panic!("{name}: {e}"),
        };
        match (parse(&v, &catalog()), expect.as_str()) {
            (Ok(spec), "ok") => {
                let c = compile(&spec, &catalog(), "tenant").unwrap_or_else(|e| panic!("{name}: {e}"));
                for bad in ["DROP", "DELETE", "pg_sleep", "pg_authid", "OR 1=1"] {
                    assert!(!c.sql.contains(bad), "{name}: {bad} reached the SQL: {}", c.sql);
                }
            }
            (Err(errors), "22023") => assert!(!errors.is_empty(), "{name}"),
            (Ok(_), _) => panic!("{name}: accepted, expected {expect}"),
            (Err(e), _) => panic!("{name}: rejected ({:?}), expected {expect}", e.iter().map(|x| x.code).collect::<Vec<_>>()),
        }
    }
}

#[test]
fn period_windows_also_narrow_the_rows_up_front() {
    let c =
        compile(&ok(json!({"metrics": ["created", "closed"], "date_range": {"from": "2025-01-01", "to": "2025-02-01"}})), &catalog(), "t")
            .unwrap();
    assert!(
        c.sql.contains("WHERE f.tenant_id = $1::text AND ((f.created_at >= $6::timestamptz AND f.created_at < $7::timestamptz) OR (f.resolved_at >= $8::timestamptz AND f.resolved_at < $9::timestamptz))"),
        "{}",
        c.sql
    );
    // A snapshot needs every row: nothing is narrowed.
    let c = compile(&ok(json!({"metrics": ["created", "wip"], "date_range": {"from": "2025-01-01", "to": "2025-02-01"}})), &catalog(), "t")
        .unwrap();
    assert!(!c.sql.contains(" OR "), "{}", c.sql);
    // An explicit field narrows by that field only.
    let c =
        compile(&ok(json!({"metrics": ["created"], "date_range": {"field": "resolved_at", "last": "30 days"}})), &catalog(), "t").unwrap();
    assert!(c.sql.contains("WHERE f.tenant_id = $1::text AND f.resolved_at >= now() - $2::interval"), "{}", c.sql);
    // Metrics that share one time field: the WHERE window is theirs, and no FILTER repeats it.
    let c = compile(
        &ok(json!({"metrics": ["created", "bug_count"], "date_range": {"from": "2025-01-01", "to": "2025-02-01"}})),
        &catalog(),
        "t",
    )
    .unwrap();
    assert!(c.sql.contains("count(f.id) AS \"created\""), "{}", c.sql);
    assert!(c.sql.contains("count(f.id) FILTER (WHERE f.issue_type = 'Bug') AS \"bug_count\""), "{}", c.sql);
    assert!(
        c.sql.contains("WHERE f.tenant_id = $1::text AND f.created_at >= $2::timestamptz AND f.created_at < $3::timestamptz LIMIT"),
        "{}",
        c.sql
    );
    assert_eq!(c.params.len(), 4, "tenant, from, to, limit: {:?}", c.params);
    // A metric's own filter next to its own window is parenthesized (a catalog filter may hold an OR).
    let c = compile(
        &ok(json!({"metrics": ["closed", "bug_count"], "date_range": {"from": "2025-01-01", "to": "2025-02-01"}})),
        &catalog(),
        "t",
    )
    .unwrap();
    assert!(c.sql.contains("count(f.id) FILTER (WHERE (f.issue_type = 'Bug') AND f.created_at >= "), "{}", c.sql);
    // Ascending order is PostgreSQL's default, NULLs last; descending says NULLS LAST.
    let c = compile(&ok(json!({"metrics": ["created"], "group_by": ["priority"], "sort_by": [{"field": "created", "direction": "desc"}, {"field": "priority", "direction": "asc"}]})), &catalog(), "t").unwrap();
    assert!(c.sql.contains("ORDER BY \"created\" DESC NULLS LAST, \"priority\" LIMIT"), "{}", c.sql);
    let c = compile(&ok(json!({"metrics": ["created"], "group_by": ["priority"]})), &catalog(), "t").unwrap();
    assert!(c.sql.contains("GROUP BY 1 ORDER BY \"priority\" LIMIT"), "{}", c.sql);
}

#[test]
fn a_query_reading_only_issue_columns_reads_the_issues_table() {
    let sql = |v: Value| compile(&ok(v), &catalog(), "t").unwrap().sql;
    let bugs = sql(
        json!({"metrics": ["bug_count"], "group_by": [{"field": "created_at", "interval": "month"}], "date_range": {"from": "2026-01-01", "to": "2027-01-01"}}),
    );
    assert!(bugs.contains(" FROM analytics.issues AS f WHERE "), "{bugs}");
    let labels =
        sql(json!({"metrics": ["created"], "group_by": ["label"], "filters": [{"field": "priority", "operator": "eq", "value": "High"}]}));
    assert!(labels.contains(" FROM analytics.issues AS f CROSS JOIN LATERAL unnest("), "{labels}");
    // Derived columns (lead time, board) need the view.
    for v in [
        json!({"metrics": ["lead_time_p50"]}),
        json!({"metrics": ["created"], "group_by": ["board"]}),
        json!({"metrics": ["created"], "filters": [{"field": "sprint", "operator": "is_null"}]}),
    ] {
        let s = sql(v);
        assert!(s.contains(" FROM analytics.issue_facts AS f"), "{s}");
    }
    // Sprint specs keep their relation.
    assert!(sql(json!({"entity": "sprint", "metrics": ["completed_sp"]})).contains(" FROM analytics.sprint_facts AS f"));
}

#[test]
fn series_parse_compile_and_explain() {
    let spec = ok(
        json!({"metrics": ["backlog_count", "wip", "done_count", "created"], "group_by": [{"field": "as_of", "interval": "week"}, "board"],
        "date_range": {"last": "12 weeks"}, "filters": [{"field": "priority", "operator": "eq", "value": "High"}]}),
    );
    assert_eq!(spec.columns(), vec!["as_of_week", "board", "backlog_count", "wip", "done_count", "created"]);
    assert!(spec.series().is_some_and(|g| g.interval.as_deref() == Some("week")));
    let c = compile(&spec, &catalog(), "t").unwrap();
    // Buckets from generate_series, the span aligned to the bucket; the three states in one pass over
    // the transitions (no per-bucket category_at), the count of created issues by its own date.
    assert!(c.sql.starts_with("WITH buckets AS (SELECT g AS b_start"), "{}", c.sql);
    assert!(c.sql.contains("generate_series(date_trunc('week', date_trunc('week', now() - $"), "{}", c.sql);
    assert!(!c.sql.contains("category_at"), "{}", c.sql);
    // One ordered pass over the issues joined to their transitions, bucketed once by grouping sets.
    assert_eq!(c.sql.matches("analytics.issue_transitions AS t").count(), 1, "{}", c.sql);
    assert_eq!(c.sql.matches(" OVER w ").count(), 1, "the lag of the category, which also tells the first transition");
    assert_eq!(
        c.sql.matches("GROUP BY GROUPING SETS ((y.b1, y.plus_cat, y.minus_cat, y.d0), (y.b2, y.cre_cat, y.d0))").count(),
        1,
        "{}",
        c.sql
    );
    assert!(!c.sql.contains("MATERIALIZED") && !c.sql.contains("UNION"), "no second scan of the rows: {}", c.sql);
    // Filtered: the window sorts only the transitions of the issues the filters keep.
    assert!(
        c.sql.contains(
            "t.tenant_id = $1::text AND t.issue_id IN (SELECT f.id FROM analytics.issue_facts AS f WHERE f.tenant_id = $1::text AND"
        ),
        "{}",
        c.sql
    );
    assert!(c.sql.contains("date_trunc('week', f.created_at) AS b"), "{}", c.sql);
    assert_eq!(c.params[0], crate::catalog::params::Bound::Text("t".into()));
    assert_eq!(c.columns.iter().map(|c| c.role).collect::<Vec<_>>(), ["dimension", "dimension", "metric", "metric", "metric", "metric"]);
    let text = crate::nl::explain::explain(&spec, &catalog(), "t");
    assert!(text.contains("for each week"), "{text}");
    assert!(text.contains("snapshot metrics as they stand at its end"), "{text}");
    assert!(text.contains(", by board"), "{text}");
    // A snapshot with a state filter the compiler does not recognise is evaluated per bucket.
    let stuck = ok(
        json!({"metrics": ["stuck_count"], "group_by": [{"field": "as_of", "interval": "day"}], "date_range": {"from": "2025-01-01", "to": "2025-02-01"}}),
    );
    let c = compile(&stuck, &catalog(), "t").unwrap();
    assert!(c.sql.contains("analytics.category_at(f.id, (bk.b_at))"), "{}", c.sql);
    // The canonical form keeps the series group and the defaults (as_of stays the default).
    assert_eq!(stuck.canonical()["group_by"], json!([{"field": "as_of", "interval": "day"}]));
    assert_eq!(stuck.canonical()["metrics"][0]["params"]["as_of"], json!("now"));
}

#[test]
fn series_mistakes_have_codes_and_hints() {
    let day = json!([{"field": "as_of", "interval": "day"}]);
    assert_eq!(codes(json!({"metrics": ["wip"], "group_by": day})), [("$.date_range".to_string(), "series_needs_range")]);
    assert_eq!(
        codes(json!({"metrics": ["wip"], "group_by": day, "date_range": {"to": "2025-01-01"}})),
        [("$.date_range.from".to_string(), "series_needs_range")]
    );
    assert_eq!(
        codes(json!({"metrics": ["wip"], "group_by": day, "date_range": {"field": "created_at", "last": "9 days"}})),
        [("$.date_range.field".to_string(), "invalid_value")]
    );
    assert_eq!(
        codes(
            json!({"metrics": ["created"], "group_by": [{"field": "as_of", "interval": "day"}, {"field": "as_of", "interval": "week"}], "date_range": {"last": "9 days"}})
        ),
        [("$.group_by[1]".to_string(), "duplicate_group")]
    );
    assert_eq!(
        codes(json!({"entity": "sprint", "metrics": ["velocity"], "group_by": day, "date_range": {"last": "9 days"}})),
        [("$.metrics[0]".to_string(), "not_in_series")]
    );
    // A sprint series needs no range (the sprints' lives), takes last_sprints, but not a to-only range.
    ok(json!({"metrics": ["sprint_remaining_sp"], "group_by": day}));
    ok(json!({"metrics": ["sprint_remaining_sp"], "group_by": day, "date_range": {"last_sprints": 1}}));
    assert_eq!(
        codes(json!({"metrics": ["sprint_remaining_sp"], "group_by": day, "date_range": {"to": "2025-01-01"}})),
        [("$.date_range.from".to_string(), "series_needs_range")]
    );
    // Without the series group a snapshot still cannot be split by a date, and the hint says how.
    let e = errs(json!({"metrics": ["wip"], "group_by": [{"field": "created_at", "interval": "month"}]}));
    assert_eq!(e[0].code, "snapshot_by_date");
    assert!(e[0].hint.as_deref().unwrap_or("").contains(r#"{"field": "as_of", "interval": "month"}"#), "{e:?}");
}

#[test]
fn sprint_series_compiles_per_sprint_day_and_reads_the_sprints_table() {
    let day = json!([{"field": "as_of", "interval": "day"}]);
    let c = compile(
        &ok(json!({"metrics": ["sprint_scope_sp", "sprint_remaining_sp", "sprint_guideline_sp"], "group_by": day,
                   "filters": [{"field": "sprint", "operator": "eq", "value": "S1"}]})),
        &catalog(),
        "t",
    )
    .unwrap();
    assert!(c.sql.contains("FROM analytics.sprints AS s"), "{}", c.sql);
    assert!(!c.sql.contains("sprint_facts"), "{}", c.sql);
    // One burn per sprint and bucket, read by both metrics; the guideline's own call reads the start.
    assert_eq!(c.sql.matches("sprint_burn_at(").count(), 2, "{}", c.sql);
    assert!(c.sql.contains("(SELECT analytics.sprint_burn_at(f.tenant_id, f.sprint_id, bk.b_at) AS r OFFSET 0) AS burn"), "{}", c.sql);
    assert!(c.sql.contains("sum((burn.r).scope_sp)") && c.sql.contains("sum((burn.r).remaining_sp)"), "{}", c.sql);
    assert!(c.sql.contains("(SELECT min(sp.start_date) FROM sp)"), "the span is the sprints' lives: {}", c.sql);
    assert!(c.sql.contains("LEFT JOIN sp AS f"), "every bucket is a row without other groups: {}", c.sql);
    let names: Vec<&str> = c.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["as_of_day", "sprint_scope_sp", "sprint_remaining_sp", "sprint_guideline_sp"]);
    // Grouped by sprint: one row per sprint and day it ran; a date range bounds the buckets.
    let c = compile(
        &ok(json!({"metrics": ["sprint_done_sp"], "group_by": [{"field": "as_of", "interval": "day"}, "sprint"],
                   "date_range": {"from": "2025-01-01", "to": "2025-02-01"}})),
        &catalog(),
        "t",
    )
    .unwrap();
    assert!(c.sql.contains(" JOIN sp AS f") && !c.sql.contains("LEFT JOIN sp"), "{}", c.sql);
    assert!(c.sql.contains("GROUP BY bk.b_start, f.name"), "{}", c.sql);
    // A scalar sprint snapshot reads the sprints table too; a sprint statistic still reads sprint_facts.
    let sql = |v: Value| compile(&ok(v), &catalog(), "t").unwrap().sql;
    assert!(sql(json!({"metrics": ["sprint_remaining_sp"], "filters": [{"field": "state", "operator": "eq", "value": "active"}]}))
        .contains("FROM (SELECT s.id AS sprint_id"));
    assert!(sql(json!({"metrics": ["sprint_remaining_sp", "velocity"]})).contains("FROM analytics.sprint_facts AS f"));
}

#[test]
fn sprint_specs_compile_to_the_materialized_statistics_on_request() {
    use super::{compile_from, SprintSource};
    let day = json!([{"field": "as_of", "interval": "day"}]);
    for v in [
        json!({"entity": "sprint", "metrics": ["completed_sp", "spillover_ratio"], "group_by": ["board"], "date_range": {"last_sprints": 6}}),
        json!({"entity": "sprint", "metrics": [{"name": "velocity", "aggregation": "p90"}], "group_by": [{"field": "start_date", "interval": "month"}]}),
    ] {
        let spec = ok(v);
        let live = compile_from(&spec, &catalog(), "t", SprintSource::Live).unwrap();
        let stats = compile_from(&spec, &catalog(), "t", SprintSource::Stats).unwrap();
        assert!(live.reads_sprint_stats && stats.reads_sprint_stats);
        assert!(live.sql.contains(" FROM analytics.sprint_facts AS f") && !live.sql.contains("sprint_stats"), "{}", live.sql);
        assert!(stats.sql.contains(" FROM analytics.sprint_stats AS f") && !stats.sql.contains("sprint_facts"), "{}", stats.sql);
        // Nothing else differs: the same parameters, columns and text around the relation.
        assert_eq!(stats.sql.replace("analytics.sprint_stats", "analytics.sprint_facts"), live.sql);
        assert_eq!(format!("{:?}", stats.params), format!("{:?}", live.params));
        assert_eq!(compile(&spec, &catalog(), "t").unwrap().sql, live.sql, "compile is the live form");
    }
    // Specs that read no sprint statistics are the same from either source, and say so.
    for v in [
        json!({"metrics": ["created"], "group_by": ["board"]}),
        json!({"entity": "sprint", "metrics": ["sprint_remaining_sp"], "group_by": day.clone(), "filters": [{"field": "sprint", "operator": "eq", "value": "S1"}]}),
        json!({"entity": "sprint", "metrics": ["sprint_scope_sp"], "group_by": ["board"]}),
    ] {
        let spec = ok(v);
        let live = compile_from(&spec, &catalog(), "t", SprintSource::Live).unwrap();
        let stats = compile_from(&spec, &catalog(), "t", SprintSource::Stats).unwrap();
        assert!(!live.reads_sprint_stats && !stats.reads_sprint_stats, "{}", live.sql);
        assert_eq!(live.sql, stats.sql);
    }
}
