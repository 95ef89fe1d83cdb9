//! The sync itself (issue 18), over two seams so it runs the same against the scripted Jira in a plain
//! `cargo test` and inside a job worker: [`Http`] sends one request to the site, [`Sink`] writes what
//! came back (the glue: one transaction per page, the watermark advanced in it).
//!
//! The order: boards (configured, or discovered from the JQL's projects), every board's sprints, then
//! the issues of the JQL in update order, each page completed first (changelogs and comments beyond what
//! the search embedded) and written whole. Paging is keyset paging on `updated`: after each page the
//! next search starts again at that page's last minute, and issues already written with the same
//! `updated` are dropped, so an issue edited during the sync (it moves to the end of the order) cannot
//! shift the pages under the cursor and make one skip an issue. Only when a whole page falls within one
//! minute does the sync follow the search's own cursor (token or offset) within that minute.

use super::source::SourceConfig;
use super::sync::{self, Cursor, Flavor, Request, Retry};
use super::{parse_payload, time, Batch, JiraError, Options};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: String,
}

pub trait Http {
    /// Sends a request to the site (the credential attached); Err: no complete answer (a message).
    fn send(&mut self, req: &Request) -> Result<Response, String>;
    /// Waits before a retry; Err stops the sync (a cancel).
    fn pause(&mut self, ms: u64) -> Result<(), String>;
    /// May start sending `req` now, for the next `send` of the same request to take its answer: the
    /// sync asks for the next search page before it writes the current one. Doing nothing is correct.
    fn prefetch(&mut self, _req: &Request) {}
}

pub trait Sink {
    type Error;
    /// A point in time (RFC 3339) as a JQL date in time zone `zone` (an IANA name): `yyyy/MM/dd HH:mm`.
    fn jql_minute(&mut self, utc: &str, zone: &str) -> Result<String, Self::Error>;
    /// Of these (key, updated) pairs, the keys already stored with that `updated` (an incremental sync
    /// neither completes nor writes them).
    fn unchanged(&mut self, issues: &[(String, String)]) -> Result<HashSet<String>, Self::Error>;
    /// Writes one page in its own transaction; with `watermark` (the greatest `updated` of the page's
    /// issues) the source's watermark advances in the same transaction. Returns the loader's counts.
    fn load(&mut self, batch: &Batch, watermark: Option<&str>) -> Result<Value, Self::Error>;
    /// Progress (0..1) and the stage word; also where a cancel stops the sync.
    fn progress(&mut self, stage: &'static str, fraction: f32) -> Result<(), Self::Error>;
}

/// What one sync does.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Where the search starts (RFC 3339: the watermark less the overlap); None: every issue.
    pub since: Option<String>,
    /// Write every issue the search returns, unchanged ones too (a full resync).
    pub full: bool,
    pub max_attempts: u32,
    pub backoff_cap_ms: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SyncError<E> {
    Sink(E),
    /// 401 or 403: the credential (never retried).
    Auth {
        status: u16,
        path: String,
    },
    /// Any other HTTP error, after the retries it allows.
    Http {
        status: u16,
        path: String,
        message: String,
    },
    /// No complete answer, after the retries.
    Transport {
        path: String,
        message: String,
    },
    /// A page that is not what Jira sends: where (request, JSON path) and what.
    Payload {
        path: String,
        json_path: String,
        message: String,
    },
    /// A cancel, while waiting.
    Stopped(String),
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub requests: u64,
    pub retries: u64,
    pub search_pages: u64,
    pub boards: BTreeMap<String, String>,
    /// The time zone JQL dates are read in (config, else the API user's, else UTC).
    pub time_zone: String,
    pub sprints: u64,
    pub issues_fetched: u64,
    pub issues_written: u64,
    pub issues_unchanged: u64,
    pub changelogs_completed: u64,
    pub comments_completed: u64,
    /// Every key the search returned (a full resync compares them with what is stored).
    pub keys: Vec<String>,
    /// The greatest `updated` written (RFC 3339, UTC).
    pub watermark: Option<String>,
    /// The loader's counts, summed.
    pub loaded: Map<String, Value>,
    pub warnings: Vec<String>,
}

impl Report {
    pub fn to_json(&self) -> Value {
        json!({
            "requests": self.requests, "retries": self.retries, "search_pages": self.search_pages,
            "boards": self.boards, "time_zone": self.time_zone, "sprints": self.sprints, "issues_fetched": self.issues_fetched,
            "issues_written": self.issues_written, "issues_unchanged": self.issues_unchanged,
            "changelogs_completed": self.changelogs_completed, "comments_completed": self.comments_completed,
            "watermark": self.watermark, "loaded": self.loaded, "warnings": self.warnings,
        })
    }
}

struct Run<'a, H: Http, S: Sink> {
    http: &'a mut H,
    sink: &'a mut S,
    config: &'a SourceConfig,
    plan: &'a Plan,
    options: Options,
    report: Report,
    /// The progress last reported.
    fraction: f32,
}

/// Runs one sync.
pub fn run<H: Http, S: Sink>(http: &mut H, sink: &mut S, config: &SourceConfig, plan: &Plan) -> Result<Report, SyncError<S::Error>> {
    let mut r = Run { http, sink, config, plan, options: config.ingest.clone(), report: Report::default(), fraction: 0.0 };
    r.sink.progress("sprints", 0.0).map_err(SyncError::Sink)?;
    r.time_zone()?;
    r.statuses()?;
    r.boards()?;
    r.sprints()?;
    r.issues()?;
    Ok(r.report)
}

fn get(path: String) -> Request {
    Request { method: "GET", path, body: None }
}

impl<H: Http, S: Sink> Run<'_, H, S> {
    /// Sends a request, retrying 429/503 (Retry-After), other 5xx and dropped connections; the JSON.
    fn call(&mut self, req: &Request) -> Result<Value, SyncError<S::Error>> {
        let path = req.path.clone();
        let mut attempt = 0;
        loop {
            self.report.requests += 1;
            let (status, retry_after, failure) = match self.http.send(req) {
                Ok(resp) if (200..300).contains(&resp.status) => {
                    return serde_json::from_str(&resp.body).map_err(|e| SyncError::Payload {
                        path,
                        json_path: "$".into(),
                        message: format!("not JSON: {e}"),
                    });
                }
                Ok(resp) if resp.status == 401 || resp.status == 403 => return Err(SyncError::Auth { status: resp.status, path }),
                Ok(resp) => {
                    let message = serde_json::from_str::<Value>(&resp.body)
                        .ok()
                        .and_then(|v| v.pointer("/errorMessages/0").and_then(Value::as_str).map(String::from))
                        .unwrap_or_else(|| format!("HTTP {}", resp.status));
                    (Some(resp.status), resp.retry_after, message)
                }
                Err(m) => (None, None, m),
            };
            match sync::retry(status, retry_after.as_deref(), attempt, self.plan.max_attempts, self.plan.backoff_cap_ms) {
                Retry::After(ms) => {
                    self.report.retries += 1;
                    attempt += 1;
                    self.http.pause(ms).map_err(SyncError::Stopped)?;
                }
                Retry::Fail => {
                    return Err(match status {
                        Some(status) => SyncError::Http { status, path, message: failure.chars().take(300).collect() },
                        None => SyncError::Transport { path, message: failure.chars().take(300).collect() },
                    })
                }
            }
        }
    }

    fn payload<T>(&self, path: &str, r: Result<T, JiraError>) -> Result<T, SyncError<S::Error>> {
        r.map_err(|e| SyncError::Payload { path: path.to_string(), json_path: e.path, message: e.message })
    }

    /// JQL dates are read in the API user's time zone (`/myself`), unless the config names one.
    fn time_zone(&mut self) -> Result<(), SyncError<S::Error>> {
        self.report.time_zone = match &self.config.time_zone {
            Some(z) => z.clone(),
            None => {
                let v = if self.config.flavor == Flavor::Cloud { 3 } else { 2 };
                let me = self.call(&get(format!("/rest/api/{v}/myself")))?;
                me.get("timeZone").and_then(Value::as_str).filter(|z| !z.is_empty()).unwrap_or("UTC").to_string()
            }
        };
        Ok(())
    }

    fn minute(&mut self, utc: &str) -> Result<String, SyncError<S::Error>> {
        let zone = self.report.time_zone.clone();
        self.sink.jql_minute(utc, &zone).map_err(SyncError::Sink)
    }

    /// Every status's category from the site (`/rest/api/N/status`), for the statuses the config does
    /// not categorize: each page then reads its history with the same categories, whatever else it holds.
    fn statuses(&mut self) -> Result<(), SyncError<S::Error>> {
        let v = if self.config.flavor == Flavor::Cloud { 3 } else { 2 };
        let list = self.call(&get(format!("/rest/api/{v}/status")))?;
        for (name, category) in status_categories(&list) {
            self.options.status_categories.entry(name).or_insert(category);
        }
        Ok(())
    }

    fn boards(&mut self) -> Result<(), SyncError<S::Error>> {
        if !self.config.boards.is_empty() {
            self.report.boards = self.config.boards.clone();
            return Ok(());
        }
        let projects = self.config.projects();
        let mut start = 0u64;
        loop {
            let req = get(format!("/rest/agile/1.0/board?startAt={start}&maxResults=50"));
            let v = match self.call(&req) {
                Err(SyncError::Http { status: 404, .. }) => {
                    self.report.warnings.push("the site has no Agile API (no boards, no sprints)".into());
                    return Ok(());
                }
                other => other?,
            };
            let values = v.get("values").and_then(Value::as_array).cloned().unwrap_or_default();
            for (i, b) in values.iter().enumerate() {
                let id = b.get("id").and_then(Value::as_u64).map(|n| n.to_string());
                let id =
                    self.payload(&req.path, id.ok_or_else(|| JiraError::new(format!("values[{i}].id"), "a board has a numeric id")))?;
                let project = b.pointer("/location/projectKey").and_then(Value::as_str);
                if projects.is_empty() || project.is_some_and(|p| projects.iter().any(|q| q == p)) {
                    let name = b.get("name").and_then(Value::as_str).unwrap_or(&id).to_string();
                    self.report.boards.insert(id, name);
                }
            }
            if values.is_empty() || v.get("isLast").and_then(Value::as_bool).unwrap_or(true) {
                break;
            }
            start += values.len() as u64;
        }
        self.options.boards = self.report.boards.clone();
        Ok(())
    }

    fn sprints(&mut self) -> Result<(), SyncError<S::Error>> {
        let boards: Vec<String> = self.report.boards.keys().cloned().collect();
        for (n, board) in boards.iter().enumerate() {
            let mut start = 0u64;
            loop {
                let req = sync::sprints_request(board, start, 50);
                let v = self.call(&req)?;
                let values = v.get("values").and_then(Value::as_array).map_or(0, Vec::len) as u64;
                if values > 0 {
                    let batch = parse_payload(&json!({"values": v["values"]}), &self.options);
                    let batch = self.payload(&req.path, batch)?;
                    let counts = self.sink.load(&batch, None).map_err(SyncError::Sink)?;
                    self.report.sprints += counts.get("sprints").and_then(Value::as_u64).unwrap_or(values);
                }
                if values == 0 || v.get("isLast").and_then(Value::as_bool).unwrap_or(true) {
                    break;
                }
                start += values;
            }
            self.fraction = 0.05 * (n + 1) as f32 / boards.len() as f32;
            self.sink.progress("sprints", self.fraction).map_err(SyncError::Sink)?;
        }
        Ok(())
    }

    /// How many issues the search will return, when the site says (Cloud: the approximate count;
    /// Server/DC: the first page's total).
    fn expected(&mut self, jql: &str) -> Option<u64> {
        if self.config.flavor != Flavor::Cloud {
            return None;
        }
        let req = Request { method: "POST", path: "/rest/api/3/search/approximate-count".into(), body: Some(json!({"jql": jql})) };
        self.call(&req).ok().and_then(|v| v.get("count").and_then(Value::as_u64))
    }

    fn issues(&mut self) -> Result<(), SyncError<S::Error>> {
        let flavor = self.config.flavor;
        let size = self.config.page_size;
        let mut since = match self.plan.since.clone() {
            Some(t) => Some(self.minute(&t)?),
            None => None,
        };
        let mut jql = sync::sync_jql(&self.config.jql, since.as_deref());
        let mut expected = self.expected(&jql);
        let mut cursor = Cursor::Start;
        // (key -> updated) of what this sync has written at or after `since`.
        let mut seen: HashMap<String, String> = HashMap::new();
        let mut keys: HashSet<String> = HashSet::new();
        let mut pages_done = 0u64;
        while let Some(req) = sync::search_request(flavor, &jql, &cursor, size) {
            let mut v = self.call(&req)?;
            let page = self.payload(&req.path, sync::read_page(flavor, &v, &cursor))?;
            if pages_done == 0 && expected.is_none() {
                expected = page.total;
            }
            self.report.search_pages += 1;
            let listed: Vec<(String, String)> = v["issues"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|i| {
                            let key = i["key"].as_str().unwrap_or_default().to_string();
                            let updated = i.pointer("/fields/updated").and_then(Value::as_str).and_then(time::parse).unwrap_or_default();
                            (key, updated)
                        })
                        .collect()
                })
                .unwrap_or_default();
            let fresh: Vec<(String, String)> = listed.iter().filter(|(k, u)| seen.get(k) != Some(u)).cloned().collect();
            for (k, _) in &fresh {
                if keys.insert(k.clone()) {
                    self.report.keys.push(k.clone());
                }
            }
            self.report.issues_fetched += fresh.len() as u64;
            let unchanged =
                if self.plan.full || fresh.is_empty() { HashSet::new() } else { self.sink.unchanged(&fresh).map_err(SyncError::Sink)? };
            self.report.issues_unchanged += unchanged.len() as u64;
            let write: HashSet<&str> = fresh.iter().map(|(k, _)| k.as_str()).filter(|k| !unchanged.contains(*k)).collect();
            if let Some(list) = v.get_mut("issues").and_then(Value::as_array_mut) {
                list.retain(|i| i["key"].as_str().is_some_and(|k| write.contains(k)));
            }
            self.complete(&mut v, &page.truncated_changelogs, &page.truncated_comments, &write)?;
            let page_max = fresh.iter().map(|(_, u)| u.as_str()).filter(|u| !u.is_empty()).max().map(String::from);
            let batch = match (write.is_empty(), &page_max) {
                (true, None) => None,
                (true, Some(_)) => Some(Batch::default()),
                (false, _) => Some(self.payload(&req.path, parse_payload(&v, &self.options))?),
            };
            // The next page's request does not depend on this page's write: it is sent ahead of it.
            let last = page.next == Cursor::Done;
            if !last {
                // Keyset paging: start again at this page's last minute, unless that is where it started.
                let restart = match &page_max {
                    Some(max) => Some(self.minute(max)?).filter(|m| Some(m) != since.as_ref()),
                    None => None,
                };
                match restart {
                    Some(minute) => {
                        let floor = minute_floor(page_max.as_deref().unwrap_or_default());
                        seen.retain(|_, u| u.as_str() >= floor.as_str());
                        for (k, u) in fresh {
                            if u >= floor {
                                seen.insert(k, u);
                            }
                        }
                        since = Some(minute);
                        jql = sync::sync_jql(&self.config.jql, since.as_deref());
                        cursor = Cursor::Start;
                    }
                    None => {
                        seen.extend(fresh);
                        cursor = page.next.clone();
                    }
                }
                if let Some(next) = sync::search_request(flavor, &jql, &cursor, size) {
                    self.http.prefetch(&next);
                }
            }
            if let Some(batch) = batch {
                let counts = self.sink.load(&batch, page_max.as_deref()).map_err(SyncError::Sink)?;
                self.report.issues_written += batch.issues.len() as u64;
                add_counts(&mut self.report.loaded, &counts);
                for w in counts.get("warnings").and_then(Value::as_array).into_iter().flatten() {
                    if let Some(w) = w.as_str() {
                        if !self.report.warnings.iter().any(|x| x == w) {
                            self.report.warnings.push(w.to_string());
                        }
                    }
                }
                if page_max > self.report.watermark {
                    self.report.watermark.clone_from(&page_max);
                }
            }
            pages_done += 1;
            let fraction = match expected {
                Some(total) if total > 0 => (self.report.issues_fetched as f32 / total as f32).min(1.0),
                _ => pages_done as f32 / (pages_done + 1) as f32,
            };
            self.fraction = 0.05 + 0.9 * fraction;
            self.sink.progress("issues", self.fraction).map_err(SyncError::Sink)?;
            if last {
                break;
            }
            if pages_done > 1_000_000 {
                return Err(SyncError::Payload { path: req.path, json_path: "$".into(), message: "paging does not end".into() });
            }
        }
        self.sink.progress("issues", 0.95).map_err(SyncError::Sink)?;
        Ok(())
    }

    /// Replaces truncated changelogs and comment lists of the issues to write by their whole lists.
    fn complete(
        &mut self,
        v: &mut Value,
        changelogs: &[String],
        comments: &[String],
        write: &HashSet<&str>,
    ) -> Result<(), SyncError<S::Error>> {
        let flavor = self.config.flavor;
        for key in changelogs.iter().filter(|k| write.contains(k.as_str())) {
            self.sink.progress("changelogs", self.fraction).map_err(SyncError::Sink)?;
            let whole = match flavor {
                Flavor::Cloud => {
                    let mut all = Vec::new();
                    loop {
                        let req = sync::changelog_request(flavor, key, all.len() as u64, 100);
                        let r = self.call(&req)?;
                        let values = r.get("values").and_then(Value::as_array).cloned().unwrap_or_default();
                        let total = r.get("total").and_then(Value::as_u64).unwrap_or(0);
                        let last = r.get("isLast").and_then(Value::as_bool).unwrap_or(true);
                        let empty = values.is_empty();
                        all.extend(values);
                        if empty || last || all.len() as u64 >= total {
                            break;
                        }
                    }
                    json!({"startAt": 0, "maxResults": all.len(), "total": all.len(), "histories": all})
                }
                Flavor::Server => {
                    let req = sync::changelog_request(flavor, key, 0, 100);
                    let r = self.call(&req)?;
                    let c = r.get("changelog").cloned();
                    self.payload(&req.path, c.ok_or_else(|| JiraError::new("changelog", "the issue has its changelog (expand=changelog)")))?
                }
            };
            if let Some(issue) = issue_mut(v, key) {
                issue["changelog"] = whole;
            }
            self.report.changelogs_completed += 1;
        }
        for key in comments.iter().filter(|k| write.contains(k.as_str())) {
            let mut all = Vec::new();
            loop {
                let req = sync::comments_request(flavor, key, all.len() as u64, 100);
                let r = self.call(&req)?;
                let values = r.get("comments").and_then(Value::as_array).cloned().unwrap_or_default();
                let total = r.get("total").and_then(Value::as_u64).unwrap_or(0);
                let empty = values.is_empty();
                all.extend(values);
                if empty || all.len() as u64 >= total {
                    break;
                }
            }
            if let Some(issue) = issue_mut(v, key) {
                if let Some(fields) = issue.get_mut("fields").and_then(Value::as_object_mut) {
                    fields.insert("comment".into(), json!({"startAt": 0, "maxResults": all.len(), "total": all.len(), "comments": all}));
                }
            }
            self.report.comments_completed += 1;
        }
        Ok(())
    }
}

/// Status name -> todo | in_progress | done from a `/rest/api/N/status` list (category keys new,
/// indeterminate, done).
pub fn status_categories(list: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for s in list.as_array().into_iter().flatten() {
        let category = match s.pointer("/statusCategory/key").and_then(Value::as_str) {
            Some("new") => "todo",
            Some("indeterminate") => "in_progress",
            Some("done") => "done",
            _ => continue,
        };
        if let Some(name) = s.get("name").and_then(Value::as_str) {
            out.insert(name.to_string(), category.to_string());
        }
    }
    out
}

fn issue_mut<'v>(v: &'v mut Value, key: &str) -> Option<&'v mut Value> {
    v.get_mut("issues")?.as_array_mut()?.iter_mut().find(|i| i["key"].as_str() == Some(key))
}

/// An RFC 3339 UTC time cut to its minute (`2026-05-01T09:15`), which sorts with the full times.
fn minute_floor(utc: &str) -> String {
    utc.chars().take(16).collect()
}

fn add_counts(total: &mut Map<String, Value>, counts: &Value) {
    for (k, v) in counts.as_object().into_iter().flatten() {
        if let Some(n) = v.as_i64() {
            let sum = total.get(k).and_then(Value::as_i64).unwrap_or(0) + n;
            total.insert(k.clone(), json!(sum));
        }
    }
}
