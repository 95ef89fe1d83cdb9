//! One attempt of a job, in one transaction: the job runs as the role that submitted it, for its
//! tenant, with the session settings it was submitted with, under `analytics.job_statement_timeout`.
//! The result and the final state are written only while the attempt's token still matches (fenced):
//! an attempt that was rescued or cancelled meanwhile writes nothing and rolls back.

use super::registry;
use super::tx::{error_json, forget_cancel, in_tx};
use crate::error::ApiError;
use crate::{gucs, search_path, timeout};
use analytics_core::jobs::{after_failure, transient_failure, AfterFailure};
use pgrx::prelude::*;
use pgrx::{JsonB, Uuid};
use serde_json::{json, Value};
use std::ffi::CString;
use std::panic::AssertUnwindSafe;

/// A job as its claim returned it.
pub struct Claimed {
    pub tenant: String,
    pub id: Uuid,
    pub kind: String,
    pub payload: String,
    pub settings: Value,
    pub submitted_by: pg_sys::Oid,
    pub attempt: i32,
    pub max_attempts: i32,
    pub token: Uuid,
}

/// Publishes a job's state when the transaction commits, unless the NOTIFY queue is half full (a
/// listener idling in a transaction holds it back): a job, a submit or a cancel never fails or waits
/// for lack of room there. The one place the `analytics_jobs` payload is made.
pub fn notify(id: &Uuid, state: &str, progress: f64, stage: &str) -> Result<(), ApiError> {
    let payload = json!({"id": id.to_string(), "state": state, "progress": progress, "stage": stage}).to_string();
    Spi::run_with_args(
        "SELECT pg_catalog.pg_notify('analytics_jobs', $1) WHERE pg_catalog.pg_notification_queue_usage() < 0.5",
        &[payload.as_str().into()],
    )?;
    Ok(())
}

/// The settings a job carries from its submitting session (`analytics_job_submit` records them).
const SETTINGS: [&str; 11] = [
    "TimeZone",
    "DateStyle",
    "IntervalStyle",
    "extra_float_digits",
    "analytics.cache_ttl",
    "analytics.jit",
    "analytics.llm_provider",
    "analytics.llm_model",
    "analytics.llm_fallback",
    "analytics.llm_timeout_ms",
    "analytics.embedding_provider",
];

fn set(name: &str, value: &str) -> Result<(), ApiError> {
    let n = CString::new(name).map_err(|_| ApiError::Internal("setting name".into()))?;
    let v = CString::new(value).map_err(|_| ApiError::Internal(format!("the value of {name} has a NUL byte")))?;
    search_path::set_in_scope(&n, &v);
    Ok(())
}

/// Runs `f` as the job's submitter (as PostgreSQL 16's SwitchToUntrustedUser does: a restricted
/// security context, a new GUC nest level with the tenant, the submitter's settings and the pinned
/// search path), under the job's statement timeout; restores the worker's identity and settings after,
/// errors included.
///
pub(super) fn as_submitter<T>(job: &Claimed, f: impl FnOnce() -> Result<T, ApiError>) -> Result<T, ApiError> {
    let (mut user, mut context) = (pg_sys::Oid::INVALID, 0);
    unsafe { pg_sys::GetUserIdAndSecContext(&mut user, &mut context) };
    let flags = pg_sys::SECURITY_LOCAL_USERID_CHANGE | pg_sys::SECURITY_RESTRICTED_OPERATION;
    let restricted = context | flags as std::ffi::c_int;
    unsafe { pg_sys::SetUserIdAndSecContext(job.submitted_by, restricted) };
    let level = unsafe { pg_sys::NewGUCNestLevel() };
    let armed = std::cell::Cell::new(false);
    let r = PgTryBuilder::new(AssertUnwindSafe(|| {
        search_path::set_in_scope(c"search_path", search_path::PINNED);
        set("analytics.tenant_id", &job.tenant)?;
        for name in SETTINGS {
            if let Some(v) = job.settings.get(name).and_then(Value::as_str) {
                set(name, v)?;
            }
        }
        armed.set(timeout::arm(gucs::job_statement_timeout()));
        f()
    }))
    .finally(|| unsafe {
        timeout::disarm(armed.get());
        pg_sys::AtEOXact_GUC(false, level);
        pg_sys::SetUserIdAndSecContext(user, context);
    })
    .execute();
    r
}

/// The attempt still owns the job and no cancel was asked for.
pub(super) fn fence(job: &Claimed, what: &str) -> Result<(), ApiError> {
    let live = Spi::get_one_with_args::<bool>(
        "SELECT NOT cancel_requested FROM analytics.jobs WHERE tenant_id = $1 AND id = $2 AND attempt_token = $3 AND state = 'running'",
        &[job.tenant.as_str().into(), job.id.into(), job.token.into()],
    )?;
    match live {
        Some(true) => Ok(()),
        Some(false) => Err(ApiError::Postgres {
            code: PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
            message: format!("canceling {what} due to user request"),
            detail: None,
            hint: None,
        }),
        None => Err(ApiError::Internal("fenced: the attempt no longer owns the job".into())),
    }
}

/// The submitter may still do what the job does: the role exists and may execute the kind's function.
pub(super) fn check_submitter(job: &Claimed) -> Result<(), ApiError> {
    let (exists, allowed) = Spi::get_two_with_args::<bool, bool>(
        "SELECT r.oid IS NOT NULL,
                CASE WHEN r.oid IS NOT NULL THEN pg_catalog.has_function_privilege(r.oid, k.function, 'EXECUTE') END
         FROM analytics.job_kinds k LEFT JOIN pg_catalog.pg_roles r ON r.oid = $1 WHERE k.kind = $2",
        &[job.submitted_by.into(), job.kind.as_str().into()],
    )?;
    match (exists, allowed) {
        (None, _) => Err(ApiError::InvalidArgument { message: format!("unknown job kind \"{}\"", job.kind), detail: None, hint: None }),
        (Some(false), _) => Err(ApiError::NotAllowed {
            message: "the role that submitted this job no longer exists".into(),
            detail: format!("role OID {}", job.submitted_by.to_u32()),
            hint: "Submit the job again as an existing role.".into(),
        }),
        (Some(true), Some(true)) => Ok(()),
        _ => Err(ApiError::NotAllowed {
            message: format!("the role that submitted this job may no longer run {} jobs", job.kind),
            detail: "Its access was revoked after it submitted the job.".into(),
            hint: "An admin gives access with analytics_grant(role, level).".into(),
        }),
    }
}

/// What the job does, as its submitter: its answer as JSON text.
fn body(job: &Claimed) -> Result<String, ApiError> {
    let report = |p: f32, stage: &str| registry::progress(p, stage);
    match job.kind.as_str() {
        "run" => crate::api::spec::run_job(&job.payload, &job.tenant, &report),
        "ask" => {
            report(0.1, "translating");
            let p: Value = serde_json::from_str(&job.payload).map_err(|e| ApiError::Internal(format!("job payload: {e}")))?;
            let options = p.get("options").map(Value::to_string);
            let answer = crate::api::ask::answer(p.get("question").and_then(Value::as_str), options.as_deref())?;
            report(0.95, "storing");
            Ok(answer.to_string())
        }
        "refresh_views" => {
            report(0.1, "refreshing");
            let p: Value = serde_json::from_str(&job.payload).map_err(|e| ApiError::Internal(format!("job payload: {e}")))?;
            let refresh = analytics_core::jobs::check_refresh(&p).map_err(|(m, _)| ApiError::Internal(format!("job payload: {m}")))?;
            let (columns, rows) = if refresh.stale_only {
                (
                    json!(["tenant_id", "view_name", "refresh_ms", "stats_rows"]),
                    Spi::get_one::<JsonB>(
                        "SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(r)), '[]') FROM analytics.analytics_refresh_stale_stats() r",
                    )?,
                )
            } else {
                (
                    json!(["view_name", "refresh_ms"]),
                    Spi::get_one_with_args::<JsonB>(
                        "SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(r)), '[]') FROM analytics.analytics_refresh_views($1) r",
                        &[refresh.concurrently.into()],
                    )?,
                )
            };
            let rows = rows.map(|j| j.0).unwrap_or_else(|| json!([]));
            let n = rows.as_array().map_or(0, Vec::len);
            Ok(json!({"columns": columns, "rows": rows, "row_count": n}).to_string())
        }
        other => Err(ApiError::Internal(format!("job kind {other} has no worker code"))),
    }
}

/// The attempt, in one transaction: Ok when the job completed (its result and state committed). A
/// jira_sync job commits page by page instead (`super::jira`).
pub fn run(job: &Claimed) -> Result<(), ApiError> {
    match job.kind.as_str() {
        "jira_sync" => return super::jira::run(job),
        "embed" => return super::embed::run(job),
        _ => {}
    }
    in_tx(|| {
        check_submitter(job)?;
        let versions = Spi::get_one_with_args::<String>("SELECT analytics._cache_versions($1)::text", &[job.tenant.as_str().into()])?;
        let text = as_submitter(job, || body(job))?;
        complete(job, versions, &text)
    })
}

/// Writes the job's result and marks it completed, in the current transaction, while the attempt still
/// owns the job (else an error: nothing of the attempt may stay).
pub(super) fn complete(job: &Claimed, versions: Option<String>, text: &str) -> Result<(), ApiError> {
    let done = Spi::get_one_with_args::<Uuid>(
        "WITH r AS MATERIALIZED (SELECT $5::jsonb AS result),
         done AS (
             UPDATE analytics.jobs SET state = 'completed', progress = 1, stage = 'completed', finished_at = pg_catalog.clock_timestamp(),
                    heartbeat_at = pg_catalog.clock_timestamp(), error = NULL, worker_pid = NULL, data_versions = $4::bigint[],
                    result_rows = (SELECT coalesce((r.result ->> 'row_count')::bigint, (r.result -> 'result' ->> 'row_count')::bigint) FROM r)
             WHERE tenant_id = $1 AND id = $2 AND attempt_token = $3 AND state = 'running' AND NOT cancel_requested
             RETURNING tenant_id, id),
         ins AS (INSERT INTO analytics.job_results (tenant_id, job_id, result)
                 SELECT done.tenant_id, done.id, r.result FROM done, r RETURNING job_id)
         SELECT (SELECT job_id FROM ins)",
        &[job.tenant.as_str().into(), job.id.into(), job.token.into(), versions.into(), text.into()],
    )?;
    if done.is_none() {
        // Cancelled or rescued meanwhile.
        return Err(ApiError::Internal("fenced: the attempt no longer owns the job".into()));
    }
    notify(&job.id, "completed", 1.0, "completed")
}

/// After a failed attempt (rolled back): queued again with backoff when the failure is transient and
/// attempts are left, cancelled when a cancel was asked for, else failed with the error. Fenced too.
pub fn failed(job: &Claimed, error: &ApiError) {
    forget_cancel();
    let e = error_json(error);
    let provider_retryable = matches!(error, ApiError::ProviderUnavailable { retryable: true, .. });
    let transient =
        transient_failure(e["sqlstate"].as_str().unwrap_or("XX000"), e["message"].as_str().unwrap_or_default(), provider_retryable);
    let jitter = unsafe { pg_sys::pg_prng_double(&raw mut pg_sys::pg_global_prng_state) };
    let (retry, after_ms) = match after_failure(transient, job.attempt, job.max_attempts, false, jitter) {
        AfterFailure::Retry { after_ms } => (true, after_ms as f64),
        _ => (false, 0.0),
    };
    let text = e.to_string();
    let r = in_tx(|| {
        let state = Spi::get_one_with_args::<String>(
            "WITH f AS (UPDATE analytics.jobs SET
                 state = CASE WHEN cancel_requested THEN 'cancelled' WHEN $4 THEN 'queued' ELSE 'failed' END,
                 run_after = CASE WHEN NOT cancel_requested AND $4
                     THEN pg_catalog.now() + pg_catalog.make_interval(secs => $5 / 1000.0) ELSE run_after END,
                 finished_at = CASE WHEN NOT cancel_requested AND $4 THEN NULL ELSE pg_catalog.now() END,
                 stage = CASE WHEN cancel_requested THEN 'cancelled' WHEN $4 THEN 'retry' ELSE 'failed' END,
                 attempt_token = NULL, worker_pid = NULL,
                 error = CASE WHEN cancel_requested THEN NULL ELSE $6::jsonb END
             WHERE tenant_id = $1 AND id = $2 AND attempt_token = $3 AND state = 'running'
             RETURNING state)
             SELECT (SELECT state FROM f)",
            &[job.tenant.as_str().into(), job.id.into(), job.token.into(), retry.into(), after_ms.into(), text.as_str().into()],
        )?;
        if let Some(state) = state {
            let stage = if state == "queued" { "retry" } else { state.as_str() };
            notify(&job.id, &state, 0.0, stage)?;
        }
        Ok(())
    });
    if let Err(e) = r {
        log!("agile_analytics jobs: recording the failure of job {} failed: {}", job.id, error_json(&e));
    }
}
