//! Which rows a spec reads: its filters (each value checked against its operator and dimension, and bound
//! as a parameter later) and its date range (absolute and half-open, relative, or the last N sprints).

use super::*;

fn scalar_text(ctx: &mut Ctx, path: &str, v: Option<&Value>, kind: DimKind) -> Option<String> {
    match v {
        // A number, or a string that is one ("10", as a constrained LLM writes every value).
        Some(Value::String(t)) if kind == DimKind::Number && t.trim().parse::<f64>().is_ok_and(f64::is_finite) && t.len() <= 40 => {
            Some(t.trim().parse::<f64>().map(|x| x.to_string()).unwrap_or_default())
        }
        Some(Value::String(_)) | Some(Value::Bool(_)) if kind == DimKind::Number => {
            ctx.err(path, "wrong_type", "value must be a number")
                .hint(r#"For example {"field": "cycle_time_days", "operator": "gt", "value": 10}."#);
            None
        }
        Some(Value::Number(n)) if kind == DimKind::Number && !n.as_f64().is_some_and(f64::is_finite) => {
            ctx.err(path, "invalid_value", "value must be a finite number");
            None
        }
        Some(Value::String(s)) => {
            if !check_text(ctx, path, s) {
                return None;
            }
            if kind == DimKind::Timestamp && !(is_timestamp_text(s) && s != "now") {
                ctx.err(path, "invalid_date", format!("\"{}\" is not a date", shown(s))).hint("Use YYYY-MM-DD or an ISO timestamp.");
                return None;
            }
            Some(s.clone())
        }
        Some(Value::Number(n)) if kind != DimKind::Timestamp => Some(n.to_string()),
        Some(Value::Bool(b)) if kind != DimKind::Timestamp => Some(b.to_string()),
        Some(other) => {
            ctx.err(path, "wrong_type", format!("value must be a string, not {}", type_name(other)));
            None
        }
        None => {
            ctx.err(path, "missing_key", "this operator needs a value");
            None
        }
    }
}

/// `filters`: conditions on dimensions, and (lists only, see [`super::list`]) on metrics.
pub(super) fn parse_filters(
    ctx: &mut Ctx,
    v: Option<&Value>,
    entity: Entity,
    date_range: &Option<DateRange>,
) -> (Vec<Filter>, Vec<MetricFilter>) {
    let Some(v) = v.filter(|v| !v.is_null()) else { return (vec![], vec![]) };
    let Some(items) = array(ctx, "$.filters", v, MAX_FILTERS) else { return (vec![], vec![]) };
    let mut out = Vec::new();
    let mut by_metric = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("$.filters[{i}]");
        let Value::Object(o) = item else {
            ctx.err(&path, "wrong_type", format!("a filter is an object {{\"field\", \"operator\", \"value\"}}, not {}", type_name(item)));
            continue;
        };
        if o.contains_key("metric") {
            by_metric.extend(super::list::parse_metric_filter(ctx, &path, o, entity, date_range));
            continue;
        }
        unknown_keys(ctx, &path, o, &["field", "operator", "value"]);
        let Some(field) = required_str(ctx, &path, o, "field", "a filter needs a field") else { continue };
        if !check_text(ctx, &format!("{path}.field"), field) {
            continue;
        }
        let op = match required_str(ctx, &path, o, "operator", "a filter needs an operator") {
            Some(s) => match Op::parse(s) {
                Some(op) => Some(op),
                None => {
                    let all: Vec<&str> = Op::ALL.iter().map(|o| o.as_str()).collect();
                    let symbolic = match s {
                        "=" | "==" => Some("eq"),
                        "!=" | "<>" => Some("ne"),
                        ">" => Some("gt"),
                        ">=" => Some("gte"),
                        "<" => Some("lt"),
                        "<=" => Some("lte"),
                        _ => None,
                    };
                    let mut sug = did_you_mean(s, all.iter().copied(), 3);
                    if let Some(sym) = symbolic {
                        sug = vec![sym.to_string()];
                    }
                    ctx.err(&format!("{path}.operator"), "invalid_operator", format!("unknown operator \"{}\"", shown(s)))
                        .hint(format!("Use one of {}.", all.join(", ")))
                        .suggest(sug);
                    None
                }
            },
            None => None,
        };
        let Some(dim) = dims::find(entity, field) else {
            unknown_dimension(ctx, &format!("{path}.field"), field, entity);
            continue;
        };
        let Some(op) = op else { continue };
        let vpath = format!("{path}.value");
        let raw = o.get("value").filter(|v| !v.is_null());
        let allowed = match dim.kind {
            DimKind::Text => true,
            DimKind::TextArray => !matches!(op, Op::Gt | Op::Gte | Op::Lt | Op::Lte | Op::Between),
            DimKind::Timestamp => !matches!(op, Op::In | Op::NotIn | Op::Contains),
            DimKind::Number => !matches!(op, Op::Contains),
        };
        if !allowed {
            ctx.err(&format!("{path}.operator"), "invalid_operator", format!("operator {} does not apply to {field}", op.as_str()));
            continue;
        }
        let value = match op {
            Op::IsNull | Op::IsNotNull => {
                if raw.is_some() {
                    ctx.err(&vpath, "invalid_value", format!("{} takes no value", op.as_str()));
                    continue;
                }
                FilterValue::None
            }
            Op::In | Op::NotIn => {
                let Some(list) = raw else {
                    ctx.err(&vpath, "missing_key", format!("{} needs a list of values", op.as_str()));
                    continue;
                };
                let Some(items) = array(ctx, &vpath, list, MAX_LIST) else { continue };
                if items.is_empty() {
                    ctx.err(&vpath, "invalid_value", "the list of values is empty");
                    continue;
                }
                let mut vals = Vec::new();
                for (j, x) in items.iter().enumerate() {
                    if let Some(s) = scalar_text(ctx, &format!("{vpath}[{j}]"), Some(x), dim.kind) {
                        vals.push(s);
                    }
                }
                FilterValue::Many(vals)
            }
            Op::Between => {
                let pair = match raw {
                    Some(Value::Array(a)) if a.len() == 2 => a,
                    _ => {
                        ctx.err(&vpath, "invalid_value", "between needs [low, high]");
                        continue;
                    }
                };
                let (Some(a), Some(b)) = (
                    scalar_text(ctx, &format!("{vpath}[0]"), pair.first(), dim.kind),
                    scalar_text(ctx, &format!("{vpath}[1]"), pair.get(1), dim.kind),
                ) else {
                    continue;
                };
                let inverted = match dim.kind {
                    DimKind::Number => a.parse::<f64>().ok() >= b.parse::<f64>().ok(),
                    _ => a >= b,
                };
                if matches!(dim.kind, DimKind::Timestamp | DimKind::Number) && inverted {
                    ctx.err(&vpath, "inverted_range", format!("between {a} and {b} is empty: the first must come before the second"));
                    continue;
                }
                FilterValue::Two(a, b)
            }
            _ => match scalar_text(ctx, &vpath, raw, dim.kind) {
                Some(s) => FilterValue::One(s),
                None => continue,
            },
        };
        out.push(Filter { field: field.to_string(), op, value });
    }
    (out, by_metric)
}

fn parse_relative(s: &str) -> Option<(u32, RelUnit)> {
    let mut parts = s.split_whitespace();
    let n: u64 = parts.next()?.parse().ok()?;
    let unit = match parts.next()?.trim_end_matches('s') {
        "day" => RelUnit::Day,
        "week" => RelUnit::Week,
        "month" => RelUnit::Month,
        "quarter" => RelUnit::Quarter,
        "year" => RelUnit::Year,
        _ => return None,
    };
    if parts.next().is_some() || n == 0 || n > MAX_RELATIVE {
        return None;
    }
    Some((n as u32, unit))
}

pub(super) fn parse_date_range(ctx: &mut Ctx, v: Option<&Value>, entity: Entity) -> Option<DateRange> {
    let v = v.filter(|v| !v.is_null())?;
    let Value::Object(o) = v else {
        ctx.err("$.date_range", "wrong_type", format!("date_range must be an object, not {}", type_name(v)));
        return None;
    };
    unknown_keys(ctx, "$.date_range", o, &["field", "from", "to", "last", "last_sprints"]);
    if let Some(n) = o.get("last_sprints") {
        if entity != Entity::Sprint {
            ctx.err("$.date_range.last_sprints", "invalid_value", "last_sprints applies to sprint metrics only")
                .hint(r#"For issues use {"last": "90 days"} or from/to."#);
            return None;
        }
        if o.keys().any(|k| k != "last_sprints") {
            ctx.err("$.date_range", "invalid_value", "last_sprints cannot be combined with field, from, to or last");
            return None;
        }
        return match n.as_u64() {
            Some(k) if (1..=MAX_LAST_SPRINTS).contains(&k) => Some(DateRange::LastSprints(k as u32)),
            _ => {
                ctx.err(
                    "$.date_range.last_sprints",
                    "invalid_value",
                    format!("last_sprints must be a whole number from 1 to {MAX_LAST_SPRINTS}"),
                );
                None
            }
        };
    }
    let field = match o.get("field") {
        None | Some(Value::Null) => None,
        Some(Value::String(f)) => match dims::find(entity, f) {
            Some(d) if d.kind == DimKind::Timestamp => Some(f.clone()),
            Some(_) => {
                ctx.err("$.date_range.field", "invalid_value", format!("{f} is not a date field"));
                return None;
            }
            None => {
                let dates: Vec<&str> = dims::dimensions(entity).iter().filter(|d| d.kind == DimKind::Timestamp).map(|d| d.name).collect();
                ctx.err("$.date_range.field", "unknown_dimension", format!("unknown date field \"{}\"", shown(f)))
                    .hint(format!("Date fields: {}.", dates.join(", ")))
                    .suggest(did_you_mean(f, dates.iter().copied(), 3));
                return None;
            }
        },
        Some(other) => {
            ctx.err("$.date_range.field", "wrong_type", format!("field must be a string, not {}", type_name(other)));
            return None;
        }
    };
    if let Some(last) = o.get("last") {
        if o.contains_key("from") || o.contains_key("to") {
            ctx.err("$.date_range", "invalid_value", "use either last or from/to, not both");
            return None;
        }
        return match last.as_str().and_then(parse_relative) {
            Some((n, unit)) => Some(DateRange::Relative { field, n, unit }),
            None => {
                ctx.err("$.date_range.last", "invalid_value", "last must look like \"90 days\"")
                    .hint(format!("A whole number from 1 to {MAX_RELATIVE}, then days, weeks, months, quarters or years."));
                None
            }
        };
    }
    let mut bound = |key: &str| -> Result<Option<String>, ()> {
        match o.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if is_timestamp_text(s) && s != "now" && s.len() <= 40 => Ok(Some(s.clone())),
            Some(Value::String(s)) => {
                ctx.err(&format!("$.date_range.{key}"), "invalid_date", format!("\"{}\" is not a date", shown(s)))
                    .hint("Use YYYY-MM-DD or an ISO timestamp.");
                Err(())
            }
            Some(other) => {
                ctx.err(&format!("$.date_range.{key}"), "wrong_type", format!("{key} must be a date string, not {}", type_name(other)));
                Err(())
            }
        }
    };
    let (from, to) = (bound("from"), bound("to"));
    let (Ok(from), Ok(to)) = (from, to) else { return None };
    if from.is_none() && to.is_none() {
        ctx.err("$.date_range", "missing_key", "date_range needs from and/or to, last, or last_sprints");
        return None;
    }
    if let (Some(a), Some(b)) = (&from, &to) {
        if a >= b {
            ctx.err("$.date_range", "inverted_range", format!("from {a} is not before to {b}: the range is empty"))
                .hint("The range is half-open: from is included, to is not.");
            return None;
        }
    }
    Some(DateRange::Absolute { field, from, to })
}
