//! Monte Carlo forecasts from a team's own daily throughput (the `forecast_items` and `forecast_date`
//! metrics): each trial draws one day of the history per future day, with replacement (a bootstrap,
//! zero days included), from a seeded generator, so the same inputs give the same answer.
//! - [`items_by`]: how many items are done within `horizon` days, with a confidence `c`: the number that
//!   at least `c` of the trials reach;
//! - [`days_until`]: within how many days `items` are done, with confidence `c`: the number of days
//!   within which at least `c` of the trials finish.
//!
//! The trials do not depend on the confidence, so a higher confidence never promises more items or an
//! earlier day.

pub const MAX_TRIALS: u32 = 100_000;
pub const MAX_HISTORY_DAYS: usize = 3_650;
/// A trial that has not finished after this many days (ten years) counts as never.
pub const MAX_DAYS: u32 = 3_650;

#[derive(Debug, PartialEq)]
pub enum ForecastError {
    Confidence(f64),
    Trials(i64),
    History(i64),
    Horizon(i64),
    Items(i64),
}

impl std::fmt::Display for ForecastError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ForecastError::Confidence(c) => write!(f, "confidence must be between 0 and 1 (exclusive), not {c}"),
            ForecastError::Trials(t) => write!(f, "trials must be from 1 to {MAX_TRIALS}, not {t}"),
            ForecastError::History(w) => write!(f, "weeks_of_history must be from 1 to {}, not {w}", MAX_HISTORY_DAYS / 7),
            ForecastError::Horizon(h) => write!(f, "the forecast horizon must be from 0 to {MAX_DAYS} days, not {h}"),
            ForecastError::Items(i) => write!(f, "items must be from 1 to 1000000, not {i}"),
        }
    }
}

impl std::error::Error for ForecastError {}

impl ForecastError {
    pub fn hint(&self) -> &'static str {
        match self {
            ForecastError::Confidence(_) => "Use e.g. {\"confidence\": 0.85}.",
            ForecastError::Trials(_) => "10000 trials are plenty; the default is 10000.",
            ForecastError::History(_) => "Use e.g. {\"weeks_of_history\": 12}.",
            ForecastError::Horizon(_) => "Give until (a date after as_of) or days (a number of days ahead).",
            ForecastError::Items(_) => "Give items: how many issues are left, e.g. {\"items\": 40}.",
        }
    }
}

/// The parameters every forecast shares, checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    pub confidence: f64,
    pub trials: u32,
    pub seed: u64,
}

impl Settings {
    pub fn new(confidence: f64, trials: i64, seed: i64) -> Result<Settings, ForecastError> {
        if !(confidence > 0.0 && confidence < 1.0) {
            return Err(ForecastError::Confidence(confidence));
        }
        let trials = u32::try_from(trials).ok().filter(|t| (1..=MAX_TRIALS).contains(t)).ok_or(ForecastError::Trials(trials))?;
        Ok(Settings { confidence, trials, seed: seed as u64 })
    }
}

/// Items done per day over the last `days` days before the moment of the forecast, from each item's age
/// in days at that moment (`0 <= age < days`; others are ignored): index 0 is the latest day.
pub fn daily_counts(ages_in_days: impl IntoIterator<Item = f64>, weeks: i64) -> Result<Vec<u32>, ForecastError> {
    let days = usize::try_from(weeks.saturating_mul(7))
        .ok()
        .filter(|d| (7..=MAX_HISTORY_DAYS).contains(d))
        .ok_or(ForecastError::History(weeks))?;
    let mut counts = vec![0u32; days];
    for age in ages_in_days {
        if age >= 0.0 && age < days as f64 {
            counts[age as usize] += 1;
        }
    }
    Ok(counts)
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small, well-studied generator; enough for resampling.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2^-32 for any history length here).
    fn below(&mut self, n: usize) -> usize {
        ((self.next() as u128 * n as u128) >> 64) as usize
    }
}

/// Items done within `horizon` days in at least `confidence` of the trials. None without history.
pub fn items_by(history: &[u32], horizon: i64, s: Settings) -> Result<Option<u64>, ForecastError> {
    let horizon = u32::try_from(horizon).ok().filter(|h| *h <= MAX_DAYS).ok_or(ForecastError::Horizon(horizon))?;
    if history.is_empty() {
        return Ok(None);
    }
    let mut rng = SplitMix64(s.seed);
    let mut totals: Vec<u64> = (0..s.trials).map(|_| (0..horizon).map(|_| u64::from(history[rng.below(history.len())])).sum()).collect();
    totals.sort_unstable();
    // totals[k] is reached by the trials k.. (at least `confidence` of them).
    let k = (((1.0 - s.confidence) * s.trials as f64).floor() as usize).min(totals.len() - 1);
    Ok(Some(totals[k]))
}

/// Days within which `items` are done in at least `confidence` of the trials; None when nothing was
/// done in the history, or when that many trials need more than [`MAX_DAYS`].
pub fn days_until(history: &[u32], items: i64, s: Settings) -> Result<Option<u32>, ForecastError> {
    let items = u64::try_from(items).ok().filter(|i| (1..=1_000_000).contains(i)).ok_or(ForecastError::Items(items))?;
    if history.iter().all(|c| *c == 0) {
        return Ok(None);
    }
    let mut rng = SplitMix64(s.seed);
    let mut days: Vec<u32> = (0..s.trials)
        .map(|_| {
            let (mut done, mut day) = (0u64, 0u32);
            while done < items && day < MAX_DAYS {
                done += u64::from(history[rng.below(history.len())]);
                day += 1;
            }
            if done >= items {
                day
            } else {
                u32::MAX
            }
        })
        .collect();
    days.sort_unstable();
    // days[k] or fewer for the trials ..=k (at least `confidence` of them).
    let k = ((s.confidence * s.trials as f64).ceil() as usize).clamp(1, days.len()) - 1;
    Ok((days[k] != u32::MAX).then_some(days[k]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(c: f64) -> Settings {
        Settings::new(c, 10_000, 1).unwrap()
    }

    #[test]
    fn counts_bin_ages_into_days_and_ignore_the_rest() {
        let c = daily_counts([0.1, 0.9, 1.5, 6.99, 7.0, -0.5], 1).unwrap();
        assert_eq!(c, vec![2, 1, 0, 0, 0, 0, 1]);
        assert_eq!(daily_counts([], 0), Err(ForecastError::History(0)));
        assert_eq!(daily_counts([], 522), Err(ForecastError::History(522)));
    }

    #[test]
    fn a_constant_history_forecasts_exactly() {
        let h = vec![2u32; 14];
        assert_eq!(items_by(&h, 10, s(0.85)), Ok(Some(20)));
        assert_eq!(days_until(&h, 9, s(0.95)), Ok(Some(5)));
        assert_eq!(items_by(&h, 0, s(0.5)), Ok(Some(0)));
    }

    #[test]
    fn same_inputs_same_answer_and_confidence_is_monotone() {
        let h: Vec<u32> = vec![0, 3, 1, 0, 0, 5, 2, 1, 0, 4, 0, 0, 2, 1];
        assert_eq!(items_by(&h, 30, s(0.85)), items_by(&h, 30, s(0.85)));
        let items: Vec<u64> = [0.5, 0.7, 0.85, 0.95, 0.99].iter().map(|c| items_by(&h, 30, s(*c)).unwrap().unwrap()).collect();
        assert!(items.windows(2).all(|w| w[0] >= w[1]), "{items:?}");
        let days: Vec<u32> = [0.5, 0.7, 0.85, 0.95, 0.99].iter().map(|c| days_until(&h, 40, s(*c)).unwrap().unwrap()).collect();
        assert!(days.windows(2).all(|w| w[0] <= w[1]), "{days:?}");
        // The mean daily throughput is 19/14: about 40.7 items in 30 days at the median.
        assert!((38..=43).contains(&items[0]), "{items:?}");
        assert!((27..=32).contains(&days[0]), "{days:?}");
        // Another seed, another sample, close answers.
        let other = items_by(&h, 30, Settings::new(0.5, 10_000, 7).unwrap()).unwrap().unwrap();
        assert!(other.abs_diff(items[0]) <= 2, "{other} vs {}", items[0]);
    }

    #[test]
    fn no_history_no_forecast_and_bad_settings_are_errors() {
        assert_eq!(items_by(&[], 10, s(0.5)), Ok(None));
        assert_eq!(days_until(&[0, 0, 0], 5, s(0.5)), Ok(None));
        assert_eq!(
            days_until(&[0; 3649].iter().copied().chain([1]).collect::<Vec<_>>(), 1_000_000, s(0.5)),
            Ok(None),
            "more than ten years"
        );
        assert_eq!(Settings::new(1.0, 10, 1), Err(ForecastError::Confidence(1.0)));
        assert_eq!(Settings::new(f64::NAN, 10, 1).unwrap_err().to_string(), "confidence must be between 0 and 1 (exclusive), not NaN");
        assert_eq!(Settings::new(0.5, 0, 1), Err(ForecastError::Trials(0)));
        assert_eq!(items_by(&[1], -1, s(0.5)), Err(ForecastError::Horizon(-1)));
        assert_eq!(days_until(&[1], 0, s(0.5)), Err(ForecastError::Items(0)));
    }
}
