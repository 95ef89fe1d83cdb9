//! What a Jira sync asks and how it reads the answers, with no network in sight (issue 18): the search
//! request of each flavour (Cloud `POST /rest/api/3/search/jql` paged by `nextPageToken`, Server/DC
//! `GET /rest/api/2/search` paged by `startAt`), the incremental JQL (`updated >= "yyyy/MM/dd HH:mm"`
//! with an overlap window), which issues a search page left with a truncated changelog or comment list,
//! and how long to wait before a retry. The glue sends the requests with ureq and loads each page through
//! `parse_payload` in its own transaction.

use super::JiraError;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Cloud,
    Server,
}

impl Flavor {
    pub fn parse(s: &str) -> Option<Flavor> {
        match s {
            "cloud" => Some(Flavor::Cloud),
            "server" => Some(Flavor::Server),
            _ => None,
        }
    }
}

/// One HTTP request, relative to the site's base URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: &'static str,
    /// Path and query string (query values percent-encoded).
    pub path: String,
    pub body: Option<Value>,
}

/// Where the next search page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    Start,
    Token(String),
    Offset(u64),
    Done,
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass).
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The JQL of a sync: the source's own, restricted to issues updated since the watermark minus the
/// overlap (clock skew and same-minute updates lose nothing; upserts make the repeats harmless), in
/// update order so a resumed sync continues where the last committed page ended. `since` is
/// `yyyy/MM/dd HH:mm` in the site's time zone.
pub fn sync_jql(base: &str, since: Option<&str>) -> String {
    let base = base.trim();
    // An ORDER BY of the source's own JQL is replaced: pages must come in update order.
    let lower = base.to_ascii_lowercase();
    let filter = match lower.rfind("order by") {
        Some(i) => base[..i].trim(),
        None => base,
    };
    let mut clauses = Vec::new();
    if !filter.is_empty() {
        clauses.push(format!("({filter})"));
    }
    if let Some(s) = since {
        clauses.push(format!("updated >= \"{s}\""));
    }
    format!("{} ORDER BY updated ASC, key ASC", clauses.join(" AND ")).trim().to_string()
}

/// The search request for one page.
pub fn search_request(flavor: Flavor, jql: &str, cursor: &Cursor, page_size: u32) -> Option<Request> {
    match (flavor, cursor) {
        (_, Cursor::Done) => None,
        (Flavor::Cloud, c) => {
            let mut body = json!({"jql": jql, "maxResults": page_size, "fields": ["*all"], "expand": "changelog,names"});
            if let Cursor::Token(t) = c {
                body["nextPageToken"] = json!(t);
            }
            Some(Request { method: "POST", path: "/rest/api/3/search/jql".into(), body: Some(body) })
        }
        (Flavor::Server, c) => {
            let start = if let Cursor::Offset(n) = c { *n } else { 0 };
            Some(Request {
                method: "GET",
                path: format!(
                    "/rest/api/2/search?jql={}&startAt={start}&maxResults={page_size}&fields=*all&expand=changelog,names",
                    encode(jql)
                ),
                body: None,
            })
        }
    }
}

/// A search page as the sync needs it: the cursor after it, the total when the flavour tells
/// (Server/DC; Cloud's enhanced search has none), and the issues left incomplete.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub next: Cursor,
    pub total: Option<u64>,
    pub count: usize,
    /// Keys of issues whose embedded changelog holds fewer entries than its total.
    pub truncated_changelogs: Vec<String>,
    /// Keys of issues whose embedded comments are fewer than their total.
    pub truncated_comments: Vec<String>,
}

pub fn read_page(flavor: Flavor, v: &Value, cursor: &Cursor) -> Result<Page, JiraError> {
    let issues = v.get("issues").and_then(Value::as_array).ok_or_else(|| JiraError::new("issues", "a search page has an issues array"))?;
    let mut truncated_changelogs = Vec::new();
    let mut truncated_comments = Vec::new();
    for (i, iss) in issues.iter().enumerate() {
        let key = iss.get("key").and_then(Value::as_str).ok_or_else(|| JiraError::new(format!("issues[{i}].key"), "an issue has a key"))?;
        let short = |list: Option<&Value>, items: &str| -> bool {
            let Some(l) = list else { return false };
            let shown = l.get(items).and_then(Value::as_array).map_or(0, Vec::len) as u64;
            l.get("total").and_then(Value::as_u64).is_some_and(|t| t > shown)
        };
        if short(iss.get("changelog"), "histories") {
            truncated_changelogs.push(key.to_string());
        }
        if short(iss.pointer("/fields/comment"), "comments") {
            truncated_comments.push(key.to_string());
        }
    }
    let (next, total) = match flavor {
        Flavor::Cloud => {
            let last = v.get("isLast").and_then(Value::as_bool).unwrap_or(true);
            match v.get("nextPageToken").and_then(Value::as_str) {
                Some(t) if !last && !t.is_empty() => (Cursor::Token(t.to_string()), None),
                _ => (Cursor::Done, None),
            }
        }
        Flavor::Server => {
            let start = v.get("startAt").and_then(Value::as_u64).unwrap_or(match cursor {
                Cursor::Offset(n) => *n,
                _ => 0,
            });
            let total =
                v.get("total").and_then(Value::as_u64).ok_or_else(|| JiraError::new("total", "a Server/DC search page has a total"))?;
            let end = start + issues.len() as u64;
            // An empty page ends the paging even when the total says more (issues deleted meanwhile).
            (if issues.is_empty() || end >= total { Cursor::Done } else { Cursor::Offset(end) }, Some(total))
        }
    };
    Ok(Page { next, total, count: issues.len(), truncated_changelogs, truncated_comments })
}

/// The request for the rest of an issue's changelog (Cloud pages it; Server/DC returns it whole with
/// the issue).
pub fn changelog_request(flavor: Flavor, key: &str, start: u64, page_size: u32) -> Request {
    let key = encode(key);
    match flavor {
        Flavor::Cloud => {
            Request { method: "GET", path: format!("/rest/api/3/issue/{key}/changelog?startAt={start}&maxResults={page_size}"), body: None }
        }
        Flavor::Server => Request { method: "GET", path: format!("/rest/api/2/issue/{key}?expand=changelog&fields=*all"), body: None },
    }
}

pub fn comments_request(flavor: Flavor, key: &str, start: u64, page_size: u32) -> Request {
    let v = if flavor == Flavor::Cloud { 3 } else { 2 };
    Request {
        method: "GET",
        path: format!("/rest/api/{v}/issue/{}/comment?startAt={start}&maxResults={page_size}", encode(key)),
        body: None,
    }
}

pub fn sprints_request(board: &str, start: u64, page_size: u32) -> Request {
    Request {
        method: "GET",
        path: format!("/rest/agile/1.0/board/{}/sprint?startAt={start}&maxResults={page_size}", encode(board)),
        body: None,
    }
}

/// What to do after an HTTP answer that is not a success.
#[derive(Debug, Clone, PartialEq)]
pub enum Retry {
    /// Wait this many milliseconds, then send the same request again.
    After(u64),
    /// Give up: the error is the caller's to fix (401/403: credentials; 4xx: the request).
    Fail,
}

/// 429 and 503 honour `Retry-After` (seconds), capped; other 5xx and dropped connections (`status`
/// None) back off exponentially from 1 s, capped at `cap_ms`; after `max_attempts` tries, or on any
/// other status, the sync fails.
pub fn retry(status: Option<u16>, retry_after: Option<&str>, attempt: u32, max_attempts: u32, cap_ms: u64) -> Retry {
    if attempt >= max_attempts {
        return Retry::Fail;
    }
    let backoff = (1000u64 << attempt.min(20)).min(cap_ms);
    match status {
        Some(429) | Some(503) => {
            let told = retry_after.and_then(|s| s.trim().parse::<u64>().ok()).map(|s| s.saturating_mul(1000));
            Retry::After(told.unwrap_or(backoff).min(cap_ms))
        }
        Some(500..=599) | None => Retry::After(backoff),
        _ => Retry::Fail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incremental_jql_keeps_the_source_filter_and_orders_by_update() {
        assert_eq!(sync_jql("project in (PAY, WEB)", None), "(project in (PAY, WEB)) ORDER BY updated ASC, key ASC");
        assert_eq!(
            sync_jql("project = PAY ORDER BY created DESC", Some("2026/11/30 09:15")),
            "(project = PAY) AND updated >= \"2026/11/30 09:15\" ORDER BY updated ASC, key ASC"
        );
        assert_eq!(sync_jql("", Some("2026/11/30 09:15")), "updated >= \"2026/11/30 09:15\" ORDER BY updated ASC, key ASC");
    }

    #[test]
    fn requests_per_flavour() {
        let c = search_request(Flavor::Cloud, "project = PAY", &Cursor::Token("abc".into()), 100).unwrap();
        assert_eq!((c.method, c.path.as_str()), ("POST", "/rest/api/3/search/jql"));
        assert_eq!(c.body.as_ref().unwrap()["nextPageToken"], "abc");
        assert!(c.body.as_ref().unwrap().get("startAt").is_none(), "Cloud pages by token");
        let s = search_request(Flavor::Server, "project = \"PAY\"", &Cursor::Offset(200), 50).unwrap();
        assert_eq!(s.path, "/rest/api/2/search?jql=project%20%3D%20%22PAY%22&startAt=200&maxResults=50&fields=*all&expand=changelog,names");
        assert!(search_request(Flavor::Server, "", &Cursor::Done, 50).is_none());
        assert_eq!(
            changelog_request(Flavor::Cloud, "PAY-1", 100, 100).path,
            "/rest/api/3/issue/PAY-1/changelog?startAt=100&maxResults=100"
        );
        assert_eq!(sprints_request("7", 50, 50).path, "/rest/agile/1.0/board/7/sprint?startAt=50&maxResults=50");
    }

    #[test]
    fn pages_say_where_the_next_starts_and_what_is_incomplete() {
        let cloud = json!({"issues": [
            {"key": "A-1", "changelog": {"total": 6, "histories": [{}, {}, {}]}, "fields": {"comment": {"total": 2, "comments": [{}, {}]}}},
            {"key": "A-2", "changelog": {"total": 1, "histories": [{}]}, "fields": {"comment": {"total": 5, "comments": []}}}
        ], "nextPageToken": "t2", "isLast": false});
        let p = read_page(Flavor::Cloud, &cloud, &Cursor::Start).unwrap();
        assert_eq!(p.next, Cursor::Token("t2".into()));
        assert_eq!((p.total, p.count), (None, 2));
        assert_eq!(p.truncated_changelogs, ["A-1"]);
        assert_eq!(p.truncated_comments, ["A-2"]);
        assert_eq!(read_page(Flavor::Cloud, &json!({"issues": [], "isLast": true}), &Cursor::Start).unwrap().next, Cursor::Done);
        let server = json!({"startAt": 50, "maxResults": 50, "total": 120, "issues": [{"key": "S-1"}]});
        assert_eq!(read_page(Flavor::Server, &server, &Cursor::Offset(50)).unwrap().next, Cursor::Offset(51));
        let last = json!({"startAt": 100, "maxResults": 50, "total": 120, "issues": vec![json!({"key": "S"}); 20]});
        assert_eq!(read_page(Flavor::Server, &last, &Cursor::Offset(100)).unwrap().next, Cursor::Done);
        let gone = json!({"startAt": 100, "total": 120, "issues": []});
        assert_eq!(read_page(Flavor::Server, &gone, &Cursor::Offset(100)).unwrap().next, Cursor::Done, "an empty page ends it");
        assert_eq!(read_page(Flavor::Server, &json!({"issues": []}), &Cursor::Start).unwrap_err().path, "total");
        assert_eq!(read_page(Flavor::Cloud, &json!({"issues": [{"id": "1"}]}), &Cursor::Start).unwrap_err().path, "issues[0].key");
    }

    #[test]
    fn retries_honour_retry_after_and_back_off() {
        assert_eq!(retry(Some(429), Some("3"), 0, 5, 60_000), Retry::After(3000));
        assert_eq!(retry(Some(503), Some("600"), 0, 5, 60_000), Retry::After(60_000), "capped");
        assert_eq!(retry(Some(503), None, 2, 5, 60_000), Retry::After(4000));
        assert_eq!(retry(None, None, 1, 5, 60_000), Retry::After(2000), "a dropped connection");
        assert_eq!(retry(Some(502), None, 10, 12, 30_000), Retry::After(30_000));
        assert_eq!(retry(Some(401), None, 0, 5, 60_000), Retry::Fail, "credentials are never retried");
        assert_eq!(retry(Some(403), Some("1"), 0, 5, 60_000), Retry::Fail);
        assert_eq!(retry(Some(429), Some("1"), 5, 5, 60_000), Retry::Fail, "attempts run out");
    }
}
