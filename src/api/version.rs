//! `analytics.analytics_version()`: what is installed, for bug reports and support.

use pgrx::prelude::*;
use pgrx::JsonB;

/// Versions of the extension, its pure core, pgrx and the PostgreSQL server, plus the session's tenant.
#[pg_extern(stable, parallel_safe, schema = "analytics")]
fn analytics_version() -> JsonB {
    let server = unsafe { std::ffi::CStr::from_ptr(pgrx::pg_sys::PG_VERSION_STR.as_ptr()) }.to_string_lossy().into_owned();
    JsonB(serde_json::json!({
        "extension": env!("CARGO_PKG_VERSION"),
        "core": analytics_core::VERSION,
        "postgres": server,
        "tenant_id": crate::gucs::tenant_id(),
    }))
}
