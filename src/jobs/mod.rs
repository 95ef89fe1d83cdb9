//! The job workers: real PostgreSQL background workers that run the async jobs queued by
//! `analytics_job_submit` (`crate::api::jobs`) in every database where the extension is installed.
//!
//! - [`launcher`]   one static worker: keeps a supervisor running in each database
//! - [`supervisor`] per database: starts the executors; heartbeats, progress NOTIFY, rescue, retention
//! - [`executor`]   per database, `analytics.job_workers` of them: claim a job, run an attempt, record it
//! - [`attempt`]    one attempt in one transaction, as the submitter, fenced by the attempt's token
//! - [`jira`]       a jira_sync job's attempt: the Jira sync, one transaction per page
//! - [`embed`]      an embed job's attempt: the tenant's new and changed issues, one transaction per batch
//! - [`registry`]   shared memory: the live workers and attempts; wake-up and cancel at commit
//! - [`tx`]         signals, waiting, and transactions that roll back on any failure
//!
//! Design notes: `docs/design/job_workers.md`; user documentation: `docs/jobs.md`.

pub mod attempt;
pub mod embed;
pub mod executor;
pub mod jira;
pub mod launcher;
pub mod registry;
pub mod supervisor;
pub mod tx;

use pgrx::prelude::*;

/// Reserves the shared memory and registers the launcher (when the library is preloaded).
pub fn init() {
    registry::init();
    launcher::register();
}

/// Wakes this database's job workers when the transaction commits (the extension's install and
/// upgrade scripts call it, so a database gets its workers at once).
#[pg_extern(volatile, schema = "analytics", name = "_jobs_wake")]
#[search_path(pg_catalog, pg_temp)]
fn jobs_wake() {
    registry::wake_at_commit();
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics._jobs_wake() IS 'Internal: wakes this database''s job workers (or asks the launcher to start them) when the transaction commits.';
REVOKE ALL ON FUNCTION analytics._jobs_wake() FROM PUBLIC;
"#,
    name = "jobs_wake_sql",
    requires = [jobs_wake, "jobs"]
);
