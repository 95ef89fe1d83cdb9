//! A validated [`Spec`] to one parameterized SQL query. Identifiers come only from the catalog and the
//! dimension whitelist (and are quoted where they name output columns); every value from the spec is a
//! `$n` parameter. The query filters `f.tenant_id = $1` explicitly and runs as the caller, so row-level
//! security applies as well.

use super::dims::{self, Kind as DimKind};
use super::model::*;
use crate::catalog::params::{bound_param, Bound, Query};
use crate::catalog::sql::{aggregate, render};
use crate::catalog::{Aggregation, Entity, Kind, MetricDef};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    pub name: String,
    /// `dimension` or `metric`.
    pub role: &'static str,
    /// The metric's unit (metrics only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricVersion {
    pub name: String,
    pub version: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    pub sql: String,
    pub params: Vec<Bound>,
    pub columns: Vec<Column>,
    /// Every catalog definition the query uses (a formula's dependencies included), with versions.
    pub metrics: Vec<MetricVersion>,
    /// Whether the query reads the sprint statistics (`sprint_facts` when compiled from
    /// [`SprintSource::Live`], `sprint_stats` from [`SprintSource::Stats`]): only then does the source
    /// matter.
    pub reads_sprint_stats: bool,
}

/// Where a sprint spec reads its statistics from: `analytics.sprint_facts`, computed live, or
/// `analytics.sprint_stats`, the tenant's materialized copy (the same columns; the same rows while the
/// tenant's statistics are fresh, which the caller checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SprintSource {
    #[default]
    Live,
    Stats,
}

/// The relation a query reads `base` from: the sprint statistics' materialized copy for
/// [`SprintSource::Stats`]; and whether `base` is the sprint statistics at all.
pub(super) fn routed(base: String, source: SprintSource) -> (String, bool) {
    let live = Entity::Sprint.base_relation();
    match (base == live, source) {
        (true, SprintSource::Stats) => ("analytics.sprint_stats".to_string(), true),
        (is, _) => (base, is),
    }
}

pub(super) fn find<'c>(catalog: &'c [MetricDef], name: &str) -> Result<&'c MetricDef, String> {
    catalog.iter().find(|m| m.name == name).ok_or_else(|| format!("metric {name} vanished from the catalog"))
}

/// The time-window condition on `column` for the spec's date range (None: no window).
pub(super) fn window(range: &Option<DateRange>, column: &str, q: &mut Query) -> Option<String> {
    match range {
        Some(DateRange::Absolute { from, to, .. }) => {
            let mut c = Vec::new();
            if let Some(f) = from {
                c.push(format!("f.{column} >= {}", q.bind(Bound::Text(f.clone()), "timestamptz")));
            }
            if let Some(t) = to {
                c.push(format!("f.{column} < {}", q.bind(Bound::Text(t.clone()), "timestamptz")));
            }
            (!c.is_empty()).then(|| c.join(" AND "))
        }
        Some(DateRange::Relative { n, unit, .. }) => {
            Some(format!("f.{column} >= now() - {}", q.bind(Bound::Text(unit.interval(*n)), "interval")))
        }
        _ => None,
    }
}

pub(super) fn range_field(range: &Option<DateRange>) -> Option<&str> {
    match range {
        Some(DateRange::Absolute { field: Some(f), .. }) | Some(DateRange::Relative { field: Some(f), .. }) => Some(f),
        _ => None,
    }
}

/// The time fields of the metrics a spec uses (formulas' dependencies included), and whether one of
/// them is a snapshot (no time field: it needs every row).
fn time_fields<'c>(spec: &Spec, catalog: &'c [MetricDef]) -> Result<(Vec<&'c str>, bool), String> {
    let mut fields: Vec<&str> = Vec::new();
    let mut snapshot = false;
    for m in &spec.metrics {
        let def = find(catalog, &m.name)?;
        let defs: Vec<&MetricDef> = if def.kind == Kind::Formula {
            def.dependencies.iter().map(|d| find(catalog, d)).collect::<Result<_, _>>()?
        } else {
            vec![def]
        };
        for d in defs {
            match &d.time_field {
                Some(t) if !fields.contains(&t.as_str()) => fields.push(t),
                Some(_) => {}
                None => snapshot = true,
            }
        }
    }
    Ok((fields, snapshot))
}

/// The aggregate of one measure or snapshot metric: its value, its own filter, and (when the spec's
/// date range names no field) its own time window, unless that window is already the query's WHERE
/// (`in_where`: every metric shares that time field).
/// `as_of`: SQL for the snapshot moment instead of the parameter (a series' bucket end).
pub(super) fn measure(
    def: &MetricDef,
    agg: Aggregation,
    params: &BTreeMap<String, serde_json::Value>,
    range: &Option<DateRange>,
    in_where: Option<&str>,
    q: &mut Query,
    as_of: Option<&str>,
) -> Result<String, String> {
    let mut values = BTreeMap::new();
    for (name, p) in &def.parameters {
        let sql = match as_of {
            Some(at) if name == "as_of" => at.to_string(),
            _ => q.bind(bound_param(name, p.param_type, params.get(name).unwrap_or(&p.default))?, p.param_type.sql_type()),
        };
        values.insert(name.clone(), sql);
    }
    let value = render(&def.sql_expression, &values)?;
    // The catalog's filter is any boolean expression: parenthesized when a time window (a conjunction of
    // comparisons) joins it.
    let own = def.filter.as_deref().map(|f| render(f, &values)).transpose()?;
    let window = match range_field(range) {
        None => def.time_field.as_deref().filter(|t| Some(*t) != in_where).and_then(|t| window(range, t, q)),
        Some(_) => None,
    };
    let filter = match (own, window) {
        (Some(f), Some(w)) => Some(format!("({f}) AND {w}")),
        (f, w) => f.or(w),
    };
    Ok(aggregate(agg, &value, filter.as_deref()))
}

/// A number dimension's group: the lower bound of its bucket (`floor(value / width) * width`).
pub(super) fn number_bucket(column: &str, g: &GroupBy, q: &mut Query) -> String {
    let width = q.bind(Bound::Text(g.bucket.unwrap_or(1.0).to_string()), "numeric");
    format!("floor(f.{column} / {width}) * {width}")
}

/// Notes a catalog definition a query uses, once.
pub(super) fn note_version(used: &mut Vec<MetricVersion>, d: &MetricDef) {
    if !used.iter().any(|u| u.name == d.name) {
        used.push(MetricVersion { name: d.name.clone(), version: d.version });
    }
}

/// A formula's own parameters, bound (a formula without dependencies aggregates the rows itself).
pub(super) fn formula_params(
    def: &MetricDef,
    params: &BTreeMap<String, serde_json::Value>,
    q: &mut Query,
) -> Result<BTreeMap<String, String>, String> {
    let mut values = BTreeMap::new();
    for (name, p) in &def.parameters {
        values.insert(
            name.clone(),
            q.bind(bound_param(name, p.param_type, params.get(name).unwrap_or(&p.default))?, p.param_type.sql_type()),
        );
    }
    Ok(values)
}

pub(super) fn filter_sql(f: &Filter, entity: Entity, q: &mut Query) -> Result<String, String> {
    let dim = dims::find(entity, &f.field).ok_or_else(|| format!("unknown dimension {}", f.field))?;
    let col = format!("f.{}", dim.column);
    let one = |q: &mut Query, s: &str, t: &str| q.bind(Bound::Text(s.to_string()), t);
    let scalar = if dim.kind == DimKind::Number { "numeric" } else { "text" };
    let sql = match (dim.kind, f.op, &f.value) {
        (_, Op::IsNull, _) if dim.kind == DimKind::TextArray => format!("cardinality({col}) = 0"),
        (_, Op::IsNotNull, _) if dim.kind == DimKind::TextArray => format!("cardinality({col}) > 0"),
        (_, Op::IsNull, _) => format!("{col} IS NULL"),
        (_, Op::IsNotNull, _) => format!("{col} IS NOT NULL"),
        // Text and numbers compare alike; only text has contains.
        (DimKind::Text | DimKind::Number, op, FilterValue::One(v)) => {
            let p = one(q, v, scalar);
            match op {
                Op::Eq => format!("{col} = {p}"),
                Op::Ne => format!("{col} IS DISTINCT FROM {p}"),
                Op::Gt => format!("{col} > {p}"),
                Op::Gte => format!("{col} >= {p}"),
                Op::Lt => format!("{col} < {p}"),
                Op::Lte => format!("{col} <= {p}"),
                Op::Contains if dim.kind == DimKind::Text => format!("strpos(lower({col}), lower({p})) > 0"),
                other => return Err(format!("operator {} with one value", other.as_str())),
            }
        }
        (DimKind::Text | DimKind::Number, Op::In, FilterValue::Many(vs)) => {
            format!("{col} = ANY ({})", q.bind(Bound::TextArray(vs.clone()), &format!("{scalar}[]")))
        }
        (DimKind::Text | DimKind::Number, Op::NotIn, FilterValue::Many(vs)) => {
            format!("({col} IS NULL OR NOT ({col} = ANY ({})))", q.bind(Bound::TextArray(vs.clone()), &format!("{scalar}[]")))
        }
        (DimKind::Text, Op::Between, FilterValue::Two(a, b)) => {
            let (pa, pb) = (one(q, a, "text"), one(q, b, "text"));
            format!("{col} BETWEEN {pa} AND {pb}")
        }
        (DimKind::TextArray, op, FilterValue::One(v)) => {
            let p = one(q, v, "text");
            match op {
                Op::Eq => format!("{p} = ANY ({col})"),
                Op::Ne => format!("NOT ({p} = ANY ({col}))"),
                Op::Contains => format!("EXISTS (SELECT FROM unnest({col}) AS x(v) WHERE strpos(lower(x.v), lower({p})) > 0)"),
                other => return Err(format!("operator {} on a list", other.as_str())),
            }
        }
        (DimKind::TextArray, Op::In, FilterValue::Many(vs)) => format!("{col} && {}", q.bind(Bound::TextArray(vs.clone()), "text[]")),
        (DimKind::TextArray, Op::NotIn, FilterValue::Many(vs)) => {
            format!("NOT ({col} && {})", q.bind(Bound::TextArray(vs.clone()), "text[]"))
        }
        (DimKind::Timestamp, op, FilterValue::One(v)) => {
            let p = one(q, v, "timestamptz");
            match op {
                Op::Eq => format!("({col} >= {p} AND {col} < {p} + interval '1 day')"),
                Op::Ne => format!("NOT ({col} >= {p} AND {col} < {p} + interval '1 day')"),
                Op::Gt => format!("{col} > {p}"),
                Op::Gte => format!("{col} >= {p}"),
                Op::Lt => format!("{col} < {p}"),
                Op::Lte => format!("{col} <= {p}"),
                other => return Err(format!("operator {} on a date", other.as_str())),
            }
        }
        (DimKind::Number, Op::Between, FilterValue::Two(a, b)) => {
            // Half-open, like dates: [low, high).
            let (pa, pb) = (one(q, a, "numeric"), one(q, b, "numeric"));
            format!("({col} >= {pa} AND {col} < {pb})")
        }
        (DimKind::Timestamp, Op::Between, FilterValue::Two(a, b)) => {
            let (pa, pb) = (one(q, a, "timestamptz"), one(q, b, "timestamptz"));
            format!("({col} >= {pa} AND {col} < {pb})")
        }
        (_, op, _) => return Err(format!("operator {} with this value on {}", op.as_str(), f.field)),
    };
    Ok(sql)
}

/// The condition of a spec's `similar_to` on alias `f` (an issue): its id is among the `k` issues of the
/// tenant whose embeddings are nearest the text's, and at least `min_score` similar. The query repeats
/// the cast and the model filter of the model's HNSW index.
pub(super) fn similar_sql(spec: &Spec, tenant_param: &str, q: &mut Query) -> Result<Option<String>, String> {
    let Some(s) = &spec.similar_to else { return Ok(None) };
    let r = s.resolved.as_ref().ok_or("similar_to needs the embedding of its text, which the caller resolves before compiling")?;
    let vectors = super::search::Vectors { schema: &r.schema, model: &r.model, dims: r.dims };
    let v = q.bind(Bound::Text(r.vector.clone()), "text");
    let k = q.bind(Bound::Integer(s.k as i32), "integer");
    let min = q.bind(Bound::Text(s.min_score.to_string()), "float8");
    let distance = vectors.distance("e", &v);
    let model = vectors.model_literal();
    Ok(Some(format!(
        "f.id IN (SELECT n.issue_id FROM (SELECT e.issue_id, {distance} AS dist FROM analytics.issue_embeddings AS e \
         WHERE e.tenant_id = {tenant_param} AND e.model = {model} ORDER BY {distance} LIMIT {k}) AS n WHERE 1 - n.dist >= {min})"
    )))
}

/// An identifier, double-quoted (callers pass whitelisted names or names read from the catalogs).
pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// Whether every use of the alias `f` (or `F`) in `sql` is `f.<one of columns>` (a bare or quoted `f`, a
/// quoted or unknown column, answers no). Conservative: text in string literals counts as if it were SQL.
fn reads_only(sql: &str, columns: &[&str]) -> bool {
    if sql.contains("\"f\"") {
        return false;
    }
    let b = sql.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < b.len() {
        let starts_word = i == 0 || !(ident(b[i - 1]) || b[i - 1] == b'.' || b[i - 1] == b'"' || b[i - 1] == b'$');
        if (b[i] == b'f' || b[i] == b'F') && starts_word && !(i + 1 < b.len() && ident(b[i + 1])) {
            if b.get(i + 1) != Some(&b'.') {
                return false;
            }
            let start = i + 2;
            let mut end = start;
            while end < b.len() && ident(b[end]) {
                end += 1;
            }
            if !columns.contains(&sql[start..end].to_ascii_lowercase().as_str()) {
                return false;
            }
            i = end;
        } else {
            i += 1;
        }
    }
    true
}

/// The ORDER BY items of a spec: its sort, else its groups in order. Empty values sort last either way:
/// PostgreSQL's ascending order already puts NULLs last.
pub(super) fn order_by(spec: &Spec) -> Vec<String> {
    if spec.sort_by.is_empty() {
        spec.group_by.iter().map(|g| quote(&g.column())).collect()
    } else {
        spec.sort_by.iter().map(|s| if s.descending { format!("{} DESC NULLS LAST", quote(&s.field)) } else { quote(&s.field) }).collect()
    }
}

/// The condition selecting each board's last `n` closed sprints (sprint specs, `f.sprint_id`).
pub(super) fn last_sprints(n: u32, tenant_param: &str, q: &mut Query) -> String {
    let p = q.bind(Bound::Integer(n as i32), "integer");
    format!(
        "f.sprint_id IN (SELECT r.id FROM (SELECT s.id, row_number() OVER (PARTITION BY s.instance_id, s.board ORDER BY s.complete_date DESC, s.id DESC) AS rn \
         FROM analytics.sprints s WHERE s.tenant_id = {tenant_param} AND s.state = 'closed') AS r WHERE r.rn <= {p})"
    )
}

/// The conditions of a date range that names its field, or of the last N sprints.
pub(super) fn range_conditions(spec: &Spec, tenant_param: &str, q: &mut Query, wheres: &mut Vec<String>) -> Result<(), String> {
    if let Some(field) = range_field(&spec.date_range) {
        let dim = dims::find(spec.entity, field).ok_or_else(|| format!("unknown date field {field}"))?;
        if let Some(w) = window(&spec.date_range, dim.column, q) {
            wheres.push(w);
        }
    }
    if let Some(DateRange::LastSprints(n)) = spec.date_range {
        wheres.push(last_sprints(n, tenant_param, q));
    }
    Ok(())
}

/// The table a query reads instead of its entity's view, when every part of it (`parts`) reads only
/// the columns the view passes through unchanged: `analytics.issues` for `issue_facts` (the planner has
/// no view to expand: ~0.1 ms less per query), the sprints for `sprint_facts` (which would compute every
/// statistic of every sprint of the tenant).
pub(super) fn plain_base(entity: Entity, parts: &[&str], tenant_param: &str) -> Option<String> {
    let (columns, table) = match entity {
        Entity::Issue => (crate::schema::ISSUE_FACTS_FROM_ISSUES, "analytics.issues".to_string()),
        Entity::Sprint => (crate::schema::SPRINT_FACTS_FROM_SPRINTS, crate::schema::SPRINTS_AS_FACTS.replace("{tenant}", tenant_param)),
    };
    parts.iter().all(|p| reads_only(p, columns)).then_some(table)
}

/// Compiles a validated spec for `tenant` against the catalog it was validated with (sprint statistics
/// computed live).
pub fn compile(spec: &Spec, catalog: &[MetricDef], tenant: &str) -> Result<Compiled, String> {
    compile_from(spec, catalog, tenant, SprintSource::Live)
}

/// [`compile`], reading sprint statistics from `source`.
pub fn compile_from(spec: &Spec, catalog: &[MetricDef], tenant: &str, source: SprintSource) -> Result<Compiled, String> {
    if spec.is_list() {
        return super::list::compile(spec, catalog, tenant, source);
    }
    if let Some(series) = spec.series() {
        return super::series::compile(spec, series, catalog, tenant, source);
    }
    let mut q = Query::default();
    let tenant_param = q.bind(Bound::Text(tenant.to_string()), "text");
    let base = spec.entity.base_relation();

    let mut select = Vec::new();
    let mut joins = Vec::new();
    let mut columns = Vec::new();
    // GROUP BY items: the select list's position, except for date buckets (below).
    let mut group_keys = Vec::new();
    for (i, g) in spec.group_by.iter().enumerate() {
        group_keys.push((i + 1).to_string());
        let dim = dims::find(spec.entity, &g.field).ok_or_else(|| format!("unknown dimension {}", g.field))?;
        let expr = match (dim.kind, &g.interval) {
            (DimKind::TextArray, _) => {
                // An issue counts once per label; issues without any get a NULL group.
                joins.push(format!(
                    "CROSS JOIN LATERAL unnest(CASE WHEN cardinality(f.{c}) = 0 THEN ARRAY[NULL::text] ELSE f.{c} END) AS g{i}(v)",
                    c = dim.column
                ));
                format!("g{i}.v")
            }
            (DimKind::Timestamp, Some(iv)) => {
                let iv = dims::INTERVALS.iter().find(|x| *x == iv).ok_or_else(|| format!("interval {iv}"))?;
                // Rows are grouped by the timestamp bucket and each group's bucket becomes a date after
                // grouping: one conversion per group, not per row (~8% of a year of issues by month).
                let bucket = format!("date_trunc('{iv}', f.{})", dim.column);
                group_keys[i] = bucket.clone();
                format!("{bucket}::date")
            }
            (DimKind::Number, _) => number_bucket(dim.column, g, &mut q),
            _ => format!("f.{}", dim.column),
        };
        select.push(format!("{expr} AS {}", quote(&g.column())));
        columns.push(Column { name: g.column(), role: "dimension", unit: None });
    }

    // Without a date field of its own, each metric filters its own time field inside its aggregate; rows
    // outside every metric's window count for none of them, so they are also left out up front (unless a
    // snapshot metric needs every row). Results are the same; groups with no activity in the period go.
    // When all metrics share one time field, that WHERE window is each metric's window: no FILTER repeats it.
    let (fields, snapshot) = time_fields(spec, catalog)?;
    let windowed =
        range_field(&spec.date_range).is_none() && matches!(spec.date_range, Some(DateRange::Absolute { .. } | DateRange::Relative { .. }));
    let in_where = (windowed && !snapshot && fields.len() == 1).then(|| fields[0]);

    let mut used: Vec<MetricVersion> = Vec::new();
    let mut note = |d: &MetricDef| note_version(&mut used, d);
    for m in &spec.metrics {
        let def = find(catalog, &m.name)?;
        note(def);
        let expr = if def.kind == Kind::Formula {
            let mut deps = formula_params(def, &m.params, &mut q)?;
            for d in &def.dependencies {
                let dd = find(catalog, d)?;
                note(dd);
                deps.insert(d.clone(), measure(dd, dd.default_aggregation, &m.params, &spec.date_range, in_where, &mut q, None)?);
            }
            render(&def.sql_expression, &deps)?
        } else {
            let agg = m.aggregation.unwrap_or(def.default_aggregation);
            measure(def, agg, &m.params, &spec.date_range, in_where, &mut q, None)?
        };
        select.push(format!("{expr} AS {}", quote(&m.alias)));
        columns.push(Column { name: m.alias.clone(), role: "metric", unit: Some(def.unit.as_str()) });
    }

    let mut wheres = vec![format!("f.tenant_id = {tenant_param}")];
    for f in &spec.filters {
        wheres.push(filter_sql(f, spec.entity, &mut q)?);
    }
    wheres.extend(similar_sql(spec, &tenant_param, &mut q)?);
    if windowed && !snapshot && !fields.is_empty() {
        // One window is a conjunction and joins the WHERE as it is; several are alternatives.
        let windows: Vec<String> = fields.iter().filter_map(|t| window(&spec.date_range, t, &mut q)).collect();
        match windows.len() {
            0 => {}
            1 => wheres.extend(windows),
            _ => wheres.push(format!("({})", windows.iter().map(|w| format!("({w})")).collect::<Vec<_>>().join(" OR "))),
        }
    }
    range_conditions(spec, &tenant_param, &mut q, &mut wheres)?;

    let group = if spec.group_by.is_empty() { String::new() } else { format!(" GROUP BY {}", group_keys.join(", ")) };
    let order = order_by(spec);
    let order = if order.is_empty() { String::new() } else { format!(" ORDER BY {}", order.join(", ")) };
    let limit = q.bind(Bound::Integer(spec.limit as i32), "integer");
    let joins = if joins.is_empty() { String::new() } else { format!(" {}", joins.join(" ")) };
    let base = plain_base(spec.entity, &[&select.join(", "), &joins, &wheres.join(" AND ")], &tenant_param).unwrap_or(base.to_string());
    let (base, reads_sprint_stats) = routed(base, source);
    q.sql = format!("SELECT {} FROM {base} AS f{joins} WHERE {}{group}{order} LIMIT {limit}", select.join(", "), wheres.join(" AND "));
    Ok(Compiled { sql: q.sql, params: q.params, columns, metrics: used, reads_sprint_stats })
}

#[cfg(test)]
mod tests {
    use super::reads_only;

    #[test]
    fn reads_only_accepts_listed_columns_of_f_and_nothing_else() {
        let cols = &["id", "created_at", "labels"];
        assert!(reads_only("count(f.id) FILTER (WHERE f.created_at >= $2::timestamptz)", cols));
        assert!(reads_only("unnest(CASE WHEN cardinality(f.labels) = 0 THEN ARRAY[NULL::text] ELSE f.labels END) AS g0(v)", cols));
        assert!(reads_only("format('%s', g0.v) AS \"off\", FILTER (WHERE if_x)", cols), "words that merely contain f");
        assert!(!reads_only("f.board", cols), "a column not listed");
        assert!(!reads_only("to_jsonb(f)", cols), "the whole row");
        assert!(!reads_only("f.\"id\"", cols), "a quoted column");
        assert!(!reads_only("f.", cols));
        assert!(!reads_only("x = 'f'", cols), "literals count as SQL: conservative");
        assert!(reads_only("F.ID + F.created_at", cols), "unquoted names are case-insensitive");
        assert!(!reads_only("F.board", cols));
        assert!(!reads_only("\"f\".id", cols), "a quoted alias");
        assert!(reads_only("", cols));
    }
}
