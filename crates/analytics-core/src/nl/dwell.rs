//! Time spent in named statuses ("time in QA", "how long do bugs spend in testing", "days in code
//! review by priority"): the statuses are statuses of the tenant's data, so they are taken out of the
//! text before it is read (otherwise "QA" would be read as a filter on the current status) and given to
//! `time_in_status` as its `statuses` parameter. "time in review" without a named status keeps the
//! metric's default (In Review), through its synonyms.

use serde_json::{json, Value};

/// Words that say the question is about time spent somewhere, before "in <status>".
const DWELL_WORDS: &[&str] =
    &["time", "days", "hours", "spend", "spends", "spent", "sit", "sits", "stay", "stays", "wait", "waits", "remain", "remains"];

/// What stands for the taken phrase in the text: a synonym of the metric with no dimension word or
/// status in it (the statuses are given to it as its parameter).
const METRIC: &str = "review time";

/// Takes "… in <status> [and|or <status>]" out of normalized text when a dwell word or "how long" comes
/// before it; returns the text with the metric's name in its place, and the statuses (as the data
/// spells them). Text without such a phrase comes back as it was.
pub fn take(text: &str, statuses: &[String]) -> (String, Vec<String>) {
    let words: Vec<&str> = text.split(' ').collect();
    let clean = |w: &str| w.trim_matches(|c: char| c == '?' || c == ',' || c == '.').to_string();
    // The status at word i, longest name first: (its spelling in the data, the number of words).
    let status_at = |i: usize| -> Option<(String, usize)> {
        let mut best: Option<(String, usize)> = None;
        for s in statuses {
            let parts: Vec<String> = s.to_lowercase().split_whitespace().map(String::from).collect();
            let n = parts.len();
            if n == 0 || i + n > words.len() {
                continue;
            }
            if (0..n).all(|k| clean(words[i + k]) == parts[k]) && best.as_ref().is_none_or(|b| n > b.1) {
                best = Some((s.clone(), n));
            }
        }
        best
    };
    for i in 1..words.len() {
        if clean(words[i]) != "in" {
            continue;
        }
        let Some((first, n)) = status_at(i + 1) else { continue };
        let before: Vec<String> = words[..i].iter().map(|w| clean(w)).collect();
        // The run of dwell words just before "in" ("time spent", "days", "spend").
        let mut run = i;
        while run > 0 && DWELL_WORDS.contains(&before[run - 1].as_str()) {
            run -= 1;
        }
        let how_long = before.windows(2).position(|p| p[0] == "how" && p[1] == "long");
        if run == i && how_long.is_none() {
            continue;
        }
        let mut found = vec![first];
        let mut end = i + 1 + n;
        while end < words.len() && matches!(clean(words[end]).as_str(), "and" | "or") {
            match status_at(end + 1) {
                Some((s, m)) => {
                    found.push(s);
                    end += 1 + m;
                }
                None => break,
            }
        }
        // The dwell words and "how long" go with the phrase; the rest of the question stays.
        let mut keep: Vec<String> =
            (0..run).filter(|k| how_long.is_none_or(|h| *k != h && *k != h + 1)).map(|k| words[k].to_string()).collect();
        keep.push(METRIC.to_string());
        keep.extend(words[end..].iter().map(|w| w.to_string()));
        found.dedup();
        return (keep.join(" "), found);
    }
    (text.to_string(), vec![])
}

/// Gives `time_in_status` of a built spec the statuses taken out of its question.
pub fn apply(spec: &mut Value, statuses: &[String]) -> Result<(), String> {
    if statuses.is_empty() {
        return Ok(());
    }
    let Some(metrics) = spec.get_mut("metrics").and_then(Value::as_array_mut) else {
        return Err("the question asks for time in a status, but names no metric for it".into());
    };
    let mut done = false;
    for m in metrics.iter_mut() {
        let name = m.as_str().or_else(|| m.get("name").and_then(Value::as_str)).unwrap_or_default().to_string();
        if name != "time_in_status" {
            continue;
        }
        match m {
            Value::String(_) => *m = json!({"name": name, "params": {"statuses": statuses}}),
            Value::Object(o) => {
                o.entry("params").or_insert_with(|| json!({}))["statuses"] = json!(statuses);
            }
            _ => {}
        }
        done = true;
    }
    if done {
        Ok(())
    } else {
        Err(format!("the question asks for time in {}, but not as time in status", statuses.join(" or ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statuses() -> Vec<String> {
        ["To Do", "In Progress", "In Review", "QA", "Code Review", "Done"].iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn statuses_come_out_of_the_text() {
        let s = statuses();
        assert_eq!(take("time in qa by priority", &s), ("review time by priority".into(), vec!["QA".to_string()]));
        assert_eq!(take("how long do bugs spend in qa?", &s), ("do bugs review time".into(), vec!["QA".to_string()]));
        assert_eq!(
            take("average days in code review last quarter", &s),
            ("average review time last quarter".into(), vec!["Code Review".into()])
        );
        assert_eq!(
            take("how long do stories sit in in review or qa", &s),
            ("do stories review time".into(), vec!["In Review".to_string(), "QA".to_string()])
        );
        // No dwell word before it: "in progress" is a filter, and the text stays.
        assert_eq!(take("how many bugs are in progress", &s), ("how many bugs are in progress".into(), vec![]));
        assert_eq!(take("time in review", &s), ("time in review".into(), vec![]), "not a status of the data: the synonym reads it");
    }

    #[test]
    fn the_metric_gets_the_statuses() {
        let mut spec = json!({"metrics": ["time_in_status"], "group_by": ["priority"]});
        apply(&mut spec, &["QA".into()]).unwrap();
        assert_eq!(spec["metrics"][0], json!({"name": "time_in_status", "params": {"statuses": ["QA"]}}));
        let mut other = json!({"metrics": ["lead_time_p50"]});
        assert!(apply(&mut other, &["QA".into()]).is_err());
        assert!(apply(&mut other, &[]).is_ok());
    }
}
