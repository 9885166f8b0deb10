//! Bybit v5's request limits, as its documentation states them.
//!
//! Two budgets, in this order:
//! 0. `IP`: 600 requests in any 5-second window per IP, shared by every request to the host
//!    (breaking it earns a `403` ban of about ten minutes);
//! 1. `API`: each private endpoint's own limit per UID per second, kept separately for each
//!    endpoint. Its default is 10, the limit of `POST /v5/order/create` for derivatives on a classic
//!    account and the lowest of the order endpoints; many read endpoints allow more.
//!
//! Every private response tells the endpoint's real budget: `X-Bapi-Limit` (the limit),
//! `X-Bapi-Limit-Status` (requests left) and `X-Bapi-Limit-Reset-Timestamp` (when it resets, in
//! Unix milliseconds, if exhausted; otherwise just the current time). The requests left are
//! reported as they are, so the client never counts more room than the server gives, whatever
//! the endpoint's limit. See <https://bybit-exchange.github.io/docs/v5/rate-limit>.
//!
//! Simplification: Bybit counts on rolling windows; the client counts on fixed ones, and the
//! `X-Bapi-Limit-Status` of each response corrects it. Public market data (`/v5/market/`) spends
//! only the IP budget.

use crate::rate_limit::{BudgetSpec, Cost, Observation, RateLimitSpec, Refill};
use http::{HeaderMap, Method};
use std::time::Duration;

const IP: usize = 0;
const API: usize = 1;

/// Bybit's budgets.
pub(crate) static LIMITS: RateLimitSpec = RateLimitSpec {
    budgets: &[
        BudgetSpec::new("IP", 600, Refill::Window(Duration::from_secs(5))),
        BudgetSpec::new("API", 10, Refill::Window(Duration::from_secs(1))).per_endpoint(),
    ],
    cost,
    observe,
    live_limits: None,
};

/// One request from the IP budget, and one from the endpoint's own budget when it is private.
fn cost(_method: &Method, path: &str, _query: &str) -> Cost {
    let mut units = [0; 2];
    units[IP] = 1;
    if !["/v5/market/", "/v5/announcements/"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
    {
        units[API] = 1;
    }
    Cost::of(&units)
}

/// Reads the endpoint's requests left, and when it resets if none are left.
fn observe(headers: &HeaderMap, seen: &mut Vec<Observation>) {
    let Some(remaining) = header_u64(headers, "x-bapi-limit-status") else {
        return;
    };
    seen.push(Observation::Remaining { budget: API, remaining });
    // Before the limit is reached, the reset timestamp is only the current time.
    if remaining > 0 {
        return;
    }
    if let Some(unix_millis) = header_u64(headers, "x-bapi-limit-reset-timestamp") {
        seen.push(Observation::ResetsAt {
            budget: API,
            unix_millis,
        });
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn observed(pairs: &[(&'static str, &'static str)]) -> Vec<Observation> {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        let mut seen = Vec::new();
        (LIMITS.observe)(&headers, &mut seen);
        seen
    }

    #[test]
    fn an_order_placement_spends_one_request_of_the_ip_and_of_its_endpoint() {
        assert_eq!(
            (LIMITS.cost)(&Method::POST, "/v5/order/create", "").units(),
            &[1, 1, 0, 0]
        );
        assert!(LIMITS.budgets[API].per_endpoint);
        assert!(!LIMITS.budgets[IP].per_endpoint);
    }

    #[test]
    fn market_data_spends_only_the_ip_budget() {
        assert_eq!(
            (LIMITS.cost)(&Method::GET, "/v5/market/time", "").units(),
            &[1, 0, 0, 0]
        );
        assert_eq!(
            (LIMITS.cost)(&Method::GET, "/v5/market/orderbook", "category=spot&symbol=BTCUSDT").units(),
            &[1, 0, 0, 0]
        );
        assert_eq!(
            (LIMITS.cost)(&Method::GET, "/v5/account/wallet-balance", "").units(),
            &[1, 1, 0, 0]
        );
    }

    #[test]
    fn the_documented_header_example_gives_the_requests_left() {
        // Bybit's example: `X-Bapi-Limit: 100`, `X-Bapi-Limit-Status: 99`,
        // `X-Bapi-Limit-Reset-Timestamp: 1672738134824`; the limit is not reached, so the
        // timestamp is only the current time.
        let seen = observed(&[
            ("X-Bapi-Limit", "100"),
            ("X-Bapi-Limit-Status", "99"),
            ("X-Bapi-Limit-Reset-Timestamp", "1672738134824"),
        ]);
        assert_eq!(
            seen,
            [Observation::Remaining {
                budget: API,
                remaining: 99
            }]
        );
    }

    #[test]
    fn an_exhausted_endpoint_says_when_it_resets() {
        let seen = observed(&[
            ("X-Bapi-Limit", "10"),
            ("X-Bapi-Limit-Status", "0"),
            ("X-Bapi-Limit-Reset-Timestamp", "1672738135000"),
        ]);
        assert_eq!(
            seen,
            [
                Observation::Remaining {
                    budget: API,
                    remaining: 0
                },
                Observation::ResetsAt {
                    budget: API,
                    unix_millis: 1_672_738_135_000
                },
            ]
        );
    }

    #[test]
    fn responses_without_readable_counters_say_nothing() {
        assert!(observed(&[]).is_empty());
        assert!(observed(&[("X-Bapi-Limit-Status", "many"), ("X-Bapi-Limit-Reset-Timestamp", "1")]).is_empty());
    }
}
