//! agile_analytics — natural-language and SQL analytics over issue-tracker data, as a PostgreSQL
//! extension. This crate is glue: SQL objects, settings and SQL functions around the pure
//! `analytics-core` crate (`crates/analytics-core`), which holds all logic that needs no PostgreSQL.
//!
//! Table of contents
//! - `sql/001_tables.sql`    base tables of schema `analytics` (issues, status history, changes,
//!   comments, sprints, sprint membership)
//! - `sql/002_catalog.sql`   the metrics catalog (shipped rows, user rows, effective view)
//! - `sql/003_security.sql`  row-level security per tenant, `analytics_grant()`
//! - `sql/010_facts.sql`     `issue_facts` and the as-of helpers (`points_at`, `category_at`, `blocked_hours`)
//! - `sql/011_sprint_facts.sql` `sprint_facts`: commitment, scope change, completion, velocity, z-scores
//! - `sql/012_materialized.sql` materialized sprint and comment stats, tenant views, refresh and scheduling
//! - `sql/013_catalog_api.sql` `analytics_metrics()`, `analytics_catalog_check()`
//! - `sql/014_cache.sql`     result cache and per-tenant data versions (bumped by statement triggers)
//! - `sql/015_views.sql`     schema analytics_views for specs published as views
//! - `sql/016_catalog_cache.sql` triggers that make every backend reload the catalog
//! - `sql/017_ask.sql`       the tenant's values that analytics_ask may match in questions
//! - `sql/018_jobs.sql`      the queue of async jobs (kinds, jobs, results)
//! - `sql/019_jira.sql`      Jira sources, their credentials and sync state; scheduling a sync
//! - `sql/020_search.sql`    issue embeddings (pgvector, one HNSW index per model) and the full-text index
//! - `sql/900_functions.sql` comments and grants for the Rust functions (runs last)
//! - [`gucs`]                every `analytics.*` setting
//! - [`api`]                 SQL functions written in Rust (`catalog`, `spec`, `compile` (its fast path), `forecast`, `ask`,
//!   `llm`, `ingest`, `jira` (Jira sources and sync), `search` (embeddings and similar issues), `views`,
//!   `jobs`, `version`)
//! - [`jobs`]                the job workers: launcher, per-database supervisor and executors (also
//!   the periodic refresh of the materialized views, `analytics.refresh_interval`, and the Jira sync
//!   of `jira_sync` jobs)
//! - [`embedder`]            the backend's embedding model, loaded on first use (semantic search)
//! - [`catalog_cache`]       the catalog: loaded, parsed, kept per backend and dropped on catalog changes
//! - [`cache`]               the result cache of analytics_run (as the extension owner, per tenant)
//! - [`owner`]               running SQL as the extension's owner (cache and job tables)
//! - [`timeout`]             the statement timer around analytics queries
//! - [`jit`]                 JIT off for analytics queries (unless `analytics.jit`)
//! - [`search_path`]         all of the extension's SQL resolves names with `pg_catalog, pg_temp`
//! - [`jsonb_arg`]           a jsonb argument received as jsonb's text (`JsonbText`)
//! - [`spi_read`]            read-only queries (no transaction ID: they work on a standby)
//! - [`error`]               the API's error enum: SQLSTATE, message, DETAIL, HINT

use pgrx::prelude::*;

::pgrx::pg_module_magic!(name, version);

pub mod api;
pub mod cache;
pub mod catalog_cache;
pub mod embedder;
pub mod error;
pub mod gucs;
pub mod jit;
pub mod jobs;
pub mod jsonb_arg;
pub mod owner;
pub mod search_path;
pub mod spi_read;
pub mod timeout;

/// Declares schema `analytics` to pgrx, so functions can say `#[pg_extern(schema = "analytics")]`.
/// The schema itself is created by `sql/001_tables.sql` (so it belongs to the extension).
#[pg_schema]
mod analytics {}

// The extension's SQL, in load order. The generated CREATE FUNCTION statements for `api` follow.
extension_sql_file!("../sql/001_tables.sql", name = "tables", bootstrap);
extension_sql_file!("../sql/002_catalog.sql", name = "catalog", requires = ["tables"]);
extension_sql_file!("../sql/003_security.sql", name = "security", requires = ["catalog"]);
extension_sql_file!("../sql/010_facts.sql", name = "facts", requires = ["security"]);
extension_sql_file!("../sql/011_sprint_facts.sql", name = "sprint_facts", requires = ["facts"]);
extension_sql_file!("../sql/012_materialized.sql", name = "materialized", requires = ["sprint_facts"]);
extension_sql_file!("../sql/013_catalog_api.sql", name = "catalog_api", requires = ["materialized"]);
extension_sql_file!("../sql/014_cache.sql", name = "cache", requires = ["catalog_api"]);
extension_sql_file!("../sql/015_views.sql", name = "views", requires = ["cache"]);
extension_sql_file!("../sql/016_catalog_cache.sql", name = "catalog_cache", requires = ["views", catalog_cache::catalog_invalidate]);
extension_sql_file!("../sql/017_ask.sql", name = "ask", requires = ["catalog_cache"]);
extension_sql_file!("../sql/018_jobs.sql", name = "jobs", requires = ["ask"]);
extension_sql_file!("../sql/019_jira.sql", name = "jira", requires = ["jobs"]);
extension_sql_file!("../sql/020_search.sql", name = "search", requires = ["jira"]);
extension_sql_file!("../sql/900_functions.sql", name = "functions", finalize);

/// Called when the library is loaded (at server start when it is in `shared_preload_libraries`).
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    error::init();
    gucs::init();
    cache::init_shared_memory();
    catalog_cache::init();
    jobs::init();
}

#[cfg(any(test, feature = "pg_test"))]
mod tests;

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec!["shared_preload_libraries = 'pg_cron,agile_analytics'", "cron.database_name = 'pgrx_tests'"]
    }
}
