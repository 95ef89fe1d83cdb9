//! The builtin sentence embedder: all-MiniLM-L6-v2 (384 dimensions) as sentence-transformers runs it —
//! WordPiece tokens cut at [`MAX_TOKENS`], a 6-layer BERT encoder, mean pooling over the attention
//! mask (padding never counts, so a text embeds the same alone and in a batch), L2 normalisation.
//!
//! - Pure Rust: candle for the encoder, Hugging Face's `tokenizers` with its pure-Rust regex (no onig,
//!   no C++).
//! - The weights are read from a memory-mapped `model.safetensors`; candle copies them into its CPU
//!   tensors, so each process that loads the model holds its own copy (about 90 MB, measured by
//!   `examples/embed_bench`). A process loads it once ([`Embedder::load`] is the caller's to cache).
//! - Threads are bounded: [`Embedder::load`] sets candle's and rayon's thread counts before their pools
//!   exist (the default, 1, runs the matrix products on the calling thread; one rayon worker serves the
//!   softmax and layer norm). No thread is started before the first load.
//! - The files come from a package that ships them with their licence (scripts/models.sh); a missing
//!   file is [`EmbedError::Missing`], whose hint says how to install them.

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tokenizers::{Tokenizer, TruncationParams};

/// The model's name, as it is stored beside each embedding.
pub const MODEL: &str = "all-MiniLM-L6-v2";
/// Its embeddings' length.
pub const DIMENSIONS: usize = 384;
/// Texts are cut at this many tokens, [CLS] and [SEP] included: the shipped tokenizer's setting.
/// sentence-transformers' config for the model says 256; 128 halves the cost of long texts, and a
/// summary with the start of its description fits (docs/search.md has the measurements).
pub const MAX_TOKENS: usize = 128;
/// The files [`Embedder::load`] reads from the model directory.
pub const FILES: [&str; 3] = ["model.safetensors", "tokenizer.json", "config.json"];

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("the embedding model's file {file} is missing in {}", dir.display())]
    Missing { dir: PathBuf, file: &'static str },
    #[error("the embedding model in {} cannot be loaded: {message}", dir.display())]
    Invalid { dir: PathBuf, message: String },
    #[error("embedding failed: {0}")]
    Compute(String),
}

impl EmbedError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            EmbedError::Missing { .. } | EmbedError::Invalid { .. } => Some(format!(
                "Install the model files with scripts/models.sh (make setup does it), or point analytics.embedding_model_path at a directory with {}.",
                FILES.join(", ")
            )),
            EmbedError::Compute(_) => None,
        }
    }
}

fn compute(e: impl std::fmt::Display) -> EmbedError {
    EmbedError::Compute(e.to_string())
}

/// A loaded model.
pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    /// How long [`Embedder::load`] took, in milliseconds.
    pub load_ms: f64,
}

/// Sets the thread counts candle and rayon read when their pools are first built (later calls change
/// nothing: a pool keeps its size for the life of the process).
fn bound_threads(threads: usize) {
    let n = threads.max(1).to_string();
    for var in ["CANDLE_NUM_THREADS", "RAYON_NUM_THREADS"] {
        if std::env::var(var).ok().as_deref() != Some(n.as_str()) {
            std::env::set_var(var, &n);
        }
    }
}

impl Embedder {
    /// Loads the model in `dir` ([`FILES`]), computing on at most `threads` threads.
    pub fn load(dir: &Path, threads: usize) -> Result<Embedder, EmbedError> {
        let started = Instant::now();
        for file in FILES {
            if !dir.join(file).is_file() {
                return Err(EmbedError::Missing { dir: dir.to_path_buf(), file });
            }
        }
        bound_threads(threads);
        let invalid = |message: String| EmbedError::Invalid { dir: dir.to_path_buf(), message };
        let config: Config = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| invalid(format!("config.json: {e}")))
            .and_then(|t| serde_json::from_str(&t).map_err(|e| invalid(format!("config.json: {e}"))))?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json")).map_err(|e| invalid(format!("tokenizer.json: {e}")))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(|e| invalid(format!("tokenizer.json: {e}")))?;
        let device = Device::Cpu;
        // SAFETY: the file is mapped read-only; it is installed once and not written while mapped.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[dir.join("model.safetensors")], DType::F32, &device) }
            .map_err(|e| invalid(format!("model.safetensors: {e}")))?;
        let model = BertModel::load(vb, &config).map_err(|e| invalid(format!("model.safetensors: {e}")))?;
        if config.hidden_size != DIMENSIONS {
            return Err(invalid(format!("hidden_size is {}, not {DIMENSIONS}", config.hidden_size)));
        }
        Ok(Embedder { model, tokenizer, device, load_ms: started.elapsed().as_secs_f64() * 1e3 })
    }

    /// The token ids of a text, as the model reads it (cut at [`MAX_TOKENS`]).
    pub fn tokens(&self, text: &str) -> Result<Vec<u32>, EmbedError> {
        Ok(self.tokenizer.encode(text, true).map_err(compute)?.get_ids().to_vec())
    }

    /// One unit-length embedding per text, in order. A batch is padded to its longest text; the
    /// padding is masked out of attention and pooling.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let ids: Vec<Vec<u32>> = texts.iter().map(|t| self.tokens(t)).collect::<Result<_, _>>()?;
        self.forward(&ids.iter().map(Vec::as_slice).collect::<Vec<_>>())
    }

    /// [`Embedder::embed`] for many texts: they are tokenized once, sorted by length and embedded
    /// `batch` at a time, so a batch pads little (a short title is not padded to a long description's
    /// length). The result is in the texts' order, and each embedding is the one `embed` gives alone.
    /// `between` runs before each batch (to check for a cancel).
    pub fn embed_many(&self, texts: &[&str], batch: usize, mut between: impl FnMut()) -> Result<Vec<Vec<f32>>, EmbedError> {
        let ids: Vec<Vec<u32>> = texts.iter().map(|t| self.tokens(t)).collect::<Result<_, _>>()?;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| ids[i].len());
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(batch.max(1)) {
            between();
            let vectors = self.forward(&chunk.iter().map(|&i| ids[i].as_slice()).collect::<Vec<_>>())?;
            for (&i, v) in chunk.iter().zip(vectors) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    fn forward(&self, ids: &[&[u32]]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let len = ids.iter().map(|r| r.len()).max().unwrap_or(0);
        let n = ids.len();
        let mut flat = Vec::with_capacity(n * len);
        let mut mask = Vec::with_capacity(n * len);
        for row in ids {
            flat.extend(row.iter().copied().chain(std::iter::repeat_n(0, len - row.len())));
            mask.extend(std::iter::repeat_n(1u32, row.len()).chain(std::iter::repeat_n(0, len - row.len())));
        }
        let input = Tensor::from_vec(flat, (n, len), &self.device).map_err(compute)?;
        let mask = Tensor::from_vec(mask, (n, len), &self.device).map_err(compute)?;
        let types = input.zeros_like().map_err(compute)?;
        let hidden = self.model.forward(&input, &types, Some(&mask)).map_err(compute)?;
        // Mean over the real tokens only: sum(hidden * mask) / sum(mask).
        let m = mask.to_dtype(DType::F32).map_err(compute)?.unsqueeze(2).map_err(compute)?;
        let summed = hidden.broadcast_mul(&m).map_err(compute)?.sum(1).map_err(compute)?;
        let counts = m.sum(1).map_err(compute)?.clamp(1e-9f32, f32::MAX).map_err(compute)?;
        let mean = summed.broadcast_div(&counts).map_err(compute)?;
        let norm = mean.sqr().map_err(compute)?.sum_keepdim(1).map_err(compute)?.sqrt().map_err(compute)?;
        let unit = mean.broadcast_div(&norm.clamp(1e-12f32, f32::MAX).map_err(compute)?).map_err(compute)?;
        unit.to_vec2::<f32>().map_err(compute)
    }
}

/// Cosine similarity of two vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// The model directory for tests and tools: `$ANALYTICS_MODEL_DIR`, else where scripts/models.sh
/// installs it for the `pg_config` on the PATH.
pub fn default_dir() -> PathBuf {
    if let Ok(d) = std::env::var("ANALYTICS_MODEL_DIR") {
        return PathBuf::from(d);
    }
    let share = std::process::Command::new("pg_config")
        .arg("--sharedir")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "/usr/share/postgresql/15".into());
    PathBuf::from(share).join("extension/agile_analytics/models").join(MODEL)
}
