//! The AnalyticsSpec SQL API: validate, compile, run (with a statement timeout), stream rows, explain.
//! Parsing and compilation are in `analytics_core::spec`; this is the glue that loads the active
//! catalog, binds the parameters and runs the query as the caller (row-level security applies).

use crate::api::catalog::datums;
use crate::catalog_cache::{self, Catalog};
use crate::error::{ApiError, OrReport};
use crate::jsonb_arg::JsonbText;
use crate::{cache, gucs, jit, spi_read, timeout};
use analytics_core::catalog::params::Bound;
use analytics_core::catalog::MetricDef;
use analytics_core::json_arg as args;
use analytics_core::memo::Memo;
use analytics_core::spec::{compile_from, parse, parse_with_limit, Compiled, Spec, SpecError, SprintSource, JOB_MAX_LIMIT};
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::{JsonB, PgSqlErrorCode};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::time::Instant;

/// The active metric definitions (this backend's cached copy).
pub(crate) fn active_catalog() -> Result<Rc<Catalog>, ApiError> {
    catalog_cache::get()
}

/// The spec argument (jsonb as text) as JSON; NULL and over-deep documents are errors.
pub(crate) fn spec_json(spec: Option<&str>) -> Result<Value, ApiError> {
    match args::parse(spec) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(ApiError::NullArgument("spec")),
        Err(message) => Err(ApiError::InvalidSpec(vec![SpecError {
            path: "$".into(),
            code: "too_deep",
            message,
            hint: Some("A spec is a flat object: see analytics_validate() for its shape.".into()),
            suggestions: vec![],
        }])),
    }
}

pub(crate) fn parse_spec(spec: Option<&str>, catalog: &[MetricDef]) -> Result<Spec, ApiError> {
    parse(&spec_json(spec)?, catalog).map_err(ApiError::InvalidSpec)
}

/// [`parse_spec`] for a spec run as an async job: its limit may be up to JOB_MAX_LIMIT rows.
pub(crate) fn parse_job_spec(spec: Option<&str>, catalog: &[MetricDef]) -> Result<Spec, ApiError> {
    parse_with_limit(&spec_json(spec)?, catalog, JOB_MAX_LIMIT).map_err(ApiError::InvalidSpec)
}

/// A spec validated and compiled for one tenant and catalog version.
pub(crate) struct Prepared {
    pub spec_hash: String,
    /// The canonical spec as JSON text: what every equivalent spelling of the spec is cached under too.
    pub canonical_text: String,
    pub compiled: Compiled,
}

impl Prepared {
    /// analytics_compile's answer: {"sql", "params", "spec_hash", "columns", "metrics"}.
    pub fn answer(&self) -> Value {
        compiled_json(&self.spec_hash, &self.compiled)
    }
}

/// Per-backend memo of prepared specs, keyed by the spec's jsonb text and the tenant (the rule of
/// `analytics_core::memo`: one catalog version, at most CAP entries).
type PreparedMemo = Memo<HashMap<(String, String), Rc<Prepared>>>;
thread_local! {
    static MEMO: RefCell<PreparedMemo> = RefCell::new(Memo::default());
}

pub(crate) fn prepare(spec: Option<&str>, tenant: &str) -> Result<Rc<Prepared>, ApiError> {
    prepare_with(spec, tenant, None)
}

/// [`prepare`] for a spec its caller has parsed already (analytics_ask).
pub(crate) fn prepare_parsed(spec: &str, tenant: &str, parsed: Spec) -> Result<Rc<Prepared>, ApiError> {
    prepare_with(Some(spec), tenant, Some(parsed))
}

fn prepare_with(spec: Option<&str>, tenant: &str, parsed: Option<Spec>) -> Result<Rc<Prepared>, ApiError> {
    prepare_from(spec, tenant, parsed, SprintSource::Live)
}

fn prepare_from(spec: Option<&str>, tenant: &str, parsed: Option<Spec>, source: SprintSource) -> Result<Rc<Prepared>, ApiError> {
    let cat = active_catalog()?;
    // The materialized variant is memoized beside the live one, under the tenant with a suffix no
    // tenant id has (a control character).
    let tenant_key = match source {
        SprintSource::Live => tenant.to_string(),
        SprintSource::Stats => format!("{tenant}\u{1}stats"),
    };
    let key = (spec.unwrap_or_default().to_string(), tenant_key);
    if let Some(p) = MEMO.with(|m| m.borrow().get(&cat.version).and_then(|e| e.get(&key)).cloned()) {
        return Ok(p);
    }
    let mut parsed = match parsed {
        Some(p) => p,
        None => parse_spec(spec, &cat.active)?,
    };
    crate::api::search::resolve(&mut parsed)?;
    let compiled = compile_from(&parsed, &cat.active, tenant, source).map_err(ApiError::Internal)?;
    let canonical_text = parsed.canonical().to_string();
    let prepared = Rc::new(Prepared { spec_hash: parsed.hash(), canonical_text, compiled });
    MEMO.with(|m| m.borrow_mut().room(&cat.version).insert(key, prepared.clone()));
    Ok(prepared)
}

/// Where a spec is answered from: for a spec that reads sprint statistics, the tenant's materialized
/// statistics while they are fresh (analytics._stats_fresh; analytics.stats_routing on), else live.
pub(crate) struct Routed {
    /// The materialized variant and the time of the refresh it reads, when routed.
    stats: Option<(Rc<Prepared>, String)>,
    reads_sprint_stats: bool,
}

impl Routed {
    pub fn compiled<'a>(&'a self, live: &'a Prepared) -> &'a Compiled {
        self.stats.as_ref().map_or(&live.compiled, |(p, _)| &p.compiled)
    }
    /// The answer's "source" (None for specs that read no sprint statistics).
    pub fn source(&self) -> Option<Value> {
        match (&self.stats, self.reads_sprint_stats) {
            (Some((_, at)), _) => Some(json!({"sprint_stats": "materialized", "refreshed_at": at})),
            (None, true) => Some(json!({"sprint_stats": "live"})),
            (None, false) => None,
        }
    }
}

pub(crate) fn route(spec: &str, tenant: &str, live: &Prepared) -> Result<Routed, ApiError> {
    let reads_sprint_stats = live.compiled.reads_sprint_stats;
    if !reads_sprint_stats || !gucs::stats_routing() {
        return Ok(Routed { stats: None, reads_sprint_stats });
    }
    let Some(at) = spi_read::one::<String>("SELECT analytics._stats_fresh()::text", &[])? else {
        return Ok(Routed { stats: None, reads_sprint_stats });
    };
    Ok(Routed { stats: Some((prepare_from(Some(spec), tenant, None, SprintSource::Stats)?, at)), reads_sprint_stats })
}

/// The session's tenant; 42501 with a HINT when none is set.
pub(crate) fn tenant() -> Result<String, ApiError> {
    gucs::tenant_id().ok_or(ApiError::NoTenant)
}

fn params_json(params: &[Bound]) -> Value {
    Value::Array(
        params
            .iter()
            .map(|b| match b {
                Bound::Text(s) => json!(s),
                Bound::TextArray(v) => json!(v),
                Bound::Integer(i) => json!(i),
            })
            .collect(),
    )
}

fn compiled_json(spec_hash: &str, c: &Compiled) -> Value {
    json!({
        "sql": c.sql,
        "params": params_json(&c.params),
        "spec_hash": spec_hash,
        "columns": c.columns,
        "metrics": c.metrics,
    })
}

/// Every problem of a spec: {"valid": bool, "errors": [{"path", "code", "message", "hint", "suggestions"}]}.
#[pg_extern(stable, schema = "analytics", name = "analytics_validate")]
#[search_path(pg_catalog, pg_temp)]
fn validate(spec: Option<JsonbText>) -> Result<JsonB, ErrorReport> {
    Ok(JsonB(validation(spec.as_ref().map(JsonbText::as_str))?))
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics.analytics_validate(jsonb) IS
  'Validate an AnalyticsSpec against the catalog and the dimension whitelist: {"valid", "errors": [{"path", "code", "message", "hint", "suggestions"}]}, every problem at once.';
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_validate(jsonb)', 'EXECUTE');
"#,
    name = "validate_sql",
    requires = [validate, "security"]
);

/// 0.1.0's `analytics._analytics_validate(text)`, which its SQL wrapper calls, until ALTER EXTENSION
/// UPDATE (C symbol `analytics_validate_wrapper`; 0.2.0's SQL does not declare it).
#[pg_extern(stable, sql = false)]
fn analytics_validate(spec: Option<&str>) -> JsonB {
    crate::search_path::pinned(|| validation(spec)).map(JsonB).or_report()
}

fn validation(spec: Option<&str>) -> Result<Value, ApiError> {
    let catalog = active_catalog()?;
    let catalog = &catalog.active;
    let spec = match spec_json(spec) {
        Ok(v) => v,
        Err(ApiError::InvalidSpec(errors)) => return Ok(json!({"valid": false, "errors": errors})),
        Err(e) => return Err(e),
    };
    Ok(match parse(&spec, catalog) {
        Ok(_) => json!({"valid": true, "errors": []}),
        Err(errors) => json!({"valid": false, "errors": errors}),
    })
}

/// Runs a compiled query under analytics.statement_timeout (and without JIT unless analytics.jit).
/// Returns its rows as JSON text (an array of objects), their count, and the time taken in ms.
pub(crate) fn execute(c: &Compiled) -> Result<(String, i64, f64), ApiError> {
    let wrapped = format!("SELECT coalesce(json_agg(q)::text, '[]'), count(*) FROM ({}) AS q", c.sql);
    let args = datums(&c.params);
    let limit_ms = gucs::statement_timeout();
    // A spec with similar_to reads the shared HNSW index: iterative scans keep k rows per tenant.
    let scoped =
        c.sql.contains("analytics.issue_embeddings").then(|| crate::search_path::scoped_setting(c"hnsw.iterative_scan", c"strict_order"));
    let armed = timeout::arm(limit_ms);
    let started = Instant::now();
    let (rows, count) = jit::scoped(|| {
        PgTryBuilder::new(AssertUnwindSafe(|| spi_read::two::<String, i64>(&wrapped, &args)))
            .catch_when(PgSqlErrorCode::ERRCODE_QUERY_CANCELED, |cause| {
                timeout::disarm(armed);
                let by_timer =
                    matches!(ApiError::caught(&cause), ApiError::Postgres { message, .. } if message.contains("statement timeout"));
                if armed && by_timer {
                    ApiError::Timeout(limit_ms).report()
                }
                cause.rethrow()
            })
            .finally(|| timeout::disarm(armed))
            .execute()
    })?;
    if let Some(level) = scoped {
        crate::search_path::end_scope(level);
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok((rows.unwrap_or_else(|| "[]".into()), count.unwrap_or(0), (ms * 1000.0).round() / 1000.0))
}

/// analytics_run's Rust half, called when its SQL fast path (the cache, by the spec's jsonb text)
/// missed: the answer as JSON text, {"columns", "rows", "row_count", "query_ms", "cached", "spec_hash",
/// "sql", "tenant_id", "metrics"}.
#[pg_extern(volatile, schema = "analytics", name = "_analytics_run")]
#[search_path(pg_catalog, pg_temp)]
fn analytics_run(spec: Option<&str>) -> Result<String, ErrorReport> {
    let tenant = tenant()?;
    let prepared = prepare(spec, &tenant)?;
    Ok(run_missed(spec.unwrap_or_default(), &tenant, &prepared, cache::open()?.as_ref())?)
}

/// A run job's answer as JSON text (numbers as PostgreSQL wrote them): the spec (whose limit may be up
/// to JOB_MAX_LIMIT) run for the tenant through the cache as analytics_run runs it; `progress` hears
/// each stage.
pub(crate) fn run_job(spec_text: &str, tenant: &str, progress: &dyn Fn(f32, &str)) -> Result<String, ApiError> {
    let text = through_cache(spec_text, |cache| {
        progress(0.05, "compiling");
        let parsed = parse_job_spec(Some(spec_text), &active_catalog()?.active)?;
        let prepared = prepare_parsed(spec_text, tenant, parsed)?;
        progress(0.1, "querying");
        run_missed(spec_text, tenant, &prepared, cache)
    })?;
    progress(0.95, "storing");
    Ok(text)
}

/// A spec's answer as JSON text: the cache's entry for its text, else what `missed` computes.
fn through_cache(spec_text: &str, missed: impl FnOnce(Option<&cache::Cache>) -> Result<String, ApiError>) -> Result<String, ApiError> {
    let cache = cache::open()?;
    let hit = match &cache {
        Some(c) => c.lookup(spec_text)?,
        None => None,
    };
    match hit {
        Some(hit) => Ok(hit),
        None => missed(cache.as_ref()),
    }
}

/// A spec's answer for the tenant as JSON, through the cache as analytics_run answers (for
/// analytics_ask and analytics_eval, which run specs without going back through SQL).
pub(crate) fn run_spec(spec_text: &str, tenant: &str) -> Result<Value, ApiError> {
    let text = through_cache(spec_text, |cache| run_missed(spec_text, tenant, &*prepare(Some(spec_text), tenant)?, cache))?;
    serde_json::from_str(&text).map_err(|e| ApiError::Internal(format!("analytics_run result: {e}")))
}

/// A spec whose text was not found in the cache: an equivalent spelling's valid entry is served (and
/// filed under this spelling too, for the SQL fast path next time); else the query runs, and its
/// result is stored under both spellings.
fn run_missed(spec_text: &str, tenant: &str, prepared: &Prepared, cache: Option<&cache::Cache>) -> Result<String, ApiError> {
    let canonical = prepared.canonical_text.as_str();
    let slot = match cache {
        Some(c) => {
            if canonical != spec_text {
                if let Some(hit) = c.lookup(canonical)? {
                    c.alias(tenant, canonical, spec_text)?;
                    return Ok(hit);
                }
            }
            let mut texts = vec![spec_text.to_string()];
            if canonical != spec_text {
                texts.push(canonical.to_string());
            }
            c.slot(tenant, texts, &prepared.spec_hash)?
        }
        None => None,
    };
    let routed = route(spec_text, tenant, prepared)?;
    let c = routed.compiled(prepared);
    let (rows, count, ms) = execute(c)?;
    let mut head = json!({
        "columns": &c.columns,
        "row_count": count,
        "query_ms": ms,
        "cached": false,
        "spec_hash": &prepared.spec_hash,
        "sql": &c.sql,
        "tenant_id": tenant,
        "metrics": &c.metrics,
    });
    if let Some(source) = routed.source() {
        head["source"] = source;
    }
    let head = head.to_string();
    let result = format!("{{\"rows\":{rows},{}", &head[1..]);
    if let Some(slot) = slot {
        cache::store(&slot, &result)?;
    }
    Ok(result)
}

/// The rows of a spec, one jsonb object per row, for clients that stream.
#[pg_extern(volatile, schema = "analytics", name = "analytics_rows")]
#[search_path(pg_catalog, pg_temp)]
fn rows(spec: Option<JsonbText>) -> Result<SetOfIterator<'static, JsonB>, ErrorReport> {
    Ok(rows_of(spec.as_ref().map(JsonbText::as_str))?)
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics.analytics_rows(jsonb) IS
  'The rows of an AnalyticsSpec, one jsonb object per row, for clients that stream.';
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_rows(jsonb)', 'EXECUTE');
"#,
    name = "rows_sql",
    requires = [rows, "security"]
);

/// 0.1.0's `analytics._analytics_rows(text)` until ALTER EXTENSION UPDATE (see [`analytics_validate`]).
#[pg_extern(volatile, sql = false)]
fn analytics_rows(spec: Option<&str>) -> SetOfIterator<'static, JsonB> {
    crate::search_path::pinned(|| rows_of(spec)).or_report()
}

fn rows_of(spec: Option<&str>) -> Result<SetOfIterator<'static, JsonB>, ApiError> {
    let tenant = tenant()?;
    let prepared = prepare(spec, &tenant)?;
    let routed = route(spec.unwrap_or_default(), &tenant, &prepared)?;
    let text = execute(routed.compiled(&prepared))?.0;
    let rows = serde_json::from_str::<Value>(&text).map_err(|e| ApiError::Internal(e.to_string()))?;
    let items: Vec<JsonB> = match rows {
        Value::Array(a) => a.into_iter().map(JsonB).collect(),
        _ => vec![],
    };
    Ok(SetOfIterator::new(items))
}

/// Everything about how a spec is answered: the canonical spec and its hash, the SQL and parameters,
/// the metric definitions with versions, the tenant scope, and PostgreSQL's plan.
#[pg_extern(volatile, schema = "analytics", name = "analytics_explain")]
#[search_path(pg_catalog, pg_temp)]
fn explain(spec: Option<JsonbText>) -> Result<JsonB, ErrorReport> {
    Ok(JsonB(explanation(spec.as_ref().map(JsonbText::as_str))?))
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics.analytics_explain(jsonb) IS
  'How an AnalyticsSpec is answered: canonical spec and hash, SQL and parameters, metric definitions with versions, the tenant scope and the PostgreSQL plan.';
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_explain(jsonb)', 'EXECUTE');
"#,
    name = "explain_sql",
    requires = [explain, "security"]
);

/// 0.1.0's `analytics._analytics_explain(text)` until ALTER EXTENSION UPDATE (see [`analytics_validate`]).
#[pg_extern(volatile, sql = false)]
fn analytics_explain(spec: Option<&str>) -> JsonB {
    crate::search_path::pinned(|| explanation(spec)).map(JsonB).or_report()
}

fn explanation(spec_text: Option<&str>) -> Result<Value, ApiError> {
    let catalog = active_catalog()?;
    let catalog = &catalog.active;
    let spec = parse_spec(spec_text, catalog)?;
    let tenant = tenant()?;
    let prepared = prepare(spec_text, &tenant)?;
    let routed = route(spec_text.unwrap_or_default(), &tenant, &prepared)?;
    let c = routed.compiled(&prepared);
    // The plan the query runs with: without JIT unless analytics.jit.
    let plan = jit::scoped(|| spi_read::explain(&c.sql, &datums(&c.params)))?.ok_or_else(|| ApiError::Internal("no plan".into()))?;
    let definitions: Vec<Value> = c
        .metrics
        .iter()
        .filter_map(|m| catalog.iter().find(|d| d.name == m.name))
        .map(|d| serde_json::to_value(d).unwrap_or(Value::Null))
        .collect();
    let mut out = compiled_json(&spec.hash(), c);
    out["spec"] = spec.canonical();
    out["definitions"] = Value::Array(definitions);
    out["tenant_id"] = json!(tenant);
    out["tenant_scope"] = json!(format!(
        "rows of tenant {tenant} only: the query filters tenant_id = $1 and runs as {} under row-level security",
        "the calling role"
    ));
    out["plan"] = serde_json::to_value(plan.0).unwrap_or(Value::Null);
    if let Some(source) = routed.source() {
        out["source"] = source;
    }
    Ok(out)
}
