use super::*;
use serde_json::json;

fn builtin() -> Vec<MetricDef> {
    builtin::metrics().expect("shipped catalog parses")
}

fn get(name: &str) -> MetricDef {
    builtin().into_iter().find(|m| m.name == name).unwrap_or_else(|| panic!("{name}"))
}

#[test]
fn shipped_catalog_is_consistent() {
    let defs = builtin();
    assert_eq!(check::check(&defs), vec![], "the shipped catalog has problems");
    assert!(defs.len() >= 25, "{} metrics", defs.len());
}

#[test]
fn shipped_catalog_has_the_required_metrics() {
    let names: Vec<String> = builtin().into_iter().map(|m| m.name).collect();
    for required in [
        "created",
        "closed",
        "throughput_ratio",
        "velocity",
        "lead_time_p50",
        "lead_time_p90",
        "lead_time_avg",
        "cycle_time",
        "planned_sp",
        "completed_sp",
        "added_sp",
        "removed_sp",
        "spillover_ratio",
        "scope_churn_ratio",
        "accuracy_abs",
        "bug_count",
        "reopened_count",
        "reopen_rate",
        "escaped_defects",
        "blocked_hours",
        "wip",
        "stuck_count",
        "wip_no_assignee",
        "comments_per_issue",
        "first_response_hours",
        "sprint_problematic_score",
    ] {
        assert!(names.iter().any(|n| n == required), "missing {required}");
    }
}

#[test]
fn every_metric_has_synonyms_and_a_description() {
    for m in builtin() {
        assert!(!m.synonyms.is_empty(), "{} has no synonyms", m.name);
        assert!(m.description.len() > 20, "{}", m.name);
    }
}

#[test]
fn aggregation_rules_from_the_spec() {
    assert_eq!(get("cycle_time").allowed_aggregations.len(), 11, "cycle_time takes any aggregation");
    assert_eq!(get("bug_count").allowed_aggregations, vec![Aggregation::Count]);
    assert_eq!(get("lead_time_p90").default_aggregation, Aggregation::P90);
}

#[test]
fn composite_weights_sum_to_one_and_cover_the_four_inputs() {
    let w = get("sprint_problematic_score").weights.expect("weights");
    assert_eq!(
        w.keys().map(String::as_str).collect::<Vec<_>>(),
        vec!["accuracy_abs", "completed_sp", "scope_churn_ratio", "spillover_ratio"]
    );
    assert!((w.values().sum::<f64>() - 1.0).abs() < 1e-12);
}

#[test]
fn escaped_defects_has_its_label_parameter() {
    let p = &get("escaped_defects").parameters["labels"];
    assert_eq!(p.param_type, ParamType::TextArray);
    assert_eq!(p.default, json!(["production", "escaped", "customer"]));
    assert_eq!(get("stuck_count").parameters["days"].default, json!(5));
    assert_eq!(get("blocked_hours").parameters["statuses"].default, json!(["Blocked"]));
}

fn valid() -> MetricDef {
    get("closed")
}

fn codes(d: &MetricDef) -> Vec<&'static str> {
    d.validate().into_iter().map(|p| p.code).collect()
}

#[test]
fn invalid_definitions_are_reported_with_a_code() {
    let mut d = valid();
    d.name = "Closed Issues".into();
    assert_eq!(codes(&d), vec!["invalid_name"]);

    let mut d = valid();
    d.version = 0;
    assert_eq!(codes(&d), vec!["missing_version"]);

    let mut d = valid();
    d.default_aggregation = Aggregation::Sum;
    assert_eq!(codes(&d), vec!["invalid_aggregation"]);

    let mut d = valid();
    d.base_relation = "analytics.issues".into();
    assert_eq!(codes(&d), vec!["invalid_base_relation"]);

    let mut d = valid();
    d.time_field = Some("password".into());
    assert_eq!(codes(&d), vec!["invalid_time_field"]);

    let mut d = valid();
    d.filter = Some("f.labels && {{labels}}".into());
    assert_eq!(codes(&d), vec!["invalid_placeholder"]);

    let mut d = get("sprint_problematic_score");
    d.weights.as_mut().unwrap().insert("accuracy_abs".into(), 0.5);
    assert_eq!(codes(&d), vec!["invalid_weights"]);
}

#[test]
fn sql_that_could_escape_its_fragment_is_refused() {
    for bad in [
        "f.id; DROP TABLE analytics.issues",
        "f.id -- comment",
        "f.id /* x */",
        "(f.id",
        "f.id)",
        "'unterminated",
        "f.\"id\"",
        "$1",
        "$$x$$",
        "f.id\u{0}",
        "",
    ] {
        assert!(sql::check_fragment(bad).is_err(), "{bad:?} accepted");
    }
    for good in ["f.id", "CASE WHEN f.reopen_count > 0 THEN 1.0 ELSE 0.0 END", "f.issue_type = 'Bug''s; -- not a comment'"] {
        assert_eq!(sql::check_fragment(good), Ok(()), "{good:?}");
    }
    let mut d = valid();
    d.sql_expression = "f.id); DELETE FROM analytics.issues; SELECT (1".into();
    assert!(codes(&d).contains(&"unsafe_sql"));
}

#[test]
fn placeholders_are_found_and_rendered_as_given() {
    assert_eq!(sql::placeholders("a {{x}} b {{ y }} {{x}}"), Ok(vec!["x".to_string(), "y".to_string()]));
    assert!(sql::placeholders("{{Bad Name}}").is_err());
    assert!(sql::placeholders("{{open").is_err());
    let values = [("x".to_string(), "$1::text[]".to_string())].into_iter().collect();
    assert_eq!(sql::render("f.labels && {{x}}", &values), Ok("f.labels && ($1::text[])".into()));
    assert!(sql::render("{{y}}", &values).is_err());
}

#[test]
fn aggregates_use_postgres_functions() {
    assert_eq!(sql::aggregate(Aggregation::Count, "f.id", Some("f.x")), "count(f.id) FILTER (WHERE f.x)");
    assert_eq!(
        sql::aggregate(Aggregation::P90, "f.lead_time_days", None),
        "percentile_cont(0.9) WITHIN GROUP (ORDER BY (f.lead_time_days))"
    );
}

#[test]
fn probes_bind_typed_nulls() {
    assert_eq!(
        sql::probe(&get("escaped_defects")).unwrap(),
        "SELECT count(f.id) FILTER (WHERE f.issue_type = 'Bug' AND f.labels && (NULL::text[])), max(f.created_at) FROM analytics.issue_facts AS f"
    );
    assert_eq!(sql::probe(&get("throughput_ratio")).unwrap(), "SELECT (NULL::numeric)::numeric / NULLIF((NULL::numeric), 0)");
}

#[test]
fn dependency_problems_are_found() {
    let mut defs = builtin();
    defs.iter_mut().find(|m| m.name == "velocity").unwrap().dependencies.push("no_such_metric".into());
    defs.iter_mut().find(|m| m.name == "completed_sp").unwrap().dependencies.push("velocity".into());
    let problems = check::check(&defs);
    let codes: Vec<_> = problems.iter().map(|p| (p.metric.as_str(), p.code)).collect();
    assert!(codes.contains(&("velocity", "missing_dependency")), "{problems:?}");
    assert!(codes.contains(&("completed_sp", "dependency_cycle")), "{problems:?}");
    let mut dup = builtin();
    dup.push(get("created"));
    assert!(check::check(&dup).iter().any(|p| p.code == "duplicate_name"));
}

#[test]
fn rows_and_json_round_trip() {
    let d = get("escaped_defects");
    let mut row = serde_json::to_value(&d).unwrap();
    row["is_active"] = json!(true);
    row["source"] = json!("builtin");
    row["weights"] = serde_json::Value::Null;
    assert_eq!(MetricDef::from_row(&row), Ok(d.clone()));
    let mut with_unknown = serde_json::to_value(&d).unwrap();
    with_unknown["colour"] = json!("red");
    assert!(MetricDef::from_json(&with_unknown).unwrap_err().contains("colour"));
    let mut bumped = d.clone();
    bumped.version = 7;
    assert!(bumped.same_definition(&d));
}

#[test]
fn timestamps_and_parameter_types() {
    assert!(is_timestamp_text("now"));
    assert!(is_timestamp_text("2025-04-01"));
    assert!(is_timestamp_text("2025-04-01 10:00:00+02"));
    assert!(is_timestamp_text("2025-04-01T10:00:00.123Z"));
    assert!(is_timestamp_text("2024-02-29 00:00+00:00"));
    assert!(!is_timestamp_text("yesterday; drop"));
    assert!(!is_timestamp_text("2025-02-30"));
    assert!(!is_timestamp_text("2025-13-01"));
    assert!(!is_timestamp_text("2025-01-01 25:00"));
    assert!(!is_timestamp_text("2025-01-01 10:00 America/New_York"));
    assert!(!is_timestamp_text("2025-01-01x"));
    assert!(ParamType::Integer.accepts(&json!(5)));
    assert!(!ParamType::Integer.accepts(&json!(5.5)));
    assert!(!ParamType::TextArray.accepts(&json!(["a", 1])));
}
