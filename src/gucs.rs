//! Every `analytics.*` setting, defined in one place. Each has a typed accessor.
//!
//! | setting | type | default | who may set | meaning |
//! |---|---|---|---|---|
//! | `analytics.tenant_id` | text | empty | anyone | the tenant this session works for; empty = none (sees nothing) |
//! | `analytics.statement_timeout` | integer (ms) | 30000 | anyone | longest a spec query may run; 0 = no limit of ours |
//! | `analytics.cache_ttl` | integer (s) | 300 | anyone | how long analytics_run results are cached; 0 = no cache |
//! | `analytics.refresh_interval` | integer (s) | 0 | postgresql.conf (reload) | the worker refreshes the materialized views this often; 0 = off |
//! | `analytics.worker_database` | text | postgres | postgresql.conf (restart) | the database the background worker works in |

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};
use std::ffi::CString;

/// The session's tenant. Row-level security reads it through `analytics.current_tenant()`, which works
/// even in sessions that never load this library (PostgreSQL then keeps it as a placeholder setting).
pub static TENANT_ID: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// Longest a compiled spec may run, in milliseconds (0: no limit of ours).
pub static STATEMENT_TIMEOUT: GucSetting<i32> = GucSetting::<i32>::new(30_000);

/// Seconds a cached analytics_run result stays valid (0: no caching).
pub static CACHE_TTL: GucSetting<i32> = GucSetting::<i32>::new(300);

/// Seconds between refreshes of the materialized views by the background worker; 0 = off.
pub static REFRESH_INTERVAL: GucSetting<i32> = GucSetting::<i32>::new(0);

/// The database the background worker connects to.
pub static WORKER_DATABASE: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(Some(c"postgres"));

pub fn init() {
    GucRegistry::define_int_guc(
        c"analytics.cache_ttl",
        c"Seconds an analytics_run result stays in the cache (0: no caching).",
        c"Any write to a tenant's data, any catalog change and any view refresh also invalidate cached results.",
        &CACHE_TTL,
        0,
        7 * 24 * 3600,
        GucContext::Userset,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_int_guc(
        c"analytics.statement_timeout",
        c"Longest an analytics query (analytics_run, analytics_rows) may run, in milliseconds (0: no limit of ours).",
        c"Longer questions belong in async jobs. A session statement_timeout, when one is running, governs instead.",
        &STATEMENT_TIMEOUT,
        0,
        24 * 3600 * 1000,
        GucContext::Userset,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_int_guc(
        c"analytics.refresh_interval",
        c"Seconds between refreshes of the materialized views by the agile_analytics background worker (0: off).",
        c"Needs agile_analytics in shared_preload_libraries. Alternatives: analytics_schedule_refresh() with pg_cron, or analytics_refresh_views() by hand.",
        &REFRESH_INTERVAL,
        0,
        7 * 24 * 3600,
        GucContext::Sighup,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_string_guc(
        c"analytics.worker_database",
        c"The database the agile_analytics background worker connects to.",
        c"The worker refreshes the materialized views of the extension installed in this database.",
        &WORKER_DATABASE,
        GucContext::Postmaster,
        GucFlags::default(),
    );
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

pub fn statement_timeout() -> i32 {
    STATEMENT_TIMEOUT.get()
}

pub fn cache_ttl() -> i32 {
    CACHE_TTL.get()
}

pub fn refresh_interval() -> i32 {
    REFRESH_INTERVAL.get()
}

pub fn worker_database() -> String {
    WORKER_DATABASE.get().and_then(|c| c.into_string().ok()).filter(|s| !s.is_empty()).unwrap_or_else(|| "postgres".into())
}

/// The current tenant, or `None` when unset or empty.
pub fn tenant_id() -> Option<String> {
    TENANT_ID.get().and_then(|c| c.into_string().ok()).filter(|s| !s.is_empty())
}
