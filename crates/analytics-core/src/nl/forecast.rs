//! Questions about the future ("when will the remaining 40 stories be done", "how many issues can we
//! finish in the next 30 days", "how many by 2027-03-01"): the horizon and the number of items are
//! taken out of the text before it is read (so "next" and "40" are not unknown words or a limit), and a
//! forecast metric found in the rest gets them as parameters, at 50%, 85% and 95% confidence together.

use serde_json::{json, Value};

/// What a question says about the future.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ahead {
    /// "next 30 days", "in 6 weeks", "within 2 months" (a month is 30 days).
    pub days: Option<u32>,
    /// "by 2027-03-01".
    pub until: Option<String>,
    /// "40 stories", "remaining 40", "40 left".
    pub items: Option<u32>,
    /// "next sprint": ahead, by a span the question does not give in days.
    pub vague: bool,
}

const ITEM_WORDS: &[&str] = &["items", "issues", "stories", "story", "bugs", "tasks", "tickets", "things", "cards", "left", "more"];

/// Takes the phrases about the future out of (normalized) text.
pub fn take(text: &str) -> (String, Ahead) {
    let words: Vec<&str> = text.split(' ').collect();
    let mut keep = vec![true; words.len()];
    let mut ahead = Ahead::default();
    let num = |w: &str| w.parse::<u32>().ok().filter(|n| (1..=1_000_000).contains(n));
    for i in 0..words.len() {
        let w = words[i].trim_matches(|c: char| c == '?' || c == ',' || c == '.');
        let next = |k: usize| words.get(i + k).map(|x| x.trim_matches(|c: char| c == '?' || c == ',' || c == '.')).unwrap_or("");
        if matches!(w, "next" | "in" | "within" | "coming") {
            if let Some(n) = num(next(1)) {
                let unit = match next(2).trim_end_matches('s') {
                    "day" => Some(1),
                    "week" => Some(7),
                    "month" => Some(30),
                    _ => None,
                };
                if let Some(u) = unit {
                    ahead.days = Some(n.saturating_mul(u));
                    keep.iter_mut().skip(i).take(3).for_each(|k| *k = false);
                    // "in the next 30 days": the article and the preposition go too.
                    let mut j = i;
                    while j > 0 && matches!(words[j - 1], "the" | "in" | "within" | "over" | "during" | "for") {
                        j -= 1;
                        keep[j] = false;
                    }
                    continue;
                }
            }
        }
        // "next week", "in the coming month", "tomorrow": a span ahead without a number. Not "the next
        // day" after an event ("closed the next day") or "into the next sprint" (spill-over): "the"
        // before it must follow "in", "within", "over", "during" or "for", or start the question.
        let not_ahead = i >= 2 && words[i - 1] == "the" && !matches!(words[i - 2], "in" | "within" | "over" | "during" | "for");
        if matches!(w, "next" | "coming") && !not_ahead || w == "tomorrow" {
            let unit = if w == "tomorrow" { "day" } else { next(1) };
            let days = match unit {
                "day" => Some(1),
                "week" => Some(7),
                "fortnight" => Some(14),
                "month" => Some(30),
                "quarter" => Some(91),
                "year" => Some(365),
                "sprint" | "iteration" | "release" => None,
                _ => {
                    continue;
                }
            };
            match days {
                Some(d) => ahead.days = Some(d),
                None => ahead.vague = true,
            }
            let n = if w == "tomorrow" { 1 } else { 2 };
            keep.iter_mut().skip(i).take(n).for_each(|k| *k = false);
            let mut j = i;
            while j > 0 && matches!(words[j - 1], "the" | "in" | "within" | "over" | "during" | "for") {
                j -= 1;
                keep[j] = false;
            }
            continue;
        }
        if w == "by" && crate::catalog::is_timestamp_text(next(1)) && next(1) != "now" {
            ahead.until = Some(next(1).to_string());
            keep[i] = false;
            keep[i + 1] = false;
            continue;
        }
        if keep[i] && ahead.items.is_none() {
            if let Some(n) = num(w) {
                let after = next(1);
                let before = if i > 0 { words[i - 1] } else { "" };
                let unit = ["day", "week", "month", "quarter", "year", "sprint"].iter().any(|u| after.trim_end_matches('s') == *u);
                // "40 stories", "remaining 40", "the 40 remaining stories".
                let then = next(2);
                if !unit
                    && (ITEM_WORDS.contains(&after)
                        || matches!(before, "remaining" | "another")
                        || (matches!(after, "remaining" | "open" | "outstanding") && ITEM_WORDS.contains(&then)))
                {
                    ahead.items = Some(n);
                    keep[i] = false;
                }
            }
        }
    }
    let rest: Vec<&str> = words.iter().zip(&keep).filter(|(_, k)| **k).map(|(w, _)| *w).collect();
    (rest.join(" "), ahead)
}

/// Whether the question said anything about the future.
pub fn said(a: &Ahead) -> bool {
    a.days.is_some() || a.until.is_some() || a.vague
}

/// Puts the horizon and items into the forecast metrics of a built spec, each at 50%, 85% and 95%
/// confidence. Err: the question looked ahead without a forecast metric to do it.
pub fn apply(spec: &mut Value, a: &Ahead) -> Result<(), String> {
    let Some(metrics) = spec.get_mut("metrics").and_then(Value::as_array_mut) else { return Ok(()) };
    let is_forecast = |m: &Value| matches!(m.as_str(), Some("forecast_items" | "forecast_date"));
    // "How many issues will we close in the next 30 days": a count of closed issues, ahead, is a
    // forecast (forecast_items forecasts resolutions, so a count of created issues ahead is not).
    if said(a) && metrics.len() == 1 && metrics[0].as_str() == Some("closed") {
        metrics[0] = json!("forecast_items");
    }
    if !metrics.iter().any(is_forecast) {
        return if said(a) { Err("only the forecasts (forecast_items, forecast_date) look ahead".into()) } else { Ok(()) };
    }
    if a.vague && a.days.is_none() && a.until.is_none() && a.items.is_none() {
        return Err("say how far ahead in days or by which date (e.g. \"in the next 14 days\", \"by 2027-03-01\")".into());
    }
    // "How many ... done in 6 weeks" asks for items, "when will 40 be done" for a date.
    for m in metrics.iter_mut() {
        match m.as_str() {
            Some("forecast_date") if said(a) && a.items.is_none() => *m = json!("forecast_items"),
            Some("forecast_items") if !said(a) && a.items.is_some() => *m = json!("forecast_date"),
            _ => {}
        }
    }
    // "Forecast how many we close": the count next to a forecast is what it forecasts.
    metrics.retain(|m| !matches!(m.as_str(), Some("created" | "closed")));
    metrics.dedup();
    let mut out = Vec::new();
    for m in metrics.iter() {
        let Some(name) = m.as_str().filter(|_| is_forecast(m)) else {
            out.push(m.clone());
            continue;
        };
        let mut params = serde_json::Map::new();
        if name == "forecast_items" {
            if let Some(d) = a.days {
                params.insert("days".into(), json!(d));
            }
            if let Some(u) = &a.until {
                params.insert("until".into(), json!(u));
            }
        } else if let Some(n) = a.items {
            params.insert("items".into(), json!(n));
        }
        for c in [50, 85, 95] {
            let mut p = params.clone();
            p.insert("confidence".into(), json!(f64::from(c) / 100.0));
            out.push(json!({"name": name, "params": p, "alias": format!("{name}_{c}")}));
        }
    }
    *metrics = out;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn horizons_and_items_come_out_of_the_text() {
        let (rest, a) = take("when will the remaining 40 stories be done");
        assert_eq!((rest.as_str(), a.items), ("when will the remaining stories be done", Some(40)));
        let (rest, a) = take("when will the 25 remaining stories be done");
        assert_eq!((rest.as_str(), a.items), ("when will the remaining stories be done", Some(25)));
        let (rest, a) = take("how many issues can we finish in the next 30 days?");
        assert_eq!((rest.as_str(), a.days), ("how many issues can we finish", Some(30)));
        let (rest, a) = take("how many items by 2027-03-01");
        assert_eq!((rest.as_str(), a.until.as_deref()), ("how many items", Some("2027-03-01")));
        let (_, a) = take("how much can we do within 6 weeks");
        assert_eq!(a.days, Some(42));
        // A span ahead without a number.
        let (rest, a) = take("how many issues will we close next month");
        assert_eq!((rest.as_str(), a.days), ("how many issues will we close", Some(30)));
        let (rest, a) = take("bugs closed tomorrow");
        assert_eq!((rest.as_str(), a.days), ("bugs closed", Some(1)));
        // After an event or into a sprint, "the next ..." is not ahead.
        for q in ["how many bugs were closed the next day", "how much spilled over into the next sprint in the last 6 sprints"] {
            let (rest, a) = take(q);
            assert_eq!((rest.as_str(), said(&a)), (q, false), "{q}");
        }
        let (_, a) = take("how many issues will we close in the next month");
        assert_eq!(a.days, Some(30));
        let (rest, a) = take("how many story points will we complete in the next sprint");
        assert_eq!((rest.as_str(), a.vague, said(&a)), ("how many story points will we complete", true, true));
        let (rest, a) = take("what is next on the board");
        assert_eq!((rest.as_str(), said(&a)), ("what is next on the board", false));
        // Nothing about the future: the text stays as it was ("top 5" is a ranking, not items).
        let (rest, a) = take("top 5 boards by velocity in the last 30 days");
        assert_eq!((rest.as_str(), a), ("top 5 boards by velocity in the last 30 days", Ahead::default()));
    }

    #[test]
    fn forecasts_get_three_confidences() {
        let mut spec = json!({"metrics": ["forecast_date"]});
        apply(&mut spec, &Ahead { items: Some(40), ..Ahead::default() }).unwrap();
        assert_eq!(spec["metrics"].as_array().unwrap().len(), 3);
        assert_eq!(
            spec["metrics"][1],
            json!({"name": "forecast_date", "params": {"items": 40, "confidence": 0.85}, "alias": "forecast_date_85"})
        );
        let mut other = json!({"metrics": ["lead_time_p50"]});
        assert!(apply(&mut other, &Ahead { days: Some(30), ..Ahead::default() }).is_err());
        let mut count = json!({"metrics": ["closed"]});
        apply(&mut count, &Ahead { days: Some(30), ..Ahead::default() }).unwrap();
        assert_eq!(count["metrics"][2]["name"], "forecast_items", "a count of issues ahead is a forecast");
        assert!(apply(&mut other, &Ahead::default()).is_ok());
        let mut created = json!({"metrics": ["created"]});
        assert!(apply(&mut created, &Ahead { days: Some(7), ..Ahead::default() }).is_err(), "no forecast of created issues");
        let mut vague = json!({"metrics": ["forecast_items"]});
        assert!(apply(&mut vague, &Ahead { vague: true, ..Ahead::default() }).unwrap_err().contains("how far ahead"));
    }
}
