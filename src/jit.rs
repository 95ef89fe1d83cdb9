//! JIT for spec queries. A compiled spec reads one tenant's rows; PostgreSQL decides on JIT from the
//! plan's estimated cost, and a nested loop over status history can cross `jit_above_cost` while the
//! query itself runs in a few milliseconds: compiling then costs 10-20 ms more than it saves (measured:
//! p90 cycle time by issue type, 11 ms without JIT, 25-33 ms with it). Unless `analytics.jit` is on, the
//! extension switches `jit` off for its own query only, the way a function's `SET jit = off` clause does.

use pgrx::pg_sys;

/// Switches JIT off for what runs next unless analytics.jit allows it. Returns the GUC nest level to
/// pass to [`restore`] after the query; on an error, the (sub)transaction's abort restores it.
pub fn off_unless_allowed() -> Option<i32> {
    if crate::gucs::jit() {
        return None;
    }
    // SAFETY: a new GUC nest level and a SAVE-action change in it, as fmgr does for `SET` clauses.
    unsafe {
        let level = pg_sys::NewGUCNestLevel();
        pg_sys::set_config_option(
            c"jit".as_ptr(),
            c"off".as_ptr(),
            pg_sys::GucContext::PGC_USERSET,
            pg_sys::GucSource::PGC_S_SESSION,
            pg_sys::GucAction::GUC_ACTION_SAVE,
            true,
            0,
            false,
        );
        Some(level)
    }
}

/// Puts `jit` back as it was before [`off_unless_allowed`].
pub fn restore(level: Option<i32>) {
    if let Some(level) = level {
        // SAFETY: pops the nest level made by off_unless_allowed, in the same (sub)transaction.
        unsafe { pg_sys::AtEOXact_GUC(true, level) };
    }
}
