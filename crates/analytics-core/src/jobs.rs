//! Async jobs, the part that needs no database: the options of `analytics_job_submit`, the payload shapes
//! of the kinds that are not specs, and what makes two submits the same job.

use crate::spec::model::sha256_hex;
use crate::suggest::did_you_mean;
use serde_json::Value;

/// The options of a submit. Defaults: priority 0, 3 attempts, run now, no idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobOptions {
    /// Higher runs first; -100..=100.
    pub priority: i32,
    /// 1..=20: how often a job that fails transiently is tried.
    pub max_attempts: i32,
    /// Not before this moment (text, read by PostgreSQL as timestamptz).
    pub run_after: Option<String>,
    /// Names the request: a submit with the same key is the same job, whatever its payload.
    pub idempotency_key: Option<String>,
}

impl Default for JobOptions {
    fn default() -> Self {
        JobOptions { priority: 0, max_attempts: 3, run_after: None, idempotency_key: None }
    }
}

const OPTION_KEYS: [&str; 4] = ["priority", "max_attempts", "run_after", "idempotency_key"];

/// An error of a submit's arguments: the message and a HINT.
pub type Problem = (String, String);

fn int_in(v: &Value, key: &str, lo: i64, hi: i64) -> Result<i32, Problem> {
    match v.as_i64() {
        Some(n) if (lo..=hi).contains(&n) => Ok(n as i32),
        _ => Err((format!("options.{key} must be a whole number from {lo} to {hi}, not {v}"), format!("For example {{\"{key}\": {lo}}}."))),
    }
}

impl JobOptions {
    pub fn parse(v: &Value) -> Result<JobOptions, Problem> {
        let o = v.as_object().ok_or_else(|| {
            (format!("options must be a JSON object, not {v}"), r#"For example '{"priority": 10, "max_attempts": 5}'."#.to_string())
        })?;
        let mut out = JobOptions::default();
        for (k, val) in o {
            match k.as_str() {
                "priority" => out.priority = int_in(val, k, -100, 100)?,
                "max_attempts" => out.max_attempts = int_in(val, k, 1, 20)?,
                "run_after" => match val.as_str() {
                    Some(s) if !s.trim().is_empty() => out.run_after = Some(s.to_string()),
                    _ => {
                        return Err((
                            format!("options.run_after must be a timestamp text, not {val}"),
                            r#"For example {"run_after": "2026-12-24 18:00+00"}."#.into(),
                        ))
                    }
                },
                "idempotency_key" => match val.as_str() {
                    Some(s) if (1..=200).contains(&s.chars().count()) => out.idempotency_key = Some(s.to_string()),
                    _ => {
                        return Err((
                            format!("options.idempotency_key must be a text of 1 to 200 characters, not {val}"),
                            "Use a request id of your own, e.g. a UUID.".into(),
                        ))
                    }
                },
                other => {
                    let near = did_you_mean(other, OPTION_KEYS.iter().copied(), 1);
                    let hint = match near.first() {
                        Some(n) => format!("Did you mean \"{n}\"?"),
                        None => format!("The options are {}.", OPTION_KEYS.join(", ")),
                    };
                    return Err((format!("unknown option \"{other}\""), hint));
                }
            }
        }
        Ok(out)
    }
}

/// Checks the payload of an `ask` job: {"question": text, "options": {...}?}. The options themselves are
/// checked as analytics_ask checks them.
pub fn check_ask(payload: &Value) -> Result<(&str, Option<&Value>), Problem> {
    let hint = || r#"An ask job's payload is {"question": "...", "options": {...}}."#.to_string();
    let o = payload.as_object().ok_or_else(|| (format!("the payload of an ask job must be an object, not {payload}"), hint()))?;
    if let Some(k) = o.keys().find(|k| *k != "question" && *k != "options") {
        return Err((format!("unknown key \"{k}\" in the payload of an ask job"), hint()));
    }
    let question = match o.get("question").and_then(Value::as_str) {
        Some(q) if !q.trim().is_empty() => q,
        _ => return Err(("the payload of an ask job needs a question (a non-empty text)".into(), hint())),
    };
    Ok((question, o.get("options")))
}

/// Checks the payload of a `refresh_views` job: {} or {"concurrently": true|false}; the flag (default true).
pub fn check_refresh(payload: &Value) -> Result<bool, Problem> {
    let hint = || r#"A refresh_views job's payload is {} or {"concurrently": false}."#.to_string();
    let o = payload.as_object().ok_or_else(|| (format!("the payload of a refresh_views job must be an object, not {payload}"), hint()))?;
    let mut concurrently = true;
    for (k, v) in o {
        match (k.as_str(), v.as_bool()) {
            ("concurrently", Some(b)) => concurrently = b,
            ("concurrently", None) => return Err((format!("concurrently must be true or false, not {v}"), hint())),
            _ => return Err((format!("unknown key \"{k}\" in the payload of a refresh_views job"), hint())),
        }
    }
    Ok(concurrently)
}

/// What makes two payloads of a kind that is not a spec the same job: the SHA-256 of the payload with
/// its keys in order (a spec's is its canonical hash instead).
pub fn payload_hash(payload: &Value) -> String {
    sha256_hex(&sorted(payload).to_string())
}

fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&o[k]))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_are_checked() {
        assert_eq!(JobOptions::parse(&json!({})).unwrap(), JobOptions::default());
        let o = JobOptions::parse(&json!({"priority": -5, "max_attempts": 1, "run_after": "2026-12-24", "idempotency_key": "k1"})).unwrap();
        assert_eq!(
            (o.priority, o.max_attempts, o.run_after.as_deref(), o.idempotency_key.as_deref()),
            (-5, 1, Some("2026-12-24"), Some("k1"))
        );
        assert!(JobOptions::parse(&json!({"priority": 101})).unwrap_err().0.contains("-100 to 100"));
        assert!(JobOptions::parse(&json!({"max_attempts": 0})).is_err());
        assert!(JobOptions::parse(&json!({"max_attempts": 2.5})).is_err());
        assert!(JobOptions::parse(&json!({"idempotency_key": ""})).is_err());
        assert!(JobOptions::parse(&json!({"idempotency_key": "x".repeat(201)})).is_err());
        assert!(JobOptions::parse(&json!({"run_after": 5})).is_err());
        assert_eq!(JobOptions::parse(&json!({"priorty": 1})).unwrap_err().1, "Did you mean \"priority\"?");
        assert!(JobOptions::parse(&json!([])).is_err());
    }

    #[test]
    fn payloads_are_checked() {
        assert_eq!(check_ask(&json!({"question": "how many bugs?"})).unwrap().0, "how many bugs?");
        assert!(check_ask(&json!({"question": "q", "options": {"limit": 5}})).unwrap().1.is_some());
        assert!(check_ask(&json!({"question": " "})).is_err());
        assert!(check_ask(&json!({"q": "x"})).unwrap_err().0.contains("unknown key \"q\""));
        assert!(check_ask(&json!("how many")).is_err());
        assert!(check_refresh(&json!({})).unwrap());
        assert!(!check_refresh(&json!({"concurrently": false})).unwrap());
        assert!(check_refresh(&json!({"concurrently": "no"})).is_err());
        assert!(check_refresh(&json!({"views": []})).is_err());
    }

    #[test]
    fn the_same_payload_in_another_key_order_is_the_same_job() {
        let a = payload_hash(&json!({"question": "q", "options": {"today": "2026-01-01", "limit": 5}}));
        let b = payload_hash(&json!({"options": {"limit": 5, "today": "2026-01-01"}, "question": "q"}));
        assert_eq!(a, b);
        assert_ne!(a, payload_hash(&json!({"question": "q2", "options": {"today": "2026-01-01", "limit": 5}})));
    }
}
