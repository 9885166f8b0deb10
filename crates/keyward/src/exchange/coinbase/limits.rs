//! Coinbase Exchange's request limits, as its documentation states them.
//!
//! Coinbase Exchange limits requests with lazily refilled token buckets: a bucket holds a burst
//! and refills at a steady rate. Four buckets, in this order:
//! 0. `private`: 15 requests per second per profile, bursts up to 30;
//! 1. `public`: 10 requests per second per IP, bursts up to 15 (products, currencies, time);
//! 2. `fills`: `/fills` has its own, 10 per second, bursts up to 20;
//! 3. `loans`: `/loans` has its own, 10 per second (`/loans/assets` is not limited).
//!
//! A bucket is a counter that holds at most the burst and decays at the rate. Coinbase sends no
//! rate-limit headers, so nothing is observed; breaking a limit gets HTTP 429. See
//! <https://docs.cdp.coinbase.com/exchange/rest-api/rate-limits>.

use crate::rate_limit::{BudgetSpec, Cost, Observation, RateLimitSpec, Refill};
use http::{HeaderMap, Method};

/// Coinbase Exchange's buckets.
pub(crate) static LIMITS: RateLimitSpec = RateLimitSpec {
    budgets: &[
        BudgetSpec::new("private", 30, Refill::Decay { units_per_second: 15.0 }),
        BudgetSpec::new("public", 15, Refill::Decay { units_per_second: 10.0 }),
        BudgetSpec::new("fills", 20, Refill::Decay { units_per_second: 10.0 }),
        BudgetSpec::new("loans", 10, Refill::Decay { units_per_second: 10.0 }),
    ],
    cost,
    observe,
    live_limits: None,
};

/// One request from the bucket that limits the endpoint.
fn cost(_method: &Method, path: &str, _query: &str) -> Cost {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if under("/loans/assets") {
        Cost::FREE
    } else if under("/products") || under("/currencies") || under("/time") {
        Cost::of(&[0, 1])
    } else if under("/fills") {
        Cost::of(&[0, 0, 1])
    } else if under("/loans") {
        Cost::of(&[0, 0, 0, 1])
    } else {
        Cost::of(&[1])
    }
}

/// Coinbase Exchange publishes no counters in its headers.
fn observe(_headers: &HeaderMap, _seen: &mut Vec<Observation>) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(method: Method, path: &str) -> [u64; 4] {
        *(LIMITS.cost)(&method, path, "").units()
    }

    #[test]
    fn an_order_placement_spends_one_private_request() {
        assert_eq!(units(Method::POST, "/orders"), [1, 0, 0, 0]);
        assert_eq!(units(Method::GET, "/accounts"), [1, 0, 0, 0]);
    }

    #[test]
    fn public_fills_and_loans_endpoints_spend_their_own_bucket() {
        assert_eq!(units(Method::GET, "/products/BTC-USD/book"), [0, 1, 0, 0]);
        assert_eq!(units(Method::GET, "/time"), [0, 1, 0, 0]);
        assert_eq!(units(Method::GET, "/currencies"), [0, 1, 0, 0]);
        assert_eq!(units(Method::GET, "/fills"), [0, 0, 1, 0]);
        assert_eq!(units(Method::GET, "/loans"), [0, 0, 0, 1]);
        assert_eq!(units(Method::GET, "/loans/assets"), [0, 0, 0, 0]);
        // A path that only begins like a public one is private.
        assert_eq!(units(Method::GET, "/timeline"), [1, 0, 0, 0]);
    }

    #[test]
    fn buckets_hold_the_burst_and_refill_at_the_rate() {
        let private = LIMITS.budgets[0];
        assert_eq!(
            (private.limit, private.refill),
            (30, Refill::Decay { units_per_second: 15.0 })
        );
        let public = LIMITS.budgets[1];
        assert_eq!(
            (public.limit, public.refill),
            (15, Refill::Decay { units_per_second: 10.0 })
        );
    }
}
