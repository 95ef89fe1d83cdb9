//! The statement timeout of analytics queries. PostgreSQL arms `statement_timeout` only when a top-level
//! statement starts, not for queries run through SPI inside a function, so the extension arms the same
//! timer itself around the query it runs (`utils/timeout.h`, PostgreSQL 15).

use std::ffi::c_int;

/// `STATEMENT_TIMEOUT` in PostgreSQL 15's `enum TimeoutId`.
const STATEMENT_TIMEOUT: c_int = 3;

unsafe extern "C-unwind" {
    fn enable_timeout_after(id: c_int, delay_ms: c_int);
    fn disable_timeout(id: c_int, keep_indicator: bool);
    fn get_timeout_active(id: c_int) -> bool;
}

/// Arms the statement timer for `ms` milliseconds unless a statement timeout is already running (then
/// the session's own `statement_timeout` governs). Returns whether it armed it, to pass to [`disarm`].
pub fn arm(ms: i32) -> bool {
    if ms <= 0 || unsafe { get_timeout_active(STATEMENT_TIMEOUT) } {
        return false;
    }
    unsafe { enable_timeout_after(STATEMENT_TIMEOUT, ms) };
    true
}

pub fn disarm(armed: bool) {
    if armed {
        unsafe { disable_timeout(STATEMENT_TIMEOUT, false) };
    }
}
