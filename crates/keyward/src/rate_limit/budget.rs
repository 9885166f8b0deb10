//! The arithmetic of one budget: how many units are spent now, and how long until enough come
//! back. Pure functions of the time, so that any store can hold the state.

use super::Refill;
use std::time::Duration;

/// The state of one budget, as a store keeps it.
///
/// Fixed windows are aligned to the exchange's clock, which the client knows only to within a
/// margin `m` (250 ms, or a twentieth of short windows). A request sent at `t` may therefore be
/// counted by the exchange in the window of `t - m` or in that of `t + m`: near a boundary it is
/// counted in both, so that neither window can be overspent, and a window's budget is spent
/// again only once `t - m` is past its end.
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
/// // Full until the next minute, plus the margin of 250 ms.
/// assert_eq!(state.try_spend(minute, 10, 6, 2_000), Err(Duration::from_millis(58_250)));
/// assert!(state.try_spend(minute, 10, 6, 60_250).is_ok()); // a new window
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BudgetState {
    /// Window budgets: the start of the older of the two windows tracked (exchange time, ms).
    window_start: u64,
    /// Units counted in that window, or the level of a decaying counter.
    used: f64,
    /// Window budgets: units counted in the window after it.
    next_used: f64,
    /// Decaying counters: when `used` was last brought up to date (exchange time, ms).
    updated_at: u64,
}

/// Where a request sent at one moment falls among a window budget's windows (all zero for a
/// decaying counter).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Touched {
    /// The window's length, ms.
    length: u64,
    /// How far the client's view of the exchange's clock may be off, ms.
    margin: u64,
    /// The start of the earlier window it may be counted in.
    start: u64,
    /// Whether it may be counted in the next window too.
    spans_next: bool,
}

/// A window's length in ms, and how far the client's view of the exchange's clock may be off.
fn window(length: Duration) -> (u64, u64) {
    let length = u64::try_from(length.as_millis()).unwrap_or(u64::MAX).max(1);
    (length, (length / 20).min(250))
}

/// The windows a request sent at `now` may be counted in: (start, and whether the next one too).
fn touched(length: u64, margin: u64, now: u64) -> (u64, bool) {
    let early = now.saturating_sub(margin);
    let start = early - early % length;
    (start, now + margin >= start + length)
}

impl BudgetState {
    /// Brings the state to `now`: windows that are certainly over are dropped, a counter decays.
    /// Returns, for a window budget, the windows a request sent at `now` may be counted in.
    fn roll(&mut self, refill: Refill, now: u64) -> Touched {
        match refill {
            Refill::Window(length) => {
                let (length, margin) = window(length);
                let (start, spans_next) = touched(length, margin, now);
                if start == self.window_start.saturating_add(length) {
                    self.window_start = start;
                    self.used = std::mem::take(&mut self.next_used);
                } else if start > self.window_start {
                    self.window_start = start;
                    self.used = 0.0;
                    self.next_used = 0.0;
                }
                Touched {
                    length,
                    margin,
                    start,
                    spans_next,
                }
            }
            Refill::Decay { units_per_second } => {
                let elapsed = now.saturating_sub(self.updated_at) as f64 / 1000.0;
                self.used = (self.used - elapsed * units_per_second).max(0.0);
                self.updated_at = now.max(self.updated_at);
                Touched::default()
            }
        }
    }

    /// How long until `cost` more units fit under `limit`, or zero if they fit now.
    pub fn wait_for(&mut self, refill: Refill, limit: u64, cost: u64, now: u64) -> Duration {
        match self.check(refill, limit, cost, now) {
            Ok(_) => Duration::ZERO,
            Err(wait) => wait,
        }
    }

    /// [`wait_for`](Self::wait_for), keeping what [`commit`](Self::commit) needs to spend the
    /// units at the same moment: the window arithmetic (a division) is done once per draw.
    pub(crate) fn check(&mut self, refill: Refill, limit: u64, cost: u64, now: u64) -> Result<Touched, Duration> {
        let touched = self.roll(refill, now);
        let (cost, limit) = (cost as f64, limit as f64);
        if cost == 0.0 {
            return Ok(touched);
        }
        let wait = match refill {
            Refill::Window(_) => {
                let Touched {
                    length,
                    margin,
                    start,
                    spans_next,
                } = touched;
                if self.used + cost > limit {
                    // Until this window is certainly over.
                    return Err(Duration::from_millis(
                        (start + length + margin).saturating_sub(now).max(1),
                    ));
                }
                if spans_next && self.next_used + cost > limit {
                    // The next window is already full: until it is certainly over too.
                    return Err(Duration::from_millis(
                        (start + 2 * length + margin).saturating_sub(now).max(1),
                    ));
                }
                Duration::ZERO
            }
            Refill::Decay { .. } if self.used + cost <= limit => Duration::ZERO,
            Refill::Decay { units_per_second } if units_per_second > 0.0 => {
                // 2% and 10 ms more than the arithmetic says: the exchange's counter may decay a
                // hair slower than its documented rate (Kraken: 0.33/s documented, 15 units over
                // 45.455 s in practice), and one unit too early is a rejection.
                let excess = self.used + cost - limit;
                Duration::from_secs_f64(excess / units_per_second * 1.02) + Duration::from_millis(10)
            }
            Refill::Decay { .. } => Duration::MAX,
        };
        match wait.is_zero() {
            true => Ok(touched),
            false => Err(wait),
        }
    }

    /// Spends `cost` units in the windows `touched` (from [`check`](Self::check) at the same
    /// moment) says the exchange may count them in.
    pub(crate) fn commit(&mut self, cost: u64, touched: Touched) {
        self.used += cost as f64;
        if touched.spans_next {
            self.next_used += cost as f64;
        }
    }

    /// Spends `cost` units if they fit, or says how long to wait.
    pub fn try_spend(&mut self, refill: Refill, limit: u64, cost: u64, now: u64) -> Result<(), Duration> {
        let touched = self.check(refill, limit, cost, now)?;
        self.commit(cost, touched);
        Ok(())
    }

    /// Spends `cost` units at `now`, in every window the exchange may count them in (after
    /// `wait_for` said they fit).
    pub fn spend(&mut self, refill: Refill, cost: u64, now: u64) {
        self.used += cost as f64;
        if let Refill::Window(length) = refill {
            let (length, margin) = window(length);
            if touched(length, margin, now).1 {
                self.next_used += cost as f64;
            }
        }
    }

    /// Takes the server's count of used units when it is higher than ours: it also counts
    /// requests of other clients on the same key or IP.
    ///
    /// `sent` is when the request that reported it was sent: the count belongs to the window
    /// the exchange counted that request in, not to the one current when the answer arrived (an
    /// answer to a request sent just before a boundary must not fill the next window). A count
    /// for a request sent within the margin of a boundary is ambiguous and ignored: that request
    /// was already counted in both windows.
    pub fn observe_used(&mut self, refill: Refill, used: u64, sent: u64) {
        let used = used as f64;
        let Refill::Window(length) = refill else {
            self.roll(refill, sent);
            self.used = self.used.max(used);
            return;
        };
        let (length, margin) = window(length);
        let (start, spans_next) = touched(length, margin, sent);
        if spans_next {
            return;
        }
        if start > self.window_start {
            self.roll(refill, sent);
        }
        if start == self.window_start {
            self.used = self.used.max(used);
        } else if start == self.window_start.saturating_add(length) {
            self.next_used = self.next_used.max(used);
        }
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
    fn a_request_near_a_boundary_counts_in_both_windows() {
        let minute = Refill::Window(Duration::from_secs(60));
        let mut state = BudgetState::default();
        // 100 ms after the boundary: the exchange may still count it in the old window, or in
        // the new one.
        assert!(state.try_spend(minute, 10, 6, 60_100).is_ok());
        // Once the old window is certainly over, the new one still holds those 6 units.
        assert_eq!(
            state.try_spend(minute, 10, 6, 60_300),
            Err(Duration::from_millis(59_950))
        );
        assert!(state.try_spend(minute, 10, 4, 60_300).is_ok());
    }

    #[test]
    fn a_decaying_counter_waits_for_exactly_enough_decay() {
        let kraken = Refill::Decay { units_per_second: 0.5 };
        let mut state = BudgetState::default();
        assert!(state.try_spend(kraken, 15, 15, 0).is_ok());
        assert_eq!(state.try_spend(kraken, 15, 2, 0), Err(Duration::from_millis(4_090)));
        assert!(state.try_spend(kraken, 15, 2, 3_990).is_err());
        assert!(state.try_spend(kraken, 15, 2, 4_090).is_ok());
    }

    #[test]
    fn the_server_count_wins_when_higher() {
        let minute = Refill::Window(Duration::from_secs(60));
        let mut state = BudgetState::default();
        state.spend(minute, 3, 10);
        state.observe_used(minute, 50, 10);
        assert_eq!(state.used(), 50);
        state.observe_used(minute, 20, 20);
        assert_eq!(state.used(), 50);
    }

    #[test]
    fn a_late_answer_does_not_fill_the_next_window() {
        let minute = Refill::Window(Duration::from_secs(60));
        let mut state = BudgetState::default();
        assert!(state.try_spend(minute, 100, 90, 70_000).is_ok());
        // The next window begins; then the answer to a request sent in the old one arrives.
        assert!(state.try_spend(minute, 100, 10, 120_300).is_ok());
        state.observe_used(minute, 95, 70_010);
        assert_eq!(state.used(), 10);
    }
}
