//! Every `analytics.*` setting, defined in one place. Each has a typed accessor.
//!
//! | setting | type | default | who may set | meaning |
//! |---|---|---|---|---|
//! | `analytics.tenant_id` | text | empty | anyone | the tenant this session works for; empty = none (sees nothing) |

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use std::ffi::CString;

/// The session's tenant. Row-level security reads it through `analytics.current_tenant()`, which works
/// even in sessions that never load this library (PostgreSQL then keeps it as a placeholder setting).
pub static TENANT_ID: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

pub fn init() {
    GucRegistry::define_string_guc(
        c"analytics.tenant_id",
        c"The tenant this session reads and writes (empty: none, and every tenant-scoped table looks empty).",
        c"Row-level security on every analytics table compares tenant_id with this setting. Set it per session or transaction, e.g. SET analytics.tenant_id = 'acme'.",
        &TENANT_ID,
        GucContext::Userset,
        GucFlags::default(),
    );
    // Typos such as `SET analytics.tennant_id` become errors instead of silent placeholders.
    unsafe { pgrx::pg_sys::MarkGUCPrefixReserved(c"analytics".as_ptr()) };
}

/// The current tenant, or `None` when unset or empty.
pub fn tenant_id() -> Option<String> {
    TENANT_ID.get().and_then(|c| c.into_string().ok()).filter(|s| !s.is_empty())
}
