//! The system prompt for LLM providers: the text in `prompts/` with the live catalog, the dimension
//! whitelist, the tenant's values and dated few-shot examples filled in.

use crate::catalog::{Kind, MetricDef};
use crate::spec::dims;
use chrono::{Datelike, NaiveDate};
use serde_json::Value;
use std::collections::BTreeMap;

const SYSTEM: &str = include_str!("../../../../prompts/system.md");
const FORMAT: &str = include_str!("../../../../prompts/format.md");
const EXAMPLES: &str = include_str!("../../../../prompts/examples.json");
const POOL: &str = include_str!("../../../../prompts/pool.json");

/// Few-shot examples sent with a question: the closest of the pool.
pub const RETRIEVED: usize = 5;

/// At most this many values per dimension go into the prompt.
pub const MAX_VALUES: usize = 40;

fn first(y: i32, m: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(NaiveDate::MIN)
}

/// The few-shot examples with their dates filled in for `today`: (question, spec as the model writes it).
pub fn examples(today: NaiveDate) -> Vec<(String, Value)> {
    dated(EXAMPLES, today)
}

/// Every example a question's few-shot examples are retrieved from: [`examples`] and `prompts/pool.json`
/// (short-form specs written out in the model's form; a `"clarify"` entry is a reason).
pub fn pool(today: NaiveDate) -> Vec<(String, Value)> {
    let mut all = examples(today);
    for (q, s) in dated(POOL, today) {
        all.push((q, model_form(&s)));
    }
    all
}

/// A short-form spec as the model writes it under the schema: every key present, nulls for defaults.
pub fn model_form(spec: &Value) -> Value {
    if let Some(reason) = spec.get("clarify").and_then(Value::as_str) {
        return serde_json::json!({"entity": null, "metrics": [], "fields": [], "group_by": [], "filters": [], "date_range": null,
            "sort_by": [], "limit": null, "clarification": reason});
    }
    let list = |k: &str| spec.get(k).and_then(Value::as_array).cloned().unwrap_or_default();
    let metrics: Vec<Value> = list("metrics")
        .into_iter()
        .map(|m| match m {
            Value::String(n) => serde_json::json!({"name": n, "aggregation": null}),
            mut o => {
                if o.get("aggregation").is_none() {
                    o["aggregation"] = Value::Null;
                }
                o
            }
        })
        .collect();
    let fields: Vec<Value> = list("fields").into_iter().map(|f| if f.is_string() { serde_json::json!({"name": f}) } else { f }).collect();
    let group_by: Vec<Value> = list("group_by")
        .into_iter()
        .map(|g| match g {
            Value::String(f) => serde_json::json!({"field": f, "interval": null}),
            o => serde_json::json!({"field": o["field"], "interval": o.get("interval").cloned().unwrap_or(Value::Null)}),
        })
        .collect();
    let filters: Vec<Value> = list("filters")
        .into_iter()
        .map(|f| match f.get("metric") {
            Some(m) => serde_json::json!({"metric": m, "operator": f.get("operator").cloned().unwrap_or(Value::Null), "value": f.get("value").cloned().unwrap_or(Value::Null)}),
            None => serde_json::json!({"field": f["field"], "operator": f["operator"], "value": f.get("value").cloned().unwrap_or(Value::Null)}),
        })
        .collect();
    serde_json::json!({"entity": spec.get("entity").cloned().unwrap_or(Value::Null), "metrics": metrics, "fields": fields, "group_by": group_by,
        "filters": filters, "date_range": spec.get("date_range").cloned().unwrap_or(Value::Null), "sort_by": list("sort_by"),
        "limit": spec.get("limit").cloned().unwrap_or(Value::Null), "clarification": null})
}

/// The `n` examples of the pool closest to the question: most shared word stems, rare stems counting
/// more (idf); ties in pool order. The example that refuses an instruction inside a question is always
/// among them.
pub fn closest(question: &str, pool: &[(String, Value)], n: usize) -> Vec<(String, Value)> {
    let stems = |t: &str| -> Vec<String> {
        let mut v: Vec<String> = crate::nl::text::tokens(t).into_iter().filter(|w| !crate::nl::lexicon::is_filler(w)).collect();
        v.sort();
        v.dedup();
        v
    };
    let docs: Vec<Vec<String>> = pool.iter().map(|(q, _)| stems(q)).collect();
    let count = docs.len() as f64;
    let idf = |w: &String| ((count + 1.0) / (1.0 + docs.iter().filter(|d| d.contains(w)).count() as f64)).ln();
    let asked = stems(question);
    let mut scored: Vec<(f64, usize)> =
        docs.iter().enumerate().map(|(i, d)| (asked.iter().filter(|w| d.contains(w)).map(idf).sum::<f64>(), i)).collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let guard = pool.iter().position(|(q, _)| q.to_lowercase().starts_with("ignore"));
    let mut picked: Vec<usize> =
        scored.iter().map(|(_, i)| *i).filter(|i| Some(*i) != guard).take(n.saturating_sub(guard.is_some() as usize)).collect();
    picked.extend(guard);
    picked.into_iter().map(|i| pool[i].clone()).collect()
}

fn dated(text: &str, today: NaiveDate) -> Vec<(String, Value)> {
    let q0 = (today.month0() / 3) * 3 + 1;
    let this_q = first(today.year(), q0);
    let last_q = if q0 == 1 { first(today.year() - 1, 10) } else { first(today.year(), q0 - 3) };
    let march = if today.month() >= 3 { first(today.year(), 3) } else { first(today.year() - 1, 3) };
    let d = |x: NaiveDate| x.format("%Y-%m-%d").to_string();
    let text = text
        .replace("{{last_quarter_from}}", &d(last_q))
        .replace("{{last_quarter_to}}", &d(this_q))
        .replace("{{this_year_from}}", &d(first(today.year(), 1)))
        .replace("{{since_march_from}}", &d(march));
    let list: Vec<Value> = serde_json::from_str(&text).unwrap_or_default();
    list.into_iter()
        .filter_map(|e| {
            let q = e.get("q")?.as_str()?.to_string();
            match (e.get("spec"), e.get("clarify")) {
                (Some(s), _) => Some((q, s.clone())),
                (None, Some(reason)) => Some((q, serde_json::json!({"clarify": reason}))),
                _ => None,
            }
        })
        .collect()
}

fn metric_lines(catalog: &[MetricDef]) -> String {
    catalog
        .iter()
        .map(|m| {
            let aggs: Vec<&str> =
                if m.kind == Kind::Formula { vec![] } else { m.allowed_aggregations.iter().map(|a| a.as_str()).collect() };
            let direction = if m.tags.iter().any(|t| t == "lower_is_better") {
                "; lower is better"
            } else if m.tags.iter().any(|t| t == "higher_is_better") {
                "; higher is better"
            } else {
                ""
            };
            // Parameters, for "params" (a null or a missing one keeps its default).
            let params: Vec<String> = m
                .parameters
                .iter()
                .map(|(k, p)| format!("{k} ({}, default {}): {}", p.param_type.sql_type(), p.default, p.description))
                .collect();
            let params = if params.is_empty() { String::new() } else { format!(" Params: {}", params.join("; ")) };
            format!(
                "- {} ({}, {}, time field {}, aggregations {} default {}{direction}): {} Words: {}.{params}",
                m.name,
                m.entity.as_str(),
                m.unit.as_str(),
                m.time_field.as_deref().unwrap_or("none: measured at the period's end"),
                if aggs.is_empty() { "none".to_string() } else { aggs.join("/") },
                m.default_aggregation.as_str(),
                m.description,
                m.synonyms.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn dimension_lines(list: &[dims::Dimension]) -> String {
    list.iter().map(|d| format!("- {}: {}", d.name, d.description)).collect::<Vec<_>>().join("\n")
}

fn value_lines(values: &BTreeMap<String, Vec<String>>) -> String {
    if values.is_empty() {
        return "(no data yet)".into();
    }
    values
        .iter()
        .map(|(dim, vals)| {
            let shown: Vec<String> = vals.iter().take(MAX_VALUES).map(|v| serde_json::to_string(v).unwrap_or_default()).collect();
            let more = if vals.len() > MAX_VALUES { format!(" (and {} more)", vals.len() - MAX_VALUES) } else { String::new() };
            format!("- {dim}: {}{more}", shown.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The system prompt for one call, with the fixed examples.
pub fn system(catalog: &[MetricDef], values: &BTreeMap<String, Vec<String>>, today: NaiveDate) -> String {
    system_with(catalog, values, today, &examples(today))
}

/// The system prompt for a question's own examples ([`RETRIEVED`] closest of the [`pool`]) in place of
/// the fixed ones. (Calls send the fixed system prompt and these examples in the question's turn
/// instead, see [`question_turn`]: a system prompt that changes with the question cannot be served from
/// a server's prompt cache, which cost a 1.5B model on 2 cores about 30 s per question.)
pub fn system_for(catalog: &[MetricDef], values: &BTreeMap<String, Vec<String>>, today: NaiveDate, question: &str) -> String {
    system_with(catalog, values, today, &closest(question, &pool(today), RETRIEVED))
}

/// The system prompt calls send: the rules, catalog, dimensions, values and format, no examples (they
/// come with the question, [`question_turn`]), so it is the same for every question of a tenant.
pub fn system_plain(catalog: &[MetricDef], values: &BTreeMap<String, Vec<String>>, today: NaiveDate) -> String {
    system_with(catalog, values, today, &[])
}

/// The question's turn: the [`RETRIEVED`] examples of the [`pool`] closest to it, then the question and
/// the hint (hybrid mode), so the long system prompt stays the same for every question.
pub fn question_turn(question: &str, hint: Option<&str>, today: NaiveDate) -> String {
    let examples: Vec<String> = closest(question, &pool(today), RETRIEVED)
        .iter()
        .map(|(q, s)| format!("Q: {q}\nA: {}", serde_json::to_string(s).unwrap_or_default()))
        .collect();
    let mut out = format!("Examples of similar questions:\n{}\n\nQuestion: {question}", examples.join("\n"));
    if let Some(h) = hint {
        out.push_str(&format!("\n\n({h})"));
    }
    out
}

/// What the builtin translator made of a question it could not answer, for the model (hybrid mode):
/// its reading, why it stopped, and its candidate specs.
pub fn builtin_hint(reading: &Value, reason: &str, candidates: &[(String, Option<Value>)]) -> String {
    let mut out = format!(
        "A rule-based reader of this question found: {}. It could not answer because {reason}.",
        serde_json::to_string(reading).unwrap_or_default()
    );
    let shown: Vec<String> = candidates
        .iter()
        .take(3)
        .map(|(d, s)| match s {
            Some(s) => format!("- {d}: {}", serde_json::to_string(s).unwrap_or_default()),
            None => format!("- {d}"),
        })
        .collect();
    if !shown.is_empty() {
        out.push_str(&format!(" Its closest readings (use one if it fits, or write a better spec):\n{}", shown.join("\n")));
    }
    out
}

fn system_with(catalog: &[MetricDef], values: &BTreeMap<String, Vec<String>>, today: NaiveDate, examples: &[(String, Value)]) -> String {
    let examples: Vec<String> =
        examples.iter().map(|(q, s)| format!("Q: {q}\nA: {}", serde_json::to_string(s).unwrap_or_default())).collect();
    let format = if examples.is_empty() {
        FORMAT.trim_end().to_string()
    } else {
        format!("{}\nExamples:\n{}", FORMAT.trim_end(), examples.join("\n"))
    };
    SYSTEM
        .replace("{{today}}", &today.format("%Y-%m-%d (%A)").to_string())
        .replace("{{metrics}}", &metric_lines(catalog))
        .replace("{{issue_dimensions}}", &dimension_lines(dims::ISSUE_DIMENSIONS))
        .replace("{{sprint_dimensions}}", &dimension_lines(dims::SPRINT_DIMENSIONS))
        .replace("{{values}}", &value_lines(values))
        .replace("{{format}}", &format)
}
