//! Readings the spec language can say more exactly than the first build does:
//! - "queue size in QA", "how many issues are blocked right now": issues in a status now is
//!   `issues_in_status` with those statuses as its parameter, not its default with a status filter
//!   (or, when no metric was named, issues created at any time filtered by status);
//! - "cycle time histogram", "lead time distribution in 5 day buckets": the issues closed, grouped by
//!   the duration in buckets (one day unless the question says);
//! - "stuck for more than 10 days": the metric's `days` parameter.

use crate::catalog::MetricDef;
use crate::spec::dims;
use serde_json::{json, Value};

/// Words that ask for a distribution of a per-issue number.
const HISTOGRAM_WORDS: &[&str] = &["histogram", "distribution", "spread"];

/// Takes the histogram words (and "in N day buckets", "N-day buckets", "buckets of N days") out of
/// normalized text: the text without them and the bucket width, when it asks for a histogram.
pub fn take_histogram(text: &str) -> (String, Option<f64>) {
    let words: Vec<&str> = text.split(' ').collect();
    let clean = |w: &str| w.trim_matches(|c: char| !c.is_alphanumeric()).to_string();
    if !words.iter().any(|w| HISTOGRAM_WORDS.contains(&clean(w).as_str())) {
        return (text.to_string(), None);
    }
    let mut width = 1.0;
    let mut keep: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = clean(words[i]);
        let next = |k: usize| words.get(i + k).map(|x| clean(x)).unwrap_or_default();
        let number = |s: &str| s.parse::<f64>().ok().filter(|n| *n > 0.0 && *n <= 365.0);
        if HISTOGRAM_WORDS.contains(&w.as_str()) || (w == "of" && keep.is_empty()) {
            i += 1;
            continue;
        }
        // "in 5 day buckets", "5 day buckets", "5-day buckets", "buckets of 5 days".
        let starts = if w == "in" { 1 } else { 0 };
        let n_at = |k: usize| number(&next(k).replace("-day", "").replace("-days", ""));
        if let Some(n) = n_at(starts) {
            let after = next(starts + 1);
            let joined = next(starts).contains("-day");
            if joined && after.starts_with("bucket") {
                width = n;
                i += starts + 2;
                continue;
            }
            if matches!(after.as_str(), "day" | "days") && next(starts + 2).starts_with("bucket") {
                width = n;
                i += starts + 3;
                continue;
            }
        }
        if w.starts_with("bucket") && next(1) == "of" {
            if let Some(n) = number(&next(2)) {
                width = n;
                i += if matches!(next(3).as_str(), "day" | "days") { 4 } else { 3 };
                continue;
            }
        }
        keep.push(words[i]);
        i += 1;
    }
    (keep.join(" "), Some(width))
}

/// Takes "for more than N days" ("over", "longer than", "at least"; "for N+ days") out of normalized
/// text: the text without it and N.
pub fn take_days(text: &str) -> (String, Option<i64>) {
    let words: Vec<&str> = text.split(' ').collect();
    for i in 0..words.len() {
        if !matches!(words[i], "for" | "in") {
            continue;
        }
        let mut k = i + 1;
        match (words.get(k).copied(), words.get(k + 1).copied()) {
            (Some("more" | "longer"), Some("than")) => k += 2,
            (Some("at"), Some("least")) => k += 2,
            (Some("over"), _) => k += 1,
            _ => {}
        }
        let Some(n) = words.get(k).and_then(|w| w.trim_end_matches('+').parse::<i64>().ok()).filter(|n| (1..=3650).contains(n)) else {
            continue;
        };
        let unit = words.get(k + 1).map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()));
        if !matches!(unit, Some("day" | "days")) || (k == i + 1 && !words[k].ends_with('+')) {
            continue;
        }
        let rest: Vec<&str> = words[..i].iter().chain(&words[k + 2..]).copied().collect();
        return (rest.join(" "), Some(n));
    }
    (text.to_string(), None)
}

/// Gives the taken number of days to the metric's `days` parameter (`stuck_count`).
pub fn days(spec: &mut Value, days: Option<i64>, catalog: &[MetricDef]) -> Result<(), String> {
    let Some(n) = days else { return Ok(()) };
    let Some(metrics) = spec["metrics"].as_array_mut() else { return Ok(()) };
    for m in metrics.iter_mut() {
        let name = m.as_str().or_else(|| m["name"].as_str()).unwrap_or("").to_string();
        if catalog.iter().find(|d| d.name == name).is_some_and(|d| d.parameters.contains_key("days")) {
            if m.is_string() {
                *m = json!({"name": name});
            }
            m["params"]["days"] = json!(n);
            return Ok(());
        }
    }
    Err(format!("\"for more than {n} days\" needs a metric counted by days without change (stuck issues)"))
}

/// The number dimension a metric's value per issue is (`cycle_time` is `cycle_time_days`).
fn number_dimension(def: &MetricDef) -> Option<&'static str> {
    let column = def.sql_expression.strip_prefix("f.")?;
    dims::dimensions(def.entity).iter().find(|d| d.column == column && d.kind == dims::Kind::Number).map(|d| d.name)
}

/// The histogram of a built spec's one duration metric: closed issues by buckets of it.
pub fn histogram(spec: &mut Value, width: Option<f64>, catalog: &[MetricDef]) -> Result<(), String> {
    let Some(width) = width else { return Ok(()) };
    let name = spec["metrics"].as_array().and_then(|m| m.first()).and_then(|m| m.as_str().or_else(|| m["name"].as_str())).unwrap_or("");
    let dim =
        catalog.iter().find(|d| d.name == name).and_then(number_dimension).ok_or_else(|| {
            "a histogram shows how a number per issue is spread (lead time, cycle time, story points); name one".to_string()
        })?;
    if spec.get("group_by").is_some() || spec["metrics"].as_array().map_or(0, Vec::len) != 1 {
        return Err("a histogram is of one number, without other groups".into());
    }
    spec["metrics"] = json!(["closed"]);
    spec["group_by"] = if width == 1.0 { json!([{"field": dim, "bucket": 1}]) } else { json!([{"field": dim, "bucket": width}]) };
    spec.as_object_mut().map(|o| o.remove("sort_by"));
    Ok(())
}

/// `issues_in_status` counts the issues in its statuses at a moment; a filter on the current status is
/// the same question at now: the statuses become its parameter. A list or count of issues created (the
/// stand-in when no metric was named) filtered only by a current status and not by date likewise.
pub fn statuses_as_parameter(spec: &mut Value, implied: bool) {
    let Some(metrics) = spec["metrics"].as_array() else { return };
    let [m] = metrics.as_slice() else { return };
    let name = m.as_str().or_else(|| m["name"].as_str()).unwrap_or("");
    let promote = name == "issues_in_status" || (implied && name == "created" && spec.get("date_range").is_none());
    if !promote || m.get("params").and_then(|p| p.get("statuses")).is_some() || spec.get("group_by").is_some() {
        return;
    }
    let Some(filters) = spec["filters"].as_array() else { return };
    let mut statuses: Vec<Value> = Vec::new();
    let mut rest: Vec<Value> = Vec::new();
    for f in filters {
        match (f["field"].as_str(), f["operator"].as_str()) {
            (Some("status"), Some("eq")) => statuses.push(f["value"].clone()),
            (Some("status"), Some("in")) => statuses.extend(f["value"].as_array().cloned().unwrap_or_default()),
            _ => rest.push(f.clone()),
        }
    }
    if statuses.is_empty() {
        return;
    }
    spec["metrics"] = json!([{"name": "issues_in_status", "params": {"statuses": statuses}}]);
    if rest.is_empty() {
        spec.as_object_mut().map(|o| o.remove("filters"));
    } else {
        spec["filters"] = Value::Array(rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_words_and_bucket_widths_are_taken() {
        assert_eq!(take_histogram("cycle time histogram for bugs"), ("cycle time for bugs".into(), Some(1.0)));
        assert_eq!(take_histogram("lead time distribution in 5 day buckets"), ("lead time".into(), Some(5.0)));
        assert_eq!(take_histogram("distribution of lead time in 2-day buckets"), ("lead time".into(), Some(2.0)));
        assert_eq!(take_histogram("lead time in buckets of 3 days"), ("lead time in buckets of 3 days".into(), None));
        assert_eq!(take_histogram("histogram of lead time, buckets of 3 days"), ("lead time,".into(), Some(3.0)));
        assert_eq!(take_histogram("lead time by priority"), ("lead time by priority".into(), None));
    }

    #[test]
    fn days_without_change_are_taken() {
        assert_eq!(take_days("which tickets have been stuck for more than 10 days"), ("which tickets have been stuck".into(), Some(10)));
        assert_eq!(take_days("stuck issues for over 3 days by assignee"), ("stuck issues by assignee".into(), Some(3)));
        assert_eq!(take_days("issues stuck for 7+ days"), ("issues stuck".into(), Some(7)));
        assert_eq!(take_days("wip in the last 30 days"), ("wip in the last 30 days".into(), None));
        assert_eq!(take_days("forecast for 14 days"), ("forecast for 14 days".into(), None), "a bare number of days is a horizon");
    }
}
