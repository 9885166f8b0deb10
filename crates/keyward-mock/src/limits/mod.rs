//! Rate-limit budgets as each exchange documents them, and Binance's escalating IP bans.
//!
//! An exchange declares its budgets (`Protocol::budgets`) and what each request costs
//! (`Protocol::charges`); [`Limits`] keeps the counters and decides, before the exchange sees a
//! request, whether it is admitted, throttled (the exchange's "too many requests"), or refused
//! because the client is banned. The exchange then writes its own headers and bodies from the
//! resulting [`Usage`]s. Every decision reads the mock's clock, so an injected time source moves
//! windows, drains and bans alike.
//!
//! The mock is one account seen from one address: budgets are shared by all its keys, except
//! where a charge names its own scope (an endpoint, or Kraken's per-key counter).

mod meter;

use crate::record::Ban;
use meter::Meter;
use std::{collections::HashMap, sync::Mutex};

/// How long after a 429 requests already in flight may still arrive without a ban: a client
/// that backs off within a second is backing off; Binance bans clients that keep sending.
pub(crate) const STRAGGLER_GRACE_MS: i64 = 1_000;

/// Binance's first IP ban and its longest: "IP bans are tracked and scale in duration for repeat
/// offenders, from 2 minutes to 3 days". Each ban doubles the previous one.
const FIRST_BAN_MS: i64 = 2 * 60_000;
const LONGEST_BAN_MS: i64 = 3 * 24 * 3_600_000;

/// How a budget's spent units come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refill {
    /// All at the end of each window; windows are aligned on multiples of their length in
    /// exchange time (Binance's minute starts at :00).
    AlignedWindow {
        /// The window's length.
        window_ms: i64,
    },
    /// All at the end of each window; a window opens with the first request after the previous
    /// one closed (KuCoin: "starting from the arrival time of the user's first request").
    WindowFromFirstRequest {
        /// The window's length.
        window_ms: i64,
    },
    /// Continuously, `limit` units per window: a token bucket seen from its spent side (Coinbase,
    /// BitMEX), or Kraken's decaying call counter.
    Drain {
        /// The time the whole budget takes to come back.
        window_ms: i64,
    },
}

/// One budget, in the exchange's own units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Budget {
    /// The exchange's name for it (`REQUEST_WEIGHT`, `ORDERS`, ...), or the mock's.
    pub(crate) name: &'static str,
    /// How many units fit.
    pub(crate) limit: u64,
    /// How spent units come back.
    pub(crate) refill: Refill,
    /// Whether [`Builder::weight_limit`](crate::Builder::weight_limit) replaces it.
    pub(crate) primary: bool,
    /// Whether a client that keeps exceeding it is banned (Binance's IP limits).
    pub(crate) bans: bool,
}

impl Budget {
    /// A primary budget with windows aligned on the clock.
    pub(crate) const fn window(name: &'static str, limit: u64, window_ms: i64) -> Self {
        Self::new(name, limit, Refill::AlignedWindow { window_ms })
    }

    /// A primary budget whose windows open with a request.
    pub(crate) const fn from_first_request(name: &'static str, limit: u64, window_ms: i64) -> Self {
        Self::new(name, limit, Refill::WindowFromFirstRequest { window_ms })
    }

    /// A primary budget that drains continuously.
    pub(crate) const fn drain(name: &'static str, limit: u64, window_ms: i64) -> Self {
        Self::new(name, limit, Refill::Drain { window_ms })
    }

    const fn new(name: &'static str, limit: u64, refill: Refill) -> Self {
        Self {
            name,
            limit,
            refill,
            primary: true,
            bans: false,
        }
    }

    /// The same budget, left alone by `weight_limit` (Binance's order counts, say).
    pub(crate) const fn secondary(mut self) -> Self {
        self.primary = false;
        self
    }

    /// The same budget, whose repeated violation bans the client.
    pub(crate) const fn banning(mut self) -> Self {
        self.bans = true;
        self
    }

    /// The window length (for a drain: the time the whole budget takes to come back).
    pub(crate) fn window_ms(&self) -> i64 {
        match self.refill {
            Refill::AlignedWindow { window_ms }
            | Refill::WindowFromFirstRequest { window_ms }
            | Refill::Drain { window_ms } => window_ms,
        }
    }

    /// The same kind of budget with another limit and window.
    fn resized(mut self, limit: u64, window_ms: i64) -> Self {
        self.limit = limit;
        self.refill = match self.refill {
            Refill::AlignedWindow { .. } => Refill::AlignedWindow { window_ms },
            Refill::WindowFromFirstRequest { .. } => Refill::WindowFromFirstRequest { window_ms },
            Refill::Drain { .. } => Refill::Drain { window_ms },
        };
        self
    }
}

/// What one request spends of one budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Charge {
    /// The index of the budget in the exchange's list.
    pub(crate) budget: usize,
    /// Whose counter: empty for the account's, an endpoint or a key for budgets kept apart.
    pub(crate) scope: String,
    /// Units spent.
    pub(crate) cost: u64,
}

impl Charge {
    /// `cost` units of the account-wide budget `budget`.
    pub(crate) fn shared(budget: usize, cost: u64) -> Self {
        Self {
            budget,
            scope: String::new(),
            cost,
        }
    }

    /// `cost` units of budget `budget` as kept for `scope` alone.
    pub(crate) fn scoped(budget: usize, scope: &str, cost: u64) -> Self {
        Self {
            budget,
            scope: scope.to_owned(),
            cost,
        }
    }
}

/// Where one budget stands after a decision, for the exchange's headers and bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Usage {
    /// The budget as configured.
    pub(crate) budget: Budget,
    /// Units spent, this request included if it was admitted.
    pub(crate) used: u64,
    /// When all spent units are back.
    pub(crate) resets_at_ms: i64,
    /// The exchange's clock at the decision.
    pub(crate) now_ms: i64,
}

impl Usage {
    /// Units left.
    pub(crate) fn remaining(&self) -> u64 {
        self.budget.limit.saturating_sub(self.used)
    }
}

/// The decision about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Serve it; the budgets it spent stand here.
    Admitted(Vec<Usage>),
    /// A budget is spent: nothing was charged.
    Throttled {
        /// Where every budget the request touches stands.
        usages: Vec<Usage>,
        /// The budget that is spent.
        exceeded: Usage,
        /// How long until the request would fit.
        retry_after_ms: i64,
    },
    /// The client is banned until then.
    Banned {
        /// The end of the ban, in exchange time.
        until_ms: i64,
        /// The exchange's clock at the decision.
        now_ms: i64,
    },
}

/// The budgets of one running mock and their counters.
#[derive(Debug)]
pub(crate) struct Limits {
    budgets: Vec<Budget>,
    state: Mutex<Counters>,
    /// Requests that arrived so far: numbers each arrival, so that a ban knows which requests
    /// came after it even when the exchange's clock jumped back meanwhile.
    arrivals: std::sync::atomic::AtomicU64,
}

#[derive(Debug, Default)]
struct Counters {
    meters: HashMap<(usize, String), Meter>,
    /// The end of the `Retry-After` of the last 429 from a banning budget.
    throttled_until_ms: Option<i64>,
    /// When that 429 was sent.
    throttled_at_ms: i64,
    banned_until_ms: Option<i64>,
    bans_so_far: u32,
    /// Every ban so far; kept across [`Limits::reset`].
    ban_log: Vec<Ban>,
}

impl Limits {
    /// The exchange's documented budgets, with every primary one replaced by `primary` (limit,
    /// window) when given.
    pub(crate) fn new(documented: &[Budget], primary: Option<(u64, i64)>) -> Self {
        let budgets = documented
            .iter()
            .map(|budget| match primary {
                Some((limit, window_ms)) if budget.primary => budget.resized(limit, window_ms),
                _ => *budget,
            })
            .collect();
        Self {
            budgets,
            state: Mutex::default(),
            arrivals: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Numbers a request that just arrived, from 0.
    pub(crate) fn count_arrival(&self) -> u64 {
        self.arrivals.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    }

    fn log_ban(&self, counters: &mut Counters, window_ms: std::ops::Range<i64>) {
        let arrivals_before = self.arrivals.load(std::sync::atomic::Ordering::SeqCst);
        counters.ban_log.push(Ban {
            window_ms,
            arrivals_before,
        });
    }

    /// The budgets in force, in the exchange's order.
    pub(crate) fn budgets(&self) -> &[Budget] {
        &self.budgets
    }

    /// Decides about a request that costs `charges`, and spends them if it is admitted. All or
    /// nothing: a request refused by one budget spends none.
    pub(crate) fn admit(&self, now_ms: i64, charges: &[Charge]) -> Admission {
        let mut counters = self.lock();
        if let Some(until_ms) = counters.banned_until_ms.filter(|until| *until > now_ms) {
            return Admission::Banned { until_ms, now_ms };
        }

        let mut refusal = None;
        for charge in charges {
            let Some(budget) = self.budgets.get(charge.budget) else {
                continue;
            };
            let meter = counters
                .meters
                .entry((charge.budget, charge.scope.clone()))
                .or_default();
            meter.settle(budget, now_ms);
            if refusal.is_none() && !meter.fits(budget, charge.cost) {
                refusal = Some((*budget, *meter, meter.retry_after_ms(budget, now_ms, charge.cost)));
            }
        }

        if let Some((budget, meter, retry_after_ms)) = refusal {
            let usages = self.usages(&counters, charges, now_ms);
            if budget.bans {
                let backing_off = now_ms - counters.throttled_at_ms <= STRAGGLER_GRACE_MS;
                if counters.throttled_until_ms.is_some_and(|until| until > now_ms) && !backing_off {
                    // Still sending inside the Retry-After of an earlier 429, well after it:
                    // Binance bans the IP ("failing to back off after receiving 429s").
                    let ban_ms = FIRST_BAN_MS
                        .saturating_mul(1_i64 << counters.bans_so_far.min(20))
                        .min(LONGEST_BAN_MS);
                    counters.bans_so_far = counters.bans_so_far.saturating_add(1);
                    counters.throttled_until_ms = None;
                    let until_ms = now_ms.saturating_add(ban_ms);
                    counters.banned_until_ms = Some(until_ms);
                    self.log_ban(&mut counters, now_ms..until_ms);
                    return Admission::Banned { until_ms, now_ms };
                }
                if counters.throttled_until_ms.is_none_or(|until| until <= now_ms) {
                    counters.throttled_at_ms = now_ms;
                }
                counters.throttled_until_ms = Some(now_ms.saturating_add(retry_after_ms));
            }
            let exceeded = Usage {
                budget,
                used: meter.used(),
                resets_at_ms: meter.resets_at_ms(&budget, now_ms),
                now_ms,
            };
            return Admission::Throttled {
                usages,
                exceeded,
                retry_after_ms,
            };
        }

        for charge in charges {
            let Some(budget) = self.budgets.get(charge.budget) else {
                continue;
            };
            if let Some(meter) = counters.meters.get_mut(&(charge.budget, charge.scope.clone())) {
                meter.spend(budget, now_ms, charge.cost);
            }
        }
        Admission::Admitted(self.usages(&counters, charges, now_ms))
    }

    /// The end of the current ban, if the client is banned at `now_ms`.
    pub(crate) fn banned_until_ms(&self, now_ms: i64) -> Option<i64> {
        self.lock().banned_until_ms.filter(|until| *until > now_ms)
    }

    /// Bans the client from `now_ms` for `duration_ms`, as a repeat offence would, whatever
    /// its conduct; the ban counts as an offence for the next one's length.
    pub(crate) fn ban(&self, now_ms: i64, duration_ms: i64) -> std::ops::Range<i64> {
        let mut counters = self.lock();
        let until_ms = now_ms.saturating_add(duration_ms.max(1));
        counters.banned_until_ms = Some(until_ms);
        counters.bans_so_far = counters.bans_so_far.saturating_add(1);
        counters.throttled_until_ms = None;
        self.log_ban(&mut counters, now_ms..until_ms);
        now_ms..until_ms
    }

    /// Every ban so far, in the order they began.
    pub(crate) fn bans(&self) -> Vec<Ban> {
        self.lock().ban_log.clone()
    }

    /// Forgets every counter, ban and offence, as if the mock had just started. The log of past
    /// bans stays (a ban lifted here ends now).
    pub(crate) fn reset(&self, now_ms: i64) {
        let mut counters = self.lock();
        let mut ban_log = std::mem::take(&mut counters.ban_log);
        if let Some(current) = ban_log.last_mut().filter(|ban| ban.window_ms.end > now_ms) {
            current.window_ms.end = now_ms.max(current.window_ms.start);
        }
        *counters = Counters {
            ban_log,
            ..Counters::default()
        };
    }

    fn usages(&self, counters: &Counters, charges: &[Charge], now_ms: i64) -> Vec<Usage> {
        charges
            .iter()
            .filter_map(|charge| {
                let budget = *self.budgets.get(charge.budget)?;
                let meter = counters.meters.get(&(charge.budget, charge.scope.clone()))?;
                Some(Usage {
                    budget,
                    used: meter.used(),
                    resets_at_ms: meter.resets_at_ms(&budget, now_ms),
                    now_ms,
                })
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
        // Every update happens under one lock and leaves the counters consistent.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEIGHT: Budget = Budget::window("REQUEST_WEIGHT", 10, 60_000).banning();
    const ORDERS: Budget = Budget::window("ORDERS", 2, 10_000).secondary();

    fn admitted(admission: &Admission) -> bool {
        matches!(admission, Admission::Admitted(_))
    }

    #[test]
    fn only_primary_budgets_take_the_configured_limit() {
        let limits = Limits::new(&[WEIGHT, ORDERS], Some((3, 5_000)));
        assert_eq!(limits.budgets()[0].limit, 3);
        assert_eq!(limits.budgets()[0].refill, Refill::AlignedWindow { window_ms: 5_000 });
        assert!(limits.budgets()[0].bans);
        assert_eq!(limits.budgets()[1], ORDERS);
    }

    #[test]
    fn a_refused_request_spends_nothing_of_any_budget() {
        let limits = Limits::new(&[WEIGHT, ORDERS], None);
        let order = [Charge::shared(0, 1), Charge::shared(1, 1)];
        assert!(admitted(&limits.admit(0, &order)));
        assert!(admitted(&limits.admit(1, &order)));
        let Admission::Throttled { usages, exceeded, .. } = limits.admit(2, &order) else {
            panic!("the third order in 10 s is refused");
        };
        assert_eq!(exceeded.budget.name, "ORDERS");
        assert_eq!(usages[0].used, 2, "the refused order cost no weight");
        let Admission::Admitted(usages) = limits.admit(3, &[Charge::shared(0, 8)]) else {
            panic!("the weight budget still has 8");
        };
        assert_eq!((usages[0].used, usages[0].remaining()), (10, 0));
    }

    #[test]
    fn scopes_keep_separate_counters() {
        let limits = Limits::new(&[Budget::window("endpoint", 1, 1_000)], None);
        assert!(admitted(&limits.admit(0, &[Charge::scoped(0, "/a", 1)])));
        assert!(admitted(&limits.admit(0, &[Charge::scoped(0, "/b", 1)])));
        assert!(!admitted(&limits.admit(0, &[Charge::scoped(0, "/a", 1)])));
    }

    #[test]
    fn sending_during_a_retry_after_bans_with_escalation() {
        let limits = Limits::new(&[WEIGHT], None);
        let heavy = [Charge::shared(0, 10)];
        let mut now = 0;
        for ban in 0..14 {
            // A client back from its ban finds a fresh window, and spends it at once again.
            limits.lock().meters.clear();
            assert!(admitted(&limits.admit(now, &heavy)));
            let Admission::Throttled { retry_after_ms, .. } = limits.admit(now + 1, &heavy) else {
                panic!("over budget");
            };
            assert_eq!(
                retry_after_ms,
                60_000 - (now + 1).rem_euclid(60_000),
                "until the window ends"
            );
            // A straggler in flight when the 429 was sent is refused, not banned.
            assert!(matches!(limits.admit(now + 2, &heavy), Admission::Throttled { .. }));
            let late = now + 2 + STRAGGLER_GRACE_MS;
            let Admission::Banned { until_ms, .. } = limits.admit(late, &heavy) else {
                panic!("kept sending during the Retry-After");
            };
            let expected = (FIRST_BAN_MS << ban).min(LONGEST_BAN_MS);
            assert_eq!(until_ms - late, expected, "ban {ban}");
            assert_eq!(
                limits.admit(until_ms - 1, &[]),
                Admission::Banned {
                    until_ms,
                    now_ms: until_ms - 1
                }
            );
            assert_eq!(limits.banned_until_ms(until_ms), None, "lifted at its end");
            now = until_ms;
        }
        assert_eq!(limits.bans().len(), 14);
        assert!(
            limits
                .bans()
                .windows(2)
                .all(|pair| pair[0].window_ms.end <= pair[1].window_ms.start)
        );
        limits.reset(now);
        assert!(admitted(&limits.admit(now, &heavy)));
        assert_eq!(limits.bans().len(), 14, "the log outlives a reset");
    }

    #[test]
    fn a_forced_ban_refuses_everything_until_it_ends_and_is_logged() {
        let limits = Limits::new(&[WEIGHT], None);
        assert_eq!(limits.ban(1_000, 120_000), 1_000..121_000);
        assert!(matches!(
            limits.admit(120_999, &[]),
            Admission::Banned { until_ms: 121_000, .. }
        ));
        assert!(admitted(&limits.admit(121_000, &[Charge::shared(0, 1)])));
        limits.count_arrival();
        limits.ban(200_000, 60_000);
        limits.reset(230_000);
        let windows: Vec<_> = limits
            .bans()
            .into_iter()
            .map(|ban| (ban.window_ms, ban.arrivals_before))
            .collect();
        assert_eq!(windows, [(1_000..121_000, 0), (200_000..230_000, 1)]);
    }

    #[test]
    fn a_client_that_waits_out_the_retry_after_is_not_banned() {
        let limits = Limits::new(&[WEIGHT], None);
        let heavy = [Charge::shared(0, 10)];
        assert!(admitted(&limits.admit(0, &heavy)));
        let Admission::Throttled { retry_after_ms, .. } = limits.admit(1, &heavy) else {
            panic!("over budget");
        };
        assert!(admitted(&limits.admit(1 + retry_after_ms, &heavy)));
    }
}
