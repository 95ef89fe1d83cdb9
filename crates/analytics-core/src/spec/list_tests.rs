//! List specs: parsing, the canonical form, and the SQL they compile to.

use super::*;
use crate::catalog::{builtin, MetricDef};
use serde_json::{json, Value};

fn catalog() -> Vec<MetricDef> {
    builtin::metrics().unwrap()
}

fn ok(v: Value) -> Spec {
    parse(&v, &catalog()).unwrap_or_else(|e| panic!("{v}: {e:#?}"))
}

fn codes(v: Value) -> Vec<(String, &'static str)> {
    parse(&v, &catalog()).expect_err(&format!("{v} should be invalid")).into_iter().map(|e| (e.path, e.code)).collect()
}

fn sql(v: Value) -> Compiled {
    compile(&ok(v), &catalog(), "acme").unwrap()
}

#[test]
fn a_list_of_stuck_issues_compiles_to_rows_with_their_days() {
    let spec = ok(json!({"fields": ["key", "summary", "status", "assignee", "days_in_status"],
        "filters": [{"metric": "stuck_count", "params": {"days": 7}}, {"field": "priority", "operator": "in", "value": ["High", "Highest"]}]}));
    assert!(spec.is_list());
    assert_eq!(spec.columns(), vec!["key", "summary", "status", "assignee", "days_in_status"]);
    let c = compile(&spec, &catalog(), "acme").unwrap();
    assert!(c.sql.starts_with("SELECT f.issue_key AS \"key\", f.summary AS \"summary\""), "{}", c.sql);
    assert!(c.sql.contains("FROM analytics.issues AS f WHERE f.tenant_id = $1::text"), "no view needed: {}", c.sql);
    assert!(c.sql.contains("make_interval(days => "), "the stuck condition is a WHERE: {}", c.sql);
    assert!(c.sql.contains("ORDER BY \"days_in_status\" DESC NULLS LAST, f.id LIMIT"), "{}", c.sql);
    assert!(!c.sql.contains("GROUP BY") && !c.sql.contains("count("), "{}", c.sql);
    let roles: Vec<&str> = c.columns.iter().map(|c| c.role).collect();
    assert_eq!(roles, vec!["field", "field", "field", "field", "metric"]);
    assert_eq!(c.columns[4].unit, Some("days"));
    let names: Vec<&str> = c.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, vec!["days_in_status", "stuck_count"]);
    // Every value is a parameter: the days, the priorities, the tenant.
    assert!(c.params.iter().any(|p| format!("{p:?}").contains("Integer(7)")));
    assert!(!c.sql.contains("High") && !c.sql.contains("acme"));
}

#[test]
fn a_metric_field_is_null_where_its_own_filter_leaves_the_row_out() {
    let c = sql(json!({"fields": ["key", "ageing_wip"]}));
    assert!(c.sql.contains("CASE WHEN analytics.category_at(f.id, ($2::timestamptz)) = 'in_progress' THEN extract(epoch"), "{}", c.sql);
    let c =
        sql(json!({"fields": ["key", {"name": "blocked_hours", "alias": "hours_blocked", "params": {"statuses": ["Blocked", "On Hold"]}}],
        "filters": [{"metric": "blocked_hours", "operator": "gt", "value": 24}]}));
    assert!(c.sql.contains("AS \"hours_blocked\""), "{}", c.sql);
    assert!(c.sql.contains(") > $"), "the comparison: {}", c.sql);
    assert!(!c.sql.contains("created_at >="), "no window without a date range: {}", c.sql);
}

#[test]
fn a_date_range_applies_to_the_metric_filters_dates_or_to_creation() {
    // closed counts by resolution date: its window.
    let c = sql(json!({"fields": ["key"], "filters": [{"metric": "closed"}], "date_range": {"last": "30 days"}}));
    assert!(c.sql.contains("f.resolved_at >= now() - "), "{}", c.sql);
    // Without a metric filter with a date: creation, written into the canonical form.
    let spec = ok(json!({"fields": ["key"], "date_range": {"last": "30 days"}}));
    assert_eq!(spec.canonical()["date_range"]["field"], json!("created_at"));
    assert!(compile(&spec, &catalog(), "t").unwrap().sql.contains("f.created_at >= now() - "));
    // A field of its own wins.
    let c = sql(json!({"fields": ["key"], "filters": [{"metric": "closed"}], "date_range": {"field": "updated_at", "last": "7 days"}}));
    assert!(c.sql.contains("f.updated_at >= now() - ") && !c.sql.contains("f.resolved_at >="), "{}", c.sql);
    // A snapshot filter is taken at the end of an absolute period.
    let spec = ok(json!({"fields": ["key"], "filters": [{"metric": "wip"}], "date_range": {"from": "2026-01-01", "to": "2026-02-01"}}));
    assert_eq!(spec.metric_filters[0].params["as_of"], json!("2026-02-01"));
    assert_eq!(spec.canonical()["date_range"]["field"], Value::Null, "a snapshot's range is its moment, not a creation window");
    assert!(!compile(&spec, &catalog(), "t").unwrap().sql.contains("f.created_at >="));
}

#[test]
fn canonical_lists_round_trip_and_hash_apart_from_aggregates() {
    let spec = ok(
        json!({"fields": ["key", {"name": "lead_time_days"}], "filters": [{"metric": "bug_count"}], "sort_by": ["lead_time_days"], "limit": 5}),
    );
    let canon = spec.canonical();
    assert!(canon.get("metrics").is_none() && canon.get("group_by").is_none());
    assert_eq!(canon["fields"], json!([{"name": "key", "alias": "key"}, {"name": "lead_time_days", "alias": "lead_time_days"}]));
    assert_eq!(canon["filters"], json!([{"metric": "bug_count", "params": {}}]));
    assert_eq!(canon["sort_by"], json!([{"field": "lead_time_days", "direction": "asc"}]), "a column sorts ascending unless told");
    let again = ok(canon.clone());
    assert_eq!(again, spec);
    assert_eq!(again.hash(), spec.hash());
    // Aggregate specs keep their form: no fields key.
    assert!(ok(json!({"metrics": ["bug_count"]})).canonical().get("fields").is_none());
    // A metric field sorts descending unless told.
    let s = ok(json!({"fields": ["key", "blocked_hours"], "sort_by": ["blocked_hours"]}));
    assert!(s.sort_by[0].descending);
}

#[test]
fn hostile_and_wrong_fields_are_refused_with_paths() {
    let bad = |fields: Value| codes(json!({"fields": fields}));
    assert_eq!(bad(json!(["key", "tenant_id"])), vec![("$.fields[1]".into(), "forbidden_field")]);
    assert_eq!(bad(json!(["key\"; DROP TABLE analytics.issues; --"])), vec![("$.fields[0]".into(), "unknown_field")]);
    assert_eq!(bad(json!(["id"])), vec![("$.fields[0]".into(), "unknown_field")], "internal ids are not fields");
    assert_eq!(bad(json!([{"name": "summary", "alias": "x\" FROM pg_authid --"}])), vec![("$.fields[0].alias".into(), "invalid_value")]);
    assert_eq!(bad(json!(["bug_count"])), vec![("$.fields[0]".into(), "not_listable")], "a count has no value per issue");
    assert_eq!(bad(json!(["throughput_ratio"])), vec![("$.fields[0]".into(), "not_listable")]);
    assert_eq!(bad(json!(["velocity"])), vec![("$.fields[0]".into(), "unknown_field")], "a sprint metric in an issue list");
    assert_eq!(bad(json!(["key", "key"])), vec![("$.fields[1]".into(), "duplicate_alias")]);
    assert_eq!(bad(json!([])), vec![("$.fields".into(), "missing_key")]);
    assert_eq!(bad(json!("key")), vec![("$.fields".into(), "wrong_type")]);
    assert_eq!(bad(json!([{"name": "key", "params": {"x": 1}}])), vec![("$.fields[0].params".into(), "unknown_parameter")]);
    assert_eq!(
        bad(json!([{"name": "blocked_hours", "params": {"statuses": "Blocked"}}])),
        vec![("$.fields[0].params.statuses".into(), "wrong_type")]
    );
    let many: Vec<Value> = (0..21).map(|_| json!("key")).collect();
    assert_eq!(bad(Value::Array(many)), vec![("$.fields".into(), "too_many")]);
    let e = parse(&json!({"fields": ["sumary"]}), &catalog()).unwrap_err();
    assert_eq!(e[0].suggestions.first().map(String::as_str), Some("summary"));
}

#[test]
fn lists_do_not_aggregate_and_metric_filters_are_for_lists() {
    assert_eq!(codes(json!({"fields": ["key"], "metrics": ["bug_count"]})), vec![("$.metrics".into(), "list_with_metrics")]);
    assert_eq!(codes(json!({"fields": ["key"], "group_by": ["assignee"]})), vec![("$.group_by".into(), "list_with_groups")]);
    assert_eq!(codes(json!({"metrics": ["bug_count"], "filters": [{"metric": "stuck_count"}]})), vec![("$.filters".into(), "list_only")]);
    assert_eq!(
        codes(json!({"fields": ["key"], "filters": [{"metric": "net_flow"}]})),
        vec![("$.filters[0].metric".into(), "not_listable")]
    );
    assert_eq!(
        codes(json!({"fields": ["key"], "filters": [{"metric": "velocity"}]})),
        vec![("$.filters[0].metric".into(), "entity_mismatch")]
    );
    assert_eq!(
        codes(json!({"fields": ["key"], "filters": [{"metric": "bug_count", "operator": "gt", "value": 1}]})),
        vec![("$.filters[0].operator".into(), "invalid_operator")],
        "a count has no value to compare"
    );
    assert_eq!(
        codes(json!({"fields": ["key"], "filters": [{"metric": "blocked_hours", "operator": "gt", "value": "lots"}]})),
        vec![("$.filters[0].value".into(), "wrong_type")]
    );
    assert_eq!(
        codes(json!({"fields": ["key"], "filters": [{"metric": "blocked_hours", "operator": "contains", "value": 1}]})),
        vec![("$.filters[0].operator".into(), "invalid_operator")]
    );
    assert_eq!(
        codes(json!({"fields": ["key"], "filters": [{"metric": "stuck_count", "params": {"days": "5; DROP"}}]})),
        vec![("$.filters[0].params.days".into(), "wrong_type")]
    );
    assert_eq!(codes(json!({"fields": ["key"], "sort_by": ["priority"]})), vec![("$.sort_by[0]".into(), "unknown_sort_field")]);
    assert_eq!(codes(json!({"fields": ["key"], "limit": 5000})), vec![("$.limit".into(), "limit_out_of_range")]);
}

#[test]
fn sprint_lists_show_sprints_with_their_values() {
    let c = sql(json!({"entity": "sprint", "fields": ["sprint", "board", "spillover_ratio"], "date_range": {"last_sprints": 3}}));
    assert!(c.sql.contains("FROM analytics.sprint_facts AS f"), "{}", c.sql);
    assert!(c.sql.contains("CASE WHEN f.state = 'closed' THEN f.spillover_ratio END AS \"spillover_ratio\""), "{}", c.sql);
    assert!(c.sql.contains("row_number() OVER"), "last sprints: {}", c.sql);
    assert!(c.sql.contains("f.sprint_id LIMIT"), "{}", c.sql);
    let c = sql(json!({"entity": "sprint", "fields": ["sprint", "state"]}));
    assert!(!c.sql.contains("sprint_facts"), "plain sprint columns read the sprints: {}", c.sql);
}
