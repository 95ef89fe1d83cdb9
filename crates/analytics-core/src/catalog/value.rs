//! The value of one metric over the session tenant's rows, optionally within a time window: the
//! smallest complete use of a definition (parameters bound, dependencies of formulas expanded). The
//! spec compiler builds grouped queries from the same pieces.

use super::sql::{aggregate, render};
use super::{Kind, MetricDef, ParamType};
use serde_json::Value;
use std::collections::BTreeMap;

/// A value bound to a `$n` parameter, with the SQL type it is cast to.
#[derive(Debug, Clone, PartialEq)]
pub enum Bound {
    Text(String),
    TextArray(Vec<String>),
    Integer(i32),
}

/// A query and its parameters, in `$1..$n` order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    pub sql: String,
    pub params: Vec<Bound>,
}

impl Query {
    /// Binds a value and returns its placeholder, cast to `sql_type`.
    pub fn bind(&mut self, value: Bound, sql_type: &str) -> String {
        self.params.push(value);
        format!("${}::{sql_type}", self.params.len())
    }
}

/// Converts a parameter value (given, or the definition's default) to a bound value of its type.
pub fn bound_param(name: &str, t: ParamType, v: &Value) -> Result<Bound, String> {
    if !t.accepts(v) {
        return Err(format!("parameter {name} must be {}, got {v}", t.sql_type()));
    }
    Ok(match (t, v) {
        (ParamType::TextArray, Value::Array(items)) => {
            Bound::TextArray(items.iter().filter_map(|i| i.as_str().map(String::from)).collect())
        }
        (ParamType::Integer, Value::Number(n)) => Bound::Integer(n.as_i64().and_then(|i| i32::try_from(i).ok()).unwrap_or_default()),
        (_, Value::String(s)) => Bound::Text(s.clone()),
        (_, other) => Bound::Text(other.to_string()),
    })
}

/// An optional half-open window [from, to) on the metric's time field (ISO dates or timestamps).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Window {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The aggregate SQL of `def` over `FROM <base> AS f WHERE <scope>` rows, binding its parameters.
fn aggregate_of(def: &MetricDef, params: &BTreeMap<String, Value>, window: &Window, q: &mut Query) -> Result<String, String> {
    let mut values = BTreeMap::new();
    for (name, p) in &def.parameters {
        let v = params.get(name).unwrap_or(&p.default);
        let b = bound_param(name, p.param_type, v)?;
        values.insert(name.clone(), q.bind(b, p.param_type.sql_type()));
    }
    let value = render(&def.sql_expression, &values)?;
    let mut conds: Vec<String> = Vec::new();
    if let Some(f) = &def.filter {
        conds.push(format!("({})", render(f, &values)?));
    }
    if let Some(t) = &def.time_field {
        if let Some(from) = &window.from {
            conds.push(format!("f.{t} >= {}", q.bind(Bound::Text(from.clone()), "timestamptz")));
        }
        if let Some(to) = &window.to {
            conds.push(format!("f.{t} < {}", q.bind(Bound::Text(to.clone()), "timestamptz")));
        }
    }
    let filter = (!conds.is_empty()).then(|| conds.join(" AND "));
    Ok(format!(
        "(SELECT {} FROM {} AS f WHERE f.tenant_id = analytics.current_tenant())",
        aggregate(def.default_aggregation, &value, filter.as_deref()),
        def.entity.base_relation()
    ))
}

/// `SELECT <value>::numeric` for metric `def` of `catalog`, with `params` overriding defaults (they
/// apply to the metric and, for a formula, to its dependencies).
pub fn value_query(def: &MetricDef, catalog: &[MetricDef], params: &BTreeMap<String, Value>, window: &Window) -> Result<Query, String> {
    let mut q = Query::default();
    let expr = if def.kind == Kind::Formula {
        let mut deps = BTreeMap::new();
        for d in &def.dependencies {
            let dep = catalog.iter().find(|m| &m.name == d).ok_or_else(|| format!("unknown dependency {d}"))?;
            deps.insert(d.clone(), aggregate_of(dep, params, window, &mut q)?);
        }
        render(&def.sql_expression, &deps)?
    } else {
        aggregate_of(def, params, window, &mut q)?
    };
    q.sql = format!("SELECT ({expr})::numeric");
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::builtin;
    use serde_json::json;

    fn catalog() -> Vec<MetricDef> {
        builtin::metrics().unwrap()
    }

    fn metric(name: &str) -> MetricDef {
        catalog().into_iter().find(|m| m.name == name).unwrap()
    }

    #[test]
    fn parameters_are_bound_never_inlined() {
        let params = [("labels".to_string(), json!(["prod'; DROP TABLE x; --"]))].into_iter().collect();
        let q = value_query(&metric("escaped_defects"), &catalog(), &params, &Window::default()).unwrap();
        assert_eq!(
            q.sql,
            "SELECT ((SELECT count(f.id) FILTER (WHERE (f.issue_type = 'Bug' AND f.labels && ($1::text[]))) FROM analytics.issue_facts AS f WHERE f.tenant_id = analytics.current_tenant()))::numeric"
        );
        assert_eq!(q.params, vec![Bound::TextArray(vec!["prod'; DROP TABLE x; --".into()])]);
    }

    #[test]
    fn defaults_apply_and_windows_use_the_time_field() {
        let w = Window { from: Some("2025-01-01".into()), to: Some("2025-04-01".into()) };
        let q = value_query(&metric("stuck_count"), &catalog(), &BTreeMap::new(), &w).unwrap();
        assert_eq!(q.params, vec![Bound::Text("now".into()), Bound::Integer(5)], "snapshots ignore the window");
        let q = value_query(&metric("closed"), &catalog(), &BTreeMap::new(), &w).unwrap();
        assert!(q.sql.contains("f.resolved_at >= $1::timestamptz AND f.resolved_at < $2::timestamptz"), "{}", q.sql);
    }

    #[test]
    fn formulas_expand_their_dependencies() {
        let q = value_query(&metric("throughput_ratio"), &catalog(), &BTreeMap::new(), &Window::default()).unwrap();
        assert!(q.sql.starts_with("SELECT (((SELECT count(f.id) FILTER (WHERE (f.resolved_at IS NOT NULL))"), "{}", q.sql);
        assert!(q.sql.contains("NULLIF(((SELECT count(f.id) FROM analytics.issue_facts"), "{}", q.sql);
    }

    #[test]
    fn wrongly_typed_parameters_are_refused() {
        let params = [("days".to_string(), json!("five"))].into_iter().collect();
        let err = value_query(&metric("stuck_count"), &catalog(), &params, &Window::default()).unwrap_err();
        assert_eq!(err, "parameter days must be integer, got \"five\"");
    }
}
