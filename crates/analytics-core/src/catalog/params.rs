//! Bound query parameters: every value that reaches SQL goes through here as a `$n` placeholder with
//! its type, never as text in the query.

use super::ParamType;
use serde_json::Value;

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_bound_with_their_type() {
        let mut q = Query::default();
        assert_eq!(q.bind(Bound::Text("x'; DROP TABLE t; --".into()), "text"), "$1::text");
        assert_eq!(q.bind(Bound::Integer(5), "integer"), "$2::integer");
        assert_eq!(q.params.len(), 2);
    }

    #[test]
    fn parameters_are_checked_against_their_type() {
        assert_eq!(bound_param("labels", ParamType::TextArray, &json!(["a", "b"])), Ok(Bound::TextArray(vec!["a".into(), "b".into()])));
        assert_eq!(bound_param("days", ParamType::Integer, &json!(5)), Ok(Bound::Integer(5)));
        assert_eq!(bound_param("days", ParamType::Integer, &json!("five")).unwrap_err(), "parameter days must be integer, got \"five\"");
        assert_eq!(bound_param("as_of", ParamType::Timestamptz, &json!("now")), Ok(Bound::Text("now".into())));
    }
}
