//! BitMEX.
//!
//! - Headers `api-key`, `api-expires` (Unix seconds) and `api-signature`.
//! - `api-signature` = hex HMAC-SHA256 of `VERB + path (+ ?query as sent) + expires + body`.
//! - Served while `api-expires` is in the future.
//! - Errors are HTTP 401 `{"error":{"message":..,"name":"HTTPError"}}`.
//! - Server time: `GET /api/v1` answers `{"name":"BitMEX API","version":..,"timestamp":ms}`.
//! - Public endpoints (instruments, order book, trades...) need no key, but a request that
//!   carries one is authenticated all the same, as at BitMEX.
//! - `GET /api/v1/apiKey` lists the calling key with its configured permissions and CIDRs.
//!
//! Rate limits: a token bucket of 120 requests refilling over a minute for everything under
//! `/api/v1/`, and 10 per second on the order-management routes. Answers carry
//! `x-ratelimit-limit`, `x-ratelimit-remaining` and `x-ratelimit-reset` (Unix seconds when the
//! bucket is full again), order routes also `x-ratelimit-limit-1s` and `x-ratelimit-remaining-1s`.
//! A spent budget is HTTP 429 with `Retry-After` and a `RateLimitError`. (BitMEX's hour-long ban
//! for many rejected requests is not modelled.)

use super::{Protocol, executed_order, retry_after_seconds, uuid_like};
use crate::{
    clock::Civil,
    limits::{Budget, Charge, Usage},
    record::Rejection,
    reply::{Reply, set_header},
    state::State,
    verify,
    wire::{WireRequest, echo, param_text},
};
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};

const PUBLIC_PREFIXES: &[&str] = &[
    "/api/v1/announcement",
    "/api/v1/chat",
    "/api/v1/funding",
    "/api/v1/instrument",
    "/api/v1/insurance",
    "/api/v1/leaderboard",
    "/api/v1/liquidation",
    "/api/v1/orderBook",
    "/api/v1/quote",
    "/api/v1/schema",
    "/api/v1/settlement",
    "/api/v1/stats",
    "/api/v1/trade",
];

/// Indices into [`BUDGETS`].
const REQUESTS: usize = 0;
const ORDER_ROUTES_PER_SECOND: usize = 1;

static BUDGETS: [Budget; 2] = [
    Budget::drain("requests", 120, 60_000),
    Budget::window("order routes", 10, 1_000).secondary(),
];

/// The routes under the second, per-second limit.
const ORDER_ROUTES: &[(Method, &str)] = &[
    (Method::POST, "/api/v1/order"),
    (Method::PUT, "/api/v1/order"),
    (Method::DELETE, "/api/v1/order"),
    (Method::POST, "/api/v1/order/bulk"),
    (Method::PUT, "/api/v1/order/bulk"),
    (Method::DELETE, "/api/v1/order/all"),
    (Method::POST, "/api/v1/position/isolate"),
    (Method::POST, "/api/v1/position/leverage"),
    (Method::POST, "/api/v1/position/transferMargin"),
];

#[derive(Debug, Clone, Copy)]
pub(super) struct Bitmex;

fn error(rejection: Rejection, status: StatusCode, message: &str) -> Reply {
    Reply::rejected(
        rejection,
        status,
        json!({"error": {"message": message, "name": "HTTPError"}}),
    )
}

fn is_public(path: &str) -> bool {
    PUBLIC_PREFIXES
        .iter()
        .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")))
}

fn carries_auth(request: &WireRequest) -> bool {
    ["api-key", "api-expires", "api-signature"]
        .iter()
        .any(|header| request.headers.contains_key(*header))
}

impl Protocol for Bitmex {
    fn name(&self) -> &'static str {
        "bitmex"
    }

    fn public(&self, state: &State, request: &WireRequest) -> Option<Reply> {
        if request.path == "/api/v1" || request.path == "/api/v1/" {
            return Some(Reply::ok(json!({
                "name": "BitMEX API",
                "version": "1.2.0",
                "timestamp": state.clock.now_ms(),
            })));
        }
        if !is_public(&request.path) {
            return None;
        }
        if carries_auth(request) {
            if let Err(refusal) = self.authenticate(state, request) {
                return Some(refusal);
            }
        }
        Some(Reply::ok(echo(request)))
    }

    fn is_private(&self, path: &str) -> bool {
        path.starts_with("/api/v1/")
    }

    fn authenticate(&self, state: &State, request: &WireRequest) -> Result<(), Reply> {
        let (Some(api_key), Some(expires), Some(signature)) = (
            request.header("api-key"),
            request.header("api-expires"),
            request.header("api-signature"),
        ) else {
            return Err(error(
                Rejection::MissingAuth,
                StatusCode::UNAUTHORIZED,
                "Not logged in.",
            ));
        };
        let now_seconds = state.clock.now_ms().div_euclid(1000);
        let in_future = super::parse_integer(expires).is_some_and(|expires| expires > now_seconds);
        if !in_future {
            return Err(error(
                Rejection::TimestampOutsideWindow,
                StatusCode::UNAUTHORIZED,
                &format!("This request has expired - `expires` is in the past. Current time: {now_seconds}"),
            ));
        }
        let Some(key) = state.key(api_key) else {
            return Err(error(
                Rejection::UnknownKey,
                StatusCode::UNAUTHORIZED,
                "Invalid API Key.",
            ));
        };
        let expected = verify::hmac_sha256(
            key.credentials.secret().as_bytes(),
            &[
                request.method.as_str().as_bytes(),
                request.path_and_query().as_bytes(),
                expires.as_bytes(),
                &request.body,
            ],
        );
        if !verify::hex_matches(&expected, signature) {
            return Err(error(
                Rejection::BadSignature,
                StatusCode::UNAUTHORIZED,
                "Signature not valid.",
            ));
        }
        Ok(())
    }

    fn order_endpoint(&self) -> (Method, &'static str) {
        (Method::POST, "/api/v1/order")
    }

    fn place_order(&self, state: &State, request: &WireRequest) -> Reply {
        let order_id = uuid_like(state.next_order_number());
        let order = executed_order(state, request, order_id.clone(), &["clOrdID"]);
        let now = Civil::from_unix_ms(order.executed_at_ms).iso8601_millis();
        let field = |name: &str| order.params.get(name).cloned().unwrap_or(Value::Null);
        let body = json!({
            "orderID": order_id,
            "clOrdID": order.client_order_id.clone().unwrap_or_default(),
            "account": 0,
            "symbol": field("symbol"),
            "side": param_text(&order.params, "side").unwrap_or_else(|| "Buy".into()),
            "orderQty": field("orderQty"),
            "price": field("price"),
            "currency": "USD",
            "ordType": param_text(&order.params, "ordType").unwrap_or_else(|| "Limit".into()),
            "timeInForce": "GoodTillCancel",
            "ordStatus": "New",
            "workingIndicator": true,
            "leavesQty": field("orderQty"),
            "cumQty": 0,
            "text": "Submitted via API.",
            "transactTime": now,
            "timestamp": now,
        });
        Reply::executed(body, order)
    }

    fn success(&self, state: &State, request: &WireRequest) -> Reply {
        Reply::ok(crate::permissions::bitmex(state, request).unwrap_or_else(|| echo(request)))
    }

    fn not_found(&self, _request: &WireRequest) -> Reply {
        error(Rejection::NotFound, StatusCode::NOT_FOUND, "Not Found")
    }

    fn budgets(&self) -> &'static [Budget] {
        &BUDGETS
    }

    fn charges(&self, request: &WireRequest) -> Vec<Charge> {
        if !request.path.starts_with("/api/v1") {
            return Vec::new();
        }
        let mut charges = vec![Charge::shared(REQUESTS, 1)];
        let is_order_route = ORDER_ROUTES
            .iter()
            .any(|(method, path)| request.method == method && request.path == *path);
        if is_order_route {
            charges.push(Charge::shared(ORDER_ROUTES_PER_SECOND, 1));
        }
        charges
    }

    fn limit_headers(&self, usages: &[Usage], headers: &mut HeaderMap) {
        for usage in usages {
            if usage.budget.name == "requests" {
                set_header(headers, "x-ratelimit-limit", usage.budget.limit);
                set_header(headers, "x-ratelimit-remaining", usage.remaining());
                set_header(
                    headers,
                    "x-ratelimit-reset",
                    (usage.resets_at_ms + 999).div_euclid(1000),
                );
            } else {
                set_header(headers, "x-ratelimit-limit-1s", usage.budget.limit);
                set_header(headers, "x-ratelimit-remaining-1s", usage.remaining());
            }
        }
    }

    fn throttled(&self, _state: &State, _exceeded: &Usage, retry_after_ms: i64) -> Reply {
        let seconds = retry_after_seconds(retry_after_ms);
        Reply::rejected(
            Rejection::RateLimited,
            StatusCode::TOO_MANY_REQUESTS,
            json!({"error": {
                "message": format!("Rate limit exceeded, retry in {seconds} seconds."),
                "name": "RateLimitError",
            }}),
        )
        .with_header("retry-after", seconds)
    }
}
