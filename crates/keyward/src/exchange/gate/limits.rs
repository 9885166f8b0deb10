//! Gate APIv4's spot request limits, as its documentation states them.
//!
//! Gate limits each endpoint on its own. Two budgets model that, both kept separately for each
//! endpoint, in this order:
//! 0. `endpoint`: 200 requests per 10 s, for public endpoints (per IP) and private ones (per UID);
//! 1. `orders`: 10 requests per second for placing and amending spot orders (per UID and market).
//!
//! Every response carries the endpoint's counters: `X-Gate-RateLimit-Limit` (its limit),
//! `X-Gate-RateLimit-Requests-Remain` (requests left) and `X-Gate-RateLimit-Reset-Timestamp`
//! (when the limit resets if it was exceeded; otherwise just the current time). The requests left
//! are applied to the budget whose limit the response reports, and dropped if it matches neither,
//! so they never correct the wrong budget. The reset timestamp is read in seconds or milliseconds,
//! whichever its size shows, because the documentation does not say. See
//! <https://www.gate.io/docs/developers/apiv4/en/#frequency-limit-rule>.
//!
//! Simplifications: the order limit is per market, and one budget is shared by all markets
//! (stricter than Gate); cancellations (200 per second per UID) are held to the 200 per 10 s of
//! other endpoints.

use crate::rate_limit::{BudgetSpec, Cost, Observation, RateLimitSpec, Refill};
use http::{HeaderMap, Method};
use std::time::Duration;

/// Gate's budgets.
pub(crate) static LIMITS: RateLimitSpec = RateLimitSpec {
    budgets: &[
        BudgetSpec::new("endpoint", 200, Refill::Window(Duration::from_secs(10))).per_endpoint(),
        BudgetSpec::new("orders", 10, Refill::Window(Duration::from_secs(1))).per_endpoint(),
    ],
    cost,
    observe,
    live_limits: None,
};

/// One request, from the order budget for placements and amendments, else from the endpoint's.
fn cost(method: &Method, path: &str, _query: &str) -> Cost {
    let places_orders = match method.as_str() {
        "POST" => matches!(
            path,
            "/api/v4/spot/orders" | "/api/v4/spot/batch_orders" | "/api/v4/spot/amend_batch_orders"
        ),
        "PATCH" => path.starts_with("/api/v4/spot/orders/"),
        _ => false,
    };
    if places_orders {
        Cost::of(&[0, 1])
    } else {
        Cost::of(&[1, 0])
    }
}

/// Reads the requests left, and when the limit resets if none are left.
fn observe(headers: &HeaderMap, seen: &mut Vec<Observation>) {
    let (Some(limit), Some(remaining)) = (
        header_u64(headers, "x-gate-ratelimit-limit"),
        header_u64(headers, "x-gate-ratelimit-requests-remain"),
    ) else {
        return;
    };
    let Some(budget) = LIMITS.budgets.iter().position(|budget| budget.limit == limit) else {
        return;
    };
    seen.push(Observation::Remaining { budget, remaining });
    if remaining > 0 {
        return;
    }
    if let Some(reset) = header_u64(headers, "x-gate-ratelimit-reset-timestamp") {
        // Unix seconds stay below 10^11 until the year 5138; milliseconds are above it.
        let unix_millis = if reset < 100_000_000_000 {
            reset.saturating_mul(1_000)
        } else {
            reset
        };
        seen.push(Observation::ResetsAt { budget, unix_millis });
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const ENDPOINT: usize = 0;
    const ORDERS: usize = 1;

    fn observed(limit: &'static str, remain: &'static str, reset: &'static str) -> Vec<Observation> {
        let mut headers = HeaderMap::new();
        headers.insert("X-Gate-RateLimit-Limit", HeaderValue::from_static(limit));
        headers.insert("X-Gate-RateLimit-Requests-Remain", HeaderValue::from_static(remain));
        headers.insert("X-Gate-RateLimit-Reset-Timestamp", HeaderValue::from_static(reset));
        let mut seen = Vec::new();
        (LIMITS.observe)(&headers, &mut seen);
        seen
    }

    #[test]
    fn an_order_placement_spends_one_of_the_order_budget() {
        assert_eq!(
            (LIMITS.cost)(&Method::POST, "/api/v4/spot/orders", "").units(),
            &[0, 1, 0, 0]
        );
        assert_eq!(
            (LIMITS.cost)(&Method::PATCH, "/api/v4/spot/orders/12345", "").units(),
            &[0, 1, 0, 0]
        );
        assert!(LIMITS.budgets.iter().all(|budget| budget.per_endpoint));
    }

    #[test]
    fn other_requests_spend_one_of_their_endpoint() {
        assert_eq!(
            (LIMITS.cost)(&Method::GET, "/api/v4/spot/orders", "currency_pair=BTC_USDT").units(),
            &[1, 0, 0, 0]
        );
        assert_eq!(
            (LIMITS.cost)(&Method::DELETE, "/api/v4/spot/orders/12345", "").units(),
            &[1, 0, 0, 0]
        );
        assert_eq!(
            (LIMITS.cost)(&Method::GET, "/api/v4/spot/time", "").units(),
            &[1, 0, 0, 0]
        );
    }

    #[test]
    fn the_requests_left_go_to_the_budget_with_the_reported_limit() {
        // Not exceeded: the reset timestamp is only the current time and is not reported.
        assert_eq!(
            observed("200", "199", "1695715091"),
            [Observation::Remaining {
                budget: ENDPOINT,
                remaining: 199
            }]
        );
        assert_eq!(
            observed("10", "4", "1695715091"),
            [Observation::Remaining {
                budget: ORDERS,
                remaining: 4
            }]
        );
        // A limit the client does not model (a unified account's 150 per 10 s) corrects nothing.
        assert!(observed("150", "3", "1695715091").is_empty());
    }

    #[test]
    fn an_exceeded_limit_says_when_it_resets_in_seconds_or_milliseconds() {
        assert_eq!(
            observed("10", "0", "1695715092"),
            [
                Observation::Remaining {
                    budget: ORDERS,
                    remaining: 0
                },
                Observation::ResetsAt {
                    budget: ORDERS,
                    unix_millis: 1_695_715_092_000
                },
            ]
        );
        assert_eq!(
            observed("200", "0", "1695715092500")[1],
            Observation::ResetsAt {
                budget: ENDPOINT,
                unix_millis: 1_695_715_092_500
            }
        );
    }

    #[test]
    fn unreadable_counters_say_nothing() {
        assert!(observed("10", "none", "1695715092").is_empty());
        assert!(observed("ten", "0", "1695715092").is_empty());
    }
}
