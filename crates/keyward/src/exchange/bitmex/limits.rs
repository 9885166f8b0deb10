//! BitMEX's request limits, as its documentation states them.
//!
//! Two budgets, in this order:
//! 0. `requests`: 120 per minute for authenticated requests, a token bucket that refills at 2
//!    per second and holds 120 (so a full minute's requests may be sent at once);
//! 1. `order burst`: a second layer of 10 requests per second on the order-management routes
//!    (placing, amending and cancelling orders, and changing a position's isolation, leverage or
//!    margin).
//!
//! Every response carries `x-ratelimit-limit`, `x-ratelimit-remaining` and `x-ratelimit-reset`
//! (Unix seconds) for the first budget; order routes also carry `x-ratelimit-remaining-1s` for
//! the second. The requests left are read; the reset time is not, because the bucket's refill
//! rate already says when the next request fits. Breaking a limit gets HTTP 429, and many
//! rejected requests in a short time a one-hour ban. See
//! <https://www.bitmex.com/app/restAPI#Request-Rate-Limits>.
//!
//! Simplifications: unauthenticated requests have a lower limit (30 per minute) that is not
//! modelled, since keyward signs requests; bulk order requests are charged as one request.

use crate::rate_limit::{BudgetSpec, Cost, Observation, RateLimitSpec, Refill};
use http::{HeaderMap, Method};
use std::time::Duration;

const REQUESTS: usize = 0;
const ORDER_BURST: usize = 1;

/// BitMEX's budgets.
pub(crate) static LIMITS: RateLimitSpec = RateLimitSpec {
    budgets: &[
        BudgetSpec::new("requests", 120, Refill::Decay { units_per_second: 2.0 }),
        BudgetSpec::new("order burst", 10, Refill::Window(Duration::from_secs(1))),
    ],
    cost,
    observe,
    live_limits: None,
};

/// One request, and one of the order burst on the order-management routes.
fn cost(method: &Method, path: &str, _query: &str) -> Cost {
    let Some(route) = path.strip_prefix("/api/v1/") else {
        return Cost::FREE;
    };
    let order_management = matches!(
        (method.as_str(), route),
        ("POST" | "PUT" | "DELETE", "order")
            | ("POST" | "PUT", "order/bulk")
            | ("DELETE", "order/all")
            | (
                "POST",
                "position/isolate" | "position/leverage" | "position/transferMargin"
            )
    );
    Cost::of(&[1, u64::from(order_management)])
}

/// Reads the requests left in each budget.
fn observe(headers: &HeaderMap, seen: &mut Vec<Observation>) {
    for (budget, name) in [
        (REQUESTS, "x-ratelimit-remaining"),
        (ORDER_BURST, "x-ratelimit-remaining-1s"),
    ] {
        if let Some(remaining) = header_u64(headers, name) {
            seen.push(Observation::Remaining { budget, remaining });
        }
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn units(method: Method, path: &str) -> [u64; 2] {
        let all = *(LIMITS.cost)(&method, path, "").units();
        [all[0], all[1]]
    }

    #[test]
    fn an_order_placement_spends_a_request_and_one_of_the_order_burst() {
        assert_eq!(units(Method::POST, "/api/v1/order"), [1, 1]);
        assert_eq!(units(Method::DELETE, "/api/v1/order/all"), [1, 1]);
        assert_eq!(units(Method::POST, "/api/v1/position/leverage"), [1, 1]);
    }

    #[test]
    fn reads_spend_only_a_request() {
        assert_eq!(units(Method::GET, "/api/v1/order"), [1, 0]);
        assert_eq!(units(Method::GET, "/api/v1/position"), [1, 0]);
        assert_eq!(units(Method::GET, "/api/v1/user/wallet"), [1, 0]);
    }

    #[test]
    fn the_documented_headers_give_the_requests_left() {
        // BitMEX's answer headers: `X-RateLimit-Limit: 60`, `X-RateLimit-Remaining: 57`,
        // `X-RateLimit-Reset: 1592423441`, and on order routes `x-ratelimit-remaining-1s`.
        let mut headers = HeaderMap::new();
        headers.insert("X-RateLimit-Limit", HeaderValue::from_static("60"));
        headers.insert("X-RateLimit-Remaining", HeaderValue::from_static("57"));
        headers.insert("X-RateLimit-Reset", HeaderValue::from_static("1592423441"));
        headers.insert("x-ratelimit-remaining-1s", HeaderValue::from_static("9"));
        let mut seen = Vec::new();
        (LIMITS.observe)(&headers, &mut seen);
        assert_eq!(
            seen,
            [
                Observation::Remaining {
                    budget: REQUESTS,
                    remaining: 57
                },
                Observation::Remaining {
                    budget: ORDER_BURST,
                    remaining: 9
                },
            ]
        );
    }

    #[test]
    fn a_read_without_the_burst_header_reports_only_the_requests_left() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        headers.insert("x-ratelimit-remaining-1s", HeaderValue::from_static("n/a"));
        let mut seen = Vec::new();
        (LIMITS.observe)(&headers, &mut seen);
        assert_eq!(
            seen,
            [Observation::Remaining {
                budget: REQUESTS,
                remaining: 0
            }]
        );
    }

    #[test]
    fn the_request_budget_is_a_bucket_refilled_at_120_per_minute() {
        assert_eq!(LIMITS.budgets[REQUESTS].limit, 120);
        assert_eq!(LIMITS.budgets[REQUESTS].refill, Refill::Decay { units_per_second: 2.0 });
    }
}
