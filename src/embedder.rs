//! The backend's embedder: the builtin model (`crates/embed`), loaded on first use and kept for the
//! life of the process, or a remote provider (`analytics.embedding_provider`). Nothing is loaded in `_PG_init` or the postmaster, so no thread pool exists
//! before a backend first embeds (rayon after fork hangs); the model computes on at most
//! `analytics.embedding_threads` threads, which never call PostgreSQL: only this thread does.

use crate::error::ApiError;
use crate::gucs;
use analytics_core::llm::embeddings::{self, EmbedConfig, EmbeddingProvider};
use analytics_core::llm::http::Ureq;
use analytics_core::llm::LlmError;
use analytics_embed::{EmbedError, Embedder};
use pgrx::pg_sys;
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

/// The model each embedding is stored under.
pub const MODEL: &str = analytics_embed::MODEL;
/// Its length (the cast of its HNSW index).
pub const DIMENSIONS: usize = analytics_embed::DIMENSIONS;

thread_local! {
    /// The loaded model and the directory it came from. A failed load is not kept: the next call tries
    /// again (after the files are installed, say); another `analytics.embedding_model_path` loads anew.
    static LOADED: RefCell<Option<(PathBuf, Rc<Embedder>)>> = const { RefCell::new(None) };
}

/// Where the model's files are: `analytics.embedding_model_path`, else where scripts/models.sh puts
/// them under this server's share directory.
pub fn model_dir() -> PathBuf {
    if let Some(p) = gucs::embedding_model_path() {
        return PathBuf::from(p);
    }
    let mut buf = vec![0 as std::ffi::c_char; pg_sys::MAXPGPATH as usize];
    // SAFETY: my_exec_path is the server's NUL-terminated executable path; get_share_path writes at
    // most MAXPGPATH bytes, NUL included, into buf.
    let share = unsafe {
        pg_sys::get_share_path(std::ptr::addr_of!(pg_sys::my_exec_path) as *const std::ffi::c_char, buf.as_mut_ptr());
        std::ffi::CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
    };
    PathBuf::from(share).join("extension/agile_analytics/models").join(MODEL)
}

/// Whether the model's files are where [`model_dir`] says (a cheap check: the job workers queue embed
/// jobs only then).
pub fn installed() -> bool {
    let dir = model_dir();
    analytics_embed::FILES.iter().all(|f| dir.join(f).is_file())
}

impl From<EmbedError> for ApiError {
    fn from(e: EmbedError) -> Self {
        let hint = e.hint();
        match e {
            EmbedError::Missing { .. } => ApiError::ModelUnavailable { message: e.to_string(), hint, corrupt: false },
            EmbedError::Invalid { .. } => ApiError::ModelUnavailable { message: e.to_string(), hint, corrupt: true },
            EmbedError::Compute(m) => ApiError::Internal(format!("embedding failed: {m}")),
        }
    }
}

/// Runs `f` with the loaded model, loading it first if this backend has not (or had it from another
/// directory).
pub fn with<R>(f: impl FnOnce(&Embedder) -> Result<R, ApiError>) -> Result<R, ApiError> {
    let dir = model_dir();
    let cached = LOADED.with(|l| l.borrow().as_ref().filter(|(d, _)| *d == dir).map(|(_, e)| e.clone()));
    let model = match cached {
        Some(e) => e,
        None => {
            LOADED.with(|l| *l.borrow_mut() = None);
            let loaded = Rc::new(Embedder::load(&dir, gucs::embedding_threads())?);
            pgrx::debug1!("agile_analytics: loaded embedding model {MODEL} in {:.0} ms", loaded.load_ms);
            LOADED.with(|l| *l.borrow_mut() = Some((dir, loaded.clone())));
            loaded
        }
    };
    f(&model)
}

/// Embeddings of `texts`, in order, by `analytics.embedding_provider`: the builtin model (sorted by
/// length and embedded [`BATCH`] at a time) or a remote provider ([`remote`]).
pub fn embed(texts: &[&str]) -> Result<Vec<Vec<f32>>, ApiError> {
    match gucs::embedding_provider() {
        EmbeddingProvider::Builtin => with(|e| {
            Ok(e.embed_many(texts, BATCH, || {
                pgrx::check_for_interrupts!();
            })?)
        }),
        _ => remote(texts),
    }
}

/// The name the current provider's embeddings are stored and searched under: `all-MiniLM-L6-v2`, or
/// `provider:model` for a remote one.
pub fn model_name() -> Result<String, ApiError> {
    match gucs::embedding_provider() {
        EmbeddingProvider::Builtin => Ok(MODEL.to_string()),
        p => Ok(remote_config(p)?.stored_name()),
    }
}

/// Whether embeddings can be made now without an error about missing files: a remote provider, or the
/// builtin model's files installed (the job workers queue embed jobs only then).
pub fn ready() -> bool {
    gucs::embedding_provider() != EmbeddingProvider::Builtin || installed()
}

fn remote_config(p: EmbeddingProvider) -> Result<EmbedConfig, ApiError> {
    // Keys go only to the provider they are for: Ollama or a local server gets one only when set.
    let key = gucs::embedding_api_key(p == EmbeddingProvider::OpenAi);
    let timeout = Duration::from_millis(gucs::embedding_timeout_ms().max(1) as u64);
    EmbedConfig::new(p, gucs::embedding_model(), gucs::embedding_base_url(), key, timeout)
        .map_err(|(message, hint)| ApiError::InvalidArgument { message, detail: None, hint: Some(hint) })
}

/// A remote provider's embeddings (analytics_core::llm::embeddings: batches, retries, limits, the key
/// redacted from every error).
fn remote(texts: &[&str]) -> Result<Vec<Vec<f32>>, ApiError> {
    let cfg = remote_config(gucs::embedding_provider())?;
    embeddings::embed(&cfg, texts, &Ureq).map_err(|e| match e {
        LlmError::Unavailable { message, detail, retryable } => ApiError::ProviderUnavailable {
            message,
            detail,
            retryable,
            hint: Some(
                "Check analytics.embedding_base_url, analytics.embedding_model and the key, raise analytics.embedding_timeout_ms, or SET analytics.embedding_provider = 'builtin'."
                    .into(),
            ),
        },
        LlmError::InvalidOutput(p) => ApiError::Internal(p.join("; ")),
    })
}

/// Texts per forward pass: sorted by length, 8 at a time embedded 20.9 issue texts/s on one thread,
/// 16 at a time 16.5, one at a time 16.4 (embed_bench, docs/search.md).
pub const BATCH: usize = 8;
