//! The arithmetic of one budget: how many units are spent now, and how long until enough come
//! back. Pure functions of the time, so that any store can hold the state.

use super::Refill;
use std::time::Duration;

/// The state of one budget, as a store keeps it.
///
/// # Example
///
/// ```
/// use keyward::rate_limit::{BudgetState, Refill};
/// use std::time::Duration;
///
/// let minute = Refill::Window(Duration::from_secs(60));
/// let mut state = BudgetState::default();
/// assert!(state.try_spend(minute, 10, 6, 1_000).is_ok());
/// // Full until the next minute, plus a safety margin of 250 ms.
/// assert_eq!(state.try_spend(minute, 10, 6, 2_000), Err(Duration::from_millis(58_250)));
/// assert!(state.try_spend(minute, 10, 6, 60_250).is_ok()); // a new window
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BudgetState {
    /// Window budgets: the start of the window `used` counts in (exchange time, ms).
    window_start: u64,
    /// Units spent in the window, or the level of a decaying counter.
    used: f64,
    /// Decaying counters: when `used` was last brought up to date (exchange time, ms).
    updated_at: u64,
}

/// A window's length in ms, and how long after its boundary the client treats it as begun.
///
/// The margin absorbs what the clock offset estimate and requests in flight may be off by, so
/// that a client never spends a new window's budget while the exchange still counts the old
/// one: 250 ms, or a twentieth of short windows (5% of a one-second window).
fn window(length: Duration) -> (u64, u64) {
    let length = u64::try_from(length.as_millis()).unwrap_or(u64::MAX).max(1);
    (length, (length / 20).min(250))
}

impl BudgetState {
    /// Brings the state to `now`: a new window starts empty, a counter decays.
    fn roll(&mut self, refill: Refill, now: u64) {
        match refill {
            Refill::Window(length) => {
                let (length, margin) = window(length);
                let shifted = now.saturating_sub(margin);
                let start = shifted - shifted % length;
                if start > self.window_start {
                    self.window_start = start;
                    self.used = 0.0;
                }
            }
            Refill::Decay { units_per_second } => {
                let elapsed = now.saturating_sub(self.updated_at) as f64 / 1000.0;
                self.used = (self.used - elapsed * units_per_second).max(0.0);
                self.updated_at = now.max(self.updated_at);
            }
        }
    }

    /// How long until `cost` more units fit under `limit`, or zero if they fit now.
    pub fn wait_for(&mut self, refill: Refill, limit: u64, cost: u64, now: u64) -> Duration {
        self.roll(refill, now);
        if cost == 0 || self.used + cost as f64 <= limit as f64 {
            return Duration::ZERO;
        }
        match refill {
            Refill::Window(length) => {
                let (length, margin) = window(length);
                Duration::from_millis((self.window_start + length + margin).saturating_sub(now).max(1))
            }
            Refill::Decay { units_per_second } if units_per_second > 0.0 => {
                let excess = self.used + cost as f64 - limit as f64;
                Duration::from_secs_f64(excess / units_per_second)
            }
            Refill::Decay { .. } => Duration::MAX,
        }
    }

    /// Spends `cost` units if they fit, or says how long to wait.
    pub fn try_spend(&mut self, refill: Refill, limit: u64, cost: u64, now: u64) -> Result<(), Duration> {
        let wait = self.wait_for(refill, limit, cost, now);
        if wait.is_zero() {
            self.used += cost as f64;
            Ok(())
        } else {
            Err(wait)
        }
    }

    /// Spends `cost` units whether or not they fit (after `wait_for` said they do).
    pub fn spend(&mut self, cost: u64) {
        self.used += cost as f64;
    }

    /// Takes the server's count of used units when it is higher than ours: it also counts
    /// requests of other clients on the same key or IP.
    pub fn observe_used(&mut self, refill: Refill, used: u64, now: u64) {
        self.roll(refill, now);
        self.used = self.used.max(used as f64);
    }

    /// Marks the budget as spent for the rest of the window (after a 429).
    pub fn exhaust(&mut self, refill: Refill, limit: u64, now: u64) {
        self.roll(refill, now);
        self.used = self.used.max(limit as f64);
    }

    /// Units spent in the current window (or the counter's level), rounded up.
    pub fn used(&self) -> u64 {
        self.used.ceil() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_to_unix_time() {
        let minute = Refill::Window(Duration::from_secs(60));
        let mut state = BudgetState::default();
        assert!(state.try_spend(minute, 2, 2, 59_000).is_ok());
        assert_eq!(state.try_spend(minute, 2, 1, 59_500), Err(Duration::from_millis(750)));
        assert_eq!(state.try_spend(minute, 2, 1, 60_100), Err(Duration::from_millis(150)));
        assert!(state.try_spend(minute, 2, 2, 60_250).is_ok());
    }

    #[test]
    fn a_decaying_counter_waits_for_exactly_enough_decay() {
        let kraken = Refill::Decay { units_per_second: 0.5 };
        let mut state = BudgetState::default();
        assert!(state.try_spend(kraken, 15, 15, 0).is_ok());
        assert_eq!(state.try_spend(kraken, 15, 2, 0), Err(Duration::from_secs(4)));
        assert!(state.try_spend(kraken, 15, 2, 4_000).is_ok());
    }

    #[test]
    fn the_server_count_wins_when_higher() {
        let minute = Refill::Window(Duration::from_secs(60));
        let mut state = BudgetState::default();
        state.spend(3);
        state.observe_used(minute, 50, 10);
        assert_eq!(state.used(), 50);
        state.observe_used(minute, 20, 20);
        assert_eq!(state.used(), 50);
    }
}
