//! "Did you mean" suggestions for unknown names (metrics, dimensions, fields), by string similarity.

/// Up to `max` candidates close to `input`, best first: similar spelling (Jaro-Winkler >= 0.8, case
/// folded) or one containing the other.
pub fn did_you_mean<'a, I>(input: &str, candidates: I, max: usize) -> Vec<String>
where
    I: IntoIterator<Item = &'a str>,
{
    let needle = input.trim().to_lowercase();
    if needle.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(f64, String)> = candidates
        .into_iter()
        .filter_map(|c| {
            let lc = c.to_lowercase();
            let mut score = strsim::jaro_winkler(&needle, &lc);
            if needle.len() >= 3 && (lc.contains(&needle) || needle.contains(&lc)) {
                score = score.max(0.85);
            }
            (score >= 0.8 && lc != needle).then(|| (score, c.to_string()))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(max).map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &["lead_time_p50", "lead_time_p90", "cycle_time", "bug_count", "velocity", "spillover_ratio"];

    #[test]
    fn near_misses_are_suggested_best_first() {
        assert_eq!(did_you_mean("lead_time_p95", NAMES.iter().copied(), 2), vec!["lead_time_p50", "lead_time_p90"]);
        assert_eq!(did_you_mean("velocty", NAMES.iter().copied(), 3), vec!["velocity"]);
        assert_eq!(did_you_mean("BUG_COUNT", NAMES.iter().copied(), 3), Vec::<String>::new(), "same name, other case: not a suggestion");
        assert_eq!(did_you_mean("spillover", NAMES.iter().copied(), 3), vec!["spillover_ratio"]);
    }

    #[test]
    fn nothing_similar_gives_nothing() {
        assert!(did_you_mean("xyzzy", NAMES.iter().copied(), 3).is_empty());
        assert!(did_you_mean("", NAMES.iter().copied(), 3).is_empty());
    }
}
