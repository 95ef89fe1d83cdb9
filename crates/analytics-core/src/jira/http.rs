//! The sync's requests over HTTP(S) with ureq: the credential in the `Authorization` header, JSON
//! bodies, a time limit per request, a size limit on answers, and no redirects (a redirect to another
//! host would carry the credential along: it is answered as an error instead).

use super::driver::Response;
use super::source::Credential;
use super::sync::Request;
use std::time::Duration;

pub struct Client {
    agent: ureq::Agent,
    base: String,
    auth: String,
    max_response: u64,
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
        Client { agent, base: base_url.trim_end_matches('/').to_string(), auth: credential.header(), max_response }
    }

    /// Sends one request; Err: no complete answer (ureq's message names the host and the failure,
    /// never a header).
    pub fn send(&self, req: &Request) -> Result<Response, String> {
        let url = format!("{}{}", self.base, req.path);
        let resp = match &req.body {
            Some(b) => self
                .agent
                .post(&url)
                .header("Authorization", &self.auth)
                .header("Accept", "application/json")
                .header("Content-Type", "application/json")
                .send(b.to_string().as_str()),
            None => self.agent.get(&url).header("Authorization", &self.auth).header("Accept", "application/json").call(),
        };
        let mut resp = resp.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let retry_after = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(String::from);
        if (300..400).contains(&status) {
            let body = r#"{"errorMessages": ["a redirect, which the sync does not follow (the credential would go along): set base_url to the site itself"]}"#;
            return Ok(Response { status, retry_after, body: body.into() });
        }
        let body = resp.body_mut().with_config().limit(self.max_response).read_to_string().map_err(|e| e.to_string())?;
        Ok(Response { status, retry_after, body })
    }
}
