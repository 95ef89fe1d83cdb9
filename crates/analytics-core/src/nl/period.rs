//! Periods in plain English, relative to a given day: "last quarter", "this month", "in 2025",
//! "since March", "last 30 days", "last 6 sprints", "between March and May", "Q3 2025", "yesterday".
//! Calendar periods become absolute half-open ranges; "last N units" stays relative to now.

use chrono::{Datelike, Duration, NaiveDate};
use regex::Regex;
use serde_json::{json, Value};
use std::ops::Range;
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq)]
pub enum Period {
    /// A date_range (absolute or relative), with a description for the explanation.
    Range { range: Value, text: String },
    /// The last N closed sprints (sprint metrics only).
    Sprints(u32),
    /// The active sprint ("this sprint", "the current sprint").
    CurrentSprint,
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

fn month_of(word: &str) -> Option<u32> {
    let w = word.get(..3)?;
    MONTHS.iter().position(|m| *m == w).map(|i| i as u32 + 1)
}

fn first_of_month(y: i32, m: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(NaiveDate::MIN)
}

fn add_months(d: NaiveDate, n: i32) -> NaiveDate {
    let total = d.year() * 12 + d.month0() as i32 + n;
    first_of_month(total.div_euclid(12), total.rem_euclid(12) as u32 + 1)
}

fn abs(from: Option<NaiveDate>, to: Option<NaiveDate>, text: String) -> Period {
    let f = |d: Option<NaiveDate>| d.map(|d| json!(d.format("%Y-%m-%d").to_string())).unwrap_or(Value::Null);
    let mut range = json!({"from": f(from), "to": f(to)});
    if let Some(o) = range.as_object_mut() {
        o.retain(|_, v| !v.is_null());
    }
    Period::Range { range, text }
}

fn span(from: NaiveDate, to: NaiveDate, what: &str) -> Period {
    abs(Some(from), Some(to), format!("{what} ({} to {})", from.format("%Y-%m-%d"), (to - Duration::days(1)).format("%Y-%m-%d")))
}

fn unit_start(today: NaiveDate, unit: &str) -> NaiveDate {
    match unit {
        "day" => today,
        "week" => today - Duration::days(today.weekday().num_days_from_monday() as i64),
        "month" => first_of_month(today.year(), today.month()),
        "quarter" => first_of_month(today.year(), today.month0() / 3 * 3 + 1),
        _ => first_of_month(today.year(), 1),
    }
}

fn unit_prev(start: NaiveDate, unit: &str) -> NaiveDate {
    match unit {
        "day" => start - Duration::days(1),
        "week" => start - Duration::days(7),
        "month" => add_months(start, -1),
        "quarter" => add_months(start, -3),
        _ => add_months(start, -12),
    }
}

/// "march", "march 2025", "2025-03-04" -> (start, first day after), choosing the past for a bare month.
fn point(text: &str, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let t = text.trim();
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Some((d, d + Duration::days(1)));
    }
    let mut parts = t.split_whitespace();
    let m = month_of(parts.next()?)?;
    let y = match parts.next() {
        Some(y) => y.parse().ok()?,
        None if m > today.month() => today.year() - 1,
        None => today.year(),
    };
    let start = first_of_month(y, m);
    Some((start, add_months(start, 1)))
}

struct Patterns {
    last_n: Regex,
    rolling: Regex,
    last_unit: Regex,
    this_unit: Regex,
    year: Regex,
    month_in: Regex,
    since: Regex,
    between: Regex,
    quarter: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let month = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*";
        let point = format!(r"(?:\d{{4}}-\d{{2}}-\d{{2}}|{month}(?: \d{{4}})?)");
        let re = |s: &str| Regex::new(s).expect("a valid built-in pattern");
        Patterns {
            last_n: re(r"\b(?:last|past|previous|recent|over the last|in the last|during the last|over the past|in the past)\s+(\d{1,4})\s+(day|week|month|quarter|year|sprint)s?\b"),
            rolling: re(r"\b(?:(?:over|in|during|within|for) the (?:last|past)|the past|past)\s+(day|week|month|quarter|year)\b"),
            last_unit: re(r"\b(?:last|previous|past|prior)\s+(day|week|month|quarter|year|sprint)\b"),
            this_unit: re(r"\b(?:this|current|the current|active|the active|ongoing|running)\s+(week|month|quarter|year|sprint)\b|\b(year|quarter|month)[ -]to[ -]date\b|\b(ytd|qtd|mtd)\b"),
            year: re(r"\b(?:in|during|for|of|throughout)\s+(\d{4})\b"),
            month_in: re(&format!(r"\b(?:in|during|for|of)\s+({month}(?: \d{{4}})?)\b")),
            since: re(&format!(r"\b(?:since|after|from)\s+({point})(?:\s|$|[^a-z0-9-])")),
            between: re(&format!(r"\b(?:between|from)\s+({point})\s+(?:and|to|until|through)\s+({point})\b")),
            quarter: re(r"\bq([1-4])(?:\s+(\d{4}))?\b"),
        }
    })
}

/// The period a question names, if any, relative to `today`, with the byte range of the words that
/// name it (so they are not read again as anything else).
pub fn find(text: &str, today: NaiveDate) -> Option<(Period, Range<usize>)> {
    let p = patterns();
    if let Some(c) = p.between.captures(text) {
        let (a, b) = (point(&c[1], today)?, point(&c[2], today)?);
        if a.0 < b.1 {
            return Some((span(a.0, b.1, &format!("from {} to {}", &c[1], &c[2])), whole(&c)));
        }
    }
    if let Some(c) = p.last_n.captures(text) {
        let n: u32 = c[1].parse().ok()?;
        if n == 0 {
            return None;
        }
        let unit = &c[2];
        if unit == "sprint" {
            return Some((Period::Sprints(n), whole(&c)));
        }
        return Some((Period::Range { range: json!({"last": format!("{n} {unit}s")}), text: format!("the last {n} {unit}s") }, whole(&c)));
    }
    // "over the last year", "the past month": a rolling window, not the calendar unit.
    if let Some(c) = p.rolling.captures(text) {
        let unit = &c[1];
        return Some((Period::Range { range: json!({"last": format!("1 {unit}")}), text: format!("the last {unit}") }, whole(&c)));
    }
    if let Some(c) = p.last_unit.captures(text) {
        let unit = &c[1];
        if unit == "sprint" {
            return Some((Period::Sprints(1), whole(&c)));
        }
        if unit == "day" {
            let d = today - Duration::days(1);
            return Some((span(d, today, "yesterday"), whole(&c)));
        }
        let this = unit_start(today, unit);
        return Some((span(unit_prev(this, unit), this, &format!("last {unit}")), whole(&c)));
    }
    if let Some(c) = p.this_unit.captures(text) {
        let unit = c.get(1).or(c.get(2)).map(|m| m.as_str()).unwrap_or_else(|| match &c[3] {
            "ytd" => "year",
            "qtd" => "quarter",
            _ => "month",
        });
        if unit == "sprint" {
            return Some((Period::CurrentSprint, whole(&c)));
        }
        let start = unit_start(today, unit);
        return Some((abs(Some(start), None, format!("this {unit} (since {})", start.format("%Y-%m-%d"))), whole(&c)));
    }
    if let Some(c) = p.quarter.captures(text) {
        let q: u32 = c[1].parse().ok()?;
        let y = c.get(2).and_then(|y| y.as_str().parse().ok()).unwrap_or(today.year());
        let start = first_of_month(y, (q - 1) * 3 + 1);
        return Some((span(start, add_months(start, 3), &format!("Q{q} {y}")), whole(&c)));
    }
    if let Some(c) = p.since.captures(text) {
        let (start, _) = point(&c[1], today)?;
        return Some((
            abs(Some(start), None, format!("since {}", start.format("%Y-%m-%d"))),
            c.get(0).map(|m| m.start()..m.start() + m.as_str().trim_end().len()).unwrap_or(0..0),
        ));
    }
    if let Some(c) = p.month_in.captures(text) {
        let (a, b) = point(&c[1], today)?;
        return Some((span(a, b, &c[1]), whole(&c)));
    }
    if let Some(c) = p.year.captures(text) {
        let y: i32 = c[1].parse().ok()?;
        if (1990..=2100).contains(&y) {
            let start = first_of_month(y, 1);
            return Some((span(start, add_months(start, 12), &format!("{y}")), whole(&c)));
        }
    }
    if let Some(i) = text.find("yesterday") {
        let d = today - Duration::days(1);
        return Some((span(d, today, "yesterday"), i..i + 9));
    }
    if let Some(i) = text.find("today") {
        return Some((span(today, today + Duration::days(1), "today"), i..i + 5));
    }
    None
}

fn whole(c: &regex::Captures) -> Range<usize> {
    c.get(0).map(|m| m.range()).unwrap_or(0..0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn range(text: &str) -> Value {
        match find(text, day("2026-11-27")) {
            Some((Period::Range { range, .. }, _)) => range,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn calendar_periods() {
        assert_eq!(range("bugs last quarter"), json!({"from": "2026-07-01", "to": "2026-10-01"}));
        assert_eq!(range("last month"), json!({"from": "2026-10-01", "to": "2026-11-01"}));
        assert_eq!(range("last week"), json!({"from": "2026-11-16", "to": "2026-11-23"}));
        assert_eq!(range("last year"), json!({"from": "2025-01-01", "to": "2026-01-01"}));
        assert_eq!(range("this month"), json!({"from": "2026-11-01"}));
        assert_eq!(range("this quarter"), json!({"from": "2026-10-01"}));
        assert_eq!(range("year to date"), json!({"from": "2026-01-01"}));
        assert_eq!(range("in 2025"), json!({"from": "2025-01-01", "to": "2026-01-01"}));
        assert_eq!(range("q3 2025"), json!({"from": "2025-07-01", "to": "2025-10-01"}));
        assert_eq!(range("in march"), json!({"from": "2026-03-01", "to": "2026-04-01"}));
        assert_eq!(range("in december"), json!({"from": "2025-12-01", "to": "2026-01-01"}), "a bare month is the last one that began");
        assert_eq!(range("since march"), json!({"from": "2026-03-01"}));
        assert_eq!(range("since 2026-02-15"), json!({"from": "2026-02-15"}));
        assert_eq!(range("between march and may"), json!({"from": "2026-03-01", "to": "2026-06-01"}));
        assert_eq!(range("from 2026-01-01 to 2026-03-31"), json!({"from": "2026-01-01", "to": "2026-04-01"}));
        assert_eq!(range("yesterday"), json!({"from": "2026-11-26", "to": "2026-11-27"}));
    }

    #[test]
    fn relative_periods_and_sprints() {
        assert_eq!(range("in the last 30 days"), json!({"last": "30 days"}));
        assert_eq!(range("past 2 weeks"), json!({"last": "2 weeks"}));
        assert_eq!(range("bugs over the last year"), json!({"last": "1 year"}));
        assert_eq!(range("in the past month"), json!({"last": "1 month"}));
        let today = day("2026-11-27");
        assert_eq!(find("velocity over the last 6 sprints", today), Some((Period::Sprints(6), 9..32)));
        assert_eq!(find("last sprint", today).map(|p| p.0), Some(Period::Sprints(1)));
        assert_eq!(find("scope churn this sprint", today).map(|p| p.0), Some(Period::CurrentSprint));
        assert_eq!(find("how is the team doing", today), None);
        assert_eq!(find("bugs since march by week", today).map(|p| p.1), Some(5..16));
    }
}
