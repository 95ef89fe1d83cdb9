//! The providers over real HTTP: a mock server on 127.0.0.1 speaks each wire format (OpenAI chat
//! completions, Anthropic messages, Ollama chat), checks what it is sent, and answers as scripted:
//! valid specs, errors, Retry-After, answers slower than the timeout, bodies larger than the limit.

use analytics_core::ask::Provider;
use analytics_core::catalog::builtin;
use analytics_core::llm::mock::{openai_body, serve as start, Reply};
use analytics_core::llm::{self, http::Ureq, Config, LlmError};
use analytics_core::nl::{Context, Translation};
use chrono::NaiveDate;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn serve(replies: Vec<Reply>) -> (String, Arc<Mutex<Vec<analytics_core::llm::mock::Seen>>>) {
    start(replies).unwrap()
}

fn reply(status: u16, body: String) -> Reply {
    Reply::new(status, body)
}

const VALID: &str = r#"{"entity": "issue", "metrics": [{"name": "bug_count", "aggregation": null}], "group_by": [{"field": "priority", "interval": null}], "filters": [], "date_range": null, "sort_by": [], "limit": null, "clarification": null}"#;

fn ask(provider: Provider, base: &str, timeout_ms: u64) -> Result<llm::Answer, LlmError> {
    let catalog = builtin::metrics().unwrap();
    let values = BTreeMap::new();
    let ctx = Context::new(&catalog, &values, NaiveDate::from_ymd_opt(2026, 11, 27).unwrap());
    let cfg = Config::new(
        provider,
        Some("mock-model".into()),
        Some(base.to_string()),
        Some("sk-mock-key".into()),
        Duration::from_millis(timeout_ms),
    )
    .unwrap();
    llm::translate("bugs by priority", &cfg, &ctx, &Ureq)
}

#[test]
fn openai_wire_format() {
    let (base, seen) = serve(vec![reply(200, openai_body(VALID))]);
    let a = ask(Provider::OpenAi, &format!("{base}/v1"), 5000).unwrap();
    assert!(matches!(a.translation, Translation::Spec(_)));
    let s = seen.lock().unwrap()[0].clone();
    assert_eq!((s.method.as_str(), s.path.as_str()), ("POST", "/v1/chat/completions"));
    assert_eq!(s.header("authorization"), Some("Bearer sk-mock-key"));
    assert_eq!(s.header("content-type"), Some("application/json"));
    assert_eq!(s.body["model"], "mock-model");
    assert_eq!(s.body["response_format"]["json_schema"]["strict"], true);
    let asked = s.body["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string();
    assert!(asked.starts_with("Examples of similar questions:") && asked.ends_with("\n\nQuestion: bugs by priority"), "{asked}");
}

#[test]
fn anthropic_wire_format() {
    let body = json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "mock-model", "stop_reason": "tool_use",
                      "content": [{"type": "tool_use", "id": "toolu_9", "name": "answer_with_spec", "input": serde_json::from_str::<Value>(VALID).unwrap()}]});
    let (base, seen) = serve(vec![reply(200, body.to_string())]);
    let a = ask(Provider::Anthropic, &base, 5000).unwrap();
    assert!(matches!(a.translation, Translation::Spec(_)));
    let s = seen.lock().unwrap()[0].clone();
    assert_eq!(s.path, "/v1/messages");
    assert_eq!(s.header("x-api-key"), Some("sk-mock-key"));
    assert_eq!(s.header("anthropic-version"), Some("2023-06-01"));
    assert!(s.header("authorization").is_none());
    assert_eq!(s.body["max_tokens"], 1024);
    assert_eq!(s.body["tools"][0]["name"], "answer_with_spec");
}

#[test]
fn ollama_wire_format() {
    let body = json!({"model": "mock-model", "created_at": "2026-11-27T10:00:00Z", "message": {"role": "assistant", "content": VALID}, "done": true});
    let (base, seen) = serve(vec![reply(200, body.to_string())]);
    assert_eq!(ask(Provider::Ollama, &base, 5000).unwrap().attempts, 1);
    let s = seen.lock().unwrap()[0].clone();
    assert_eq!(s.path, "/api/chat");
    assert_eq!(s.body["stream"], false);
    // A choice of two closed object shapes, one per entity.
    let shapes = s.body["format"]["anyOf"].as_array().unwrap();
    assert!(shapes.len() == 2 && shapes.iter().all(|v| v["type"] == "object" && v["additionalProperties"] == false));
}

#[test]
fn retry_after_is_honoured() {
    let mut limited = reply(429, r#"{"error": {"message": "rate limited"}}"#.into());
    limited.headers.push(("Retry-After".into(), "1".into()));
    let (base, seen) = serve(vec![limited, reply(200, openai_body(VALID))]);
    let t = Instant::now();
    assert_eq!(ask(Provider::OpenAiCompatible, &base, 5000).unwrap().attempts, 1);
    assert!(t.elapsed() >= Duration::from_millis(950), "{:?}", t.elapsed());
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn a_slow_provider_is_abandoned_within_the_timeout() {
    let mut slow = reply(200, openai_body(VALID));
    slow.delay = Duration::from_secs(3);
    let (base, _) = serve(vec![slow]);
    let t = Instant::now();
    let r = ask(Provider::OpenAiCompatible, &base, 300);
    assert!(t.elapsed() < Duration::from_millis(1500), "waited {:?}", t.elapsed());
    match r {
        Err(LlmError::Unavailable { message, .. }) => assert!(message.contains("no answer within 300 ms"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_huge_response_is_refused() {
    let huge = openai_body(&"x".repeat(2 << 20));
    let (base, _) = serve(vec![reply(200, huge)]);
    match ask(Provider::OpenAiCompatible, &base, 5000) {
        Err(LlmError::Unavailable { message, .. }) => assert!(message.contains("larger than"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn nobody_listening_is_unavailable() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    match ask(Provider::OpenAiCompatible, &format!("http://127.0.0.1:{port}"), 2000) {
        Err(LlmError::Unavailable { message, .. }) => assert!(message.contains("unavailable"), "{message}"),
        other => panic!("{other:?}"),
    }
}
