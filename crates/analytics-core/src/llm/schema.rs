//! The JSON schema a model must answer with: generated from Rust types with `schemars`, made strict
//! (every object closed, every property required, optional ones nullable; what OpenAI's strict mode
//! asks and what constrained decoders handle best), with the live catalog's metric names and the
//! dimension whitelists as enums. And the way back: a model's answer to a spec for `spec::parse`.

use crate::ask::Provider;
use crate::catalog::{Aggregation, Entity, Kind, MetricDef, ParamType};
use crate::spec::dims;
use crate::spec::model::Op;
use crate::spec::parse::{list, MAX_FILTERS, MAX_GROUP_BY, MAX_METRICS, MAX_SORT};
use schemars::gen::SchemaSettings;
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

/// A period has one of three shapes, so a constrained decoder cannot mix them (a model left free to
/// fill `from`, `to` and `last` together does).
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(untagged)]
enum DateRangeOut {
    Between(BetweenOut),
    Last(LastOut),
    Sprints(SprintsOut),
}

#[allow(dead_code)]
#[derive(JsonSchema)]
struct BetweenOut {
    field: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

#[allow(dead_code)]
#[derive(JsonSchema)]
struct LastOut {
    field: Option<String>,
    last: String,
}

#[allow(dead_code)]
#[derive(JsonSchema)]
struct SprintsOut {
    last_sprints: u32,
}

#[allow(dead_code)]
#[derive(JsonSchema)]
struct SortOut {
    field: String,
    direction: String,
}

/// "issues about login timeouts": only the issues nearest in meaning to the text.
#[allow(dead_code)]
#[derive(JsonSchema)]
struct SimilarOut {
    text: String,
}

/// What a model answers: an AnalyticsSpec, or a reason it cannot.
#[allow(dead_code)]
#[derive(JsonSchema)]
struct SpecOut {
    entity: Option<String>,
    // Items of these lists are written out below (shapes per aggregation set, per interval, per
    // operator), not derived.
    metrics: Vec<Value>,
    /// A list's columns (then `metrics` and `group_by` are empty).
    fields: Vec<Value>,
    group_by: Vec<Value>,
    filters: Vec<Value>,
    date_range: Option<DateRangeOut>,
    sort_by: Vec<SortOut>,
    limit: Option<u32>,
    /// Issue specs only: the issues nearest in meaning to a text.
    similar_to: Option<SimilarOut>,
    /// Why the question cannot be answered with this catalog (then `metrics` is empty).
    clarification: Option<String>,
}

/// Closes every object, requires every property, drops keywords strict decoders refuse (children first,
/// so nested anyOf lists are bare when they are flattened).
fn strict(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for k in ["$schema", "title", "format", "minimum", "maximum", "definitions", "description"] {
                o.remove(k);
            }
            for (_, child) in o.iter_mut() {
                strict(child);
            }
            // anyOf [anyOf [a, b], c] is anyOf [a, b, c].
            if let Some(Value::Array(alts)) = o.get("anyOf") {
                let mut flat = Vec::new();
                for a in alts {
                    match a.get("anyOf") {
                        Some(Value::Array(inner)) if a.as_object().is_some_and(|m| m.len() == 1) => flat.extend(inner.iter().cloned()),
                        _ => flat.push(a.clone()),
                    }
                }
                o.insert("anyOf".into(), Value::Array(flat));
            }
            if let Some(Value::Object(props)) = o.get("properties") {
                let keys: Vec<Value> = props.keys().map(|k| json!(k)).collect();
                o.insert("required".into(), Value::Array(keys));
                o.insert("additionalProperties".into(), json!(false));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

/// Sets the allowed values of a string property (nullable ones keep null).
fn set_enum(schema: &mut Value, pointer: &str, values: &[String]) {
    if let Some(node) = schema.pointer_mut(pointer) {
        let nullable = node.get("type").is_some_and(|t| t.as_array().is_some_and(|a| a.contains(&json!("null"))));
        let mut list: Vec<Value> = values.iter().map(|v| json!(v)).collect();
        if nullable {
            list.push(Value::Null);
        }
        node["enum"] = Value::Array(list);
    }
}

/// The schema for this catalog.
pub fn schema(catalog: &[MetricDef]) -> Value {
    let settings = SchemaSettings::draft07().with(|s| {
        s.inline_subschemas = true;
        s.option_add_null_type = true;
    });
    let root = settings.into_generator().into_root_schema_for::<SpecOut>();
    let mut v = serde_json::to_value(root).unwrap_or_else(|_| json!({}));
    strict(&mut v);
    let mut all_dims: Vec<String> = dims::ISSUE_DIMENSIONS.iter().chain(dims::SPRINT_DIMENSIONS).map(|d| d.name.to_string()).collect();
    all_dims.sort();
    all_dims.dedup();
    let dates: Vec<String> = dims::ISSUE_DIMENSIONS
        .iter()
        .chain(dims::SPRINT_DIMENSIONS)
        .filter(|d| d.kind == dims::Kind::Timestamp)
        .map(|d| d.name.to_string())
        .collect();
    let strs = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    set_enum(&mut v, "/properties/entity", &strs(&["issue", "sprint"]));
    // A metric item names the metrics that share a set of allowed aggregations, so a constrained
    // decoder cannot pair a metric with an aggregation the catalog refuses (formulas take none).
    if let Some(items) = v.pointer_mut("/properties/metrics/items") {
        *items = json!({"anyOf": metric_items(catalog)});
    }
    let plain: Vec<String> = all_dims.iter().filter(|d| !dates.contains(d)).cloned().collect();
    if let Some(items) = v.pointer_mut("/properties/group_by/items") {
        let mut by_date = dates.clone();
        by_date.push(dims::SERIES.to_string());
        *items = group_items(&plain, &by_date);
    }
    if let Some(items) = v.pointer_mut("/properties/filters/items") {
        *items = filter_items(&all_dims.iter().map(String::as_str).collect::<Vec<_>>(), &filter_metrics(catalog));
    }
    let mut fields: Vec<String> = [Entity::Issue, Entity::Sprint].into_iter().flat_map(|e| list::field_names(catalog, e)).collect();
    fields.sort();
    fields.dedup();
    if let Some(items) = v.pointer_mut("/properties/fields/items") {
        *items = field_items(&fields);
    }
    // date_range is anyOf [between, last, sprints, null]: the date field of each shape that has one.
    for i in 0..3 {
        set_enum(&mut v, &format!("/properties/date_range/anyOf/{i}/properties/field"), &dates);
    }
    set_enum(&mut v, "/properties/sort_by/items/properties/direction", &strs(&["asc", "desc"]));
    if let Some(last) = v.pointer_mut("/properties/date_range/anyOf/1/properties/last") {
        last["pattern"] = json!(LAST_PATTERN);
    }
    v
}

/// The schema sent to a provider. Ollama and OpenAI-compatible servers (llama.cpp, vLLM) accept a
/// choice at the root, so they get one object shape per entity: issue metrics only with issue
/// dimensions and sprint metrics only with sprint dimensions (the mix-up small models make most), and
/// lists no longer than validation allows (llama.cpp's grammars honour maxItems).
/// OpenAI's strict mode and Anthropic's tools want a single object at the root: they get [`schema`].
pub fn for_provider(provider: Provider, catalog: &[MetricDef]) -> Value {
    match provider {
        Provider::Ollama | Provider::OpenAiCompatible => split(catalog),
        _ => schema(catalog),
    }
}

/// `anyOf [issue spec, sprint spec]`, each a closed object.
pub fn split(catalog: &[MetricDef]) -> Value {
    let base = schema(catalog);
    let variants: Vec<Value> = [Entity::Issue, Entity::Sprint]
        .into_iter()
        .filter_map(|entity| {
            let own: Vec<MetricDef> = catalog.iter().filter(|m| m.entity == entity).cloned().collect();
            if own.is_empty() {
                return None;
            }
            let dims = dims::dimensions(entity);
            let dates: Vec<&str> = dims.iter().filter(|d| d.kind == dims::Kind::Timestamp).map(|d| d.name).collect();
            let plain: Vec<&str> = dims.iter().filter(|d| d.kind != dims::Kind::Timestamp).map(|d| d.name).collect();
            let all: Vec<&str> = dims.iter().map(|d| d.name).collect();
            let mut v = base.clone();
            v["properties"]["entity"] = json!({"type": "string", "enum": [entity.as_str()]});
            v["properties"]["metrics"]["items"] = json!({"anyOf": metric_items(&own)});
            // Both may be as_of series (a sprint's: burndown and burnup).
            let mut by_date = dates.clone();
            by_date.push(dims::SERIES);
            v["properties"]["group_by"]["items"] = group_items(&plain, &by_date);
            v["properties"]["filters"]["items"] = filter_items(&all, &filter_metrics(&own));
            v["properties"]["fields"]["items"] = field_items(&list::field_names(&own, entity));
            if entity == Entity::Sprint {
                v["properties"]["similar_to"] = json!({"type": "null"});
            }
            // The validator's list limits, so a looping model stops at a valid length.
            for (name, max) in [
                ("metrics", MAX_METRICS),
                ("fields", list::MAX_FIELDS),
                ("group_by", MAX_GROUP_BY),
                ("filters", MAX_FILTERS),
                ("sort_by", MAX_SORT),
            ] {
                v["properties"][name]["maxItems"] = json!(max);
            }
            if let Some(Value::Array(shapes)) = v.pointer_mut("/properties/date_range/anyOf") {
                // last_sprints is for sprint specs only.
                if entity == Entity::Issue {
                    shapes.retain(|s| s.pointer("/properties/last_sprints").is_none());
                }
                for s in shapes.iter_mut() {
                    if s.pointer("/properties/field").is_some() {
                        let mut list: Vec<Value> = dates.iter().map(|d| json!(d)).collect();
                        list.push(Value::Null);
                        s["properties"]["field"] = json!({"type": ["string", "null"], "enum": list});
                    }
                }
            }
            Some(v)
        })
        .collect();
    json!({"anyOf": variants})
}

/// What `date_range.last` must look like (the spec parser's own rule, as a regular expression).
pub const LAST_PATTERN: &str = "^[1-9][0-9]{0,3} (day|week|month|quarter|year)s?$";

/// An object schema with these properties, all required, nothing else allowed.
fn closed(properties: Value) -> Value {
    let required: Vec<Value> = properties.as_object().map(|p| p.keys().map(|k| json!(k)).collect()).unwrap_or_default();
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

/// A date dimension is grouped with an interval, any other dimension without one.
fn group_items<S: serde::Serialize>(plain: &[S], dates: &[S]) -> Value {
    json!({"anyOf": [
        closed(json!({"field": {"type": "string", "enum": plain}, "interval": {"type": "null"}})),
        closed(json!({"field": {"type": "string", "enum": dates}, "interval": {"type": "string", "enum": dims::INTERVALS}})),
    ]})
}

/// A list's column: a list column or a listable metric's value (its parameters at their defaults).
fn field_items(names: &[String]) -> Value {
    closed(json!({"name": {"type": "string", "enum": names}}))
}

/// The metrics a list may filter by (every one but formulas).
fn filter_metrics(catalog: &[MetricDef]) -> Vec<String> {
    catalog.iter().filter(|m| m.kind != Kind::Formula).map(|m| m.name.clone()).collect()
}

/// A filter's value fits its operator: none for is_null/is_not_null, a list for in/not_in/between (two
/// for between, which validation checks), one string for the rest. A list may also keep the rows a
/// metric counts (`{"metric"}`), or compare a metric's value (a number) with gt, gte, lt or lte.
fn filter_items(fields: &[&str], metrics: &[String]) -> Value {
    let ops = |pick: &dyn Fn(Op) -> bool| Op::ALL.iter().filter(|o| pick(**o)).map(|o| o.as_str()).collect::<Vec<_>>();
    let field = json!({"type": "string", "enum": fields});
    json!({"anyOf": [
        closed(json!({"metric": {"type": "string", "enum": metrics}, "operator": {"type": ["string", "null"], "enum": ["gt", "gte", "lt", "lte", null]}, "value": {"type": ["number", "null"]}})),
        closed(json!({"field": field, "operator": {"type": "string", "enum": ops(&|o| matches!(o, Op::IsNull | Op::IsNotNull))}, "value": {"type": "null"}})),
        closed(json!({"field": field, "operator": {"type": "string", "enum": ops(&|o| matches!(o, Op::In | Op::NotIn | Op::Between))}, "value": {"type": "array", "items": {"type": "string"}}})),
        closed(json!({"field": field, "operator": {"type": "string", "enum": ops(&|o| !matches!(o, Op::IsNull | Op::IsNotNull | Op::In | Op::NotIn | Op::Between))}, "value": {"type": "string"}})),
    ]})
}

/// One metric item shape per set of allowed aggregations in the catalog.
/// The metric selections a model may write: one shape per set of allowed aggregations and parameters.
/// A metric with parameters also takes `params` (each one nullable: null keeps its default) and an
/// `alias` (the same metric twice, e.g. a forecast at two confidences, needs two names).
fn metric_items(catalog: &[MetricDef]) -> Vec<Value> {
    type Shape = (Vec<Aggregation>, Vec<(String, ParamType)>);
    let mut groups: Vec<(Shape, Vec<String>)> = Vec::new();
    for m in catalog {
        let allowed: Vec<Aggregation> = m.allowed_aggregations.iter().copied().filter(|a| *a != Aggregation::Formula).collect();
        let params: Vec<(String, ParamType)> = m.parameters.iter().map(|(k, p)| (k.clone(), p.param_type)).collect();
        let shape = (allowed, params);
        match groups.iter_mut().find(|(s, _)| *s == shape) {
            Some((_, names)) => names.push(m.name.clone()),
            None => groups.push((shape, vec![m.name.clone()])),
        }
    }
    groups
        .into_iter()
        .map(|((allowed, params), names)| {
            let aggregation = if allowed.is_empty() {
                json!({"type": "null"})
            } else {
                let mut list: Vec<Value> = allowed.iter().map(|a| json!(a.as_str())).collect();
                list.push(Value::Null);
                json!({"type": ["string", "null"], "enum": list})
            };
            let mut properties = json!({"name": {"type": "string", "enum": names}, "aggregation": aggregation});
            if !params.is_empty() {
                let each: Map<String, Value> = params.iter().map(|(k, t)| (k.clone(), param_schema(*t))).collect();
                properties["params"] = json!({"anyOf": [closed(Value::Object(each)), {"type": "null"}]});
                properties["alias"] = json!({"type": ["string", "null"], "pattern": "^[a-z][a-z0-9_]{0,62}$"});
            }
            closed(properties)
        })
        .collect()
}

/// A parameter's value as a model writes it (null: the default).
fn param_schema(t: ParamType) -> Value {
    match t {
        ParamType::Text | ParamType::Timestamptz => json!({"type": ["string", "null"]}),
        ParamType::TextArray => json!({"type": ["array", "null"], "items": {"type": "string"}}),
        ParamType::Integer => json!({"type": ["integer", "null"]}),
        ParamType::Numeric => json!({"type": ["number", "null"]}),
    }
}

fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.retain(|_, x| !x.is_null());
            o.values_mut().for_each(drop_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// What a model's answer asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// A spec to validate (nulls and the `clarification` key removed; anything else kept, so unknown
    /// keys such as `"sql"` are refused by validation).
    Spec(Value),
    /// The model says the question cannot be answered.
    Clarify(String),
}

pub fn output(answer: &Value) -> Output {
    let Value::Object(o) = answer else { return Output::Spec(answer.clone()) };
    let metrics_empty = o.get("metrics").is_none_or(|m| m.as_array().is_some_and(|a| a.is_empty()) || m.is_null());
    if let Some(Value::String(reason)) = o.get("clarification") {
        if !reason.trim().is_empty() && metrics_empty {
            return Output::Clarify(reason.trim().chars().take(500).collect());
        }
    }
    let mut spec: Map<String, Value> = o.clone();
    spec.remove("clarification");
    // A strict schema has every key: an aggregate answer's empty fields are no list, and fields next to
    // metrics (a small model fills both) are dropped: the metrics are the answer.
    let metrics_named = spec.get("metrics").and_then(Value::as_array).is_some_and(|m| !m.is_empty());
    if spec.get("fields").is_some_and(|f| f.as_array().is_some_and(|a| a.is_empty())) || metrics_named {
        spec.remove("fields");
    }
    let mut spec = Value::Object(spec);
    drop_nulls(&mut spec);
    if spec.get("date_range").is_some_and(|d| d.as_object().is_some_and(|m| m.is_empty())) {
        spec.as_object_mut().map(|m| m.remove("date_range"));
    }
    Output::Spec(spec)
}
