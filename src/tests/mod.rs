//! `#[pg_test]`s: they run inside PostgreSQL, each in its own transaction that is rolled back.
//! Roles, rows and helper functions they create vanish with it.

mod ask;
mod burndown;
mod cache;
mod compile;
mod contract;
mod embed_remote;
mod forecast;
mod hostile;
mod ingest;
mod jam;
mod jira;
mod jit;
mod jobs;
mod list;
mod llm;
pub mod metrics;
mod rls;
mod search;
mod series;
mod similar;
pub mod support;
