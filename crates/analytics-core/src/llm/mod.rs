//! LLM providers for `analytics_ask`: a model fills in an AnalyticsSpec under a JSON schema (never SQL);
//! the answer is validated by `spec::parse`, and on failure the problems are sent back, for at most
//! [`MAX_ATTEMPTS`] attempts.
//!
//! - [`schema`]: the strict JSON schema with the catalog's names as enums, and answers back to specs;
//! - [`prompt`]: the system prompt from `prompts/`, filled with the live catalog and tenant values;
//! - [`wire`]: each provider's request and response format;
//! - [`http`]: the transport (ureq), time and size limits, retries of 429/5xx;
//! - [`mock`]: a scripted provider on 127.0.0.1 for tests;
//! - [`embeddings`]: the remote embedding providers of semantic search (same transport and rules).

pub mod embeddings;
pub mod http;
pub mod mock;
pub mod prompt;
pub mod schema;
pub mod wire;

#[cfg(test)]
mod tests;

use crate::ask::Provider;
use crate::nl::{Clarification, Context, Translation};
use crate::spec::parse;
use http::Transport;
use std::time::{Duration, Instant};
use wire::Turn;

/// Attempts at a valid spec per question.
pub const MAX_ATTEMPTS: u32 = 3;

/// Where and how to ask.
#[derive(Debug, Clone)]
pub struct Config {
    pub provider: Provider,
    pub model: String,
    pub base_url: String,
    pub api_key: Option<String>,
    /// Longest wait for one request; the whole translation takes at most three times this.
    pub timeout: Duration,
}

impl Config {
    /// A configuration with the provider's defaults filled in; Err(message, hint) when one is missing.
    pub fn new(
        provider: Provider,
        model: Option<String>,
        base_url: Option<String>,
        api_key: Option<String>,
        timeout: Duration,
    ) -> Result<Config, (String, String)> {
        let base_url =
            match (base_url, wire::default_base_url(provider)) {
                (Some(b), _) => b,
                (None, Some(d)) => d.to_string(),
                (None, None) => return Err((
                    format!("the {} provider needs a base URL", provider.as_str()),
                    "A superuser sets it: ALTER SYSTEM SET analytics.llm_base_url = 'http://127.0.0.1:8080/v1'; SELECT pg_reload_conf();"
                        .into(),
                )),
            };
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err((
                format!("analytics.llm_base_url must start with http:// or https://, not {base_url:?}"),
                "For example http://127.0.0.1:11434 for Ollama.".into(),
            ));
        }
        if matches!(provider, Provider::OpenAi | Provider::Anthropic) && api_key.is_none() {
            let var = if provider == Provider::OpenAi { "OPENAI_API_KEY" } else { "ANTHROPIC_API_KEY" };
            return Err((
                format!("the {} provider needs an API key", provider.as_str()),
                format!("A superuser sets analytics.llm_api_key, or the server's environment has {var}."),
            ));
        }
        Ok(Config { provider, model: model.unwrap_or_else(|| wire::default_model(provider).to_string()), base_url, api_key, timeout })
    }
}

/// A translation by a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub translation: Translation,
    pub attempts: u32,
    /// The model named in the response, else the one asked.
    pub model: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LlmError {
    /// The provider could not be reached, timed out, or answered with an HTTP error. `retryable`: the
    /// same request may succeed later (no connection, a timeout, HTTP 429 or 5xx), as an async job
    /// tries it again; not for other HTTP errors (a bad key, an unknown model) or a malformed answer.
    Unavailable { message: String, detail: Option<String>, retryable: bool },
    /// The model never produced a valid spec: each attempt's problems.
    InvalidOutput(Vec<String>),
}

/// The key must never appear in anything we return.
pub(crate) fn redact(text: &str, key: &Option<String>) -> String {
    match key {
        Some(k) if k.len() >= 4 => text.replace(k.as_str(), "[redacted]"),
        _ => text.to_string(),
    }
}

/// What the builtin translator tells the model about a question it could not answer (hybrid mode):
/// the note after the question, and what a model's spec must keep of the builtin reading.
#[derive(Debug, Clone)]
pub struct Hint {
    /// The note ([`prompt::builtin_hint`]).
    pub text: String,
    /// [`crate::nl::reading`] of the question.
    pub reading: serde_json::Value,
    /// The builtin translator's candidates that leave the unknown words out: readings it declined.
    pub ignoring: Vec<serde_json::Value>,
}

impl Hint {
    /// Why a (valid) spec does not keep what the builtin translator read: a period it read needs a
    /// date_range, a value it read needs a filter on that dimension, and the question without its
    /// unknown words is a reading the builtin translator already declined.
    pub fn problems(&self, spec: &serde_json::Value, catalog: &[crate::catalog::MetricDef]) -> Vec<String> {
        let mut out = Vec::new();
        let filters: Vec<&serde_json::Value> =
            spec.get("filters").and_then(serde_json::Value::as_array).map(|f| f.iter().collect()).unwrap_or_default();
        let filtered: Vec<&str> = filters.iter().filter_map(|x| x.get("field").and_then(serde_json::Value::as_str)).collect();
        match &self.reading["period"] {
            serde_json::Value::Null => {}
            // "this sprint" selects the active sprint by a filter, not by a date range.
            serde_json::Value::String(_) => {
                let active = filters.iter().any(|f| f["field"] == "state" && f["value"] == "active");
                if !active {
                    out.push("the question asks about the active sprint: keep a filter {\"field\": \"state\", \"operator\": \"eq\", \"value\": \"active\"}".to_string());
                }
            }
            period if spec.get("date_range").is_none_or(serde_json::Value::is_null) => {
                out.push(format!("the question gives a period: keep it as \"date_range\": {period}"));
            }
            _ => {}
        }
        // Statuses a metric takes as its parameter ("time in QA") are not filters on the current status.
        let in_params = |value: &str| {
            spec.get("metrics").and_then(serde_json::Value::as_array).into_iter().flatten().any(|m| {
                m["params"]["statuses"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|x| x.as_str().is_some_and(|x| x.eq_ignore_ascii_case(value))))
            })
        };
        for v in self.reading["values"].as_array().into_iter().flatten() {
            let (Some(dim), Some(value)) = (v["dimension"].as_str(), v["value"].as_str()) else { continue };
            let dim = dim.trim_start_matches('@');
            if dim == "status" && in_params(value.trim_start_matches('!')) {
                continue;
            }
            if !filtered.contains(&dim) {
                out.push(format!(
                    "the question names the {} \"{}\": keep a filter on {dim}",
                    dim.replace('_', " "),
                    value.trim_start_matches('!')
                ));
            }
        }
        let unknown: Vec<&str> = self.reading["unknown_words"].as_array().into_iter().flatten().filter_map(|w| w.as_str()).collect();
        if self.ignoring.iter().any(|c| crate::nl::eval::differences(c, spec, catalog).is_ok_and(|d| d.is_empty())) {
            out.push(format!(
                "that spec ignores {}: answer with a spec that uses them, or clarification_needed",
                unknown.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(", ")
            ));
        }
        out
    }
}

/// Hybrid mode's first step: the builtin translator's answer when it has one (a spec, or a clarification
/// of a question it read whole), else its clarification and what to tell the model ([`Hint`]): only a
/// question with words it does not know goes to a model.
pub fn hybrid_first(question: &str, ctx: &Context) -> Result<Translation, Box<(Clarification, Hint)>> {
    match crate::nl::translate(question, ctx) {
        Translation::Clarify(c) if c.doubt == crate::nl::Doubt::UnknownWords => {
            let candidates: Vec<(String, Option<serde_json::Value>)> =
                c.candidates.iter().map(|k| (k.description.clone(), k.spec.clone())).collect();
            let reading = crate::nl::reading(question, ctx);
            let text = prompt::builtin_hint(&reading, &c.reason, &candidates);
            let ignoring = c.candidates.iter().filter(|k| k.description.starts_with("ignoring ")).filter_map(|k| k.spec.clone()).collect();
            Err(Box::new((c, Hint { text, reading, ignoring })))
        }
        t => Ok(t),
    }
}

/// Asks the model, validates, and retries with the problems.
pub fn translate(question: &str, cfg: &Config, ctx: &Context, transport: &dyn Transport) -> Result<Answer, LlmError> {
    translate_hinted(question, None, cfg, ctx, transport)
}

/// [`translate`], with a note after the question (hybrid mode: what the builtin translator read, see
/// [`prompt::builtin_hint`]). The question's turn carries the few-shot examples closest to it.
pub fn translate_hinted(
    question: &str,
    hint: Option<&Hint>,
    cfg: &Config,
    ctx: &Context,
    transport: &dyn Transport,
) -> Result<Answer, LlmError> {
    let started = Instant::now();
    let deadline = started + cfg.timeout * 3;
    let system = prompt::system_plain(ctx.catalog, ctx.values, ctx.today);
    // What the provider is sent: its preferred schema; after a 400 that names the schema, the single
    // object schema (when the preferred one was a choice of shapes), then json_object.
    let mut schema = schema::for_provider(cfg.provider, ctx.catalog);
    let mut turns = vec![Turn::User(prompt::question_turn(question, hint.map(|h| h.text.as_str()), ctx.today))];
    let mut problems: Vec<String> = Vec::new();
    let mut json_object = false;
    let mut model = cfg.model.clone();
    let unavailable = |message: String, detail: Option<String>, retryable: bool| LlmError::Unavailable {
        message: redact(&message, &cfg.api_key),
        detail: detail.map(|d| redact(&d, &cfg.api_key)),
        retryable,
    };
    let mut attempt = 0;
    while attempt < MAX_ATTEMPTS {
        attempt += 1;
        let req = wire::request(cfg, &system, &turns, &schema, json_object);
        let resp = http::post_with_retries(transport, &req, cfg.timeout, deadline).map_err(|e| {
            unavailable(format!("the {} provider at {} is unavailable: {e}", cfg.provider.as_str(), cfg.base_url), None, true)
        })?;
        if resp.status == 400 && cfg.provider == Provider::OpenAiCompatible && !json_object {
            // Servers without json_schema support: ask again with json_object, once, not counted.
            let m = resp.body.to_lowercase();
            if m.contains("response_format") || m.contains("json_schema") || m.contains("schema") {
                if schema.get("anyOf").is_some() {
                    schema = schema::schema(ctx.catalog);
                } else {
                    json_object = true;
                }
                attempt -= 1;
                continue;
            }
        }
        if resp.status >= 400 {
            return Err(unavailable(
                format!("the {} provider answered HTTP {}: {}", cfg.provider.as_str(), resp.status, wire::error_message(&resp.body)),
                Some(format!("after {attempt} attempt(s), {} ms", started.elapsed().as_millis())),
                resp.status == 429 || resp.status >= 500,
            ));
        }
        let body: serde_json::Value = match serde_json::from_str(&resp.body) {
            Ok(v) => v,
            Err(_) => return Err(unavailable(format!("the {} provider's response is not JSON", cfg.provider.as_str()), None, false)),
        };
        let ans = wire::answer(cfg.provider, &body)
            .map_err(|e| unavailable(format!("unexpected response from the {} provider: {e}", cfg.provider.as_str()), None, false))?;
        if let Some(m) = &ans.model {
            model = m.clone();
        }
        let problem = match &ans.json {
            Err(e) => e.clone(),
            Ok(v) => match schema::output(v) {
                schema::Output::Clarify(reason) => {
                    return Ok(Answer {
                        translation: Translation::Clarify(Clarification { reason, candidates: vec![], doubt: Default::default() }),
                        attempts: attempt,
                        model,
                    })
                }
                schema::Output::Spec(spec) => match parse(&spec, ctx.catalog) {
                    // A filter on a value the data does not have would answer with nothing.
                    Ok(_) => match [
                        crate::nl::ground::problems(&spec, ctx.values),
                        hint.map(|h| h.problems(&spec, ctx.catalog)).unwrap_or_default(),
                    ]
                    .concat()
                    {
                        p if p.is_empty() => return Ok(Answer { translation: Translation::Spec(spec), attempts: attempt, model }),
                        p => format!(
                            "{} (if the question names something the data does not have, answer clarification_needed)",
                            p.join("; ")
                        ),
                    },
                    Err(errors) => errors.iter().map(|e| format!("{}: {}", e.path, e.message)).collect::<Vec<_>>().join("; "),
                },
            },
        };
        problems.push(format!("attempt {attempt}: {}", redact(&problem, &cfg.api_key)));
        turns.push(Turn::Assistant { text: ans.text.clone(), tool_use: ans.tool_use.clone() });
        turns.push(Turn::Feedback(format!(
            "That answer is not a valid spec: {problem}. Answer again with a corrected spec as one JSON object, using only the names listed."
        )));
    }
    Err(LlmError::InvalidOutput(problems))
}
