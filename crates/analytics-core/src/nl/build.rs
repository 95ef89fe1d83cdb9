//! From a [`Reading`] of a question to an AnalyticsSpec (as JSON, to be validated by `spec::parse`),
//! or to the reason the question cannot be mapped with confidence.

use super::period::Period;
use super::reader::{Item, Reading};
use crate::catalog::{Entity, Kind, MetricDef};
use crate::spec::dims;
use serde_json::{json, Map, Value};

/// Why a reading does not make one spec; `partial` is the spec built from what was understood, when
/// there is one, so a clarification can offer it.
#[derive(Debug, Clone, PartialEq)]
pub struct Unsure {
    pub reason: String,
    pub partial: Option<Value>,
}

/// "a label", "an issue type".
fn article(noun: &str) -> String {
    let an = noun.starts_with(|c: char| "aeiou".contains(c));
    format!("{} {noun}", if an { "an" } else { "a" })
}

fn unsure(reason: impl Into<String>) -> Unsure {
    Unsure { reason: reason.into(), partial: None }
}

/// Which way a metric is better, from its tags: Some(true) higher, Some(false) lower, None unknown.
pub fn higher_is_better(def: &MetricDef) -> Option<bool> {
    if def.tags.iter().any(|t| t == "higher_is_better") {
        Some(true)
    } else if def.tags.iter().any(|t| t == "lower_is_better") {
        Some(false)
    } else {
        None
    }
}

/// The date column a metric's rows are placed in time by (a formula: its dependencies', if they agree).
fn time_field(def: &MetricDef, catalog: &[MetricDef]) -> Result<Option<String>, String> {
    if def.kind == Kind::Formula {
        let mut fields: Vec<Option<String>> =
            def.dependencies.iter().filter_map(|d| catalog.iter().find(|m| &m.name == d)).map(|d| d.time_field.clone()).collect();
        fields.dedup();
        return match fields.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(format!("{} combines metrics dated by different fields, so it cannot be split by date", def.name)),
        };
    }
    Ok(def.time_field.clone())
}

/// The dimension a dimension word names for this entity: a sprint's "status" is its state.
fn dimension_for(entity: Entity, word: &str) -> Option<&'static str> {
    let name = match (entity, word) {
        (Entity::Sprint, "status") => "state",
        (_, w) => w,
    };
    dims::find(entity, name).map(|d| d.name)
}

/// Words that may stand between a ranking or grouping cue and its dimension word.
fn skippable(w: &str) -> bool {
    super::lexicon::is_group_filler(w) || w.parse::<u32>().is_ok()
}

pub struct Built {
    pub spec: Value,
}

/// Builds the spec for a reading. `period` is what the question said about time.
pub fn build(r: &Reading, period: &Option<Period>, catalog: &[MetricDef]) -> Result<Built, Unsure> {
    build_for(r, period, catalog, false)
}

/// [`build`]; `rows`: the question asks for rows (a list), so a ranking without groups ranks the rows
/// ("which issues took longest") instead of asking what to rank.
pub fn build_for(r: &Reading, period: &Option<Period>, catalog: &[MetricDef], rows: bool) -> Result<Built, Unsure> {
    if !r.unknown.is_empty() {
        let verb = if r.unknown.len() == 1 { "means" } else { "mean" };
        return Err(unsure(format!("I do not know what {} {verb} here", quoted(&r.unknown))));
    }
    if let Some((text, dims)) = r.ambiguous.first() {
        let names: Vec<String> = dims.iter().map(|d| d.replace('_', " ")).collect();
        let names: Vec<String> = names.iter().map(|n| article(n)).collect();
        return Err(unsure(format!("\"{text}\" is {}: which one do you mean?", names.join(" and "))));
    }
    // Metrics, in question order, each once.
    let mut metrics: Vec<usize> = Vec::new();
    for f in &r.found {
        if let Item::Metric(m) = f.item {
            if !metrics.contains(&m) {
                metrics.push(m);
            }
        }
    }
    if metrics.is_empty() {
        return Err(unsure("the question names no metric I know"));
    }
    let defs: Vec<&MetricDef> = metrics.iter().map(|m| &catalog[*m]).collect();
    let entity = defs[0].entity;
    if let Some(other) = defs.iter().find(|d| d.entity != entity) {
        return Err(unsure(format!(
            "{} is measured per {} and {} per {}; one question can only ask about one of them",
            defs[0].name,
            entity.as_str(),
            other.name,
            other.entity.as_str()
        )));
    }

    // Aggregation words: "median cycle time", "average velocity".
    let mut aggregation: Option<&str> = None;
    for f in &r.found {
        if let Item::Agg(a) = f.item {
            aggregation = Some(a);
        }
    }

    // Grouping: a dimension word after a cue ("by", "per", "which", ...) or a ranking word ("top 5 boards").
    let mut groups: Vec<Value> = Vec::new();
    let mut singular_group = false;
    let push_group = |g: Value, groups: &mut Vec<Value>| {
        if !groups.contains(&g) {
            groups.push(g);
        }
    };
    // Issue metrics measured at a moment, or dated by different fields, split by date as an as_of series:
    // each bucket counts what happened in it and takes snapshots at its end.
    let date_field = |defs: &[&MetricDef]| -> Result<String, Unsure> {
        let mut fields = Vec::new();
        for d in defs {
            match time_field(d, catalog) {
                _ if d.kind == Kind::Snapshot || (entity == Entity::Issue && time_field(d, catalog).is_err()) => {
                    return Ok(dims::SERIES.to_string())
                }
                Ok(Some(f)) => fields.push(f),
                Ok(None) => return Err(unsure(format!("{} is measured at one moment, so it cannot be split by date", d.name))),
                Err(e) => return Err(unsure(e)),
            }
        }
        fields.sort();
        fields.dedup();
        if fields.len() > 1 && entity == Entity::Issue {
            return Ok(dims::SERIES.to_string());
        }
        if fields.len() > 1 {
            return Err(unsure(format!(
                "the metrics are dated by different fields ({}), so I cannot split them by one date",
                fields.join(", ")
            )));
        }
        Ok(fields.remove(0))
    };
    // "trend per quarter": the named interval is the trend's, not a second grouping by month.
    let named_interval = r.found.iter().any(|f| match &f.item {
        Item::Interval(i) => *i != "trend",
        Item::Dim { dim, .. } => dim.starts_with('@'),
        _ => false,
    });
    // "cfd by week": an explicit date group beats an interval adjective ("daily") of a report's name.
    let explicit_interval = r.found.iter().any(|f| matches!(&f.item, Item::Dim { dim, .. } if dim.starts_with('@')));
    for (i, f) in r.found.iter().enumerate() {
        match &f.item {
            Item::Dim { dim: word, cued } => {
                let mut cued = *cued || (*word == "assignee" && matches!(r.words[f.start()].as_str(), "who" | "whom"));
                let mut j = i;
                while !cued && j > 0 {
                    j -= 1;
                    let prev = &r.found[j];
                    if prev.implied {
                        continue;
                    }
                    let gap_ok = (prev.end()..f.start()).all(|k| skippable(&r.words[k]));
                    if !gap_ok {
                        break;
                    }
                    match prev.item {
                        Item::Cue | Item::Rank(_) => cued = true,
                        Item::Number(_) => continue,
                        _ => break,
                    }
                }
                let text = f.at.iter().map(|&k| r.raw[k].as_str()).collect::<Vec<_>>().join(" ");
                if !cued {
                    // "sprint velocity", "how is the team doing": the word repeats the grain or means "us".
                    if (*word == "sprint" && entity == Entity::Sprint) || (*word == "board" && r.raw[f.start()] == "team") {
                        continue;
                    }
                    return Err(unsure(format!("I am not sure what to do with \"{text}\": say \"by {text}\" to split by it")));
                }
                if let Some(interval) = word.strip_prefix('@') {
                    let field = date_field(&defs)?;
                    push_group(json!({"field": field, "interval": interval}), &mut groups);
                    continue;
                }
                let Some(dim) = dimension_for(entity, word) else {
                    let allowed: Vec<&str> =
                        dims::dimensions(entity).iter().filter(|d| d.kind != dims::Kind::Timestamp).map(|d| d.name).collect();
                    return Err(unsure(format!(
                        "{} metrics cannot be split by {}; they can be split by {} or by a date",
                        entity.as_str(),
                        word.replace('_', " "),
                        allowed.join(", ")
                    )));
                };
                let last = r.raw[f.end() - 1].as_str();
                singular_group |= !last.ends_with('s') && !matches!(last, "people" | "who" | "whom");
                push_group(json!(dim), &mut groups);
            }
            Item::Interval(interval) => {
                // A sprint metric's trend is sprint by sprint.
                if entity == Entity::Sprint && *interval == "trend" {
                    push_group(json!("sprint"), &mut groups);
                    continue;
                }
                if (*interval == "trend" && named_interval) || (*interval != "trend" && explicit_interval) {
                    continue;
                }
                let interval = if *interval == "trend" { trend_interval(period) } else { interval };
                let field = date_field(&defs)?;
                push_group(json!({"field": field, "interval": interval}), &mut groups);
            }
            _ => {}
        }
    }

    // Filters: values from the tenant's data.
    let mut filters: Vec<Value> = Vec::new();
    let mut by_dim: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    for f in &r.found {
        if let Item::Value { dim, value, negated } = &f.item {
            let (dim, value, negated) = match value.strip_prefix('!') {
                Some(v) => (dim.as_str(), v.to_string(), !negated),
                None => (dim.as_str(), value.clone(), *negated),
            };
            let Some(name) = dimension_for(entity, dim) else {
                return Err(unsure(format!(
                    "\"{value}\" is {} of issues, but {} is measured per {}: it cannot be filtered by {}",
                    article(&dim.replace('_', " ")),
                    defs[0].name,
                    entity.as_str(),
                    dim.replace('_', " ")
                )));
            };
            let slot = match by_dim.iter_mut().position(|(d, _, _)| d == name) {
                Some(i) => i,
                None => {
                    by_dim.push((name.to_string(), vec![], vec![]));
                    by_dim.len() - 1
                }
            };
            let list = if negated { &mut by_dim[slot].2 } else { &mut by_dim[slot].1 };
            if !list.contains(&value) {
                list.push(value);
            }
        }
    }
    // "A vs B", "compare A and B": the values side by side.
    let compare = r.words.iter().any(|w| super::lexicon::is_compare(w));
    for (dim, yes, no) in &by_dim {
        if compare && yes.len() > 1 && !groups.contains(&json!(dim)) {
            groups.push(json!(dim));
        }
        match yes.len() {
            0 => {}
            1 => filters.push(json!({"field": dim, "operator": "eq", "value": yes[0]})),
            _ if dim == "label" || dim == "component" => {
                return Err(unsure(format!(
                    "issues can have several {dim}s: do you mean issues with any of {} or with all of them?",
                    quoted(yes)
                )))
            }
            _ => filters.push(json!({"field": dim, "operator": "in", "value": yes})),
        }
        match no.len() {
            0 => {}
            1 => filters.push(json!({"field": dim, "operator": "ne", "value": no[0]})),
            _ => filters.push(json!({"field": dim, "operator": "not_in", "value": no})),
        }
    }

    // Period, on the date a word like "created" names when it is not the metric's own.
    let mut date_range = Value::Null;
    let named_field = r.found.iter().find_map(|f| if let Item::DateField(d) = f.item { Some(d) } else { None });
    let series = groups.iter().find_map(|g| (g["field"] == dims::SERIES).then(|| g["interval"].as_str().unwrap_or("day").to_string()));
    match period {
        // A sprint series spans its sprints' lives: the running sprint's, unless sprints are named.
        None if series.is_some() && entity == Entity::Sprint => {
            let named = filters.iter().any(|f| f["field"] == "sprint");
            filters.extend((!named).then(|| json!({"field": "state", "operator": "eq", "value": "active"})));
        }
        // A series spans a period: without one, a default as long as a chart of that grain usually is.
        None if series.is_some() => {
            let last = match series.as_deref() {
                Some("day") => "30 days",
                Some("week") => "12 weeks",
                Some("quarter") => "8 quarters",
                Some("year") => "5 years",
                _ => "12 months",
            };
            date_range = json!({"last": last});
        }
        None => {}
        Some(Period::Range { range, .. }) => {
            date_range = range.clone();
            if series.is_some() {
                if let Some(o) = date_range.as_object_mut() {
                    o.remove("field");
                }
                if date_range.get("last").is_none() && date_range.get("from").is_none_or(Value::is_null) {
                    return Err(unsure("a trend over time needs a start: say since when (e.g. \"since March\")".to_string()));
                }
            } else if let Some(field) = named_field {
                let own = defs.iter().all(|d| time_field(d, catalog).ok().flatten().as_deref() == Some(field));
                if !own {
                    if entity != Entity::Issue {
                        return Err(unsure(format!(
                            "{} is measured per sprint; it has no {} date",
                            defs[0].name,
                            field.trim_end_matches("_at")
                        )));
                    }
                    date_range["field"] = json!(field);
                }
            }
        }
        Some(Period::Sprints(n)) if entity == Entity::Sprint => date_range = json!({"last_sprints": n}),
        Some(Period::Sprints(n)) => {
            return Err(Unsure {
                reason: format!("\"the last {n} sprint(s)\" selects sprints, but {} is measured per issue", defs[0].name),
                partial: Some(json!({"last": format!("{} weeks", 2 * n)})),
            })
        }
        Some(Period::CurrentSprint) if entity == Entity::Sprint => {
            filters.push(json!({"field": "state", "operator": "eq", "value": "active"}))
        }
        Some(Period::CurrentSprint) => {
            return Err(unsure(format!("\"this sprint\" selects a sprint, but {} is measured per issue", defs[0].name)));
        }
    }

    // Ranking.
    let mut sort_by: Vec<Value> = Vec::new();
    let mut limit: Option<u32> = None;
    let mut metric_list: Vec<Value> = defs.iter().map(|d| json!(d.name)).collect();
    for f in &r.found {
        let Item::Rank(dir) = f.item else { continue };
        let target = defs[0];
        let desc = match dir {
            "desc" => true,
            "asc" => false,
            "worse" | "better" => match higher_is_better(target) {
                Some(h) => (dir == "better") == h,
                None => {
                    return Err(unsure(format!("I do not know whether more {} is better or worse", target.display_name.to_lowercase())))
                }
            },
            _ => true,
        };
        if groups.is_empty() && !rows {
            // "the highest lead time" with nothing to rank: the maximum (or minimum) itself.
            let agg = if desc { "max" } else { "min" };
            if matches!(dir, "desc" | "asc")
                && r.words[f.start()] != "most"
                && r.words[f.start()] != "least"
                && target.allowed_aggregations.iter().any(|a| a.as_str() == agg)
            {
                aggregation = Some(agg);
                continue;
            }
            if r.words[f.start()] == "most" || r.words[f.start()] == "least" {
                continue;
            }
            return Err(unsure(format!(
                "\"{}\" ranks, but the question does not say what to rank (say \"which board\" or \"by assignee\")",
                r.raw[f.start()]
            )));
        }
        // A number right before or after the ranking word is how many to keep.
        let near =
            |k: usize| r.found.iter().find(|x| x.start() == k).and_then(|x| if let Item::Number(n) = x.item { Some(n) } else { None });
        let n = if f.implied { None } else { near(f.end()).or_else(|| f.start().checked_sub(1).and_then(near)) };
        limit = limit.or(n);
        sort_by = vec![json!({"field": target.name, "direction": if desc { "desc" } else { "asc" }})];
    }
    if !sort_by.is_empty() && limit.is_none() {
        limit = Some(if singular_group { 1 } else { 10 });
    }

    if let Some(a) = aggregation {
        let mut d = defs[0];
        // "average lead time" is the catalog's own lead_time_avg when one measures the same thing.
        if d.default_aggregation.as_str() != a {
            if let Some(sibling) = catalog.iter().find(|m| {
                m.default_aggregation.as_str() == a
                    && m.sql_expression == d.sql_expression
                    && m.filter == d.filter
                    && m.entity == d.entity
                    && m.time_field == d.time_field
                    && m.kind == d.kind
            }) {
                d = sibling;
                metric_list[0] = json!(d.name);
                if let Some(s) = sort_by.first_mut() {
                    s["field"] = json!(d.name);
                }
            }
        }
        if d.kind == Kind::Formula {
            return Err(unsure(format!("{} is a ratio of other metrics; it has no {} form", d.name, agg_word(a))));
        }
        if !d.allowed_aggregations.iter().any(|x| x.as_str() == a) {
            if d.default_aggregation.as_str() != a {
                return Err(unsure(format!("{} cannot be aggregated as {}", d.name, agg_word(a))));
            }
        } else if d.default_aggregation.as_str() != a {
            metric_list[0] = json!({"name": d.name, "aggregation": a});
        }
    }

    let mut spec = Map::new();
    spec.insert("entity".into(), json!(entity.as_str()));
    spec.insert("metrics".into(), Value::Array(metric_list));
    if !groups.is_empty() {
        spec.insert("group_by".into(), Value::Array(groups));
    }
    if !filters.is_empty() {
        spec.insert("filters".into(), Value::Array(filters));
    }
    if !date_range.is_null() {
        spec.insert("date_range".into(), date_range);
    }
    if !sort_by.is_empty() {
        spec.insert("sort_by".into(), Value::Array(sort_by));
    }
    if let Some(l) = limit {
        spec.insert("limit".into(), json!(l));
    }
    Ok(Built { spec: Value::Object(spec) })
}

/// The buckets of a trend without a named interval: days over a month or less, weeks over a quarter or
/// less, else months.
fn trend_interval(period: &Option<Period>) -> &'static str {
    let Some(Period::Range { range, .. }) = period else { return "month" };
    let days = if let Some(last) = range.get("last").and_then(Value::as_str) {
        let mut parts = last.split_whitespace();
        let n: i64 = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        let per = match parts.next().unwrap_or("").trim_end_matches('s') {
            "day" => 1,
            "week" => 7,
            "month" => 30,
            "quarter" => 91,
            _ => 365,
        };
        n * per
    } else {
        let date =
            |k: &str| range.get(k).and_then(Value::as_str).and_then(|d| chrono::NaiveDate::parse_from_str(d.get(..10)?, "%Y-%m-%d").ok());
        match (date("from"), date("to")) {
            (Some(a), Some(b)) => (b - a).num_days(),
            _ => i64::MAX,
        }
    };
    match days {
        d if d <= 31 => "day",
        d if d <= 92 => "week",
        _ => "month",
    }
}

fn agg_word(a: &str) -> &str {
    match a {
        "avg" => "an average",
        "p50" => "a median",
        "sum" => "a total",
        "max" => "a maximum",
        "min" => "a minimum",
        other => other,
    }
}

pub fn quoted(words: &[String]) -> String {
    let q: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
    match q.len() {
        0 => String::new(),
        1 => q[0].clone(),
        n => format!("{} and {}", q[..n - 1].join(", "), q[n - 1]),
    }
}
