//! LLM providers for analytics_ask: the settings (and per-call options) to a provider configuration,
//! the call (analytics_core::llm: schema, prompt, HTTP, validate-and-retry), and the fallback to the
//! builtin translator when the provider cannot be reached (analytics.llm_fallback).

use crate::error::ApiError;
use crate::gucs;
use analytics_core::ask::{Options, Provider};
use analytics_core::llm::{self, http::Ureq, Config, LlmError};
use analytics_core::nl::{self, Context, Translation};
use std::time::Duration;

/// How a question was translated.
pub(crate) struct Translated {
    pub translation: Translation,
    pub provider: Provider,
    pub model: Option<String>,
    pub attempts: u32,
    /// Why the configured provider was not used (it could not be reached).
    pub fallback: Option<String>,
    /// Hybrid mode: why the builtin translator passed the question to the model.
    pub builtin_reason: Option<String>,
    /// Hybrid mode: the model gave no spec either (it asked back, or none of its specs was valid), so
    /// the builtin translator's clarification answers; what the model did.
    pub model_note: Option<String>,
}

fn config(provider: Provider, options: &Options) -> Result<Config, ApiError> {
    let env = match provider {
        Provider::Anthropic => "ANTHROPIC_API_KEY",
        _ => "OPENAI_API_KEY",
    };
    // Keys go only to the provider they are for: an Ollama or local server gets one only when set explicitly.
    let key = match provider {
        Provider::OpenAi | Provider::Anthropic => gucs::llm_api_key(env),
        _ => gucs::llm_api_key(""),
    };
    let timeout = Duration::from_millis(gucs::llm_timeout_ms().max(1) as u64);
    Config::new(provider, options.model.clone().or_else(gucs::llm_model), gucs::llm_base_url(), key, timeout)
        .map_err(|(message, hint)| ApiError::InvalidArgument { message, detail: None, hint: Some(hint) })
}

/// Translates with a model; when the provider is unavailable and analytics.llm_fallback is builtin,
/// with the builtin translator instead (the answer then says provider "builtin" and why).
pub(crate) fn translate(question: &str, provider: Provider, options: &Options, ctx: &Context) -> Result<Translated, ApiError> {
    translate_hinted(question, None, provider, options, ctx)
}

/// [`translate`] with a note for the model after the question (hybrid mode).
pub(crate) fn translate_hinted(
    question: &str,
    hint: Option<&llm::Hint>,
    provider: Provider,
    options: &Options,
    ctx: &Context,
) -> Result<Translated, ApiError> {
    let cfg = config(provider, options)?;
    match llm::translate_hinted(question, hint, &cfg, ctx, &Ureq) {
        Ok(a) => Ok(Translated {
            translation: a.translation,
            provider,
            model: Some(a.model),
            attempts: a.attempts,
            fallback: None,
            builtin_reason: None,
            model_note: None,
        }),
        Err(LlmError::InvalidOutput(problems)) => Err(ApiError::ProviderOutput {
            message: format!("the {} model did not produce a valid spec in {} attempts", provider.as_str(), problems.len()),
            detail: problems.join("\n"),
        }),
        Err(LlmError::Unavailable { message, detail, retryable }) => match gucs::llm_fallback().as_str() {
            "builtin" => Ok(Translated {
                translation: nl::translate(question, ctx),
                provider: Provider::Builtin,
                model: None,
                attempts: 1,
                fallback: Some(message),
                builtin_reason: None,
                model_note: None,
            }),
            _ => Err(ApiError::ProviderUnavailable {
                message,
                detail,
                retryable,
                hint: Some(
                    "Check analytics.llm_base_url and the key, raise analytics.llm_timeout_ms, or SET analytics.llm_fallback = 'builtin'."
                        .into(),
                ),
            }),
        },
    }
}
