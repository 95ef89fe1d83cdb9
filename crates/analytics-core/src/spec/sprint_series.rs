//! The series form of a sprint spec: burndown and burnup. Grouped by `{"field": "as_of", "interval": ...}`,
//! each selected sprint is a row in every bucket it ran in (started by the bucket's end, not completed
//! before its start), and its snapshot metrics are measured at the bucket's end (`{{as_of}}` = `b_at`;
//! the metrics cap it at the sprint's completion). The buckets span the date range, or without one (or
//! with `last_sprints`) the selected sprints' lives, from the first start to the last completion (now,
//! for a running sprint). Without other groups every bucket is a row (the sprints running in it summed;
//! 0 when none ran); grouped by sprint or board, a row is a bucket in which that group had a sprint
//! running.

use super::compile::{
    filter_sql, find, last_sprints, measure, note_version, order_by, plain_base, quote, routed, Column, Compiled, MetricVersion,
    SprintSource,
};
use super::dims::{self, Kind as DimKind};
use super::model::*;
use crate::catalog::params::{Bound, Query};
use crate::catalog::{Aggregation, Kind, MetricDef};

/// A column of the catalog's burn metrics as the series renders it (their `{{as_of}}` is the bucket's end).
const BURN_AT_BUCKET: &str = "(analytics.sprint_burn_at(f.tenant_id, f.sprint_id, (bk.b_at))).";

/// Compiles a sprint spec whose group_by holds the series group `series`.
pub(super) fn compile(
    spec: &Spec,
    series: &GroupBy,
    catalog: &[MetricDef],
    tenant: &str,
    source: SprintSource,
) -> Result<Compiled, String> {
    let mut q = Query::default();
    let tenant_param = q.bind(Bound::Text(tenant.to_string()), "text");
    let (iv_name, step) = super::series::interval_step(series, &mut q)?;

    // The sprints: the tenant's, through the filters, started.
    let mut wheres = vec![format!("f.tenant_id = {tenant_param}"), "f.start_date IS NOT NULL".to_string()];
    for f in &spec.filters {
        wheres.push(filter_sql(f, spec.entity, &mut q)?);
    }
    if let Some(DateRange::LastSprints(n)) = spec.date_range {
        wheres.push(last_sprints(n, &tenant_param, &mut q));
    }

    // The span [from, to): the range's, or the selected sprints' lives.
    let (from, to) = match &spec.date_range {
        None | Some(DateRange::LastSprints(_)) => (
            "(SELECT min(sp.start_date) FROM sp)".to_string(),
            "(SELECT max(coalesce(sp.complete_date, now())) FROM sp) + interval '1 microsecond'".to_string(),
        ),
        range => super::series::date_span(range, iv_name, &mut q).ok_or("a series needs a date range with a start and no field")?,
    };

    let mut select = Vec::new();
    let mut columns = Vec::new();
    let mut keys = vec!["bk.b_start".to_string()];
    for g in &spec.group_by {
        columns.push(Column { name: g.column(), role: "dimension", unit: None });
        if g.is_series() {
            select.push(format!("bk.b_start::date AS {}", quote(&g.column())));
            continue;
        }
        let dim = dims::find(spec.entity, &g.field).ok_or_else(|| format!("unknown dimension {}", g.field))?;
        if dim.kind != DimKind::Text {
            return Err(format!("a sprint series cannot also be grouped by {}", g.field));
        }
        select.push(format!("f.{} AS {}", dim.column, quote(&g.column())));
        keys.push(format!("f.{}", dim.column));
    }
    let grid = keys.len() > 1;

    let mut used: Vec<MetricVersion> = Vec::new();
    for m in &spec.metrics {
        let def = find(catalog, &m.name)?;
        note_version(&mut used, def);
        if def.kind != Kind::Snapshot {
            return Err(format!("{} is not measured at a moment; a sprint series takes snapshot metrics", def.name));
        }
        let agg = m.aggregation.unwrap_or(def.default_aggregation);
        let expr = measure(def, agg, &m.params, &None, None, &mut q, Some("bk.b_at"))?;
        // A bucket in which no sprint ran has nothing to count: 0 for counts and sums.
        let expr = if !grid && matches!(agg, Aggregation::Count | Aggregation::Sum) { format!("coalesce({expr}, 0)") } else { expr };
        select.push(format!("{expr} AS {}", quote(&m.alias)));
        columns.push(Column { name: m.alias.clone(), role: "metric", unit: Some(def.unit.as_str()) });
    }

    let order = order_by(spec);
    let limit = q.bind(Bound::Integer(spec.limit as i32), "integer");
    // The burn of a sprint at a bucket's end is one call, however many of its columns the metrics read
    // (PostgreSQL would evaluate `(f(...)).col` once per reference): computed once per sprint and bucket.
    let mut select = select.join(", ");
    let burn_lateral = if select.contains(BURN_AT_BUCKET) {
        select = select.replace(BURN_AT_BUCKET, "(burn.r).");
        " LEFT JOIN LATERAL (SELECT analytics.sprint_burn_at(f.tenant_id, f.sprint_id, bk.b_at) AS r OFFSET 0) AS burn ON true"
    } else {
        ""
    };
    let wheres = wheres.join(" AND ");
    let base = plain_base(spec.entity, &[&select, &wheres], &tenant_param).unwrap_or(spec.entity.base_relation().to_string());
    let (base, reads_sprint_stats) = routed(base, source);
    let join = if grid { "JOIN" } else { "LEFT JOIN" };
    // b_at: the bucket's last microsecond, within the span and not after now.
    q.sql = format!(
        "WITH sp AS MATERIALIZED (SELECT f.* FROM {base} AS f WHERE {wheres}), \
         buckets AS (SELECT g AS b_start, least(least(g + {step}, {to}) - interval '1 microsecond', now()) AS b_at \
         FROM generate_series(date_trunc('{iv_name}', {from}), {to} - interval '1 microsecond', {step}) AS g) \
         SELECT {select} FROM buckets AS bk {join} sp AS f ON f.start_date <= bk.b_at AND coalesce(f.complete_date, now()) >= bk.b_start{burn_lateral} \
         GROUP BY {} ORDER BY {} LIMIT {limit}",
        keys.join(", "),
        order.join(", ")
    );
    Ok(Compiled { sql: q.sql, params: q.params, columns, metrics: used, reads_sprint_stats })
}
