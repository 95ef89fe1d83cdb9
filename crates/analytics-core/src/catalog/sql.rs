//! SQL text of catalog definitions: safety checks on expression fragments, `{{placeholder}}` handling,
//! aggregate expressions, and the probe query `analytics_catalog_check()` plans for every metric.
//! Placeholders are only ever replaced by bind parameters or typed NULLs, never by values.

use super::{Aggregation, Kind, MetricDef};
use std::collections::BTreeMap;

/// Longest accepted expression or filter, in bytes.
pub const MAX_FRAGMENT: usize = 4000;

/// Rejects fragments that could end or hide a statement: `;`, comments, unbalanced quotes or
/// parentheses, NUL and other control characters. (Whether the fragment is valid SQL is checked by
/// planning the probe query.)
pub fn check_fragment(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err("is empty".into());
    }
    if s.len() > MAX_FRAGMENT {
        return Err(format!("is {} bytes long; the limit is {MAX_FRAGMENT}", s.len()));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err("contains a control character".into());
    }
    let mut depth = 0i32;
    let mut chars = s.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                } else {
                    in_string = false;
                }
            }
            continue;
        }
        match c {
            '\'' => in_string = true,
            ';' => return Err("contains ';'".into()),
            '"' => return Err("contains a quoted identifier; use plain column names".into()),
            '$' => return Err("contains '$' (dollar quoting or a parameter); use {{parameters}}".into()),
            '-' if chars.peek() == Some(&'-') => return Err("contains a comment (--)".into()),
            '/' if chars.peek() == Some(&'*') => return Err("contains a comment (/*)".into()),
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err("has unbalanced parentheses".into());
                }
            }
            _ => {}
        }
    }
    if in_string {
        return Err("has an unterminated string".into());
    }
    if depth != 0 {
        return Err("has unbalanced parentheses".into());
    }
    Ok(())
}

/// Names used as `{{name}}` in a fragment, in order of first use.
pub fn placeholders(s: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or("an unclosed {{")?;
        let name = after[..end].trim();
        if !super::is_identifier(name) {
            return Err(format!("{{{{{name}}}}} is not a valid placeholder name"));
        }
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
        rest = &after[end + 2..];
    }
    if rest.contains("}}") {
        return Err("a stray }}".into());
    }
    Ok(names)
}

/// Replaces every `{{name}}` with `values[name]` (SQL the caller built: a `$n` parameter, a typed NULL,
/// or another metric's aggregate). Unknown names are an error.
pub fn render(s: &str, values: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or("an unclosed {{")?;
        let name = after[..end].trim();
        let value = values.get(name).ok_or_else(|| format!("no value for {{{{{name}}}}}"))?;
        out.push('(');
        out.push_str(value);
        out.push(')');
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The aggregate of `value` over the rows where `filter` holds (PostgreSQL's own functions; percentiles
/// interpolate linearly with `percentile_cont`).
pub fn aggregate(agg: Aggregation, value: &str, filter: Option<&str>) -> String {
    let f = filter.map(|f| format!(" FILTER (WHERE {f})")).unwrap_or_default();
    let pct = |p: &str| format!("percentile_cont({p}) WITHIN GROUP (ORDER BY ({value})){f}");
    match agg {
        Aggregation::Count => format!("count({value}){f}"),
        Aggregation::Sum => format!("sum({value}){f}"),
        Aggregation::Avg => format!("avg({value}){f}"),
        Aggregation::Min => format!("min({value}){f}"),
        Aggregation::Max => format!("max({value}){f}"),
        Aggregation::P50 => pct("0.5"),
        Aggregation::P70 => pct("0.7"),
        Aggregation::P75 => pct("0.75"),
        Aggregation::P85 => pct("0.85"),
        Aggregation::P90 => pct("0.9"),
        Aggregation::P95 => pct("0.95"),
        Aggregation::Formula => value.to_string(),
    }
}

/// A query that exercises the whole definition with typed NULLs for parameters (and for the
/// dependencies of a formula). Planning it (EXPLAIN) proves the SQL is valid against the live schema.
pub fn probe(def: &MetricDef) -> Result<String, String> {
    let mut values: BTreeMap<String, String> =
        def.parameters.iter().map(|(k, p)| (k.clone(), format!("NULL::{}", p.param_type.sql_type()))).collect();
    if def.kind == Kind::Formula {
        for d in &def.dependencies {
            values.insert(d.clone(), "NULL::numeric".into());
        }
        // Without dependencies the expression aggregates the rows itself.
        let from = if def.dependencies.is_empty() { format!(" FROM {} AS f", def.entity.base_relation()) } else { String::new() };
        return Ok(format!("SELECT {}{from}", render(&def.sql_expression, &values)?));
    }
    let value = render(&def.sql_expression, &values)?;
    let filter = def.filter.as_deref().map(|f| render(f, &values)).transpose()?;
    let time = def.time_field.as_deref().map(|t| format!(", max(f.{t})")).unwrap_or_default();
    Ok(format!("SELECT {}{time} FROM {} AS f", aggregate(def.default_aggregation, &value, filter.as_deref()), def.entity.base_relation()))
}
