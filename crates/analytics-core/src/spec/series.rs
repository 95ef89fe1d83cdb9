//! The series form of a spec: grouped by `{"field": "as_of", "interval": ...}`, every metric is evaluated
//! once per bucket of the date range, and every bucket is a row (zero for counts and sums when nothing
//! happened in it). The buckets come from `generate_series` in SQL:
//! - a measure aggregates the rows whose own time field falls in the bucket (created in it, resolved in
//!   it, ...), in one grouped subquery per time field;
//! - a snapshot is taken at the bucket's end (its last microsecond, or now for the running bucket): its
//!   `{{as_of}}` is the bucket's `b_at`, over the issues created by then;
//! - a formula combines its dependencies' per-bucket values.
//!
//! A relative range starts at the start of the bucket that holds `now() - last`, so every bucket is whole
//! but the running one; an absolute range is taken as given (`[from, to)`, `to` defaulting to now).
//! Other groups (board, label, ...) make a grid: every bucket × every value the tenant's filtered issues
//! have.

use super::compile::{filter_sql, find, formula_params, measure, note_version, quote, Column, Compiled, MetricVersion};
use super::dims::{self, Kind as DimKind};
use super::model::*;
use crate::catalog::params::{bound_param, Bound, Query};
use crate::catalog::sql::render;
use crate::catalog::{Aggregation, Kind, MetricDef};
use std::collections::BTreeMap;

/// One aggregate in one of the subqueries, and how the outer query reads it.
struct Atom {
    /// The subquery alias: `t<k>` for a time field's subquery, `s` for snapshots.
    source: String,
    expr: String,
}

/// A snapshot whose filter is a state of the status history at `{{as_of}}` (and, optionally, a condition
/// on the issue that does not depend on the moment): its series is a running sum of state changes, one
/// pass over the history, instead of one evaluation per issue and bucket. Same rows as the general form
/// (`src/tests/series.rs` checks both ways).
struct StateAtom {
    /// SQL over the stream row `y` (columns `cat`, `status`): whether the issue is in the state.
    state: String,
    /// SQL over `f`: the rest of the filter (`true` when there is none).
    rest: String,
}

/// The filters recognised as states, with `{{...}}` names for the statuses parameter.
const CATEGORY_STATE: &str = "analytics.category_at(f.id, {{as_of}}) = '";
const STATUS_STATE: &str =
    "lower(analytics.status_at(f.tenant_id, f.id, {{as_of}})) = ANY (SELECT lower(x) FROM unnest({{statuses}}) AS x)";

/// The state form of a snapshot metric, when its count of issues is one.
fn state_form(
    def: &MetricDef,
    agg: Aggregation,
    params: &BTreeMap<String, serde_json::Value>,
    q: &mut Query,
) -> Result<Option<StateAtom>, String> {
    let mut values = |name: &str| -> Result<String, String> {
        let p = def.parameters.get(name).ok_or_else(|| format!("metric {} has no parameter {name}", def.name))?;
        Ok(q.bind(bound_param(name, p.param_type, params.get(name).unwrap_or(&p.default))?, p.param_type.sql_type()))
    };
    let Some(filter) = def.filter.as_deref() else { return Ok(None) };
    if def.kind != Kind::Snapshot || agg != Aggregation::Count || def.sql_expression != "f.id" {
        return Ok(None);
    }
    let (state, rest) = if let Some(after) = filter.strip_prefix(CATEGORY_STATE) {
        let Some((cat, rest)) = after.split_once('\'') else { return Ok(None) };
        if !["todo", "in_progress", "done"].contains(&cat) {
            return Ok(None);
        }
        (format!("coalesce(y.cat = '{cat}', false)"), rest)
    } else if let Some(rest) = filter.strip_prefix(STATUS_STATE) {
        (format!("coalesce(lower(y.status) = ANY (ARRAY(SELECT lower(x) FROM unnest({}) AS x)), false)", values("statuses")?), rest)
    } else {
        return Ok(None);
    };
    let rest = match rest.strip_prefix(" AND ") {
        _ if rest.is_empty() => "true".to_string(),
        Some(r) if !r.contains("{{as_of}}") && !r.contains("{{ as_of }}") => {
            let mut named = BTreeMap::new();
            for p in crate::catalog::sql::placeholders(r)? {
                named.insert(p.clone(), values(&p)?);
            }
            format!("({})", render(r, &named)?)
        }
        _ => return Ok(None),
    };
    Ok(Some(StateAtom { state, rest }))
}

#[derive(Default)]
struct Atoms {
    list: Vec<Atom>,
    /// Time fields in order of first use (subquery `t<k>` reads the k-th).
    fields: Vec<String>,
    /// State atoms (source `e`), by their index in `list`.
    states: Vec<(usize, StateAtom)>,
    /// The running sum's window over the outer rows: each grid line, in bucket order.
    window: String,
}

impl Atoms {
    /// Adds the aggregate of one measure or snapshot metric and returns the outer query's reference to it.
    fn add(
        &mut self,
        def: &MetricDef,
        agg: Aggregation,
        params: &BTreeMap<String, serde_json::Value>,
        q: &mut Query,
    ) -> Result<String, String> {
        if let Some(st) = state_form(def, agg, params, q)? {
            let i = self.list.len();
            self.list.push(Atom { source: "e".into(), expr: String::new() });
            self.states.push((i, st));
            return Ok(format!("(sum(coalesce(e.a{i}, 0)) OVER ({}))::bigint", self.window));
        }
        let source = match (&def.kind, &def.time_field) {
            (Kind::Snapshot, _) => "s".to_string(),
            (_, Some(t)) => {
                let k = self.fields.iter().position(|f| f == t).unwrap_or_else(|| {
                    self.fields.push(t.clone());
                    self.fields.len() - 1
                });
                format!("t{k}")
            }
            (_, None) => return Err(format!("metric {} has no time field", def.name)),
        };
        let at = (def.kind == Kind::Snapshot).then_some("bk.b_at");
        let expr = measure(def, agg, params, &None, None, q, at)?;
        // Counts and sums are 0 in a bucket where nothing happened; the rest are NULL there.
        let zero = matches!(agg, Aggregation::Count | Aggregation::Sum);
        let i = self.list.len();
        self.list.push(Atom { source: source.clone(), expr });
        Ok(if zero { format!("coalesce({source}.a{i}, 0)") } else { format!("{source}.a{i}") })
    }
}

/// A series group's interval (one of [`dims::INTERVALS`]) and its bound step (`interval` SQL).
pub(super) fn interval_step(series: &GroupBy, q: &mut Query) -> Result<(&'static str, String), String> {
    let iv = series.interval.as_deref().ok_or("a series needs an interval")?;
    let iv: &'static str = dims::INTERVALS.iter().find(|x| **x == iv).ok_or_else(|| format!("interval {iv}"))?;
    let step = q.bind(Bound::Text(if iv == "quarter" { "3 months".into() } else { format!("1 {iv}") }), "interval");
    Ok((iv, step))
}

/// The span `[from, to)` of a dated range without a field: an absolute one as given (`to` defaulting to
/// now), a relative one from the start of the bucket holding `now() - last`. None for any other range.
pub(super) fn date_span(range: &Option<DateRange>, iv: &str, q: &mut Query) -> Option<(String, String)> {
    match range {
        Some(DateRange::Absolute { from: Some(f), to, field: None }) => {
            let from = q.bind(Bound::Text(f.clone()), "timestamptz");
            let to = match to {
                Some(t) => q.bind(Bound::Text(t.clone()), "timestamptz"),
                None => "now()".to_string(),
            };
            Some((from, to))
        }
        Some(DateRange::Relative { n, unit, field: None }) => {
            let back = q.bind(Bound::Text(unit.interval(*n)), "interval");
            Some((format!("date_trunc('{iv}', now() - {back})"), "now()".to_string()))
        }
        _ => None,
    }
}

/// Compiles a spec whose group_by holds the series group `series`.
pub(super) fn compile(
    spec: &Spec,
    series: &GroupBy,
    catalog: &[MetricDef],
    tenant: &str,
    source: super::compile::SprintSource,
) -> Result<Compiled, String> {
    if spec.entity == crate::catalog::Entity::Sprint {
        return super::sprint_series::compile(spec, series, catalog, tenant, source);
    }
    let mut q = Query::default();
    let tenant_param = q.bind(Bound::Text(tenant.to_string()), "text");
    let base = spec.entity.base_relation();
    let (iv_name, step) = interval_step(series, &mut q)?;

    // The span [from, to) and the first bucket.
    let (from, to) = date_span(&spec.date_range, iv_name, &mut q).ok_or("a series needs a date range with a start and no field")?;

    // Rows every subquery reads: the tenant's, through the spec's filters.
    let mut wheres = vec![format!("f.tenant_id = {tenant_param}")];
    for f in &spec.filters {
        wheres.push(filter_sql(f, spec.entity, &mut q)?);
    }
    let common = wheres.join(" AND ");

    // The other groups: an expression per dimension (d<i>) and the joins it needs.
    let mut dim_exprs = Vec::new();
    let mut joins = Vec::new();
    let mut select = Vec::new();
    let mut columns = Vec::new();
    for (i, g) in spec.group_by.iter().enumerate() {
        columns.push(Column { name: g.column(), role: "dimension", unit: None });
        if g.is_series() {
            select.push(format!("bk.b_start::date AS {}", quote(&g.column())));
            continue;
        }
        let dim = dims::find(spec.entity, &g.field).ok_or_else(|| format!("unknown dimension {}", g.field))?;
        let expr = match dim.kind {
            DimKind::TextArray => {
                joins.push(format!(
                    " CROSS JOIN LATERAL unnest(CASE WHEN cardinality(f.{c}) = 0 THEN ARRAY[NULL::text] ELSE f.{c} END) AS g{i}(v)",
                    c = dim.column
                ));
                format!("g{i}.v")
            }
            DimKind::Text => format!("f.{}", dim.column),
            DimKind::Number => super::compile::number_bucket(dim.column, g, &mut q),
            DimKind::Timestamp => return Err(format!("a series cannot also be grouped by the date {}", g.field)),
        };
        select.push(format!("k.d{} AS {}", dim_exprs.len(), quote(&g.column())));
        dim_exprs.push(expr);
    }
    let joins = joins.concat();

    let partition: Vec<String> = (0..dim_exprs.len()).map(|i| format!("k.d{i}")).collect();
    let window = if partition.is_empty() { String::new() } else { format!("PARTITION BY {} ", partition.join(", ")) };
    let mut atoms = Atoms { window: format!("{window}ORDER BY bk.b_start"), ..Atoms::default() };
    let mut used: Vec<MetricVersion> = Vec::new();
    let mut note = |d: &MetricDef| note_version(&mut used, d);
    for m in &spec.metrics {
        let def = find(catalog, &m.name)?;
        note(def);
        let expr = if def.kind == Kind::Formula {
            if def.dependencies.is_empty() {
                return Err(format!("{} is computed over all its rows at once; it has no value per bucket", def.name));
            }
            let mut deps = formula_params(def, &m.params, &mut q)?;
            for d in &def.dependencies {
                let dd = find(catalog, d)?;
                note(dd);
                deps.insert(d.clone(), atoms.add(dd, dd.default_aggregation, &m.params, &mut q)?);
            }
            render(&def.sql_expression, &deps)?
        } else {
            atoms.add(def, m.aggregation.unwrap_or(def.default_aggregation), &m.params, &mut q)?
        };
        select.push(format!("{expr} AS {}", quote(&m.alias)));
        columns.push(Column { name: m.alias.clone(), role: "metric", unit: Some(def.unit.as_str()) });
    }

    // One grouped subquery per source, joined to the buckets (and the grid of other groups).
    let dim_select: String = dim_exprs.iter().enumerate().map(|(i, e)| format!(", {e} AS d{i}")).collect();
    let dim_group: String = (0..dim_exprs.len()).map(|i| format!(", {}", i + 2)).collect();
    let dim_match =
        |alias: &str| -> String { (0..dim_exprs.len()).map(|i| format!(" AND {alias}.d{i} IS NOT DISTINCT FROM k.d{i}")).collect() };
    let aggs = |source: &str| -> String {
        atoms.list.iter().enumerate().filter(|(_, a)| a.source == source).map(|(i, a)| format!(", {} AS a{i}", a.expr)).collect()
    };
    let mut from_sql = "buckets AS bk".to_string();
    if !dim_exprs.is_empty() {
        let distinct: Vec<String> = dim_exprs.iter().enumerate().map(|(i, e)| format!("{e} AS d{i}")).collect();
        from_sql.push_str(&format!(" CROSS JOIN (SELECT DISTINCT {} FROM {base} AS f{joins} WHERE {common}) AS k", distinct.join(", ")));
    }
    for (k, field) in atoms.fields.iter().enumerate() {
        let dim = field.as_str();
        if !spec.entity.columns().contains(&dim) {
            return Err(format!("time field {field} is not a column"));
        }
        let src = format!("t{k}");
        from_sql.push_str(&format!(
            " LEFT JOIN (SELECT date_trunc('{iv_name}', f.{dim}) AS b{dim_select}{} FROM {base} AS f{joins} \
             WHERE {common} AND f.{dim} >= {from} AND f.{dim} < {to} GROUP BY 1{dim_group}) AS {src} ON {src}.b = bk.b_start{}",
            aggs(&src),
            dim_match(&src)
        ));
    }
    if atoms.list.iter().any(|a| a.source == "s") {
        from_sql.push_str(&format!(
            " LEFT JOIN (SELECT bk.b_start AS b{dim_select}{} FROM buckets AS bk CROSS JOIN {base} AS f{joins} \
             WHERE {common} AND f.created_at <= bk.b_at GROUP BY 1{dim_group}) AS s ON s.b = bk.b_start{}",
            aggs("s"),
            dim_match("s")
        ));
    }

    if !atoms.states.is_empty() {
        from_sql.push_str(&state_stream(
            &atoms.states,
            &StreamParts {
                base,
                joins: &joins,
                common: &common,
                dims: &dim_exprs,
                iv: iv_name,
                from: &from,
                to: &to,
                tenant: &tenant_param,
                filtered: !spec.filters.is_empty(),
            },
        ));
        from_sql.push_str(&dim_match("e"));
    }

    let order = super::compile::order_by(spec);
    let limit = q.bind(Bound::Integer(spec.limit as i32), "integer");
    // b_at: the bucket's last microsecond, within the span and not after now.
    q.sql = format!(
        "WITH buckets AS (SELECT g AS b_start, least(least(g + {step}, {to}) - interval '1 microsecond', now()) AS b_at \
         FROM generate_series(date_trunc('{iv_name}', {from}), {to} - interval '1 microsecond', {step}) AS g) \
         SELECT {} FROM {from_sql} ORDER BY {} LIMIT {limit}",
        select.join(", "),
        order.join(", ")
    );
    Ok(Compiled { sql: q.sql, params: q.params, columns, metrics: used, reads_sprint_stats: false })
}

struct StreamParts<'a> {
    base: &'a str,
    joins: &'a str,
    common: &'a str,
    dims: &'a [String],
    iv: &'a str,
    from: &'a str,
    to: &'a str,
    /// The tenant's bound parameter (the transitions' window reads the tenant's rows only).
    tenant: &'a str,
    /// Whether the spec has filters: then the window reads only the transitions of the issues they keep.
    filtered: bool,
}

/// The state changes per bucket (source `e`), by `category_at`'s rules, from one pass over the tenant's
/// issues joined to their transitions (each issue's in order, by a window over the transitions alone).
/// An issue's state at a moment after its creation is its first transition's from-state (`todo` when
/// unknown), changed by every transition up to that moment into its to-state; an issue without
/// transitions is in its current state. So the changes are, telescoped:
/// - at the creation: the issue enters its first transition's from-state (without transitions: its
///   current state);
/// - at each transition, or at the creation for one at or before it: the issue leaves the state before
///   the transition (the previous transition's to-state, for the first its from-state) and enters the
///   transition's to-state.
///
/// Each row of the pass carries one change of the second kind and, on an issue's first row, the one of
/// the first kind: one `GROUPING SETS` aggregate buckets them by their two times, with no second scan.
/// Changes before the span fall into the first bucket, so the running sum over buckets is the count
/// at each bucket's end.
fn state_stream(states: &[(usize, StateAtom)], p: &StreamParts) -> String {
    let StreamParts { base, joins, common, dims, iv, from, to, tenant, filtered } = *p;
    // A filtered spec's window sorts only the transitions of the issues it keeps (a semi-join first).
    let kept = if filtered {
        format!(" AND t.issue_id IN (SELECT f.id FROM {base} AS f WHERE {common} AND f.created_at < {to})")
    } else {
        String::new()
    };
    let d_inner: String = dims.iter().enumerate().map(|(i, e)| format!(", {e} AS d{i}")).collect();
    let d_cols = |alias: &str| -> String { (0..dims.len()).map(|i| format!(", {alias}.d{i}")).collect() };
    // A rest that is no condition is left out; the others are grouped on.
    let rested: Vec<usize> = states.iter().filter(|(_, st)| st.rest != "true").map(|(i, _)| *i).collect();
    let rests: String = states.iter().filter(|(i, _)| rested.contains(i)).map(|(i, st)| format!(", {} AS r{i}", st.rest)).collect();
    let r_cols = |alias: &str| -> String { rested.iter().map(|i| format!(", {alias}.r{i}")).collect() };
    // The category's columns only when an atom reads the category, the status's only when one reads it.
    let uses = |col: &str| states.iter().any(|(_, st)| st.state.contains(&format!("y.{col}")));
    let cols: Vec<(&str, &str, &str, &str)> =
        [("cat", "category", "status_category", "coalesce(w.from_cat, 'todo')"), ("status", "status", "status", "w.from_status")]
            .into_iter()
            .filter(|(c, ..)| uses(c))
            .collect();
    let col_list = |kind: &str| -> String { cols.iter().map(|(c, ..)| format!(", y.{kind}_{c}")).collect() };
    let sums: String = states
        .iter()
        .map(|(i, st)| {
            let [plus, minus, cre] = ["plus", "minus", "cre"]
                .map(|k| st.state.replace("y.cat", &format!("z.{k}_cat")).replace("y.status", &format!("z.{k}_status")));
            let filter = if rested.contains(i) { format!(" FILTER (WHERE z.r{i})") } else { String::new() };
            format!(
                ", sum(z.n * CASE WHEN z.g = 0 THEN CASE WHEN {plus} THEN 1 ELSE 0 END - CASE WHEN {minus} THEN 1 ELSE 0 END \
                 ELSE CASE WHEN {cre} THEN 1 ELSE 0 END END){filter} AS a{i}"
            )
        })
        .collect();
    let group: String = (0..dims.len()).map(|i| format!(", {}", i + 2)).collect();
    // prev_cat: the previous transition's category, 'first' on an issue's first one (a category is one of
    // three words, so 'first' tells the first row apart with no other window function).
    let (mut windowed, mut changes) = (String::new(), String::new());
    for (c, t_col, f_col, first_from) in &cols {
        let lag = if *c == "cat" { "prev_cat".to_string() } else { format!("lag_{c}") };
        windowed.push_str(&format!(", t.to_{t_col} AS to_{c}, t.from_{t_col} AS from_{c}"));
        if *c != "cat" {
            windowed.push_str(&format!(", lag(t.to_{t_col}) OVER w AS {lag}"));
        }
        let before = format!("CASE WHEN w.prev_cat = 'first' THEN {first_from} ELSE w.{lag} END");
        changes.push_str(&format!(
            ", w.to_{c} AS plus_{c}, {before} AS minus_{c}, CASE WHEN w.t_id IS NULL THEN f.{f_col} ELSE {before} END AS cre_{c}"
        ));
    }
    // A change's bucket, changes before the span in the first one: one date_trunc per row (the first
    // bucket's start is computed once, as an init plan, and is a bucket boundary itself).
    let first = format!("(SELECT date_trunc('{iv}', {from}))");
    let bucket = |when: &str, at: &str| {
        let not_after_now = if to == "now()" { String::new() } else { format!(" AND {at} <= now()") };
        format!("CASE WHEN {when} AND {at} < {to}{not_after_now} THEN date_trunc('{iv}', greatest({at}, {first})) END")
    };
    // y: every issue joined to its transitions (an issue without any: one row, t_id NULL; both sides are
    // the tenant's rows only, so the issue id alone joins them). b1 is the bucket of a transition's change
    // (at the creation for one at or before it), b2 the creation's, on the first row only. Rows
    // without one have it NULL: those NULL groups are dropped.
    // z: the rows counted by bucket and the states they leave and enter (g = 0) or are created in
    // (g = 1); only then is each atom's state read, over those few rows.
    format!(
        " LEFT JOIN (SELECT z.b{dz}{sums} FROM (\
         SELECT CASE WHEN GROUPING(y.b1) = 0 THEN y.b1 ELSE y.b2 END AS b, GROUPING(y.b1) AS g{plus}{minus}{cre}{dy}{ry}, count(*) AS n FROM (\
         SELECT {b1} AS b1, {b2} AS b2{changes}{d_inner}{rests} \
         FROM {base} AS f{joins} LEFT JOIN (SELECT t.issue_id, t.id AS t_id, t.changed_at AS at, \
         lag(t.to_category, 1, 'first') OVER w AS prev_cat{windowed} \
         FROM analytics.issue_transitions AS t WHERE t.tenant_id = {tenant}{kept} WINDOW w AS (PARTITION BY t.issue_id ORDER BY t.changed_at, t.id)) AS w \
         ON w.issue_id = f.id \
         WHERE {common} AND f.created_at < {to}) AS y \
         GROUP BY GROUPING SETS ((y.b1{plus}{minus}{dy}{ry}), (y.b2{cre}{dy}{ry}))) AS z \
         WHERE z.b IS NOT NULL GROUP BY 1{group}) AS e ON e.b = bk.b_start",
        b1 = bucket("w.t_id IS NOT NULL", "greatest(w.at, f.created_at)"),
        b2 = bucket("(w.t_id IS NULL OR w.prev_cat = 'first')", "f.created_at"),
        plus = col_list("plus"),
        minus = col_list("minus"),
        cre = col_list("cre"),
        dz = d_cols("z"),
        dy = d_cols("y"),
        ry = r_cols("y"),
    )
}
