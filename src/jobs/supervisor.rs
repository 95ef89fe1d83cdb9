//! A database's job supervisor: starts (and restarts) its `analytics.job_workers` executors, and in
//! short transactions of its own publishes what their attempts cannot (an attempt commits only at its
//! end): heartbeats, progress with NOTIFY (at most 4 a second per job), and cancels that did not reach
//! an executor at once. It rescues jobs whose attempt stopped (missed heartbeats, no live executor),
//! deletes finished jobs after `analytics.job_retention`, and — in `analytics.worker_database` — queues
//! a `refresh_views` job every `analytics.refresh_interval` seconds.

use super::attempt::notify;
use super::registry::{self, SUPERVISOR};
use super::tx::{error_json, in_tx, installed, reload_if_asked, signals, wait};
use crate::error::ApiError;
use crate::gucs;
use analytics_core::jobs::ProgressThrottle;
use pgrx::bgworkers::{BackgroundWorker, BackgroundWorkerBuilder, BackgroundWorkerStatus, DynamicBackgroundWorker};
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::{PgMemoryContexts, Uuid};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A running attempt's heartbeat is written this often.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// An attempt whose heartbeat is older than this, and whose executor is gone, is rescued.
pub const RESCUE_AFTER_S: f64 = 10.0;

/// Starts a background worker for database `db` (outside any transaction, in TopMemoryContext: the
/// handle must outlive it).
pub fn start(db: pg_sys::Oid, name: &str, kind: &str, function: &str, extra: &str) -> Option<DynamicBackgroundWorker> {
    let b = BackgroundWorkerBuilder::new(name)
        .set_type(kind)
        .set_library("agile_analytics")
        .set_function(function)
        .enable_spi_access()
        .set_argument(Some(pg_sys::Datum::from(db.to_u32())))
        .set_extra(extra)
        .set_notify_pid(unsafe { pg_sys::MyProcPid })
        .set_restart_time(None);
    unsafe { PgMemoryContexts::TopMemoryContext.switch_to(|_| b.load_dynamic()) }.ok()
}

/// Whether a started worker may still be running (or is about to).
pub fn pending(h: &Option<DynamicBackgroundWorker>) -> bool {
    match h {
        Some(h) => matches!(h.pid(), Ok(_) | Err(BackgroundWorkerStatus::NotYetStarted)),
        None => false,
    }
}

struct Executor {
    handle: Option<DynamicBackgroundWorker>,
    next_try: Instant,
    backoff: Duration,
}

struct Published {
    progress: f32,
    stage: &'static str,
    heartbeat: Instant,
    throttle: ProgressThrottle,
}

struct Supervisor {
    db: pg_sys::Oid,
    executors: Vec<Executor>,
    published: HashMap<Uuid, Published>,
    epoch: Instant,
    warned_budget: bool,
    /// Whether this is analytics.worker_database, whose supervisor queues the periodic refreshes.
    refresher: bool,
    next_refresh: Instant,
    next_embed: Instant,
}

impl Supervisor {
    fn executors(&mut self) {
        let want = gucs::job_workers().max(0) as usize;
        while self.executors.len() < want {
            self.executors.push(Executor { handle: None, next_try: Instant::now(), backoff: Duration::from_secs(1) });
        }
        let now = Instant::now();
        for (i, e) in self.executors.iter_mut().enumerate().take(want) {
            let role = (i + 1) as u32;
            if registry::has(self.db, role) || pending(&e.handle) || now < e.next_try {
                continue;
            }
            let name = format!("agile_analytics jobs {} executor {role}", self.db.to_u32());
            e.handle = start(self.db, &name, "agile_analytics jobs", "agile_analytics_executor_main", &role.to_string());
            if e.handle.is_none() {
                e.next_try = now + e.backoff;
                e.backoff = (e.backoff * 2).min(Duration::from_secs(60));
                if !self.warned_budget {
                    self.warned_budget = true;
                    ErrorReport::new(
                        PgSqlErrorCode::ERRCODE_CONFIGURATION_LIMIT_EXCEEDED,
                        "agile_analytics could not start a job executor: no background worker slot is free",
                        "agile_analytics",
                    )
                    .set_hint("Raise max_worker_processes (each database with agile_analytics uses 1 + analytics.job_workers).")
                    .report(PgLogLevel::LOG);
                }
            } else {
                e.backoff = Duration::from_secs(1);
            }
        }
    }

    /// Heartbeats and progress of the running attempts; interrupts those with a cancel pending.
    fn publish(&mut self) -> Result<(), ApiError> {
        let live = registry::live(self.db);
        let now = Instant::now();
        let ms = now.duration_since(self.epoch).as_millis() as u64;
        let (mut ids, mut tokens, mut progress, mut stages, mut notify_ids) = (vec![], vec![], vec![], vec![], vec![]);
        let mut pids = HashMap::new();
        for l in &live {
            let p = self.published.entry(l.job).or_insert_with(|| Published {
                progress: 0.0,
                stage: "started",
                heartbeat: now,
                throttle: ProgressThrottle::default(),
            });
            let changed = l.progress > p.progress || l.stage != p.stage;
            let step = changed && p.throttle.publish(ms);
            if step || now.duration_since(p.heartbeat) >= HEARTBEAT {
                if step {
                    p.progress = l.progress;
                    p.stage = l.stage;
                    notify_ids.push(l.job);
                }
                p.heartbeat = now;
                ids.push(l.job);
                tokens.push(l.token);
                progress.push(p.progress);
                stages.push(p.stage.to_string());
                pids.insert(l.job, l.pid);
            }
        }
        self.published.retain(|id, _| live.iter().any(|l| l.job == *id));
        if ids.is_empty() {
            return Ok(());
        }
        let rows = in_tx(|| {
            Spi::connect_mut(|c| {
                let t = c.update(
                    "WITH live AS (SELECT * FROM ROWS FROM (pg_catalog.unnest($1::uuid[]), pg_catalog.unnest($2::uuid[]),
                              pg_catalog.unnest($3::real[]), pg_catalog.unnest($4::text[])) AS l(id, token, progress, stage)),
                          hb AS MATERIALIZED (SELECT j.tenant_id, j.id, l.token, l.progress, l.stage FROM analytics.jobs j
                              JOIN live l ON j.id = l.id AND j.attempt_token = l.token
                              WHERE j.state = 'running' FOR UPDATE OF j SKIP LOCKED)
                     UPDATE analytics.jobs j SET heartbeat_at = pg_catalog.now(),
                            progress = GREATEST(j.progress, hb.progress), stage = hb.stage
                     FROM hb WHERE j.tenant_id = hb.tenant_id AND j.id = hb.id AND j.attempt_token = hb.token
                     RETURNING j.id, j.progress, j.stage, j.cancel_requested",
                    None,
                    &[ids.clone().into(), tokens.clone().into(), progress.clone().into(), stages.clone().into()],
                )?;
                let mut out = vec![];
                for r in t {
                    out.push((
                        r.get::<Uuid>(1)?.unwrap_or_else(|| Uuid::from_bytes([0; 16])),
                        r.get::<f32>(2)?.unwrap_or_default(),
                        r.get::<String>(3)?.unwrap_or_default(),
                        r.get::<bool>(4)?.unwrap_or(false),
                    ));
                }
                Ok::<_, pgrx::spi::Error>(out)
            })
            .map_err(ApiError::from)
        })?;
        for (id, _, _, cancel) in &rows {
            if *cancel {
                if let Some(&pid) = pids.get(id) {
                    if registry::runs(pid, id) {
                        registry::interrupt(pid);
                    }
                }
            }
        }
        let steps: Vec<_> = rows.iter().filter(|(id, _, _, cancel)| !cancel && notify_ids.contains(id)).collect();
        if !steps.is_empty() {
            in_tx(|| {
                for (id, p, stage, _) in &steps {
                    notify(id, "running", (f64::from(*p) * 1000.0).round() / 1000.0, stage)?;
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Requeues (or fails, or cancels) the running jobs whose attempt stopped: no heartbeat for
    /// RESCUE_AFTER_S and no live executor with their token. The attempt counts.
    fn rescue(&self) -> Result<(), ApiError> {
        let candidates = in_tx(|| {
            Spi::connect(|c| {
                let t = c.select(
                    "SELECT tenant_id, id, attempt_token FROM analytics.jobs
                     WHERE state = 'running' AND heartbeat_at < pg_catalog.now() - pg_catalog.make_interval(secs => $1)",
                    None,
                    &[RESCUE_AFTER_S.into()],
                )?;
                let mut out = vec![];
                for r in t {
                    out.push((r.get::<String>(1)?.unwrap_or_default(), r.get::<Uuid>(2)?, r.get::<Uuid>(3)?));
                }
                Ok::<_, pgrx::spi::Error>(out)
            })
            .map_err(ApiError::from)
        })?;
        if candidates.is_empty() {
            return Ok(());
        }
        // Read after the candidates' snapshot: a claim committed before it published its slot first.
        let live = registry::live(self.db);
        let dead: Vec<_> = candidates.into_iter().filter(|(_, _, token)| !live.iter().any(|l| Some(l.token) == *token)).collect();
        if dead.is_empty() {
            return Ok(());
        }
        let tenants: Vec<String> = dead.iter().map(|d| d.0.clone()).collect();
        let ids: Vec<Option<Uuid>> = dead.iter().map(|d| d.1).collect();
        let tokens: Vec<Option<Uuid>> = dead.iter().map(|d| d.2).collect();
        in_tx(|| {
            let rescued = Spi::connect_mut(|c| {
                let t = c.update(
                    "UPDATE analytics.jobs j SET
                         state = CASE WHEN j.cancel_requested THEN 'cancelled' WHEN j.attempt < j.max_attempts THEN 'queued' ELSE 'failed' END,
                         finished_at = CASE WHEN NOT j.cancel_requested AND j.attempt < j.max_attempts THEN NULL ELSE pg_catalog.now() END,
                         stage = CASE WHEN j.cancel_requested THEN 'cancelled' WHEN j.attempt < j.max_attempts THEN 'retry' ELSE 'failed' END,
                         run_after = pg_catalog.now(), attempt_token = NULL, worker_pid = NULL,
                         error = CASE WHEN j.cancel_requested THEN NULL ELSE pg_catalog.jsonb_build_object('sqlstate', '57P01',
                             'message', 'the worker running this attempt stopped', 'detail', NULL, 'hint', NULL) END
                     FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::uuid[]), pg_catalog.unnest($3::uuid[]))
                         AS c(tenant_id, id, token)
                     WHERE j.tenant_id = c.tenant_id AND j.id = c.id AND j.attempt_token = c.token AND j.state = 'running'
                       AND j.heartbeat_at < pg_catalog.now() - pg_catalog.make_interval(secs => $4)
                     RETURNING j.id, j.state",
                    None,
                    &[tenants.clone().into(), ids.clone().into(), tokens.clone().into(), RESCUE_AFTER_S.into()],
                )?;
                let mut out = vec![];
                for r in t {
                    out.push((r.get::<Uuid>(1)?, r.get::<String>(2)?.unwrap_or_default()));
                }
                Ok::<_, pgrx::spi::Error>(out)
            })?;
            for (id, state) in &rescued {
                if let Some(id) = id {
                    let stage = if state == "queued" { "retry" } else { state.as_str() };
                    notify(id, state, 0.0, stage)?;
                }
            }
            if !rescued.is_empty() {
                log!("agile_analytics jobs: rescued {} job(s) whose worker stopped", rescued.len());
                registry::wake_at_commit();
            }
            Ok(())
        })
    }

    /// Every analytics.refresh_interval seconds (0: never), a refresh_views job for the tenants whose
    /// statistics are stale, as the extension's owner (tenant `*`); none while one is queued or running.
    fn schedule_refresh(&mut self) -> Result<(), ApiError> {
        let interval = gucs::refresh_interval();
        if !self.refresher || interval <= 0 || Instant::now() < self.next_refresh {
            return Ok(());
        }
        self.next_refresh = Instant::now() + Duration::from_secs(interval as u64);
        in_tx(|| {
            let id = Spi::get_one::<Uuid>(
                "WITH ins AS (
                     INSERT INTO analytics.jobs (tenant_id, kind, payload, payload_hash, settings, submitted_by, max_attempts)
                     SELECT '*', 'refresh_views', '{\"stale_only\": true}', 'analytics.refresh_interval', '{}', e.extowner, 1
                     FROM pg_catalog.pg_extension e WHERE e.extname = 'agile_analytics'
                     ON CONFLICT DO NOTHING RETURNING id)
                 SELECT (SELECT id FROM ins)",
            )?;
            if let Some(id) = id {
                notify(&id, "queued", 0.0, "queued")?;
                registry::wake_at_commit();
            }
            Ok(())
        })
    }

    /// Every analytics.embed_interval seconds (0: never), when embeddings can be made (a remote provider,
    /// or the builtin model's files installed), an embed
    /// job for each tenant marked in analytics.embedding_queue (its issues were added or their texts
    /// changed), as the extension's owner, at a low priority. A mark is cleared only where a queued
    /// job (new or already there) will see the changes that made it; a tenant whose embed job is
    /// running keeps its mark for the next look.
    fn schedule_embeds(&mut self) -> Result<(), ApiError> {
        let interval = gucs::embed_interval();
        if interval <= 0 || Instant::now() < self.next_embed {
            return Ok(());
        }
        self.next_embed = Instant::now() + Duration::from_secs(interval as u64);
        if !crate::embedder::ready() {
            return Ok(());
        }
        in_tx(|| {
            let ids = Spi::get_one::<Vec<Uuid>>(
                "WITH marked AS MATERIALIZED (
                     SELECT q.tenant_id FROM analytics.embedding_queue q ORDER BY q.marked_at LIMIT 1000 FOR UPDATE SKIP LOCKED),
                 ins AS (
                     INSERT INTO analytics.jobs (tenant_id, kind, payload, payload_hash, settings, submitted_by, max_attempts, priority)
                     SELECT m.tenant_id, 'embed', '{}', 'analytics.embed_interval', '{}', e.extowner, 3, -10
                     FROM marked m, pg_catalog.pg_extension e WHERE e.extname = 'agile_analytics'
                       AND NOT EXISTS (SELECT FROM analytics.jobs j WHERE j.tenant_id = m.tenant_id AND j.kind = 'embed'
                                       AND j.payload_hash = 'analytics.embed_interval' AND j.state IN ('queued', 'running'))
                     ON CONFLICT DO NOTHING RETURNING tenant_id, id),
                 cleared AS (
                     DELETE FROM analytics.embedding_queue q USING marked m WHERE q.tenant_id = m.tenant_id
                       AND (m.tenant_id IN (SELECT tenant_id FROM ins)
                            OR EXISTS (SELECT FROM analytics.jobs j WHERE j.tenant_id = m.tenant_id AND j.kind = 'embed' AND j.state = 'queued'))
                     RETURNING q.tenant_id)
                 SELECT coalesce(pg_catalog.array_agg(id), '{}') FROM ins",
            )?
            .unwrap_or_default();
            for id in &ids {
                notify(id, "queued", 0.0, "queued")?;
            }
            if !ids.is_empty() {
                registry::wake_at_commit();
            }
            Ok(())
        })
    }

    /// Deletes finished jobs (and their results) older than analytics.job_retention.
    fn prune(&self) -> Result<(), ApiError> {
        let secs = f64::from(gucs::job_retention());
        in_tx(|| {
            Spi::run_with_args(
                "DELETE FROM analytics.jobs WHERE state IN ('completed', 'failed', 'cancelled')
                   AND finished_at < pg_catalog.now() - pg_catalog.make_interval(secs => $1)",
                &[secs.into()],
            )?;
            Ok(())
        })
    }
}

#[pg_guard]
#[unsafe(no_mangle)]
pub extern "C-unwind" fn agile_analytics_supervisor_main(arg: pg_sys::Datum) {
    signals();
    let db = pg_sys::Oid::from_u32(arg.value() as u32);
    BackgroundWorker::connect_worker_to_spi_by_oid(Some(db), None);
    if registry::take(db, SUPERVISOR).is_none() {
        unsafe { pg_sys::proc_exit(0) };
    }
    if !installed() {
        registry::mark_absent(db);
        unsafe { pg_sys::proc_exit(0) };
    }
    let database = in_tx(|| Ok(Spi::get_one::<String>("SELECT pg_catalog.current_database()::text")?)).ok().flatten();
    let mut s = Supervisor {
        db,
        executors: vec![],
        published: HashMap::new(),
        epoch: Instant::now(),
        warned_budget: false,
        refresher: database.as_deref() == Some(gucs::worker_database().as_str()),
        next_refresh: Instant::now(),
        next_embed: Instant::now(),
    };
    let (mut last_rescue, mut last_prune, mut last_check) = (None::<Instant>, None::<Instant>, Instant::now());
    let mut last_problem: Option<Instant> = None;
    loop {
        reload_if_asked();
        s.executors();
        let mut problem = s.publish().err();
        if last_rescue.is_none_or(|t| t.elapsed() >= Duration::from_secs(2)) {
            last_rescue = Some(Instant::now());
            problem = problem.or(s.rescue().err());
        }
        problem = problem.or(s.schedule_refresh().err());
        problem = problem.or(s.schedule_embeds().err());
        if last_prune.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
            last_prune = Some(Instant::now());
            problem = problem.or(s.prune().err());
        }
        if problem.is_some() || last_check.elapsed() >= Duration::from_secs(10) {
            last_check = Instant::now();
            if !installed() {
                registry::mark_absent(db);
                break;
            }
        }
        if let Some(e) = problem {
            if last_problem.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                log!("agile_analytics jobs supervisor: {}", error_json(&e));
                last_problem = Some(Instant::now());
            }
        }
        wait(if registry::live(db).is_empty() { 1000 } else { 250 });
    }
    unsafe { pg_sys::proc_exit(0) };
}
