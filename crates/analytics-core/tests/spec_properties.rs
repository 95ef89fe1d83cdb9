//! Property tests: for any JSON at all, parse -> validate -> compile never panics; whatever validates
//! compiles; the canonical form is a fixed point; the SQL text never depends on a value.

use analytics_core::catalog::{builtin, MetricDef};
use analytics_core::spec::{compile, parse};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn catalog() -> Vec<MetricDef> {
    builtin::metrics().unwrap()
}

/// Strings a spec might contain: real names (so many specs validate) and junk.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("created".to_string()),
        Just("closed".to_string()),
        Just("cycle_time".to_string()),
        Just("throughput_ratio".to_string()),
        Just("velocity".to_string()),
        Just("wip".to_string()),
        Just("escaped_defects".to_string()),
        Just("priority".to_string()),
        Just("label".to_string()),
        Just("board".to_string()),
        Just("sprint".to_string()),
        Just("created_at".to_string()),
        Just("resolved_at".to_string()),
        Just("month".to_string()),
        Just("eq".to_string()),
        Just("in".to_string()),
        Just("between".to_string()),
        Just("p90".to_string()),
        Just("desc".to_string()),
        Just("2025-01-01".to_string()),
        Just("90 days".to_string()),
        Just("issue".to_string()),
        Just("sprint".to_string()),
        "[a-z_]{0,12}",
        "\\PC{0,20}",
        ".*'; DROP TABLE x; --.*",
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("entity".to_string()),
        Just("metrics".to_string()),
        Just("group_by".to_string()),
        Just("filters".to_string()),
        Just("date_range".to_string()),
        Just("sort_by".to_string()),
        Just("limit".to_string()),
        Just("name".to_string()),
        Just("alias".to_string()),
        Just("aggregation".to_string()),
        Just("params".to_string()),
        Just("field".to_string()),
        Just("operator".to_string()),
        Just("value".to_string()),
        Just("interval".to_string()),
        Just("from".to_string()),
        Just("to".to_string()),
        Just("last".to_string()),
        Just("last_sprints".to_string()),
        Just("direction".to_string()),
        Just("labels".to_string()),
        Just("days".to_string()),
        "[a-z]{1,6}",
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(|f| serde_json::json!(f)),
        (0u64..2000).prop_map(Value::from),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn anything_parses_or_fails_cleanly_and_valid_specs_compile(v in json()) {
        let cat = catalog();
        match parse(&v, &cat) {
            Ok(spec) => {
                let c = compile(&spec, &cat, "tenant").expect("a valid spec compiles");
                prop_assert!(c.sql.starts_with("SELECT "));
                prop_assert!(c.params.len() >= 2, "tenant and limit are always bound");
                prop_assert!(!c.sql.contains("DROP TABLE"));
            }
            Err(errors) => prop_assert!(!errors.is_empty()),
        }
    }

    #[test]
    fn well_formed_specs_validate_and_hash_stably(
        metric in prop::sample::select(vec!["created", "closed", "cycle_time", "lead_time_p50", "bug_count", "reopen_rate", "throughput_ratio"]),
        group in prop::sample::select(vec!["priority", "issue_type", "assignee", "label", "board", "project"]),
        value in "\\PC{1,40}",
        limit in 1u32..=1000,
    ) {
        let spec = serde_json::json!({
            "metrics": [metric], "group_by": [group],
            "filters": [{"field": "assignee", "operator": "ne", "value": value}],
            "date_range": {"last": "30 days"}, "limit": limit,
        });
        let cat = catalog();
        let parsed = parse(&spec, &cat).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let again = parse(&parsed.canonical(), &cat).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(parsed.hash(), again.hash(), "the canonical form is a fixed point");
        // The SQL text does not depend on values at all: only the parameters do.
        let c = compile(&parsed, &cat, "t").unwrap();
        let mut other = spec.clone();
        other["filters"][0]["value"] = serde_json::json!("something else");
        let c2 = compile(&parse(&other, &cat).unwrap(), &cat, "another tenant").unwrap();
        prop_assert_eq!(&c.sql, &c2.sql);
        prop_assert_ne!(&c.params, &c2.params);
    }
}
