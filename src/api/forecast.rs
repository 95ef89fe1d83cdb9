//! `analytics.forecast_items(...)` and `analytics.forecast_days(...)`: the Monte Carlo forecasts behind
//! the catalog metrics `forecast_items` and `forecast_date` (`analytics_core::forecast`). The metric's
//! SQL hands them the ages (in days, at `as_of`) of the issues its rows resolved, so spec filters and
//! groups choose whose throughput is resampled.

use crate::error::ApiError;
use analytics_core::forecast::{self, ForecastError, Settings};
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;

fn bad(e: ForecastError) -> ErrorReport {
    ApiError::InvalidArgument { message: e.to_string(), detail: None, hint: Some(e.hint().into()) }.into()
}

fn history(ages: Option<Array<f64>>, weeks: i32) -> Result<Vec<u32>, ErrorReport> {
    let ages = ages.map(|a| a.iter().flatten().collect::<Vec<f64>>()).unwrap_or_default();
    forecast::daily_counts(ages, i64::from(weeks)).map_err(bad)
}

/// Items done within `horizon_days` in at least `confidence` of `trials` resampled futures.
#[pg_extern(immutable, parallel_safe, schema = "analytics")]
fn forecast_items(
    ages: Option<Array<f64>>,
    horizon_days: i32,
    confidence: f64,
    trials: i32,
    weeks_of_history: i32,
    seed: i32,
) -> Result<Option<i64>, ErrorReport> {
    let s = Settings::new(confidence, i64::from(trials), i64::from(seed)).map_err(bad)?;
    let h = history(ages, weeks_of_history)?;
    Ok(forecast::items_by(&h, i64::from(horizon_days), s).map_err(bad)?.map(|n| n as i64))
}

/// Days within which `items` are done in at least `confidence` of `trials` resampled futures.
#[pg_extern(immutable, parallel_safe, schema = "analytics")]
fn forecast_days(
    ages: Option<Array<f64>>,
    items: i32,
    confidence: f64,
    trials: i32,
    weeks_of_history: i32,
    seed: i32,
) -> Result<Option<i32>, ErrorReport> {
    let s = Settings::new(confidence, i64::from(trials), i64::from(seed)).map_err(bad)?;
    let h = history(ages, weeks_of_history)?;
    Ok(forecast::days_until(&h, i64::from(items), s).map_err(bad)?.map(|d| d as i32))
}

extension_sql!(
    r#"
COMMENT ON FUNCTION analytics.forecast_items(double precision[], integer, double precision, integer, integer, integer) IS
  'Monte Carlo forecast (catalog metric forecast_items): from the ages in days of resolved issues (0 = the last day before the forecast), their daily throughput over the last weeks_of_history weeks, resampled day by day with a seeded generator over horizon_days days in each of trials futures; returns the number of items done in at least confidence of them (NULL without history).';
COMMENT ON FUNCTION analytics.forecast_days(double precision[], integer, double precision, integer, integer, integer) IS
  'Monte Carlo forecast (catalog metric forecast_date): the number of days within which items issues are done in at least confidence of trials resampled futures of the daily throughput of the last weeks_of_history weeks (NULL without throughput, or beyond ten years).';
INSERT INTO analytics.access_privileges (access, object_type, object_name, privileges) VALUES
    ('reader', 'function', 'analytics.forecast_items(double precision[],integer,double precision,integer,integer,integer)', 'EXECUTE'),
    ('reader', 'function', 'analytics.forecast_days(double precision[],integer,double precision,integer,integer,integer)', 'EXECUTE');
"#,
    name = "forecast_sql",
    requires = [forecast_items, forecast_days, "security"]
);
