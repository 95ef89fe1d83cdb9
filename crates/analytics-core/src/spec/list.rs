//! A list spec to SQL: one row per issue (or sprint) of the session's tenant that passes the filters,
//! with the columns asked for. A metric field is the metric's value for the row (NULL where its own
//! filter leaves the row out); a metric filter keeps the rows the metric counts: its own filter, its
//! time window when the date range names no field, and a comparison of its value when it has one (a
//! measure without one: a value at all). So the list's length is the metric's count over the same
//! filters (up to `limit`).

use super::compile::{
    filter_sql, find, formula_params, note_version, plain_base, quote, range_field, routed, window, Column, Compiled, MetricVersion,
    SprintSource,
};
use super::dims;
use super::model::*;
use crate::catalog::params::{Bound, Query};
use crate::catalog::sql::render;
use crate::catalog::{Entity, MetricDef};

/// The row's own id column: the last sort key, so equal rows always come in the same order.
fn id_column(entity: Entity) -> &'static str {
    match entity {
        Entity::Issue => "id",
        Entity::Sprint => "sprint_id",
    }
}

/// A metric's value for the row and its own filter, with its parameters bound.
fn value_and_filter(
    def: &MetricDef,
    params: &std::collections::BTreeMap<String, serde_json::Value>,
    q: &mut Query,
) -> Result<(String, Option<String>), String> {
    let bound = formula_params(def, params, q)?;
    let value = render(&def.sql_expression, &bound)?;
    let own = def.filter.as_deref().map(|f| render(f, &bound)).transpose()?;
    Ok((value, own))
}

fn comparison(value: &str, op: Op, v: &FilterValue, q: &mut Query) -> Result<String, String> {
    let mut num = |s: &str| q.bind(Bound::Text(s.to_string()), "numeric");
    Ok(match (op, v) {
        (Op::Gt, FilterValue::One(x)) => format!("({value}) > {}", num(x)),
        (Op::Gte, FilterValue::One(x)) => format!("({value}) >= {}", num(x)),
        (Op::Lt, FilterValue::One(x)) => format!("({value}) < {}", num(x)),
        (Op::Lte, FilterValue::One(x)) => format!("({value}) <= {}", num(x)),
        // Half-open, like number dimensions: [low, high).
        (Op::Between, FilterValue::Two(a, b)) => {
            let (pa, pb) = (num(a), num(b));
            format!("(({value}) >= {pa} AND ({value}) < {pb})")
        }
        (op, _) => return Err(format!("operator {} on a metric's value", op.as_str())),
    })
}

pub(super) fn compile(spec: &Spec, catalog: &[MetricDef], tenant: &str, source: SprintSource) -> Result<Compiled, String> {
    let mut q = Query::default();
    let tenant_param = q.bind(Bound::Text(tenant.to_string()), "text");
    let mut used: Vec<MetricVersion> = Vec::new();

    let mut select = Vec::new();
    let mut columns = Vec::new();
    for field in &spec.fields {
        match &field.source {
            FieldSource::Column => {
                let dim = dims::list_column(spec.entity, &field.name).ok_or_else(|| format!("unknown field {}", field.name))?;
                select.push(format!("f.{} AS {}", dim.column, quote(&field.alias)));
                columns.push(Column { name: field.alias.clone(), role: "field", unit: None });
            }
            FieldSource::Metric(params) => {
                let def = find(catalog, &field.name)?;
                note_version(&mut used, def);
                let (value, own) = value_and_filter(def, params, &mut q)?;
                let expr = match own {
                    Some(f) => format!("CASE WHEN {f} THEN {value} END"),
                    None => value,
                };
                select.push(format!("{expr} AS {}", quote(&field.alias)));
                columns.push(Column { name: field.alias.clone(), role: "metric", unit: Some(def.unit.as_str()) });
            }
        }
    }

    let mut wheres = vec![format!("f.tenant_id = {tenant_param}")];
    for f in &spec.filters {
        wheres.push(filter_sql(f, spec.entity, &mut q)?);
    }
    wheres.extend(super::compile::similar_sql(spec, &tenant_param, &mut q)?);
    for m in &spec.metric_filters {
        let def = find(catalog, &m.metric)?;
        note_version(&mut used, def);
        let (value, own) = value_and_filter(def, &m.params, &mut q)?;
        if let Some(f) = own {
            wheres.push(format!("({f})"));
        }
        if range_field(&spec.date_range).is_none() {
            if let Some(w) = def.time_field.as_deref().and_then(|t| window(&spec.date_range, t, &mut q)) {
                wheres.push(w);
            }
        }
        match m.op {
            Some(op) => wheres.push(comparison(&value, op, &m.value, &mut q)?),
            // A measure aggregates the rows where it has a value (aggregates skip NULLs).
            None if crate::spec::parse::list::listable(def) => wheres.push(format!("({value}) IS NOT NULL")),
            None => {}
        }
    }
    super::compile::range_conditions(spec, &tenant_param, &mut q, &mut wheres)?;

    // The sort asked for, else the first metric field's largest values first; the row's id last.
    let mut order: Vec<String> = if spec.sort_by.is_empty() {
        spec.fields
            .iter()
            .find(|f| matches!(f.source, FieldSource::Metric(_)))
            .map(|f| format!("{} DESC NULLS LAST", quote(&f.alias)))
            .into_iter()
            .collect()
    } else {
        super::compile::order_by(spec)
    };
    order.push(format!("f.{}", id_column(spec.entity)));
    let limit = q.bind(Bound::Integer(spec.limit as i32), "integer");
    let base = plain_base(spec.entity, &[&select.join(", "), &wheres.join(" AND "), &order.join(", ")], &tenant_param)
        .unwrap_or(spec.entity.base_relation().to_string());
    let (base, reads_sprint_stats) = routed(base, source);
    q.sql =
        format!("SELECT {} FROM {base} AS f WHERE {} ORDER BY {} LIMIT {limit}", select.join(", "), wheres.join(" AND "), order.join(", "));
    Ok(Compiled { sql: q.sql, params: q.params, columns, metrics: used, reads_sprint_stats })
}
