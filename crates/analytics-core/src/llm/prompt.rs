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

/// At most this many values per dimension go into the prompt.
pub const MAX_VALUES: usize = 40;

fn first(y: i32, m: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(NaiveDate::MIN)
}

/// The few-shot examples with their dates filled in for `today`: (question, spec as the model writes it).
pub fn examples(today: NaiveDate) -> Vec<(String, Value)> {
    let q0 = (today.month0() / 3) * 3 + 1;
    let this_q = first(today.year(), q0);
    let last_q = if q0 == 1 { first(today.year() - 1, 10) } else { first(today.year(), q0 - 3) };
    let march = if today.month() >= 3 { first(today.year(), 3) } else { first(today.year() - 1, 3) };
    let d = |x: NaiveDate| x.format("%Y-%m-%d").to_string();
    let text = EXAMPLES
        .replace("{{last_quarter_from}}", &d(last_q))
        .replace("{{last_quarter_to}}", &d(this_q))
        .replace("{{this_year_from}}", &d(first(today.year(), 1)))
        .replace("{{since_march_from}}", &d(march));
    let list: Vec<Value> = serde_json::from_str(&text).unwrap_or_default();
    list.into_iter().filter_map(|e| Some((e.get("q")?.as_str()?.to_string(), e.get("spec")?.clone()))).collect()
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

/// The system prompt for one call.
pub fn system(catalog: &[MetricDef], values: &BTreeMap<String, Vec<String>>, today: NaiveDate) -> String {
    let examples: Vec<String> =
        examples(today).into_iter().map(|(q, s)| format!("Q: {q}\nA: {}", serde_json::to_string(&s).unwrap_or_default())).collect();
    let format = format!("{}\nExamples:\n{}", FORMAT.trim_end(), examples.join("\n"));
    SYSTEM
        .replace("{{today}}", &today.format("%Y-%m-%d (%A)").to_string())
        .replace("{{metrics}}", &metric_lines(catalog))
        .replace("{{issue_dimensions}}", &dimension_lines(dims::ISSUE_DIMENSIONS))
        .replace("{{sprint_dimensions}}", &dimension_lines(dims::SPRINT_DIMENSIONS))
        .replace("{{values}}", &value_lines(values))
        .replace("{{format}}", &format)
}
