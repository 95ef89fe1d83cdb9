//! The result cache of `analytics_run` (tables in `sql/014_cache.sql`). Users cannot read or write the
//! cache tables: the extension does, as the extension's owner, always for the session's tenant, so no
//! user can plant a result that a colleague would be served. Hit and miss counters live in shared
//! memory when the library is preloaded (else they count this session only).

use crate::error::ApiError;
use crate::owner::as_owner;
use crate::{gucs, search_path, spi_read};
use pgrx::pg_sys::panic::ErrorReport;
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

/// The versions a cache entry records and is checked against: the catalog stamp, the tenant's data
/// version and the global version, read by `analytics._cache_versions` (the function
/// `analytics._cache_get` compares entries with, so the validity rule is written once, in SQL).
pub type Versions = [i64; 3];

/// The result cache of this database's SQL. A server that got the 0.2.0 library before ALTER
/// EXTENSION UPDATE ran still has 0.1.0's cache SQL: [`open`] says None, and nothing is looked up or
/// stored from Rust (0.1.0's analytics_run keeps serving the entries 0.1.0 stored).
pub struct Cache(());

/// The cache, if this database has 0.2.0's cache SQL.
pub fn open() -> Result<Option<Cache>, ApiError> {
    let current = search_path::pinned(|| {
        spi_read::one::<bool>("SELECT pg_catalog.to_regprocedure('analytics._cache_versions(text)') IS NOT NULL", &[])
    })?;
    Ok((current == Some(true)).then_some(Cache(())))
}

/// Where a result will be stored: the keys it is found by and the versions read before its query ran
/// (so a result is never labelled newer than its data).
pub struct Slot {
    tenant: String,
    /// The spec texts it is found by (analytics._cache_md5 of each): the caller's spelling and the
    /// canonical one.
    texts: Vec<String>,
    spec_hash: String,
    versions: Versions,
}

impl Cache {
    /// The tenant's current versions, read as the extension owner.
    pub fn versions(&self, tenant: &str) -> Result<Versions, ApiError> {
        let t = tenant.to_string();
        let v = as_owner(move || spi_read::one::<Vec<i64>>("SELECT analytics._cache_versions($1)", &[t.as_str().into()]))??;
        match v.as_deref() {
            Some(&[stamp, data, global]) => Ok([stamp, data, global]),
            other => Err(ApiError::Internal(format!("cache versions: {other:?}"))),
        }
    }

    /// A valid entry of the session's tenant for this spec text (analytics._cache_get: the rule
    /// analytics_run's SQL fast path applies), as JSON text with "cached": true. Counts a hit.
    pub fn lookup(&self, spec_text: &str) -> Result<Option<String>, ApiError> {
        let t = spec_text.to_string();
        let hit = search_path::pinned(move || {
            spi_read::one::<String>("SELECT analytics._cache_get(analytics._cache_md5($1))::text", &[t.as_str().into()])
        })?;
        if hit.is_some() {
            count(true);
        }
        Ok(hit)
    }

    /// Files the entry found by spec text `found` under spec text `also` as well, so that spelling is
    /// a hit of analytics_run's SQL fast path next time (skipped where this transaction cannot write).
    pub fn alias(&self, tenant: &str, found: &str, also: &str) -> Result<(), ApiError> {
        if spi_read::transaction_is_read_only() {
            return Ok(());
        }
        let (t, f, a) = (tenant.to_string(), found.to_string(), also.to_string());
        as_owner(move || {
            Spi::run_with_args(
                "INSERT INTO analytics.analytics_cache AS c (tenant_id, spec_text_md5, spec_hash, catalog_stamp, data_version,
                     global_version, result, bytes, created_at, expires_at)
                 SELECT e.tenant_id, analytics._cache_md5($3), e.spec_hash, e.catalog_stamp, e.data_version, e.global_version,
                        e.result, e.bytes, e.created_at, e.expires_at
                 FROM analytics.analytics_cache e WHERE e.tenant_id = $1 AND e.spec_text_md5 = analytics._cache_md5($2)
                 ON CONFLICT (tenant_id, spec_text_md5) DO UPDATE SET spec_hash = excluded.spec_hash,
                     catalog_stamp = excluded.catalog_stamp, data_version = excluded.data_version,
                     global_version = excluded.global_version, result = excluded.result, bytes = excluded.bytes,
                     created_at = excluded.created_at, expires_at = excluded.expires_at",
                &[t.as_str().into(), f.as_str().into(), a.as_str().into()],
            )
        })??;
        Ok(())
    }

    /// The slot a result of this spec will be stored in, found by each of `texts`. None when caching
    /// is off. Counts a miss.
    pub fn slot(&self, tenant: &str, texts: Vec<String>, spec_hash: &str) -> Result<Option<Slot>, ApiError> {
        if gucs::cache_ttl() <= 0 {
            return Ok(None);
        }
        let versions = self.versions(tenant)?;
        count(false);
        Ok(Some(Slot { tenant: tenant.into(), texts, spec_hash: spec_hash.into(), versions }))
    }
}

/// Stores a result given as JSON text under each of the slot's spec texts (skipped silently where
/// this transaction cannot write: on a standby or in a read-only transaction).
pub fn store(slot: &Slot, result: &str) -> Result<(), ApiError> {
    if spi_read::transaction_is_read_only() {
        return Ok(());
    }
    let bytes = result.len() as i32;
    let ttl = gucs::cache_ttl();
    let (t, texts, h, [cs, dv, gv], r) =
        (slot.tenant.clone(), slot.texts.clone(), slot.spec_hash.clone(), slot.versions, result.to_string());
    as_owner(move || {
        Spi::run_with_args(
            "INSERT INTO analytics.analytics_cache AS c (tenant_id, spec_text_md5, spec_hash, catalog_stamp, data_version,
                 global_version, result, bytes, expires_at)
             SELECT DISTINCT ON (k.md5) $1, k.md5, $3, $4, $5, $6, $7::jsonb, $8, now() + make_interval(secs => $9)
             FROM (SELECT analytics._cache_md5(x) AS md5 FROM pg_catalog.unnest($2::text[]) AS x) AS k
             ON CONFLICT (tenant_id, spec_text_md5) DO UPDATE SET spec_hash = excluded.spec_hash,
                 catalog_stamp = excluded.catalog_stamp, data_version = excluded.data_version,
                 global_version = excluded.global_version, result = excluded.result, bytes = excluded.bytes,
                 created_at = now(), expires_at = excluded.expires_at",
            &[
                t.as_str().into(),
                texts.into(),
                h.as_str().into(),
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
fn analytics_cache_stats() -> Result<JsonB, ErrorReport> {
    let tenant = gucs::tenant_id();
    let t = tenant.clone();
    let (entries, bytes) = as_owner(move || {
        spi_read::two::<i64, i64>(
            "SELECT count(*), coalesce(sum(bytes), 0)::bigint FROM analytics.analytics_cache WHERE ($1::text IS NULL OR tenant_id = $1) AND expires_at > now()",
            &[t.into()],
        )
    })?
    .map_err(ApiError::from)?;
    let (hits, misses) = counts();
    let ratio = if hits + misses == 0 { Value::Null } else { json!((hits as f64) / ((hits + misses) as f64)) };
    Ok(JsonB(json!({
        "hits": hits,
        "misses": misses,
        "hit_ratio": ratio,
        "entries": entries.unwrap_or(0),
        "bytes": bytes.unwrap_or(0),
        "ttl_seconds": gucs::cache_ttl(),
        "tenant_id": tenant,
        "counters": if SHARED.load(Ordering::Relaxed) { "server" } else { "session" },
    })))
}

/// Deletes cached results: the session tenant's, or every tenant's when no tenant is set. Returns how
/// many entries were removed. Admin access.
#[pg_extern(volatile, schema = "analytics")]
#[search_path(pg_catalog, pg_temp)]
fn analytics_cache_clear() -> Result<i64, ErrorReport> {
    let tenant = gucs::tenant_id();
    spi_read::ensure_writable("analytics_cache_clear()")?;
    let n = as_owner(move || {
        Spi::get_one_with_args::<i64>(
            "WITH d AS (DELETE FROM analytics.analytics_cache WHERE $1::text IS NULL OR tenant_id = $1 RETURNING 1) SELECT count(*) FROM d",
            &[tenant.into()],
        )
    })?
    .map_err(ApiError::from)?;
    Ok(n.unwrap_or(0))
}
