//! LLM providers for analytics_ask (HTTP glue; request and response shapes are in analytics_core).

use crate::api::ask::Translated;
use crate::error::ApiError;
use analytics_core::ask::{Options, Provider};
use analytics_core::nl::Context;

pub(crate) fn translate(_question: &str, provider: Provider, _options: &Options, _ctx: &Context) -> Result<Translated, ApiError> {
    Err(ApiError::ProviderUnavailable {
        message: format!("the {} provider is not built yet", provider.as_str()),
        detail: None,
        hint: Some("Use the builtin provider.".into()),
    })
}
