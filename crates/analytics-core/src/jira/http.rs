//! The sync's requests over HTTP(S) with ureq: the credential in the `Authorization` header, JSON
//! bodies, a time limit per request, a size limit on answers, and no redirects (a redirect to another
//! host would carry the credential along: it is answered as an error instead).
//!
//! [`Client::prefetch`] sends the next search page on a thread of its own while the caller writes the
//! page before it (the sync's time is then the greater of the site's and the database's, not their
//! sum). That thread does network I/O only — no PostgreSQL call — and runs with every signal blocked,
//! so the backend's signal handlers stay on its own thread.

use super::driver::Response;
use super::source::Credential;
use super::sync::Request;
use std::thread::JoinHandle;
use std::time::Duration;

pub struct Client {
    agent: ureq::Agent,
    base: String,
    auth: String,
    max_response: u64,
    /// A request sent ahead, and the thread that waits for its answer.
    ahead: Option<(Request, JoinHandle<Result<Response, String>>)>,
}

impl Client {
    pub fn new(base_url: &str, credential: &Credential, timeout: Duration, max_response: u64) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("agile_analytics/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Client { agent, base: base_url.trim_end_matches('/').to_string(), auth: credential.header(), max_response, ahead: None }
    }

    /// Sends one request; Err: no complete answer (ureq's message names the host and the failure,
    /// never a header). The answer of a prefetch of the same request, when there is one.
    pub fn send(&mut self, req: &Request) -> Result<Response, String> {
        if let Some((sent, thread)) = self.ahead.take() {
            if &sent == req {
                return thread.join().unwrap_or_else(|_| Err("the request's thread ended without an answer".into()));
            }
        }
        fetch(&self.agent, &self.base, &self.auth, self.max_response, req)
    }

    /// Waits for a request sent ahead to be answered, and drops the answer (a test's way to know the
    /// site has seen it).
    pub fn settle(&mut self) {
        if let Some((_, thread)) = self.ahead.take() {
            let _ = thread.join();
        }
    }

    /// Starts sending `req` on another thread; the next [`Client::send`] of the same request takes its
    /// answer (any other request drops it). When no thread can be started, nothing is sent ahead.
    pub fn prefetch(&mut self, req: &Request) {
        self.ahead = None;
        let (agent, base, auth, max, r) = (self.agent.clone(), self.base.clone(), self.auth.clone(), self.max_response, req.clone());
        if let Ok(thread) = spawn_without_signals(move || fetch(&agent, &base, &auth, max, &r)) {
            self.ahead = Some((req.clone(), thread));
        }
    }
}

/// Starts a thread with every signal blocked (it inherits the mask, which is then put back).
fn spawn_without_signals<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> std::io::Result<JoinHandle<T>> {
    // SAFETY: sigfillset and pthread_sigmask only read and write the two sets given here.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        if libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old) != 0 {
            return Err(std::io::Error::other("signals could not be blocked for the thread"));
        }
        let thread = std::thread::Builder::new().name("jira-prefetch".into()).spawn(f);
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        thread
    }
}

fn fetch(agent: &ureq::Agent, base: &str, auth: &str, max_response: u64, req: &Request) -> Result<Response, String> {
    let url = format!("{}{}", base, req.path);
    let resp = match &req.body {
        Some(b) => agent
            .post(&url)
            .header("Authorization", auth)
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
            .send(b.to_string().as_str()),
        None => agent.get(&url).header("Authorization", auth).header("Accept", "application/json").call(),
    };
    let mut resp = resp.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let retry_after = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(String::from);
    if (300..400).contains(&status) {
        let body = r#"{"errorMessages": ["a redirect, which the sync does not follow (the credential would go along): set base_url to the site itself"]}"#;
        return Ok(Response { status, retry_after, body: body.into() });
    }
    let body = resp.body_mut().with_config().limit(max_response).read_to_string().map_err(|e| e.to_string())?;
    Ok(Response { status, retry_after, body })
}
