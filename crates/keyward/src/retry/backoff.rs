//! Exponential backoff with full jitter.
//!
//! Full jitter (a uniform wait between zero and the exponential ceiling) spreads the retries of
//! many clients that failed at the same moment, instead of sending them back in lockstep.

use std::{
    hash::{BuildHasher, RandomState},
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

/// The waits between attempts: before retry `n` (from 1), a uniform wait in
/// `[0, min(max, base * 2^(n-1))]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    base: Duration,
    max: Duration,
}

impl Backoff {
    /// Waits that start from `base` and never exceed `max` (raised to `base` if below it).
    pub(crate) fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max: max.max(base),
        }
    }

    /// The ceiling of the wait before retry `retry`, counted from 1.
    pub(crate) fn ceiling(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1);
        1u32.checked_shl(doublings)
            .and_then(|factor| self.base.checked_mul(factor))
            .map_or(self.max, |ceiling| ceiling.min(self.max))
    }

    /// A random wait before retry `retry`, counted from 1.
    pub(crate) fn wait(&self, retry: u32) -> Duration {
        let ceiling = u64::try_from(self.ceiling(retry).as_nanos()).unwrap_or(u64::MAX);
        // The modulo bias is below ceiling / 2^64: irrelevant for spreading retries.
        Duration::from_nanos(random_u64() % ceiling.saturating_add(1))
    }
}

/// A non-cryptographic random number: jitter needs spread, not secrecy, and this avoids a
/// dependency. Each `RandomState` is keyed from the OS's randomness once per thread and then
/// varied, and the counter makes every call hash a different input.
fn random_u64() -> u64 {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    RandomState::new().hash_one(CALLS.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn the_ceiling_doubles_up_to_the_max() {
        let backoff = Backoff::new(100 * MS, 1000 * MS);
        let ceilings: Vec<_> = (1..=6).map(|retry| backoff.ceiling(retry)).collect();
        assert_eq!(ceilings, [100 * MS, 200 * MS, 400 * MS, 800 * MS, 1000 * MS, 1000 * MS]);
        assert_eq!(backoff.ceiling(u32::MAX), 1000 * MS);
    }

    #[test]
    fn a_max_below_the_base_is_raised_to_it() {
        let backoff = Backoff::new(500 * MS, 10 * MS);
        assert_eq!(backoff.max, 500 * MS);
        assert_eq!(backoff.ceiling(3), 500 * MS);
    }

    #[test]
    fn waits_are_spread_within_the_ceiling() {
        let backoff = Backoff::new(100 * MS, 1000 * MS);
        let waits: Vec<_> = (0..200).map(|_| backoff.wait(2)).collect();
        assert!(waits.iter().all(|wait| *wait <= 200 * MS), "{waits:?}");
        // Full jitter: both halves of the range are used.
        assert!(waits.iter().any(|wait| *wait < 100 * MS), "{waits:?}");
        assert!(waits.iter().any(|wait| *wait > 100 * MS), "{waits:?}");
    }

    #[test]
    fn a_zero_base_never_waits() {
        let backoff = Backoff::new(Duration::ZERO, Duration::ZERO);
        assert_eq!(backoff.wait(1), Duration::ZERO);
    }
}
