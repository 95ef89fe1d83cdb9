//! Name resolution that no caller can change. `search_path` is an ordinary user setting: a caller who
//! puts a schema of her own before `pg_catalog` (or who has CREATE on a schema in a colleague's path)
//! can shadow `=`, `now()`, `lower(text)`, `count(bigint)` or a table name, and every unqualified name
//! in SQL the extension runs would then resolve to her objects: run with the extension owner's rights
//! where the extension switches user, and changing what is stored in the shared result cache
//! everywhere else (the CVE-2018-1058 class of bugs). So all SQL of the extension is resolved with
//! `search_path = pg_catalog, pg_temp`:
//! - SQL functions have SQL-standard bodies (names resolved once, at CREATE EXTENSION), PL/pgSQL
//!   functions a `SET search_path` clause;
//! - Rust functions that run SQL carry `#[search_path(pg_catalog, pg_temp)]` (the same SET clause);
//! - where a SET clause would cost every call (analytics_compile, which runs SQL only to load the
//!   catalog) and on the paths that switch user or run in the worker, [`pinned`] sets it around the
//!   query (a no-op when a SET clause already did).
//!
//! pg_temp comes last so a caller's temporary tables never come first (PostgreSQL searches pg_temp
//! first unless it is listed); functions and operators are never looked up in pg_temp.
//! `tests/regress/hostile_path.sh` plants look-alikes of pg_catalog's functions, operators and the
//! extension's tables and calls every function of the extension through them.

use pgrx::pg_sys;
use std::ffi::CStr;

/// The search path all of the extension's SQL runs with.
pub const PINNED: &CStr = c"pg_catalog, pg_temp";

/// Whether the search path in force is already [`PINNED`] (a function's SET clause set it).
pub fn is_pinned() -> bool {
    // SAFETY: the GUC's current value, a NUL-terminated string owned by guc.c (never NULL once GUCs are
    // initialized; checked anyway).
    unsafe {
        let current = pg_sys::namespace_search_path;
        !current.is_null() && CStr::from_ptr(current) == PINNED
    }
}

/// Runs `f` with `search_path` pinned to [`PINNED`], then puts it back as it was. When `f` raises an
/// error, the (sub)transaction's abort restores it, as it does for a function's SET clause.
pub fn pinned<T>(f: impl FnOnce() -> T) -> T {
    if is_pinned() {
        return f();
    }
    let level = scoped_setting(c"search_path", PINNED);
    let result = f();
    end_scope(level);
    result
}

/// Opens a GUC nest level and changes one setting in it for the current user's session, as fmgr does
/// for a function's `SET name = value` clause. Returns the level to pass to [`end_scope`].
pub(crate) fn scoped_setting(name: &CStr, value: &CStr) -> i32 {
    // SAFETY: a new nest level; the caller pops it with end_scope in the same (sub)transaction (or the
    // abort pops it).
    let level = unsafe { pg_sys::NewGUCNestLevel() };
    set_in_scope(name, value);
    level
}

/// Changes a setting for the current user's session in the innermost GUC nest level (saved, so popping
/// the level restores it). An invalid value raises an ERROR.
pub(crate) fn set_in_scope(name: &CStr, value: &CStr) {
    // SAFETY: NUL-terminated strings; a SAVE-action change, undone when its nest level is popped.
    unsafe {
        pg_sys::set_config_option(
            name.as_ptr(),
            value.as_ptr(),
            pg_sys::GucContext::PGC_USERSET,
            pg_sys::GucSource::PGC_S_SESSION,
            pg_sys::GucAction::GUC_ACTION_SAVE,
            true,
            0,
            false,
        );
    }
}

/// Pops a nest level opened by [`scoped_setting`], restoring what it changed.
pub(crate) fn end_scope(level: i32) {
    // SAFETY: `level` came from scoped_setting in this (sub)transaction.
    unsafe { pg_sys::AtEOXact_GUC(true, level) };
}
