//! The builtin translator: a question in plain English to an AnalyticsSpec, with no network and no
//! model. It knows the live catalog's metric names and synonyms, the dimension whitelist, the values in
//! the tenant's data and periods relative to a given day. When it cannot map a question with confidence
//! it says why and offers candidate interpretations; it never guesses silently.
//!
//! - [`text`]: words and stems; [`period`]: "last quarter", "since March", "last 6 sprints";
//!   [`forecast`]: horizons and item counts; [`dwell`]: "time in QA" (statuses for `time_in_status`);
//! - [`lexicon`]: the fixed vocabulary (dimension, ranking, aggregation, negation and filler words);
//! - [`reader`]: finds the known phrases in a question; [`build`]: a reading to a spec; [`list`]: list
//!   questions ("list the stuck issues") to list specs;
//! - [`spelling`]: typing slips ("veloctiy", "cycletime"); [`topic`]: "issues about login timeouts"
//!   (a spec's `similar_to`);
//! - [`explain`]: one sentence describing any validated spec; [`eval`]: scoring against expected specs.

pub mod build;
pub mod dwell;
pub mod eval;
pub mod explain;
pub mod forecast;
pub mod ground;
pub mod lexicon;
pub mod list;
pub mod period;
pub mod reader;
pub mod refine;
pub mod scope;
pub mod spelling;
pub mod text;
pub mod topic;

#[cfg(test)]
mod tests;

use crate::catalog::MetricDef;
use crate::spec::parse;
use crate::suggest::did_you_mean;
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub use explain::explain;

/// Questions longer than this are refused (a question, not a document).
pub const MAX_QUESTION: usize = 1000;

/// What the translator knows besides the question.
pub struct Context<'a> {
    /// Active metrics only.
    pub catalog: &'a [MetricDef],
    /// Distinct values per dimension in the tenant's data (issue_type, priority, status, project,
    /// board, assignee, reporter, label, component, epic).
    pub values: &'a BTreeMap<String, Vec<String>>,
    /// The day "last month" is relative to.
    pub today: NaiveDate,
    /// Write "the last 30 days" as dates counted from `today` instead of a window relative to the
    /// moment the query runs (for answers "as of" another day than the current one).
    pub pin_relative: bool,
    phrases: reader::Phrases,
    /// The known words, for spelling fixes and suggestions: built at the first question that needs them.
    vocabulary: std::cell::OnceCell<Vec<String>>,
    /// Each metric's words (phrases and description), for the closest metrics: built when first needed.
    metric_words: std::cell::OnceCell<Vec<Vec<String>>>,
}

impl<'a> Context<'a> {
    /// Prepares the phrases of the catalog and values (once for any number of questions).
    pub fn new(catalog: &'a [MetricDef], values: &'a BTreeMap<String, Vec<String>>, today: NaiveDate) -> Self {
        Context {
            catalog,
            values,
            today,
            pin_relative: false,
            phrases: reader::Phrases::new(catalog, values),
            vocabulary: std::cell::OnceCell::new(),
            metric_words: std::cell::OnceCell::new(),
        }
    }
}

/// Rewrites a relative `{"last": "N unit"}` date range as dates: from `today` minus N units up to and
/// including `today`.
fn pin(spec: &mut Value, today: NaiveDate) {
    let Some(last) = spec.pointer("/date_range/last").and_then(Value::as_str).map(String::from) else { return };
    let mut parts = last.split_whitespace();
    let n: i64 = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let unit = parts.next().unwrap_or("days").trim_end_matches('s');
    let months = |m: i64| today.checked_sub_months(chrono::Months::new(m as u32));
    let from = match unit {
        "day" => today.checked_sub_signed(chrono::Duration::days(n)),
        "week" => today.checked_sub_signed(chrono::Duration::days(7 * n)),
        "month" => months(n),
        "quarter" => months(3 * n),
        _ => months(12 * n),
    };
    let (Some(from), Some(to)) = (from, today.succ_opt()) else { return };
    let field = spec["date_range"].get("field").cloned();
    let mut range = json!({"from": from.format("%Y-%m-%d").to_string(), "to": to.format("%Y-%m-%d").to_string()});
    if let Some(f) = field {
        range["field"] = f;
    }
    spec["date_range"] = range;
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// What this interpretation means, in words.
    pub description: String,
    /// The spec it stands for (valid for the catalog), if it makes one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Clarification {
    pub reason: String,
    pub candidates: Vec<Candidate>,
    /// Why the translator asks back (not in the answer: hybrid mode goes by it).
    #[serde(skip)]
    pub doubt: Doubt,
}

/// Why the builtin translator asks back. Only words it does not know are worth a model's reading: a
/// question it read whole is vague, ambiguous, outside the data or not answerable as asked, and a model
/// would only guess.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Doubt {
    /// Words it does not know (a model may know them).
    UnknownWords,
    /// It read the whole question.
    #[default]
    Understood,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Translation {
    /// A spec that `spec::parse` accepts for the catalog.
    Spec(Value),
    Clarify(Clarification),
}

/// Translates a question. Deterministic: the same question, catalog, values and day give the same
/// answer.
pub fn translate(question: &str, ctx: &Context) -> Translation {
    if question.trim().is_empty() {
        return clarify("the question is empty", vec![]);
    }
    if question.len() > MAX_QUESTION {
        return clarify(&format!("the question is {} bytes long; ask in at most {MAX_QUESTION}", question.len()), vec![]);
    }
    let normalized = reader::normalize(question);
    if let Some(reason) = scope::refusal(&normalized) {
        return clarify(reason, vec![]);
    }
    // "issues about login timeouts": the topic is a similar_to; the rest is read as any question.
    let (rest, topic) = topic::take(&normalized, ctx.today);
    // "bugs about security" with a label "security": the label is the exact reading, if it reads.
    if topic.as_ref().is_some_and(|t| ctx.values.values().flatten().any(|v| v.eq_ignore_ascii_case(t))) {
        if let Ok(spec) = attempt(&normalized, ctx) {
            return Translation::Spec(spec);
        }
    }
    if let Some(key) = topic.as_deref().filter(|t| topic::is_issue_key(t)) {
        return clarify(
            &format!(
                "\"{key}\" is an issue key; the issues like it are SELECT * FROM analytics_similar_to_issue('{}')",
                key.to_uppercase()
            ),
            vec![],
        );
    }
    match attempt(&rest, ctx) {
        Ok(spec) => match with_topic(spec, topic.as_deref(), ctx) {
            Ok(spec) => Translation::Spec(spec),
            Err(reason) => clarify(&reason, vec![]),
        },
        Err(failure) => {
            let (mut unsure, reading, text) = *failure;
            let candidates = candidates(&unsure, &reading, &text, ctx)
                .into_iter()
                .filter_map(|mut c| {
                    c.spec = Some(with_topic(c.spec?, topic.as_deref(), ctx).ok()?);
                    Some(c)
                })
                .collect();
            let mut doubt = if reading.unknown.is_empty() { Doubt::Understood } else { Doubt::UnknownWords };
            // A team, project or epic the data does not have: no other reading would find it.
            if let Some(reason) = ground::unknown_name(&reading.raw, &reading.unknown, ctx.values) {
                unsure.reason = reason;
                doubt = Doubt::Understood;
            }
            // A question about the future that is no forecast: other words would not make it one.
            if forecast::said(&forecast::take(&normalized).1) && doubt == Doubt::UnknownWords {
                unsure.reason = format!("{}; and only the forecasts (forecast_items, forecast_date) look ahead", unsure.reason);
                doubt = Doubt::Understood;
            }
            Translation::Clarify(Clarification { reason: unsure.reason, candidates, doubt })
        }
    }
}

/// The spec restricted to the issues nearest in meaning to the topic, if the question has one; the
/// validation error when the spec cannot have one (sprint metrics, as_of series).
fn with_topic(mut spec: Value, topic: Option<&str>, ctx: &Context) -> Result<Value, String> {
    let Some(topic) = topic else { return Ok(spec) };
    spec["similar_to"] = json!({"text": topic});
    match parse(&spec, ctx.catalog) {
        Ok(_) => Ok(spec),
        Err(errors) => Err(format!(
            "the question asks about issues like \"{topic}\", but {}",
            errors.first().map(|e| e.message.clone()).unwrap_or_else(|| "the spec cannot say so".into())
        )),
    }
}

/// What the translator recognises in a question, as data (for a model to build on, in hybrid mode): the
/// metrics, dimensions, values and period it found, and the words it does not know.
pub fn reading(question: &str, ctx: &Context) -> Value {
    let (text, topic) = topic::take(&reader::normalize(question), ctx.today);
    let (period, rest) = match period::find(&text, ctx.today) {
        Some((p, r)) => (Some(p), format!("{} , {}", &text[..r.start], &text[r.end..])),
        None => (None, text.clone()),
    };
    let r = reader::read(&rest, &ctx.phrases, ctx.values);
    let mut metrics = Vec::new();
    let mut dimensions = Vec::new();
    let mut values = Vec::new();
    for f in &r.found {
        match &f.item {
            reader::Item::Metric(m) => metrics.push(json!(ctx.catalog[*m].name)),
            reader::Item::Dim { dim, .. } => dimensions.push(json!(dim.trim_start_matches('@'))),
            reader::Item::Value { dim, value, negated } => values.push(json!({"dimension": dim, "value": value, "negated": negated})),
            _ => {}
        }
    }
    let period = match period {
        Some(period::Period::Range { range, .. }) => range,
        Some(period::Period::Sprints(n)) => json!({"last_sprints": n}),
        Some(period::Period::CurrentSprint) => json!("the active sprint"),
        None => Value::Null,
    };
    let mut out = json!({"metrics": metrics, "dimensions": dimensions, "values": values, "period": period, "unknown_words": r.unknown});
    if let Some(t) = topic {
        out["similar_to"] = json!(t);
    }
    out
}

fn clarify(reason: &str, candidates: Vec<Candidate>) -> Translation {
    Translation::Clarify(Clarification { reason: reason.to_string(), candidates, doubt: Doubt::Understood })
}

type Failure = Box<(build::Unsure, reader::Reading, String)>;

/// One translation of normalized text; on failure, also the reading and the text without its period.
/// A hyphenated word the reading does not know ("in-progress", "high-priority") is read as its parts
/// (a known hyphenated value such as the label "tech-debt" is known, so it stays whole).
fn attempt(text: &str, ctx: &Context) -> Result<Value, Failure> {
    let first = attempt_split(text, ctx);
    let Err(failure) = &first else { return first };
    // Typing slips: each unknown word with exactly one correction, all at once; kept only if the
    // corrected question translates.
    let vocabulary = vocabulary(ctx);
    let mut corrected = text.to_string();
    let mut any = false;
    for w in &failure.1.unknown {
        if let Some(c) = spelling::correction(w, vocabulary) {
            corrected = replace_word(&corrected, w, &c);
            any = true;
        }
    }
    if !any {
        return first;
    }
    match attempt_split(&corrected, ctx) {
        Ok(spec) => Ok(spec),
        Err(_) => first,
    }
}

/// [`attempt_once`], and again with unknown hyphenated words read as their parts.
fn attempt_split(text: &str, ctx: &Context) -> Result<Value, Failure> {
    let first = attempt_once(text, ctx);
    let Err(failure) = &first else { return first };
    let hyphenated: Vec<&String> = failure.1.unknown.iter().filter(|w| w.contains('-')).collect();
    if hyphenated.is_empty() {
        return first;
    }
    let mut split = text.to_string();
    for w in hyphenated {
        split = replace_word(&split, w, &w.replace('-', " "));
    }
    match attempt_once(&split, ctx) {
        Ok(spec) => Ok(spec),
        Err(f) if f.1.unknown.len() < failure.1.unknown.len() => Err(f),
        Err(_) => first,
    }
}

fn attempt_once(text: &str, ctx: &Context) -> Result<Value, Failure> {
    // The shape is read off the question as asked (forecast counts such as "5 tickets" are taken out below).
    let shape = list::intent(text);
    let (hist_text, histogram) = refine::take_histogram(text);
    let (days_text, days) = refine::take_days(&hist_text);
    let (ahead_text, ahead) = forecast::take(&days_text);
    let statuses = ctx.values.get("status").map(Vec::as_slice).unwrap_or_default();
    let (dwell_text, dwell_in) = dwell::take(&ahead_text, statuses);
    let text = dwell_text.as_str();
    let (period, rest) = match period::find(text, ctx.today) {
        Some((p, r)) => (Some(p), format!("{} , {}", &text[..r.start], &text[r.end..])),
        None => (None, text.to_string()),
    };
    let reading = reader::read(&rest, &ctx.phrases, ctx.values);
    let mut implied = false;
    let built = build::build_for(&reading, &period, ctx.catalog, shape.rows)
        .or_else(|u| {
            // A list, or "how many issues ...", that names no metric: the issues its filters select.
            let no_metric = !reading.found.iter().any(|f| matches!(f.item, reader::Item::Metric(_)));
            match ((shape.rows || list::counts_rows(text)) && no_metric, list::implied_metric(&reading, ctx.catalog)) {
                (true, Some(with)) if reading.unknown.is_empty() => {
                    implied = true;
                    build::build_for(&with, &period, ctx.catalog, shape.rows)
                }
                _ => Err(u),
            }
        })
        .and_then(|mut b| {
            let unsure = |reason| build::Unsure { reason, partial: None };
            forecast::apply(&mut b.spec, &ahead).map_err(unsure)?;
            dwell::apply(&mut b.spec, &dwell_in).map_err(unsure)?;
            refine::histogram(&mut b.spec, histogram, ctx.catalog).map_err(unsure)?;
            refine::days(&mut b.spec, days, ctx.catalog).map_err(unsure)?;
            match list::to_list(&b.spec, shape, ctx.catalog) {
                Some(l) => b.spec = l,
                None => refine::statuses_as_parameter(&mut b.spec, implied),
            }
            Ok(b)
        });
    match built {
        Ok(mut b) => match parse(&b.spec, ctx.catalog) {
            Ok(_) => {
                if ctx.pin_relative {
                    pin(&mut b.spec, ctx.today);
                }
                Ok(b.spec)
            }
            Err(errors) => {
                let reason = errors.first().map(|e| e.message.clone()).unwrap_or_else(|| "the spec is not valid".into());
                Err(Box::new((build::Unsure { reason, partial: None }, reading, text.to_string())))
            }
        },
        Err(u) => Err(Box::new((u, reading, text.to_string()))),
    }
}

/// Interpretations to offer when a question could not be mapped: spelling fixes for unknown words, the
/// question without them, the closest metrics when none was named, a period the metric supports.
fn candidates(unsure: &build::Unsure, reading: &reader::Reading, text: &str, ctx: &Context) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    let add = |description: String, spec: Value, out: &mut Vec<Candidate>| {
        if out.len() < 5 && !out.iter().any(|c| c.spec.as_ref() == Some(&spec)) {
            out.push(Candidate { description, spec: Some(spec) });
        }
    };
    let retry = |t: &str| attempt(t, ctx).ok();

    if !reading.unknown.is_empty() {
        let vocabulary = vocabulary(ctx);
        for raw in &reading.unknown {
            for s in did_you_mean(raw, vocabulary.iter().map(String::as_str), 2) {
                if let Some(spec) = retry(&replace_word(text, raw, &s)) {
                    add(format!("\"{s}\" instead of \"{raw}\""), spec, &mut out);
                }
            }
        }
        let mut without = text.to_string();
        for raw in &reading.unknown {
            without = replace_word(&without, raw, "");
        }
        if let Some(spec) = retry(&without) {
            let words: Vec<String> = reading.unknown.clone();
            add(format!("ignoring {}", build::quoted(&words)), spec, &mut out);
        }
    } else if !reading.found.iter().any(|f| matches!(f.item, reader::Item::Metric(_))) {
        for m in closest_metrics(reading, ctx) {
            let def = &ctx.catalog[m];
            if let Some(spec) = retry(&format!("{text} , {}", def.name)) {
                add(format!("{}: {}", def.display_name, def.description), spec, &mut out);
            }
        }
    }
    for (value, dims) in &reading.ambiguous {
        // "frontend" as a label or as a component: say which, by naming the dimension after it.
        for d in dims {
            let word = d.replace('_', " ");
            if let Some(spec) = retry(&text.replacen(value.as_str(), &format!("{value} {word}"), 1)) {
                add(format!("\"{value}\" as a {word}"), spec, &mut out);
            }
        }
    }
    if let Some(range) = &unsure.partial {
        // "last 6 sprints" for an issue metric: the same span in weeks.
        if let Some(p) = period::find(text, ctx.today) {
            let weeks = range.get("last").and_then(Value::as_str).unwrap_or("12 weeks").to_string();
            let t = format!("{} in the last {weeks} {}", &text[..p.1.start], &text[p.1.end..]);
            if let Some(spec) = retry(&t) {
                add(format!("the last {weeks} instead"), spec, &mut out);
            }
        }
    }
    out
}

fn replace_word(text: &str, word: &str, with: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let core = part.trim_matches(|c: char| !c.is_alphanumeric());
        if core == word {
            out.push_str(&part.replacen(core, with, 1));
        } else {
            out.push_str(part);
        }
    }
    out
}

/// Every word the translator knows, as written, for spelling suggestions.
/// The known words of [`vocabulary_of`], built once per context.
fn vocabulary<'c>(ctx: &'c Context) -> &'c [String] {
    ctx.vocabulary.get_or_init(|| vocabulary_of(ctx))
}

fn vocabulary_of(ctx: &Context) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for def in ctx.catalog {
        v.push(def.name.clone());
        for s in &def.synonyms {
            v.extend(s.split_whitespace().map(str::to_lowercase));
        }
    }
    for vals in ctx.values.values() {
        for x in vals {
            v.extend(x.split_whitespace().map(str::to_lowercase));
        }
    }
    v.extend(lexicon::DIMENSION_WORDS.iter().map(|(w, _)| w.to_string()));
    v.extend(lexicon::RANK_WORDS.iter().map(|(w, _)| w.to_string()));
    v.extend(lexicon::AGGREGATION_WORDS.iter().map(|(w, _)| w.to_string()));
    v.retain(|w| w.len() > 2);
    v.sort();
    v.dedup();
    v
}

/// Up to 3 metrics whose words are closest to the question's words.
fn closest_metrics(reading: &reader::Reading, ctx: &Context) -> Vec<usize> {
    let content: Vec<&String> = reading.words.iter().filter(|w| !lexicon::is_filler(w) && w.len() > 2).collect();
    let metric_words = ctx.metric_words.get_or_init(|| {
        ctx.catalog
            .iter()
            .map(|def| {
                let mut words: Vec<String> = reader::metric_phrases(def).into_iter().flatten().collect();
                words.extend(text::tokens(&def.description).into_iter().filter(|w| w.len() > 3));
                words.sort();
                words.dedup();
                words
            })
            .collect()
    });
    let mut scored: Vec<(f64, usize)> = metric_words
        .iter()
        .enumerate()
        .map(|(i, words)| {
            let score: f64 =
                content.iter().map(|q| words.iter().map(|w| strsim::jaro_winkler(q, w)).fold(0.0, f64::max)).filter(|s| *s >= 0.85).sum();
            (score, i)
        })
        .filter(|(s, _)| *s > 0.0)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(3).map(|(_, i)| i).collect()
}

/// The answer as JSON: `{"status": "answered", "spec"}` or `{"status": "clarification_needed",
/// "clarification": {"reason", "candidates"}}`.
pub fn to_json(t: &Translation) -> Value {
    match t {
        Translation::Spec(s) => json!({"status": "answered", "spec": s}),
        Translation::Clarify(c) => json!({"status": "clarification_needed", "clarification": c}),
    }
}
