//! An `embed` job (docs/search.md): the tenant's new and changed issues embedded (the builtin model, or
//! the remote provider of the submitter's `analytics.embedding_provider`),
//! batch by batch, each batch in its own transaction as the job's submitter and only while the attempt
//! owns the job (fenced by its token, like every attempt). An attempt that dies keeps the batches it
//! committed; the next one goes on from there, since the content hashes say what is left. The job
//! workers queue one for every tenant whose issues changed (`analytics.embed_interval`,
//! [`super::supervisor`]); users submit one for a backfill with `analytics_job_submit('embed', '{}')`.

use super::attempt::{as_submitter, check_submitter, complete, fence, Claimed};
use super::registry;
use super::tx::in_tx;
use crate::api::search;
use crate::error::ApiError;
use analytics_core::jobs::check_embed;
use serde_json::{json, Value};
use std::time::Instant;

const WHAT: &str = "the embedding job";

/// One attempt of an embed job; Ok when it completed.
pub fn run(job: &Claimed) -> Result<(), ApiError> {
    let payload: Value = serde_json::from_str(&job.payload).map_err(|e| ApiError::Internal(format!("job payload: {e}")))?;
    let batch = check_embed(&payload).map_err(|(m, _)| ApiError::Internal(format!("job payload: {m}")))?;
    let started = Instant::now();
    let total = in_tx(|| {
        check_submitter(job)?;
        fence(job, WHAT)?;
        as_submitter(job, || search::pending(&job.tenant))
    })?;
    registry::progress(0.0, "embedding");
    let (mut embedded, mut batches, mut after) = (0i64, 0i64, i64::MIN);
    loop {
        // Issues after the cursor only: each batch reads on from where the last one stopped (an issue
        // edited behind it marks its tenant again, for the next job).
        let (n, last) = in_tx(|| {
            fence(job, WHAT)?;
            let done = as_submitter(job, || search::embed_after(&job.tenant, batch, after))?;
            fence(job, WHAT)?;
            Ok(done)
        })?;
        if n == 0 {
            break;
        }
        embedded += n;
        batches += 1;
        after = last;
        registry::progress((0.98 * embedded as f64 / total.max(embedded).max(1) as f64) as f32, "embedding");
    }
    let seconds = started.elapsed().as_secs_f64();
    let result = json!({
        "embedded": embedded,
        "batches": batches,
        "model": crate::embedder::model_name()?,
        "seconds": (seconds * 10.0).round() / 10.0,
        "issues_per_second": if seconds > 0.0 { ((embedded as f64 / seconds) * 10.0).round() / 10.0 } else { 0.0 },
    });
    in_tx(|| complete(job, None, &result.to_string()))
}
