//! The sync (`jira::driver` over `jira::sync`) against the scripted Jira (tests/jira_server), in both
//! flavours, with an in-memory sink: paging by token and by offset over many pages, truncated changelogs
//! and comments completed, boards discovered and sprints paged, incremental syncs that write only what
//! changed, issues edited during a sync, and the faults (429, 503, a reset connection, a malformed page,
//! a bad credential). Needs python3 (the server's only requirement); it talks to 127.0.0.1 only.

use analytics_core::jira::driver::{self, Http, Plan, Response, Sink, SyncError};
use analytics_core::jira::http::Client;
use analytics_core::jira::source::{Credential, SourceConfig};
use analytics_core::jira::sync::Request;
use analytics_core::jira::{parse_payload, Batch, IssueRec, Options};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::process::{Child, Command};
use std::time::Duration;

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(flavor: &str, issues: u32) -> Server {
    let dir = std::env::temp_dir().join(format!("aa-jira-{}-{flavor}-{issues}-{:?}", std::process::id(), std::thread::current().id()));
    let port_file = dir.with_extension("port");
    let _ = std::fs::remove_file(&port_file);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/jira_server/server.py");
    // Owned by the guard at once, so the process is killed and reaped on every path.
    let mut server = Server {
        child: Command::new("python3")
            .args([script, "--flavor", flavor, "--issues", &issues.to_string(), "--page-limit", "25", "--port-file"])
            .arg(&port_file)
            .spawn()
            .expect("python3 runs the scripted Jira"),
        port: 0,
    };
    for _ in 0..400 {
        if let Some(port) = std::fs::read_to_string(&port_file).ok().and_then(|s| s.trim().parse().ok()) {
            server.port = port;
            return server;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("the scripted Jira did not start");
}

/// The sync's ureq client to 127.0.0.1; pauses are recorded (and shortened).
struct Ureq {
    client: Client,
    pauses: Vec<u64>,
    prefetched: usize,
}

impl Http for Ureq {
    fn send(&mut self, req: &Request) -> Result<Response, String> {
        self.client.send(req)
    }
    fn pause(&mut self, ms: u64) -> Result<(), String> {
        self.pauses.push(ms);
        std::thread::sleep(Duration::from_millis(ms.min(50)));
        Ok(())
    }
    fn prefetch(&mut self, req: &Request) {
        self.prefetched += 1;
        self.client.prefetch(req)
    }
}

type AfterPage = Box<dyn FnMut(&[String])>;

/// The base tables, in memory: issues by key (what a page writes replaces what was there).
#[derive(Default)]
struct Mem {
    issues: BTreeMap<String, IssueRec>,
    sprints: BTreeMap<i64, String>,
    watermark: Option<String>,
    pages: u32,
    /// Fails the load of this page (1-based).
    fail_at: Option<u32>,
    /// Called after each page is written (the test edits the site meanwhile).
    after_page: Option<AfterPage>,
}

impl Sink for Mem {
    type Error = String;
    fn jql_minute(&mut self, utc: &str, zone: &str) -> Result<String, String> {
        assert_eq!(zone, "UTC", "the scripted site's user is in UTC (/myself)");
        let t = chrono::DateTime::parse_from_rfc3339(utc).map_err(|e| e.to_string())?;
        Ok(t.with_timezone(&chrono::Utc).format("%Y/%m/%d %H:%M").to_string())
    }
    fn unchanged(&mut self, issues: &[(String, String)]) -> Result<HashSet<String>, String> {
        Ok(issues
            .iter()
            .filter(|(k, u)| self.issues.get(k).and_then(|i| i.updated_at.as_ref()) == Some(u))
            .map(|(k, _)| k.clone())
            .collect())
    }
    fn load(&mut self, batch: &Batch, watermark: Option<&str>) -> Result<Value, String> {
        self.pages += 1;
        if Some(self.pages) == self.fail_at {
            return Err("the page's transaction failed".into());
        }
        for s in &batch.sprints {
            self.sprints.insert(s.external_id, s.board.clone());
        }
        for i in &batch.issues {
            self.issues.insert(i.issue_key.clone(), i.clone());
        }
        if let Some(w) = watermark {
            self.watermark = Some(w.to_string());
        }
        let keys: Vec<String> = batch.issues.iter().map(|i| i.issue_key.clone()).collect();
        if let (Some(f), false) = (self.after_page.as_mut(), keys.is_empty()) {
            f(&keys);
        }
        Ok(json!({"issues_inserted": batch.issues.len(), "sprints": batch.sprints.len()}))
    }
    fn progress(&mut self, _stage: &'static str, fraction: f32) -> Result<(), String> {
        assert!((0.0..=1.0).contains(&fraction));
        Ok(())
    }
}

fn config(flavor: &str, port: u16) -> SourceConfig {
    SourceConfig::parse(
        &json!({"base_url": format!("http://127.0.0.1:{port}"), "flavor": flavor, "jql": "project in (PAY, WEB)", "page_size": 100}),
    )
    .unwrap()
}

fn http(flavor: &str, port: u16) -> Ureq {
    let cred = if flavor == "cloud" {
        Credential::parse(&json!({"email": "bot@example.com", "api_token": "scripted-token"}))
    } else {
        Credential::parse(&json!({"token": "scripted-pat"}))
    }
    .unwrap();
    Ureq {
        client: Client::new(&format!("http://127.0.0.1:{port}"), &cred, Duration::from_secs(10), 1 << 26),
        pauses: vec![],
        prefetched: 0,
    }
}

fn plan(since: Option<String>) -> Plan {
    Plan { since, full: false, max_attempts: 5, backoff_cap_ms: 2000 }
}

fn control(port: u16, path: &str, body: Value) -> Value {
    let mut r = ureq::post(&format!("http://127.0.0.1:{port}/_control/{path}")).send(body.to_string().as_str()).unwrap();
    serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
}

fn log(port: u16) -> Vec<Value> {
    let mut r = ureq::get(&format!("http://127.0.0.1:{port}/_control/log")).call().unwrap();
    serde_json::from_str(&r.body_mut().with_config().limit(1 << 28).read_to_string().unwrap()).unwrap()
}

/// Each issue as the server's issue endpoint returns it whole (changelog and comments), parsed.
fn reference(flavor: &str, port: u16, keys: &[String]) -> BTreeMap<String, IssueRec> {
    let mut h = http(flavor, port);
    let v = if flavor == "cloud" { 3 } else { 2 };
    let statuses = h.send(&Request { method: "GET", path: format!("/rest/api/{v}/status"), body: None }).unwrap();
    let statuses: Value = serde_json::from_str(&statuses.body).unwrap();
    let options = Options {
        boards: [("1".into(), "Payments".into()), ("2".into(), "Web".into())].into(),
        status_categories: driver::status_categories(&statuses),
        ..Options::parse(&Value::Null).unwrap()
    };
    keys.iter()
        .map(|k| {
            let r = h.send(&Request { method: "GET", path: format!("/rest/api/{v}/issue/{k}?expand=changelog"), body: None }).unwrap();
            let mut issue: Value = serde_json::from_str(&r.body).unwrap();
            let c =
                h.send(&Request { method: "GET", path: format!("/rest/api/{v}/issue/{k}/comment?maxResults=100"), body: None }).unwrap();
            issue["fields"]["comment"] = serde_json::from_str(&c.body).unwrap();
            (k.clone(), parse_payload(&issue, &options).unwrap().issues.remove(0))
        })
        .collect()
}

fn full_sync(flavor: &str) {
    let s = start(flavor, 130);
    let (mut h, mut mem) = (http(flavor, s.port), Mem::default());
    let report = driver::run(&mut h, &mut mem, &config(flavor, s.port), &plan(None)).unwrap();
    assert_eq!(mem.issues.len(), 130, "{flavor}: every issue once");
    assert_eq!(report.issues_written, 130, "{flavor}: {report:?}");
    assert!(report.search_pages >= 6, "{flavor}: {} pages of at most 25", report.search_pages);
    // Each page after the first was sent ahead, while the page before it was written, and taken from
    // there: the site saw every search once.
    let searches = log(s.port).iter().filter(|r| r["path"].as_str().is_some_and(|p| p.contains("/search") && !p.contains("count"))).count();
    assert_eq!(searches as u64, report.search_pages, "{flavor}: one request per page");
    assert_eq!(h.prefetched as u64, report.search_pages - 1, "{flavor}: every page but the first sent ahead");
    assert!(report.changelogs_completed > 0 && report.comments_completed == 0, "{flavor}: {report:?}");
    assert_eq!(report.boards.len(), 2, "boards discovered from the JQL's projects");
    assert_eq!(mem.sprints.len(), 24, "every sprint of both boards, paged");
    assert!(mem.sprints.values().all(|b| b == "Payments" || b == "Web"), "{:?}", mem.sprints);
    let keys: Vec<String> = mem.issues.keys().cloned().collect();
    let want = reference(flavor, s.port, &keys);
    for (k, got) in &mem.issues {
        assert_eq!(Some(got), want.get(k), "{flavor} {k}: what the sync wrote = the issue loaded whole");
    }
    let max = mem.issues.values().filter_map(|i| i.updated_at.clone()).max();
    assert_eq!(mem.watermark, max, "the watermark is the greatest updated");
    assert!(!report.warnings.iter().any(|w| w.contains("changelog")), "{:?}", report.warnings);
}

#[test]
fn cloud_full_sync_pages_by_token_and_completes_changelogs() {
    full_sync("cloud");
}

#[test]
fn server_full_sync_pages_by_offset_and_completes_changelogs() {
    full_sync("server");
}

fn since(mem: &mut Mem, overlap_minutes: i64) -> Option<String> {
    let w = chrono::DateTime::parse_from_rfc3339(mem.watermark.as_ref()?).unwrap() - chrono::Duration::minutes(overlap_minutes);
    Some(w.to_rfc3339())
}

#[test]
fn an_incremental_sync_writes_exactly_what_changed() {
    for flavor in ["cloud", "server"] {
        let s = start(flavor, 130);
        let (mut h, mut mem) = (http(flavor, s.port), Mem::default());
        let cfg = config(flavor, s.port);
        driver::run(&mut h, &mut mem, &cfg, &plan(None)).unwrap();
        let changed = control(s.port, "update", json!({"keys": ["PAY-3", "WEB-7", "PAY-40"], "add": 2, "at": "2026-11-30T10:00:00+00:00"}));
        let changed: Vec<String> = changed["changed"].as_array().unwrap().iter().map(|k| k.as_str().unwrap().to_string()).collect();
        assert_eq!(changed.len(), 5);
        let before = log(s.port).len();
        let since = since(&mut mem, 10);
        let report = driver::run(&mut h, &mut mem, &cfg, &plan(since)).unwrap();
        assert_eq!(report.issues_written, 5, "{flavor}: {report:?}");
        assert_eq!(mem.issues.len(), 132);
        assert!(mem.issues["PAY-3"].summary.as_deref().unwrap().ends_with("(edited)"));
        let returned: HashSet<String> = log(s.port)[before..]
            .iter()
            .filter_map(|r| r.get("returned").and_then(Value::as_array))
            .flat_map(|keys| keys.iter().map(|k| k.as_str().unwrap().to_string()))
            .collect();
        // The search returns the 5 and the issues of the overlap window before the old watermark
        // (unchanged: not written, their changelogs not fetched).
        for k in &changed {
            assert!(returned.contains(k), "{flavor}: {k} fetched");
        }
        assert_eq!(returned.len() as u64, 5 + report.issues_unchanged, "{flavor}: {returned:?}");
        assert!(report.issues_unchanged <= 2, "{flavor}: only the overlap window is fetched again: {report:?}");
        assert_eq!(mem.watermark.as_deref(), Some("2026-11-30T10:00:00.000Z"));
        // Nothing changed: nothing written.
        let since2 = self::since(&mut mem, 10);
        let again = driver::run(&mut h, &mut mem, &cfg, &plan(since2)).unwrap();
        assert_eq!((again.issues_written, again.issues_fetched), (0, 5), "{flavor}: {again:?}");
    }
}

#[test]
fn an_issue_edited_during_the_sync_skips_nothing() {
    // Offset paging would skip an issue when one of an earlier page moves to the end of the order.
    for flavor in ["server", "cloud"] {
        let s = start(flavor, 130);
        let port = s.port;
        let (mut h, mut mem) = (http(flavor, port), Mem::default());
        let (log_edit, mut first) = (std::rc::Rc::new(std::cell::RefCell::new(vec![])), true);
        let edits = log_edit.clone();
        mem.after_page = Some(Box::new(move |keys: &[String]| {
            if first {
                first = false;
                // Two issues of the first page, edited now: they move to the end of the order.
                let two = [&keys[0], &keys[1]];
                control(port, "update", json!({"keys": two, "at": "2026-11-30T10:00:00+00:00"}));
                edits.borrow_mut().extend(two.iter().map(|k| k.to_string()));
            }
        }));
        let cfg = SourceConfig { page_size: 25, ..config(flavor, port) };
        let report = driver::run(&mut h, &mut mem, &cfg, &plan(None)).unwrap();
        assert_eq!(mem.issues.len(), 130, "{flavor}: {report:?}");
        for k in log_edit.borrow().iter() {
            assert!(mem.issues[k].summary.as_deref().unwrap().ends_with("(edited)"), "{flavor}: the edit of {k} is written too");
        }
    }
}

#[test]
fn retries_honour_retry_after_and_survive_a_reset() {
    let s = start("cloud", 130);
    control(
        s.port,
        "faults",
        json!([{"on": "search", "after": 1, "status": 429, "retry_after": 1}, {"on": "search", "after": 2, "status": 503},
               {"on": "search", "after": 4, "status": "reset"}, {"on": "issue", "after": 3, "status": 503, "retry_after": 2}]),
    );
    let (mut h, mut mem) = (http("cloud", s.port), Mem::default());
    let report = driver::run(&mut h, &mut mem, &config("cloud", s.port), &plan(None)).unwrap();
    assert_eq!(mem.issues.len(), 130);
    assert_eq!(report.retries, 4, "{report:?}");
    assert!(h.pauses.contains(&1000) && h.pauses.contains(&2000), "Retry-After honoured: {:?}", h.pauses);
}

#[test]
fn a_malformed_page_fails_with_its_json_path_and_keeps_what_was_written() {
    for (fault, path) in [("malformed", "$.issues[0].fields.created"), ("truncated", "$")] {
        let s = start("cloud", 130);
        control(s.port, "faults", json!([{"on": "search", "after": 2, "status": fault}]));
        let (mut h, mut mem) = (http("cloud", s.port), Mem::default());
        let e = driver::run(&mut h, &mut mem, &config("cloud", s.port), &plan(None)).unwrap_err();
        match e {
            SyncError::Payload { json_path, path: request, .. } => {
                assert_eq!(json_path, path, "{fault}");
                assert_eq!(request, "/rest/api/3/search/jql");
            }
            other => panic!("{fault}: {other:?}"),
        }
        assert_eq!(mem.pages, 4, "{fault}: the two sprint pages and two issue pages before it stay written");
        assert!(mem.issues.len() > 40, "{fault}: {}", mem.issues.len());
        let max = mem.issues.values().filter_map(|i| i.updated_at.clone()).max();
        assert_eq!(mem.watermark, max, "{fault}: the watermark is that of the last written page");
    }
}

#[test]
fn a_failed_write_stops_the_sync_and_a_bad_credential_is_not_retried() {
    let s = start("server", 130);
    // Loads 1 and 2 are the sprint pages (12 sprints per board), 3 the first issue page, 4 the second.
    let (mut h, mut mem) = (http("server", s.port), Mem { fail_at: Some(4), ..Mem::default() });
    let e = driver::run(&mut h, &mut mem, &config("server", s.port), &plan(None)).unwrap_err();
    assert_eq!(e, SyncError::Sink("the page's transaction failed".into()));
    assert_eq!((mem.sprints.len(), mem.issues.len()), (24, 25), "what was written before stays");
    let wrong = Credential::parse(&json!({"token": "wrong"})).unwrap();
    let mut bad = Ureq {
        client: Client::new(&format!("http://127.0.0.1:{}", s.port), &wrong, Duration::from_secs(10), 1 << 20),
        pauses: vec![],
        prefetched: 0,
    };
    // The failed sync had sent the next search page ahead of its write (a sync abandons it, it does not
    // wait for it): wait for it here, so that it is counted before, not after.
    h.client.settle();
    let before = log(s.port).len();
    let e = driver::run(&mut bad, &mut Mem::default(), &config("server", s.port), &plan(None)).unwrap_err();
    assert!(matches!(e, SyncError::Auth { status: 401, .. }), "{e:?}");
    let sent: Vec<Value> =
        log(s.port)[before..].iter().filter(|r| !r["path"].as_str().unwrap().starts_with("/_control")).cloned().collect();
    assert_eq!(sent.len(), 1, "401 is never retried: {sent:?}");
    assert!(!format!("{e:?}").contains("wrong"), "the credential is not in the error");
}
