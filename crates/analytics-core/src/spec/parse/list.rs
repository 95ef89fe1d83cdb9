//! List specs: `"fields"` instead of `"metrics"` returns the rows themselves (issues or sprints), each
//! with the columns asked for: whitelisted columns of the entity, and catalog metrics' values for the
//! row. Filters may name a metric (`{"metric": "stuck_count"}`: the rows the metric counts), so a list
//! and a count over the same filters agree.

use super::*;

pub const MAX_FIELDS: usize = 20;
const FIELD_KEYS: &[&str] = &["name", "alias", "params"];
const METRIC_FILTER_KEYS: &[&str] = &["metric", "params", "operator", "value"];

/// Whether a catalog metric has a value per row that a list can show: not a formula (an aggregate over
/// many rows) and not a count of rows (its value per row is only the row's id).
pub fn listable(def: &MetricDef) -> bool {
    def.kind != Kind::Formula && def.default_aggregation != Aggregation::Count
}

/// The list fields a catalog offers for `entity`: column names, then listable metrics.
pub fn field_names(catalog: &[MetricDef], entity: Entity) -> Vec<String> {
    let mut names: Vec<String> = dims::list_column_names(entity).into_iter().map(String::from).collect();
    names.extend(catalog.iter().filter(|d| d.entity == entity && listable(d)).map(|d| d.name.clone()));
    names
}

fn unknown_field(ctx: &mut Ctx, path: &str, name: &str, entity: Entity) {
    if name.eq_ignore_ascii_case("tenant_id") || name.eq_ignore_ascii_case("tenant") {
        ctx.err(path, "forbidden_field", "the tenant cannot be chosen in a spec: every spec runs for the session's tenant");
        return;
    }
    let catalog = ctx.catalog;
    if let Some(d) = catalog.iter().find(|d| d.name == name && d.entity == entity) {
        let why = if d.kind == Kind::Formula { "combines many rows" } else { "counts rows" };
        ctx.err(path, "not_listable", format!("metric \"{name}\" {why}; it has no value per {}", entity.as_str())).hint(
            if d.kind == Kind::Formula {
                "Ask for it in an aggregate spec (\"metrics\") instead.".to_string()
            } else {
                format!(r#"To list the rows it counts, filter by it: "filters": [{{"metric": "{name}"}}]."#)
            },
        );
        return;
    }
    let names = field_names(catalog, entity);
    let sug = did_you_mean(name, names.iter().map(String::as_str), 3);
    ctx.err(path, "unknown_field", format!("unknown {} field \"{}\"", entity.as_str(), shown(name)))
        .hint(format!("List fields: {}.", names.join(", ")))
        .suggest(sug);
}

/// `fields`: names or `{"name", "alias", "params"}` objects.
pub(super) fn parse_fields(ctx: &mut Ctx, v: &Value, entity: Entity, date_range: &Option<DateRange>) -> Vec<FieldSel> {
    let Some(items) = array(ctx, "$.fields", v, MAX_FIELDS) else { return vec![] };
    if items.is_empty() {
        ctx.err("$.fields", "missing_key", "fields must not be empty")
            .hint(r#"For example "fields": ["key", "summary", "status", "assignee"]."#);
    }
    let catalog = ctx.catalog;
    let mut out: Vec<FieldSel> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("$.fields[{i}]");
        let (name, obj) = match item {
            Value::String(s) => (s.as_str(), None),
            Value::Object(o) => {
                unknown_keys(ctx, &path, o, FIELD_KEYS);
                let Some(n) = required_str(ctx, &path, o, "name", "a field object needs a name") else { continue };
                (n, Some(o))
            }
            other => {
                ctx.err(&path, "wrong_type", format!("a field is a name or an object, not {}", type_name(other)));
                continue;
            }
        };
        if !check_text(ctx, &path, name) {
            continue;
        }
        let npath = if obj.is_some() { format!("{path}.name") } else { path.clone() };
        let source = if dims::list_column(entity, name).is_some() {
            if obj.and_then(|o| o.get("params")).is_some_and(|p| !p.is_null()) {
                ctx.err(&format!("{path}.params"), "unknown_parameter", format!("{name} is a column; it takes no parameters"));
            }
            FieldSource::Column
        } else if let Some(def) = catalog.iter().find(|d| d.name == name && d.entity == entity && listable(d)) {
            FieldSource::Metric(metric_params(ctx, &path, def, obj, date_range, false))
        } else {
            unknown_field(ctx, &npath, name, entity);
            continue;
        };
        let alias = parse_alias(ctx, &path, obj, name);
        if out.iter().any(|f| f.alias == alias) {
            ctx.err(&path, "duplicate_alias", format!("the column \"{alias}\" appears twice in the result"))
                .hint("Give one of them an alias.");
            continue;
        }
        out.push(FieldSel { name: name.to_string(), alias, source });
    }
    out
}

/// A filter entry with a `metric` key (at `path`): the rows the metric counts, optionally also compared
/// by the metric's value per row.
pub(super) fn parse_metric_filter(
    ctx: &mut Ctx,
    path: &str,
    o: &Map<String, Value>,
    entity: Entity,
    date_range: &Option<DateRange>,
) -> Option<MetricFilter> {
    unknown_keys(ctx, path, o, METRIC_FILTER_KEYS);
    let name = required_str(ctx, path, o, "metric", "a metric filter names a metric")?;
    if !check_text(ctx, &format!("{path}.metric"), name) {
        return None;
    }
    let catalog = ctx.catalog;
    let Some(def) = catalog.iter().find(|d| d.name == name) else {
        let sug = did_you_mean(name, catalog.iter().map(|d| d.name.as_str()), 3);
        ctx.err(&format!("{path}.metric"), "unknown_metric", format!("unknown metric \"{}\"", shown(name)))
            .hint("analytics_metrics() lists the metrics.")
            .suggest(sug);
        return None;
    };
    if def.entity != entity {
        ctx.err(
            &format!("{path}.metric"),
            "entity_mismatch",
            format!("metric \"{name}\" is measured on {}s, but this list is of {}s", def.entity.as_str(), entity.as_str()),
        );
        return None;
    }
    if def.kind == Kind::Formula {
        ctx.err(&format!("{path}.metric"), "not_listable", format!("metric \"{name}\" combines many rows; no row qualifies for it alone"))
            .hint("Filter by the metrics it is made of.");
        return None;
    }
    let params = metric_params(ctx, path, def, Some(o), date_range, false);
    let (op, value) = match o.get("operator").filter(|v| !v.is_null()) {
        None => {
            if o.get("value").is_some_and(|v| !v.is_null()) {
                ctx.err(&format!("{path}.value"), "missing_key", "a value needs an operator (gt, gte, lt, lte or between)");
                return None;
            }
            (None, FilterValue::None)
        }
        Some(op_value) => {
            let op = op_value.as_str().and_then(Op::parse).filter(|op| matches!(op, Op::Gt | Op::Gte | Op::Lt | Op::Lte | Op::Between));
            let Some(op) = op else {
                ctx.err(&format!("{path}.operator"), "invalid_operator", "a metric's value compares with gt, gte, lt, lte or between")
                    .suggest(vec!["gt".into(), "gte".into(), "lt".into(), "lte".into(), "between".into()]);
                return None;
            };
            if !listable(def) {
                ctx.err(
                    &format!("{path}.operator"),
                    "invalid_operator",
                    format!("metric \"{name}\" counts rows; it has no value to compare"),
                )
                .hint(format!(r#"Use {{"metric": "{name}"}} alone."#));
                return None;
            }
            let number = |ctx: &mut Ctx, p: &str, v: Option<&Value>| -> Option<f64> {
                match v.and_then(|v| v.as_f64().or_else(|| v.as_str().and_then(|s| s.trim().parse::<f64>().ok()))) {
                    Some(x) if x.is_finite() => Some(x),
                    _ => {
                        ctx.err(p, "wrong_type", "value must be a number")
                            .hint(format!(r#"For example {{"metric": "{name}", "operator": "gt", "value": 10}}."#));
                        None
                    }
                }
            };
            let vpath = format!("{path}.value");
            let value = if op == Op::Between {
                let Some(Value::Array(pair)) = o.get("value").filter(|v| v.as_array().is_some_and(|a| a.len() == 2)) else {
                    ctx.err(&vpath, "invalid_value", "between needs [low, high]");
                    return None;
                };
                let a = number(ctx, &format!("{vpath}[0]"), pair.first())?;
                let b = number(ctx, &format!("{vpath}[1]"), pair.get(1))?;
                if a >= b {
                    ctx.err(&vpath, "inverted_range", format!("between {a} and {b} is empty: the first must come before the second"));
                    return None;
                }
                FilterValue::Two(a.to_string(), b.to_string())
            } else {
                FilterValue::One(number(ctx, &vpath, o.get("value"))?.to_string())
            };
            (Some(op), value)
        }
    };
    Some(MetricFilter { metric: name.to_string(), params, op, value })
}

/// The date field a list's date range without a field applies to when the list has no metric filter:
/// issues by creation, sprints by start.
pub fn default_list_date(entity: Entity) -> &'static str {
    match entity {
        Entity::Issue => "created_at",
        Entity::Sprint => "start_date",
    }
}

/// A list spec's rules beyond its parts: no metrics, no groups; a date range without a field applies to
/// the metric filters' dates, or without metric filters to the default date (and says so in the
/// canonical form).
pub(super) fn check_list(
    ctx: &mut Ctx,
    top: &Map<String, Value>,
    entity: Entity,
    metric_filters: &[MetricFilter],
    date_range: &mut Option<DateRange>,
) {
    if top.get("metrics").is_some_and(|m| !m.is_null() && m.as_array().is_none_or(|a| !a.is_empty())) {
        ctx.err("$.metrics", "list_with_metrics", "a spec with fields lists rows; it cannot also aggregate metrics")
            .hint(r#"Drop "metrics" to list rows (a metric's value per row can be a field), or drop "fields" to aggregate."#);
    }
    if top.get("group_by").is_some_and(|g| !g.is_null() && g.as_array().is_none_or(|a| !a.is_empty())) {
        ctx.err("$.group_by", "list_with_groups", "a list has one row per issue or sprint; it cannot be grouped")
            .hint(r#"Drop "group_by", or drop "fields" and ask for metrics per group."#);
    }
    // With metric filters the range means what it means for their counts: each one's own date, or for a
    // snapshot the moment it is taken (so a list and its count agree).
    match date_range {
        Some(DateRange::Absolute { field: f @ None, .. }) | Some(DateRange::Relative { field: f @ None, .. })
            if metric_filters.is_empty() =>
        {
            *f = Some(default_list_date(entity).to_string());
        }
        _ => {}
    }
}

/// Metric filters belong to lists.
pub(super) fn check_aggregate(ctx: &mut Ctx, metric_filters: &[MetricFilter]) {
    if !metric_filters.is_empty() {
        ctx.err("$.filters", "list_only", "a filter by a metric selects rows for a list (a spec with fields)")
            .hint("In an aggregate spec the metric's own filter already applies: add the metric to \"metrics\", or filter by dimensions.");
    }
}
