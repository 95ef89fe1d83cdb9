//! The result cache of `analytics_run` (tables in `sql/014_cache.sql`). Users cannot read or write the
//! cache tables: the extension does, as the extension's owner, always for the session's tenant, so no
//! user can plant a result that a colleague would be served. Hit and miss counters live in shared
//! memory when the library is preloaded (else they count this session only).

use crate::error::ApiError;
use crate::{gucs, search_path, spi_read};
use analytics_core::spec::model::sha256_hex;
use pgrx::prelude::*;
use pgrx::{pg_shmem_init, JsonB, PgAtomic};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

static HITS: PgAtomic<AtomicU64> = unsafe { PgAtomic::new(c"agile_analytics_cache_hits") };
static MISSES: PgAtomic<AtomicU64> = unsafe { PgAtomic::new(c"agile_analytics_cache_misses") };
static SHARED: AtomicBool = AtomicBool::new(false);
static LOCAL_HITS: AtomicU64 = AtomicU64::new(0);
static LOCAL_MISSES: AtomicU64 = AtomicU64::new(0);

/// Reserves the shared counters; only possible while shared_preload_libraries load.
pub fn init_shared_memory() {
    if unsafe { pg_sys::process_shared_preload_libraries_in_progress } {
        pg_shmem_init!(HITS);
        pg_shmem_init!(MISSES);
        SHARED.store(true, Ordering::Relaxed);
    }
}

fn count(hit: bool) {
    let counter = match (SHARED.load(Ordering::Relaxed), hit) {
        (true, true) => HITS.get(),
        (true, false) => MISSES.get(),
        (false, true) => &LOCAL_HITS,
        (false, false) => &LOCAL_MISSES,
    };
    counter.fetch_add(1, Ordering::Relaxed);
}

fn counts() -> (u64, u64) {
    if SHARED.load(Ordering::Relaxed) {
        (HITS.get().load(Ordering::Relaxed), MISSES.get().load(Ordering::Relaxed))
    } else {
        (LOCAL_HITS.load(Ordering::Relaxed), LOCAL_MISSES.load(Ordering::Relaxed))
    }
}

/// Runs `f` with the extension owner's identity (as SECURITY DEFINER functions do), then restores the
/// caller's. Names resolve with the pinned search path (`crate::search_path`), and the security context
/// is restricted as PostgreSQL's own maintenance commands do when they run as a table's owner: no
/// `SET ROLE`, no temporary objects. An error inside is re-raised after the identity is restored.
fn as_owner<R>(f: impl FnOnce() -> R + std::panic::UnwindSafe) -> Result<R, ApiError> {
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

/// The tenant's data version and the global version (together: "has any data this tenant sees
/// changed?"), read as the extension owner.
pub fn data_versions(tenant: &str) -> Result<(i64, i64), ApiError> {
    let t = tenant.to_string();
    let (dv, gv) = as_owner(move || {
        spi_read::two::<i64, i64>(
            "SELECT coalesce((SELECT version FROM analytics.data_versions WHERE tenant_id = $1), 0),
                    coalesce((SELECT version FROM analytics.data_versions WHERE tenant_id = ''), 0)",
            &[t.as_str().into()],
        )
    })??;
    Ok((dv.unwrap_or(0), gv.unwrap_or(0)))
}

/// Where a result would be cached.
pub struct Slot {
    tenant: String,
    /// What the entry is found by (analytics._cache_md5 of the spec text).
    found_by: String,
    spec_hash: String,
    catalog_stamp: i64,
    data_version: i64,
    global_version: i64,
}

impl Slot {
    fn key(&self) -> String {
        sha256_hex(&format!("{}|{}|{}|{}|{}", self.spec_hash, self.tenant, self.catalog_stamp, self.data_version, self.global_version))
    }
}

/// The slot a result will be stored in, with the versions read now (before the query runs, so a result
/// is never labelled newer than its data). None when caching is off. Counts a miss: hits never reach
/// Rust (the SQL function analytics_run serves them).
pub fn slot(tenant: &str, spec_text: &str, spec_hash: &str) -> Result<Option<Slot>, ApiError> {
    if gucs::cache_ttl() <= 0 {
        return Ok(None);
    }
    let t = tenant.to_string();
    let (dv, gv, stamp) = as_owner(move || {
        spi_read::three::<i64, i64, i64>(
            "SELECT coalesce((SELECT version FROM analytics.data_versions WHERE tenant_id = $1), 0),
                    coalesce((SELECT version FROM analytics.data_versions WHERE tenant_id = ''), 0),
                    (SELECT stamp FROM analytics.catalog_stamp)",
            &[t.as_str().into()],
        )
    })??;
    count(false);
    Ok(Some(Slot {
        tenant: tenant.into(),
        found_by: found_by(spec_text)?,
        spec_hash: spec_hash.into(),
        catalog_stamp: stamp.unwrap_or(0),
        data_version: dv.unwrap_or(0),
        global_version: gv.unwrap_or(0),
    }))
}

/// What an entry for this spec text is found by in this session, as analytics_run looks it up. A
/// database still on 0.1.0's SQL (the library was updated, ALTER EXTENSION UPDATE not run yet) has no
/// analytics._cache_md5, and its analytics_run looks entries up by the MD5 of the spec text alone.
fn found_by(spec_text: &str) -> Result<String, ApiError> {
    let t = spec_text.to_string();
    let key = search_path::pinned(move || {
        let current = spi_read::one::<bool>("SELECT pg_catalog.to_regprocedure('analytics._cache_md5(text)') IS NOT NULL", &[])?;
        let sql = if current == Some(true) { "SELECT analytics._cache_md5($1)" } else { "SELECT pg_catalog.md5($1)" };
        spi_read::one::<String>(sql, &[t.as_str().into()])
    })?;
    key.ok_or_else(|| ApiError::Internal("no cache key".into()))
}

/// Stores a result given as JSON text (skipped silently where this transaction cannot write: on a
/// standby or in a read-only transaction).
pub fn store(slot: &Slot, result: &str) -> Result<(), ApiError> {
    if spi_read::transaction_is_read_only() {
        return Ok(());
    }
    let bytes = result.len() as i32;
    let ttl = gucs::cache_ttl();
    let key = slot.key();
    let (t, st, h, cs, dv, gv, r) = (
        slot.tenant.clone(),
        slot.found_by.clone(),
        slot.spec_hash.clone(),
        slot.catalog_stamp,
        slot.data_version,
        slot.global_version,
        result.to_string(),
    );
    as_owner(move || {
        Spi::run_with_args(
            "INSERT INTO analytics.analytics_cache AS c (tenant_id, spec_text_md5, spec_hash, cache_key, catalog_stamp, data_version,
                 global_version, result, bytes, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, now() + make_interval(secs => $10))
             ON CONFLICT (tenant_id, spec_text_md5) DO UPDATE SET spec_hash = excluded.spec_hash, cache_key = excluded.cache_key,
                 catalog_stamp = excluded.catalog_stamp, data_version = excluded.data_version,
                 global_version = excluded.global_version, result = excluded.result, bytes = excluded.bytes,
                 created_at = now(), expires_at = excluded.expires_at",
            &[
                t.as_str().into(),
                st.as_str().into(),
                h.as_str().into(),
                key.as_str().into(),
                cs.into(),
                dv.into(),
                gv.into(),
                r.as_str().into(),
                bytes.into(),
                (ttl as f64).into(),
            ],
        )?;
        // Expired entries of this tenant go now; others when their tenant next stores.
        Spi::run_with_args("DELETE FROM analytics.analytics_cache WHERE tenant_id = $1 AND expires_at <= now()", &[t.as_str().into()])
    })??;
    Ok(())
}

/// Counts a cache lookup made by analytics_run.
#[pg_extern(volatile, schema = "analytics", name = "_cache_count")]
fn cache_count(hit: bool) {
    count(hit);
}

/// {"hits", "misses", "hit_ratio", "entries", "bytes", "ttl_seconds", "counters"} for the session's
/// tenant's entries (all tenants' when no tenant is set).
#[pg_extern(volatile, schema = "analytics")]
#[search_path(pg_catalog, pg_temp)]
fn analytics_cache_stats() -> JsonB {
    let tenant = gucs::tenant_id();
    let t = tenant.clone();
    let (entries, bytes) = as_owner(move || {
        spi_read::two::<i64, i64>(
            "SELECT count(*), coalesce(sum(bytes), 0)::bigint FROM analytics.analytics_cache WHERE ($1::text IS NULL OR tenant_id = $1) AND expires_at > now()",
            &[t.into()],
        )
    })
    .and_then(|r| r.map_err(ApiError::from))
    .unwrap_or_else(|e| e.report());
    let (hits, misses) = counts();
    let ratio = if hits + misses == 0 { Value::Null } else { json!((hits as f64) / ((hits + misses) as f64)) };
    JsonB(json!({
        "hits": hits,
        "misses": misses,
        "hit_ratio": ratio,
        "entries": entries.unwrap_or(0),
        "bytes": bytes.unwrap_or(0),
        "ttl_seconds": gucs::cache_ttl(),
        "tenant_id": tenant,
        "counters": if SHARED.load(Ordering::Relaxed) { "server" } else { "session" },
    }))
}

/// Deletes cached results: the session tenant's, or every tenant's when no tenant is set. Returns how
/// many entries were removed. Admin access.
#[pg_extern(volatile, schema = "analytics")]
#[search_path(pg_catalog, pg_temp)]
fn analytics_cache_clear() -> i64 {
    let tenant = gucs::tenant_id();
    spi_read::ensure_writable("analytics_cache_clear()")
        .and_then(|()| {
            as_owner(move || {
                Spi::get_one_with_args::<i64>(
                    "WITH d AS (DELETE FROM analytics.analytics_cache WHERE $1::text IS NULL OR tenant_id = $1 RETURNING 1) SELECT count(*) FROM d",
                    &[tenant.into()],
                )
            })
        })
        .and_then(|r| r.map_err(ApiError::from))
        .map(|n| n.unwrap_or(0))
        .unwrap_or_else(|e| e.report())
}
