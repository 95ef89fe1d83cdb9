//! One plain sentence a manager can check, for any validated spec (whoever wrote it): what was
//! measured, over which issues or sprints, which period, filtered and grouped how, for which tenant.

use crate::catalog::{Aggregation, Entity, Kind, MetricDef};
use crate::spec::model::{DateRange, FieldSource, FilterValue, Op};
use crate::spec::Spec;
use chrono::{Duration, NaiveDate};

fn agg_word(a: Aggregation) -> &'static str {
    match a {
        Aggregation::Count => "count",
        Aggregation::Sum => "total",
        Aggregation::Avg => "average",
        Aggregation::Min => "minimum",
        Aggregation::Max => "maximum",
        Aggregation::P50 => "median",
        Aggregation::P70 => "70th percentile",
        Aggregation::P75 => "75th percentile",
        Aggregation::P85 => "85th percentile",
        Aggregation::P90 => "90th percentile",
        Aggregation::P95 => "95th percentile",
        Aggregation::Formula => "ratio",
    }
}

fn field_event(field: &str) -> &'static str {
    match field {
        "created_at" => "created",
        "resolved_at" => "resolved",
        "updated_at" => "updated",
        "last_reopened_at" => "reopened",
        "start_date" => "started",
        "end_date" => "planned to end",
        "complete_date" => "completed",
        _ => "dated",
    }
}

fn field_noun(field: &str) -> &'static str {
    match field {
        "created_at" => "creation date",
        "resolved_at" => "resolution date",
        "updated_at" => "last update",
        "start_date" => "start date",
        "end_date" => "planned end date",
        "complete_date" => "completion date",
        _ => "date",
    }
}

/// An exclusive end date shown as the last day included.
fn last_day(to: &str) -> String {
    match NaiveDate::parse_from_str(to.get(..10).unwrap_or(to), "%Y-%m-%d") {
        Ok(d) if to.len() == 10 => (d - Duration::days(1)).format("%Y-%m-%d").to_string(),
        _ => format!("before {to}"),
    }
}

fn period_text(range: &Option<DateRange>) -> String {
    match range {
        None => "at any time".into(),
        Some(DateRange::Absolute { from: Some(f), to: Some(t), .. }) => format!("from {f} to {}", last_day(t)),
        Some(DateRange::Absolute { from: Some(f), to: None, .. }) => format!("since {f}"),
        Some(DateRange::Absolute { from: None, to: Some(t), .. }) => format!("up to {}", last_day(t)),
        Some(DateRange::Absolute { .. }) => "at any time".into(),
        Some(DateRange::Relative { n, unit, .. }) => {
            format!("in the last {n} {}", if *n == 1 { unit.as_str().trim_end_matches('s') } else { unit.as_str() })
        }
        Some(DateRange::LastSprints(n)) => format!("among each board's last {n} closed sprint{}", if *n == 1 { "" } else { "s" }),
    }
}

fn list(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

fn filter_text(field: &str, op: Op, value: &FilterValue) -> String {
    let name = field.replace('_', " ");
    let many = |v: &[String]| v.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ");
    match (op, value) {
        (Op::Eq, FilterValue::One(v)) if field == "label" || field == "component" => format!("with {name} \"{v}\""),
        (Op::Ne, FilterValue::One(v)) if field == "label" || field == "component" => format!("without {name} \"{v}\""),
        (Op::Eq, FilterValue::One(v)) => format!("{name} is \"{v}\""),
        (Op::Ne, FilterValue::One(v)) => format!("{name} is not \"{v}\""),
        (Op::In, FilterValue::Many(v)) => format!("{name} is one of {}", many(v)),
        (Op::NotIn, FilterValue::Many(v)) => format!("{name} is none of {}", many(v)),
        (Op::Contains, FilterValue::One(v)) => format!("{name} contains \"{v}\""),
        (Op::IsNull, _) => format!("{name} is empty"),
        (Op::IsNotNull, _) => format!("{name} is set"),
        (Op::Between, FilterValue::Two(a, b)) => format!("{name} is between \"{a}\" and \"{b}\""),
        (op, FilterValue::One(v)) => format!(
            "{name} {} \"{v}\"",
            match op {
                Op::Gt => "is after",
                Op::Gte => "is on or after",
                Op::Lt => "is before",
                _ => "is on or before",
            }
        ),
        (op, _) => format!("{name} {}", op.as_str()),
    }
}

/// The sentence for a list spec: which rows, with which columns, selected how, in which order.
/// "among the issues closest in meaning to "login timeouts" (at most 200, cosine similarity at least 0.3)".
fn similar_text(s: &crate::spec::model::SimilarTo) -> String {
    format!("among the issues closest in meaning to \"{}\" (at most {}, cosine similarity at least {})", s.text, s.k, s.min_score)
}

fn explain_list(spec: &Spec, catalog: &[MetricDef], tenant: &str) -> String {
    let def = |n: &str| catalog.iter().find(|m| m.name == n);
    let noun = match spec.entity {
        Entity::Issue => "issues",
        Entity::Sprint => "sprints",
    };
    let shown: Vec<String> = spec
        .fields
        .iter()
        .map(|f| match (&f.source, def(&f.name)) {
            (FieldSource::Metric(_), Some(d)) if d.display_name.to_lowercase().contains(d.unit.as_str()) || d.unit.as_str() == "count" => {
                d.display_name.to_lowercase()
            }
            (FieldSource::Metric(_), Some(d)) => format!("{} in {}", d.display_name.to_lowercase(), d.unit.as_str()),
            _ => f.name.replace('_', " "),
        })
        .collect();
    let mut sentence = format!("A list of {noun} with their {}", list(&shown));
    let mut conditions: Vec<String> = Vec::new();
    for m in &spec.metric_filters {
        let name = def(&m.metric).map(|d| d.display_name.to_lowercase()).unwrap_or_else(|| m.metric.clone());
        let params: Vec<String> =
            m.params.iter().filter(|(k, v)| k.as_str() != "as_of" || v.as_str() != Some("now")).map(|(k, v)| format!("{k} {v}")).collect();
        let with = if params.is_empty() { String::new() } else { format!(" ({})", params.join(", ")) };
        conditions.push(match (m.op, &m.value) {
            (None, _) => format!("that count as {name}{with}"),
            (Some(Op::Between), FilterValue::Two(a, b)) => format!("whose {name}{with} is from {a} up to {b}"),
            (Some(op), FilterValue::One(v)) => format!(
                "whose {name}{with} is {} {v}",
                match op {
                    Op::Gt => "above",
                    Op::Gte => "at least",
                    Op::Lt => "below",
                    _ => "at most",
                }
            ),
            (Some(op), _) => format!("whose {name} is {}", op.as_str()),
        });
    }
    if spec.date_range.is_some() {
        let field = match &spec.date_range {
            Some(DateRange::Absolute { field: Some(f), .. }) | Some(DateRange::Relative { field: Some(f), .. }) => Some(f.clone()),
            _ => None,
        };
        let events: Vec<&str> = match field {
            Some(f) => vec![field_event(&f)],
            None => spec.metric_filters.iter().filter_map(|m| def(&m.metric)?.time_field.as_deref()).map(field_event).collect(),
        };
        let period = period_text(&spec.date_range);
        conditions.push(if events.is_empty() {
            period
        } else {
            format!("{} {period}", list(&events.iter().map(|e| e.to_string()).collect::<Vec<_>>()))
        });
    }
    let filters: Vec<String> = spec.filters.iter().map(|f| filter_text(&f.field, f.op, &f.value)).collect();
    if !filters.is_empty() {
        conditions.push(format!("where {}", filters.join(" and ")));
    }
    if let Some(s) = &spec.similar_to {
        conditions.push(similar_text(s));
    }
    if !conditions.is_empty() {
        sentence.push_str(&format!(", {}", conditions.join(", ")));
    }
    let first_metric = spec.fields.iter().find(|f| matches!(f.source, FieldSource::Metric(_))).map(|f| (f.alias.clone(), true));
    match spec.sort_by.first().map(|s| (s.field.clone(), s.descending)).or(first_metric) {
        Some((field, desc)) => {
            let dated = spec
                .fields
                .iter()
                .find(|f| f.alias == field)
                .and_then(|f| crate::spec::dims::list_column(spec.entity, &f.name))
                .is_some_and(|d| d.kind == crate::spec::dims::Kind::Timestamp);
            let order = match (dated, desc) {
                (true, true) => "latest",
                (true, false) => "earliest",
                (false, true) => "highest",
                (false, false) => "lowest",
            };
            sentence.push_str(&format!(", {order} {} first, at most {}", field.replace('_', " "), spec.limit))
        }
        None => sentence.push_str(&format!(", at most {}", spec.limit)),
    }
    format!("{sentence}, for tenant {tenant}.")
}

/// The sentence for a validated spec.
pub fn explain(spec: &Spec, catalog: &[MetricDef], tenant: &str) -> String {
    if spec.is_list() {
        return explain_list(spec, catalog, tenant);
    }
    let def = |n: &str| catalog.iter().find(|m| m.name == n);
    let measured: Vec<String> = spec
        .metrics
        .iter()
        .map(|m| match def(&m.name) {
            Some(d) if d.kind == Kind::Formula => format!("{} (a ratio)", d.display_name),
            Some(d) => {
                let agg = m.aggregation.unwrap_or(d.default_aggregation);
                let word = agg_word(agg);
                let named = d.display_name.to_lowercase().contains(word.split(' ').next().unwrap_or(word));
                match (agg, d.unit.as_str(), named) {
                    (Aggregation::Count, _, _) => format!("{} (number of {}s)", d.display_name, spec.entity.as_str()),
                    (_, "ratio" | "score", true) => d.display_name.clone(),
                    (_, "ratio" | "score", false) => format!("{} ({word})", d.display_name),
                    (_, unit, true) => format!("{} (in {unit})", d.display_name),
                    (_, unit, false) => format!("{} ({word}, in {unit})", d.display_name),
                }
            }
            None => m.name.clone(),
        })
        .collect();

    // Which rows: by each metric's own date unless the range names one.
    let range_field = match &spec.date_range {
        Some(DateRange::Absolute { field: Some(f), .. }) | Some(DateRange::Relative { field: Some(f), .. }) => Some(f.clone()),
        _ => None,
    };
    let mut events: Vec<&'static str> = Vec::new();
    let mut snapshot = false;
    for m in &spec.metrics {
        if let Some(d) = def(&m.name) {
            let fields: Vec<Option<String>> = if d.kind == Kind::Formula {
                d.dependencies.iter().filter_map(|x| def(x)).map(|x| x.time_field.clone()).collect()
            } else {
                vec![d.time_field.clone()]
            };
            for f in fields {
                match range_field.clone().or(f) {
                    Some(f) => {
                        let e = field_event(&f);
                        if !events.contains(&e) {
                            events.push(e);
                        }
                    }
                    None => snapshot = true,
                }
            }
        }
    }
    let noun = match spec.entity {
        Entity::Issue => "issues",
        Entity::Sprint => "sprints",
    };
    let period = period_text(&spec.date_range);
    let rows = if let Some(iv) = spec.series().and_then(|g| g.interval.as_deref()) {
        let mut s = format!("{noun} for each {iv} {period}");
        match (events.is_empty(), snapshot) {
            (false, true) => s.push_str(&format!(
                " ({} in that {iv}; snapshot metrics as they stand at its end)",
                list(&events.iter().map(|e| e.to_string()).collect::<Vec<_>>()).replace(" and ", " or ")
            )),
            (false, false) => s.push_str(&format!(
                " ({} in that {iv})",
                list(&events.iter().map(|e| e.to_string()).collect::<Vec<_>>()).replace(" and ", " or ")
            )),
            (true, _) => s.push_str(&format!(" (as they stand at the end of each {iv})")),
        }
        s
    } else if matches!(spec.date_range, Some(DateRange::LastSprints(_))) {
        format!("{noun} {period}")
    } else if snapshot && events.is_empty() {
        let at = match &spec.date_range {
            Some(DateRange::Absolute { to: Some(t), .. }) => format!("at the end of {}", last_day(t)),
            _ => "now".into(),
        };
        format!("{noun} as they stand {at}")
    } else {
        let mut s = format!("{noun} {} {period}", list(&events.iter().map(|e| e.to_string()).collect::<Vec<_>>()).replace(" and ", " or "));
        if snapshot {
            s.push_str(" (snapshot metrics as they stand at the end of the period)");
        }
        s
    };
    let mut sentence = format!("{} of {rows}", list(&measured));
    let filters: Vec<String> = spec.filters.iter().map(|f| filter_text(&f.field, f.op, &f.value)).collect();
    if !filters.is_empty() {
        sentence.push_str(&format!(" where {}", filters.join(" and ")));
    }
    if let Some(s) = &spec.similar_to {
        sentence.push_str(&format!(", {}", similar_text(s)));
    }
    if !spec.group_by.is_empty() {
        let groups: Vec<String> = spec
            .group_by
            .iter()
            .filter(|g| !g.is_series())
            .map(|g| match (&g.interval, g.bucket) {
                (Some(i), _) => format!("{i} of {}", field_noun(&g.field)),
                (None, Some(b)) => format!("{} in buckets of {b}", g.field.replace('_', " ")),
                (None, None) => g.field.replace('_', " "),
            })
            .collect();
        if !groups.is_empty() {
            sentence.push_str(&format!(", by {}", list(&groups)));
        }
    }
    if let Some(s) = spec.sort_by.first() {
        let dir = if s.descending { "highest" } else { "lowest" };
        let what = s.field.replace('_', " ");
        if spec.limit == 1 {
            sentence.push_str(&format!(", keeping only the one with the {dir} {what}"));
        } else {
            sentence.push_str(&format!(", {dir} {what} first, top {}", spec.limit));
        }
    } else if spec.limit != crate::spec::model::DEFAULT_LIMIT {
        sentence.push_str(&format!(", at most {} rows", spec.limit));
    }
    format!("{sentence}, for tenant {tenant}.")
}
