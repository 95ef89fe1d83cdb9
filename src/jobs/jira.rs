//! A `jira_sync` job in a job executor (issue 18, docs/jira.md): the sync of `analytics_core::jira::driver`
//! with ureq as its HTTP and the loader of `analytics_ingest_jira` as its sink. Unlike other jobs it
//! commits page by page: each page is written in its own transaction, as the job's submitter for its
//! tenant, together with the source's watermark, and only while the attempt still owns the job (fenced
//! by its token, like every attempt). The worker never waits for HTTP inside a transaction: the next
//! search page is fetched on a thread of the client (network I/O only) while a page is written. An attempt
//! that dies (kill -9, a timeout, an HTTP error) leaves every committed page and the watermark after
//! them; the next attempt (or the next sync) goes on from there. One sync per source at a time: a
//! session advisory lock, held across the transactions.

use super::attempt::{as_submitter, check_submitter, complete, fence, notify, Claimed};
use super::registry;
use super::tx::in_tx;
use crate::error::ApiError;
use analytics_core::jira::driver::{self, Http, Plan, Report, Response, Sink, SyncError};
use analytics_core::jira::http::Client;
use analytics_core::jira::source::{Credential, SourceConfig};
use analytics_core::jira::sync::Request;
use analytics_core::jira::Batch;
use analytics_core::jobs::{check_jira_sync, JiraSync};
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

/// The time limit of one HTTP request, and the largest answer taken.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_RESPONSE: u64 = 64 << 20;
/// Tries per request for 429, 5xx and dropped connections, and the longest wait between two.
const MAX_ATTEMPTS: u32 = 6;
const BACKOFF_CAP_MS: u64 = 60_000;

/// What the first transaction of an attempt found.
struct Setup {
    config: SourceConfig,
    credential: Credential,
    plan: Plan,
    /// The number of this sync (a resumed full resync keeps its number).
    sync_no: i64,
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// Locks the source for this process (released when the sync ends or the process exits).
fn lock_key(job: &Claimed, source: &str) -> String {
    format!("agile_analytics.jira_sync:{}:{source}", job.tenant)
}

fn setup(job: &Claimed, p: &JiraSync) -> Result<Setup, ApiError> {
    check_submitter(job)?;
    fence(job, "the Jira sync")?;
    let locked = Spi::get_one_with_args::<bool>(
        "SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtextextended($1, 0))",
        &[lock_key(job, &p.source).as_str().into()],
    )?;
    if locked != Some(true) {
        return Err(ApiError::Postgres {
            code: PgSqlErrorCode::ERRCODE_LOCK_NOT_AVAILABLE,
            message: format!("another sync of Jira source \"{}\" is running", p.source),
            detail: None,
            hint: Some("The job is tried again later (analytics_job_status shows when).".into()),
        });
    }
    let row = Spi::connect(|c| {
        let mut rows = c.select(
            "SELECT s.config, k.secret, s.watermark::text, s.full_sync, s.last_job = $3, s.syncs,
                    s.config ->> 'overlap_minutes'
             FROM analytics.jira_sources s LEFT JOIN analytics.jira_source_secrets k ON k.tenant_id = s.tenant_id AND k.name = s.name
             WHERE s.tenant_id = $1 AND s.name = $2",
            None,
            &[job.tenant.as_str().into(), p.source.as_str().into(), job.id.into()],
        )?;
        let Some(r) = rows.next() else { return Ok::<_, pgrx::spi::Error>(None) };
        Ok(Some((
            r.get::<JsonB>(1)?.map(|j| j.0),
            r.get::<JsonB>(2)?.map(|j| j.0),
            r.get::<String>(3)?,
            r.get::<i64>(4)?,
            r.get::<bool>(5)?.unwrap_or(false),
            r.get::<i64>(6)?.unwrap_or(0),
        )))
    })?;
    let Some((config, secret, watermark, full_sync, same_job, syncs)) = row else {
        return Err(ApiError::Postgres {
            code: PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
            message: format!("Jira source \"{}\" no longer exists", p.source),
            detail: None,
            hint: Some("SELECT name FROM analytics_jira_sources() lists them.".into()),
        });
    };
    let config =
        SourceConfig::parse(&config.unwrap_or_default()).map_err(|e| internal(format!("stored config: {} at {}", e.message, e.path)))?;
    let Some(secret) = secret else {
        return Err(ApiError::Postgres {
            code: PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            message: format!("Jira source \"{}\" has no credential", p.source),
            detail: None,
            hint: Some("A superuser sets it with analytics_jira_source_secret(name, secret).".into()),
        });
    };
    let credential = Credential::parse(&secret).map_err(|e| internal(format!("stored credential: {}", e.path)))?;
    // A later attempt of the job that began a full resync goes on with it, from the watermark its
    // committed pages left.
    let resuming = full_sync.is_some() && same_job;
    let full = p.full || resuming || watermark.is_none();
    let sync_no = if resuming { full_sync.unwrap_or(syncs) } else { syncs + 1 };
    let since = if full && !resuming {
        None
    } else {
        Spi::get_one_with_args::<String>(
            "SELECT pg_catalog.to_char(pg_catalog.timezone('UTC', $1::timestamptz - pg_catalog.make_interval(mins => $2)), 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
            &[watermark.clone().into(), (config.overlap_minutes as i32).into()],
        )?
    };
    Spi::run_with_args(
        "UPDATE analytics.jira_sources SET syncs = $3, last_job = $4, last_started_at = pg_catalog.now(), last_error = NULL,
                full_sync = CASE WHEN $5 THEN $3 END
         WHERE tenant_id = $1 AND name = $2",
        &[job.tenant.as_str().into(), p.source.as_str().into(), sync_no.into(), job.id.into(), full.into()],
    )?;
    notify(&job.id, "running", 0.0, "sprints")?;
    Ok(Setup { config, credential, plan: Plan { since, full, max_attempts: MAX_ATTEMPTS, backoff_cap_ms: BACKOFF_CAP_MS }, sync_no })
}

/// A cancel (SIGINT) that reached this sync: once seen, every later check fails too.
static CANCELLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Stops the sync for a cancel, or the process for a shutdown (SIGTERM).
fn interrupted() -> Result<(), String> {
    use std::sync::atomic::Ordering::Relaxed;
    unsafe {
        if pg_sys::ProcDiePending != 0 {
            pg_sys::check_for_interrupts!();
        }
        if pg_sys::QueryCancelPending != 0 {
            super::tx::forget_cancel();
            CANCELLED.store(true, Relaxed);
        }
    }
    if CANCELLED.load(Relaxed) {
        return Err("canceling the Jira sync due to user request".into());
    }
    Ok(())
}

struct Worker {
    client: Client,
}

impl Http for Worker {
    fn send(&mut self, req: &Request) -> Result<Response, String> {
        self.client.send(req)
    }

    /// The next search page is fetched on a thread of the client's (network I/O only, signals blocked)
    /// while this one is written.
    fn prefetch(&mut self, req: &Request) {
        self.client.prefetch(req)
    }

    fn pause(&mut self, ms: u64) -> Result<(), String> {
        let until = std::time::Instant::now() + Duration::from_millis(ms);
        loop {
            interrupted()?;
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            unsafe {
                pg_sys::WaitLatch(
                    pg_sys::MyLatch,
                    (pg_sys::WL_LATCH_SET | pg_sys::WL_TIMEOUT | pg_sys::WL_EXIT_ON_PM_DEATH) as i32,
                    left.as_millis().min(1000) as i64,
                    pg_sys::PG_WAIT_EXTENSION,
                );
                pg_sys::ResetLatch(pg_sys::MyLatch);
            }
        }
    }
}

struct Writer<'a> {
    job: &'a Claimed,
    source: &'a str,
    instance: String,
    full: bool,
    sync_no: i64,
}

impl Sink for Writer<'_> {
    type Error = ApiError;

    fn jql_minute(&mut self, utc: &str, zone: &str) -> Result<String, ApiError> {
        let (utc, zone) = (utc.to_string(), zone.to_string());
        in_tx(|| {
            Spi::get_one_with_args::<String>(
                "SELECT pg_catalog.to_char(pg_catalog.timezone($2, $1::timestamptz), 'YYYY/MM/DD HH24:MI')",
                &[utc.as_str().into(), zone.as_str().into()],
            )?
            .ok_or_else(|| internal("no JQL date"))
        })
    }

    fn unchanged(&mut self, issues: &[(String, String)]) -> Result<HashSet<String>, ApiError> {
        let keys: Vec<String> = issues.iter().map(|(k, _)| k.clone()).collect();
        let updated: Vec<String> = issues.iter().map(|(_, u)| u.clone()).collect();
        let job = self.job;
        let instance = self.instance.clone();
        in_tx(|| {
            as_submitter(job, || {
                let found = Spi::get_one_with_args::<Vec<String>>(
                    "SELECT coalesce(pg_catalog.array_agg(i.issue_key), '{}') FROM analytics.issues i
                     JOIN ROWS FROM (pg_catalog.unnest($3::text[]), pg_catalog.unnest($4::timestamptz[])) AS u(k, t) ON i.issue_key = u.k AND i.updated_at = u.t
                     WHERE i.tenant_id = $1 AND i.instance_id = $2",
                    &[job.tenant.as_str().into(), instance.as_str().into(), keys.into(), updated.into()],
                )?;
                Ok(found.unwrap_or_default().into_iter().collect())
            })
        })
    }

    fn load(&mut self, batch: &Batch, watermark: Option<&str>) -> Result<Value, ApiError> {
        let (job, source, instance, full, sync_no) = (self.job, self.source, self.instance.clone(), self.full, self.sync_no);
        let keys: Vec<String> = batch.issues.iter().map(|i| i.issue_key.clone()).collect();
        in_tx(|| {
            fence(job, "the Jira sync")?;
            let counts = as_submitter(job, || crate::api::ingest::ingest(batch, &job.tenant, &instance))?;
            Spi::run_with_args(
                "INSERT INTO analytics.jira_source_issues (tenant_id, name, issue_key, last_seen)
                 SELECT $1, $2, k, $4 FROM pg_catalog.unnest($3::text[]) AS k
                 ON CONFLICT (tenant_id, name, issue_key) DO UPDATE SET last_seen = excluded.last_seen",
                &[job.tenant.as_str().into(), source.into(), keys.into(), sync_no.into()],
            )?;
            if let Some(w) = watermark {
                // A full resync's watermark is where its pages got to; an incremental one only moves forward.
                Spi::run_with_args(
                    "UPDATE analytics.jira_sources SET watermark = CASE WHEN $4 OR watermark IS NULL THEN $3::timestamptz
                                                                       ELSE GREATEST(watermark, $3::timestamptz) END
                     WHERE tenant_id = $1 AND name = $2",
                    &[job.tenant.as_str().into(), source.into(), w.into(), full.into()],
                )?;
            }
            Ok(counts)
        })
    }

    fn progress(&mut self, stage: &'static str, fraction: f32) -> Result<(), ApiError> {
        registry::progress(fraction, stage);
        interrupted().map_err(|m| ApiError::Postgres { code: PgSqlErrorCode::ERRCODE_QUERY_CANCELED, message: m, detail: None, hint: None })
    }
}

/// A sync's failure as the job's error: what happened and what to do, never the credential.
fn sync_error(source: &str, e: SyncError<ApiError>) -> ApiError {
    match e {
        SyncError::Sink(e) => e,
        SyncError::Auth { status, path } => ApiError::Postgres {
            code: PgSqlErrorCode::ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION,
            message: format!("Jira refused the credential of source \"{source}\" (HTTP {status})"),
            detail: Some(format!("request: {path}")),
            hint: Some(if status == 401 {
                "Set a valid credential with analytics_jira_source_secret (Cloud: e-mail and API token; Server/DC: a personal access token).".into()
            } else {
                "The credential's user may not read these issues or boards: check its Jira permissions and the source's JQL.".into()
            }),
        },
        SyncError::Http { status, path, message } => ApiError::ProviderUnavailable {
            message: format!("Jira answered HTTP {status} for source \"{source}\": {message}"),
            detail: Some(format!("request: {path}")),
            hint: Some(match status {
                410 => "Jira removed this API (Cloud: the old search endpoints); check the source's flavor.".into(),
                400 | 404 => "Check the source's jql, boards and flavor (analytics_jira_source_upsert).".into(),
                _ => "The job is tried again later while attempts remain.".into(),
            }),
            retryable: status == 429 || status >= 500,
        },
        SyncError::Transport { path, message } => ApiError::ProviderUnavailable {
            message: format!("Jira source \"{source}\" could not be reached: {message}"),
            detail: Some(format!("request: {path}")),
            hint: Some("Check base_url and the network; the job is tried again later while attempts remain.".into()),
            retryable: true,
        },
        SyncError::Payload { path, json_path, message } => ApiError::Postgres {
            code: PgSqlErrorCode::ERRCODE_DATA_EXCEPTION,
            message: format!("Jira sent a page the sync cannot read, at {json_path}: {message}"),
            detail: Some(format!("request: {path}; the pages before it are written, and the watermark is theirs")),
            hint: Some("Check the source's flavor and fields (story_points_field, sprint_field); a full resync starts over.".into()),
        },
        SyncError::Stopped(m) => ApiError::Postgres { code: PgSqlErrorCode::ERRCODE_QUERY_CANCELED, message: m, detail: None, hint: None },
    }
}

/// The last transaction: a full resync's comparison (and prune), the source's record, the job's result.
fn finish(job: &Claimed, p: &JiraSync, s: &Setup, report: &Report) -> Result<(), ApiError> {
    in_tx(|| {
        fence(job, "the Jira sync")?;
        let mut result = report.to_json();
        if s.plan.full {
            registry::progress(0.97, "pruning");
            let gone = Spi::get_one_with_args::<JsonB>(
                "SELECT pg_catalog.jsonb_build_object('count', count(*), 'keys', coalesce(pg_catalog.jsonb_agg(issue_key ORDER BY issue_key) FILTER (WHERE n <= 50), '[]'))
                 FROM (SELECT issue_key, row_number() OVER (ORDER BY issue_key) AS n FROM analytics.jira_source_issues
                       WHERE tenant_id = $1 AND name = $2 AND last_seen < $3) g",
                &[job.tenant.as_str().into(), p.source.as_str().into(), s.sync_no.into()],
            )?
            .map(|j| j.0)
            .unwrap_or_else(|| json!({"count": 0, "keys": []}));
            let mut pruned = 0i64;
            if p.prune {
                let (tenant, source, instance, sync_no) =
                    (job.tenant.clone(), p.source.clone(), s.config.ingest.instance_id.clone(), s.sync_no);
                let gone_keys = Spi::get_one_with_args::<Vec<String>>(
                    "SELECT coalesce(pg_catalog.array_agg(issue_key), '{}') FROM analytics.jira_source_issues WHERE tenant_id = $1 AND name = $2 AND last_seen < $3",
                    &[tenant.as_str().into(), source.as_str().into(), sync_no.into()],
                )?
                .unwrap_or_default();
                pruned = as_submitter(job, || {
                    Ok(Spi::get_one_with_args::<i64>(
                        "WITH d AS (DELETE FROM analytics.issues WHERE tenant_id = $1 AND instance_id = $2 AND issue_key = ANY ($3::text[]) RETURNING 1)
                         SELECT count(*) FROM d",
                        &[tenant.as_str().into(), instance.as_str().into(), gone_keys.into()],
                    )?
                    .unwrap_or(0))
                })?;
                Spi::run_with_args(
                    "DELETE FROM analytics.jira_source_issues WHERE tenant_id = $1 AND name = $2 AND last_seen < $3",
                    &[job.tenant.as_str().into(), p.source.as_str().into(), s.sync_no.into()],
                )?;
            }
            result["gone"] = gone;
            result["pruned"] = json!(pruned);
        }
        result["source"] = json!(p.source);
        result["full"] = json!(s.plan.full);
        result["sync"] = json!(s.sync_no);
        result["since"] = json!(s.plan.since);
        Spi::run_with_args(
            "UPDATE analytics.jira_sources SET last_finished_at = pg_catalog.now(), last_result = $3::jsonb, last_error = NULL, full_sync = NULL
             WHERE tenant_id = $1 AND name = $2",
            &[job.tenant.as_str().into(), p.source.as_str().into(), result.to_string().as_str().into()],
        )?;
        complete(job, None, &result.to_string())
    })
}

fn record_error(job: &Claimed, source: &str, e: &ApiError) {
    let text = super::tx::error_json(e).to_string();
    let r = in_tx(|| {
        Spi::run_with_args(
            "UPDATE analytics.jira_sources SET last_error = $3::jsonb, last_finished_at = pg_catalog.now() WHERE tenant_id = $1 AND name = $2",
            &[job.tenant.as_str().into(), source.into(), text.as_str().into()],
        )?;
        Ok(())
    });
    if let Err(e) = r {
        log!("agile_analytics jobs: recording the error of Jira sync job {} failed: {}", job.id, super::tx::error_json(&e));
    }
}

fn unlock(job: &Claimed, source: &str) {
    let key = lock_key(job, source);
    let _ = in_tx(|| {
        Spi::run_with_args("SELECT pg_catalog.pg_advisory_unlock(pg_catalog.hashtextextended($1, 0))", &[key.as_str().into()])?;
        Ok(())
    });
}

/// One attempt of a jira_sync job; Ok when it completed.
pub fn run(job: &Claimed) -> Result<(), ApiError> {
    CANCELLED.store(false, std::sync::atomic::Ordering::Relaxed);
    let payload: Value = serde_json::from_str(&job.payload).map_err(|e| internal(format!("job payload: {e}")))?;
    let p = check_jira_sync(&payload).map_err(|(m, _)| internal(format!("job payload: {m}")))?;
    let s = match in_tx(|| setup(job, &p)) {
        Ok(s) => s,
        Err(e) => {
            if !matches!(&e, ApiError::Postgres { code: PgSqlErrorCode::ERRCODE_LOCK_NOT_AVAILABLE, .. }) {
                unlock(job, &p.source);
            }
            return Err(e);
        }
    };
    let mut http = Worker { client: Client::new(&s.config.base_url, &s.credential, REQUEST_TIMEOUT, MAX_RESPONSE) };
    let mut sink = Writer { job, source: &p.source, instance: s.config.ingest.instance_id.clone(), full: s.plan.full, sync_no: s.sync_no };
    let outcome = driver::run(&mut http, &mut sink, &s.config, &s.plan).map_err(|e| sync_error(&p.source, e));
    let r = outcome.and_then(|report| {
        registry::progress(0.96, "finishing");
        finish(job, &p, &s, &report)
    });
    if let Err(e) = &r {
        record_error(job, &p.source, e);
    }
    unlock(job, &p.source);
    r
}
