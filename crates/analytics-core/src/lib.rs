//! The pure core of agile_analytics: everything that needs no PostgreSQL. It is tested with plain
//! `cargo test`; the pgrx crate at the repository root is only glue around it.
//!
//! - [`ask`]: the providers of `analytics_ask` and its per-call options.
//! - [`jira`]: Jira REST payloads (issues with changelogs, sprints) to rows of the base tables.
//! - [`json_arg`]: JSON arguments from SQL, with a depth limit checked before parsing.
//! - [`schema`]: the contract of the base tables (names, columns, types) that loaders, the compiler and
//!   tests rely on; a `#[pg_test]` checks the installed schema against it.
//! - [`catalog`]: metric definitions (the shipped catalog in `catalog/*.toml`), their validation, the
//!   whole-catalog check and the SQL fragments they contribute.
//! - [`chart`]: a Vega-Lite chart of an answer (series as lines or areas, groups as bars).
//! - [`forecast`]: Monte Carlo forecasts from a team's daily throughput (seeded, reproducible).
//! - [`spec`]: the AnalyticsSpec: validation with paths and suggestions, canonical form and hash,
//!   compilation to one parameterized query.
//! - [`memo`]: the version-and-size rule of the per-backend memos of compiled specs.
//! - [`llm`]: LLM providers (OpenAI, Anthropic, Ollama, OpenAI-compatible): schema, prompt, wire
//!   formats, HTTP with limits and retries, and the validate-and-retry loop.
//! - [`nl`]: the builtin translator from questions in plain English to specs, the explanation of a
//!   spec in one sentence, and scoring against an evaluation set.
//! - [`suggest`]: "did you mean" suggestions for unknown names.

pub mod ask;
pub mod catalog;
pub mod chart;
pub mod forecast;
pub mod jira;
pub mod jobs;
pub mod json_arg;
pub mod llm;
pub mod memo;
pub mod nl;
pub mod schema;
pub mod spec;
pub mod suggest;

/// Version of the extension this core belongs to.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
