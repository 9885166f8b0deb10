//! KuCoin's request limits (rate limit 2.0), as its documentation states them.
//!
//! KuCoin limits requests by resource pool, in weight per 30 seconds; each endpoint documents
//! its pool and weight. Three pools serve the spot API, at the VIP 0 quotas, in this order:
//! 0. `Spot` (spot and margin trading): 4000 per 30 s;
//! 1. `Management` (accounts, deposits, withdrawals, sub-accounts, fees): 2000 per 30 s;
//! 2. `Public` (market data, symbols, currencies, server time): 2000 per 30 s, per IP.
//!
//! Every response carries its pool's counters: `gw-ratelimit-limit` (the pool's quota),
//! `gw-ratelimit-remaining` (weight left) and `gw-ratelimit-reset` (milliseconds until the
//! quota resets, relative, so it is not read: the budget already knows its window). Breaking a
//! pool gets HTTP 429 with code `429000`. See <https://www.kucoin.com/docs-new/rate-limit>.
//!
//! Simplifications:
//! - Weights are listed for the common endpoints (placing an order 2, the account list 5, the
//!   server time 3, all tickers 15); others cost 5, more than most endpoints weigh.
//! - A header names no pool, only its quota: the weight left is applied to the pool whose quota
//!   it reports, and dropped when that is ambiguous (Management and Public both hold 2000 at
//!   VIP 0) or matches no pool (higher VIP levels), so it never corrects the wrong pool.
//! - KuCoin's 30-second window starts at the account's first request, not on Unix time; the
//!   weight left, read from every response, keeps the client's fixed window honest.

use crate::rate_limit::{BudgetSpec, Cost, Observation, RateLimitSpec, Refill};
use http::{HeaderMap, Method};
use std::time::Duration;

const SPOT: usize = 0;
const MANAGEMENT: usize = 1;
const PUBLIC: usize = 2;

/// KuCoin's spot resource pools at VIP 0.
pub(crate) static LIMITS: RateLimitSpec = RateLimitSpec {
    budgets: &[
        BudgetSpec::new("Spot", 4_000, Refill::Window(Duration::from_secs(30))),
        BudgetSpec::new("Management", 2_000, Refill::Window(Duration::from_secs(30))),
        BudgetSpec::new("Public", 2_000, Refill::Window(Duration::from_secs(30))),
    ],
    cost,
    observe,
    live_limits: None,
};

const MANAGEMENT_PATHS: &[&str] = &[
    "/api/v1/accounts",
    "/api/v2/accounts",
    "/api/v3/accounts",
    "/api/v1/sub",
    "/api/v2/sub",
    "/api/v1/deposit",
    "/api/v2/deposit",
    "/api/v3/deposit",
    "/api/v1/withdrawals",
    "/api/v3/withdrawals",
    "/api/v1/base-fee",
    "/api/v1/trade-fees",
    "/api/v2/user-info",
];

const PUBLIC_PATHS: &[&str] = &[
    "/api/v1/market/",
    "/api/v1/symbols",
    "/api/v2/symbols",
    "/api/v1/currencies",
    "/api/v3/currencies",
    "/api/v1/timestamp",
    "/api/v1/status",
    "/api/v1/prices",
    "/api/v1/mark-price",
    "/api/v3/announcements",
];

/// The request's weight, in its endpoint's pool.
fn cost(method: &Method, path: &str, _query: &str) -> Cost {
    let weight = match (method.as_str(), path) {
        ("POST", "/api/v1/orders") => 2,
        ("GET", "/api/v1/accounts") => 5,
        ("GET", "/api/v1/timestamp") => 3,
        ("GET", "/api/v1/market/allTickers") => 15,
        _ => 5,
    };
    let mut units = [0; 3];
    units[pool(path)] = weight;
    Cost::of(&units)
}

fn pool(path: &str) -> usize {
    if PUBLIC_PATHS.iter().any(|prefix| path.starts_with(prefix)) {
        PUBLIC
    } else if MANAGEMENT_PATHS.iter().any(|prefix| path.starts_with(prefix)) {
        MANAGEMENT
    } else {
        SPOT
    }
}

/// Reads the weight left in the pool that the response's quota identifies.
fn observe(headers: &HeaderMap, seen: &mut Vec<Observation>) {
    let (Some(quota), Some(remaining)) = (
        header_u64(headers, "gw-ratelimit-limit"),
        header_u64(headers, "gw-ratelimit-remaining"),
    ) else {
        return;
    };
    let mut pools = LIMITS
        .budgets
        .iter()
        .enumerate()
        .filter(|(_, budget)| budget.limit == quota);
    if let (Some((budget, _)), None) = (pools.next(), pools.next()) {
        seen.push(Observation::Remaining { budget, remaining });
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn units(method: Method, path: &str) -> [u64; 3] {
        let all = *(LIMITS.cost)(&method, path, "").units();
        [all[0], all[1], all[2]]
    }

    fn observed(limit: &'static str, remaining: &'static str) -> Vec<Observation> {
        let mut headers = HeaderMap::new();
        headers.insert("gw-ratelimit-limit", HeaderValue::from_static(limit));
        headers.insert("gw-ratelimit-remaining", HeaderValue::from_static(remaining));
        headers.insert("gw-ratelimit-reset", HeaderValue::from_static("15244"));
        let mut seen = Vec::new();
        (LIMITS.observe)(&headers, &mut seen);
        seen
    }

    #[test]
    fn an_order_placement_weighs_2_in_the_spot_pool() {
        assert_eq!(units(Method::POST, "/api/v1/orders"), [2, 0, 0]);
    }

    #[test]
    fn endpoints_spend_their_own_pool() {
        assert_eq!(units(Method::GET, "/api/v1/accounts"), [0, 5, 0]);
        assert_eq!(units(Method::GET, "/api/v1/accounts/ledgers"), [0, 5, 0]);
        assert_eq!(units(Method::GET, "/api/v1/timestamp"), [0, 0, 3]);
        assert_eq!(units(Method::GET, "/api/v1/market/allTickers"), [0, 0, 15]);
        assert_eq!(units(Method::GET, "/api/v1/market/orderbook/level2_20"), [0, 0, 5]);
        assert_eq!(
            units(Method::DELETE, "/api/v1/orders/5bd6e9286d99522a52e458de"),
            [5, 0, 0]
        );
    }

    #[test]
    fn the_weight_left_goes_to_the_pool_its_quota_names() {
        assert_eq!(
            observed("4000", "3990"),
            [Observation::Remaining {
                budget: SPOT,
                remaining: 3990
            }]
        );
    }

    #[test]
    fn an_ambiguous_or_unknown_quota_corrects_no_pool() {
        // Management and Public both hold 2000 at VIP 0.
        assert!(observed("2000", "1500").is_empty());
        // A VIP 1 spot quota matches none of the documented VIP 0 defaults.
        assert!(observed("6000", "10").is_empty());
        assert!(observed("4000", "unknown").is_empty());
    }
}
