//! Binance Spot (`SIGNED` endpoints).
//!
//! - The API key travels in `X-MBX-APIKEY`; `timestamp` and `signature` are parameters, in the
//!   query string or the form body.
//! - The signed payload is `totalParams`: the query string concatenated, with no separator, with
//!   the body, both exactly as sent and without the `signature` parameter.
//! - HMAC keys: `signature` = hex HMAC-SHA256 (either case). Ed25519 keys: base64 of the
//!   Ed25519 signature, percent-encoded in the request.
//! - A request is served if `timestamp < serverTime + 1000` and
//!   `serverTime - timestamp <= recvWindow` (default 5000, at most 60000).
//! - Errors are `{"code":-1022,"msg":"..."}`: HTTP 401 for key problems (-2014, -2015), 400 for
//!   the rest (-1021 timestamp, -1022 signature, -1102 missing parameter).
//!
//! Rate limits (everything under `/api/v3/`, public endpoints included; `/sapi/` is not limited):
//! - `REQUEST_WEIGHT` 6000 per minute, endpoint weights as documented (order 1, query order 4,
//!   account 20, exchangeInfo 20, open orders 6 or 80 without a symbol, all orders and my trades
//!   20, depth by `limit`; 1 where the docs give none); `RAW_REQUESTS` 61000 per 5 minutes;
//!   `ORDERS` 100 per 10 s and 200000 per day on order placement. `GET /api/v3/exchangeInfo`
//!   lists them as configured.
//! - Every answer carries `X-MBX-USED-WEIGHT-(intervalNum)(intervalLetter)`, order answers
//!   `X-MBX-ORDER-COUNT-10S` and `-1D`. A spent budget is HTTP 429 with `Retry-After` (seconds
//!   until the window ends) and -1003 (-1015 for orders).
//! - A client that exceeds an IP limit again while an earlier 429's `Retry-After` runs is banned:
//!   HTTP 418 with `Retry-After` and -1003 "IP banned until", for every request until the ban
//!   ends. Bans double for repeat offenders, from 2 minutes to 3 days. Orders limits are per
//!   account and never ban.

use super::{Protocol, executed_order, retry_after_seconds};
use crate::{
    credentials::MockCredentials,
    limits::{Budget, Charge, Usage},
    record::Rejection,
    reply::{Reply, set_header},
    state::{Key, State},
    verify,
    wire::{WireRequest, echo, form_pairs, param_text},
};
use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use ed25519_dalek::{
    Signature, SigningKey, VerifyingKey,
    pkcs8::{DecodePrivateKey, DecodePublicKey},
};
use http::{HeaderMap, Method, StatusCode};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

const DEFAULT_RECV_WINDOW_MS: f64 = 5000.0;
const MAX_RECV_WINDOW_MS: f64 = 60_000.0;
const MAX_AHEAD_MS: i64 = 1000;

/// Indices into [`BUDGETS`].
const REQUEST_WEIGHT: usize = 0;
const ORDERS_PER_10S: usize = 1;
const ORDERS_PER_DAY: usize = 2;
const RAW_REQUESTS: usize = 3;

/// As `exchangeInfo` lists them, in that order.
static BUDGETS: [Budget; 4] = [
    Budget::window("REQUEST_WEIGHT", 6000, 60_000).banning(),
    Budget::window("ORDERS", 100, 10_000).secondary(),
    Budget::window("ORDERS", 200_000, 86_400_000).secondary(),
    Budget::window("RAW_REQUESTS", 61_000, 300_000).secondary().banning(),
];

const PUBLIC_PATHS: &[&str] = &[
    "/api/v3/ping",
    "/api/v3/depth",
    "/api/v3/trades",
    "/api/v3/historicalTrades",
    "/api/v3/aggTrades",
    "/api/v3/klines",
    "/api/v3/uiKlines",
    "/api/v3/avgPrice",
    "/api/v3/ticker",
    "/api/v3/ticker/24hr",
    "/api/v3/ticker/tradingDay",
    "/api/v3/ticker/price",
    "/api/v3/ticker/bookTicker",
];

#[derive(Debug, Clone, Copy)]
pub(super) struct Binance;

/// The Ed25519 public key of a credential whose secret is a PEM, if it is one.
fn ed25519_key(credentials: &MockCredentials) -> Result<Option<VerifyingKey>, String> {
    let secret = credentials.secret().trim();
    if !secret.starts_with("-----BEGIN") {
        return Ok(None);
    }
    if let Ok(signing_key) = SigningKey::from_pkcs8_pem(secret) {
        return Ok(Some(signing_key.verifying_key()));
    }
    VerifyingKey::from_public_key_pem(secret)
        .map(Some)
        .map_err(|_| "binance: the PEM secret is neither a PKCS#8 Ed25519 private key nor its public key".into())
}

/// The weight of an endpoint, as its documentation gives it.
fn weight(method: &Method, path: &str, query: &str) -> u64 {
    let param = |name: &str| {
        form_pairs(query)
            .into_iter()
            .find_map(|(key, value)| (key == name).then_some(value))
    };
    match path {
        "/api/v3/account" | "/api/v3/exchangeInfo" | "/api/v3/allOrders" | "/api/v3/myTrades" => 20,
        "/api/v3/order" if method == Method::GET => 4,
        "/api/v3/openOrders" if method == Method::GET => {
            if param("symbol").is_some() {
                6
            } else {
                80
            }
        }
        "/api/v3/depth" => match param("limit")
            .and_then(|limit| limit.parse::<u64>().ok())
            .unwrap_or(100)
        {
            0..=100 => 5,
            101..=500 => 25,
            501..=1000 => 50,
            _ => 250,
        },
        _ => 1,
    }
}

/// `(intervalNum, interval, intervalLetter)` of a window, as in `exchangeInfo` and the headers.
/// A window that is not whole seconds is rounded up to them.
fn interval(window_ms: i64) -> (i64, &'static str, char) {
    const UNITS: [(i64, &str, char); 3] = [
        (86_400_000, "DAY", 'D'),
        (3_600_000, "HOUR", 'H'),
        (60_000, "MINUTE", 'M'),
    ];
    for (unit_ms, name, letter) in UNITS {
        if window_ms % unit_ms == 0 {
            return (window_ms / unit_ms, name, letter);
        }
    }
    (((window_ms + 999) / 1000).max(1), "SECOND", 'S')
}

/// `rateLimits` of `exchangeInfo`, for the budgets in force.
fn rate_limits(budgets: &[Budget]) -> Value {
    budgets
        .iter()
        .map(|budget| {
            let (number, name, _) = interval(budget.window_ms());
            json!({
                "rateLimitType": budget.name,
                "interval": name,
                "intervalNum": number,
                "limit": budget.limit,
            })
        })
        .collect()
}

fn error(rejection: Rejection, status: StatusCode, code: i64, msg: &str) -> Reply {
    Reply::rejected(rejection, status, json!({"code": code, "msg": msg}))
}

fn missing(name: &str) -> Reply {
    error(
        Rejection::MissingAuth,
        StatusCode::BAD_REQUEST,
        -1102,
        &format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
    )
}

/// `part` without its `signature=` pair, and that signature's raw value if it had one.
fn without_signature(part: &str) -> (String, Option<String>) {
    let mut signature = None;
    let kept: Vec<&str> = part
        .split('&')
        .filter(|pair| match pair.strip_prefix("signature=") {
            Some(value) => {
                signature.get_or_insert_with(|| value.to_owned());
                false
            }
            None => true,
        })
        .collect();
    (kept.join("&"), signature)
}

impl Binance {
    fn signature_matches(key: &Key, total_params: &str, raw_signature: &str) -> bool {
        match &key.ed25519 {
            Some(verifying_key) => {
                // The base64 signature is percent-encoded in the request (`+`, `/`, `=`).
                let decoded = percent_decode_str(raw_signature).decode_utf8_lossy();
                let Ok(bytes) = BASE64.decode(decoded.as_bytes()) else {
                    return false;
                };
                let Ok(signature) = Signature::from_slice(&bytes) else {
                    return false;
                };
                verifying_key.verify_strict(total_params.as_bytes(), &signature).is_ok()
            }
            None => {
                let expected = verify::hmac_sha256(key.credentials.secret().as_bytes(), &[total_params.as_bytes()]);
                verify::hex_matches(&expected, raw_signature)
            }
        }
    }
}

impl Protocol for Binance {
    fn name(&self) -> &'static str {
        "binance"
    }

    fn prepare_key(&self, credentials: MockCredentials) -> Result<Key, String> {
        let ed25519 = ed25519_key(&credentials)?;
        Ok(Key { credentials, ed25519 })
    }

    fn public(&self, state: &State, request: &WireRequest) -> Option<Reply> {
        match request.path.as_str() {
            "/api/v3/time" => Some(Reply::ok(json!({"serverTime": state.clock.now_ms()}))),
            "/api/v3/ping" => Some(Reply::ok(json!({}))),
            "/api/v3/exchangeInfo" => Some(Reply::ok(json!({
                "timezone": "UTC",
                "serverTime": state.clock.now_ms(),
                "rateLimits": rate_limits(state.limits.budgets()),
                "exchangeFilters": [],
                "symbols": [],
            }))),
            path if PUBLIC_PATHS.contains(&path) => Some(Reply::ok(echo(request))),
            _ => None,
        }
    }

    fn is_private(&self, path: &str) -> bool {
        path.starts_with("/api/v3/") || path.starts_with("/sapi/")
    }

    fn authenticate(&self, state: &State, request: &WireRequest) -> Result<(), Reply> {
        let Some(api_key) = request.header("x-mbx-apikey") else {
            return Err(error(
                Rejection::MissingAuth,
                StatusCode::UNAUTHORIZED,
                -2014,
                "API-key format invalid.",
            ));
        };
        let Some(key) = state.key(api_key) else {
            return Err(error(
                Rejection::UnknownKey,
                StatusCode::UNAUTHORIZED,
                -2015,
                "Invalid API-key, IP, or permissions for action.",
            ));
        };

        let body = request.body_text();
        let (query, query_signature) = without_signature(&request.query);
        let (body, body_signature) = without_signature(&body);
        let Some(raw_signature) = query_signature.or(body_signature).filter(|s| !s.is_empty()) else {
            return Err(missing("signature"));
        };

        let params: Vec<(String, String)> = form_pairs(&query).into_iter().chain(form_pairs(&body)).collect();
        let param = |name: &str| params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        let Some(timestamp) = param("timestamp").and_then(|t| t.parse::<i64>().ok()) else {
            return Err(missing("timestamp"));
        };
        let recv_window = match param("recvWindow") {
            None => DEFAULT_RECV_WINDOW_MS,
            Some(text) => match text.parse::<f64>() {
                Ok(window) if window > 0.0 && window <= MAX_RECV_WINDOW_MS => window,
                _ => {
                    return Err(error(
                        Rejection::BadRequest,
                        StatusCode::BAD_REQUEST,
                        -1131,
                        "recvWindow must be less than 60000",
                    ));
                }
            },
        };

        let now = state.clock.now_ms();
        if timestamp >= now + MAX_AHEAD_MS {
            return Err(error(
                Rejection::TimestampOutsideWindow,
                StatusCode::BAD_REQUEST,
                -1021,
                "Timestamp for this request was 1000ms ahead of the server's time.",
            ));
        }
        if (now - timestamp) as f64 > recv_window {
            return Err(error(
                Rejection::TimestampOutsideWindow,
                StatusCode::BAD_REQUEST,
                -1021,
                "Timestamp for this request is outside of the recvWindow.",
            ));
        }

        let total_params = format!("{query}{body}");
        if !Self::signature_matches(&key, &total_params, &raw_signature) {
            return Err(error(
                Rejection::BadSignature,
                StatusCode::BAD_REQUEST,
                -1022,
                "Signature for this request is not valid.",
            ));
        }
        Ok(())
    }

    fn order_endpoint(&self) -> (Method, &'static str) {
        (Method::POST, "/api/v3/order")
    }

    fn place_order(&self, state: &State, request: &WireRequest) -> Reply {
        let number = state.next_order_number();
        let mut order = executed_order(state, request, number.to_string(), &["newClientOrderId"]);
        let client_order_id = order
            .client_order_id
            .clone()
            .unwrap_or_else(|| format!("mock{number:018}"));
        order.client_order_id = Some(client_order_id.clone());
        let field = |name: &str| param_text(&order.params, name).map_or(Value::Null, Value::String);
        let body = json!({
            "symbol": field("symbol"),
            "orderId": number,
            "orderListId": -1,
            "clientOrderId": client_order_id,
            "transactTime": order.executed_at_ms,
            "price": param_text(&order.params, "price").unwrap_or_else(|| "0.00000000".into()),
            "origQty": field("quantity"),
            "executedQty": "0.00000000",
            "cummulativeQuoteQty": "0.00000000",
            "status": "NEW",
            "timeInForce": param_text(&order.params, "timeInForce").unwrap_or_else(|| "GTC".into()),
            "type": field("type"),
            "side": field("side"),
            "workingTime": order.executed_at_ms,
            "selfTradePreventionMode": "NONE",
        });
        Reply::executed(body, order)
    }

    fn success(&self, state: &State, request: &WireRequest) -> Reply {
        if let Some(reply) = crate::permissions::binance(state, request) {
            return reply;
        }
        if request.path == "/api/v3/order/test" {
            // The documented answer of the test endpoint: nothing is executed.
            return Reply::ok(json!({}));
        }
        Reply::ok(echo(request))
    }

    fn not_found(&self, _request: &WireRequest) -> Reply {
        Reply::rejected(Rejection::NotFound, StatusCode::NOT_FOUND, json!({}))
    }

    fn budgets(&self) -> &'static [Budget] {
        &BUDGETS
    }

    fn charges(&self, request: &WireRequest) -> Vec<Charge> {
        if !request.path.starts_with("/api/v3/") {
            return Vec::new();
        }
        let mut charges = vec![
            Charge::shared(REQUEST_WEIGHT, weight(&request.method, &request.path, &request.query)),
            Charge::shared(RAW_REQUESTS, 1),
        ];
        let (method, path) = self.order_endpoint();
        if request.method == method && request.path == path {
            charges.push(Charge::shared(ORDERS_PER_10S, 1));
            charges.push(Charge::shared(ORDERS_PER_DAY, 1));
        }
        charges
    }

    fn limit_headers(&self, usages: &[Usage], headers: &mut HeaderMap) {
        for usage in usages {
            let (number, _, letter) = interval(usage.budget.window_ms());
            let counter = match usage.budget.name {
                "REQUEST_WEIGHT" => "X-MBX-USED-WEIGHT",
                "ORDERS" => "X-MBX-ORDER-COUNT",
                _ => continue,
            };
            set_header(headers, &format!("{counter}-{number}{letter}"), usage.used);
        }
    }

    fn throttled(&self, _state: &State, exceeded: &Usage, retry_after_ms: i64) -> Reply {
        let (number, name, _) = interval(exceeded.budget.window_ms());
        let limit = exceeded.budget.limit;
        let (code, msg) = match exceeded.budget.name {
            "ORDERS" => (
                -1015,
                format!("Too many new orders; current limit is {limit} orders per {number} {name}."),
            ),
            "RAW_REQUESTS" => (
                -1003,
                format!("Too many requests; current limit is {limit} requests per {number} {name}."),
            ),
            _ => (
                -1003,
                format!(
                    "Too much request weight used; current limit is {limit} request weight per {number} {name}. \
                     Please use WebSocket Streams for live updates to avoid polling the API."
                ),
            ),
        };
        error(Rejection::RateLimited, StatusCode::TOO_MANY_REQUESTS, code, &msg)
            .with_header("retry-after", retry_after_seconds(retry_after_ms))
    }

    fn banned(&self, _state: &State, until_ms: i64, now_ms: i64) -> Reply {
        let msg = format!(
            "Way too much request weight used; IP banned until {until_ms}. \
             Please use WebSocket Streams for live updates to avoid bans."
        );
        error(Rejection::Banned, StatusCode::IM_A_TEAPOT, -1003, &msg)
            .with_header("retry-after", retry_after_seconds(until_ms - now_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_only_the_signature_pair() {
        let (rest, signature) = without_signature("symbol=LTCBTC&timestamp=1&signature=abc");
        assert_eq!(rest, "symbol=LTCBTC&timestamp=1");
        assert_eq!(signature.as_deref(), Some("abc"));
        let (rest, signature) = without_signature("xsignature=1&timestamp=1");
        assert_eq!(rest, "xsignature=1&timestamp=1");
        assert_eq!(signature, None);
    }

    #[test]
    fn weights_follow_the_documentation() {
        assert_eq!(weight(&Method::POST, "/api/v3/order", "symbol=BTCUSDT"), 1);
        assert_eq!(weight(&Method::DELETE, "/api/v3/order", ""), 1);
        assert_eq!(weight(&Method::GET, "/api/v3/order", ""), 4);
        assert_eq!(weight(&Method::GET, "/api/v3/account", "timestamp=1"), 20);
        assert_eq!(weight(&Method::GET, "/api/v3/exchangeInfo", ""), 20);
        assert_eq!(weight(&Method::GET, "/api/v3/openOrders", "symbol=BTCUSDT"), 6);
        assert_eq!(weight(&Method::GET, "/api/v3/openOrders", ""), 80);
        assert_eq!(weight(&Method::GET, "/api/v3/depth", "symbol=BTCUSDT"), 5);
        assert_eq!(weight(&Method::GET, "/api/v3/depth", "symbol=BTCUSDT&limit=500"), 25);
        assert_eq!(weight(&Method::GET, "/api/v3/depth", "limit=5000"), 250);
        assert_eq!(weight(&Method::GET, "/api/v3/time", ""), 1);
    }

    #[test]
    fn intervals_are_named_as_binance_names_them() {
        assert_eq!(interval(60_000), (1, "MINUTE", 'M'));
        assert_eq!(interval(10_000), (10, "SECOND", 'S'));
        assert_eq!(interval(86_400_000), (1, "DAY", 'D'));
        assert_eq!(interval(300_000), (5, "MINUTE", 'M'));
        assert_eq!(interval(7_200_000), (2, "HOUR", 'H'));
        assert_eq!(interval(1_500), (2, "SECOND", 'S'));
    }
}
