//! Monte Carlo forecasts (`forecast_items`, `forecast_date`) on the metrics fixture: the same
//! parameters give the same answer, a higher confidence never promises more items or an earlier day,
//! groups and filters choose whose throughput counts, bad settings are 22023 with a HINT.

use pgrx::prelude::*;

#[pg_schema]
mod tests {
    use crate::tests::metrics::tests::load_fixture;
    use crate::tests::support::*;
    use pgrx::prelude::*;

    fn value(name: &str, params: &str) -> Option<f64> {
        Spi::get_one_with_args::<f64>("SELECT analytics.analytics_metric_value($1, $2::jsonb)::float8", &[name.into(), params.into()])
            .unwrap_or_else(|e| panic!("{name} {params}: {e}"))
    }

    const AT: &str = r#""as_of": "2025-02-10 00:00+00", "weeks_of_history": 6"#;

    #[pg_test]
    fn forecasts_are_reproducible_and_monotone_in_confidence() {
        load_fixture();
        set_tenant(Some("fx"));
        let items = |c: f64| value("forecast_items", &format!(r#"{{{AT}, "days": 28, "confidence": {c}}}"#)).unwrap();
        let days = |c: f64| value("forecast_date", &format!(r#"{{{AT}, "items": 5, "confidence": {c}}}"#)).unwrap();
        assert_eq!(items(0.85), items(0.85), "same parameters, same answer");
        let by_c: Vec<(f64, f64)> = [0.5, 0.7, 0.85, 0.95].iter().map(|c| (items(*c), days(*c))).collect();
        assert!(by_c.windows(2).all(|w| w[0].0 >= w[1].0 && w[0].1 <= w[1].1), "{by_c:?}");
        // Six weeks before 02-10: 7 issues resolved in 42 days, 1/6 a day: about 4.7 in 28 days at the median.
        assert!((3.0..=6.0).contains(&by_c[0].0), "{by_c:?}");
        // A until date means the whole days up to it; the same horizon as days.
        assert_eq!(
            value("forecast_items", &format!(r#"{{{AT}, "until": "2025-03-10 00:00+00"}}"#)),
            value("forecast_items", &format!(r#"{{{AT}, "days": 28}}"#))
        );
        // Another seed samples other futures, with close answers.
        let other = value("forecast_items", &format!(r#"{{{AT}, "days": 28, "confidence": 0.5, "seed": 42}}"#)).unwrap();
        assert!((other - by_c[0].0).abs() <= 1.0, "{other} vs {by_c:?}");
    }

    #[pg_test]
    fn groups_and_filters_choose_whose_throughput_counts() {
        load_fixture();
        set_tenant(Some("fx"));
        exec("SET LOCAL analytics.cache_ttl = 0");
        // Bugs alone (ALP-3 and ALP-8 resolved in the 6 weeks) forecast fewer items than everyone.
        let spec = |filters: &str| {
            format!(
                r#"{{"metrics": [{{"name": "forecast_items", "params": {{{AT}, "days": 28, "confidence": 0.5}}}}], "filters": {filters}}}"#
            )
        };
        let run = |s: &str| {
            text(&format!("SELECT analytics.analytics_run('{s}') -> 'rows' -> 0 ->> 'forecast_items'")).unwrap().parse::<f64>().unwrap()
        };
        let all = run(&spec("[]"));
        let bugs = run(&spec(r#"[{"field": "issue_type", "operator": "eq", "value": "Bug"}]"#));
        assert!(bugs < all, "bugs {bugs} < all {all}");
        // By issue type: one forecast per group, the Bug row equal to the filtered one.
        let grouped = format!(
            r#"{{"metrics": [{{"name": "forecast_items", "params": {{{AT}, "days": 28, "confidence": 0.5}}}}], "group_by": ["issue_type"]}}"#
        );
        let bug_row = text(&format!(
            "SELECT r ->> 'forecast_items' FROM analytics.analytics_rows('{grouped}') AS r WHERE r ->> 'issue_type' = 'Bug'"
        ));
        assert_eq!(bug_row.and_then(|v| v.parse::<f64>().ok()), Some(bugs));
        // Nothing resolved in the history: no forecast (NULL), not a guess.
        assert_eq!(value("forecast_date", r#"{"as_of": "2025-01-01 00:00+00", "items": 3}"#), None);
        // A forecast is not a series.
        let series =
            r#"{"metrics": ["forecast_items"], "group_by": [{"field": "as_of", "interval": "week"}], "date_range": {"last": "9 weeks"}}"#;
        assert_eq!(
            text(&format!("SELECT analytics.analytics_validate('{series}') -> 'errors' -> 0 ->> 'code'")).as_deref(),
            Some("not_in_series")
        );
    }

    #[pg_test]
    fn bad_settings_are_refused_with_a_hint() {
        load_fixture();
        set_tenant(Some("fx"));
        install_sqlstate_helper();
        for params in [
            r#"{"confidence": 1.5}"#,
            r#"{"confidence": 0}"#,
            r#"{"trials": 0}"#,
            r#"{"trials": 1000000}"#,
            r#"{"weeks_of_history": 0}"#,
            r#"{"days": -3}"#,
        ] {
            let sql = format!("SELECT analytics.analytics_metric_value('forecast_items', '{params}')");
            assert_eq!(sqlstate_of(&sql).as_deref(), Some("22023"), "{params}");
        }
        assert_eq!(sqlstate_of(r#"SELECT analytics.analytics_metric_value('forecast_date', '{"items": 0}')"#).as_deref(), Some("22023"));
        exec(
            "CREATE FUNCTION test_support.hint_of(q text) RETURNS text LANGUAGE plpgsql AS $$
             DECLARE m text; h text;
             BEGIN EXECUTE q; RETURN NULL;
             EXCEPTION WHEN OTHERS THEN GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, h = PG_EXCEPTION_HINT; RETURN m || ' | ' || h; END $$",
        );
        let hint = text("SELECT test_support.hint_of('SELECT analytics.forecast_items(''{1}'', 3, 2.0, 10, 1, 1)')").unwrap_or_default();
        assert!(hint.contains("confidence must be between 0 and 1") && hint.contains("0.85"), "{hint}");
    }
}
