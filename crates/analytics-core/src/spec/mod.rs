//! AnalyticsSpec: the small JSON document an LLM or a person writes instead of SQL.
//! - [`parse`]: untrusted JSON -> a validated [`Spec`], or every problem with its path and suggestions;
//! - [`model`]: the validated spec, its canonical form and SHA-256 hash;
//! - [`dims`]: the dimension whitelist per entity;
//! - [`compile`]: a validated spec -> one parameterized SQL query (`series`: the as_of series form;
//!   `sprint_series`: its sprint form, burndown and burnup; `list`: list specs, rows instead of aggregates);
//! - [`search`]: similar-issue search (semantic, lexical, hybrid) with a spec's filters.

pub mod compile;
pub mod dims;
mod list;
pub mod model;
pub mod parse;
pub mod search;
mod series;
mod sprint_series;

pub use compile::{compile, compile_from, Compiled, SprintSource};
pub use model::Spec;
pub use parse::{parse, parse_with_limit, SpecError, JOB_MAX_LIMIT};

#[cfg(test)]
mod list_tests;
#[cfg(test)]
mod search_tests;
#[cfg(test)]
mod tests;
