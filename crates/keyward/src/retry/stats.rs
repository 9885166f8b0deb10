//! Counters of what the retry layer did.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

/// What a [`RetryLayer`](super::RetryLayer) and every service made from it have done so far: a
/// cheap handle, whose clones read the same counters.
///
/// # Example
///
/// ```
/// use keyward::{exchange, retry::RetryLayer};
///
/// let layer = RetryLayer::new(exchange::by_name("binance").unwrap());
/// let stats = layer.stats();
/// assert_eq!((stats.attempts(), stats.retries(), stats.budget_refusals(), stats.ambiguous()), (0, 0, 0, 0));
/// ```
#[derive(Debug, Clone, Default)]
pub struct RetryStats {
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    attempts: AtomicU64,
    retries: AtomicU64,
    budget_refusals: AtomicU64,
    ambiguous: AtomicU64,
}

impl RetryStats {
    /// Attempts sent to the inner service, first attempts included.
    pub fn attempts(&self) -> u64 {
        self.counters.attempts.load(Ordering::Relaxed)
    }

    /// Attempts after the first.
    pub fn retries(&self) -> u64 {
        self.counters.retries.load(Ordering::Relaxed)
    }

    /// Retries not sent because the [budget](super::RetryBudget) was spent.
    pub fn budget_refusals(&self) -> u64 {
        self.counters.budget_refusals.load(Ordering::Relaxed)
    }

    /// Requests that failed with an unknown effect and were returned as
    /// [`Ambiguous`](super::Ambiguous).
    pub fn ambiguous(&self) -> u64 {
        self.counters.ambiguous.load(Ordering::Relaxed)
    }

    pub(crate) fn count_attempt(&self, first: bool) {
        self.counters.attempts.fetch_add(1, Ordering::Relaxed);
        if !first {
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn count_budget_refusal(&self) {
        self.counters.budget_refusals.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_ambiguous(&self) {
        self.counters.ambiguous.fetch_add(1, Ordering::Relaxed);
    }
}
