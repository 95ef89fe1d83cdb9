//! Words: lower-case tokens reduced to their stem with the Snowball English stemmer (so "closed",
//! "close" and "closing" or "stories" and "story" are the same word), and phrase search over them.

use rust_stemmers::{Algorithm, Stemmer};
use std::sync::OnceLock;

fn stemmer() -> &'static Stemmer {
    static S: OnceLock<Stemmer> = OnceLock::new();
    S.get_or_init(|| Stemmer::create(Algorithm::English))
}

/// The stem of one word (lower-cased). Words with digits, dots or underscores (keys, user names,
/// metric names) are kept as they are.
pub fn stem(w: &str) -> String {
    let w = w.to_lowercase();
    if w.chars().any(|c| c.is_ascii_digit() || c == '.' || c == '_') {
        return w;
    }
    stemmer().stem(&w).into_owned()
}

/// Splits a text into stemmed tokens; letters, digits, '-', '.', '_' and '/' stay inside a token
/// (dates, keys, user names), other characters separate.
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '.' || c == '_' || c == '/'))
        .map(|t| t.trim_matches(|c: char| c == '.' || c == '-' || c == '/'))
        .filter(|t| !t.is_empty())
        .map(stem)
        .collect()
}

/// Positions where `phrase` (already tokenized) occurs in `words`.
pub fn find(words: &[String], phrase: &[String]) -> Vec<usize> {
    if phrase.is_empty() || phrase.len() > words.len() {
        return vec![];
    }
    (0..=words.len() - phrase.len()).filter(|&i| words[i..i + phrase.len()] == *phrase).collect()
}

/// Occurrences of `phrase` whose words may be separated by up to `max_gap` words for which `skip`
/// holds ("bugs were reported" for "bugs reported"): the positions of the phrase's own words.
pub fn find_loose(words: &[String], phrase: &[String], max_gap: usize, skip: impl Fn(&str) -> bool) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    if phrase.is_empty() {
        return out;
    }
    for start in (0..words.len()).filter(|&i| words[i] == phrase[0]) {
        let mut pos = vec![start];
        let mut i = start + 1;
        for p in &phrase[1..] {
            let mut gap = 0;
            while i < words.len() && words[i] != *p && gap < max_gap && skip(&words[i]) {
                i += 1;
                gap += 1;
            }
            if i < words.len() && words[i] == *p {
                pos.push(i);
                i += 1;
            } else {
                break;
            }
        }
        if pos.len() == phrase.len() {
            out.push(pos);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stemmed_and_keep_keys() {
        assert_eq!(tokens("How many Bugs, per Sprint? (PAY-12)"), vec!["how", "mani", "bug", "per", "sprint", "pay-12"]);
        assert_eq!(tokens("stories vs story; closed, close; alice.ng's"), vec!["stori", "vs", "stori", "close", "close", "alice.ng", "s"]);
        assert_eq!(find(&tokens("lead time of bugs"), &tokens("lead time")), vec![0]);
        let skip = |w: &str| matches!(w, "were" | "we");
        assert_eq!(find_loose(&tokens("bugs were reported"), &tokens("bugs reported"), 2, skip), vec![vec![0, 2]]);
        assert!(find_loose(&tokens("bugs nobody reported"), &tokens("bugs reported"), 2, skip).is_empty());
    }
}
