//! Benchmark of the builtin translator: every question of tests/nl/cases.json, many times over, in a
//! release build. Prints the mean time per question and its ratio to the 1 ms goal of issue #6.
//! `cargo run --release -p analytics-core --example nl_bench`

use analytics_core::catalog::builtin;
use analytics_core::nl::{translate, Context};
use chrono::NaiveDate;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Instant;

fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/nl/cases.json");
    let set: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("tests/nl/cases.json")).expect("valid JSON");
    let values: BTreeMap<String, Vec<String>> = serde_json::from_value(set["values"].clone()).expect("values");
    let today = NaiveDate::parse_from_str(set["today"].as_str().unwrap_or("2026-11-27"), "%Y-%m-%d").expect("today");
    let questions: Vec<String> = set["cases"].as_array().expect("cases").iter().filter_map(|c| c["q"].as_str().map(String::from)).collect();
    let catalog = builtin::metrics().expect("builtin catalog");
    let t = Instant::now();
    let ctx = Context::new(&catalog, &values, today);
    let prepare = t.elapsed().as_secs_f64();
    // Warm up (patterns compiled once per process).
    for q in &questions {
        std::hint::black_box(translate(q, &ctx));
    }
    let rounds = 50;
    let start = Instant::now();
    for _ in 0..rounds {
        for q in &questions {
            std::hint::black_box(translate(q, &ctx));
        }
    }
    let per = start.elapsed().as_secs_f64() / (rounds * questions.len()) as f64;
    // The slowest questions, each by its mean over 20 runs (one run alone is mostly timer noise).
    let mut each: Vec<(f64, &String)> = questions
        .iter()
        .map(|q| {
            let t = Instant::now();
            for _ in 0..20 {
                std::hint::black_box(translate(q, &ctx));
            }
            (t.elapsed().as_secs_f64() / 20.0, q)
        })
        .collect();
    each.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!(
        "builtin translator: {} questions x {rounds}: mean {:.1} us/question, slowest {:.1} us (mean of 20 runs)",
        questions.len(),
        per * 1e6,
        each[0].0 * 1e6
    );
    for (t, q) in each.iter().take(3) {
        println!("  {:.1} us  {q}", t * 1e6);
    }
    println!("preparing the catalog's and values' phrases (once per catalog version and tenant): {:.1} us", prepare * 1e6);
    println!("ratio mean / 1 ms goal: {:.3} (goal < 1); with preparation every time: {:.3}", per / 1e-3, (per + prepare) / 1e-3);
}
