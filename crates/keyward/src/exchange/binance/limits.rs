//! Binance spot's request limits (`/api/v3`), as its documentation states them.
//!
//! Four budgets, in this order:
//! 0. `REQUEST_WEIGHT`: 6000 per minute per IP; every request spends its endpoint's weight;
//! 1. `ORDERS` per 10 s: 100 per account, spent by order placements;
//! 2. `ORDERS` per day: 200 000 per account;
//! 3. `RAW_REQUESTS`: 61 000 per 5 minutes per IP, one per request.
//!
//! Binance changes these numbers, so they serve only until the live ones are loaded from
//! `GET /api/v3/exchangeInfo` `rateLimits`. Every response carries the server's own count in
//! `X-MBX-USED-WEIGHT-1M`, and successful order placements in `X-MBX-ORDER-COUNT-10S` and
//! `X-MBX-ORDER-COUNT-1D`. See
//! <https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits>.
//!
//! Simplifications, all on the safe side or corrected by those headers:
//! - `/api/v3` endpoints missing from the weight table cost 20, the weight of the account and
//!   order-history endpoints; the heavier ones (all-symbol tickers and open orders) are listed.
//! - Binance gives back an order's count when it fills; the client counts placements only and
//!   takes the server's count when it is higher.
//! - `/sapi` endpoints have limits of their own (IP and UID weight per minute) that are not
//!   modelled: they cost nothing here.

use crate::rate_limit::{BudgetSpec, Cost, LiveLimits, Observation, RateLimitSpec, Refill};
use http::{HeaderMap, Method};
use serde::Deserialize;
use std::time::Duration;

const REQUEST_WEIGHT: usize = 0;
const ORDERS_PER_10S: usize = 1;
const ORDERS_PER_DAY: usize = 2;
const RAW_REQUESTS: usize = 3;

const DAY: Duration = Duration::from_secs(86_400);

/// Binance's spot budgets and weights.
pub(crate) static LIMITS: RateLimitSpec = RateLimitSpec {
    budgets: &[
        BudgetSpec::new("REQUEST_WEIGHT", 6_000, Refill::Window(Duration::from_secs(60))),
        BudgetSpec::new("ORDERS", 100, Refill::Window(Duration::from_secs(10))),
        BudgetSpec::new("ORDERS", 200_000, Refill::Window(DAY)),
        BudgetSpec::new("RAW_REQUESTS", 61_000, Refill::Window(Duration::from_secs(300))),
    ],
    cost,
    observe,
    live_limits: Some(LiveLimits {
        path: "/api/v3/exchangeInfo",
        parse: parse_live_limits,
    }),
};

/// The weight, orders and raw request a request spends.
fn cost(method: &Method, path: &str, query: &str) -> Cost {
    let Some(endpoint) = path.strip_prefix("/api/v3/") else {
        return Cost::FREE;
    };
    let orders = orders_placed(method, endpoint);
    Cost::of(&[request_weight(method, endpoint, query), orders, orders, 1])
}

/// The documented request weight of `/api/v3/<endpoint>`.
fn request_weight(method: &Method, endpoint: &str, query: &str) -> u64 {
    let symbol = query_param(query, "symbol").is_some();
    match (method.as_str(), endpoint) {
        ("GET", "ping" | "time") => 1,
        ("GET", "exchangeInfo") => 20,
        ("GET", "depth") => depth_weight(query),
        ("GET", "trades" | "historicalTrades") => 25,
        ("GET", "aggTrades" | "klines" | "uiKlines" | "avgPrice") => 2,
        ("GET", "ticker/24hr") => ticker_24hr_weight(query),
        ("GET", "ticker/price" | "ticker/bookTicker") => {
            if symbol {
                2
            } else {
                4
            }
        }
        ("POST", "order" | "order/cancelReplace" | "sor/order") => 1,
        ("POST", "order/test") if query_param(query, "computeCommissionRates") == Some("true") => 20,
        ("POST", "order/test") => 1,
        ("POST", "orderList/oco" | "orderList/oto" | "orderList/otoco") => 1,
        ("DELETE", "order" | "openOrders" | "orderList") => 1,
        ("GET", "order") => 4,
        ("GET", "openOrders") => {
            if symbol {
                6
            } else {
                80
            }
        }
        ("GET", "allOrders" | "myTrades" | "account") => 20,
        ("GET", "rateLimit/order") => 40,
        _ => 20,
    }
}

/// `GET /api/v3/depth`: 5 up to 100 levels (the default), 25 up to 500, 50 up to 1000, 250 up
/// to 5000. A `limit` that is not a number costs the most, whatever Binance makes of it.
fn depth_weight(query: &str) -> u64 {
    match query_param(query, "limit").map(str::parse::<u64>) {
        None => 5,
        Some(Ok(0..=100)) => 5,
        Some(Ok(101..=500)) => 25,
        Some(Ok(501..=1000)) => 50,
        Some(_) => 250,
    }
}

/// `GET /api/v3/ticker/24hr`: 2 for one symbol or up to 20 `symbols`, 40 up to 100, 80 for more
/// or for all.
fn ticker_24hr_weight(query: &str) -> u64 {
    if query_param(query, "symbol").is_some() {
        return 2;
    }
    let Some(symbols) = query_param(query, "symbols") else {
        return 80;
    };
    // `["BTCUSDT","BNBBTC"]`, with the commas percent-encoded or not.
    let count = 1 + symbols.matches(',').count() + symbols.matches("%2C").count() + symbols.matches("%2c").count();
    match count {
        0..=20 => 2,
        21..=100 => 40,
        _ => 80,
    }
}

/// How many orders a request places, on both `ORDERS` budgets: one per order in an order list.
fn orders_placed(method: &Method, endpoint: &str) -> u64 {
    match (method.as_str(), endpoint) {
        ("POST", "order" | "order/cancelReplace" | "sor/order") => 1,
        ("POST", "orderList/oco" | "orderList/oto") => 2,
        ("POST", "orderList/otoco") => 3,
        _ => 0,
    }
}

/// The value of `name` in a query string, as sent.
fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// Reads the server's counts: the weight used in the weight window, the orders placed in the
/// short and the daily order windows.
///
/// Binance names these headers after the limit's interval (`X-MBX-USED-WEIGHT-1M`,
/// `X-MBX-ORDER-COUNT-10S`, `X-MBX-ORDER-COUNT-1D`), and the interval is whatever the live
/// limits say, so any interval is read: the weight header is the weight budget's, an order-count
/// header counted in days the daily budget's, any other the short one's. The bare
/// `X-MBX-USED-WEIGHT` (no interval) is a legacy cumulative count and is ignored.
fn observe(headers: &HeaderMap, seen: &mut Vec<Observation>) {
    for (name, value) in headers {
        let name = name.as_str();
        let (budget, interval) = if let Some(interval) = name.strip_prefix("x-mbx-used-weight-") {
            (REQUEST_WEIGHT, interval)
        } else if let Some(interval) = name.strip_prefix("x-mbx-order-count-") {
            let budget = if interval.ends_with('d') {
                ORDERS_PER_DAY
            } else {
                ORDERS_PER_10S
            };
            (budget, interval)
        } else {
            continue;
        };
        let well_formed = interval.len() >= 2
            && interval[..interval.len() - 1].bytes().all(|b| b.is_ascii_digit())
            && matches!(interval.as_bytes()[interval.len() - 1], b's' | b'm' | b'h' | b'd');
        if let (true, Some(used)) = (well_formed, value.to_str().ok().and_then(|v| v.trim().parse().ok())) {
            seen.push(Observation::Used { budget, used });
        }
    }
}

#[derive(Deserialize)]
struct ExchangeInfo {
    #[serde(rename = "rateLimits")]
    rate_limits: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RateLimit {
    rate_limit_type: String,
    interval: String,
    interval_num: u64,
    limit: u64,
}

/// Reads `rateLimits` from `exchangeInfo` as `(budget, limit, window)`.
///
/// `ORDERS` limits shorter than a day go to the 10-second budget, the others to the daily one.
/// The first limit for each budget wins; entries that are malformed, of an unknown type, or zero
/// (which would stop every request forever) are skipped, and the documented default stays.
fn parse_live_limits(body: &[u8]) -> Vec<(usize, u64, Duration)> {
    let Ok(info) = serde_json::from_slice::<ExchangeInfo>(body) else {
        return Vec::new();
    };
    let mut limits: Vec<(usize, u64, Duration)> = Vec::new();
    for entry in info.rate_limits {
        let Ok(rate_limit) = serde_json::from_value::<RateLimit>(entry) else {
            continue;
        };
        let Some(window) = interval(&rate_limit.interval, rate_limit.interval_num) else {
            continue;
        };
        let budget = match rate_limit.rate_limit_type.as_str() {
            "REQUEST_WEIGHT" => REQUEST_WEIGHT,
            "ORDERS" if window < DAY => ORDERS_PER_10S,
            "ORDERS" => ORDERS_PER_DAY,
            "RAW_REQUESTS" => RAW_REQUESTS,
            _ => continue,
        };
        if rate_limit.limit > 0 && limits.iter().all(|(seen, _, _)| *seen != budget) {
            limits.push((budget, rate_limit.limit, window));
        }
    }
    limits
}

/// `intervalNum` times `interval` (`SECOND`, `MINUTE`, `HOUR`, `DAY`).
fn interval(unit: &str, count: u64) -> Option<Duration> {
    let seconds: u64 = match unit {
        "SECOND" => 1,
        "MINUTE" => 60,
        "HOUR" => 3_600,
        "DAY" => 86_400,
        _ => return None,
    };
    (count > 0)
        .then(|| seconds.checked_mul(count))
        .flatten()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn units(method: Method, path: &str, query: &str) -> [u64; 4] {
        *(LIMITS.cost)(&method, path, query).units()
    }

    #[test]
    fn an_order_placement_spends_weight_one_and_one_order_in_each_order_budget() {
        assert_eq!(units(Method::POST, "/api/v3/order", ""), [1, 1, 1, 1]);
        assert_eq!(
            units(
                Method::POST,
                "/api/v3/order",
                "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=1"
            ),
            [1, 1, 1, 1]
        );
        // Cancelling or testing an order places none.
        assert_eq!(
            units(Method::DELETE, "/api/v3/order", "symbol=BTCUSDT&orderId=1"),
            [1, 0, 0, 1]
        );
        assert_eq!(units(Method::POST, "/api/v3/order/test", ""), [1, 0, 0, 1]);
        assert_eq!(
            units(Method::POST, "/api/v3/order/test", "computeCommissionRates=true"),
            [20, 0, 0, 1]
        );
        // An OTOCO list places three orders.
        assert_eq!(units(Method::POST, "/api/v3/orderList/otoco", ""), [1, 3, 3, 1]);
    }

    #[test]
    fn common_endpoints_cost_their_documented_weights() {
        assert_eq!(units(Method::GET, "/api/v3/account", "")[REQUEST_WEIGHT], 20);
        assert_eq!(units(Method::GET, "/api/v3/exchangeInfo", "")[REQUEST_WEIGHT], 20);
        assert_eq!(units(Method::GET, "/api/v3/time", "")[REQUEST_WEIGHT], 1);
        assert_eq!(
            units(Method::GET, "/api/v3/openOrders", "symbol=BTCUSDT")[REQUEST_WEIGHT],
            6
        );
        assert_eq!(units(Method::GET, "/api/v3/openOrders", "")[REQUEST_WEIGHT], 80);
        assert_eq!(
            units(Method::GET, "/api/v3/ticker/price", "symbol=BTCUSDT")[REQUEST_WEIGHT],
            2
        );
        assert_eq!(units(Method::GET, "/api/v3/ticker/price", "")[REQUEST_WEIGHT], 4);
    }

    #[test]
    fn depth_weight_follows_the_limit() {
        let depth = |query| units(Method::GET, "/api/v3/depth", query)[REQUEST_WEIGHT];
        assert_eq!(depth("symbol=BTCUSDT"), 5);
        assert_eq!(depth("symbol=BTCUSDT&limit=100"), 5);
        assert_eq!(depth("symbol=BTCUSDT&limit=101"), 25);
        assert_eq!(depth("limit=500&symbol=BTCUSDT"), 25);
        assert_eq!(depth("symbol=BTCUSDT&limit=1000"), 50);
        assert_eq!(depth("symbol=BTCUSDT&limit=5000"), 250);
        assert_eq!(depth("symbol=BTCUSDT&limit=many"), 250);
    }

    #[test]
    fn ticker_24hr_weight_follows_the_number_of_symbols() {
        let ticker = |query: &str| units(Method::GET, "/api/v3/ticker/24hr", query)[REQUEST_WEIGHT];
        assert_eq!(ticker("symbol=BNBBTC"), 2);
        assert_eq!(ticker("symbols=%5B%22BTCUSDT%22,%22BNBBTC%22%5D"), 2);
        let many = (0..21).map(|i| format!("%22S{i}%22")).collect::<Vec<_>>().join("%2C");
        assert_eq!(ticker(&format!("symbols=%5B{many}%5D")), 40);
        assert_eq!(ticker(""), 80);
    }

    #[test]
    fn wallet_endpoints_are_outside_these_budgets() {
        assert_eq!(units(Method::GET, "/sapi/v1/capital/config/getall", ""), [0; 4]);
    }

    #[test]
    fn documented_headers_become_used_counts() {
        let mut headers = HeaderMap::new();
        headers.insert("X-MBX-USED-WEIGHT-1M", HeaderValue::from_static("1180"));
        headers.insert("X-MBX-ORDER-COUNT-10S", HeaderValue::from_static("12"));
        headers.insert("X-MBX-ORDER-COUNT-1D", HeaderValue::from_static("4043"));
        headers.insert("Retry-After", HeaderValue::from_static("30"));
        let mut seen = Vec::new();
        (LIMITS.observe)(&headers, &mut seen);
        assert_eq!(
            seen,
            [
                Observation::Used {
                    budget: REQUEST_WEIGHT,
                    used: 1180
                },
                Observation::Used {
                    budget: ORDERS_PER_10S,
                    used: 12
                },
                Observation::Used {
                    budget: ORDERS_PER_DAY,
                    used: 4043
                },
            ]
        );
    }

    #[test]
    fn unreadable_headers_are_ignored() {
        let mut headers = HeaderMap::new();
        headers.insert("X-MBX-USED-WEIGHT-1M", HeaderValue::from_static("lots"));
        headers.insert("X-MBX-ORDER-COUNT-10S", HeaderValue::from_static("-1"));
        let mut seen = Vec::new();
        (LIMITS.observe)(&headers, &mut seen);
        assert!(seen.is_empty());
    }

    /// The `rateLimits` of Binance's documented `exchangeInfo` answer and ENUM definitions.
    const EXCHANGE_INFO: &[u8] = br#"{
        "timezone": "UTC",
        "serverTime": 1565246363776,
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
            {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000}
        ],
        "exchangeFilters": [],
        "symbols": [{"symbol": "ETHBTC", "status": "TRADING", "filters": []}]
    }"#;

    #[test]
    fn live_limits_are_read_from_exchange_info() {
        let parse = LIMITS.live_limits.unwrap().parse;
        assert_eq!(
            parse(EXCHANGE_INFO),
            [
                (REQUEST_WEIGHT, 6_000, Duration::from_secs(60)),
                (ORDERS_PER_10S, 100, Duration::from_secs(10)),
                (ORDERS_PER_DAY, 200_000, DAY),
                (RAW_REQUESTS, 61_000, Duration::from_secs(300)),
            ]
        );
        assert_eq!(LIMITS.live_limits.unwrap().path, "/api/v3/exchangeInfo");
    }

    #[test]
    fn changed_live_limits_replace_the_defaults() {
        let parse = LIMITS.live_limits.unwrap().parse;
        let older = br#"{"rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 1, "limit": 10},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 160000}
        ]}"#;
        assert_eq!(
            parse(older),
            [
                (REQUEST_WEIGHT, 1_200, Duration::from_secs(60)),
                (ORDERS_PER_10S, 10, Duration::from_secs(1)),
                (ORDERS_PER_DAY, 160_000, DAY),
            ]
        );
    }

    #[test]
    fn malformed_live_limits_keep_the_defaults() {
        let parse = LIMITS.live_limits.unwrap().parse;
        assert!(parse(b"<html>busy</html>").is_empty());
        assert!(parse(br#"{"code":-1003,"msg":"Too many requests"}"#).is_empty());
        let odd = br#"{"rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "FORTNIGHT", "intervalNum": 1, "limit": 6000},
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 0, "limit": 6000},
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 0},
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": "6000"},
            {"rateLimitType": "CONNECTIONS", "interval": "MINUTE", "intervalNum": 5, "limit": 300},
            {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
            {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 1, "limit": 5}
        ]}"#;
        assert_eq!(parse(odd), [(RAW_REQUESTS, 61_000, Duration::from_secs(300))]);
    }

    #[test]
    fn budgets_fit_the_cost_array() {
        assert!(LIMITS.budgets.len() <= crate::rate_limit::MAX_BUDGETS);
        assert_eq!(LIMITS.budgets[REQUEST_WEIGHT].name, "REQUEST_WEIGHT");
        assert_eq!(LIMITS.budgets[RAW_REQUESTS].name, "RAW_REQUESTS");
    }

    #[test]
    fn weight_headers_of_any_interval_are_read() {
        let mut headers = HeaderMap::new();
        headers.insert("x-mbx-used-weight-5s", "180".parse().unwrap());
        headers.insert("x-mbx-used-weight", "99999".parse().unwrap());
        headers.insert("x-mbx-order-count-1d", "7".parse().unwrap());
        let mut seen = Vec::new();
        observe(&headers, &mut seen);
        seen.sort_by_key(|o| format!("{o:?}"));
        assert_eq!(
            seen,
            [
                Observation::Used {
                    budget: REQUEST_WEIGHT,
                    used: 180
                },
                Observation::Used {
                    budget: ORDERS_PER_DAY,
                    used: 7
                }
            ]
        );
    }
}
