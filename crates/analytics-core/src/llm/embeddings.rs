//! Remote embedding providers for semantic search (`analytics.embedding_provider`; docs/search.md):
//! OpenAI's `/v1/embeddings`, Ollama's `/api/embed`, and any server with OpenAI's embeddings API
//! (`openai_compatible`: llama.cpp, vLLM, LM Studio, LiteLLM). The same rules as the LLM providers:
//! ureq with no redirects, a time limit per request and a size limit on the answer, 429 and 5xx tried
//! again with backoff ([`super::http`]), keys sent only to the provider they are for and never in an
//! error ([`super::redact`]). What comes back is checked: one vector per text, all of one length,
//! finite numbers, at most [`MAX_DIMENSIONS`].

use super::http::{self, Transport};
use super::wire::Request;
use super::{redact, LlmError};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// pgvector's largest `vector`.
pub const MAX_DIMENSIONS: usize = 16_000;
/// Texts per request.
pub const BATCH: usize = 64;
/// The answer's size limit: 64 vectors of 3,072 numbers as JSON text.
pub const MAX_RESPONSE: u64 = 16 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddingProvider {
    /// all-MiniLM-L6-v2 in the backend (`crates/embed`); no network.
    Builtin,
    OpenAi,
    Ollama,
    OpenAiCompatible,
}

impl EmbeddingProvider {
    pub const ALL: [EmbeddingProvider; 4] =
        [EmbeddingProvider::Builtin, EmbeddingProvider::OpenAi, EmbeddingProvider::Ollama, EmbeddingProvider::OpenAiCompatible];

    pub fn as_str(self) -> &'static str {
        match self {
            EmbeddingProvider::Builtin => "builtin",
            EmbeddingProvider::OpenAi => "openai",
            EmbeddingProvider::Ollama => "ollama",
            EmbeddingProvider::OpenAiCompatible => "openai_compatible",
        }
    }

    pub fn parse(s: &str) -> Option<EmbeddingProvider> {
        Self::ALL.into_iter().find(|p| p.as_str() == s.trim().to_lowercase())
    }

    pub fn default_model(self) -> &'static str {
        match self {
            EmbeddingProvider::OpenAi => "text-embedding-3-small",
            // Ollama's name for all-MiniLM-L6-v2.
            EmbeddingProvider::Ollama => "all-minilm",
            EmbeddingProvider::OpenAiCompatible => "default",
            EmbeddingProvider::Builtin => "all-MiniLM-L6-v2",
        }
    }

    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            EmbeddingProvider::OpenAi => Some("https://api.openai.com/v1"),
            EmbeddingProvider::Ollama => Some("http://127.0.0.1:11434"),
            EmbeddingProvider::OpenAiCompatible | EmbeddingProvider::Builtin => None,
        }
    }
}

/// Where and how to embed remotely.
#[derive(Debug, Clone)]
pub struct EmbedConfig {
    pub provider: EmbeddingProvider,
    pub model: String,
    pub base_url: String,
    pub api_key: Option<String>,
    /// Longest wait for one request; all the requests of one call take at most three times this.
    pub timeout: Duration,
}

impl EmbedConfig {
    /// A configuration with the provider's defaults; Err(message, hint) when one is missing.
    pub fn new(
        provider: EmbeddingProvider,
        model: Option<String>,
        base_url: Option<String>,
        api_key: Option<String>,
        timeout: Duration,
    ) -> Result<EmbedConfig, (String, String)> {
        let base_url = match (base_url, provider.default_base_url()) {
            (Some(b), _) => b,
            (None, Some(d)) => d.to_string(),
            (None, None) => return Err((
                format!("the {} embedding provider needs a base URL", provider.as_str()),
                "A superuser sets it: ALTER SYSTEM SET analytics.embedding_base_url = 'http://127.0.0.1:8080/v1'; SELECT pg_reload_conf();"
                    .into(),
            )),
        };
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err((
                format!("analytics.embedding_base_url must start with http:// or https://, not {base_url:?}"),
                "For example http://127.0.0.1:11434 for Ollama.".into(),
            ));
        }
        if provider == EmbeddingProvider::OpenAi && api_key.is_none() {
            return Err((
                "the openai embedding provider needs an API key".into(),
                "A superuser sets analytics.embedding_api_key, or the server's environment has OPENAI_API_KEY.".into(),
            ));
        }
        let model = model.unwrap_or_else(|| provider.default_model().to_string());
        Ok(EmbedConfig { provider, model, base_url, api_key, timeout })
    }

    /// The name embeddings are stored under: the provider and its model ("openai:text-embedding-3-small").
    pub fn stored_name(&self) -> String {
        let safe: String = self.model.chars().filter(|c| c.is_ascii_alphanumeric() || "._:/-".contains(*c)).take(100).collect();
        format!("{}:{safe}", self.provider.as_str())
    }
}

/// The request for some texts.
pub fn request(cfg: &EmbedConfig, texts: &[&str]) -> Request {
    let base = cfg.base_url.trim_end_matches('/');
    let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    if let Some(k) = &cfg.api_key {
        headers.push(("Authorization".into(), format!("Bearer {k}")));
    }
    match cfg.provider {
        EmbeddingProvider::Ollama => {
            Request { url: format!("{base}/api/embed"), headers, body: json!({"model": cfg.model, "input": texts}) }
        }
        _ => Request {
            url: format!("{base}/embeddings"),
            headers,
            body: json!({"model": cfg.model, "input": texts, "encoding_format": "float"}),
        },
    }
}

/// The vectors in a response, in the order of the texts; `n`: how many texts were sent.
pub fn vectors(provider: EmbeddingProvider, body: &Value, n: usize) -> Result<Vec<Vec<f32>>, String> {
    let rows: Vec<&Value> = match provider {
        EmbeddingProvider::Ollama => body.get("embeddings").and_then(Value::as_array).ok_or("no \"embeddings\" array")?.iter().collect(),
        _ => {
            let data = body.get("data").and_then(Value::as_array).ok_or("no \"data\" array")?;
            // OpenAI gives each its index; order by it.
            let mut indexed: Vec<(usize, &Value)> = Vec::with_capacity(data.len());
            for (i, d) in data.iter().enumerate() {
                let at = d.get("index").and_then(Value::as_u64).map(|x| x as usize).unwrap_or(i);
                indexed.push((at, d.get("embedding").ok_or("an item without \"embedding\"")?));
            }
            indexed.sort_by_key(|(i, _)| *i);
            if indexed.iter().enumerate().any(|(k, (i, _))| k != *i) {
                return Err("the items' indexes are not 0.. in order".into());
            }
            indexed.into_iter().map(|(_, v)| v).collect()
        }
    };
    if rows.len() != n {
        return Err(format!("{} vectors for {n} texts", rows.len()));
    }
    let mut out = Vec::with_capacity(n);
    for (i, r) in rows.iter().enumerate() {
        let a = r.as_array().ok_or_else(|| format!("vector {i} is not an array"))?;
        let v: Vec<f32> = a
            .iter()
            .map(|x| x.as_f64().filter(|f| f.is_finite()).map(|f| f as f32))
            .collect::<Option<Vec<f32>>>()
            .ok_or_else(|| format!("vector {i} has a value that is not a finite number"))?;
        if v.is_empty() || v.len() > MAX_DIMENSIONS {
            return Err(format!("vector {i} has {} dimensions (1 to {MAX_DIMENSIONS} can be stored)", v.len()));
        }
        if let Some(first) = out.first().map(|f: &Vec<f32>| f.len()) {
            if v.len() != first {
                return Err(format!("vector {i} has {} dimensions, vector 0 has {first}", v.len()));
            }
        }
        if v.iter().all(|x| *x == 0.0) {
            return Err(format!("vector {i} is all zeros (no direction to compare)"));
        }
        out.push(v);
    }
    Ok(out)
}

/// Embeds `texts` with the provider, [`BATCH`] per request, under one deadline of three timeouts.
pub fn embed(cfg: &EmbedConfig, texts: &[&str], transport: &dyn Transport) -> Result<Vec<Vec<f32>>, LlmError> {
    let started = Instant::now();
    let deadline = started + cfg.timeout * 3;
    let unavailable = |message: String, retryable: bool| LlmError::Unavailable {
        message: redact(&message, &cfg.api_key),
        detail: Some(format!("{} ms, {} texts", started.elapsed().as_millis(), texts.len())),
        retryable,
    };
    let mut out: Vec<Vec<f32>> = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(BATCH) {
        let req = request(cfg, chunk);
        let resp = http::post_with_retries_limited(transport, &req, cfg.timeout, deadline, MAX_RESPONSE).map_err(|e| {
            unavailable(format!("the {} embedding provider at {} is unavailable: {e}", cfg.provider.as_str(), cfg.base_url), true)
        })?;
        if resp.status >= 400 {
            return Err(unavailable(
                format!(
                    "the {} embedding provider answered HTTP {}: {}",
                    cfg.provider.as_str(),
                    resp.status,
                    super::wire::error_message(&resp.body)
                ),
                resp.status == 429 || resp.status >= 500,
            ));
        }
        let body: Value = serde_json::from_str(&resp.body)
            .map_err(|_| unavailable(format!("the {} embedding provider's response is not JSON", cfg.provider.as_str()), false))?;
        let v = vectors(cfg.provider, &body, chunk.len())
            .map_err(|e| unavailable(format!("unexpected response from the {} embedding provider: {e}", cfg.provider.as_str()), false))?;
        if let (Some(a), Some(b)) = (out.first(), v.first()) {
            if a.len() != b.len() {
                return Err(unavailable(
                    format!(
                        "the {} embedding provider changed dimensions between requests ({} then {})",
                        cfg.provider.as_str(),
                        a.len(),
                        b.len()
                    ),
                    false,
                ));
            }
        }
        out.extend(v);
    }
    Ok(out)
}

#[cfg(test)]
#[path = "embeddings_tests.rs"]
mod tests;
