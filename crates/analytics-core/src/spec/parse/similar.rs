//! `similar_to`: an issue spec restricted to the issues nearest in meaning to a text,
//! `{"text": "…", "k": 200, "min_score": 0.3}`.

use super::*;

/// Most issues a `similar_to` may keep.
pub const MAX_K: u64 = 1000;
/// Its `k` when none is given.
pub const DEFAULT_K: u32 = 200;
/// Its `min_score` (cosine similarity) when none is given: the similarity floor of
/// analytics_similar_issues.
pub const DEFAULT_MIN_SCORE: f64 = 0.3;
/// Longest text, in characters.
pub const MAX_TEXT: usize = 1000;

pub(super) fn parse_similar_to(ctx: &mut Ctx, v: Option<&Value>, entity: Entity, group_by: &[GroupBy]) -> Option<SimilarTo> {
    let o = match v {
        None | Some(Value::Null) => return None,
        Some(Value::Object(o)) => o,
        Some(other) => {
            ctx.err("$.similar_to", "wrong_type", format!("similar_to must be an object, not {}", type_name(other)))
                .hint(r#"For example {"text": "login times out behind the SSO proxy", "k": 200}."#);
            return None;
        }
    };
    unknown_keys(ctx, "$.similar_to", o, &["text", "k", "min_score"]);
    if entity != Entity::Issue {
        ctx.err("$.similar_to", "invalid_for_entity", "similar_to restricts issues; this spec is about sprints")
            .hint("Use it in an issue spec, e.g. {\"metrics\": [\"reopen_rate\"], \"similar_to\": {\"text\": \"flaky CI\"}}.");
    }
    if group_by.iter().any(GroupBy::is_series) {
        ctx.err("$.similar_to", "unsupported", "similar_to does not apply to an as_of series").hint("Group by a date field instead.");
    }
    let text = match o.get("text") {
        Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= MAX_TEXT => Some(s.trim().to_string()),
        Some(Value::String(_)) => {
            ctx.err("$.similar_to.text", "invalid_value", format!("the text must have 1 to {MAX_TEXT} characters"));
            None
        }
        Some(other) => {
            ctx.err("$.similar_to.text", "wrong_type", format!("text must be a string, not {}", type_name(other)));
            None
        }
        None => {
            ctx.err("$.similar_to.text", "missing", "similar_to needs a text").hint("Describe the issues, e.g. \"login timeouts\".");
            None
        }
    };
    let k = match o.get("k") {
        None | Some(Value::Null) => DEFAULT_K,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(k) if (1..=MAX_K).contains(&k) => k as u32,
            _ => {
                ctx.err("$.similar_to.k", "out_of_range", format!("k must be a whole number from 1 to {MAX_K}, not {n}"));
                DEFAULT_K
            }
        },
        Some(other) => {
            ctx.err("$.similar_to.k", "wrong_type", format!("k must be a number, not {}", type_name(other)));
            DEFAULT_K
        }
    };
    let min_score = match o.get("min_score") {
        None | Some(Value::Null) => DEFAULT_MIN_SCORE,
        Some(Value::Number(n)) => match n.as_f64() {
            Some(m) if (-1.0..=1.0).contains(&m) => m,
            _ => {
                ctx.err("$.similar_to.min_score", "out_of_range", format!("min_score is a cosine similarity from -1 to 1, not {n}"));
                DEFAULT_MIN_SCORE
            }
        },
        Some(other) => {
            ctx.err("$.similar_to.min_score", "wrong_type", format!("min_score must be a number, not {}", type_name(other)));
            DEFAULT_MIN_SCORE
        }
    };
    Some(SimilarTo { text: text?, k, min_score, resolved: None })
}
