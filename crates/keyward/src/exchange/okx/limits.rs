//! OKX v5's request limits, as its documentation states them.
//!
//! OKX limits each endpoint on its own, in requests per 2 seconds (per user ID for private
//! endpoints, per IP for public ones): 60 for placing, amending, cancelling and reading orders,
//! 20 for tickers and instruments, 10 for the balance, the positions and the server time. Two
//! budgets model that, in this order:
//! 0. `REQUEST`: 60 units per 2 s, kept separately for each endpoint; a request costs
//!    `60 / its endpoint's limit` units (1 for an order, 3 for a ticker, 6 for the balance), so
//!    one budget holds every endpoint's own limit. Endpoints missing from the table cost 6, as if
//!    limited to 10 requests, the lowest documented limit.
//! 1. `SUB_ACCOUNT_ORDERS`: 1000 order placements and amendments per 2 s per sub-account.
//!
//! OKX sends no rate-limit headers, so nothing is observed; a `50011` rejection is classified as
//! rate-limited. See <https://www.okx.com/docs-v5/en/#overview-rate-limits>.
//!
//! Simplifications: the order limits are per instrument, and a per-endpoint budget is shared by
//! all instruments (stricter than OKX); a batch request is charged as one request although OKX
//! counts each order in it, because its body is not part of the cost.

use crate::rate_limit::{BudgetSpec, Cost, Observation, RateLimitSpec, Refill};
use http::{HeaderMap, Method};
use std::time::Duration;

/// Units of the per-endpoint budget: the least common multiple of the modelled limits.
const UNITS: u64 = 60;

/// OKX's budgets.
pub(crate) static LIMITS: RateLimitSpec = RateLimitSpec {
    budgets: &[
        BudgetSpec::new("REQUEST", UNITS, Refill::Window(Duration::from_secs(2))).per_endpoint(),
        BudgetSpec::new("SUB_ACCOUNT_ORDERS", 1_000, Refill::Window(Duration::from_secs(2))),
    ],
    cost,
    observe,
    live_limits: None,
};

/// The endpoint's share of its 2-second limit, and one order for placements and amendments.
fn cost(method: &Method, path: &str, _query: &str) -> Cost {
    let requests_per_2s = match (method.as_str(), path) {
        ("POST", "/api/v5/trade/order" | "/api/v5/trade/amend-order" | "/api/v5/trade/cancel-order") => 60,
        ("GET", "/api/v5/trade/order" | "/api/v5/trade/orders-pending") => 60,
        ("GET", "/api/v5/market/ticker" | "/api/v5/market/tickers" | "/api/v5/public/instruments") => 20,
        ("GET", "/api/v5/account/balance" | "/api/v5/account/positions" | "/api/v5/public/time") => 10,
        _ => 10,
    };
    let orders = match (method.as_str(), path) {
        ("POST", "/api/v5/trade/order" | "/api/v5/trade/amend-order") => 1,
        _ => 0,
    };
    Cost::of(&[UNITS / requests_per_2s, orders])
}

/// OKX publishes no counters in its headers.
fn observe(_headers: &HeaderMap, _seen: &mut Vec<Observation>) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(method: Method, path: &str) -> [u64; 2] {
        let all = *(LIMITS.cost)(&method, path, "").units();
        [all[0], all[1]]
    }

    /// How many requests to `path` fit in one 2-second window of its endpoint's budget.
    fn requests_per_window(method: Method, path: &str) -> u64 {
        LIMITS.budgets[0].limit / units(method, path)[0]
    }

    #[test]
    fn an_order_placement_costs_one_sixtieth_of_its_endpoint_and_one_sub_account_order() {
        assert_eq!(units(Method::POST, "/api/v5/trade/order"), [1, 1]);
        assert_eq!(requests_per_window(Method::POST, "/api/v5/trade/order"), 60);
        assert!(LIMITS.budgets[0].per_endpoint);
        assert!(!LIMITS.budgets[1].per_endpoint);
        assert_eq!(LIMITS.budgets[1].limit, 1_000);
    }

    #[test]
    fn each_endpoint_fits_its_documented_limit_per_2_seconds() {
        assert_eq!(requests_per_window(Method::GET, "/api/v5/account/balance"), 10);
        assert_eq!(requests_per_window(Method::GET, "/api/v5/public/time"), 10);
        assert_eq!(requests_per_window(Method::GET, "/api/v5/market/ticker"), 20);
        assert_eq!(requests_per_window(Method::POST, "/api/v5/trade/cancel-order"), 60);
        assert_eq!(units(Method::POST, "/api/v5/trade/cancel-order")[1], 0);
        // Unknown endpoints are held to the lowest documented limit.
        assert_eq!(requests_per_window(Method::GET, "/api/v5/asset/balances"), 10);
    }

    #[test]
    fn no_headers_are_observed() {
        let mut headers = HeaderMap::new();
        headers.insert("Retry-After", http::HeaderValue::from_static("1"));
        let mut seen = Vec::new();
        (LIMITS.observe)(&headers, &mut seen);
        assert!(seen.is_empty());
    }
}
