//! What every job worker process does the same way: signals, waiting, and transactions that commit
//! only when their work succeeded. pgrx's `BackgroundWorker::transaction` commits even when its closure
//! returns an error and leaves the transaction open when an ERROR is caught, so the workers use
//! [`in_tx`]: an ERROR, a panic or a failed commit rolls the transaction back, and the worker goes on.

use crate::error::ApiError;
use crate::search_path;
use pgrx::bgworkers::{BackgroundWorker, SignalWakeFlags};
use pgrx::prelude::*;
use std::panic::AssertUnwindSafe;

/// SIGHUP sets a flag (see [`reload_if_asked`]); SIGTERM is PostgreSQL's own `die`, which ends even a
/// running query (the attempt's transaction aborts, the slot is freed). SIGINT keeps PostgreSQL's
/// statement-cancel handler, so a cancel or the job's statement timeout interrupts the job's query.
pub fn signals() {
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGHUP);
    unsafe { pg_sys::pqsignal(pg_sys::SIGTERM as i32, Some(die)) };
}

unsafe extern "C-unwind" {
    /// PostgreSQL's SIGTERM handler of backends (tcop/postgres.c), itself: a signal handler.
    fn die(signal: std::ffi::c_int);
}

/// Reloads postgresql.conf after a SIGHUP.
pub fn reload_if_asked() {
    if BackgroundWorker::sighup_received() {
        unsafe { pg_sys::ProcessConfigFile(pg_sys::GucContext::PGC_SIGHUP) };
    }
}

/// Sleeps until the latch is set or `ms` pass; exits if the postmaster died or SIGTERM came. A
/// cancel that arrived for an attempt that is over is dropped here, so it cannot hit the next one.
pub fn wait(ms: i64) {
    unsafe {
        pg_sys::WaitLatch(
            pg_sys::MyLatch,
            (pg_sys::WL_LATCH_SET | pg_sys::WL_TIMEOUT | pg_sys::WL_EXIT_ON_PM_DEATH) as i32,
            ms,
            pg_sys::PG_WAIT_EXTENSION,
        );
        pg_sys::ResetLatch(pg_sys::MyLatch);
    }
    forget_cancel();
    pg_sys::check_for_interrupts!();
}

/// Drops a pending statement cancel (one that came after its attempt ended).
pub fn forget_cancel() {
    unsafe { pg_sys::QueryCancelPending = 0 as _ };
}

/// Runs `f` in a transaction of its own, with the pinned search path: committed when it returns Ok;
/// rolled back when it returns Err, raises an ERROR, panics, or the commit fails. Never unwinds.
pub fn in_tx<T>(f: impl FnOnce() -> Result<T, ApiError>) -> Result<T, ApiError> {
    unsafe {
        pg_sys::SetCurrentStatementStartTimestamp();
        pg_sys::StartTransactionCommand();
        pg_sys::PushActiveSnapshot(pg_sys::GetTransactionSnapshot());
    }
    let r = PgTryBuilder::new(AssertUnwindSafe(|| {
        let r = search_path::pinned(f);
        if r.is_ok() {
            unsafe {
                pg_sys::PopActiveSnapshot();
                pg_sys::CommitTransactionCommand();
            }
        }
        r
    }))
    .catch_others(|e| Err(ApiError::caught(&e)))
    .execute();
    if r.is_err() {
        unsafe { pg_sys::AbortCurrentTransaction() };
    }
    r
}

/// Whether the extension's job queue exists in this database (it may not be installed, or be 0.1.0).
pub fn installed() -> bool {
    matches!(in_tx(|| Ok(Spi::get_one::<bool>("SELECT pg_catalog.to_regclass('analytics.jobs') IS NOT NULL")?)), Ok(Some(true)))
}

/// An error as the `error` object of a job: {sqlstate, message, detail, hint}.
pub fn error_json(e: &ApiError) -> serde_json::Value {
    let (code, message, detail, hint) = e.parts();
    serde_json::json!({"sqlstate": sqlstate(code), "message": message, "detail": detail, "hint": hint})
}

/// The five-character SQLSTATE of an error code.
pub fn sqlstate(code: PgSqlErrorCode) -> String {
    let mut n = code as i32;
    let mut s = String::with_capacity(5);
    for _ in 0..5 {
        s.push(char::from(b'0' + (n & 0x3f) as u8));
        n >>= 6;
    }
    s
}
