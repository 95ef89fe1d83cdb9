//! A chart for an answer, as a Vega-Lite v5 specification with the rows inline (`analytics_ask`'s
//! `options.chart`), so a notebook, a web page or a BI tool that speaks Vega-Lite draws it as it is:
//! - a series or a date grouping: a line per metric over time (a stacked area for the three bands of a
//!   cumulative flow diagram), coloured by the other group when there is one metric;
//! - groups without a date: bars per group (coloured by a second group, or one bar per metric);
//! - a single row without groups (one number per metric) is no chart: None.

use serde_json::{json, Value};

/// A result column: its name, whether it is a `dimension` or a `metric`, and the metric's unit.
pub struct Col<'a> {
    pub name: &'a str,
    pub role: &'a str,
    pub unit: Option<&'a str>,
}

const SCHEMA: &str = "https://vega.github.io/schema/vega-lite/v5.json";
const DATE_SUFFIXES: &[&str] = &["_day", "_week", "_month", "_quarter", "_year"];
const CFD: [&str; 3] = ["backlog_count", "wip", "done_count"];

fn is_date(c: &Col) -> bool {
    c.role == "dimension" && DATE_SUFFIXES.iter().any(|s| c.name.ends_with(s))
}

/// The chart of an answer's rows, or None when there is nothing to draw.
pub fn vega_lite(title: &str, columns: &[Col], rows: &[Value]) -> Option<Value> {
    let metrics: Vec<&Col> = columns.iter().filter(|c| c.role == "metric").collect();
    let dims: Vec<&Col> = columns.iter().filter(|c| c.role == "dimension").collect();
    if metrics.is_empty() || rows.is_empty() || dims.is_empty() {
        return None;
    }
    let date = dims.iter().find(|c| is_date(c)).copied();
    let others: Vec<&Col> = dims.iter().filter(|c| Some(c.name) != date.map(|d| d.name)).copied().collect();
    let unit = metrics.iter().filter_map(|m| m.unit).next().unwrap_or("value");
    let names: Vec<&str> = metrics.iter().map(|m| m.name).collect();
    let many = metrics.len() > 1;
    // Several metrics become one "metric"/"value" pair per row (fold), coloured by metric.
    let (y_field, transform) = if many { ("value", json!([{"fold": names, "as": ["metric", "value"]}])) } else { (names[0], json!([])) };
    let y =
        json!({"field": y_field, "type": "quantitative", "title": if many { unit.to_string() } else { format!("{} ({unit})", names[0]) }});
    let color = if many {
        Some(json!({"field": "metric", "type": "nominal", "sort": names}))
    } else {
        others.first().map(|d| json!({"field": d.name, "type": "nominal"}))
    };
    let (mark, x) = match date {
        Some(d) => {
            let cfd = many && names.iter().all(|n| CFD.contains(n));
            let mark = if cfd { json!({"type": "area", "tooltip": true}) } else { json!({"type": "line", "point": true, "tooltip": true}) };
            (mark, json!({"field": d.name, "type": "temporal", "title": d.name.replace('_', " ")}))
        }
        None => (json!({"type": "bar", "tooltip": true}), json!({"field": others[0].name, "type": "nominal", "sort": null})),
    };
    let mut encoding = json!({"x": x, "y": y});
    if let Some(c) = color {
        encoding["color"] = c;
    }
    if date.is_none() && many {
        // Bars of several metrics side by side within each group.
        encoding["xOffset"] = json!({"field": "metric", "type": "nominal"});
    }
    if date.is_some() && many && names.iter().all(|n| CFD.contains(n)) {
        encoding["y"]["stack"] = json!("zero");
    }
    let mut v = json!({
        "$schema": SCHEMA,
        "title": title,
        "data": {"values": rows},
        "mark": mark,
        "encoding": encoding,
    });
    if many {
        v["transform"] = transform;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col<'a>(name: &'a str, role: &'a str) -> Col<'a> {
        Col { name, role, unit: (role == "metric").then_some("count") }
    }

    #[test]
    fn a_cumulative_flow_is_a_stacked_area_over_time() {
        let cols = [col("as_of_day", "dimension"), col("backlog_count", "metric"), col("wip", "metric"), col("done_count", "metric")];
        let rows = vec![json!({"as_of_day": "2026-01-01", "backlog_count": 3, "wip": 2, "done_count": 1})];
        let v = vega_lite("Cumulative flow", &cols, &rows).unwrap();
        assert_eq!(v["$schema"], SCHEMA);
        assert_eq!(v["mark"]["type"], "area");
        assert_eq!(v["encoding"]["x"], json!({"field": "as_of_day", "type": "temporal", "title": "as of day"}));
        assert_eq!(v["encoding"]["y"]["stack"], "zero");
        assert_eq!(v["transform"][0]["fold"], json!(["backlog_count", "wip", "done_count"]));
        assert_eq!(v["data"]["values"], json!(rows));
    }

    #[test]
    fn trends_are_lines_and_groups_are_bars() {
        let rows = vec![json!({"created_at_month": "2026-01-01", "board": "A", "bug_count": 3})];
        let v =
            vega_lite("t", &[col("created_at_month", "dimension"), col("board", "dimension"), col("bug_count", "metric")], &rows).unwrap();
        assert_eq!((v["mark"]["type"].as_str(), v["encoding"]["color"]["field"].as_str()), (Some("line"), Some("board")));
        assert!(v.get("transform").is_none());
        let bars =
            vega_lite("t", &[col("priority", "dimension"), col("closed", "metric"), col("created", "metric")], &[json!({})]).unwrap();
        assert_eq!(bars["mark"]["type"], "bar");
        assert_eq!(bars["encoding"]["xOffset"]["field"], "metric");
        assert_eq!(bars["encoding"]["x"]["field"], "priority");
    }

    #[test]
    fn a_single_number_is_no_chart() {
        assert!(vega_lite("t", &[col("wip", "metric")], &[json!({"wip": 3})]).is_none());
        assert!(vega_lite("t", &[col("board", "dimension"), col("wip", "metric")], &[]).is_none());
    }
}
