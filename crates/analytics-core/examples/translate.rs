//! Prints what the builtin translator makes of questions, with the values and day of an evaluation set
//! (a developer's tool): `cargo run -q -p analytics-core --example translate -- [--set fresh.json] [--all] 'question' ...`.
//! `--set`: another set in tests/nl/ (default cases.json); `--all`: every question of the set, with
//! whether the set expects a clarification.
use analytics_core::catalog::builtin;
use analytics_core::nl::{translate, Context, Translation};
use chrono::NaiveDate;
use std::collections::BTreeMap;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut set = "cases.json".to_string();
    if let Some(i) = args.iter().position(|a| a == "--set") {
        set = args.get(i + 1).cloned().expect("--set NAME");
        args.drain(i..i + 2);
    }
    let all = args.iter().any(|a| a == "--all");
    args.retain(|a| a != "--all");
    let path = format!("{}/../../tests/nl/{set}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the question set");
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let today = NaiveDate::parse_from_str(v["today"].as_str().expect("today"), "%Y-%m-%d").expect("a date");
    let values: BTreeMap<String, Vec<String>> = serde_json::from_value(v["values"].clone()).expect("values");
    let catalog = builtin::metrics().expect("catalog");
    let ctx = Context::new(&catalog, &values, today);
    let mut questions: Vec<(String, Option<bool>)> = args.into_iter().map(|q| (q, None)).collect();
    if all {
        for c in v["cases"].as_array().expect("cases") {
            let q = c["q"].as_str().or_else(|| c["question"].as_str()).expect("a question");
            questions.push((q.to_string(), Some(c["clarify"].as_bool().unwrap_or(false))));
        }
    }
    for (q, expect_clarify) in questions {
        let mark = match expect_clarify {
            Some(true) => " [expects a clarification]",
            _ => "",
        };
        match translate(&q, &ctx) {
            Translation::Spec(s) => println!("{q}{mark}\n  -> {s}"),
            Translation::Clarify(c) => println!("{q}{mark}\n  ?? {}\n  reading {}", c.reason, analytics_core::nl::reading(&q, &ctx)),
        }
    }
}
