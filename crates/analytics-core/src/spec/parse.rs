//! From untrusted JSON to a [`Spec`]: every problem is collected with its JSON path, a code, a message,
//! a hint and "did you mean" suggestions (what the LLM retry loop feeds back). Nothing is trusted: names
//! must be in the catalog or the dimension whitelist, values are checked against their operator and
//! field, sizes are bounded.

use super::dims::{self, Kind as DimKind, INTERVALS};
use super::model::*;
use crate::catalog::{is_identifier, is_timestamp_text, Aggregation, Entity, Kind, MetricDef};
use crate::suggest::did_you_mean;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

mod groups;
pub mod list;
mod rows;
pub mod similar;
use groups::{check_series, parse_group_by};
use rows::{parse_date_range, parse_filters};

pub const MAX_METRICS: usize = 20;
pub const MAX_GROUP_BY: usize = 4;
pub const MAX_FILTERS: usize = 20;
pub const MAX_SORT: usize = 4;
pub const MAX_LIST: usize = 1000;
pub const MAX_TEXT: usize = 500;
pub const MAX_LIMIT: u64 = 1000;
/// The largest `limit` of a spec run as an async job (`analytics_job_submit('run', ...)`).
pub const JOB_MAX_LIMIT: u64 = 100_000;
pub const MAX_LAST_SPRINTS: u64 = 100;
pub const MAX_RELATIVE: u64 = 3650;
/// The largest bucket width of a number dimension.
pub const MAX_BUCKET: f64 = 1_000_000.0;

const TOP_KEYS: &[&str] = &["entity", "metrics", "fields", "group_by", "filters", "date_range", "sort_by", "limit", "similar_to"];
const METRIC_KEYS: &[&str] = &["name", "aggregation", "alias", "params"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecError {
    pub path: String,
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
    pub suggestions: Vec<String>,
}

struct Ctx<'a> {
    errors: Vec<SpecError>,
    catalog: &'a [MetricDef],
    max_limit: u64,
}

impl Ctx<'_> {
    fn err(&mut self, path: &str, code: &'static str, message: impl Into<String>) -> &mut SpecError {
        self.errors.push(SpecError { path: path.to_string(), code, message: message.into(), hint: None, suggestions: vec![] });
        self.errors.last_mut().expect("just pushed")
    }
}

trait Decorate {
    fn hint(&mut self, h: impl Into<String>) -> &mut Self;
    fn suggest(&mut self, s: Vec<String>) -> &mut Self;
}

impl Decorate for SpecError {
    fn hint(&mut self, h: impl Into<String>) -> &mut Self {
        self.hint = Some(h.into());
        self
    }
    fn suggest(&mut self, s: Vec<String>) -> &mut Self {
        self.suggestions = s;
        self
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A short, safe rendering of a value for messages (never more than 60 characters).
fn shown(v: &str) -> String {
    let clean: String = v.chars().map(|c| if c.is_control() { '?' } else { c }).take(60).collect();
    if v.chars().count() > 60 {
        format!("{clean}…")
    } else {
        clean
    }
}

fn check_text(ctx: &mut Ctx, path: &str, s: &str) -> bool {
    if s.len() > MAX_TEXT {
        ctx.err(path, "too_long", format!("value is {} bytes long; the limit is {MAX_TEXT}", s.len()));
        return false;
    }
    if s.chars().any(|c| c == '\0') {
        ctx.err(path, "invalid_value", "value contains a NUL character");
        return false;
    }
    true
}

fn unknown_keys(ctx: &mut Ctx, path: &str, obj: &Map<String, Value>, known: &[&str]) {
    for k in obj.keys() {
        if !known.contains(&k.as_str()) {
            let s = did_you_mean(k, known.iter().copied(), 3);
            ctx.err(&format!("{path}.{}", shown(k)), "unknown_key", format!("unknown key \"{}\"", shown(k)))
                .hint(format!("Allowed keys: {}.", known.join(", ")))
                .suggest(s);
        }
    }
}

/// The string at `key` of a spec object. A missing key (`needs` says why it is required) or a value of
/// another type is reported, and gives None.
fn required_str<'v>(ctx: &mut Ctx, path: &str, o: &'v Map<String, Value>, key: &str, needs: &str) -> Option<&'v str> {
    match o.get(key) {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(other) => {
            ctx.err(&format!("{path}.{key}"), "wrong_type", format!("{key} must be a string, not {}", type_name(other)));
            None
        }
        None => {
            ctx.err(&format!("{path}.{key}"), "missing_key", needs);
            None
        }
    }
}

fn array<'v>(ctx: &mut Ctx, path: &str, v: &'v Value, max: usize) -> Option<&'v Vec<Value>> {
    match v {
        Value::Array(a) if a.len() > max => {
            ctx.err(path, "too_many", format!("{} entries; at most {max} are allowed", a.len()));
            None
        }
        Value::Array(a) => Some(a),
        other => {
            ctx.err(path, "wrong_type", format!("must be an array, not {}", type_name(other)));
            None
        }
    }
}

/// Validates a spec against the active catalog. Returns the spec, or every problem found.
pub fn parse(input: &Value, catalog: &[MetricDef]) -> Result<Spec, Vec<SpecError>> {
    parse_with_limit(input, catalog, MAX_LIMIT)
}

/// [`parse`] with another largest `limit` ([`JOB_MAX_LIMIT`] for a spec run as an async job).
pub fn parse_with_limit(input: &Value, catalog: &[MetricDef], max_limit: u64) -> Result<Spec, Vec<SpecError>> {
    let mut ctx = Ctx { errors: Vec::new(), catalog, max_limit };
    let spec = parse_inner(&mut ctx, input);
    match spec {
        Some(s) if ctx.errors.is_empty() => Ok(s),
        _ => {
            if ctx.errors.is_empty() {
                ctx.err("$", "invalid_spec", "the spec is not valid");
            }
            Err(ctx.errors)
        }
    }
}

fn parse_inner(ctx: &mut Ctx, input: &Value) -> Option<Spec> {
    let Value::Object(top) = input else {
        ctx.err("$", "wrong_type", format!("a spec must be a JSON object, not {}", type_name(input)))
            .hint(r#"For example {"metrics": ["lead_time_p50"], "group_by": ["priority"]}."#);
        return None;
    };
    unknown_keys(ctx, "$", top, TOP_KEYS);

    let declared = match top.get("entity") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s == "issue" => Some(Entity::Issue),
        Some(Value::String(s)) if s == "sprint" => Some(Entity::Sprint),
        Some(Value::String(s)) => {
            let sug = did_you_mean(s, ["issue", "sprint"], 2);
            ctx.err("$.entity", "invalid_value", format!("unknown entity \"{}\"", shown(s)))
                .hint("Use \"issue\" or \"sprint\".")
                .suggest(sug);
            None
        }
        Some(other) => {
            ctx.err("$.entity", "wrong_type", format!("entity must be a string, not {}", type_name(other)));
            None
        }
    };

    let fields_value = top.get("fields").filter(|v| !v.is_null());
    if let Some(fields) = fields_value {
        return Some(parse_list(ctx, top, fields, declared.unwrap_or(Entity::Issue)));
    }
    let metric_defs = parse_metric_names(ctx, top.get("metrics"));
    let entity = declared.or_else(|| metric_defs.iter().flatten().map(|(d, _)| d.entity).next()).unwrap_or(Entity::Issue);
    for (i, m) in metric_defs.iter().enumerate() {
        if let Some((d, _)) = m {
            if d.entity != entity {
                let path = format!("$.metrics[{i}]");
                ctx.err(
                    &path,
                    "entity_mismatch",
                    format!("metric \"{}\" is measured on {}s, but this spec is about {}s", d.name, d.entity.as_str(), entity.as_str()),
                )
                .hint("Put metrics of one entity in a spec; ask a second spec for the others.");
            }
        }
    }

    let group_by = parse_group_by(ctx, top.get("group_by"), entity);
    let date_range = parse_date_range(ctx, top.get("date_range"), entity);
    let (filters, metric_filters) = parse_filters(ctx, top.get("filters"), entity, &date_range);
    list::check_aggregate(ctx, &metric_filters);
    check_series(ctx, &group_by, &date_range, entity);
    let metrics = finish_metrics(ctx, &metric_defs, &group_by, &date_range);
    let columns: Vec<(String, bool)> =
        group_by.iter().map(|g| (g.column(), false)).chain(metrics.iter().map(|m| (m.alias.clone(), true))).collect();
    let names: Vec<(&str, &str)> = metrics.iter().map(|m| (m.name.as_str(), m.alias.as_str())).collect();
    let sort_by = parse_sort(ctx, top.get("sort_by"), &columns, &names);
    let limit = parse_limit(ctx, top.get("limit"));
    let similar_to = similar::parse_similar_to(ctx, top.get("similar_to"), entity, &group_by);

    Some(Spec { entity, metrics, fields: vec![], group_by, filters, metric_filters, date_range, sort_by, limit, similar_to })
}

/// A list spec (`fields` set): rows of the entity, see [`list`].
fn parse_list(ctx: &mut Ctx, top: &Map<String, Value>, fields: &Value, entity: Entity) -> Spec {
    let mut date_range = parse_date_range(ctx, top.get("date_range"), entity);
    let (filters, metric_filters) = parse_filters(ctx, top.get("filters"), entity, &date_range);
    list::check_list(ctx, top, entity, &metric_filters, &mut date_range);
    let fields = list::parse_fields(ctx, fields, entity, &date_range);
    let columns: Vec<(String, bool)> = fields.iter().map(|f| (f.alias.clone(), matches!(f.source, FieldSource::Metric(_)))).collect();
    let names: Vec<(&str, &str)> = fields.iter().map(|f| (f.name.as_str(), f.alias.as_str())).collect();
    let sort_by = parse_sort(ctx, top.get("sort_by"), &columns, &names);
    let limit = parse_limit(ctx, top.get("limit"));
    let similar_to = similar::parse_similar_to(ctx, top.get("similar_to"), entity, &[]);
    Spec { entity, metrics: vec![], fields, group_by: vec![], filters, metric_filters, date_range, sort_by, limit, similar_to }
}

/// A `metrics` entry resolved to its catalog definition, with the entry's object form if it has one.
type NamedMetric<'c, 'v> = Option<(&'c MetricDef, Option<&'v Map<String, Value>>)>;

/// First pass over `metrics`: resolve each entry's name to an active catalog definition.
fn parse_metric_names<'c, 'v>(ctx: &mut Ctx<'c>, v: Option<&'v Value>) -> Vec<NamedMetric<'c, 'v>> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        ctx.err("$.metrics", "missing_key", "metrics is required").hint(r#"List at least one metric, e.g. "metrics": ["cycle_time"]."#);
        return vec![];
    };
    let Some(items) = array(ctx, "$.metrics", v, MAX_METRICS) else { return vec![] };
    if items.is_empty() {
        ctx.err("$.metrics", "missing_key", "metrics must not be empty");
    }
    let catalog = ctx.catalog;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = format!("$.metrics[{i}]");
            let (name, obj) = match item {
                Value::String(s) => (s.as_str(), None),
                Value::Object(o) => {
                    unknown_keys(ctx, &path, o, METRIC_KEYS);
                    (required_str(ctx, &path, o, "name", "a metric object needs a name")?, Some(o))
                }
                other => {
                    ctx.err(&path, "wrong_type", format!("a metric is a name or an object, not {}", type_name(other)));
                    return None;
                }
            };
            if !check_text(ctx, &path, name) {
                return None;
            }
            match catalog.iter().find(|d| d.name == name) {
                Some(d) => Some((d, obj)),
                None => {
                    let mut cands: Vec<&str> = catalog.iter().map(|d| d.name.as_str()).collect();
                    let mut sug = did_you_mean(name, cands.iter().copied(), 3);
                    // Words people use for a metric also count ("spillover" -> spillover_ratio).
                    for d in catalog {
                        if d.synonyms.iter().any(|s| s.eq_ignore_ascii_case(name.trim())) && !sug.contains(&d.name) {
                            sug.insert(0, d.name.clone());
                        }
                    }
                    sug.truncate(3);
                    cands.clear();
                    ctx.err(
                        &format!("{path}{}", if obj.is_some() { ".name" } else { "" }),
                        "unknown_metric",
                        format!("unknown metric \"{}\"", shown(name)),
                    )
                    .hint("analytics_metrics() lists the metrics.")
                    .suggest(sug);
                    None
                }
            }
        })
        .collect()
}

fn json_type_fits(t: crate::catalog::ParamType, v: &Value) -> bool {
    t.accepts(v)
        && match v {
            Value::String(s) => s.len() <= MAX_TEXT,
            Value::Array(a) => a.len() <= MAX_LIST && a.iter().all(|x| x.as_str().is_some_and(|s| s.len() <= MAX_TEXT)),
            _ => true,
        }
}

/// Second pass: aggregations, aliases and parameters, once grouping and the date range are known.
fn finish_metrics(ctx: &mut Ctx, defs: &[NamedMetric], group_by: &[GroupBy], date_range: &Option<DateRange>) -> Vec<MetricSel> {
    let mut out: Vec<MetricSel> = Vec::new();
    let group_columns: Vec<String> = group_by.iter().map(GroupBy::column).collect();
    let series = group_by.iter().any(GroupBy::is_series);
    for (i, entry) in defs.iter().enumerate() {
        let Some((def, obj)) = entry else { continue };
        let path = format!("$.metrics[{i}]");
        // Aggregation.
        let aggregation = match obj.and_then(|o| o.get("aggregation")).filter(|v| !v.is_null()) {
            None => (def.kind != Kind::Formula).then_some(def.default_aggregation),
            // The canonical form spells a formula's aggregation "formula": accept it back.
            Some(Value::String(a)) if a == "formula" && def.kind == Kind::Formula => None,
            Some(Value::String(a)) => match Aggregation::parse(a).filter(|a| *a != Aggregation::Formula) {
                Some(agg) if def.kind == Kind::Formula => {
                    ctx.err(
                        &format!("{path}.aggregation"),
                        "aggregation_not_allowed",
                        format!("\"{}\" is a formula over other metrics; it takes no aggregation ({})", def.name, agg.as_str()),
                    )
                    .hint("Leave out aggregation.");
                    None
                }
                Some(agg) if !def.allowed_aggregations.contains(&agg) => {
                    let allowed: Vec<&str> = def.allowed_aggregations.iter().map(|a| a.as_str()).collect();
                    ctx.err(
                        &format!("{path}.aggregation"),
                        "aggregation_not_allowed",
                        format!("metric \"{}\" cannot be aggregated with {}", def.name, agg.as_str()),
                    )
                    .hint(format!("Allowed: {}.", allowed.join(", ")))
                    .suggest(allowed.iter().map(|s| s.to_string()).collect());
                    None
                }
                Some(agg) => Some(agg),
                None => {
                    let all = ["count", "sum", "avg", "min", "max", "p50", "p70", "p75", "p85", "p90", "p95"];
                    let sug = did_you_mean(a, all, 3);
                    ctx.err(&format!("{path}.aggregation"), "invalid_value", format!("unknown aggregation \"{}\"", shown(a)))
                        .hint(format!("Use one of {}.", all.join(", ")))
                        .suggest(sug);
                    None
                }
            },
            Some(other) => {
                ctx.err(&format!("{path}.aggregation"), "wrong_type", format!("aggregation must be a string, not {}", type_name(other)));
                None
            }
        };
        // Alias.
        let alias = parse_alias(ctx, &path, *obj, &def.name);
        if out.iter().any(|m| m.alias == alias) || group_columns.contains(&alias) {
            ctx.err(
                &format!("{path}{}", if obj.is_some_and(|o| o.contains_key("alias")) { ".alias" } else { "" }),
                "duplicate_alias",
                format!("the column \"{alias}\" appears twice in the result"),
            )
            .hint("Give one of them an alias.");
        }
        let params = metric_params(ctx, &path, def, *obj, date_range, series);
        if series && obj.and_then(|o| o.get("params")).and_then(Value::as_object).is_some_and(|p| p.contains_key("as_of")) {
            ctx.err(&format!("{path}.params.as_of"), "invalid_value", "in an as_of series each bucket's end is the as_of")
                .hint("Leave out as_of; the date_range says which buckets there are.");
        }
        if series && def.kind == Kind::Formula && def.dependencies.is_empty() {
            ctx.err(
                &path,
                "not_in_series",
                format!("\"{}\" is computed over its whole history at once; it has no value per bucket", def.name),
            )
            .hint("Drop the as_of group; for a value at several moments, ask once per as_of.");
        }
        if series && def.entity == Entity::Sprint && def.kind != Kind::Snapshot {
            ctx.err(
                &path,
                "not_in_series",
                format!("\"{}\" is a sprint's total, not its state at a moment; it has no value per bucket", def.name),
            )
            .hint("A sprint series (burndown, burnup) takes snapshot metrics: sprint_scope_sp, sprint_done_sp, sprint_remaining_sp, sprint_guideline_sp; for per-sprint totals group by sprint instead.");
        }
        if def.kind == Kind::Snapshot && !series {
            if let Some(g) = group_by.iter().find(|g| g.interval.is_some()) {
                ctx.err(
                    &path,
                    "snapshot_by_date",
                    format!(
                        "\"{}\" is measured at one moment (the end of the period), so it cannot be grouped by {}",
                        def.name,
                        g.column()
                    ),
                )
                .hint(format!(
                    r#"For its value at the end of each {iv}, group by {{"field": "as_of", "interval": "{iv}"}} instead."#,
                    iv = g.interval.as_deref().unwrap_or("month")
                ));
            }
        }
        out.push(MetricSel { name: def.name.clone(), aggregation, alias, params });
    }
    out
}

/// The output column name of an entry at `path` (its `alias`, checked to be snake_case), else `default`.
fn parse_alias(ctx: &mut Ctx, path: &str, obj: Option<&Map<String, Value>>, default: &str) -> String {
    match obj.and_then(|o| o.get("alias")).filter(|v| !v.is_null()) {
        None => default.to_string(),
        Some(Value::String(a)) if is_identifier(a) => a.clone(),
        Some(Value::String(a)) => {
            ctx.err(
                &format!("{path}.alias"),
                "invalid_value",
                format!("alias \"{}\" must be snake_case: a lower-case letter, then letters, digits or _ (at most 63)", shown(a)),
            );
            default.to_string()
        }
        Some(other) => {
            ctx.err(&format!("{path}.alias"), "wrong_type", format!("alias must be a string, not {}", type_name(other)));
            default.to_string()
        }
    }
}

/// A metric's parameters from its entry (`obj`, the object form if any) at `path`: its own, and for a
/// formula its dependencies', defaults filled in; a snapshot outside a series is taken at the end of an
/// absolute period.
fn metric_params(
    ctx: &mut Ctx,
    path: &str,
    def: &MetricDef,
    obj: Option<&Map<String, Value>>,
    date_range: &Option<DateRange>,
    series: bool,
) -> BTreeMap<String, Value> {
    // Parameters: the metric's own, and for formulas its dependencies'.
    let mut declared: BTreeMap<String, (crate::catalog::ParamType, Value)> =
        def.parameters.iter().map(|(k, p)| (k.clone(), (p.param_type, p.default.clone()))).collect();
    if def.kind == Kind::Formula {
        for dep in &def.dependencies {
            if let Some(dd) = ctx.catalog.iter().find(|m| &m.name == dep) {
                for (k, p) in &dd.parameters {
                    declared.entry(k.clone()).or_insert((p.param_type, p.default.clone()));
                }
            }
        }
    }
    let mut params: BTreeMap<String, Value> = declared.iter().map(|(k, (_, d))| (k.clone(), d.clone())).collect();
    // A snapshot is taken at the end of an absolute period.
    // (In a series each bucket's end is the as_of: the parameter keeps its default, unused.)
    if let (Some(DateRange::Absolute { to: Some(to), .. }), true, false) = (date_range, declared.contains_key("as_of"), series) {
        params.insert("as_of".into(), Value::String(to.clone()));
    }
    match obj.and_then(|o| o.get("params")).filter(|v| !v.is_null()) {
        None => {}
        Some(Value::Object(given)) => {
            for (k, v) in given {
                let ppath = format!("{path}.params.{}", shown(k));
                match declared.get(k) {
                    None => {
                        let names: Vec<&str> = declared.keys().map(String::as_str).collect();
                        ctx.err(&ppath, "unknown_parameter", format!("metric \"{}\" has no parameter \"{}\"", def.name, shown(k)))
                            .hint(if names.is_empty() {
                                "It takes no parameters.".to_string()
                            } else {
                                format!("Its parameters: {}.", names.join(", "))
                            })
                            .suggest(did_you_mean(k, names.iter().copied(), 3));
                    }
                    Some((t, _)) if !json_type_fits(*t, v) => {
                        ctx.err(
                            &ppath,
                            "wrong_type",
                            format!(
                                "parameter \"{k}\" must be {} (strings at most {MAX_TEXT} bytes, lists at most {MAX_LIST} items)",
                                t.sql_type()
                            ),
                        );
                    }
                    Some(_) => {
                        params.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        Some(other) => {
            ctx.err(&format!("{path}.params"), "wrong_type", format!("params must be an object, not {}", type_name(other)));
        }
    }
    params
}

fn unknown_dimension(ctx: &mut Ctx, path: &str, field: &str, entity: Entity) {
    let names: Vec<&str> = dims::dimensions(entity).iter().map(|d| d.name).collect();
    let forbidden = field.eq_ignore_ascii_case("tenant_id") || field.eq_ignore_ascii_case("tenant");
    let e = ctx.err(
        path,
        if forbidden { "forbidden_field" } else { "unknown_dimension" },
        if forbidden {
            "the tenant cannot be chosen in a spec: every spec runs for the session's tenant".to_string()
        } else {
            format!("unknown {} dimension \"{}\"", entity.as_str(), shown(field))
        },
    );
    e.hint(format!("{} dimensions: {}.", entity.as_str(), names.join(", ")));
    if !forbidden {
        e.suggest(did_you_mean(field, names.iter().copied(), 3));
    }
}

/// `sort_by` over the result's `columns` (name, whether a measure: measures sort descending unless told),
/// where a metric's or field's `names` (name, alias) also sorts by its alias.
fn parse_sort(ctx: &mut Ctx, v: Option<&Value>, columns: &[(String, bool)], names: &[(&str, &str)]) -> Vec<Sort> {
    let Some(v) = v.filter(|v| !v.is_null()) else { return vec![] };
    let Some(items) = array(ctx, "$.sort_by", v, MAX_SORT) else { return vec![] };
    let metric_names: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
    let measures: Vec<&str> = columns.iter().filter(|(_, m)| *m).map(|(c, _)| c.as_str()).collect();
    let columns: Vec<String> = columns.iter().map(|(c, _)| c.clone()).collect();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("$.sort_by[{i}]");
        let (field, dir) = match item {
            Value::String(s) => (s.as_str(), None),
            Value::Object(o) => {
                unknown_keys(ctx, &path, o, &["field", "direction"]);
                let Some(f) = o.get("field").and_then(Value::as_str) else {
                    ctx.err(&format!("{path}.field"), "missing_key", "a sort needs a field (a string)");
                    continue;
                };
                (f, o.get("direction"))
            }
            other => {
                ctx.err(&path, "wrong_type", format!("a sort is a column name or {{\"field\", \"direction\"}}, not {}", type_name(other)));
                continue;
            }
        };
        if !check_text(ctx, &path, field) {
            continue;
        }
        // A metric's name sorts by it even when it has an alias.
        let column = if columns.iter().any(|c| c == field) {
            field.to_string()
        } else if let Some((_, alias)) = names.iter().find(|(n, _)| *n == field) {
            alias.to_string()
        } else {
            let cands: Vec<&str> = columns.iter().map(String::as_str).chain(metric_names.iter().copied()).collect();
            ctx.err(
                &format!("{path}{}", if item.is_object() { ".field" } else { "" }),
                "unknown_sort_field",
                format!("cannot sort by \"{}\": it is not a column of the result", shown(field)),
            )
            .hint(format!("Sort by one of: {}.", columns.join(", ")))
            .suggest(did_you_mean(field, cands, 3));
            continue;
        };
        let is_metric = measures.contains(&column.as_str());
        let descending = match dir {
            None | Some(Value::Null) => is_metric,
            Some(Value::String(d)) if d.eq_ignore_ascii_case("desc") => true,
            Some(Value::String(d)) if d.eq_ignore_ascii_case("asc") => false,
            Some(_) => {
                ctx.err(&format!("{path}.direction"), "invalid_value", "direction must be \"asc\" or \"desc\"");
                continue;
            }
        };
        out.push(Sort { field: column, descending });
    }
    out
}

fn parse_limit(ctx: &mut Ctx, v: Option<&Value>) -> u32 {
    match v {
        None | Some(Value::Null) => DEFAULT_LIMIT,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(k) if (1..=ctx.max_limit).contains(&k) => k as u32,
            _ => {
                let max = ctx.max_limit;
                let e = ctx.err("$.limit", "limit_out_of_range", format!("limit must be a whole number from 1 to {max}, not {n}"));
                if max < JOB_MAX_LIMIT {
                    e.hint(format!("Up to {JOB_MAX_LIMIT} rows: run the spec as an async job, analytics_job_submit('run', spec)."));
                }
                DEFAULT_LIMIT
            }
        },
        Some(other) => {
            ctx.err("$.limit", "wrong_type", format!("limit must be a number, not {}", type_name(other)));
            DEFAULT_LIMIT
        }
    }
}
