//! One budget's counter: how many units are spent now, and when they come back.

use super::{Budget, Refill};

/// The spent units of one budget (for one endpoint, where budgets are per endpoint).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Meter {
    /// Units spent in the current window, or still undrained.
    used: f64,
    /// The start of the current window, or the moment `used` was last drained.
    since_ms: i64,
    /// Whether a window is open (windows that open with a request start closed).
    open: bool,
}

impl Meter {
    /// Brings the counter up to `now_ms`: a new window empties it, time drains it.
    pub(super) fn settle(&mut self, budget: &Budget, now_ms: i64) {
        match budget.refill {
            Refill::AlignedWindow { window_ms } => {
                let window_start = now_ms - now_ms.rem_euclid(window_ms);
                if !self.open || self.since_ms != window_start {
                    *self = Self {
                        used: 0.0,
                        since_ms: window_start,
                        open: true,
                    };
                }
            }
            Refill::WindowFromFirstRequest { window_ms } => {
                if self.open && now_ms >= self.since_ms.saturating_add(window_ms) {
                    *self = Self::default();
                }
            }
            Refill::Drain { window_ms } => {
                // A clock moved backwards by a test drains nothing, and restarts from there.
                let elapsed = (now_ms - self.since_ms).max(0) as f64;
                let drained = if self.open {
                    elapsed * drain_per_ms(budget, window_ms)
                } else {
                    0.0
                };
                *self = Self {
                    used: (self.used - drained).max(0.0),
                    since_ms: now_ms,
                    open: true,
                };
            }
        }
    }

    /// Units spent, rounded up: a half-drained unit is still spent.
    pub(super) fn used(&self) -> u64 {
        self.used.ceil() as u64
    }

    /// Whether `cost` more units fit in the budget.
    pub(super) fn fits(&self, budget: &Budget, cost: u64) -> bool {
        // A tiny tolerance, so that float drain never refuses a unit that has just come back.
        self.used + cost as f64 <= budget.limit as f64 + 1e-9
    }

    /// Spends `cost` units (after [`settle`](Self::settle)).
    pub(super) fn spend(&mut self, budget: &Budget, now_ms: i64, cost: u64) {
        if let Refill::WindowFromFirstRequest { .. } = budget.refill {
            if !self.open {
                self.open = true;
                self.since_ms = now_ms;
            }
        }
        self.used += cost as f64;
    }

    /// When the spent units are all back: the end of the window, or when the drain reaches zero.
    pub(super) fn resets_at_ms(&self, budget: &Budget, now_ms: i64) -> i64 {
        match budget.refill {
            Refill::AlignedWindow { window_ms } => self.since_ms + window_ms,
            Refill::WindowFromFirstRequest { window_ms } => {
                if self.open {
                    self.since_ms + window_ms
                } else {
                    now_ms + window_ms
                }
            }
            Refill::Drain { window_ms } => now_ms + (self.used / drain_per_ms(budget, window_ms)).ceil() as i64,
        }
    }

    /// How long until `cost` units fit, when they do not fit now.
    pub(super) fn retry_after_ms(&self, budget: &Budget, now_ms: i64, cost: u64) -> i64 {
        match budget.refill {
            Refill::AlignedWindow { .. } | Refill::WindowFromFirstRequest { .. } => {
                (self.resets_at_ms(budget, now_ms) - now_ms).max(1)
            }
            Refill::Drain { window_ms } => {
                // A cost above the whole budget never fits; a full window is the honest bound.
                let excess = (self.used + cost as f64 - budget.limit as f64).max(0.0);
                let wait = (excess / drain_per_ms(budget, window_ms)).ceil() as i64;
                wait.clamp(1, window_ms)
            }
        }
    }
}

fn drain_per_ms(budget: &Budget, window_ms: i64) -> f64 {
    budget.limit as f64 / window_ms.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_windows_empty_at_their_boundary() {
        let budget = Budget::window("REQUEST_WEIGHT", 10, 60_000);
        let mut meter = Meter::default();
        meter.settle(&budget, 120_500);
        meter.spend(&budget, 120_500, 10);
        assert!(!meter.fits(&budget, 1));
        assert_eq!(meter.resets_at_ms(&budget, 120_500), 180_000);
        assert_eq!(meter.retry_after_ms(&budget, 179_000, 1), 1_000);
        meter.settle(&budget, 180_000);
        assert_eq!(meter.used(), 0);
    }

    #[test]
    fn windows_from_the_first_request_open_with_it() {
        let budget = Budget::from_first_request("pool", 4, 30_000);
        let mut meter = Meter::default();
        meter.settle(&budget, 1_234);
        meter.spend(&budget, 1_234, 4);
        assert_eq!(meter.resets_at_ms(&budget, 2_000), 31_234);
        meter.settle(&budget, 31_233);
        assert!(!meter.fits(&budget, 1));
        meter.settle(&budget, 31_234);
        assert!(meter.fits(&budget, 4));
        assert_eq!(
            meter.resets_at_ms(&budget, 40_000),
            70_000,
            "closed until the next request"
        );
    }

    #[test]
    fn a_drain_gives_units_back_continuously() {
        // Kraken's starter tier: a counter of at most 15, decaying by 0.33 per second.
        let budget = Budget::drain("counter", 15, 45_455);
        let mut meter = Meter::default();
        meter.settle(&budget, 0);
        meter.spend(&budget, 0, 15);
        assert!(!meter.fits(&budget, 1));
        let wait = meter.retry_after_ms(&budget, 0, 1);
        assert!((3_000..3_100).contains(&wait), "{wait}");
        meter.settle(&budget, wait);
        assert!(meter.fits(&budget, 1));
        assert_eq!(meter.used(), 14);
        assert_eq!(
            meter.retry_after_ms(&budget, wait, 100),
            45_455,
            "never fits: one window"
        );
    }
}
