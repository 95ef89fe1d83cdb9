//! A job executor: claims the next queued job of its database (`FOR UPDATE SKIP LOCKED`, so two
//! executors never claim the same one), runs one attempt of it, records the outcome, and sleeps on its
//! latch until a submit commits (or for 1 s, the fallback poll) when the queue is empty.

use super::attempt::{self, Claimed};
use super::registry;
use super::tx::{error_json, forget_cancel, in_tx, installed, reload_if_asked, signals, wait};
use crate::error::ApiError;
use crate::gucs;
use pgrx::bgworkers::BackgroundWorker;
use pgrx::prelude::*;
use pgrx::{JsonB, Uuid};
use std::time::{Duration, Instant};

/// Claims the next job that is due. The slot names the attempt before the claim commits, so a
/// committed claim is always visible to the supervisor as a live attempt.
fn claim() -> Result<Option<Claimed>, ApiError> {
    in_tx(|| {
        let claimed = Spi::connect_mut(|c| {
            let mut rows = c.update(
                "WITH next AS MATERIALIZED (
                     SELECT j.tenant_id, j.id FROM analytics.jobs j
                     WHERE j.state = 'queued' AND j.run_after <= pg_catalog.now()
                     ORDER BY j.priority DESC, j.run_after, j.submitted_at
                     LIMIT 1 FOR UPDATE SKIP LOCKED)
                 UPDATE analytics.jobs j SET state = 'running', attempt = j.attempt + 1,
                        attempt_token = pg_catalog.gen_random_uuid(), worker_pid = pg_catalog.pg_backend_pid(),
                        started_at = pg_catalog.now(), heartbeat_at = pg_catalog.now(), progress = 0,
                        stage = 'started', error = NULL
                 FROM next WHERE j.tenant_id = next.tenant_id AND j.id = next.id AND j.state = 'queued'
                 RETURNING j.tenant_id, j.id, j.kind, j.payload::text, j.settings, j.submitted_by, j.attempt,
                           j.max_attempts, j.attempt_token",
                None,
                &[],
            )?;
            let Some(row) = rows.next() else { return Ok::<_, pgrx::spi::Error>(None) };
            Ok(Some(Claimed {
                tenant: row.get::<String>(1)?.unwrap_or_default(),
                id: row.get::<Uuid>(2)?.unwrap_or_else(|| Uuid::from_bytes([0; 16])),
                kind: row.get::<String>(3)?.unwrap_or_default(),
                payload: row.get::<String>(4)?.unwrap_or_default(),
                settings: row.get::<JsonB>(5)?.map(|j| j.0).unwrap_or_default(),
                submitted_by: row.get::<pg_sys::Oid>(6)?.unwrap_or(pg_sys::Oid::INVALID),
                attempt: row.get::<i32>(7)?.unwrap_or(1),
                max_attempts: row.get::<i32>(8)?.unwrap_or(1),
                token: row.get::<Uuid>(9)?.unwrap_or_else(|| Uuid::from_bytes([0; 16])),
            }))
        })?;
        if let Some(job) = &claimed {
            registry::begin_attempt(&job.id, &job.token);
            attempt::notify(&job.id, "running", 0.0, "started")?;
        }
        Ok(claimed)
    })
}

fn run_one(job: &Claimed) {
    if let Err(e) = attempt::run(job) {
        attempt::failed(job, &e);
    }
    registry::end_attempt();
    forget_cancel();
}

#[pg_guard]
#[unsafe(no_mangle)]
pub extern "C-unwind" fn agile_analytics_executor_main(arg: pg_sys::Datum) {
    signals();
    let db = pg_sys::Oid::from_u32(arg.value() as u32);
    let role: u32 = BackgroundWorker::get_extra().parse().unwrap_or(1);
    BackgroundWorker::connect_worker_to_spi_by_oid(Some(db), None);
    if registry::take(db, role).is_none() || !installed() {
        unsafe { pg_sys::proc_exit(0) };
    }
    let mut last_problem: Option<Instant> = None;
    loop {
        reload_if_asked();
        if role as i32 > gucs::job_workers() {
            break;
        }
        forget_cancel();
        match claim() {
            Ok(Some(job)) => run_one(&job),
            Ok(None) => wait(1000),
            Err(e) => {
                registry::end_attempt();
                if !installed() {
                    break;
                }
                if last_problem.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                    log!("agile_analytics jobs: claiming a job failed: {}", error_json(&e));
                    last_problem = Some(Instant::now());
                }
                wait(1000);
            }
        }
    }
    unsafe { pg_sys::proc_exit(0) };
}
