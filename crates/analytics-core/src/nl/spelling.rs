//! Typing slips in a question: words run together ("cycletime") and one-letter slips ("veloctiy",
//! "throughtput", "sprnt"). An unknown word is corrected only when exactly one known word (or one pair of
//! known words) fits, and the corrected question must then translate; otherwise the translator asks.

/// The correction of an unknown word, if there is exactly one: two known words it is made of, or the
/// known word one edit away (a swap of neighbours is one edit; two edits for words of 8 letters or more).
/// Words shorter than 5 letters are never corrected ("cost" is not "most").
pub fn correction(word: &str, vocabulary: &[String]) -> Option<String> {
    if word.chars().count() < 5 || !word.chars().all(|c| c.is_ascii_lowercase()) {
        return None;
    }
    let known = |w: &str| vocabulary.iter().any(|v| v == w);
    let splits: Vec<String> = (3..word.len().saturating_sub(2))
        .filter(|&i| known(&word[..i]) && known(&word[i..]))
        .map(|i| format!("{} {}", &word[..i], &word[i..]))
        .collect();
    if let [one] = splits.as_slice() {
        return Some(one.clone());
    }
    let max = if word.len() >= 8 { 2 } else { 1 };
    let mut near: Vec<(usize, &String)> = vocabulary
        .iter()
        .filter(|v| v.len() >= 4 && v.chars().all(|c| c.is_ascii_lowercase()))
        .map(|v| (strsim::osa_distance(word, v), v))
        .filter(|(d, _)| *d <= max)
        .collect();
    near.sort();
    match near.as_slice() {
        [(_, one)] => Some(one.to_string()),
        [(d, one), (e, _), ..] if d < e => Some(one.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary() -> Vec<String> {
        ["velocity", "cycle", "time", "throughput", "sprint", "most", "lead", "bugs", "print"].iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn slips_and_run_together_words_are_corrected_only_when_one_fits() {
        let v = vocabulary();
        assert_eq!(correction("veloctiy", &v).as_deref(), Some("velocity"), "a swap is one edit");
        assert_eq!(correction("cycletime", &v).as_deref(), Some("cycle time"));
        assert_eq!(correction("throughtput", &v).as_deref(), Some("throughput"));
        assert_eq!(correction("sprnt", &v).as_deref(), Some("sprint"));
        assert_eq!(correction("cost", &v), None, "short words are not corrected");
        assert_eq!(correction("budget", &v), None);
        assert_eq!(correction("coverage", &v), None);
    }
}
