//! The job launcher: one static background worker (registered in `_PG_init`) with no database of its
//! own. It lists the databases (`pg_database`, as autovacuum does) and keeps a supervisor running in
//! each: a supervisor that finds no agile_analytics there exits, and the launcher looks again after a
//! minute — at once when a transaction there asks (`CREATE`/`ALTER EXTENSION` and every submit in a
//! database without executors wake it at commit). A supervisor that stopped otherwise (terminated,
//! crashed) is started again after 1 s, backing off to a minute while it keeps stopping at once.

use super::registry::{self, SUPERVISOR};
use super::supervisor::{pending, start};
use super::tx::{reload_if_asked, signals, wait};
use pgrx::bgworkers::{BackgroundWorker, BackgroundWorkerBuilder, BgWorkerStartTime, DynamicBackgroundWorker};
use pgrx::prelude::*;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Registers the launcher (only possible while shared_preload_libraries load).
pub fn register() {
    if !unsafe { pg_sys::process_shared_preload_libraries_in_progress } {
        return;
    }
    BackgroundWorkerBuilder::new("agile_analytics job launcher")
        .set_type("agile_analytics launcher")
        .set_library("agile_analytics")
        .set_function("agile_analytics_launcher_main")
        .enable_spi_access()
        .set_start_time(BgWorkerStartTime::RecoveryFinished)
        .set_restart_time(Some(Duration::from_secs(5)))
        .load();
}

/// The databases that accept connections and are not templates.
fn databases() -> Vec<pg_sys::Oid> {
    let mut out = Vec::new();
    // SAFETY: a catalog scan of the shared pg_database in a transaction of its own, as autovacuum's
    // get_database_list does.
    unsafe {
        pg_sys::SetCurrentStatementStartTimestamp();
        pg_sys::StartTransactionCommand();
        let _ = pg_sys::GetTransactionSnapshot();
        let rel = pg_sys::table_open(pg_sys::DatabaseRelationId, pg_sys::AccessShareLock as i32);
        let scan = pg_sys::table_beginscan_catalog(rel, 0, std::ptr::null_mut());
        loop {
            let t = pg_sys::heap_getnext(scan, pg_sys::ScanDirection::ForwardScanDirection);
            if t.is_null() {
                break;
            }
            let d = &*(pg_sys::GETSTRUCT(t) as *const pg_sys::FormData_pg_database);
            if d.datallowconn && !d.datistemplate {
                out.push(d.oid);
            }
        }
        pg_sys::table_endscan(scan);
        pg_sys::table_close(rel, pg_sys::AccessShareLock as i32);
        pg_sys::CommitTransactionCommand();
    }
    out
}

struct Child {
    handle: Option<DynamicBackgroundWorker>,
    started: Instant,
    next_try: Instant,
    /// Asked for while a supervisor was still running (it may be on its way out).
    asked: bool,
    /// The pause before the next start after a supervisor stopped for another reason than "no extension".
    backoff: Duration,
}

#[pg_guard]
#[unsafe(no_mangle)]
pub extern "C-unwind" fn agile_analytics_launcher_main(_arg: pg_sys::Datum) {
    signals();
    BackgroundWorker::connect_worker_to_spi(None, None);
    registry::set_launcher();
    let mut children: HashMap<u32, Child> = HashMap::new();
    let mut dbs = Vec::new();
    let mut last_scan: Option<Instant> = None;
    loop {
        reload_if_asked();
        let asked = registry::take_requests();
        let now = Instant::now();
        for db in &asked {
            if let Some(c) = children.get_mut(&db.to_u32()) {
                c.next_try = now;
                c.asked = true;
            }
        }
        if !asked.is_empty() || last_scan.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
            dbs = databases();
            last_scan = Some(now);
            children.retain(|db, _| dbs.iter().any(|d| d.to_u32() == *db));
        }
        for db in &dbs {
            let c = children.entry(db.to_u32()).or_insert(Child {
                handle: None,
                started: now,
                next_try: now,
                asked: false,
                backoff: Duration::from_secs(1),
            });
            if registry::has(*db, SUPERVISOR) || pending(&c.handle) {
                continue;
            }
            if c.handle.take().is_some() {
                // It stopped. No extension there: look again in a minute, or when asked. Otherwise
                // (terminated, crashed): again soon, backing off while it keeps stopping at once.
                if registry::take_absent(*db) {
                    c.next_try = now + Duration::from_secs(60);
                } else {
                    if now.duration_since(c.started) > Duration::from_secs(60) {
                        c.backoff = Duration::from_secs(1);
                    }
                    c.next_try = now + c.backoff;
                    c.backoff = (c.backoff * 2).min(Duration::from_secs(60));
                }
                if c.asked {
                    c.next_try = now;
                }
            }
            if now >= c.next_try {
                let name = format!("agile_analytics jobs {} supervisor", db.to_u32());
                c.handle = start(*db, &name, "agile_analytics supervisor", "agile_analytics_supervisor_main", "0");
                c.started = now;
                c.asked = false;
                if c.handle.is_none() {
                    c.next_try = now + Duration::from_secs(10);
                }
            }
        }
        wait(1000);
    }
}
