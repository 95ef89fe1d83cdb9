//! Scoring a translator against an evaluation set: each case is a question with the spec it should
//! give, or `"clarify": true` when the honest answer is a question back. A spec matches when its
//! metrics, grouping, filters, period, sorting and limit are the same once both are validated and put
//! in canonical form (filters compared as a set).

use super::{translate, Context, Translation};
use crate::catalog::MetricDef;
use crate::spec::parse;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    #[serde(rename = "q")]
    pub question: String,
    #[serde(default)]
    pub spec: Option<Value>,
    /// Other specs that mean the same ("bugs closed": closed issues of type Bug, or bugs by resolution date).
    #[serde(default, rename = "or")]
    pub alternatives: Vec<Value>,
    #[serde(default)]
    pub clarify: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The expected spec.
    Correct,
    /// Expected a question back, and asked one.
    ClarifiedAsExpected,
    /// Expected a spec, asked a question back instead (not wrong, but not answered).
    Clarified,
    /// A different spec than expected: a wrong answer.
    Wrong,
    /// Answered where it should have asked.
    Guessed,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub question: String,
    pub outcome: Outcome,
    /// What differs, or the clarification's reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub cases: usize,
    /// Correct or clarified as expected.
    pub correct: usize,
    pub clarified: usize,
    pub wrong: usize,
    /// correct / cases.
    pub accuracy: f64,
    pub results: Vec<CaseResult>,
}

/// The parts of two specs that differ ("metrics", "filters", ...), both validated against the catalog.
pub fn differences(expected: &Value, actual: &Value, catalog: &[MetricDef]) -> Result<Vec<String>, String> {
    let canon = |v: &Value, what: &str| -> Result<Value, String> {
        parse(v, catalog).map(|s| s.canonical()).map_err(|e| {
            format!("the {what} spec is not valid: {}", e.first().map(|e| format!("{} {}", e.path, e.message)).unwrap_or_default())
        })
    };
    let (e, a) = (canon(expected, "expected")?, canon(actual, "actual")?);
    let mut diffs = Vec::new();
    for key in ["entity", "metrics", "fields", "group_by", "filters", "date_range", "sort_by", "limit"] {
        let (mut x, mut y) = (e[key].clone(), a[key].clone());
        if key == "filters" {
            for v in [&mut x, &mut y] {
                if let Value::Array(items) = v {
                    items.sort_by_key(|i| i.to_string());
                }
            }
        }
        if x != y {
            diffs.push(format!("{key}: expected {x}, got {y}"));
        }
    }
    Ok(diffs)
}

/// Runs every case through the builtin translator.
pub fn run(cases: &[Case], ctx: &Context) -> Report {
    let results: Vec<CaseResult> = cases
        .iter()
        .map(|c| {
            let t = translate(&c.question, ctx);
            let (outcome, detail, spec) = match (&t, &c.spec) {
                (Translation::Spec(s), Some(expected)) => match differences(expected, s, ctx.catalog) {
                    Ok(d) if d.is_empty() => (Outcome::Correct, None, Some(s.clone())),
                    Ok(_) if c.alternatives.iter().any(|a| differences(a, s, ctx.catalog).is_ok_and(|d| d.is_empty())) => {
                        (Outcome::Correct, None, Some(s.clone()))
                    }
                    Ok(d) => (Outcome::Wrong, Some(d.join("; ")), Some(s.clone())),
                    Err(e) => (Outcome::Wrong, Some(e), Some(s.clone())),
                },
                (Translation::Spec(s), None) => (Outcome::Guessed, Some("expected a clarification".into()), Some(s.clone())),
                (Translation::Clarify(q), Some(_)) => (Outcome::Clarified, Some(q.reason.clone()), None),
                (Translation::Clarify(q), None) => (Outcome::ClarifiedAsExpected, Some(q.reason.clone()), None),
            };
            CaseResult { question: c.question.clone(), outcome, detail, spec }
        })
        .collect();
    let count = |o: &[Outcome]| results.iter().filter(|r| o.contains(&r.outcome)).count();
    let correct = count(&[Outcome::Correct, Outcome::ClarifiedAsExpected]);
    Report {
        cases: results.len(),
        correct,
        clarified: count(&[Outcome::Clarified]),
        wrong: count(&[Outcome::Wrong, Outcome::Guessed]),
        accuracy: if results.is_empty() { 0.0 } else { correct as f64 / results.len() as f64 },
        results,
    }
}
