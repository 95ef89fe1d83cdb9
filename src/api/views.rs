//! Specs published as views for BI tools: `analytics_create_view(name, spec, replace)` and
//! `analytics_drop_view(name)`. A view cannot take parameters, so the compiled query's values become
//! literals quoted by PostgreSQL's own quote_literal, the tenant becomes `analytics.current_tenant()`
//! (the querying session's tenant) and `now` stays `now()` (evaluated when the view is read).

use crate::api::spec::{active_catalog, parse_spec};
use crate::error::{ApiError, OrReport};
use crate::jsonb_arg::JsonbText;
use analytics_core::catalog::is_identifier;
use analytics_core::catalog::params::Bound;
use analytics_core::spec::compile;
use analytics_core::suggest::did_you_mean;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::spi::{quote_identifier, quote_literal};
use pgrx::JsonB;
use serde_json::{json, Value};

/// The compiled query with every `$n` replaced by a literal (tenant: the session's), in one pass so an
/// inserted literal is never scanned again.
fn inline(sql: &str, params: &[Bound]) -> String {
    let literal = |n: usize| -> String {
        match params.get(n.wrapping_sub(1)) {
            _ if n == 1 => "analytics.current_tenant()".to_string(),
            Some(Bound::Text(s)) if s == "now" => "now()".to_string(),
            Some(Bound::Text(s)) => quote_literal(s),
            Some(Bound::TextArray(v)) => format!("ARRAY[{}]::text[]", v.iter().map(quote_literal).collect::<Vec<_>>().join(", ")),
            Some(Bound::Integer(i)) => i.to_string(),
            None => "NULL".to_string(),
        }
    };
    let mut out = String::with_capacity(sql.len() + 64);
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|(_, d)| d.is_ascii_digit()) {
            let mut n = 0usize;
            while let Some((_, d)) = chars.peek().copied().filter(|(_, d)| d.is_ascii_digit()) {
                n = n * 10 + d.to_digit(10).unwrap_or(0) as usize;
                chars.next();
            }
            out.push('(');
            out.push_str(&literal(n));
            out.push(')');
        } else {
            out.push(c);
        }
    }
    out
}

fn invalid_name(name: &str) -> ApiError {
    ApiError::InvalidArgument {
        message: format!("invalid view name \"{}\"", name.chars().take(70).collect::<String>()),
        detail: None,
        hint: Some("A view name is snake_case: a lower-case letter, then letters, digits or _ (at most 63).".into()),
    }
}

/// Publishes a spec as the view analytics_views.<name>. Returns {"view", "columns", "spec_hash", "replaced"}.
#[pg_extern(volatile, schema = "analytics", name = "analytics_create_view")]
#[search_path(pg_catalog, pg_temp)]
fn create_view(name: Option<&str>, spec: Option<JsonbText>, replace: default!(Option<bool>, false)) -> Result<JsonB, ErrorReport> {
    Ok(JsonB(publish(name, spec.as_ref().map(JsonbText::as_str), replace.unwrap_or(false))?))
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics.analytics_create_view(text, jsonb, boolean) IS
  'Publish an AnalyticsSpec as the view analytics_views.<name> for BI tools: it shows whoever queries it their own tenant (analytics.tenant_id) under row-level security; relative periods follow the clock. replace => true replaces an existing one. Admin access.';
REVOKE ALL ON FUNCTION analytics.analytics_create_view(text, jsonb, boolean) FROM PUBLIC;
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('admin', 'function', 'analytics.analytics_create_view(text,jsonb,boolean)', 'EXECUTE');
"#,
    name = "create_view_sql",
    requires = [create_view, "security"]
);

/// 0.1.0's `analytics._analytics_create_view(text, text, boolean)` until ALTER EXTENSION UPDATE (the C
/// symbol its SQL names stays; 0.2.0's SQL does not declare it).
#[pg_extern(volatile, sql = false)]
fn analytics_create_view(name: Option<&str>, spec: Option<&str>, replace: Option<bool>) -> JsonB {
    crate::search_path::pinned(|| publish(name, spec, replace.unwrap_or(false))).map(JsonB).or_report()
}

fn publish(name: Option<&str>, spec: Option<&str>, replace: bool) -> Result<Value, ApiError> {
    crate::spi_read::ensure_writable("analytics_create_view()")?;
    let name = name.ok_or(ApiError::NullArgument("name"))?;
    if !is_identifier(name) {
        return Err(invalid_name(name));
    }
    let catalog = active_catalog()?;
    let catalog = &catalog.active;
    let mut spec = parse_spec(spec, catalog)?;
    crate::api::search::resolve(&mut spec)?;
    let c = compile(&spec, catalog, "").map_err(ApiError::Internal)?;
    let exists = Spi::get_one_with_args::<bool>(
        "SELECT EXISTS (SELECT FROM pg_class WHERE relnamespace = 'analytics_views'::regnamespace AND relname = $1)",
        &[name.into()],
    )?
    .unwrap_or(false);
    if exists && !replace {
        return Err(ApiError::Exists(format!("analytics_views.{name}")));
    }
    let qualified = format!("analytics_views.{}", quote_identifier(name));
    if exists {
        Spi::run(&format!("DROP VIEW {qualified}"))?;
    }
    Spi::run(&format!("CREATE VIEW {qualified} WITH (security_invoker = true) AS {}", inline(&c.sql, &c.params)))?;
    let canonical = spec.canonical();
    Spi::run(&format!(
        "COMMENT ON VIEW {qualified} IS {}",
        quote_literal(format!("AnalyticsSpec view (agile_analytics); shows the querying session's tenant. Spec: {canonical}"))
    ))?;
    Spi::run(&format!("GRANT SELECT ON {qualified} TO PUBLIC"))?;
    Spi::run_with_args(
        "INSERT INTO analytics.spec_views AS v (name, spec, spec_hash) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, spec_hash = excluded.spec_hash,
             created_by = current_user, created_at = now()",
        &[name.into(), JsonB(canonical).into(), spec.hash().into()],
    )?;
    Ok(json!({"view": format!("analytics_views.{name}"), "columns": c.columns, "spec_hash": spec.hash(), "replaced": exists}))
}

/// Drops a view made by analytics_create_view. Returns true.
#[pg_extern(volatile, schema = "analytics")]
#[search_path(pg_catalog, pg_temp)]
fn analytics_drop_view(name: Option<&str>) -> Result<bool, ErrorReport> {
    Ok(drop_view(name)?)
}

fn drop_view(name: Option<&str>) -> Result<bool, ApiError> {
    crate::spi_read::ensure_writable("analytics_drop_view()")?;
    let name = name.ok_or(ApiError::NullArgument("name"))?;
    let known = Spi::get_one_with_args::<bool>("SELECT EXISTS (SELECT FROM analytics.spec_views WHERE name = $1)", &[name.into()])?
        .unwrap_or(false);
    if !known {
        let names: Vec<String> =
            Spi::get_one::<Vec<String>>("SELECT array_agg(name ORDER BY name) FROM analytics.spec_views")?.unwrap_or_default();
        return Err(ApiError::UnknownView { name: name.to_string(), suggestions: did_you_mean(name, names.iter().map(String::as_str), 3) });
    }
    Spi::run(&format!("DROP VIEW IF EXISTS analytics_views.{}", quote_identifier(name)))?;
    Spi::run_with_args("DELETE FROM analytics.spec_views WHERE name = $1", &[name.into()])?;
    Ok(true)
}
