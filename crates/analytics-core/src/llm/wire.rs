//! The providers' wire formats: request bodies, endpoints and headers, and where the answer is in a
//! response. OpenAI Chat Completions (`response_format: json_schema`, strict), Anthropic Messages (the
//! spec as the input of a forced tool), Ollama `/api/chat` (`format: <schema>`), and OpenAI-compatible
//! servers (json_schema, or json_object where a server refuses schemas).

use super::Config;
use crate::ask::Provider;
use serde_json::{json, Value};

/// One turn of the conversation after the system prompt.
#[derive(Debug, Clone, PartialEq)]
pub enum Turn {
    User(String),
    /// The model's previous answer: its text, and for Anthropic the tool call it made.
    Assistant {
        text: String,
        tool_use: Option<(String, Value)>,
    },
    /// Why the previous answer was refused.
    Feedback(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

/// The default model of each provider.
pub fn default_model(p: Provider) -> &'static str {
    match p {
        Provider::OpenAi => "gpt-4o-mini",
        Provider::Anthropic => "claude-3-5-haiku-latest",
        Provider::Ollama => "qwen2.5-coder:1.5b",
        Provider::OpenAiCompatible | Provider::Builtin => "default",
    }
}

/// The default base URL of each provider (none for openai_compatible: it must be given).
pub fn default_base_url(p: Provider) -> Option<&'static str> {
    match p {
        Provider::OpenAi => Some("https://api.openai.com/v1"),
        Provider::Anthropic => Some("https://api.anthropic.com"),
        Provider::Ollama => Some("http://127.0.0.1:11434"),
        Provider::OpenAiCompatible | Provider::Builtin => None,
    }
}

pub const ANTHROPIC_VERSION: &str = "2023-06-01";
pub const TOOL_NAME: &str = "answer_with_spec";

fn openai_messages(system: &str, turns: &[Turn]) -> Vec<Value> {
    let mut m = vec![json!({"role": "system", "content": system})];
    for t in turns {
        m.push(match t {
            Turn::User(q) => json!({"role": "user", "content": q}),
            Turn::Assistant { text, .. } => json!({"role": "assistant", "content": text}),
            Turn::Feedback(f) => json!({"role": "user", "content": f}),
        });
    }
    m
}

fn anthropic_messages(turns: &[Turn]) -> Vec<Value> {
    let mut m: Vec<Value> = Vec::new();
    let mut last_tool: Option<String> = None;
    for t in turns {
        match t {
            Turn::User(q) => m.push(json!({"role": "user", "content": q})),
            Turn::Assistant { text, tool_use } => match tool_use {
                Some((id, input)) => {
                    last_tool = Some(id.clone());
                    m.push(json!({"role": "assistant", "content": [{"type": "tool_use", "id": id, "name": TOOL_NAME, "input": input}]}));
                }
                None => {
                    last_tool = None;
                    m.push(json!({"role": "assistant", "content": if text.is_empty() { "(no answer)" } else { text }}));
                }
            },
            Turn::Feedback(f) => match last_tool.take() {
                Some(id) => {
                    m.push(json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": f, "is_error": true}]}))
                }
                None => m.push(json!({"role": "user", "content": f})),
            },
        }
    }
    m
}

/// The most tokens a model may write per attempt: a spec takes a few hundred; a model that loops (an
/// array that never ends) is cut off here and its attempt fails as invalid JSON, not by the timeout.
pub const MAX_TOKENS: u32 = 1024;

/// The request for one attempt. `json_object`: an OpenAI-compatible server that refused json_schema.
pub fn request(cfg: &Config, system: &str, turns: &[Turn], schema: &Value, json_object: bool) -> Request {
    let (provider, model, api_key) = (cfg.provider, cfg.model.as_str(), cfg.api_key.as_deref());
    let base = cfg.base_url.trim_end_matches('/');
    let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    match provider {
        Provider::Anthropic => {
            if let Some(k) = api_key {
                headers.push(("x-api-key".into(), k.into()));
            }
            headers.push(("anthropic-version".into(), ANTHROPIC_VERSION.into()));
            Request {
                url: format!("{base}/v1/messages"),
                headers,
                body: json!({
                    "model": model,
                    "max_tokens": MAX_TOKENS,
                    "temperature": 0,
                    "system": system,
                    "messages": anthropic_messages(turns),
                    "tools": [{"name": TOOL_NAME, "description": "Answer the question with an AnalyticsSpec (or a clarification).", "input_schema": schema}],
                    "tool_choice": {"type": "tool", "name": TOOL_NAME},
                }),
            }
        }
        Provider::Ollama => Request {
            url: format!("{base}/api/chat"),
            headers,
            body: json!({"model": model, "messages": openai_messages(system, turns), "stream": false, "format": schema, "options": {"temperature": 0, "num_predict": MAX_TOKENS}}),
        },
        _ => {
            if let Some(k) = api_key {
                headers.push(("Authorization".into(), format!("Bearer {k}")));
            }
            let response_format = if json_object {
                json!({"type": "json_object"})
            } else {
                json!({"type": "json_schema", "json_schema": {"name": "analytics_spec", "strict": true, "schema": schema}})
            };
            Request {
                url: format!("{base}/chat/completions"),
                headers,
                // OpenAI's own API names the limit max_completion_tokens; compatible servers, max_tokens.
                body: if provider == Provider::OpenAi {
                    json!({"model": model, "messages": openai_messages(system, turns), "temperature": 0, "response_format": response_format, "max_completion_tokens": MAX_TOKENS})
                } else {
                    json!({"model": model, "messages": openai_messages(system, turns), "temperature": 0, "response_format": response_format, "max_tokens": MAX_TOKENS})
                },
            }
        }
    }
}

/// What one response says.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The answer as written (for the next turn and for error messages).
    pub text: String,
    /// The answer as JSON, or why it is not.
    pub json: Result<Value, String>,
    /// Anthropic: the tool call (id, input).
    pub tool_use: Option<(String, Value)>,
    /// The model that answered, when the response says.
    pub model: Option<String>,
}

/// A JSON object in text: the whole text, or a fenced ```json block, or the outermost {...}.
fn json_in(text: &str) -> Result<Value, String> {
    let t = text.trim();
    if let Ok(v) = serde_json::from_str::<Value>(t) {
        return Ok(v);
    }
    let unfenced = t.trim_start_matches("```json").trim_start_matches("```").trim_end_matches("```").trim();
    if let Ok(v) = serde_json::from_str::<Value>(unfenced) {
        return Ok(v);
    }
    if let (Some(a), Some(b)) = (t.find('{'), t.rfind('}')) {
        if a < b {
            if let Ok(v) = serde_json::from_str::<Value>(&t[a..=b]) {
                return Ok(v);
            }
        }
    }
    let shown: String = t.chars().take(160).collect();
    Err(format!("the answer is not JSON: {shown:?}"))
}

/// Finds the answer in a provider's response body; Err when the envelope itself is not the provider's.
pub fn answer(provider: Provider, body: &Value) -> Result<Answer, String> {
    let model = body.get("model").and_then(Value::as_str).map(String::from);
    match provider {
        Provider::Anthropic => {
            let content = body.get("content").and_then(Value::as_array).ok_or("the response has no content")?;
            if let Some(tool) = content.iter().find(|c| c["type"] == "tool_use") {
                let input = tool.get("input").cloned().unwrap_or(Value::Null);
                let id = tool.get("id").and_then(Value::as_str).unwrap_or("toolu").to_string();
                return Ok(Answer { text: input.to_string(), json: Ok(input.clone()), tool_use: Some((id, input)), model });
            }
            let text: String = content.iter().filter_map(|c| c.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join("\n");
            Ok(Answer { json: json_in(&text), text, tool_use: None, model })
        }
        Provider::Ollama => {
            let text = body.pointer("/message/content").and_then(Value::as_str).ok_or("the response has no message.content")?.to_string();
            Ok(Answer { json: json_in(&text), text, tool_use: None, model })
        }
        _ => {
            let msg = body.pointer("/choices/0/message").ok_or("the response has no choices[0].message")?;
            if let Some(refusal) = msg.get("refusal").and_then(Value::as_str) {
                return Ok(Answer { text: refusal.to_string(), json: Err(format!("the model refused: {refusal}")), tool_use: None, model });
            }
            let text = msg.get("content").and_then(Value::as_str).unwrap_or_default().to_string();
            Ok(Answer { json: json_in(&text), text, tool_use: None, model })
        }
    }
}

/// The error message inside a provider's error response, if it has one.
pub fn error_message(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let m = v.pointer("/error/message").or_else(|| v.get("error")).or_else(|| v.get("message")).and_then(Value::as_str).map(String::from);
    let m = m.unwrap_or_else(|| body.to_string());
    m.chars().take(300).collect()
}
