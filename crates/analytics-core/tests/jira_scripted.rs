//! The sync's requests and page reading (`jira::sync`) against the scripted Jira (tests/jira_server), in
//! both flavours: every page parses through the ingest parser, paging ends after the last issue, and
//! each truncated changelog is completed from the issue's endpoint. Needs python3 (the server's only
//! requirement); it talks to 127.0.0.1 only.

use analytics_core::jira::sync::{self, Cursor, Flavor};
use analytics_core::jira::{parse_payload, Options};
use serde_json::Value;
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

fn start(flavor: &str) -> Server {
    let dir = std::env::temp_dir().join(format!("aa-jira-{}-{flavor}", std::process::id()));
    let port_file = dir.with_extension("port");
    let _ = std::fs::remove_file(&port_file);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/jira_server/server.py");
    // Owned by the guard at once, so the process is killed and reaped on every path.
    let mut server = Server {
        child: Command::new("python3")
            .args([script, "--flavor", flavor, "--issues", "130", "--page-limit", "25", "--port-file"])
            .arg(&port_file)
            .spawn()
            .expect("python3 runs the scripted Jira"),
        port: 0,
    };
    for _ in 0..200 {
        if let Some(port) = std::fs::read_to_string(&port_file).ok().and_then(|s| s.trim().parse().ok()) {
            server.port = port;
            return server;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("the scripted Jira did not start");
}

fn send(port: u16, auth: &str, req: &sync::Request) -> Value {
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(10))).max_redirects(0).build().into();
    let url = format!("http://127.0.0.1:{port}{}", req.path);
    let mut resp = match &req.body {
        Some(b) => agent.post(&url).header("Authorization", auth).header("Content-Type", "application/json").send(b.to_string().as_str()),
        None => agent.get(&url).header("Authorization", auth).call(),
    }
    .unwrap_or_else(|e| panic!("{url}: {e}"));
    serde_json::from_str(&resp.body_mut().with_config().limit(1 << 26).read_to_string().unwrap()).unwrap()
}

fn sync_all(flavor: Flavor, port: u16, auth: &str) {
    let jql = sync::sync_jql("project in (PAY, WEB)", None);
    let options = Options::parse(&Value::Null).unwrap();
    let (mut cursor, mut pages, mut issues, mut completed) = (Cursor::Start, 0, 0usize, 0);
    while let Some(req) = sync::search_request(flavor, &jql, &cursor, 100) {
        let body = send(port, auth, &req);
        let page = sync::read_page(flavor, &body, &cursor).unwrap();
        let batch = parse_payload(&body, &options).unwrap_or_else(|e| panic!("page {pages}: {} at {}", e.message, e.path));
        assert_eq!(batch.issues.len(), page.count);
        issues += page.count;
        pages += 1;
        for key in &page.truncated_changelogs {
            let total =
                body["issues"].as_array().unwrap().iter().find(|i| i["key"] == *key).unwrap()["changelog"]["total"].as_u64().unwrap();
            let full = send(port, auth, &sync::changelog_request(flavor, key, 0, 100));
            let got = match flavor {
                Flavor::Cloud => full["values"].as_array().unwrap().len(),
                Flavor::Server => full["changelog"]["histories"].as_array().unwrap().len(),
            };
            assert_eq!(got as u64, total, "{key}: the whole changelog");
            completed += 1;
        }
        cursor = page.next;
        assert!(pages < 100, "paging never ends");
    }
    assert_eq!(issues, 130, "{flavor:?}: every issue once");
    assert!(pages >= 5, "{flavor:?}: {pages} pages");
    assert!(completed > 0, "{flavor:?}: some changelogs were truncated and completed");
}

#[test]
fn cloud_sync_pages_by_token_and_completes_changelogs() {
    let s = start("cloud");
    let auth = format!("Basic {}", base64_basic("bot@example.com:scripted-token"));
    sync_all(Flavor::Cloud, s.port, &auth);
}

#[test]
fn server_sync_pages_by_offset_and_completes_changelogs() {
    let s = start("server");
    sync_all(Flavor::Server, s.port, "Bearer scripted-pat");
}

fn base64_basic(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}
