//! The retry budget: retries stay a bounded fraction of requests.

use std::{fmt, sync::Arc, time::Duration};
use tower::retry::budget::{Budget, TpsBudget};

/// How many retries a [`RetryLayer`](super::RetryLayer) may send: a floor of retries per second,
/// plus a fraction of the requests of the last `window`.
///
/// When an exchange fails every request, retries would multiply the load on it (and on the
/// client's rate limits, which lead to bans). A budget caps them: once spent, a failure is
/// returned at once, as if no retries were configured. It is tower's [`TpsBudget`], shared by
/// every service made from one layer. Its window runs on tokio's clock, not on the layer's
/// [`Clock`](crate::clock::Clock): it measures request rates, it does not wait.
///
/// # Example
///
/// ```
/// use keyward::retry::RetryBudget;
/// use std::time::Duration;
///
/// // At least one retry per second, plus one for every ten requests, over 10 s.
/// let budget = RetryBudget::new(Duration::from_secs(10), 1, 0.1)?;
/// assert!(RetryBudget::new(Duration::from_millis(10), 1, 0.1).is_err());
/// # Ok::<(), keyward::retry::InvalidRetryBudget>(())
/// ```
#[derive(Clone)]
pub struct RetryBudget {
    budget: Arc<TpsBudget>,
    window: Duration,
    min_retries_per_second: u32,
    retry_ratio: f32,
}

impl RetryBudget {
    /// A budget that allows `min_retries_per_second` retries per second whatever the traffic,
    /// plus `retry_ratio` retries per request sent within the last `window`.
    ///
    /// `window` must be between 1 and 60 seconds, `retry_ratio` between 0 and 1000.
    pub fn new(window: Duration, min_retries_per_second: u32, retry_ratio: f32) -> Result<Self, InvalidRetryBudget> {
        if !(Duration::from_secs(1)..=Duration::from_secs(60)).contains(&window) {
            return Err(InvalidRetryBudget("the window must be between 1 and 60 seconds"));
        }
        if !(0.0..=1000.0).contains(&retry_ratio) {
            return Err(InvalidRetryBudget("the retry ratio must be between 0 and 1000"));
        }
        if i32::try_from(min_retries_per_second).is_err() {
            return Err(InvalidRetryBudget(
                "the minimum of retries per second must be below 2^31",
            ));
        }
        Ok(Self {
            budget: Arc::new(TpsBudget::new(window, min_retries_per_second, retry_ratio)),
            window,
            min_retries_per_second,
            retry_ratio,
        })
    }

    /// Records a request, which earns `retry_ratio` retries.
    pub(crate) fn deposit(&self) {
        self.budget.deposit();
    }

    /// Takes one retry from the budget, if there is one.
    pub(crate) fn withdraw(&self) -> bool {
        self.budget.withdraw()
    }
}

impl Default for RetryBudget {
    /// One retry per second, plus one for every five requests, over 10 s.
    fn default() -> Self {
        Self {
            budget: Arc::new(TpsBudget::new(Duration::from_secs(10), 1, 0.2)),
            window: Duration::from_secs(10),
            min_retries_per_second: 1,
            retry_ratio: 0.2,
        }
    }
}

impl fmt::Debug for RetryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryBudget")
            .field("window", &self.window)
            .field("min_retries_per_second", &self.min_retries_per_second)
            .field("retry_ratio", &self.retry_ratio)
            .finish()
    }
}

/// A [`RetryBudget`] that cannot be built: says which setting is out of range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRetryBudget(&'static str);

impl fmt::Display for InvalidRetryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid retry budget: {}", self.0)
    }
}

impl std::error::Error for InvalidRetryBudget {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_settings_are_refused() {
        let second = Duration::from_secs(1);
        assert!(RetryBudget::new(Duration::from_millis(999), 1, 0.2).is_err());
        assert!(RetryBudget::new(Duration::from_secs(61), 1, 0.2).is_err());
        assert!(RetryBudget::new(second, 1, -0.1).is_err());
        assert!(RetryBudget::new(second, 1, f32::NAN).is_err());
        assert!(RetryBudget::new(second, 1, 1000.5).is_err());
        assert!(RetryBudget::new(second, u32::MAX, 0.2).is_err());
        assert!(RetryBudget::new(Duration::from_secs(60), 0, 1000.0).is_ok());
    }

    #[test]
    fn retries_are_a_fraction_of_requests() {
        let budget = RetryBudget::new(Duration::from_secs(10), 0, 0.5).unwrap();
        assert!(!budget.withdraw(), "no request, no retry");
        budget.deposit();
        budget.deposit();
        assert!(budget.withdraw());
        assert!(!budget.withdraw());
    }
}
