//! Prints what the builtin translator makes of questions, with the values and day of the evaluation set
//! (tests/nl/cases.json) (a developer's tool): `cargo run -q -p analytics-core --example translate -- 'question' ...`.
use analytics_core::catalog::builtin;
use analytics_core::nl::{translate, Context, Translation};
use chrono::NaiveDate;
use std::collections::BTreeMap;

fn main() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/nl/cases.json")).expect("cases.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let today = NaiveDate::parse_from_str(v["today"].as_str().expect("today"), "%Y-%m-%d").expect("a date");
    let values: BTreeMap<String, Vec<String>> = serde_json::from_value(v["values"].clone()).expect("values");
    let catalog = builtin::metrics().expect("catalog");
    let ctx = Context::new(&catalog, &values, today);
    for q in std::env::args().skip(1) {
        match translate(&q, &ctx) {
            Translation::Spec(s) => println!("{q}\n  -> {s}"),
            Translation::Clarify(c) => println!("{q}\n  ?? {}", c.reason),
        }
    }
}
