//! Jira's timestamps: `2025-01-06T09:00:00.000+0000` (REST API v2/v3), with `Z` or `+01:00` offsets
//! (Agile API, Server sprint strings), or a bare date. Normalized to RFC 3339 in UTC.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

pub fn parse(s: &str) -> Option<String> {
    let s = s.trim();
    let parsed: Option<DateTime<FixedOffset>> = DateTime::parse_from_rfc3339(s)
        .ok()
        .or_else(|| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z").ok())
        .or_else(|| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z").ok());
    if let Some(d) = parsed {
        return Some(d.with_timezone(&Utc).to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jira_formats() {
        assert_eq!(parse("2025-01-06T09:00:00.000+0000").as_deref(), Some("2025-01-06T09:00:00.000Z"));
        assert_eq!(parse("2025-01-06T10:00:00.000+0100").as_deref(), Some("2025-01-06T09:00:00.000Z"));
        assert_eq!(parse("2025-01-06T09:00:00.000Z").as_deref(), Some("2025-01-06T09:00:00.000Z"));
        assert_eq!(parse("2025-01-06T09:00:00+02:00").as_deref(), Some("2025-01-06T07:00:00.000Z"));
        assert_eq!(parse("2025-01-06").as_deref(), Some("2025-01-06T00:00:00.000Z"));
        assert_eq!(parse("06/01/2025"), None);
        assert_eq!(parse("2025-02-30T00:00:00.000+0000"), None);
    }
}
