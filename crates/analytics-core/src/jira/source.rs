//! A Jira source as `analytics_jira_source_upsert(name, config)` stores it, and its credential as
//! `analytics_jira_source_secret(name, secret)` stores it: parsed and checked here, with no database in
//! sight. A credential never prints: its `Debug` is redacted and only [`Credential::header`] reveals it.

use super::sync::Flavor;
use super::{JiraError, Options};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The config keys a source takes: its own, then the options of `analytics_ingest_jira`.
pub const CONFIG_KEYS: &[&str] = &[
    "base_url",
    "flavor",
    "jql",
    "boards",
    "page_size",
    "overlap_minutes",
    "time_zone",
    "instance_id",
    "sprint_field",
    "story_points_field",
    "status_categories",
];

/// A source's config, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceConfig {
    /// `scheme://host[:port][/path]`, without a trailing slash.
    pub base_url: String,
    pub flavor: Flavor,
    pub jql: String,
    /// Board id -> name; empty: discovered from the projects of the JQL (or every board).
    pub boards: BTreeMap<String, String>,
    pub page_size: u32,
    /// How far before the watermark an incremental sync starts (clock skew, same-minute updates).
    pub overlap_minutes: u32,
    /// The site's time zone for JQL dates (IANA name); None: the API user's (`/myself`), else UTC.
    pub time_zone: Option<String>,
    /// What `analytics_ingest_jira` takes (`boards` included).
    pub ingest: Options,
}

fn err(path: &str, message: impl Into<String>) -> JiraError {
    JiraError::new(format!("config.{path}"), message)
}

impl SourceConfig {
    pub fn parse(v: &Value) -> Result<SourceConfig, JiraError> {
        let o = v.as_object().ok_or_else(|| JiraError::new("config", "the config must be a JSON object"))?;
        if let Some(k) = o.keys().find(|k| !CONFIG_KEYS.contains(&k.as_str())) {
            return Err(err(k, format!("unknown key; the keys: {}", CONFIG_KEYS.join(", "))));
        }
        let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::trim);
        let base_url = text("base_url").ok_or_else(|| err("base_url", "is required: the site, e.g. https://example.atlassian.net"))?;
        let base_url = check_url(base_url).map_err(|m| err("base_url", m))?;
        let flavor = match o.get("flavor") {
            None | Some(Value::Null) if base_url.contains(".atlassian.net") => Flavor::Cloud,
            None | Some(Value::Null) => return Err(err("flavor", "is required: cloud or server")),
            Some(Value::String(s)) => Flavor::parse(s).ok_or_else(|| err("flavor", format!("must be cloud or server, not {s:?}")))?,
            Some(other) => return Err(err("flavor", format!("must be cloud or server, not {other}"))),
        };
        let jql = match o.get("jql") {
            Some(Value::String(s)) if s.len() <= 4000 && !s.contains('\0') => s.trim().to_string(),
            None | Some(Value::Null) => return Err(err("jql", "is required, e.g. \"project in (PAY, WEB)\"")),
            Some(_) => return Err(err("jql", "must be a string of at most 4000 bytes")),
        };
        if jql.is_empty() {
            return Err(err(
                "jql",
                "must not be empty: a sync of every issue of a site is asked for with a JQL that says so, e.g. \"created >= -3650d\"",
            ));
        }
        let number = |k: &str, default: u32, lo: u32, hi: u32| -> Result<u32, JiraError> {
            match o.get(k) {
                None | Some(Value::Null) => Ok(default),
                Some(v) => v
                    .as_u64()
                    .filter(|n| (lo as u64..=hi as u64).contains(n))
                    .map(|n| n as u32)
                    .ok_or_else(|| err(k, format!("must be a whole number from {lo} to {hi}"))),
            }
        };
        let page_size = number("page_size", 100, 1, 1000)?;
        let overlap_minutes = number("overlap_minutes", 10, 0, 1440)?;
        let time_zone = match o.get("time_zone") {
            None | Some(Value::Null) => None,
            Some(Value::String(s))
                if !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c)) =>
            {
                Some(s.clone())
            }
            Some(_) => return Err(err("time_zone", "must be a time zone name, e.g. Europe/Berlin")),
        };
        let mut ingest = Map::new();
        for k in ["instance_id", "sprint_field", "story_points_field", "status_categories", "boards"] {
            if let Some(v) = o.get(k) {
                ingest.insert(k.to_string(), v.clone());
            }
        }
        let ingest =
            Options::parse(&Value::Object(ingest)).map_err(|e| JiraError::new(e.path.replacen("options.", "config.", 1), e.message))?;
        for id in ingest.boards.keys() {
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err(&format!("boards.{id}"), "a board id is a number, e.g. {\"3\": \"Payments\"}"));
            }
        }
        Ok(SourceConfig { base_url, flavor, jql, boards: ingest.boards.clone(), page_size, overlap_minutes, time_zone, ingest })
    }

    /// The config as stored and shown: every key, defaults filled in.
    pub fn to_json(&self) -> Value {
        let o = &self.ingest;
        json!({
            "base_url": self.base_url,
            "flavor": if self.flavor == Flavor::Cloud { "cloud" } else { "server" },
            "jql": self.jql,
            "boards": self.boards,
            "page_size": self.page_size,
            "overlap_minutes": self.overlap_minutes,
            "time_zone": self.time_zone,
            "instance_id": o.instance_id,
            "sprint_field": o.sprint_field,
            "story_points_field": o.story_points_field,
            "status_categories": o.status_categories,
        })
    }

    /// The project keys a JQL names (`project = A`, `project in (A, B)`), for board discovery.
    pub fn projects(&self) -> Vec<String> {
        let re = regex::Regex::new(r#"(?i)\bproject\s*(?:in\s*\(([^)]*)\)|=\s*"?([A-Za-z0-9_]+)"?)"#).expect("a valid regex");
        let mut out = Vec::new();
        for c in re.captures_iter(&self.jql) {
            let list = c.get(1).or(c.get(2)).map_or("", |m| m.as_str());
            out.extend(list.split(',').map(|s| s.trim().trim_matches('"').to_string()).filter(|s| !s.is_empty()));
        }
        out
    }
}

/// `scheme://host[:port][/path]`: http or https, no user info, query or fragment.
fn check_url(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(|| "must start with https:// (or http://)".to_string())?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.contains('@') {
        return Err("must name a host, without user or password (the credential is set with analytics_jira_source_secret)".into());
    }
    if s.contains('?') || s.contains('#') || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must have no query, fragment or spaces".into());
    }
    if s.len() > 500 {
        return Err("must be at most 500 bytes".into());
    }
    Ok(s.trim_end_matches('/').to_string())
}

/// How a request authenticates: Cloud with e-mail and API token (HTTP Basic), Server/DC with a personal
/// access token (Bearer) or, for old servers, user and password (Basic).
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Basic { user: String, secret: String },
    Bearer(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind())
    }
}

impl Credential {
    /// Reads a secret: {"email", "api_token"} (Cloud), {"token"} (Server/DC), {"username", "password"}
    /// (Server/DC). The error never quotes a value.
    pub fn parse(v: &Value) -> Result<Credential, JiraError> {
        let o = v.as_object().ok_or_else(|| JiraError::new("secret", "the secret must be a JSON object"))?;
        let get = |k: &str| -> Result<Option<String>, JiraError> {
            match o.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if !s.is_empty() && s.len() <= 4096 && !s.chars().any(char::is_control) => Ok(Some(s.clone())),
                Some(_) => Err(JiraError::new(
                    format!("secret.{k}"),
                    "must be a non-empty string of at most 4096 bytes, without control characters",
                )),
            }
        };
        let known = ["email", "api_token", "token", "username", "password"];
        if let Some(k) = o.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(JiraError::new(
                format!("secret.{k}"),
                "unknown key; a secret is {\"email\", \"api_token\"} (Cloud), {\"token\"} or {\"username\", \"password\"} (Server/DC)",
            ));
        }
        match (get("email")?, get("api_token")?, get("token")?, get("username")?, get("password")?) {
            (Some(user), Some(secret), None, None, None) => {
                if user.contains(':') {
                    return Err(JiraError::new("secret.email", "must not contain a colon"));
                }
                Ok(Credential::Basic { user, secret })
            }
            (None, None, Some(t), None, None) => Ok(Credential::Bearer(t)),
            (None, None, None, Some(user), Some(secret)) if !user.contains(':') => Ok(Credential::Basic { user, secret }),
            _ => Err(JiraError::new(
                "secret",
                "a secret is {\"email\", \"api_token\"} (Cloud), {\"token\"} (a Server/DC personal access token) or {\"username\", \"password\"}",
            )),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Credential::Basic { .. } => "basic",
            Credential::Bearer(_) => "bearer",
        }
    }

    /// The `Authorization` header's value.
    pub fn header(&self) -> String {
        use base64::Engine;
        match self {
            Credential::Basic { user, secret } => {
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}")))
            }
            Credential::Bearer(t) => format!("Bearer {t}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_are_checked_and_filled_in() {
        let c = SourceConfig::parse(&json!({"base_url": "https://acme.atlassian.net/", "jql": "project in (PAY, WEB)",
            "boards": {"3": "Payments"}, "story_points_field": "customfield_10016"}))
        .unwrap();
        assert_eq!((c.base_url.as_str(), c.flavor, c.page_size, c.overlap_minutes), ("https://acme.atlassian.net", Flavor::Cloud, 100, 10));
        assert_eq!(c.ingest.boards.get("3").map(String::as_str), Some("Payments"));
        assert_eq!(c.ingest.story_points_field.as_deref(), Some("customfield_10016"));
        assert_eq!(c.projects(), ["PAY", "WEB"]);
        assert_eq!(SourceConfig::parse(&c.to_json()).unwrap(), c, "the stored form reads back the same");
        let bad = |v: Value| SourceConfig::parse(&v).unwrap_err().path;
        assert_eq!(bad(json!({"jql": "x"})), "config.base_url");
        assert_eq!(bad(json!({"base_url": "ftp://x", "jql": "x", "flavor": "server"})), "config.base_url");
        assert_eq!(bad(json!({"base_url": "https://u:p@x", "jql": "x", "flavor": "server"})), "config.base_url");
        assert_eq!(bad(json!({"base_url": "https://jira.corp", "jql": "x"})), "config.flavor");
        assert_eq!(bad(json!({"base_url": "https://jira.corp", "jql": "x", "flavor": "dc"})), "config.flavor");
        assert_eq!(bad(json!({"base_url": "https://jira.corp", "flavor": "server", "jql": " "})), "config.jql");
        assert_eq!(bad(json!({"base_url": "https://jira.corp", "flavor": "server", "jql": "x", "page_size": 0})), "config.page_size");
        assert_eq!(bad(json!({"base_url": "https://jira.corp", "flavor": "server", "jql": "x", "boards": {"a": "b"}})), "config.boards.a");
        assert_eq!(bad(json!({"base_url": "https://jira.corp", "flavor": "server", "jql": "x", "api_token": "t"})), "config.api_token");
        assert_eq!(
            bad(json!({"base_url": "https://jira.corp", "flavor": "server", "jql": "x", "status_categories": {"QA": "testing"}})),
            "config.status_categories.QA"
        );
        assert_eq!(
            SourceConfig::parse(&json!({"base_url": "http://127.0.0.1:9", "flavor": "server", "jql": "project = A"})).unwrap().projects(),
            ["A"]
        );
    }

    #[test]
    fn credentials_make_the_header_and_never_print() {
        let c = Credential::parse(&json!({"email": "bot@example.com", "api_token": "scripted-token"})).unwrap();
        assert_eq!(c.header(), "Basic Ym90QGV4YW1wbGUuY29tOnNjcmlwdGVkLXRva2Vu");
        assert_eq!(format!("{c:?}"), "basic");
        let t = Credential::parse(&json!({"token": "pat-123"})).unwrap();
        assert_eq!((t.header().as_str(), format!("{t:?}").as_str()), ("Bearer pat-123", "bearer"));
        for bad in [
            json!({"email": "a"}),
            json!({"token": ""}),
            json!({"token": "a", "email": "b", "api_token": "c"}),
            json!("x"),
            json!({"pat": "x"}),
        ] {
            let e = Credential::parse(&bad).unwrap_err();
            assert!(!e.message.contains("pat-") && !format!("{e:?}").contains("\"x\""), "{e:?}");
        }
    }
}
