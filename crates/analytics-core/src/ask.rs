//! The request side of `analytics_ask`: which provider translates, and the per-call options that
//! override the `analytics.llm_*` settings. Parsing is strict: an unknown option or a wrong type is an
//! error with a hint, not silently ignored.

use chrono::NaiveDate;
use serde_json::Value;

/// Who turns a question into a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// The deterministic translator in [`crate::nl`]; no network.
    Builtin,
    /// OpenAI Chat Completions with a strict JSON schema.
    OpenAi,
    /// Anthropic Messages API, the spec as a tool's input.
    Anthropic,
    /// Ollama's chat API with `format: <schema>`.
    Ollama,
    /// Any server with OpenAI's chat API (vLLM, LM Studio, llama.cpp, LiteLLM) at `llm_base_url`.
    OpenAiCompatible,
}

impl Provider {
    pub const ALL: [Provider; 5] = [Provider::Builtin, Provider::OpenAi, Provider::Anthropic, Provider::Ollama, Provider::OpenAiCompatible];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Builtin => "builtin",
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
            Provider::Ollama => "ollama",
            Provider::OpenAiCompatible => "openai_compatible",
        }
    }

    pub fn parse(s: &str) -> Result<Provider, String> {
        let s = s.trim().to_lowercase();
        Self::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|p| p.as_str()).collect();
            format!("unknown provider \"{s}\"; use one of {}", names.join(", "))
        })
    }
}

/// How a question reaches a model provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The provider translates every question.
    Single,
    /// The builtin translator first; the provider only for what it would answer with a question back,
    /// told what the builtin translator read.
    Hybrid,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Single => "single",
            Mode::Hybrid => "hybrid",
        }
    }

    pub fn parse(s: &str) -> Result<Mode, String> {
        match s.trim().to_lowercase().as_str() {
            "single" => Ok(Mode::Single),
            "hybrid" => Ok(Mode::Hybrid),
            other => Err(format!("unknown mode \"{other}\"; use single or hybrid")),
        }
    }
}

/// Options of one `analytics_ask` call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    pub provider: Option<Provider>,
    pub model: Option<String>,
    /// Replaces the spec's row limit (1..=1000).
    pub limit: Option<u32>,
    /// Return the spec and SQL without running the query.
    pub dry_run: bool,
    /// The day relative periods are counted from (default: the session's current_date).
    pub today: Option<NaiveDate>,
    /// Add a Vega-Lite chart of the rows (`chart`), when they are a series or groups.
    pub chart: bool,
    /// Overrides `analytics.ask_mode`.
    pub mode: Option<Mode>,
}

/// Keys `options` may have.
pub const OPTION_KEYS: &[&str] = &["provider", "model", "limit", "dry_run", "today", "chart", "mode"];

impl Options {
    /// Parses the `options` argument; `Err((message, hint))`.
    pub fn parse(v: &Value) -> Result<Options, (String, String)> {
        let Value::Object(o) = v else {
            return Err(("options must be a JSON object".into(), r#"For example '{"dry_run": true, "limit": 10}'."#.into()));
        };
        let mut out = Options::default();
        for (k, val) in o {
            let wrong = |what: &str| Err((format!("option \"{k}\" must be {what}"), format!("Options are {}.", OPTION_KEYS.join(", "))));
            match (k.as_str(), val) {
                (_, Value::Null) => {}
                ("provider", Value::String(s)) => {
                    out.provider = Some(
                        Provider::parse(s)
                            .map_err(|m| (m, "The default is analytics.llm_provider (builtin unless changed).".to_string()))?,
                    )
                }
                ("provider", _) => return wrong("a string"),
                ("model", Value::String(s)) if !s.trim().is_empty() && s.len() <= 200 => out.model = Some(s.trim().to_string()),
                ("model", _) => return wrong("a model name (a non-empty string of at most 200 characters)"),
                ("limit", Value::Number(n)) => match n.as_u64() {
                    Some(l) if (1..=crate::spec::parse::MAX_LIMIT).contains(&l) => out.limit = Some(l as u32),
                    _ => return wrong("an integer from 1 to 1000"),
                },
                ("limit", _) => return wrong("an integer from 1 to 1000"),
                ("dry_run", Value::Bool(b)) => out.dry_run = *b,
                ("dry_run", _) => return wrong("true or false"),
                ("chart", Value::Bool(b)) => out.chart = *b,
                ("mode", Value::String(s)) => {
                    out.mode =
                        Some(Mode::parse(s).map_err(|m| (m, "The default is analytics.ask_mode (single unless changed).".to_string()))?)
                }
                ("mode", _) => return wrong("a string"),
                ("chart", _) => return wrong("true or false"),
                ("today", Value::String(s)) => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                    Ok(d) => out.today = Some(d),
                    Err(_) => return wrong("a date YYYY-MM-DD"),
                },
                ("today", _) => return wrong("a date YYYY-MM-DD"),
                (other, _) => {
                    let sug = crate::suggest::did_you_mean(other, OPTION_KEYS.iter().copied(), 1);
                    let hint = match sug.first() {
                        Some(s) => format!("Did you mean \"{s}\"? Options are {}.", OPTION_KEYS.join(", ")),
                        None => format!("Options are {}.", OPTION_KEYS.join(", ")),
                    };
                    return Err((format!("unknown option \"{other}\""), hint));
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_are_checked() {
        let o =
            Options::parse(&json!({"provider": "Anthropic", "limit": 5, "dry_run": true, "today": "2026-01-31", "model": "m"})).unwrap();
        assert_eq!(o.provider, Some(Provider::Anthropic));
        assert_eq!((o.limit, o.dry_run, o.today.map(|d| d.to_string())), (Some(5), true, Some("2026-01-31".into())));
        assert_eq!(Options::parse(&json!({})).unwrap(), Options::default());
        assert!(Options::parse(&json!({"limt": 5})).unwrap_err().1.contains("Did you mean \"limit\""));
        assert!(Options::parse(&json!({"limit": 0})).is_err());
        assert!(Options::parse(&json!({"chart": true})).unwrap().chart);
        assert!(Options::parse(&json!({"chart": "yes"})).is_err());
        assert!(Options::parse(&json!({"limit": 1001})).is_err());
        assert!(Options::parse(&json!({"provider": "gpt"})).unwrap_err().0.contains("openai_compatible"));
        assert!(Options::parse(&json!({"today": "2026-02-30"})).is_err());
        assert!(Options::parse(&json!([1])).is_err());
    }
}
