//! SQL functions written in Rust, one concept per file.

pub mod ask;
pub mod catalog;
pub mod compile;
pub mod forecast;
pub mod ingest;
pub mod jira;
pub mod jobs;
pub mod llm;
pub mod search;
pub mod spec;
pub mod version;
pub mod views;
