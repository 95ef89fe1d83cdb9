//! Sending a request: the transport (ureq over HTTP(S), no redirects, a time limit per request and a
//! size limit on the response), and the retry of 429 and 5xx answers with backoff (`Retry-After`
//! honoured within the time budget).

use super::wire::Request;
use std::time::{Duration, Instant};

/// Responses larger than this are refused (a spec is a few hundred bytes).
pub const MAX_RESPONSE: u64 = 1 << 20;
/// Tries per request for 429 and 5xx answers.
pub const TRIES: u32 = 3;

#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    /// Seconds, from a `Retry-After` header.
    pub retry_after: Option<f64>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TransportError {
    /// No complete answer within the time limit.
    Timeout(Duration),
    /// The server could not be reached.
    Connect(String),
    /// The answer was larger than the limit (bytes).
    TooLarge(u64),
    Other(String),
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Timeout(d) => write!(f, "no answer within {} ms", d.as_millis()),
            TransportError::Connect(m) => write!(f, "could not connect: {m}"),
            TransportError::TooLarge(limit) => write!(f, "the answer is larger than {limit} bytes"),
            TransportError::Other(m) => write!(f, "{m}"),
        }
    }
}

pub trait Transport {
    fn post(&self, req: &Request, timeout: Duration) -> Result<HttpResponse, TransportError>;
    /// [`Transport::post`] with another size limit on the answer than [`MAX_RESPONSE`] (embeddings are
    /// larger than specs).
    fn post_limited(&self, req: &Request, timeout: Duration, _limit: u64) -> Result<HttpResponse, TransportError> {
        self.post(req, timeout)
    }
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d)
    }
}

/// HTTP with ureq.
pub struct Ureq;

impl Transport for Ureq {
    fn post(&self, req: &Request, timeout: Duration) -> Result<HttpResponse, TransportError> {
        self.post_limited(req, timeout, MAX_RESPONSE)
    }

    fn post_limited(&self, req: &Request, timeout: Duration, limit: u64) -> Result<HttpResponse, TransportError> {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("agile_analytics/", env!("CARGO_PKG_VERSION")))
            .build();
        let agent: ureq::Agent = config.into();
        let mut r = agent.post(&req.url);
        for (k, v) in &req.headers {
            r = r.header(k.as_str(), v.as_str());
        }
        let body = req.body.to_string();
        let map = |e: ureq::Error| match e {
            ureq::Error::Timeout(_) => TransportError::Timeout(timeout),
            ureq::Error::BodyExceedsLimit(_) => TransportError::TooLarge(limit),
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => TransportError::Timeout(timeout),
            ureq::Error::Io(io) => TransportError::Connect(io.to_string()),
            ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => TransportError::Connect(e.to_string()),
            other => TransportError::Other(other.to_string()),
        };
        let mut resp = r.send(body.as_str()).map_err(map)?;
        let status = resp.status().as_u16();
        let retry_after = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|s| s.trim().parse::<f64>().ok());
        let body = resp.body_mut().with_config().limit(limit).read_to_string().map_err(map)?;
        Ok(HttpResponse { status, retry_after, body })
    }
}

fn retryable(status: u16) -> bool {
    status == 429 || (500..=599).contains(&status)
}

/// Posts, retrying 429 and 5xx answers (at most [`TRIES`] tries) with exponential backoff or the
/// server's `Retry-After`, never past `deadline`. Returns the last answer (which may be an error status).
pub fn post_with_retries(
    t: &dyn Transport,
    req: &Request,
    per_request: Duration,
    deadline: Instant,
) -> Result<HttpResponse, TransportError> {
    post_with_retries_limited(t, req, per_request, deadline, MAX_RESPONSE)
}

/// [`post_with_retries`] with another size limit on each answer.
pub fn post_with_retries_limited(
    t: &dyn Transport,
    req: &Request,
    per_request: Duration,
    deadline: Instant,
    limit: u64,
) -> Result<HttpResponse, TransportError> {
    let mut backoff = Duration::from_millis(250);
    let mut tries = 0;
    loop {
        tries += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(TransportError::Timeout(per_request));
        }
        let resp = t.post_limited(req, per_request.min(left), limit)?;
        if !retryable(resp.status) || tries >= TRIES {
            return Ok(resp);
        }
        let wait = resp.retry_after.map(|s| Duration::from_secs_f64(s.clamp(0.0, 30.0))).unwrap_or(backoff);
        if Instant::now() + wait >= deadline {
            return Ok(resp);
        }
        t.sleep(wait);
        backoff *= 2;
    }
}
