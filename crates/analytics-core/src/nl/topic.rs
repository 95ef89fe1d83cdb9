//! Topics: "the reopen rate of issues about login timeouts", "bugs like 'the SSO proxy drops the
//! session'", "tickets related to flaky CI". The issues nearest in meaning to a text, a spec's
//! `similar_to`: its text is taken out of the question before the rest is read.
//!
//! A topic follows an issue noun ("issues", "bugs", "tickets" …) and one of the markers "about", "like",
//! "similar to", "related to", "relating to", "regarding", "concerning", "mentioning", "on the topic
//! of". It is the quoted text after the marker or, unquoted, the words up to the end of the clause: a
//! comma or question mark, the period ("last quarter"), or a word that starts another part of the
//! question ("by", "per", "were", "closed", "in project" …).

use super::period;
use chrono::NaiveDate;

/// Nouns a topic may follow (what the spec counts or lists: issues).
const NOUNS: &[&str] = &[
    "issue",
    "issues",
    "bug",
    "bugs",
    "ticket",
    "tickets",
    "story",
    "stories",
    "task",
    "tasks",
    "item",
    "items",
    "defect",
    "defects",
    "report",
    "reports",
    "problem",
    "problems",
    "incident",
    "incidents",
    "request",
    "requests",
    "ones",
    "those",
    "work",
    "subtasks",
    "subtask",
    "epics",
    "epic",
];

/// Markers, as words, longest first.
const MARKERS: &[&[&str]] = &[
    &["on", "the", "topic", "of"],
    &["similar", "to"],
    &["related", "to"],
    &["relating", "to"],
    &["that", "mention"],
    &["which", "mention"],
    &["about"],
    &["like"],
    &["regarding"],
    &["concerning"],
    &["mentioning"],
];

/// Words between the noun and the marker: "bugs that are about", "issues which were similar to".
const LINKS: &[&str] = &["that", "which", "are", "were", "is", "was", "most"];

/// Words that end an unquoted topic: they start another part of the question.
const BOUNDARIES: &[&str] = &[
    "by",
    "per",
    "grouped",
    "group",
    "over",
    "since",
    "during",
    "last",
    "this",
    "past",
    "previous",
    "were",
    "was",
    "are",
    "is",
    "that",
    "which",
    "who",
    "whose",
    "closed",
    "resolved",
    "created",
    "opened",
    "fixed",
    "completed",
    "done",
    "reopened",
    "each",
    "every",
    "from",
    "between",
    "before",
    "after",
    "vs",
    "versus",
    "sorted",
    "ordered",
    "sort",
    "order",
    "top",
    "for",
    "how",
    "what",
    "where",
    "when",
    "compared",
    "with",
    "without",
    "assigned",
    "reported",
    "still",
    "currently",
    "now",
    "today",
    "yesterday",
    "grouping",
    "broken",
    "split",
];

/// After "in", the words that make it a filter ("in project alpha"), not part of the topic ("errors in
/// the login page").
const IN_FILTER: &[&str] =
    &["project", "projects", "board", "boards", "team", "teams", "sprint", "sprints", "status", "epic", "component", "label", "priority"];

const QUOTES: &[(char, char)] = &[('"', '"'), ('\'', '\''), ('\u{201c}', '\u{201d}'), ('\u{2018}', '\u{2019}'), ('«', '»')];

fn clean(w: &str) -> &str {
    w.trim_matches(|c: char| !c.is_alphanumeric())
}

/// Takes the topic out of normalized text: the text without the marker and the topic (the noun
/// stays), and the topic. Text without one comes back as it is.
pub fn take(text: &str, today: NaiveDate) -> (String, Option<String>) {
    let words: Vec<&str> = text.split(' ').collect();
    let period_start = period::find(text, today).map(|(_, r)| r.start);
    // Byte offset of each word, to compare with the period's.
    let mut offsets = Vec::with_capacity(words.len());
    let mut at = 0;
    for w in &words {
        offsets.push(at);
        at += w.len() + 1;
    }
    for i in 1..words.len() {
        let Some(marker) = MARKERS.iter().find(|m| m.iter().enumerate().all(|(k, mw)| words.get(i + k).map(|w| clean(w)) == Some(*mw)))
        else {
            continue;
        };
        // The noun right before the marker, or before "that are", "which were" ….
        let mut n = i;
        while n > 0 && LINKS.contains(&clean(words[n - 1])) && i - n < 2 {
            n -= 1;
        }
        if n == 0 || !NOUNS.contains(&clean(words[n - 1])) {
            continue;
        }
        // A marker word that ends with punctuation ("about," …) starts no topic.
        if words[i + marker.len() - 1].ends_with(|c: char| !c.is_alphanumeric()) {
            continue;
        }
        let start = i + marker.len();
        let Some((topic, end, tail)) = quoted(&words, start).or_else(|| unquoted(&words, start, &offsets, period_start)) else {
            continue;
        };
        let topic = topic.trim();
        let topic = ["the ", "a ", "an "].iter().find_map(|a| topic.strip_prefix(a)).unwrap_or(topic).trim().to_string();
        if !topic.chars().any(char::is_alphanumeric) {
            continue;
        }
        let mut rest: Vec<&str> = words[..n].to_vec();
        if !tail.is_empty() {
            rest.push(tail);
        }
        rest.extend_from_slice(&words[end..]);
        return (rest.join(" ").trim().to_string(), Some(topic));
    }
    (text.to_string(), None)
}

/// The quoted text starting at `words[start]`: (its text, the index after it, punctuation after the
/// closing quote).
fn quoted<'w>(words: &[&'w str], start: usize) -> Option<(String, usize, &'w str)> {
    let first = *words.get(start)?;
    let open = first.chars().next()?;
    let &(_, close) = QUOTES.iter().find(|(o, _)| *o == open)?;
    let first = &first[open.len_utf8()..];
    let mut parts: Vec<&str> = Vec::new();
    for (k, w) in std::iter::once(first).chain(words[start + 1..].iter().copied()).enumerate() {
        // The closing quote ends a word, maybe followed by punctuation ("…'?").
        let trimmed = w.trim_end_matches(|c: char| c.is_ascii_punctuation() && c != close);
        if let Some(inner) = trimmed.strip_suffix(close) {
            parts.push(inner);
            return Some((parts.join(" "), start + k + 1, &w[trimmed.len()..]));
        }
        parts.push(w);
    }
    None
}

/// The words from `words[start]` to the end of the clause: (its text, the index after it, punctuation
/// that ended it).
fn unquoted<'w>(words: &[&'w str], start: usize, offsets: &[usize], period_start: Option<usize>) -> Option<(String, usize, &'w str)> {
    let mut parts: Vec<&str> = Vec::new();
    let mut k = start;
    while k < words.len() {
        let w = words[k];
        let c = clean(w);
        let in_filter = c == "in" && words.get(k + 1).is_some_and(|n| IN_FILTER.contains(&clean(n)));
        if (BOUNDARIES.contains(&c) && !parts.is_empty()) || in_filter || period_start.is_some_and(|p| offsets[k] >= p) {
            break;
        }
        if c.is_empty() {
            // A lone "," or "?".
            break;
        }
        let body = w.trim_end_matches(|c: char| !c.is_alphanumeric());
        parts.push(body);
        k += 1;
        if body.len() < w.len() {
            // "timeouts," or "timeouts?": the clause ends here.
            return Some((parts.join(" "), k, &w[body.len()..]));
        }
    }
    // Little words before the end belong to what follows ("login in the last 30 days").
    while parts.last().is_some_and(|w| GLUE.contains(w)) {
        parts.pop();
        k -= 1;
    }
    if parts.is_empty() {
        None
    } else {
        Some((parts.join(" "), k, ""))
    }
}

/// Words that do not end a topic.
const GLUE: &[&str] = &["in", "the", "of", "a", "an", "and", "or", "on", "at", "to", "during", "within", "into"];

/// An issue key ("alp-12"): similar to an issue, not to a text.
pub fn is_issue_key(topic: &str) -> bool {
    let t = topic.trim();
    match t.split_once('-') {
        Some((p, n)) => {
            !p.is_empty()
                && p.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && p.chars().all(|c| c.is_ascii_alphanumeric())
                && !n.is_empty()
                && n.chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 15).unwrap()
    }

    fn t(text: &str) -> (String, Option<String>) {
        take(text, day())
    }

    #[test]
    fn topics_after_an_issue_noun_and_a_marker() {
        assert_eq!(t("reopen rate of issues about login timeouts"), ("reopen rate of issues".into(), Some("login timeouts".into())));
        assert_eq!(t("list bugs like 'session expires too early'"), ("list bugs".into(), Some("session expires too early".into())));
        assert_eq!(
            t("show me issues similar to \"the sso proxy drops logins\"?"),
            ("show me issues ?".into(), Some("sso proxy drops logins".into()))
        );
        assert_eq!(t("how many tickets related to flaky ci tests"), ("how many tickets".into(), Some("flaky ci tests".into())));
        assert_eq!(t("bugs that are about payment retries"), ("bugs".into(), Some("payment retries".into())));
        assert_eq!(t("issues regarding the export, by priority"), ("issues , by priority".into(), Some("export".into())));
    }

    #[test]
    fn the_topic_ends_where_another_part_of_the_question_starts() {
        assert_eq!(
            t("how many bugs about flaky ci were closed last month"),
            ("how many bugs were closed last month".into(), Some("flaky ci".into()))
        );
        assert_eq!(t("lead time of issues about search by priority"), ("lead time of issues by priority".into(), Some("search".into())));
        assert_eq!(t("issues about login in the last 30 days"), ("issues in the last 30 days".into(), Some("login".into())));
        assert_eq!(t("bugs about errors in the login page"), ("bugs".into(), Some("errors in the login page".into())));
        assert_eq!(t("bugs about crashes in project alpha"), ("bugs in project alpha".into(), Some("crashes".into())));
        assert_eq!(t("issues like 'it doesn't load' this quarter"), ("issues this quarter".into(), Some("it doesn't load".into())));
    }

    #[test]
    fn no_topic_without_an_issue_noun_or_text() {
        for q in [
            "what does our velocity look like",
            "how about the cycle time",
            "velocity about 5 sprints ago",
            "issues about",
            "issues about ?",
            "how many issues were closed last month",
            "what is it like for bugs",
        ] {
            assert_eq!(t(q), (q.to_string(), None), "{q}");
        }
    }

    #[test]
    fn issue_keys() {
        assert!(is_issue_key("alp-12"));
        assert!(is_issue_key("DEEPSE3-4"));
        assert!(!is_issue_key("login"));
        assert!(!is_issue_key("sign-in"));
        assert!(!is_issue_key("12-3"));
    }
}
