//! The metrics catalog's SQL API written in Rust: the shipped definitions, looking one up, creating or
//! editing (validated against the whole catalog and by planning its SQL), deprecating and activating,
//! and the static half of `analytics_catalog_check()`. SQL-only parts are in `sql/013_catalog_api.sql`.

use crate::catalog_cache::load_catalog;
use crate::error::{ApiError, OrReport};
use crate::jsonb_arg::JsonbText;
use analytics_core::catalog::params::Bound;
use analytics_core::catalog::{self, check, MetricDef, Problem};
use analytics_core::json_arg as args;
use analytics_core::suggest::did_you_mean;
use pgrx::datum::TimestampWithTimeZone;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::AnyNumeric;
use pgrx::JsonB;
use serde_json::{json, Value};

fn unknown_metric(name: &str) -> ApiError {
    let names: Vec<String> =
        crate::spi_read::one::<Vec<String>>("SELECT array_agg(name ORDER BY name) FROM analytics.metrics_catalog", &[])
            .ok()
            .flatten()
            .unwrap_or_default();
    ApiError::UnknownMetric { name: name.to_string(), suggestions: did_you_mean(name, names.iter().map(String::as_str), 3) }
}

/// The shipped catalog (catalog/*.toml) as a JSON array; loaded into metrics_builtin at CREATE EXTENSION.
#[pg_extern(immutable, parallel_safe, schema = "analytics", name = "_catalog_builtin")]
fn catalog_builtin() -> Result<JsonB, ErrorReport> {
    let metrics = catalog::builtin::metrics().map_err(|e| ApiError::Internal(format!("the shipped catalog does not parse: {e}")))?;
    Ok(JsonB(serde_json::to_value(metrics).map_err(|e| ApiError::Internal(e.to_string()))?))
}

/// One metric of the effective catalog as jsonb (every column, plus `source`).
#[pg_extern(stable, parallel_safe, schema = "analytics")]
#[search_path(pg_catalog, pg_temp)]
fn analytics_metric(name: Option<&str>) -> Result<JsonB, ErrorReport> {
    let name = name.ok_or(ApiError::NullArgument("name"))?;
    let row: Option<JsonB> =
        crate::spi_read::one("SELECT (SELECT to_jsonb(c) FROM analytics.metrics_catalog c WHERE c.name = $1)", &[name.into()])
            .map_err(ApiError::from)?;
    Ok(row.ok_or_else(|| unknown_metric(name))?)
}

/// Problems of the whole catalog: unparseable rows, invalid definitions, missing or inactive
/// dependencies, cycles, weights. (Planning each metric's SQL is done by analytics_catalog_check.)
fn catalog_problems() -> Result<Vec<Problem>, ApiError> {
    let rows = load_catalog()?;
    let mut problems: Vec<Problem> = rows
        .iter()
        .filter_map(|(d, _, name)| {
            d.as_ref().err().map(|e| Problem { metric: name.clone(), code: "invalid_definition", message: e.clone() })
        })
        .collect();
    let defs: Vec<MetricDef> = rows.iter().filter_map(|(d, _, _)| d.as_ref().ok().cloned()).collect();
    problems.extend(check::check(&defs));
    let inactive: Vec<&str> = rows.iter().filter(|(_, a, _)| !a).map(|(_, _, n)| n.as_str()).collect();
    for (d, active, _) in &rows {
        let Ok(d) = d else { continue };
        if *active {
            for dep in d.dependencies.iter().filter(|dep| inactive.contains(&dep.as_str())) {
                problems.push(Problem {
                    metric: d.name.clone(),
                    code: "inactive_dependency",
                    message: format!("depends on {dep}, which is deprecated"),
                });
            }
        }
    }
    Ok(problems)
}

#[pg_extern(stable, schema = "analytics", name = "_catalog_problems")]
#[search_path(pg_catalog, pg_temp)]
fn catalog_problems_sql() -> Result<JsonB, ErrorReport> {
    Ok(JsonB(serde_json::to_value(catalog_problems()?).map_err(|e| ApiError::Internal(e.to_string()))?))
}

/// The probe query of a catalog row (NULL when the row does not parse: the static check reports it).
#[pg_extern(immutable, parallel_safe, schema = "analytics", name = "_metric_probe")]
fn metric_probe(row: JsonB) -> Option<String> {
    MetricDef::from_row(&row.0).ok().and_then(|d| catalog::sql::probe(&d).ok())
}

fn invalid(message: impl Into<String>, problems: &[String]) -> ApiError {
    ApiError::InvalidDefinition { message: message.into(), detail: problems.join("\n") }
}

/// Creates or updates a user definition. Returns {"name", "version", "changed", "created", "source"}.
#[pg_extern(volatile, schema = "analytics", name = "analytics_metric_upsert")]
#[search_path(pg_catalog, pg_temp)]
fn metric_upsert(definition: Option<JsonbText>) -> Result<JsonB, ErrorReport> {
    Ok(JsonB(upsert(definition.as_ref().map(JsonbText::as_str))?))
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics.analytics_metric_upsert(jsonb) IS
  'Create or edit a metric (admin). The definition is validated on its own and against the whole catalog, and its SQL is planned; the version is bumped when the definition changes. Returns {"name", "version", "changed", "created", "source"}. Invalid definitions fail with 22023, every problem in DETAIL.';
REVOKE ALL ON FUNCTION analytics.analytics_metric_upsert(jsonb) FROM PUBLIC;
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('admin', 'function', 'analytics.analytics_metric_upsert(jsonb)', 'EXECUTE');
"#,
    name = "metric_upsert_sql",
    requires = [metric_upsert, "security"]
);

/// 0.1.0's `analytics._analytics_metric_upsert(text)` until ALTER EXTENSION UPDATE (the C symbol its
/// SQL names stays; 0.2.0's SQL does not declare it).
#[pg_extern(volatile, sql = false)]
fn analytics_metric_upsert(definition: Option<&str>) -> JsonB {
    crate::search_path::pinned(|| upsert(definition)).map(JsonB).or_report()
}

fn upsert(definition: Option<&str>) -> Result<Value, ApiError> {
    crate::spi_read::ensure_writable("analytics_metric_upsert()")?;
    let definition =
        args::parse(definition).map_err(|e| invalid("invalid metric definition", &[e]))?.ok_or(ApiError::NullArgument("definition"))?;
    let mut def = MetricDef::from_json(&definition).map_err(|e| invalid("invalid metric definition", &[e]))?;
    let rows = load_catalog()?;
    let existing = rows.iter().find(|(_, _, n)| *n == def.name);
    let existing_def = existing.and_then(|(d, _, _)| d.as_ref().ok());
    if let Some(old) = existing_def {
        if def.version == 0 || def.version == old.version {
            def.version = old.version;
            if def.same_definition(old) {
                return Ok(json!({"name": def.name, "version": old.version, "changed": false, "created": false}));
            }
        }
        def.version = def.version.max(old.version + 1);
    } else {
        def.version = def.version.max(1);
    }

    let before: Vec<Problem> = check::check(&rows.iter().filter_map(|(d, _, _)| d.as_ref().ok().cloned()).collect::<Vec<_>>());
    let mut after_defs: Vec<MetricDef> =
        rows.iter().filter_map(|(d, _, _)| d.as_ref().ok().cloned()).filter(|d| d.name != def.name).collect();
    after_defs.push(def.clone());
    let new_problems: Vec<String> = check::check(&after_defs)
        .into_iter()
        .filter(|p| !before.contains(p))
        .map(|p| format!("{}: {} ({})", p.metric, p.message, p.code))
        .collect();
    if !new_problems.is_empty() {
        return Err(invalid(format!("metric \"{}\" is not valid", def.name), &new_problems));
    }
    let probe = catalog::sql::probe(&def).map_err(|e| invalid("invalid metric definition", &[e]))?;
    let sql_error: Option<String> = Spi::get_one_with_args("SELECT analytics._probe_error($1)", &[probe.into()])?;
    if let Some(e) = sql_error {
        return Err(invalid(format!("the SQL of metric \"{}\" does not plan", def.name), &[e]));
    }

    let is_active = existing.map(|(_, a, _)| *a).unwrap_or(true);
    let params = serde_json::to_value(&def.parameters).map_err(|e| ApiError::Internal(e.to_string()))?;
    let weights =
        def.weights.as_ref().map(|w| serde_json::to_value(w).map(JsonB)).transpose().map_err(|e| ApiError::Internal(e.to_string()))?;
    let aggs: Vec<String> = def.allowed_aggregations.iter().map(|a| a.as_str().to_string()).collect();
    let kind = serde_json::to_value(def.kind).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
    Spi::run_with_args(
        "INSERT INTO analytics.metrics_user AS m (name, display_name, description, category, version, entity, kind,
             base_relation, sql_expression, filter, time_field, parameters, default_aggregation, allowed_aggregations,
             unit, tags, synonyms, dependencies, weights, is_active)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
         ON CONFLICT (name) DO UPDATE SET display_name = excluded.display_name, description = excluded.description,
             category = excluded.category, version = excluded.version, entity = excluded.entity, kind = excluded.kind,
             base_relation = excluded.base_relation, sql_expression = excluded.sql_expression, filter = excluded.filter,
             time_field = excluded.time_field, parameters = excluded.parameters,
             default_aggregation = excluded.default_aggregation, allowed_aggregations = excluded.allowed_aggregations,
             unit = excluded.unit, tags = excluded.tags, synonyms = excluded.synonyms,
             dependencies = excluded.dependencies, weights = excluded.weights,
             updated_at = now(), updated_by = current_user",
        &[
            def.name.clone().into(),
            def.display_name.clone().into(),
            def.description.clone().into(),
            def.category.clone().into(),
            (def.version as i32).into(),
            def.entity.as_str().into(),
            kind.into(),
            def.base_relation.clone().into(),
            def.sql_expression.clone().into(),
            def.filter.clone().into(),
            def.time_field.clone().into(),
            JsonB(params).into(),
            def.default_aggregation.as_str().into(),
            aggs.into(),
            def.unit.as_str().into(),
            def.tags.clone().into(),
            def.synonyms.clone().into(),
            def.dependencies.clone().into(),
            weights.into(),
            is_active.into(),
        ],
    )?;
    Ok(json!({"name": def.name, "version": def.version, "changed": true, "created": existing.is_none(), "source": "user"}))
}

fn set_active(name: Option<&str>, active: bool) -> Result<Value, ApiError> {
    crate::spi_read::ensure_writable(if active { "analytics_metric_activate()" } else { "analytics_metric_deprecate()" })?;
    let name = name.ok_or(ApiError::NullArgument("name"))?;
    let exists: Option<bool> =
        Spi::get_one_with_args("SELECT EXISTS (SELECT FROM analytics.metrics_catalog WHERE name = $1)", &[name.into()])?;
    if exists != Some(true) {
        return Err(unknown_metric(name));
    }
    Spi::run_with_args(
        "WITH u AS (UPDATE analytics.metrics_user SET is_active = $2, updated_at = now(), updated_by = current_user
                    WHERE name = $1 RETURNING 1)
         INSERT INTO analytics.metrics_user (name, display_name, description, category, version, entity, kind,
                 base_relation, sql_expression, filter, time_field, parameters, default_aggregation,
                 allowed_aggregations, unit, tags, synonyms, dependencies, weights, is_active)
         SELECT name, display_name, description, category, version, entity, kind, base_relation, sql_expression,
                filter, time_field, parameters, default_aggregation, allowed_aggregations, unit, tags, synonyms,
                dependencies, weights, $2
         FROM analytics.metrics_builtin WHERE name = $1 AND NOT EXISTS (SELECT FROM u)",
        &[name.into(), active.into()],
    )?;
    let dependents: Option<Vec<String>> = Spi::get_one_with_args(
        "SELECT array_agg(name ORDER BY name) FROM analytics.metrics_catalog WHERE $1 = ANY (dependencies) AND is_active",
        &[name.into()],
    )?;
    Ok(json!({"name": name, "is_active": active, "active_dependents": dependents.unwrap_or_default()}))
}

/// Marks a metric deprecated: it stays inspectable but is no longer offered. Returns
/// {"name", "is_active": false, "active_dependents"}.
#[pg_extern(volatile, schema = "analytics")]
#[search_path(pg_catalog, pg_temp)]
fn analytics_metric_deprecate(name: Option<&str>) -> Result<JsonB, ErrorReport> {
    Ok(JsonB(set_active(name, false)?))
}

/// Re-activates a deprecated metric.
#[pg_extern(volatile, schema = "analytics")]
#[search_path(pg_catalog, pg_temp)]
fn analytics_metric_activate(name: Option<&str>) -> Result<JsonB, ErrorReport> {
    Ok(JsonB(set_active(name, true)?))
}

/// Binds core [`Bound`] values as SPI arguments.
pub(crate) fn datums(params: &[Bound]) -> Vec<pgrx::datum::DatumWithOid<'static>> {
    params
        .iter()
        .map(|b| match b {
            Bound::Text(s) => s.clone().into(),
            Bound::TextArray(v) => v.clone().into(),
            Bound::Integer(i) => (*i).into(),
        })
        .collect()
}

/// A timestamp as ISO text in UTC, whatever the session's DateStyle.
fn ts_text(ts: Option<pgrx::datum::TimestampWithTimeZone>) -> Result<Option<String>, ApiError> {
    match ts {
        None => Ok(None),
        Some(t) => {
            Ok(crate::spi_read::one::<String>("SELECT to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'", &[t.into()])?)
        }
    }
}

/// The value of one metric for the session's tenant: over all its rows, or those whose time field is in
/// [date_from, date_to); `params` override the metric's parameter defaults. It is the one-metric spec
/// `{"metrics": [{"name", "params"}], "date_range": {"from", "to"}}`, compiled like any other (deprecated
/// metrics included).
#[pg_extern(volatile, schema = "analytics", name = "analytics_metric_value")]
#[search_path(pg_catalog, pg_temp)]
fn metric_value(
    name: Option<&str>,
    params: default!(Option<JsonbText>, "'{}'"),
    date_from: default!(Option<TimestampWithTimeZone>, "NULL"),
    date_to: default!(Option<TimestampWithTimeZone>, "NULL"),
) -> Result<Option<AnyNumeric>, ErrorReport> {
    Ok(value_of(name, params.as_ref().map(JsonbText::as_str), date_from, date_to)?)
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics.analytics_metric_value(text, jsonb, timestamptz, timestamptz) IS
  'The value of one metric for the session''s tenant, over all its rows or those whose time field is in [date_from, date_to); params (jsonb) override parameter defaults, e.g. analytics_metric_value(''stuck_count'', ''{"days": 3}''). Runs as the caller under row-level security.';
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_metric_value(text,jsonb,timestamptz,timestamptz)', 'EXECUTE');
"#,
    name = "metric_value_sql",
    requires = [metric_value, "security"]
);

/// 0.1.0's `analytics._analytics_metric_value(text, text, timestamptz, timestamptz)` until ALTER
/// EXTENSION UPDATE (the C symbol its SQL names stays; 0.2.0's SQL does not declare it).
#[pg_extern(volatile, sql = false)]
fn analytics_metric_value(
    name: Option<&str>,
    params: Option<&str>,
    date_from: Option<TimestampWithTimeZone>,
    date_to: Option<TimestampWithTimeZone>,
) -> Option<AnyNumeric> {
    crate::search_path::pinned(|| value_of(name, params, date_from, date_to)).or_report()
}

fn value_of(
    name: Option<&str>,
    params: Option<&str>,
    date_from: Option<TimestampWithTimeZone>,
    date_to: Option<TimestampWithTimeZone>,
) -> Result<Option<AnyNumeric>, ApiError> {
    let name = name.ok_or(ApiError::NullArgument("name"))?;
    let defs: Vec<MetricDef> = load_catalog()?.into_iter().filter_map(|(d, _, _)| d.ok()).collect();
    if !defs.iter().any(|d| d.name == name) {
        return Err(unknown_metric(name));
    }
    let params = args::parse(params).map_err(|e| invalid("invalid params", &[e]))?.unwrap_or(Value::Null);
    let mut spec = json!({"metrics": [{"name": name, "params": params}]});
    let (from, to) = (ts_text(date_from)?, ts_text(date_to)?);
    if from.is_some() || to.is_some() {
        spec["date_range"] = json!({"from": from, "to": to});
    }
    let parsed = analytics_core::spec::parse(&spec, &defs).map_err(ApiError::InvalidSpec)?;
    let tenant = crate::gucs::tenant_id().unwrap_or_default();
    let c = analytics_core::spec::compile(&parsed, &defs, &tenant).map_err(ApiError::Internal)?;
    let sql = format!("SELECT (v.\"{}\")::numeric FROM ({}) AS v", parsed.metrics[0].alias, c.sql);
    Ok(crate::jit::scoped(|| crate::spi_read::one::<pgrx::AnyNumeric>(&sql, &datums(&c.params)))?)
}
