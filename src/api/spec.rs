//! The AnalyticsSpec SQL API: validate, compile, run (with a statement timeout), stream rows, explain.
//! Parsing and compilation are in `analytics_core::spec`; this is the glue that loads the active
//! catalog, binds the parameters and runs the query as the caller (row-level security applies).

use crate::api::catalog::datums;
use crate::catalog_cache::{self, Catalog};
use crate::error::{ApiError, OrReport};
use crate::{cache, gucs, jit, spi_read, timeout};
use analytics_core::catalog::params::Bound;
use analytics_core::catalog::MetricDef;
use analytics_core::json_arg as args;
use analytics_core::memo::Memo;
use analytics_core::spec::{compile, parse, Compiled, Spec, SpecError};
use pgrx::pgrx_sql_entity_graph::metadata as sql_meta;
use pgrx::prelude::*;
use pgrx::{JsonB, PgSqlErrorCode};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::rc::{Rc, Weak};
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

/// A spec validated and compiled for one tenant and catalog version.
pub(crate) struct Prepared {
    pub spec_hash: String,
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
    let cat = active_catalog()?;
    let key = (spec.unwrap_or_default().to_string(), tenant.to_string());
    if let Some(p) = MEMO.with(|m| m.borrow().get(&cat.version).and_then(|e| e.get(&key)).cloned()) {
        return Ok(p);
    }
    let parsed = parse_spec(spec, &cat.active)?;
    let compiled = compile(&parsed, &cat.active, tenant).map_err(ApiError::Internal)?;
    let prepared = Rc::new(Prepared { spec_hash: parsed.hash(), compiled });
    MEMO.with(|m| m.borrow_mut().room(&cat.version).insert(key, prepared.clone()));
    Ok(prepared)
}

fn tenant() -> Result<String, ApiError> {
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
#[pg_extern(stable, schema = "analytics", name = "_analytics_validate")]
#[search_path(pg_catalog, pg_temp)]
fn analytics_validate(spec: Option<&str>) -> JsonB {
    (|| {
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
    })()
    .map(JsonB)
    .or_report()
}

/// The SQL a spec compiles to, with its parameters: {"sql", "params", "spec_hash", "columns", "metrics"}.
/// Without a tenant in the session the tenant parameter is '' (the query would return nothing).
/// This is analytics_compile(jsonb) itself: jsonb in, jsonb out, without text round trips. The argument
/// arrives as the bytes of its jsonb value and the answer leaves as the bytes of a jsonb value (the SQL
/// declaration in sql/900_functions.sql says jsonb for both; the bytes are only ever what jsonb_in
/// produced). A per-backend memo keyed by tenant and the argument's bytes keeps each answer's jsonb
/// bytes, so a repeated compile neither prints, parses nor converts JSON.
#[pg_extern(stable, sql = false)]
fn analytics_compile(spec: Option<&[u8]>) -> JsonbDatum {
    compile_memoized(spec, ArgKind::Jsonb).or_report()
}

/// analytics_compile(text): the same answer for a spec written as text, which is what a string literal
/// such as analytics_compile('{"metrics": ["closed"]}') resolves to. A repeated call is answered from
/// the memo by the text's bytes, without parsing it into jsonb first; a new one goes through jsonb_in,
/// so the text is read exactly as a jsonb argument would be (duplicate keys, errors, SQLSTATEs).
#[pg_extern(stable, sql = false)]
fn analytics_compile_text(spec: Option<&[u8]>) -> JsonbDatum {
    compile_memoized(spec, ArgKind::Text).or_report()
}

/// A jsonb datum made in the call's memory context, returned as it is (no copy on the way out).
struct JsonbDatum(pg_sys::Datum);

// SAFETY: the datum is a palloc'd jsonb varlena in the current (the call's) memory context, which is
// what a function returning jsonb hands back.
unsafe impl pgrx::callconv::BoxRet for JsonbDatum {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut pgrx::callconv::FcInfo<'fcx>) -> pgrx::datum::Datum<'fcx> {
        unsafe { fcinfo.return_raw_datum(self.0) }
    }
}

// SAFETY: JsonbDatum is a jsonb value, in SQL as in JsonB's own mapping.
unsafe impl sql_meta::SqlTranslatable for JsonbDatum {
    const TYPE_IDENT: &'static str = concat!(module_path!(), "::JsonbDatum");
    const TYPE_ORIGIN: sql_meta::TypeOrigin = sql_meta::TypeOrigin::External;
    const ARGUMENT_SQL: Result<sql_meta::SqlMappingRef, sql_meta::ArgumentError> = Ok(sql_meta::SqlMappingRef::literal("jsonb"));
    const RETURN_SQL: Result<sql_meta::ReturnsRef, sql_meta::ReturnsError> =
        Ok(sql_meta::ReturnsRef::One(sql_meta::SqlMappingRef::literal("jsonb")));
}

/// What the argument bytes of analytics_compile are (each has its own memo).
#[derive(Clone, Copy)]
enum ArgKind {
    Jsonb = 0,
    Text = 1,
}

fn compile_memoized(spec: Option<&[u8]>, kind: ArgKind) -> Result<JsonbDatum, ApiError> {
    let Some(bytes) = spec else { return Err(ApiError::NullArgument("spec")) };
    if let Some(answer) = last_answer(bytes, kind) {
        return Ok(answer);
    }
    let tenant = gucs::tenant_id().unwrap_or_default();
    let cat = active_catalog()?;
    // A hit is copied straight from the memo into the palloc'd jsonb datum we return.
    let hit = JSONB_MEMO.with(|m| {
        let m = m.borrow();
        let answer = m.get(&cat.version)?.get(&tenant)?[kind as usize].get(bytes)?;
        remember(kind, &cat, &tenant, bytes, answer);
        answer.as_slice().into_datum().map(JsonbDatum)
    });
    if let Some(answer) = hit {
        return Ok(answer);
    }
    let text = match kind {
        ArgKind::Jsonb => jsonb_text(bytes),
        ArgKind::Text => {
            let text = std::ffi::CString::new(bytes).map_err(|_| ApiError::Internal("NUL in text".into()))?;
            // SAFETY: jsonb_in takes a C string and returns a palloc'd jsonb datum that lives to the call's
            // end. Its errors (22P02 and the like) are passed on as they are, as for a jsonb argument.
            let arg = pg_sys::Datum::from(text.as_ptr());
            let parsed = PgTryBuilder::new(|| Ok(unsafe { pgrx::direct_function_call::<&[u8]>(pg_sys::jsonb_in, &[Some(arg)]) }))
                .catch_others(|e| Err(ApiError::caught(&e)))
                .execute()?
                .ok_or_else(|| ApiError::Internal("jsonb".into()))?;
            jsonb_text(parsed)
        }
    };
    let prepared = prepare(Some(&text), &tenant)?;
    // jsonb_in of the answer, once; its bytes are what we return from now on.
    let datum = JsonB(prepared.answer()).into_datum().ok_or_else(|| ApiError::Internal("jsonb".into()))?;
    let answer: Vec<u8> =
        unsafe { <&[u8] as FromDatum>::from_datum(datum, false) }.ok_or_else(|| ApiError::Internal("jsonb".into()))?.to_vec();
    remember(kind, &cat, &tenant, bytes, &answer);
    JSONB_MEMO.with(|m| m.borrow_mut().room(&cat.version).entry(tenant).or_default()[kind as usize].insert(bytes.to_vec(), answer));
    Ok(JsonbDatum(datum))
}

/// The last answer given for each ArgKind, checked before the memo: a repeated call (a dashboard or a
/// benchmark asking the same spec again) is answered by comparing bytes, with no hashing or allocation.
/// It holds the catalog it was made under by a Weak, so that allocation's address stays its own.
struct LastAnswer {
    catalog: Weak<Catalog>,
    tenant: Vec<u8>,
    arg: Vec<u8>,
    answer: Vec<u8>,
}

thread_local! {
    static LAST: RefCell<[Option<LastAnswer>; 2]> = const { RefCell::new([None, None]) };
}

fn last_answer(arg: &[u8], kind: ArgKind) -> Option<JsonbDatum> {
    LAST.with(|l| {
        let l = l.borrow();
        let last = l[kind as usize].as_ref().filter(|last| last.arg == arg)?;
        let same_catalog = catalog_cache::with_loaded(|c| c.is_some_and(|c| std::ptr::eq(Rc::as_ptr(c), last.catalog.as_ptr())));
        if !same_catalog || !gucs::with_tenant_bytes(|t| t == last.tenant) {
            return None;
        }
        last.answer.as_slice().into_datum().map(JsonbDatum)
    })
}

fn remember(kind: ArgKind, catalog: &Rc<Catalog>, tenant: &str, arg: &[u8], answer: &[u8]) {
    let last =
        LastAnswer { catalog: Rc::downgrade(catalog), tenant: tenant.as_bytes().to_vec(), arg: arg.to_vec(), answer: answer.to_vec() };
    LAST.with(|l| l.borrow_mut()[kind as usize] = Some(last));
}

/// The text of a jsonb value's bytes (a JsonbContainer), printed as jsonb_out does.
fn jsonb_text(bytes: &[u8]) -> String {
    // SAFETY: the bytes are a jsonb value's (the SQL declaration or jsonb_in made them), copied to an
    // 8-byte aligned buffer (a short-header datum's bytes may be unaligned); JsonbToCString prints it
    // into a palloc'd string.
    let mut aligned = vec![0u64; bytes.len().div_ceil(8)];
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), aligned.as_mut_ptr().cast::<u8>(), bytes.len());
        let c = pg_sys::JsonbToCString(std::ptr::null_mut(), aligned.as_mut_ptr().cast::<pg_sys::JsonbContainer>(), bytes.len() as i32);
        std::ffi::CStr::from_ptr(c).to_string_lossy().into_owned()
    }
}

/// analytics_compile's answers (jsonb bytes), by tenant, then by the argument's bytes for each ArgKind
/// (the rule of `analytics_core::memo`, like the memo of prepared specs).
type JsonbMemo = Memo<HashMap<String, [HashMap<Vec<u8>, Vec<u8>>; 2]>>;
thread_local! {
    static JSONB_MEMO: RefCell<JsonbMemo> = RefCell::new(Memo::default());
}

/// Runs a compiled query under analytics.statement_timeout (and without JIT unless analytics.jit).
/// Returns its rows as JSON text (an array of objects), their count, and the time taken in ms.
pub(crate) fn execute(c: &Compiled) -> Result<(String, i64, f64), ApiError> {
    let wrapped = format!("SELECT coalesce(json_agg(q)::text, '[]'), count(*) FROM ({}) AS q", c.sql);
    let args = datums(&c.params);
    let limit_ms = gucs::statement_timeout();
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
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok((rows.unwrap_or_else(|| "[]".into()), count.unwrap_or(0), (ms * 1000.0).round() / 1000.0))
}

/// Runs a spec for the session's tenant and returns the result as JSON text: {"columns", "rows",
/// "row_count", "query_ms", "cached", "spec_hash", "sql", "tenant_id", "metrics"}. The SQL function
/// analytics_run serves cache hits itself and calls this on a miss.
#[pg_extern(volatile, schema = "analytics", name = "_analytics_run")]
#[search_path(pg_catalog, pg_temp)]
fn analytics_run(spec: Option<&str>) -> String {
    (|| {
        let tenant = tenant()?;
        let prepared = prepare(spec, &tenant)?;
        let slot = cache::slot(&tenant, spec.unwrap_or_default(), &prepared.spec_hash)?;
        let c = &prepared.compiled;
        let (rows, count, ms) = execute(c)?;
        let head = json!({
            "columns": &c.columns,
            "row_count": count,
            "query_ms": ms,
            "cached": false,
            "spec_hash": &prepared.spec_hash,
            "sql": &c.sql,
            "tenant_id": tenant,
            "metrics": &c.metrics,
        })
        .to_string();
        let result = format!("{{\"rows\":{rows},{}", &head[1..]);
        if let Some(slot) = slot {
            cache::store(&slot, &result)?;
        }
        Ok(result)
    })()
    .or_report()
}

/// The rows of a spec, one jsonb object per row, for clients that stream.
#[pg_extern(volatile, schema = "analytics", name = "_analytics_rows")]
#[search_path(pg_catalog, pg_temp)]
fn analytics_rows(spec: Option<&str>) -> SetOfIterator<'static, JsonB> {
    let rows = (|| {
        let prepared = prepare(spec, &tenant()?)?;
        let text = execute(&prepared.compiled)?.0;
        serde_json::from_str::<Value>(&text).map_err(|e| ApiError::Internal(e.to_string()))
    })()
    .or_report();
    let items: Vec<JsonB> = match rows {
        Value::Array(a) => a.into_iter().map(JsonB).collect(),
        _ => vec![],
    };
    SetOfIterator::new(items)
}

/// Everything about how a spec is answered: the canonical spec and its hash, the SQL and parameters,
/// the metric definitions with versions, the tenant scope, and PostgreSQL's plan.
#[pg_extern(volatile, schema = "analytics", name = "_analytics_explain")]
#[search_path(pg_catalog, pg_temp)]
fn analytics_explain(spec: Option<&str>) -> JsonB {
    (|| {
        let catalog = active_catalog()?;
        let catalog = &catalog.active;
        let spec = parse_spec(spec, catalog)?;
        let tenant = tenant()?;
        let c = compile(&spec, catalog, &tenant).map_err(ApiError::Internal)?;
        // The plan the query runs with: without JIT unless analytics.jit.
        let plan = jit::scoped(|| spi_read::explain(&c.sql, &datums(&c.params)))?.ok_or_else(|| ApiError::Internal("no plan".into()))?;
        let definitions: Vec<Value> = c
            .metrics
            .iter()
            .filter_map(|m| catalog.iter().find(|d| d.name == m.name))
            .map(|d| serde_json::to_value(d).unwrap_or(Value::Null))
            .collect();
        let mut out = compiled_json(&spec.hash(), &c);
        out["spec"] = spec.canonical();
        out["definitions"] = Value::Array(definitions);
        out["tenant_id"] = json!(tenant);
        out["tenant_scope"] = json!(format!(
            "rows of tenant {tenant} only: the query filters tenant_id = $1 and runs as {} under row-level security",
            "the calling role"
        ));
        out["plan"] = serde_json::to_value(plan.0).unwrap_or(Value::Null);
        Ok(out)
    })()
    .map(JsonB)
    .or_report()
}
