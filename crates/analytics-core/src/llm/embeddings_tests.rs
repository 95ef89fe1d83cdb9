//! The remote embedding providers against the scripted server on 127.0.0.1 (`super::super::mock`):
//! each wire format, batching, retries, timeouts, and answers that must be refused.

use super::*;
use crate::llm::http::Ureq;
use crate::llm::mock::{serve, Reply};

fn cfg(provider: EmbeddingProvider, base: &str, key: Option<&str>) -> EmbedConfig {
    EmbedConfig::new(provider, None, Some(base.to_string()), key.map(String::from), Duration::from_millis(1500)).unwrap()
}

fn openai_body(vectors: &[Vec<f32>], order: &[usize]) -> String {
    let data: Vec<Value> = order.iter().map(|&i| json!({"object": "embedding", "index": i, "embedding": vectors[i]})).collect();
    json!({"object": "list", "data": data, "model": "text-embedding-3-small", "usage": {"prompt_tokens": 3, "total_tokens": 3}}).to_string()
}

fn v(n: usize, seed: f32) -> Vec<f32> {
    (0..n).map(|i| seed + i as f32 / 10.0).collect()
}

#[test]
fn openai_embeddings_in_the_order_of_the_texts() {
    let vs = vec![v(4, 1.0), v(4, 2.0), v(4, 3.0)];
    let (base, seen) = serve(vec![Reply::new(200, openai_body(&vs, &[2, 0, 1]))]).unwrap();
    let c = cfg(EmbeddingProvider::OpenAi, &format!("{base}/v1"), Some("sk-test-secret"));
    let got = embed(&c, &["a", "b", "c"], &Ureq).unwrap();
    assert_eq!(got, vs);
    let s = &seen.lock().unwrap()[0];
    assert_eq!((s.method.as_str(), s.path.as_str()), ("POST", "/v1/embeddings"));
    assert_eq!(s.header("authorization"), Some("Bearer sk-test-secret"));
    assert_eq!(s.body, json!({"model": "text-embedding-3-small", "input": ["a", "b", "c"], "encoding_format": "float"}));
    assert_eq!(c.stored_name(), "openai:text-embedding-3-small");
}

#[test]
fn ollama_embed_without_a_key() {
    let vs = vec![v(3, 0.5), v(3, -0.5)];
    let (base, seen) = serve(vec![Reply::new(200, json!({"model": "all-minilm", "embeddings": vs}).to_string())]).unwrap();
    let c = cfg(EmbeddingProvider::Ollama, &base, None);
    assert_eq!(embed(&c, &["x", "y"], &Ureq).unwrap(), vs);
    let s = &seen.lock().unwrap()[0];
    assert_eq!(s.path, "/api/embed");
    assert_eq!(s.header("authorization"), None);
    assert_eq!(s.body, json!({"model": "all-minilm", "input": ["x", "y"]}));
    assert_eq!(c.stored_name(), "ollama:all-minilm");
}

#[test]
fn many_texts_go_in_batches_and_keep_their_order() {
    let texts: Vec<String> = (0..70).map(|i| format!("text {i}")).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let first: Vec<Vec<f32>> = (0..64).map(|i| v(2, i as f32 + 1.0)).collect();
    let second: Vec<Vec<f32>> = (64..70).map(|i| v(2, i as f32 + 1.0)).collect();
    let order = |n: usize| (0..n).collect::<Vec<_>>();
    let (base, seen) =
        serve(vec![Reply::new(200, openai_body(&first, &order(64))), Reply::new(200, openai_body(&second, &order(6)))]).unwrap();
    let got = embed(&cfg(EmbeddingProvider::OpenAiCompatible, &base, None), &refs, &Ureq).unwrap();
    assert_eq!(got.len(), 70);
    assert_eq!(got[65], v(2, 66.0));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].body["input"].as_array().unwrap().len(), 6);
}

#[test]
fn busy_servers_are_tried_again_and_slow_ones_time_out() {
    let mut busy = Reply::new(503, r#"{"error": {"message": "overloaded"}}"#);
    busy.headers.push(("Retry-After".into(), "0".into()));
    let (base, seen) = serve(vec![busy, Reply::new(200, openai_body(&[v(2, 1.0)], &[0]))]).unwrap();
    assert_eq!(embed(&cfg(EmbeddingProvider::OpenAiCompatible, &base, None), &["a"], &Ureq).unwrap(), vec![v(2, 1.0)]);
    assert_eq!(seen.lock().unwrap().len(), 2);

    let mut slow = Reply::new(200, openai_body(&[v(2, 1.0)], &[0]));
    slow.delay = Duration::from_millis(2500);
    let (base, _) = serve(vec![slow.clone(), slow.clone(), slow]).unwrap();
    let started = Instant::now();
    match embed(&cfg(EmbeddingProvider::OpenAiCompatible, &base, None), &["a"], &Ureq) {
        Err(LlmError::Unavailable { message, retryable, .. }) => {
            assert!(message.contains("unavailable"), "{message}");
            assert!(retryable);
        }
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_millis(4800), "at most three timeouts");
}

#[test]
fn errors_never_show_the_key_and_bad_answers_are_refused() {
    let (base, _) = serve(vec![Reply::new(401, r#"{"error": {"message": "Incorrect API key provided: sk-test-secret"}}"#)]).unwrap();
    match embed(&cfg(EmbeddingProvider::OpenAi, &base, Some("sk-test-secret")), &["a"], &Ureq) {
        Err(LlmError::Unavailable { message, retryable, .. }) => {
            assert!(message.contains("HTTP 401") && message.contains("[redacted]") && !message.contains("sk-test-secret"), "{message}");
            assert!(!retryable);
        }
        other => panic!("{other:?}"),
    }
    for (body, says) in [
        (openai_body(&[v(3, 1.0)], &[0]), "1 vectors for 2 texts"),
        (openai_body(&[v(3, 1.0), v(4, 1.0)], &[0, 1]), "vector 1 has 4 dimensions, vector 0 has 3"),
        (
            json!({"data": [{"index": 0, "embedding": [1.0, null]}, {"index": 1, "embedding": [1.0, 2.0]}]}).to_string(),
            "not a finite number",
        ),
        (json!({"data": [{"index": 0, "embedding": [0.0, 0.0]}, {"index": 1, "embedding": [1.0, 2.0]}]}).to_string(), "all zeros"),
        (json!({"data": [{"index": 0, "embedding": []}, {"index": 1, "embedding": []}]}).to_string(), "0 dimensions"),
        (json!({"data": [{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [1.0]}]}).to_string(), "indexes"),
        ("not json".to_string(), "not JSON"),
        (json!({"object": "list"}).to_string(), "no \"data\" array"),
    ] {
        let (base, _) = serve(vec![Reply::new(200, body)]).unwrap();
        match embed(&cfg(EmbeddingProvider::OpenAiCompatible, &base, None), &["a", "b"], &Ureq) {
            Err(LlmError::Unavailable { message, retryable, .. }) => {
                assert!(message.contains(says), "{says}: {message}");
                assert!(!retryable);
            }
            other => panic!("{says}: {other:?}"),
        }
    }
    // Dimensions that change between two requests of one call.
    let texts: Vec<String> = (0..65).map(|i| i.to_string()).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let first: Vec<Vec<f32>> = (0..64).map(|_| v(3, 1.0)).collect();
    let (base, _) =
        serve(vec![Reply::new(200, openai_body(&first, &(0..64).collect::<Vec<_>>())), Reply::new(200, openai_body(&[v(5, 1.0)], &[0]))])
            .unwrap();
    match embed(&cfg(EmbeddingProvider::OpenAiCompatible, &base, None), &refs, &Ureq) {
        Err(LlmError::Unavailable { message, .. }) => {
            assert!(message.contains("changed dimensions between requests (3 then 5)"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn configurations_need_what_their_provider_needs() {
    let t = Duration::from_secs(1);
    assert!(EmbedConfig::new(EmbeddingProvider::OpenAiCompatible, None, None, None, t).unwrap_err().0.contains("base URL"));
    assert!(EmbedConfig::new(EmbeddingProvider::OpenAi, None, None, None, t).unwrap_err().0.contains("API key"));
    assert!(EmbedConfig::new(EmbeddingProvider::Ollama, None, Some("ftp://x".into()), None, t).unwrap_err().0.contains("http://"));
    let o = EmbedConfig::new(EmbeddingProvider::Ollama, None, None, None, t).unwrap();
    assert_eq!((o.base_url.as_str(), o.model.as_str()), ("http://127.0.0.1:11434", "all-minilm"));
    let odd =
        EmbedConfig::new(EmbeddingProvider::OpenAiCompatible, Some("bge small'; drop".into()), Some("http://h".into()), None, t).unwrap();
    assert_eq!(odd.stored_name(), "openai_compatible:bgesmalldrop");
    assert_eq!(EmbeddingProvider::parse(" Ollama "), Some(EmbeddingProvider::Ollama));
    assert_eq!(EmbeddingProvider::parse("anthropic"), None);
}
