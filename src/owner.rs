//! Running SQL as the extension's owner, for the tables users have no privileges on (the result cache,
//! the job queue): the caller's identity is restored afterwards, errors included.

use crate::error::ApiError;
use crate::search_path;
use pgrx::prelude::*;

/// Runs `f` with the extension owner's identity (as SECURITY DEFINER functions do), then restores the
/// caller's. Names resolve with the pinned search path (`crate::search_path`), and the security context
/// is restricted as PostgreSQL's own maintenance commands do when they run as a table's owner: no
/// `SET ROLE`, no temporary objects. An error inside is re-raised after the identity is restored.
pub fn as_owner<R>(f: impl FnOnce() -> R + std::panic::UnwindSafe) -> Result<R, ApiError> {
    let owner = crate::catalog_cache::get()?.owner;
    let mut user = pg_sys::Oid::INVALID;
    let mut context: std::ffi::c_int = 0;
    unsafe { pg_sys::GetUserIdAndSecContext(&mut user, &mut context) };
    let restricted = context | (pg_sys::SECURITY_LOCAL_USERID_CHANGE | pg_sys::SECURITY_RESTRICTED_OPERATION) as std::ffi::c_int;
    let r = search_path::pinned(|| {
        unsafe { pg_sys::SetUserIdAndSecContext(owner, restricted) };
        PgTryBuilder::new(f).finally(|| unsafe { pg_sys::SetUserIdAndSecContext(user, context) }).execute()
    });
    Ok(r)
}
