//! The metric catalog as the extension reads it: every row of `analytics.metrics_catalog`, parsed
//! ([`load_catalog`]), and the active catalog, parsed once per backend and kept until it changes
//! ([`get`], with its version and the extension's owner). Every write to
//! `metrics_user` or `metrics_builtin` fires a statement trigger that sends a relcache invalidation for
//! that table (`analytics._catalog_changed()`); every backend's relcache callback then drops its copy.
//! So compiling a spec costs no catalog query once warm, and never uses a stale catalog.

use crate::error::ApiError;
use analytics_core::catalog::MetricDef;
use analytics_core::spec::model::sha256_hex;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;

pub struct Catalog {
    pub active: Vec<MetricDef>,
    pub version: String,
    /// The extension's owner, whose identity reads and writes the cache tables.
    pub owner: pg_sys::Oid,
    /// Oids of the two catalog tables, to recognize their invalidations.
    tables: [pg_sys::Oid; 2],
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<Catalog>>> = const { RefCell::new(None) };
}

#[pg_guard]
unsafe extern "C-unwind" fn on_relcache_invalidation(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    CURRENT.with(|c| {
        let stale = match c.borrow().as_ref() {
            Some(cat) => relid == pg_sys::Oid::INVALID || cat.tables.contains(&relid),
            None => false,
        };
        if stale {
            *c.borrow_mut() = None;
        }
    });
}

/// Registers the invalidation callback (once per backend, from _PG_init).
pub fn init() {
    unsafe { pg_sys::CacheRegisterRelcacheCallback(Some(on_relcache_invalidation), pg_sys::Datum::from(0)) };
}

/// The version of the active catalog: a hash of every active metric's name and version.
pub fn catalog_version(catalog: &[MetricDef]) -> String {
    let mut parts: Vec<String> = catalog.iter().map(|d| format!("{}:{}", d.name, d.version)).collect();
    parts.sort();
    sha256_hex(&parts.join(","))
}

/// One row of the effective catalog: (definition or parse error, is_active, raw name).
pub(crate) type CatalogRow = (Result<MetricDef, String>, bool, String);

/// Every row of the effective catalog.
pub(crate) fn load_catalog() -> Result<Vec<CatalogRow>, ApiError> {
    let rows: Option<JsonB> = crate::spi_read::one("SELECT jsonb_agg(to_jsonb(c) ORDER BY c.name) FROM analytics.metrics_catalog c", &[])?;
    let rows = rows.map(|j| j.0).unwrap_or(Value::Array(vec![]));
    Ok(rows
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let active = r.get("is_active").and_then(Value::as_bool).unwrap_or(true);
            let name = r.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            (MetricDef::from_row(r), active, name)
        })
        .collect())
}

/// The active catalog, loaded when missing.
pub fn get() -> Result<Rc<Catalog>, ApiError> {
    if let Some(c) = CURRENT.with(|c| c.borrow().clone()) {
        return Ok(c);
    }
    // analytics_compile gets here without a SET clause: the load pins the search path itself.
    let (ids, rows) = crate::search_path::pinned(|| {
        let ids = crate::spi_read::three::<pg_sys::Oid, pg_sys::Oid, pg_sys::Oid>(
            "SELECT 'analytics.metrics_user'::regclass::oid, 'analytics.metrics_builtin'::regclass::oid,
                    (SELECT extowner FROM pg_catalog.pg_extension WHERE extname = 'agile_analytics')",
            &[],
        );
        (ids, load_catalog())
    });
    let (user_table, builtin_table, owner) = ids?;
    let active: Vec<MetricDef> = rows?.into_iter().filter(|(_, active, _)| *active).filter_map(|(d, _, _)| d.ok()).collect();
    let version = catalog_version(&active);
    let cat = Rc::new(Catalog {
        active,
        version,
        owner: owner.ok_or_else(|| ApiError::Internal("extension agile_analytics is not installed".into()))?,
        tables: [user_table.unwrap_or(pg_sys::Oid::INVALID), builtin_table.unwrap_or(pg_sys::Oid::INVALID)],
    });
    CURRENT.with(|c| *c.borrow_mut() = Some(cat.clone()));
    Ok(cat)
}

/// Runs `f` with the loaded catalog, if there is one (without loading it or touching its count).
pub fn with_loaded<R>(f: impl FnOnce(Option<&Rc<Catalog>>) -> R) -> R {
    CURRENT.with(|c| f(c.borrow().as_ref()))
}

/// Drops this backend's copy at once (the other backends learn at commit).
pub fn forget() {
    CURRENT.with(|c| *c.borrow_mut() = None);
}

/// Called by the catalog tables' statement trigger (`sql/016_catalog_cache.sql`): tells every backend
/// that the catalog changed (a relcache invalidation, delivered to the others at commit).
#[pg_extern(volatile, schema = "analytics", name = "_catalog_invalidate")]
fn catalog_invalidate(relid: pg_sys::Oid) {
    unsafe { pg_sys::CacheInvalidateRelcacheByRelid(relid) };
    forget();
}
