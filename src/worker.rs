//! The extension's background worker. Registered when the library is in `shared_preload_libraries`;
//! it connects to `analytics.worker_database` and, every `analytics.refresh_interval` seconds (0 = off),
//! refreshes the materialized views there. A failed refresh is logged and retried at the next interval:
//! the refresh runs in a PL/pgSQL wrapper that catches errors, so SPI errors never end the worker.
//! Terminated, it exits with code 1, so that PostgreSQL starts it again after 10 s (its database may
//! have been dropped and made again).

use crate::{gucs, search_path};
use pgrx::bgworkers::{BackgroundWorker, BackgroundWorkerBuilder, BgWorkerStartTime, SignalWakeFlags};
use pgrx::prelude::*;
use std::time::{Duration, Instant};

/// Registers the worker (only possible while shared_preload_libraries are loaded).
pub fn register() {
    if !unsafe { pg_sys::process_shared_preload_libraries_in_progress } {
        return;
    }
    BackgroundWorkerBuilder::new("agile_analytics worker")
        .set_type("agile_analytics")
        .set_function("agile_analytics_worker_main")
        .set_library("agile_analytics")
        .enable_spi_access()
        .set_start_time(BgWorkerStartTime::RecoveryFinished)
        // The database may not exist yet (or be dropped later): try again after a pause.
        .set_restart_time(Some(Duration::from_secs(10)))
        .load();
}

/// One refresh attempt: None when the extension is not installed in this database or all went well,
/// otherwise the error text.
fn refresh_once() -> Option<String> {
    // The worker runs as a superuser with the database's default settings, which its owner may set
    // (ALTER DATABASE ... SET search_path): its SQL resolves names with the pinned path.
    BackgroundWorker::transaction(|| {
        search_path::pinned(|| {
            let installed = Spi::get_one::<bool>("SELECT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'agile_analytics')");
            match installed {
                Ok(Some(true)) => {
                    Spi::get_one::<String>("SELECT analytics._refresh_views_for_worker()").unwrap_or_else(|e| Some(e.to_string()))
                }
                Ok(_) => None,
                Err(e) => Some(e.to_string()),
            }
        })
    })
}

#[pg_guard]
#[unsafe(no_mangle)]
pub extern "C-unwind" fn agile_analytics_worker_main(_arg: pg_sys::Datum) {
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGHUP | SignalWakeFlags::SIGTERM);
    let database = gucs::worker_database();
    BackgroundWorker::connect_worker_to_spi(Some(&database), None);
    log!("agile_analytics worker started in database {database}");
    let mut last_refresh: Option<Instant> = None;
    while BackgroundWorker::wait_latch(Some(Duration::from_secs(1))) {
        if BackgroundWorker::sighup_received() {
            unsafe { pg_sys::ProcessConfigFile(pg_sys::GucContext::PGC_SIGHUP) };
        }
        let interval = gucs::refresh_interval();
        if interval <= 0 {
            continue;
        }
        let due = last_refresh.is_none_or(|t| t.elapsed() >= Duration::from_secs(interval as u64));
        if !due {
            continue;
        }
        last_refresh = Some(Instant::now());
        if let Some(err) = refresh_once() {
            warning!("agile_analytics worker: refreshing the materialized views failed: {err}");
        }
    }
    // Terminated (pg_terminate_backend, DROP DATABASE ... WITH (FORCE), or server shutdown). Exit code 1
    // lets PostgreSQL start the worker again after its restart time (a worker that exits with 0 is never
    // restarted); at shutdown nothing is restarted either way.
    unsafe { pg_sys::proc_exit(1) };
}
