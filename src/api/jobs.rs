//! Async analytics jobs, the SQL API: `analytics_job_submit`, `_status`, `_result`, `_rows`, `_cancel` and
//! `analytics_jobs`. The queue is `sql/018_jobs.sql`; its tables are read and written as the extension's
//! owner (`crate::owner`), always for the session's tenant and the calling role, so a role sees, reads and
//! cancels only its own jobs. Argument checks are in `analytics_core::jobs`. State changes are published
//! with NOTIFY on channel `analytics_jobs`: the job id, state, progress and a stage word, nothing else
//! (any role may LISTEN on any channel).

use crate::api::spec::{active_catalog, parse_job_spec, tenant};
use crate::error::ApiError;
use crate::jobs::attempt::notify;
use crate::jsonb_arg::JsonbText;
use crate::owner::as_owner;
use crate::{gucs, spi_read};
use analytics_core::jobs::{self, JobOptions};
use analytics_core::json_arg as args;
use pgrx::datum::TimestampWithTimeZone;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::{JsonB, Uuid};
use serde_json::{json, Value};

/// The role calling the function (before any identity switch).
fn caller() -> pg_sys::Oid {
    unsafe { pg_sys::GetUserId() }
}

fn uuid_text(id: &Uuid) -> String {
    id.to_string()
}

fn json_arg(what: &'static str, text: Option<&str>) -> Result<Value, ApiError> {
    match args::parse(text) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(ApiError::NullArgument(what)),
        Err(message) => Err(ApiError::InvalidArgument { message, detail: None, hint: None }),
    }
}

fn invalid((message, hint): jobs::Problem) -> ApiError {
    ApiError::InvalidArgument { message, detail: None, hint: Some(hint) }
}

/// How many job executors serve this database.
fn workers() -> i64 {
    crate::jobs::registry::executors(unsafe { pg_sys::MyDatabaseId }) as i64
}

/// Checks kind and payload; returns the payload's hash (what makes two submits the same job).
fn check_payload(kind: &str, payload: &Value, text: &str) -> Result<String, ApiError> {
    let function = as_owner({
        let k = kind.to_string();
        move || spi_read::one::<String>("SELECT function FROM analytics.job_kinds WHERE kind = $1", &[k.as_str().into()])
    })??;
    let Some(function) = function else {
        let kinds = as_owner(|| spi_read::one::<String>("SELECT string_agg(kind, ', ' ORDER BY kind) FROM analytics.job_kinds", &[]))??;
        return Err(ApiError::InvalidArgument {
            message: format!("unknown job kind \"{kind}\""),
            detail: None,
            hint: Some(format!("The kinds: {}.", kinds.unwrap_or_default())),
        });
    };
    let allowed =
        spi_read::one::<bool>("SELECT pg_catalog.has_function_privilege($1, $2, 'EXECUTE')", &[caller().into(), function.as_str().into()])?;
    if allowed != Some(true) {
        return Err(ApiError::NotAllowed {
            message: format!("permission denied to submit a {kind} job"),
            detail: format!("A {kind} job does the work of {function}, which this role may not execute."),
            hint: "An admin gives access with analytics_grant(role, level): run and ask jobs need 'reader', embed 'writer', refresh_views and jira_sync 'admin'.".into(),
        });
    }
    match kind {
        "run" => Ok(parse_job_spec(Some(text), &active_catalog()?.active)?.hash()),
        "ask" => {
            let (_, options) = jobs::check_ask(payload).map_err(invalid)?;
            if let Some(o) = options {
                crate::api::ask::options_of(Some(&o.to_string()))?;
            }
            // Who translates is part of the question: the session's LLM settings go with the job.
            let llm = json!([gucs::llm_provider(), gucs::llm_model(), gucs::llm_fallback(), gucs::llm_timeout_ms()]);
            Ok(jobs::payload_hash(&json!({"payload": payload, "llm": llm})))
        }
        "refresh_views" => {
            jobs::check_refresh(payload).map_err(invalid)?;
            Ok(jobs::payload_hash(payload))
        }
        "jira_sync" => {
            crate::api::jira::check_sync(payload)?;
            Ok(jobs::payload_hash(payload))
        }
        "embed" => {
            jobs::check_embed(payload).map_err(invalid)?;
            Ok(jobs::payload_hash(payload))
        }
        other => Err(ApiError::Internal(format!("job kind {other} has no payload check"))),
    }
}

/// A job that is this submit already: queued or running, or (for a reusable kind) completed within
/// analytics.cache_ttl from data that has not changed since, with the same idempotency key (when given)
/// or else the same kind and payload. Its id, kind and payload hash.
fn existing(
    tenant: &str,
    kind: &str,
    hash: &str,
    key: Option<&str>,
    except: Option<Uuid>,
) -> Result<Option<(Uuid, String, String)>, ApiError> {
    let (t, k, h, key) = (tenant.to_string(), kind.to_string(), hash.to_string(), key.map(String::from));
    let who = caller();
    let ttl = gucs::cache_ttl().max(0) as f64;
    let (id, kind, hash) = as_owner(move || {
        spi_read::three::<Uuid, String, String>(
            "SELECT j.id, j.kind, j.payload_hash FROM analytics.jobs j JOIN analytics.job_kinds k ON k.kind = j.kind
                 WHERE j.tenant_id = $1 AND j.submitted_by = $2
                   AND (CASE WHEN $5::text IS NULL THEN j.kind = $3 AND j.payload_hash = $4 ELSE j.idempotency_key = $5 END)
                   AND (j.state IN ('queued', 'running')
                        OR (k.reusable AND j.state = 'completed'
                            AND j.finished_at > pg_catalog.now() - pg_catalog.make_interval(secs => $6)
                            AND j.data_versions = analytics._cache_versions($1)))
                   AND ($7::uuid IS NULL OR j.id <> $7)
             ORDER BY j.state = 'completed', j.submitted_at DESC LIMIT 1",
            &[t.as_str().into(), who.into(), k.as_str().into(), h.as_str().into(), key.into(), ttl.into(), except.into()],
        )
    })??;
    Ok(id.map(|id| (id, kind.unwrap_or_default(), hash.unwrap_or_default())))
}

/// The job a submit is, given what [`existing`] found: with a key, it must be the same request.
fn same_request(found: (Uuid, String, String), kind: &str, hash: &str, key: Option<&str>) -> Result<Uuid, ApiError> {
    let (id, k, h) = found;
    match key {
        Some(key) if k != kind || h != hash => Err(ApiError::InvalidArgument {
            message: format!("idempotency key \"{key}\" was used for another request"),
            detail: Some(format!("job {id} ({k}) was submitted with it, with another payload or kind")),
            hint: Some("Use a new key for a new request, or submit without one.".into()),
        }),
        _ => Ok(id),
    }
}

pub(crate) fn submit(kind: Option<&str>, payload: Option<&str>, options: Option<&str>) -> Result<Uuid, ApiError> {
    spi_read::ensure_writable("analytics_job_submit()")?;
    let tenant = tenant()?;
    let kind = kind.ok_or(ApiError::NullArgument("kind"))?;
    let value = json_arg("payload", payload)?;
    let text = payload.unwrap_or_default();
    let raw = check_payload(kind, &value, text)?;
    // The session settings that change an answer are part of what makes it the same job.
    let hash = as_owner(move || spi_read::one::<String>("SELECT analytics._cache_md5($1)", &[raw.as_str().into()]))??
        .ok_or_else(|| ApiError::Internal("no payload hash".into()))?;
    let options = JobOptions::parse(&json_arg("options", options.or(Some("{}")))?).map_err(invalid)?;
    let key = options.idempotency_key.clone();
    // A unique index may refuse the insert because a concurrent submit queued the same job, which may
    // in turn finish or be cancelled before it is looked up: try again a few times.
    for _ in 0..3 {
        if let Some(found) = existing(&tenant, kind, &hash, key.as_deref(), None)? {
            return same_request(found, kind, &hash, key.as_deref());
        }
        if let Some(id) = insert(&tenant, kind, text, &hash, &options)? {
            // The unique indexes cover queued and running jobs only: a concurrent submit's job may have
            // completed between the lookup and the insert. It answers this submit, as it would have.
            if let Some(found) = existing(&tenant, kind, &hash, key.as_deref(), Some(id))? {
                withdraw(&tenant, id)?;
                return same_request(found, kind, &hash, key.as_deref());
            }
            notify(&id, "queued", 0.0, "queued")?;
            crate::jobs::registry::wake_at_commit();
            no_worker_warning(&id);
            return Ok(id);
        }
        // With a key: a queued or running job holds this payload under another key, and is this job.
        if key.is_some() {
            if let Some((id, _, _)) = existing(&tenant, kind, &hash, None, None)? {
                return Ok(id);
            }
        }
    }
    Err(ApiError::Internal("the job could not be queued: concurrent submits of it kept finishing".into()))
}

/// Says so when no job worker can run the job (the library is not preloaded, or analytics.job_workers
/// is 0): the job stays queued.
fn no_worker_warning(id: &Uuid) {
    let hint = if !crate::jobs::registry::available() {
        "Add agile_analytics to shared_preload_libraries and restart PostgreSQL: the job workers start with the server."
    } else if gucs::job_workers() <= 0 {
        "Set analytics.job_workers (postgresql.conf, reload) to run jobs."
    } else {
        return;
    };
    ErrorReport::new(PgSqlErrorCode::ERRCODE_WARNING, "no job worker can run jobs on this server: the job stays queued", "agile_analytics")
        .set_detail(format!("job {id}"))
        .set_hint(hint)
        .report(PgLogLevel::WARNING);
}

/// Takes back a job this transaction has just queued.
fn withdraw(tenant: &str, id: Uuid) -> Result<(), ApiError> {
    let t = tenant.to_string();
    as_owner(move || Spi::run_with_args("DELETE FROM analytics.jobs WHERE tenant_id = $1 AND id = $2", &[t.as_str().into(), id.into()]))??;
    Ok(())
}

/// Queues the job; None when a unique index refused it (the same job is queued or running).
fn insert(tenant: &str, kind: &str, text: &str, hash: &str, options: &JobOptions) -> Result<Option<Uuid>, ApiError> {
    let (t, k, p, h, who) = (tenant.to_string(), kind.to_string(), text.to_string(), hash.to_string(), caller());
    let o = options.clone();
    let inserted = as_owner(move || {
        Spi::get_one_with_args::<Uuid>(
            "WITH ins AS (
                 INSERT INTO analytics.jobs (tenant_id, kind, payload, payload_hash, settings, submitted_by, idempotency_key,
                     priority, max_attempts, run_after)
                 VALUES ($1, $2, $3::jsonb, $4,
                         pg_catalog.jsonb_build_object('TimeZone', pg_catalog.current_setting('TimeZone'),
                             'DateStyle', pg_catalog.current_setting('DateStyle'),
                             'IntervalStyle', pg_catalog.current_setting('IntervalStyle'),
                             'extra_float_digits', pg_catalog.current_setting('extra_float_digits'),
                             'analytics.cache_ttl', pg_catalog.current_setting('analytics.cache_ttl'),
                             'analytics.jit', pg_catalog.current_setting('analytics.jit'),
                             'analytics.llm_provider', pg_catalog.current_setting('analytics.llm_provider'),
                             'analytics.llm_model', pg_catalog.current_setting('analytics.llm_model'),
                             'analytics.llm_fallback', pg_catalog.current_setting('analytics.llm_fallback'),
                             'analytics.llm_timeout_ms', pg_catalog.current_setting('analytics.llm_timeout_ms'),
                             'analytics.embedding_provider', pg_catalog.current_setting('analytics.embedding_provider')),
                         $5, $6, $7, $8, coalesce(analytics._job_run_after($9), pg_catalog.now()))
                 ON CONFLICT DO NOTHING RETURNING id)
             SELECT (SELECT id FROM ins)",
            &[
                t.as_str().into(),
                k.as_str().into(),
                p.as_str().into(),
                h.as_str().into(),
                who.into(),
                o.idempotency_key.into(),
                o.priority.into(),
                o.max_attempts.into(),
                o.run_after.into(),
            ],
        )
    })??;
    Ok(inserted)
}

/// Submits an async job and returns its id (see docs/jobs.md).
#[pg_extern(volatile, schema = "analytics", name = "analytics_job_submit")]
#[search_path(pg_catalog, pg_temp)]
fn job_submit(kind: Option<&str>, payload: Option<JsonbText>, options: default!(Option<JsonbText>, "'{}'")) -> Result<Uuid, ErrorReport> {
    Ok(submit(kind, payload.as_ref().map(JsonbText::as_str), options.as_ref().map(JsonbText::as_str))?)
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics.analytics_job_submit(text, jsonb, jsonb) IS
  'Submit an async job for the session''s tenant, run as the calling role: kind run (payload: a spec), ask ({"question", "options"}), embed ({"batch"}; writer), refresh_views ({"concurrently"}; admin) or jira_sync ({"source"}; admin). options: priority (-100..100), max_attempts (1..20, default 3), run_after (timestamptz), idempotency_key. The same payload (or key) while its job is queued or running, or completed within analytics.cache_ttl, returns that job''s id.';
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_job_submit(text,jsonb,jsonb)', 'EXECUTE');
REVOKE ALL ON FUNCTION analytics.analytics_job_submit(text,jsonb,jsonb) FROM PUBLIC;
"#,
    name = "job_submit_sql",
    requires = [job_submit, "jobs"]
);

/// The SELECT list of a job's status object.
const STATUS: &str = "pg_catalog.jsonb_build_object('id', j.id, 'kind', j.kind, 'state', j.state, 'progress', j.progress,
    'stage', j.stage, 'attempt', j.attempt, 'max_attempts', j.max_attempts, 'priority', j.priority, 'run_after', j.run_after,
    'submitted_at', j.submitted_at, 'started_at', j.started_at, 'finished_at', j.finished_at, 'error', j.error,
    'result_rows', j.result_rows, 'cancel_requested', j.cancel_requested)";

fn status(id: Option<Uuid>) -> Result<Value, ApiError> {
    let id = id.ok_or(ApiError::NullArgument("id"))?;
    let (t, who) = (tenant()?, caller());
    let row = as_owner(move || {
        spi_read::one::<JsonB>(
            &format!("SELECT {STATUS} FROM analytics.jobs j WHERE j.tenant_id = $1 AND j.id = $2 AND j.submitted_by = $3"),
            &[t.as_str().into(), id.into(), who.into()],
        )
    })??;
    let mut status = row.ok_or_else(|| ApiError::UnknownJob(uuid_text(&id)))?.0;
    status["workers"] = json!(workers());
    Ok(status)
}

/// A job of the calling role: {"id", "kind", "state" (queued | running | completed | failed | cancelled),
/// "progress" (0..1), "stage", "attempt", "max_attempts", times, "error", "result_rows", "workers"}.
#[pg_extern(volatile, schema = "analytics", name = "analytics_job_status")]
#[search_path(pg_catalog, pg_temp)]
fn job_status(id: Option<Uuid>) -> Result<JsonB, ErrorReport> {
    Ok(JsonB(status(id)?))
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics.analytics_job_status(uuid) IS
  'A job of the calling role and session tenant: {"id", "kind", "state": queued | running | completed | failed | cancelled, "progress" (0..1), "stage", "attempt", "max_attempts", "priority", "run_after", "submitted_at", "started_at", "finished_at", "error": {"sqlstate", "message", "detail", "hint"}, "result_rows", "cancel_requested", "workers" (job workers serving this database)}.';
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_job_status(uuid)', 'EXECUTE');
REVOKE ALL ON FUNCTION analytics.analytics_job_status(uuid) FROM PUBLIC;
"#,
    name = "job_status_sql",
    requires = [job_status, "jobs"]
);

/// A completed job's answer as jsonb text (or, with `rows`, the text of each row); 55000 (with the
/// state) before it completed.
fn result_of(id: Option<Uuid>, rows: bool) -> Result<Vec<String>, ApiError> {
    let id = id.ok_or(ApiError::NullArgument("id"))?;
    let (t, who) = (tenant()?, caller());
    let (state, done) = as_owner(move || {
        spi_read::two::<String, bool>(
            "SELECT j.state, r.job_id IS NOT NULL FROM analytics.jobs j
             LEFT JOIN analytics.job_results r ON r.tenant_id = j.tenant_id AND r.job_id = j.id
             WHERE j.tenant_id = $1 AND j.id = $2 AND j.submitted_by = $3",
            &[t.as_str().into(), id.into(), who.into()],
        )
    })??;
    let state = state.ok_or_else(|| ApiError::UnknownJob(uuid_text(&id)))?;
    if state != "completed" || done != Some(true) {
        return Err(ApiError::JobNotDone { id: uuid_text(&id), state });
    }
    let t = tenant()?;
    as_owner(move || {
        let query = if rows {
            "SELECT e::text FROM analytics.job_results r, pg_catalog.jsonb_array_elements(r.result -> 'rows') WITH ORDINALITY AS x(e, n)
             WHERE r.tenant_id = $1 AND r.job_id = $2 ORDER BY x.n"
        } else {
            "SELECT r.result::text FROM analytics.job_results r WHERE r.tenant_id = $1 AND r.job_id = $2"
        };
        Spi::connect(|c| {
            let mut out = Vec::new();
            for row in c.select(query, None, &[t.as_str().into(), id.into()])? {
                out.push(row.get::<String>(1)?.unwrap_or_default());
            }
            Ok::<_, pgrx::spi::Error>(out)
        })
    })?
    .map_err(ApiError::from)
}

/// The answer of a completed job of the calling role (a run job's has the shape of analytics_run's).
#[pg_extern(volatile, schema = "analytics", name = "analytics_job_result")]
#[search_path(pg_catalog, pg_temp)]
fn job_result(id: Option<Uuid>) -> Result<JsonbText, ErrorReport> {
    Ok(JsonbText(result_of(id, false)?.pop().unwrap_or_else(|| "null".into())))
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics.analytics_job_result(uuid) IS
  'The answer of a completed job of the calling role (a run job''s has the shape of analytics_run''s). 55000 while it is not completed, with its state in DETAIL.';
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_job_result(uuid)', 'EXECUTE');
REVOKE ALL ON FUNCTION analytics.analytics_job_result(uuid) FROM PUBLIC;
"#,
    name = "job_result_sql",
    requires = [job_result, "jobs"]
);

/// The rows of a completed job's answer, one jsonb object per row.
#[pg_extern(volatile, schema = "analytics", name = "analytics_job_rows")]
#[search_path(pg_catalog, pg_temp)]
fn job_rows(id: Option<Uuid>) -> Result<SetOfIterator<'static, JsonbText>, ErrorReport> {
    Ok(SetOfIterator::new(result_of(id, true)?.into_iter().map(JsonbText)))
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics.analytics_job_rows(uuid) IS
  'The rows of a completed job''s answer, one jsonb object per row, for results too large to read at once. 55000 while it is not completed.';
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_job_rows(uuid)', 'EXECUTE');
REVOKE ALL ON FUNCTION analytics.analytics_job_rows(uuid) FROM PUBLIC;
"#,
    name = "job_rows_sql",
    requires = [job_rows, "jobs"]
);

/// Cancels a job of the calling role: a queued one at once; a running one is asked to stop. False when
/// it had finished already.
fn cancel(id: Option<Uuid>) -> Result<bool, ApiError> {
    spi_read::ensure_writable("analytics_job_cancel()")?;
    let id = id.ok_or(ApiError::NullArgument("id"))?;
    let (t, who) = (tenant()?, caller());
    let (found, state) = as_owner(move || {
        Spi::get_two_with_args::<bool, String>(
            "WITH c AS (
                 UPDATE analytics.jobs SET cancel_requested = true,
                     state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END,
                     finished_at = CASE WHEN state = 'queued' THEN pg_catalog.now() ELSE finished_at END,
                     attempt_token = CASE WHEN state = 'queued' THEN NULL ELSE attempt_token END,
                     stage = CASE WHEN state = 'queued' THEN 'cancelled' ELSE stage END
                 WHERE tenant_id = $1 AND id = $2 AND submitted_by = $3 AND state IN ('queued', 'running')
                 RETURNING state)
             SELECT EXISTS (SELECT FROM analytics.jobs WHERE tenant_id = $1 AND id = $2 AND submitted_by = $3),
                    (SELECT state FROM c)",
            &[t.as_str().into(), id.into(), who.into()],
        )
    })??;
    if found != Some(true) {
        return Err(ApiError::UnknownJob(uuid_text(&id)));
    }
    match state.as_deref() {
        Some("cancelled") => {
            notify(&id, "cancelled", 0.0, "cancelled")?;
            Ok(true)
        }
        Some(_) => {
            // Running: its executor's statement is interrupted when this transaction commits.
            crate::jobs::registry::cancel_at_commit(&id);
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Cancels a job of the calling role.
#[pg_extern(volatile, schema = "analytics", name = "analytics_job_cancel")]
#[search_path(pg_catalog, pg_temp)]
fn job_cancel(id: Option<Uuid>) -> Result<bool, ErrorReport> {
    Ok(cancel(id)?)
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics.analytics_job_cancel(uuid) IS
  'Cancel a job of the calling role: a queued one at once, a running one is asked to stop (cancel_requested). Returns false when it had finished already.';
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_job_cancel(uuid)', 'EXECUTE');
REVOKE ALL ON FUNCTION analytics.analytics_job_cancel(uuid) FROM PUBLIC;
"#,
    name = "job_cancel_sql",
    requires = [job_cancel, "jobs"]
);

/// One row of analytics_jobs().
type JobRow = (Uuid, String, String, f32, Option<String>, i32, Option<TimestampWithTimeZone>, Option<TimestampWithTimeZone>);

fn list(state: Option<&str>, lim: i32) -> Result<Vec<JobRow>, ApiError> {
    if let Some(s) = state {
        if !["queued", "running", "completed", "failed", "cancelled"].contains(&s) {
            return Err(ApiError::InvalidArgument {
                message: format!("unknown job state \"{s}\""),
                detail: None,
                hint: Some("The states: queued, running, completed, failed, cancelled (NULL: all).".into()),
            });
        }
    }
    if !(1..=10_000).contains(&lim) {
        return Err(ApiError::InvalidArgument {
            message: format!("lim must be from 1 to 10000, not {lim}"),
            detail: None,
            hint: Some("SELECT * FROM analytics_jobs(NULL, 100) lists your 100 newest jobs.".into()),
        });
    }
    let (t, who, st) = (tenant()?, caller(), state.map(String::from));
    let rows = as_owner(move || {
        Spi::connect(|c| {
            let table = c.select(
                "SELECT id, kind, state, progress, stage, attempt, submitted_at, finished_at FROM analytics.jobs
                 WHERE tenant_id = $1 AND submitted_by = $2 AND ($3::text IS NULL OR state = $3)
                 ORDER BY submitted_at DESC, id LIMIT $4",
                None,
                &[t.as_str().into(), who.into(), st.into(), i64::from(lim).into()],
            )?;
            let mut out = Vec::new();
            for row in table {
                out.push((
                    row.get::<Uuid>(1)?.unwrap_or_else(|| Uuid::from_bytes([0; 16])),
                    row.get::<String>(2)?.unwrap_or_default(),
                    row.get::<String>(3)?.unwrap_or_default(),
                    row.get::<f32>(4)?.unwrap_or_default(),
                    row.get::<String>(5)?,
                    row.get::<i32>(6)?.unwrap_or_default(),
                    row.get::<TimestampWithTimeZone>(7)?,
                    row.get::<TimestampWithTimeZone>(8)?,
                ));
            }
            Ok::<_, pgrx::spi::Error>(out)
        })
    })??;
    Ok(rows)
}

/// The calling role's jobs of the session's tenant, newest first.
#[pg_extern(volatile, schema = "analytics", name = "analytics_jobs")]
#[search_path(pg_catalog, pg_temp)]
#[allow(clippy::type_complexity)] // pgrx reads the column names from this signature
fn job_list(
    state: default!(Option<&str>, "NULL"),
    lim: default!(i32, 100),
) -> Result<
    TableIterator<
        'static,
        (
            name!(id, Uuid),
            name!(kind, String),
            name!(state, String),
            name!(progress, f32),
            name!(stage, Option<String>),
            name!(attempt, i32),
            name!(submitted_at, Option<TimestampWithTimeZone>),
            name!(finished_at, Option<TimestampWithTimeZone>),
        ),
    >,
    ErrorReport,
> {
    Ok(TableIterator::new(list(state, lim)?))
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics.analytics_jobs(text, integer) IS
  'The calling role''s jobs of the session''s tenant, newest first: id, kind, state, progress, stage, attempt, submitted_at, finished_at. state filters (NULL: all); lim caps the rows (1..10000).';
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.analytics_jobs(text,integer)', 'EXECUTE');
REVOKE ALL ON FUNCTION analytics.analytics_jobs(text,integer) FROM PUBLIC;
"#,
    name = "job_list_sql",
    requires = [job_list, "jobs"]
);
