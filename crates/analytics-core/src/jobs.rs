//! Async jobs, the part that needs no database: the options of `analytics_job_submit`, the payload shapes
//! of the kinds that are not specs, what makes two submits the same job, and the rules the job workers
//! follow after a failed attempt (retry or fail, and when) and for publishing progress.

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
    /// Names the request: a submit with the same key is the same job (with another kind or payload, an
    /// error).
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
pub fn check_refresh(payload: &Value) -> Result<Refresh, Problem> {
    let hint = || r#"A refresh_views job's payload is {}, {"concurrently": false} or {"stale_only": true}."#.to_string();
    let o = payload.as_object().ok_or_else(|| (format!("the payload of a refresh_views job must be an object, not {payload}"), hint()))?;
    let mut r = Refresh { concurrently: true, stale_only: false };
    for (k, v) in o {
        match (k.as_str(), v.as_bool()) {
            ("concurrently", Some(b)) => r.concurrently = b,
            ("stale_only", Some(b)) => r.stale_only = b,
            ("concurrently" | "stale_only", None) => return Err((format!("{k} must be true or false, not {v}"), hint())),
            _ => return Err((format!("unknown key \"{k}\" in the payload of a refresh_views job"), hint())),
        }
    }
    Ok(r)
}

/// The batch of an `embed` job when its payload names none: about 25 s of one core per batch, so a
/// cancel or a shutdown waits at most that long and progress moves.
pub const EMBED_BATCH: i32 = 200;

/// Checks the payload of an `embed` job: {} or {"batch": 1..100000}; the batch size.
pub fn check_embed(payload: &Value) -> Result<i32, Problem> {
    let hint = || {
        r#"An embed job's payload is {} or {"batch": N}, N from 1 to 100000 (default 200): the issues embedded per transaction."#
            .to_string()
    };
    let o = payload.as_object().ok_or_else(|| (format!("the payload of an embed job must be an object, not {payload}"), hint()))?;
    let mut batch = EMBED_BATCH;
    for (k, v) in o {
        match (k.as_str(), v.as_i64()) {
            ("batch", Some(n)) if (1..=100_000).contains(&n) => batch = n as i32,
            ("batch", _) => return Err((format!("batch must be an integer from 1 to 100000, not {v}"), hint())),
            _ => return Err((format!("unknown key \"{k}\" in the payload of an embed job"), hint())),
        }
    }
    Ok(batch)
}

/// What a `jira_sync` job does: sync source `source`; `full` resyncs every issue of the JQL (and reports
/// the issues Jira no longer returns), `prune` also deletes those.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JiraSync {
    pub source: String,
    pub full: bool,
    pub prune: bool,
}

/// Checks the payload of a `jira_sync` job: {"source": name, "full": bool, "prune": bool}.
pub fn check_jira_sync(payload: &Value) -> Result<JiraSync, Problem> {
    let hint = || {
        r#"A jira_sync job's payload is {"source": "<name>"}, with "full": true to resync every issue and "prune": true to delete the issues Jira no longer returns."#.to_string()
    };
    let o = payload.as_object().ok_or_else(|| (format!("the payload of a jira_sync job must be an object, not {payload}"), hint()))?;
    let mut r = JiraSync { source: String::new(), full: false, prune: false };
    for (k, v) in o {
        match (k.as_str(), v) {
            ("source", Value::String(s)) => r.source = s.clone(),
            ("full", Value::Bool(b)) => r.full = *b,
            ("prune", Value::Bool(b)) => r.prune = *b,
            ("source", _) => return Err((format!("source must be a source name, not {v}"), hint())),
            ("full" | "prune", _) => return Err((format!("{k} must be true or false, not {v}"), hint())),
            _ => return Err((format!("unknown key \"{k}\" in the payload of a jira_sync job"), hint())),
        }
    }
    if r.source.is_empty() {
        return Err(("a jira_sync job names its source".into(), hint()));
    }
    if r.prune && !r.full {
        return Err(("prune needs a full resync: only a full resync knows which issues Jira no longer returns".into(), hint()));
    }
    Ok(r)
}

/// What a refresh_views job refreshes: every tenant (analytics_refresh_views(concurrently)) or only the
/// tenants whose statistics are stale (analytics_refresh_stale_stats()).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refresh {
    pub concurrently: bool,
    pub stale_only: bool,
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

/// Whether an attempt that failed with this SQLSTATE may succeed when tried again: a serialization
/// failure or deadlock, a lock not available, a lost or refused connection, insufficient resources, or
/// the server shutting the worker down. Anything else (an invalid spec, a permission, a timeout of the
/// job's own statement, bad data) fails the same way every time. 08000 is not retried: analytics_ask
/// reports every LLM provider error with it, a wrong key or model (4xx) as well as an outage, and its
/// HTTP client has already retried 429 and 5xx answers itself.
pub fn transient(sqlstate: &str) -> bool {
    matches!(
        sqlstate,
        "40001"
            | "40P01"
            | "55P03"
            | "53000"
            | "53100"
            | "53200"
            | "53300"
            | "57P01"
            | "57P02"
            | "57P03"
            | "08001"
            | "08003"
            | "08004"
            | "08006"
    )
}

/// The first retry waits this long; each further one twice as long, up to [`MAX_BACKOFF_MS`].
pub const FIRST_BACKOFF_MS: u64 = 1_000;
pub const MAX_BACKOFF_MS: u64 = 600_000;

/// How long to wait before the next attempt, after `attempts` attempts (1 or more): exponential, capped,
/// with jitter (`jitter` in 0..1 picks a point in the upper half of the interval), so that jobs that
/// failed together do not all retry at the same moment.
pub fn backoff_ms(attempts: i32, jitter: f64) -> u64 {
    let exp = (attempts.max(1) - 1).min(30) as u32;
    let full = FIRST_BACKOFF_MS.saturating_mul(1u64 << exp).min(MAX_BACKOFF_MS);
    let j = jitter.clamp(0.0, 1.0);
    full / 2 + ((full / 2) as f64 * j) as u64
}

/// What happens to a job after an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Queued again, to run after this many milliseconds.
    Retry { after_ms: u64 },
    /// Failed for good.
    Fail,
    /// It was cancelled while it ran: cancelled, never retried.
    Cancel,
}

/// Whether a failed attempt may succeed if tried again: a transient SQLSTATE ([`transient`]); a
/// statement canceled by someone else than the job's own cancel or statement timeout (57014 "due to
/// user request", e.g. a superuser's pg_cancel_backend); or an LLM provider that may answer later
/// (`provider_retryable`: no connection, a timeout, HTTP 429 or 5xx).
pub fn transient_failure(sqlstate: &str, message: &str, provider_retryable: bool) -> bool {
    transient(sqlstate) || (sqlstate == "57014" && message.contains("user request")) || provider_retryable
}

/// The rule: a cancelled job is cancelled; a transient failure ([`transient_failure`]) is retried while
/// attempts remain; any other failure fails at once.
pub fn after_failure(transient: bool, attempts: i32, max_attempts: i32, cancel_requested: bool, jitter: f64) -> AfterFailure {
    if cancel_requested {
        AfterFailure::Cancel
    } else if transient && attempts < max_attempts {
        AfterFailure::Retry { after_ms: backoff_ms(attempts, jitter) }
    } else {
        AfterFailure::Fail
    }
}

/// Progress steps of one job are published at most this often; state changes always are.
pub const PROGRESS_INTERVAL_MS: u64 = 250;

/// Decides which progress steps of a job are published (NOTIFY serializes commits on a global lock, so
/// a job that reports thousands of steps must not send thousands of notifications). State changes
/// (running, completed, ...) are not steps: they are always published.
#[derive(Debug, Default, Clone)]
pub struct ProgressThrottle {
    last_ms: Option<u64>,
}

impl ProgressThrottle {
    /// Whether a step at `now_ms` (a monotonic clock) is published: the first is, then at most one per
    /// [`PROGRESS_INTERVAL_MS`], whatever its stage.
    pub fn publish(&mut self, now_ms: u64) -> bool {
        let due = self.last_ms.is_none_or(|t| now_ms.saturating_sub(t) >= PROGRESS_INTERVAL_MS);
        if due {
            self.last_ms = Some(now_ms);
        }
        due
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
        assert_eq!(check_refresh(&json!({})).unwrap(), Refresh { concurrently: true, stale_only: false });
        assert!(!check_refresh(&json!({"concurrently": false})).unwrap().concurrently);
        assert!(check_refresh(&json!({"stale_only": true})).unwrap().stale_only);
        assert!(check_refresh(&json!({"stale_only": 1})).is_err());
        assert!(check_refresh(&json!({"concurrently": "no"})).is_err());
        assert!(check_refresh(&json!({"views": []})).is_err());
        assert_eq!(check_embed(&json!({})).unwrap(), EMBED_BATCH);
        assert_eq!(check_embed(&json!({"batch": 50})).unwrap(), 50);
        for bad in
            [json!({"batch": 0}), json!({"batch": 100001}), json!({"batch": "10"}), json!({"batch": 1.5}), json!({"size": 5}), json!([])]
        {
            assert!(check_embed(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn jira_sync_payloads() {
        assert_eq!(check_jira_sync(&json!({"source": "pay"})).unwrap(), JiraSync { source: "pay".into(), full: false, prune: false });
        assert_eq!(
            check_jira_sync(&json!({"source": "pay", "full": true, "prune": true})).unwrap(),
            JiraSync { source: "pay".into(), full: true, prune: true }
        );
        for bad in [
            json!({}),
            json!({"source": 1}),
            json!({"source": "p", "full": "yes"}),
            json!({"source": "p", "prune": true}),
            json!({"source": "p", "since": 1}),
            json!([]),
        ] {
            assert!(check_jira_sync(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_same_payload_in_another_key_order_is_the_same_job() {
        let a = payload_hash(&json!({"question": "q", "options": {"today": "2026-01-01", "limit": 5}}));
        let b = payload_hash(&json!({"options": {"limit": 5, "today": "2026-01-01"}, "question": "q"}));
        assert_eq!(a, b);
        assert_ne!(a, payload_hash(&json!({"question": "q2", "options": {"today": "2026-01-01", "limit": 5}})));
    }

    #[test]
    fn transient_failures_are_retried_with_backoff_and_others_fail() {
        for code in ["40001", "40P01", "55P03", "08006", "53300", "57P01"] {
            assert!(transient(code), "{code}");
        }
        for code in ["22023", "42501", "42704", "57014", "23505", "XX000", "08000"] {
            assert!(!transient(code), "{code}");
        }
        let t = |s| transient_failure(s, "", false);
        assert_eq!(after_failure(t("40001"), 1, 3, false, 0.0), AfterFailure::Retry { after_ms: 500 });
        assert_eq!(after_failure(t("40001"), 2, 3, false, 1.0), AfterFailure::Retry { after_ms: 2_000 });
        assert_eq!(after_failure(t("40001"), 3, 3, false, 0.5), AfterFailure::Fail, "no attempts left");
        assert_eq!(after_failure(t("22023"), 1, 3, false, 0.5), AfterFailure::Fail, "an invalid spec fails at once");
        assert_eq!(after_failure(t("40001"), 1, 3, true, 0.5), AfterFailure::Cancel, "a cancelled job never retries");
        assert_eq!(after_failure(t("57014"), 1, 3, true, 0.5), AfterFailure::Cancel);
        // A statement timeout fails; someone else's cancel, or an LLM that may answer later, retries.
        assert!(!transient_failure("57014", "canceling statement due to statement timeout", false));
        assert!(transient_failure("57014", "canceling statement due to user request", false));
        assert!(transient_failure("08000", "the openai provider answered HTTP 503: overloaded", true));
        assert!(!transient_failure("08000", "the openai provider answered HTTP 401: bad key", false));
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_and_jitter_stays_in_the_upper_half() {
        let full = |n| backoff_ms(n, 1.0);
        assert_eq!([full(1), full(2), full(3), full(4)], [1_000, 2_000, 4_000, 8_000]);
        assert_eq!(full(40), MAX_BACKOFF_MS);
        assert_eq!(backoff_ms(0, 1.0), 1_000, "attempts below 1 count as 1");
        for n in 1..12 {
            let (lo, hi) = (backoff_ms(n, 0.0), backoff_ms(n, 1.0));
            assert!(lo * 2 >= hi - 1 && lo <= hi, "{n}: {lo}..{hi}");
            assert!((lo..=hi).contains(&backoff_ms(n, 0.37)));
        }
        assert_eq!(backoff_ms(3, 7.0), backoff_ms(3, 1.0), "jitter is clamped");
    }

    #[test]
    fn progress_is_throttled() {
        let mut t = ProgressThrottle::default();
        assert!(t.publish(0));
        assert!(!t.publish(10));
        assert!(!t.publish(249));
        assert!(t.publish(250));
        let published = (0..10_000u64).filter(|ms| t.publish(1_000 + ms)).count();
        assert_eq!(published, 40, "10 s of steps: one per 250 ms");
    }
}
