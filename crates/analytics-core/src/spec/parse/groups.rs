//! How a spec groups: dimensions, date intervals, number buckets and the `as_of` series group (which
//! also needs a date range to span).

use super::*;

pub(super) fn parse_group_by(ctx: &mut Ctx, v: Option<&Value>, entity: Entity) -> Vec<GroupBy> {
    let Some(v) = v.filter(|v| !v.is_null()) else { return vec![] };
    let Some(items) = array(ctx, "$.group_by", v, MAX_GROUP_BY) else { return vec![] };
    let mut out: Vec<GroupBy> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("$.group_by[{i}]");
        let mut bucket_value: Option<&Value> = None;
        let (field, interval) = match item {
            Value::String(s) => (s.as_str(), None),
            Value::Object(o) => {
                unknown_keys(ctx, &path, o, &["field", "interval", "bucket"]);
                bucket_value = o.get("bucket").filter(|v| !v.is_null());
                let Some(field) = required_str(ctx, &path, o, "field", "a group needs a field") else { continue };
                let interval = match o.get("interval") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.as_str()),
                    Some(other) => {
                        ctx.err(&format!("{path}.interval"), "wrong_type", format!("interval must be a string, not {}", type_name(other)));
                        continue;
                    }
                };
                (field, interval)
            }
            other => {
                ctx.err(
                    &path,
                    "wrong_type",
                    format!("a group is a dimension name or {{\"field\", \"interval\"}}, not {}", type_name(other)),
                );
                continue;
            }
        };
        if !check_text(ctx, &path, field) {
            continue;
        }
        if field == dims::SERIES {
            if let Some(g) = series_group(ctx, &path, interval) {
                if out.iter().any(GroupBy::is_series) {
                    ctx.err(&path, "duplicate_group", "as_of is grouped twice: a spec is one series");
                    continue;
                }
                out.push(g);
            }
            continue;
        }
        let Some(dim) = dims::find(entity, field) else {
            unknown_dimension(ctx, &path, field, entity);
            continue;
        };
        let interval = match (dim.kind, interval) {
            (DimKind::Timestamp, None) => {
                ctx.err(&path, "missing_key", format!("grouping by {field} needs an interval"))
                    .hint(format!(r#"Use {{"field": "{field}", "interval": "month"}} (day, week, month, quarter, year)."#));
                continue;
            }
            (DimKind::Timestamp, Some(iv)) if INTERVALS.contains(&iv) => Some(iv.to_string()),
            (DimKind::Timestamp, Some(iv)) => {
                ctx.err(&format!("{path}.interval"), "invalid_value", format!("unknown interval \"{}\"", shown(iv)))
                    .hint("Use day, week, month, quarter or year.")
                    .suggest(did_you_mean(iv, INTERVALS.iter().copied(), 2));
                continue;
            }
            (_, Some(_)) => {
                ctx.err(&format!("{path}.interval"), "invalid_value", format!("{field} is not a date; only date fields take an interval"));
                continue;
            }
            (_, None) => None,
        };
        let bucket = match (dim.kind, bucket_value) {
            (DimKind::Number, None) => Some(1.0),
            (DimKind::Number, Some(Value::Number(n))) => match n.as_f64() {
                Some(w) if w > 0.0 && w <= MAX_BUCKET => Some(w),
                _ => {
                    ctx.err(&format!("{path}.bucket"), "invalid_value", format!("bucket must be a width above 0 and at most {MAX_BUCKET}"))
                        .hint(r#"For example {"field": "cycle_time_days", "bucket": 2}: 0-2, 2-4, ... days."#);
                    continue;
                }
            },
            (DimKind::Number, Some(other)) => {
                ctx.err(&format!("{path}.bucket"), "wrong_type", format!("bucket must be a number, not {}", type_name(other)));
                continue;
            }
            (_, Some(_)) => {
                ctx.err(&format!("{path}.bucket"), "invalid_value", format!("{field} is not a number; only number fields take a bucket"));
                continue;
            }
            (_, None) => None,
        };
        let g = GroupBy { field: field.to_string(), interval, bucket };
        if out.iter().any(|o| o.column() == g.column()) {
            ctx.err(&path, "duplicate_group", format!("{} is grouped twice", g.column()));
            continue;
        }
        out.push(g);
    }
    out
}

/// The series group `{"field": "as_of", "interval": ...}`.
fn series_group(ctx: &mut Ctx, path: &str, interval: Option<&str>) -> Option<GroupBy> {
    match interval {
        Some(iv) if INTERVALS.contains(&iv) => {
            Some(GroupBy { field: dims::SERIES.to_string(), interval: Some(iv.to_string()), bucket: None })
        }
        Some(iv) => {
            ctx.err(&format!("{path}.interval"), "invalid_value", format!("unknown interval \"{}\"", shown(iv)))
                .hint("Use day, week, month, quarter or year.")
                .suggest(did_you_mean(iv, INTERVALS.iter().copied(), 2));
            None
        }
        None => {
            ctx.err(path, "missing_key", "an as_of series needs an interval")
                .hint(r#"Use {"field": "as_of", "interval": "day"} (day, week, month, quarter, year)."#);
            None
        }
    }
}

/// A series (an `as_of` group) needs a date range to span (absolute with a start, or relative, without a
/// field of its own) and no other date grouping.
/// A sprint series spans the selected sprints' lives when it has no range (or `last_sprints`).
pub(super) fn check_series(ctx: &mut Ctx, group_by: &[GroupBy], date_range: &Option<DateRange>, entity: Entity) {
    let Some(i) = group_by.iter().position(GroupBy::is_series) else { return };
    let path = format!("$.group_by[{i}]");
    if let Some(g) = group_by.iter().find(|g| g.interval.is_some() && !g.is_series()) {
        ctx.err(&path, "series_with_date_group", format!("a series by as_of cannot also be grouped by {}", g.column())).hint(
            "In a series each metric already counts its own date (created_at, resolved_at, ...) per bucket; drop the other date group.",
        );
    }
    let range_hint = r#"Add "date_range": {"last": "90 days"} or {"from": "2026-01-01", "to": "2026-04-01"}: the buckets span it."#;
    match date_range {
        None | Some(DateRange::LastSprints(_)) if entity == Entity::Sprint => {}
        None => {
            ctx.err("$.date_range", "series_needs_range", "an as_of series needs a date_range to span").hint(range_hint);
        }
        Some(DateRange::Absolute { from: None, .. }) => {
            ctx.err("$.date_range.from", "series_needs_range", "an as_of series needs a date_range with a start (from)").hint(range_hint);
        }
        Some(DateRange::Absolute { field: Some(_), .. }) | Some(DateRange::Relative { field: Some(_), .. }) => {
            ctx.err(
                "$.date_range.field",
                "invalid_value",
                "a series' date_range takes no field: each metric counts its own date in each bucket",
            )
            .hint("Leave out date_range.field.");
        }
        Some(DateRange::LastSprints(_)) => {
            ctx.err("$.date_range", "series_needs_range", "an as_of series spans dates, not sprints").hint(range_hint);
        }
        _ => {}
    }
}
