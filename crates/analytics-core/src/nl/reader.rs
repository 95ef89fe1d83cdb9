//! Reading a question: every phrase the translator knows (metric names and synonyms, values from the
//! tenant's data, dimension, ranking, aggregation and negation words) is found in the question's words,
//! and the longest non-overlapping phrases win. What is left over is either filler or a word the
//! translator does not understand.

use super::lexicon::*;
use super::text::{find, find_loose, stem};
use crate::catalog::MetricDef;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// What a phrase of the question means.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A metric (index into the active catalog).
    Metric(usize),
    /// A filter value of a dimension, as stored; `!done` for status_category means "not done".
    Value {
        dim: String,
        value: String,
        negated: bool,
    },
    /// A dimension word; `@week` etc. for date intervals. `cued`: a grouping cue is part of the phrase.
    Dim {
        dim: &'static str,
        cued: bool,
    },
    /// An interval adjective: "weekly", "over time" (`trend` for "trend" words).
    Interval(&'static str),
    Rank(&'static str),
    Agg(&'static str),
    /// "created", "resolved" next to another metric: which date the period applies to.
    DateField(&'static str),
    Negation,
    Cue,
    Number(u32),
}

impl Item {
    /// Among phrases of the same length, the kind that wins.
    fn rank(&self) -> u8 {
        match self {
            Item::Metric(_) => 0,
            Item::Value { .. } => 1,
            Item::Interval(_) => 2,
            Item::Agg(_) => 3,
            Item::Rank(_) => 4,
            Item::Dim { .. } => 5,
            Item::DateField(_) => 6,
            Item::Negation => 7,
            Item::Cue => 8,
            Item::Number(_) => 9,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// Positions of the question's words that make this phrase (in order; gaps are filler).
    pub at: Vec<usize>,
    pub item: Item,
    /// Whether it is implied by another phrase (a metric synonym such as "worst sprints").
    pub implied: bool,
}

impl Found {
    pub fn start(&self) -> usize {
        self.at[0]
    }
    pub fn end(&self) -> usize {
        self.at[self.at.len() - 1] + 1
    }
    fn new(at: Vec<usize>, item: Item) -> Self {
        Found { at, item, implied: false }
    }
}

/// The question's words and the phrases chosen.
#[derive(Debug, Clone)]
pub struct Reading {
    /// Stemmed words.
    pub words: Vec<String>,
    /// Words as written (lower case), for singular/plural and messages.
    pub raw: Vec<String>,
    /// Chosen phrases, in question order.
    pub found: Vec<Found>,
    /// Words that are part of no phrase and are not filler (as written).
    pub unknown: Vec<String>,
    /// Values found in more than one dimension ("frontend": a label and a component): the words as
    /// written and the dimensions.
    pub ambiguous: Vec<(String, Vec<String>)>,
}

/// Lower case, "non-bug" -> "non bug", number words -> digits, "&" -> "and".
pub fn normalize(question: &str) -> String {
    let lower = question.to_lowercase().replace('&', " and ").replace("non-", "non ").replace('\u{2019}', "'");
    let parts: Vec<&str> = lower.split(' ').collect();
    let mut out = Vec::with_capacity(parts.len());
    for (i, w) in parts.iter().enumerate() {
        let prev = if i > 0 { parts[i - 1] } else { "" };
        match number_word(w) {
            Some(1) if !matches!(prev, "last" | "past" | "top" | "bottom" | "previous") => out.push(w.to_string()),
            Some(n) => out.push(n.to_string()),
            None => out.push(w.to_string()),
        }
    }
    let mut text = format!(" {} ", out.join(" "));
    // The past participle is an event ("bugs opened last week"), never the state "open".
    text = text.replace(" opened ", " created ");
    for (name, reading) in super::lexicon::REPORT_NAMES {
        text = text.replace(&format!(" {name} "), &format!(" {reading} "));
    }
    text.trim().to_string()
}

/// Splits text into (raw, stemmed) words like [`super::text::tokens`].
pub fn words(text: &str) -> (Vec<String>, Vec<String>) {
    let raw: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '.' || c == '_' || c == '/'))
        .map(|t| t.trim_matches(|c: char| c == '.' || c == '-' || c == '/').to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    let stemmed = raw.iter().map(|w| stem(w)).collect();
    (raw, stemmed)
}

static RANKS: OnceLock<Vec<(String, &'static str)>> = OnceLock::new();
static DIMS: OnceLock<Vec<(String, &'static str)>> = OnceLock::new();

/// A word list with each word stemmed, made once.
fn stemmed_pairs(
    list: &'static [(&'static str, &'static str)],
    cell: &'static OnceLock<Vec<(String, &'static str)>>,
) -> &'static [(String, &'static str)] {
    cell.get_or_init(|| list.iter().map(|(w, x)| (stem(w), *x)).collect())
}

pub fn phrase(text: &str) -> Vec<String> {
    words(text).1
}

/// The phrases that name each active metric: its name, display name and synonyms.
pub fn metric_phrases(def: &MetricDef) -> Vec<Vec<String>> {
    let mut out = vec![phrase(&def.name.replace('_', " ")), vec![def.name.clone()], phrase(&def.display_name)];
    out.extend(def.synonyms.iter().map(|s| phrase(s)));
    out.retain(|p| !p.is_empty());
    out.sort();
    out.dedup();
    out
}

/// Words naming a dimension right next to a value make it a filter on that dimension
/// ("high priority", "label backend", "in review").
fn cue_words(dim: &str) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = DIMENSION_WORDS.iter().filter(|(_, d)| *d == dim).map(|(w, _)| phrase(w)).collect();
    match dim {
        "status" | "status_category" => out.push(vec!["in".into()]),
        "assignee" => out.push(phrase("assigned to")),
        "label" => out.extend([phrase("labeled"), phrase("labelled"), phrase("tagged")]),
        _ => {}
    }
    out
}

/// Phrases for one stored value: its words, and for people (`alice.ng`) the name parts and first name.
fn value_phrases(dim: &str, value: &str, all: &[String]) -> Vec<Vec<String>> {
    let mut out = vec![phrase(value)];
    if matches!(dim, "assignee" | "reporter") && value.contains(['.', '_']) {
        let parts: Vec<String> = value.split(['.', '_', ' ']).filter(|p| !p.is_empty()).map(stem).collect();
        let first = parts.first().cloned().unwrap_or_default();
        out.push(parts);
        let first_of = |v: &String| v.split(['.', '_', ' ']).next().map(stem);
        if first.len() > 2 && all.iter().filter(|v| first_of(v).as_deref() == Some(first.as_str())).count() == 1 {
            out.push(vec![first]);
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

fn push_all(found: &mut Vec<Found>, words: &[String], p: &[String], item: Item) {
    for start in find(words, p) {
        found.push(Found::new((start..start + p.len()).collect(), item.clone()));
    }
}

/// Value candidates. A value spelled only with common words counts only with its dimension named next
/// to it (`alias` values are deliberate and need no cue); a dimension word next to a value is part of it.
fn push_value(found: &mut Vec<Found>, words: &[String], dim: &str, p: &[String], value: &str, alias: bool, cues: &[Vec<String>]) {
    let common = !alias && ((p.len() == 1 && is_common(&p[0])) || p == ["to", "do"]);
    for start in find(words, p) {
        let end = start + p.len();
        let before = cues.iter().find(|c| start >= c.len() && words[start - c.len()..start] == c[..]);
        let after = cues.iter().find(|c| c[0] != "in" && end + c.len() <= words.len() && words[end..end + c.len()] == c[..]);
        if before.is_none() && after.is_none() && common {
            continue;
        }
        let s = before.map_or(start, |b| start - b.len());
        let e = after.map_or(end, |a| end + a.len());
        found.push(Found::new((s..e).collect(), Item::Value { dim: dim.to_string(), value: value.to_string(), negated: false }));
    }
}

/// Whether a written word is `word` or its plural.
fn is_plural_of(written: &str, word: &str) -> bool {
    written == word
        || written.strip_suffix('s').is_some_and(|w| w == word)
        || written.strip_suffix("es").is_some_and(|w| w == word)
        || (word.ends_with('y') && written.strip_suffix("ies").is_some_and(|w| w == &word[..word.len() - 1]))
        || (word == "person" && written == "people")
}

/// The phrases to look for, prepared once per catalog and set of values: metric names and synonyms,
/// values and their aliases, and the fixed vocabulary, all stemmed.
#[derive(Debug, Clone, Default)]
pub struct Phrases {
    metrics: Vec<(usize, Vec<String>)>,
    /// (dimension, value as stored, phrase, alias)
    values: Vec<(String, String, Vec<String>, bool)>,
    cues: BTreeMap<String, Vec<Vec<String>>>,
}

fn fixed() -> &'static [(Vec<String>, Item)] {
    static F: std::sync::OnceLock<Vec<(Vec<String>, Item)>> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let mut f = Vec::new();
        f.extend(INTERVAL_WORDS.iter().map(|(w, i)| (phrase(w), Item::Interval(i))));
        f.extend(RANK_WORDS.iter().map(|(w, r)| (phrase(w), Item::Rank(r))));
        f.extend(AGGREGATION_WORDS.iter().map(|(w, a)| (phrase(w), Item::Agg(a))));
        f.extend(NEGATIONS.iter().chain(&["non"]).chain(NEGATION_PHRASES).map(|w| (phrase(w), Item::Negation)));
        f.extend(GROUP_CUES.iter().map(|w| (phrase(w), Item::Cue)));
        f
    })
}

impl Phrases {
    pub fn new(catalog: &[MetricDef], values: &BTreeMap<String, Vec<String>>) -> Self {
        let mut p = Phrases::default();
        for (i, def) in catalog.iter().enumerate() {
            p.metrics.extend(metric_phrases(def).into_iter().map(|ph| (i, ph)));
        }
        for (dim, vals) in values {
            for v in vals {
                for ph in value_phrases(dim, v, vals) {
                    p.values.push((dim.clone(), v.clone(), ph, false));
                }
            }
            p.cues.insert(dim.clone(), cue_words(dim));
        }
        for (dim, alias, value) in VALUE_ALIASES {
            let known = *dim == "status_category" || values.get(*dim).is_some_and(|vs| vs.iter().any(|v| v == value));
            if known {
                p.values.push((dim.to_string(), value.to_string(), phrase(alias), true));
                p.cues.entry(dim.to_string()).or_insert_with(|| cue_words(dim));
            }
        }
        p
    }
}

/// Every candidate phrase in the question.
fn candidates(raw: &[String], words: &[String], phrases: &Phrases) -> Vec<Found> {
    let mut cands: Vec<Found> = Vec::new();
    for (i, p) in &phrases.metrics {
        if p.len() == 1 {
            push_all(&mut cands, words, p, Item::Metric(*i));
        } else {
            // "bugs were reported" is "bugs reported".
            for at in find_loose(words, p, 2, |w| is_filler(w) && !is_group_cue(w)) {
                cands.push(Found::new(at, Item::Metric(*i)));
            }
        }
    }
    for (dim, value, p, alias) in &phrases.values {
        if words.contains(&p[0]) {
            push_value(&mut cands, words, dim, p, value, *alias, &phrases.cues[dim]);
        }
    }
    for (w, d) in DIMENSION_WORDS {
        // Dimension words are matched as written (plural allowed), not by stem: "reported" is no "reporter".
        let p: Vec<&str> = w.split(' ').collect();
        for start in 0..raw.len() {
            if start + p.len() > raw.len() || !p.iter().enumerate().all(|(k, x)| is_plural_of(&raw[start + k], x)) {
                continue;
            }
            // "by epic": the cue belongs to the dimension word, which then beats a value "Epic".
            let cued = start > 0 && is_group_cue(&words[start - 1]);
            let s = if cued { start - 1 } else { start };
            cands.push(Found::new((s..start + p.len()).collect(), Item::Dim { dim: d, cued }));
        }
    }
    for (p, item) in fixed() {
        push_all(&mut cands, words, p, item.clone());
    }
    for (i, w) in words.iter().enumerate() {
        if let Ok(n) = w.parse::<u32>() {
            cands.push(Found::new(vec![i], Item::Number(n)));
        }
    }
    cands
}

/// Single words that, next to another metric, say which date a period applies to.
fn date_word(w: &str) -> Option<&'static str> {
    match w {
        "creat" | "report" | "file" | "rais" => Some("created_at"),
        "resolv" | "close" | "finish" | "complet" | "fix" | "deliv" => Some("resolved_at"),
        _ => None,
    }
}

/// Non-overlapping phrases, best first, leaving out `skip`; in question order.
fn select(cands: &[Found], words: &[String], skip: Option<&Found>) -> Vec<Found> {
    let mut used = vec![false; words.len()];
    let mut found: Vec<Found> = Vec::new();
    for c in cands {
        if Some(c) == skip || c.at.iter().any(|&i| used[i]) {
            continue;
        }
        c.at.iter().for_each(|&i| used[i] = true);
        found.push(c.clone());
    }
    found.sort_by_key(Found::start);
    found
}

/// How many words a choice leaves unexplained (not filler, in no phrase).
fn unexplained(found: &[Found], words: &[String]) -> usize {
    (0..words.len()).filter(|&i| !is_filler(&words[i]) && !found.iter().any(|f| f.at.contains(&i))).count()
}

/// Finds every known phrase in the question and keeps the best non-overlapping ones.
pub fn read(text: &str, phrases: &Phrases, values: &BTreeMap<String, Vec<String>>) -> Reading {
    let (raw, words) = words(text);
    let mut cands = candidates(&raw, &words, phrases);

    // Most words first (then the tightest span); among equals, metrics before values before the rest.
    cands.sort_by(|a, b| {
        b.at.len()
            .cmp(&a.at.len())
            .then((a.end() - a.start()).cmp(&(b.end() - b.start())))
            .then(a.item.rank().cmp(&b.item.rank()))
            .then(a.start().cmp(&b.start()))
    });
    // Greedy choice; when it leaves words unexplained, also try it without each long phrase it took
    // ("removed points per sprint": "points per sprint" must not eat the "points" of "removed points").
    let mut found = select(&cands, &words, None);
    let mut best = unexplained(&found, &words);
    if best > 0 {
        let taken: Vec<Found> = found.iter().filter(|f| f.at.len() > 1).cloned().collect();
        for skip in &taken {
            let other = select(&cands, &words, Some(skip));
            let n = unexplained(&other, &words);
            if n < best {
                best = n;
                found = other;
            }
        }
    }

    let metric_count = |found: &[Found]| {
        let mut m: Vec<usize> = found.iter().filter_map(|f| if let Item::Metric(m) = f.item { Some(m) } else { None }).collect();
        m.sort();
        m.dedup();
        m.len()
    };
    // A word that is both a metric and a value ("bugs", "in progress", "open") is the value when another
    // metric is asked for: "lead time of bugs" is lead time filtered to bugs. When every metric word
    // could be a value, the last one (the noun: "open bugs") stays the metric.
    if metric_count(&found) > 1 {
        let alternatives: Vec<(usize, Found)> = found
            .iter()
            .enumerate()
            .filter(|(_, f)| matches!(f.item, Item::Metric(_)))
            .filter_map(|(i, f)| cands.iter().find(|c| c.at == f.at && matches!(c.item, Item::Value { .. })).map(|c| (i, c.clone())))
            .collect();
        let all = alternatives.len() == found.iter().filter(|f| matches!(f.item, Item::Metric(_))).count();
        // When every metric word could be a value, a kind of issue ("bugs") stays the metric over a state
        // ("open bugs", "bugs still open"); otherwise the last one (the noun) does.
        let keep = all.then(|| {
            let kinds: Vec<usize> = (0..alternatives.len())
                .filter(|&k| matches!(&alternatives[k].1.item, Item::Value { dim, .. } if dim == "issue_type"))
                .collect();
            if kinds.len() == 1 {
                kinds[0]
            } else {
                alternatives.len() - 1
            }
        });
        for (k, (i, alt)) in alternatives.into_iter().enumerate() {
            if Some(k) != keep {
                found[i] = alt;
            }
        }
    }
    // "lead time of issues created in March": "(issues) created" says which date, not what to measure,
    // when another metric says what to measure.
    if metric_count(&found) > 1 {
        let date_of = |f: &Found| -> Option<&'static str> {
            if !matches!(f.item, Item::Metric(_)) {
                return None;
            }
            let content: Vec<&String> = f.at.iter().map(|&i| &words[i]).filter(|w| !is_filler(w)).collect();
            match content.as_slice() {
                [w] => date_word(w),
                _ => None,
            }
        };
        let dates: Vec<Option<&'static str>> = found.iter().map(date_of).collect();
        let others = found.iter().zip(&dates).any(|(f, d)| matches!(f.item, Item::Metric(_)) && d.is_none());
        if others {
            for (f, d) in found.iter_mut().zip(dates) {
                if let Some(field) = d {
                    f.item = Item::DateField(field);
                }
            }
        }
    }

    // Metric synonyms that rank or group ("worst sprints", "problematic sprints") imply those words; a
    // singular one does after a ranking word ("the most problematic sprint").
    let mut implied = Vec::new();
    for (n, f) in found.iter().enumerate() {
        if !matches!(f.item, Item::Metric(_)) {
            continue;
        }
        let ranked = n > 0 && matches!(found[n - 1].item, Item::Rank(_) | Item::Cue) && found[n - 1].end() == f.start();
        for &i in &f.at {
            if let Some((_, r)) = stemmed_pairs(RANK_WORDS, &RANKS).iter().find(|(w, _)| *w == words[i]) {
                implied.push(Found { at: vec![i], item: Item::Rank(r), implied: true });
            }
            if let Some((_, d)) = stemmed_pairs(DIMENSION_WORDS, &DIMS).iter().find(|(w, _)| *w == words[i]) {
                // A plural ("sprints"), not a singular that ends in s ("status", "progress").
                let plural = raw[i].ends_with('s') && !raw[i].ends_with("ss") && !raw[i].ends_with("us");
                if (ranked || plural) && !d.starts_with('@') {
                    implied.push(Found { at: vec![i], item: Item::Dim { dim: d, cued: true }, implied: true });
                }
            }
        }
    }
    found.extend(implied);

    // "high and highest priority": a value that needs a cue borrows the one of the value it is listed with.
    let uncovered = |found: &[Found], i: usize| !found.iter().any(|f| f.at.contains(&i));
    let mut extra = Vec::new();
    for f in &found {
        let Item::Value { dim, .. } = &f.item else { continue };
        let s = f.start();
        if s >= 2 && matches!(words[s - 1].as_str(), "and" | "or") && uncovered(&found, s - 2) {
            if let Some(v) = values.get(dim).and_then(|vs| vs.iter().find(|v| phrase(v) == [words[s - 2].clone()])) {
                extra.push(Found::new(vec![s - 2], Item::Value { dim: dim.clone(), value: v.clone(), negated: false }));
            }
        }
    }
    found.extend(extra);
    found.sort_by_key(Found::start);

    // Negation: a negation word before a value (articles in between) negates it.
    for i in 0..found.len() {
        if found[i].item != Item::Negation {
            continue;
        }
        let mut j = found[i].end();
        while j < words.len() && matches!(words[j].as_str(), "the" | "ani" | "all" | "a" | "an") {
            j += 1;
        }
        if let Some(k) = found.iter().position(|f| f.start() == j && matches!(f.item, Item::Value { .. })) {
            if let Item::Value { negated, .. } = &mut found[k].item {
                *negated = true;
            }
        }
    }
    let unknown = (0..words.len()).filter(|&i| uncovered(&found, i) && !is_filler(&words[i])).map(|i| raw[i].clone()).collect();
    let mut ambiguous = Vec::new();
    for f in &found {
        let Item::Value { dim, .. } = &f.item else { continue };
        let mut dims: Vec<String> = cands
            .iter()
            .filter(|c| c.at == f.at)
            .filter_map(|c| if let Item::Value { dim, .. } = &c.item { Some(dim.clone()) } else { None })
            .collect();
        dims.sort();
        dims.dedup();
        if dims.len() > 1 && dims.contains(dim) {
            ambiguous.push((f.at.iter().map(|&i| raw[i].as_str()).collect::<Vec<_>>().join(" "), dims));
        }
    }
    Reading { words, raw, found, unknown, ambiguous }
}
