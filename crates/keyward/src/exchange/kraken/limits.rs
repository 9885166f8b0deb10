//! Kraken spot REST's call counter, as its documentation states it.
//!
//! Every API key has a counter that private calls raise and time lowers: ledger and trade
//! history calls add 2, other calls 1, and `AddOrder` and `CancelOrder` nothing (they count on
//! the matching engine's separate per-pair limiter instead). A call that would take the counter
//! past its maximum is refused with `EAPI:Rate limit exceeded`. The maximum and the decay depend
//! on the account's verification tier:
//!
//! | Tier         | Maximum | Decay     |
//! |--------------|---------|-----------|
//! | Starter      | 15      | 0.33 /s   |
//! | Intermediate | 20      | 0.5 /s    |
//! | Pro          | 20      | 1 /s      |
//!
//! keyward cannot see the tier, so it assumes the most conservative one, Starter (15, decaying at
//! 0.33 per second): correct for every account, and slower than necessary for higher tiers.
//! Kraken sends no counter headers. See
//! <https://docs.kraken.com/api/docs/guides/spot-rest-ratelimits>.
//!
//! Simplifications: public endpoints are throttled per IP, not on this counter, and are not
//! modelled; `QueryTrades` is counted as trade history (2), the safe reading; the matching
//! engine's per-pair order limiter, which penalises orders cancelled soon after placement, is
//! not modelled.

use crate::rate_limit::{BudgetSpec, Cost, Observation, RateLimitSpec, Refill};
use http::{HeaderMap, Method};

/// Kraken's call counter, at the Starter tier.
pub(crate) static LIMITS: RateLimitSpec = RateLimitSpec {
    budgets: &[BudgetSpec::new(
        "call counter",
        15,
        Refill::Decay { units_per_second: 0.33 },
    )],
    cost,
    observe,
    live_limits: None,
};

/// What a call adds to the counter.
fn cost(_method: &Method, path: &str, _query: &str) -> Cost {
    let Some(call) = path.strip_prefix("/0/private/") else {
        return Cost::FREE;
    };
    match call {
        "AddOrder" | "CancelOrder" => Cost::FREE,
        "Ledgers" | "QueryLedgers" | "TradesHistory" | "QueryTrades" => Cost::of(&[2]),
        _ => Cost::of(&[1]),
    }
}

/// Kraken publishes no counter in its headers.
fn observe(_headers: &HeaderMap, _seen: &mut Vec<Observation>) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(path: &str) -> u64 {
        (LIMITS.cost)(&Method::POST, path, "").units()[0]
    }

    #[test]
    fn order_placement_and_cancellation_do_not_count() {
        assert_eq!(counted("/0/private/AddOrder"), 0);
        assert_eq!(counted("/0/private/CancelOrder"), 0);
    }

    #[test]
    fn history_calls_count_two_and_others_one() {
        assert_eq!(counted("/0/private/Ledgers"), 2);
        assert_eq!(counted("/0/private/QueryLedgers"), 2);
        assert_eq!(counted("/0/private/TradesHistory"), 2);
        assert_eq!(counted("/0/private/Balance"), 1);
        assert_eq!(counted("/0/private/OpenOrders"), 1);
        assert_eq!(counted("/0/private/EditOrder"), 1);
        assert_eq!(counted("/0/public/Time"), 0);
    }

    #[test]
    fn the_default_is_the_starter_tier() {
        let [counter] = LIMITS.budgets else {
            panic!("one budget")
        };
        assert_eq!(counter.limit, 15);
        assert_eq!(counter.refill, Refill::Decay { units_per_second: 0.33 });
        assert!(!counter.per_endpoint);
    }
}
