//! The retry layer and its settings.

use super::{Retry, RetryBudget, RetryStats, backoff::Backoff};
use crate::{
    clock::{Clock, SystemClock},
    exchange::Exchange,
};
use std::{fmt, sync::Arc, time::Duration};
use tower_layer::Layer;

/// Retries what is safe to retry, and turns what is not into [`Ambiguous`](super::Ambiguous).
/// See the [module docs](super) for the policy.
///
/// Every service it makes shares one [budget](Self::budget) and one [`RetryStats`].
#[derive(Clone)]
pub struct RetryLayer {
    settings: Settings,
}

/// What every attempt loop reads.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) exchange: &'static dyn Exchange,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) max_attempts: u32,
    pub(crate) backoff: Backoff,
    pub(crate) budget: RetryBudget,
    pub(crate) stats: RetryStats,
}

impl RetryLayer {
    /// Retries requests to `exchange`: at most 3 attempts, backoff from 100 ms up to 5 s, the
    /// [default budget](RetryBudget::default), waiting on the [`SystemClock`].
    pub fn new(exchange: &'static dyn Exchange) -> Self {
        Self {
            settings: Settings {
                exchange,
                clock: Arc::new(SystemClock),
                max_attempts: 3,
                backoff: Backoff::new(Duration::from_millis(100), Duration::from_secs(5)),
                budget: RetryBudget::default(),
                stats: RetryStats::default(),
            },
        }
    }

    /// The clock every backoff wait goes through.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.settings.clock = clock;
        self
    }

    /// The most attempts per request, the first included; 1 disables retries (0 counts as 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.settings.max_attempts = attempts.max(1);
        self
    }

    /// Exponential backoff with full jitter: before retry `n` (from 1), a random wait between
    /// zero and `min(max, base * 2^(n-1))`. A `max` below `base` is raised to `base`.
    ///
    /// `max` also bounds a rate limit's `Retry-After`: a longer one is returned to the caller
    /// instead of waited for.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.settings.backoff = Backoff::new(base, max);
        self
    }

    /// Replaces the retry budget.
    pub fn budget(mut self, budget: RetryBudget) -> Self {
        self.settings.budget = budget;
        self
    }

    /// The counters of this layer and of every service it made or will make.
    pub fn stats(&self) -> RetryStats {
        self.settings.stats.clone()
    }
}

impl fmt::Debug for RetryLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryLayer").field("settings", &self.settings).finish()
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("exchange", &self.exchange.name())
            .field("clock", &self.clock)
            .field("max_attempts", &self.max_attempts)
            .field("backoff", &self.backoff)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retry<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Retry::new(inner, Arc::new(self.settings.clone()))
    }
}
