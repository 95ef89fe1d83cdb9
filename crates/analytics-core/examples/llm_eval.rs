//! The evaluation set (tests/nl/cases.json) through an LLM provider: how many questions end in a valid
//! spec (validated by `spec::parse`, at most 3 attempts), how many needed no retry, and how many match
//! the expected spec. Used by `make test-llm` against a local llama.cpp server; never sends anything
//! anywhere but the given base URL.
//! `cargo run --release -p analytics-core --example llm_eval -- --base-url http://127.0.0.1:28819/v1 [--set fresh.json] [--hybrid] [--from N] [--limit N] [--timeout-s 120] [--min-valid 0.8]`
//! `--set`: another set in tests/nl/; `--hybrid`: hybrid mode (the builtin translator first; the model,
//! told its reading, only where it would ask back), which also prints how many the builtin path answered.

use analytics_core::ask::Provider;
use analytics_core::catalog::builtin;
use analytics_core::llm::{self, http::Ureq, Config, LlmError};
use analytics_core::nl::{eval, Context, Translation};
use chrono::NaiveDate;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let base = arg("--base-url").unwrap_or_else(|| "http://127.0.0.1:28819/v1".into());
    let limit: usize = arg("--limit").and_then(|l| l.parse().ok()).unwrap_or(usize::MAX);
    let from: usize = arg("--from").and_then(|l| l.parse().ok()).unwrap_or(1).max(1);
    let min_valid: f64 = arg("--min-valid").and_then(|l| l.parse().ok()).unwrap_or(0.8);
    let hybrid = args.iter().any(|a| a == "--hybrid");
    let path = format!("{}/../../tests/nl/{}", env!("CARGO_MANIFEST_DIR"), arg("--set").unwrap_or_else(|| "cases.json".into()));
    let set: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("cases")).expect("JSON");
    let values: BTreeMap<String, Vec<String>> = serde_json::from_value(set["values"].clone()).expect("values");
    let today = NaiveDate::parse_from_str(set["today"].as_str().unwrap_or("2026-11-27"), "%Y-%m-%d").expect("today");
    let cases: Vec<eval::Case> = serde_json::from_value(set["cases"].clone()).expect("cases");
    let catalog = builtin::metrics().expect("catalog");
    let ctx = Context::new(&catalog, &values, today);
    // Per request (a slower machine, or one busy with other work, needs more than the default 120 s).
    let timeout = Duration::from_secs(arg("--timeout-s").and_then(|t| t.parse().ok()).unwrap_or(120));
    let cfg = Config::new(Provider::OpenAiCompatible, arg("--model"), Some(base.clone()), None, timeout).expect("config");
    let (mut n, mut valid, mut first_try, mut correct, mut clarified, mut invalid, mut unavailable) = (0, 0, 0, 0, 0, 0, 0);
    let mut by_builtin = 0;
    let started = Instant::now();
    for (i, c) in cases.iter().enumerate().skip(from - 1).take(limit) {
        n += 1;
        let t = Instant::now();
        let r = if hybrid {
            match llm::hybrid_first(&c.question, &ctx) {
                Ok(t) => {
                    by_builtin += 1;
                    Ok(llm::Answer { translation: t, attempts: 1, model: "builtin".into() })
                }
                // The model asks back or gives no valid spec: the builtin translator's clarification stands.
                Err(turn) => match llm::translate_hinted(&c.question, Some(&turn.1), &cfg, &ctx, &Ureq) {
                    Ok(a) if matches!(a.translation, Translation::Spec(_)) => Ok(a),
                    Ok(a) => Ok(llm::Answer { translation: Translation::Clarify(turn.0), ..a }),
                    Err(llm::LlmError::InvalidOutput(p)) => {
                        Ok(llm::Answer { translation: Translation::Clarify(turn.0), attempts: p.len() as u32, model: "builtin".into() })
                    }
                    Err(e) => Err(e),
                },
            }
        } else {
            llm::translate(&c.question, &cfg, &ctx, &Ureq)
        };
        let ms = t.elapsed().as_millis();
        let line = match &r {
            Ok(a) => {
                valid += 1;
                first_try += (a.attempts == 1) as usize;
                match (&a.translation, &c.spec) {
                    (Translation::Spec(s), Some(expected)) => {
                        let ok = eval::differences(expected, s, &catalog).is_ok_and(|d| d.is_empty())
                            || c.alternatives.iter().any(|x| eval::differences(x, s, &catalog).is_ok_and(|d| d.is_empty()));
                        correct += ok as usize;
                        format!("{} spec (attempts {}) {s}", if ok { "match" } else { "other" }, a.attempts)
                    }
                    (Translation::Spec(s), None) => format!("answered where a clarification was expected: {s}"),
                    (Translation::Clarify(q), expected) => {
                        clarified += 1;
                        correct += expected.is_none() as usize;
                        format!("clarification: {}", q.reason)
                    }
                }
            }
            Err(LlmError::InvalidOutput(p)) => {
                invalid += 1;
                format!("no valid spec: {}", p.join(" / "))
            }
            Err(LlmError::Unavailable { message, .. }) => {
                unavailable += 1;
                format!("unavailable: {message}")
            }
        };
        println!("[{:3}] {ms:6} ms  {} -> {line}", i + 1, c.question);
    }
    let share = |k: usize| k as f64 / n.max(1) as f64;
    println!();
    println!(
        "questions {n}; valid spec or clarification within 3 attempts: {valid} ({:.3}); valid at the first attempt: {first_try} ({:.3})",
        share(valid),
        share(first_try)
    );
    println!("matching the expected spec: {correct} ({:.3}); clarifications: {clarified}; never valid: {invalid}; provider unavailable: {unavailable}", share(correct));
    if hybrid {
        println!("hybrid: answered by the builtin translator {by_builtin}, passed to the model {}", n - by_builtin);
    }
    println!("mean time per question: {:.1} s", started.elapsed().as_secs_f64() / n.max(1) as f64);
    if unavailable > 0 {
        eprintln!("FAILED: the server was unavailable for {unavailable} question(s)");
        std::process::exit(1);
    }
    if share(valid) < min_valid {
        eprintln!("FAILED: validity {:.3} is below {min_valid}", share(valid));
        std::process::exit(1);
    }
}
