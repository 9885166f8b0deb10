//! Bybit v5.
//!
//! - Headers `X-BAPI-API-KEY`, `X-BAPI-TIMESTAMP` (ms), `X-BAPI-SIGN`, `X-BAPI-RECV-WINDOW`
//!   (default 5000).
//! - `X-BAPI-SIGN` = hex HMAC-SHA256 of `timestamp + api_key + recv_window + payload`, where the
//!   payload is the raw query string for `GET` and the raw body otherwise.
//! - Served if `server_time - recv_window <= timestamp < server_time + 1000`.
//! - Every answer is HTTP 200 with `{"retCode":..,"retMsg":..,"result":..,"retExtInfo":{},"time":..}`:
//!   10001 missing values, 10002 timestamp, 10003 unknown key, 10004 signature.
//!
//! Rate limits: per endpoint and per second, for every private `/v5/` endpoint (the IP limit on
//! public market data is not modelled). `POST /v5/order/create` 10 per second; Bybit documents
//! 10 to 50 per second for the others, the mock gives them all the lowest, 10. Windows are aligned
//! on the second rather than rolling. Every limited answer carries `X-Bapi-Limit`,
//! `X-Bapi-Limit-Status` (remaining) and `X-Bapi-Limit-Reset-Timestamp` (ms: when the window
//! resets once it is spent, the current time otherwise); a spent budget is retCode 10006
//! "Too many visits!", HTTP 200 like every Bybit error.

use super::{Protocol, executed_order, uuid_like};
use crate::{
    credentials::KeyHint,
    limits::{Budget, Charge, Usage},
    record::Rejection,
    reply::{Reply, set_header},
    state::State,
    verify,
    wire::{WireRequest, echo},
};
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};

const DEFAULT_RECV_WINDOW_MS: i64 = 5000;
const MAX_AHEAD_MS: i64 = 1000;

/// Indices into [`BUDGETS`]; each endpoint keeps its own counter.
const ORDER_CREATE: usize = 0;
const OTHER_ENDPOINT: usize = 1;

static BUDGETS: [Budget; 2] = [
    Budget::window("order/create", 10, 1_000),
    Budget::window("endpoint", 10, 1_000),
];

#[derive(Debug, Clone, Copy)]
pub(super) struct Bybit;

fn is_public(path: &str) -> bool {
    path.starts_with("/v5/market/") || path.starts_with("/v5/announcements/")
}

fn envelope(state: &State, code: i64, message: &str, result: Value) -> Value {
    json!({
        "retCode": code,
        "retMsg": message,
        "result": result,
        "retExtInfo": {},
        "time": state.clock.now_ms(),
    })
}

fn error(state: &State, rejection: Rejection, code: i64, message: &str) -> Reply {
    Reply::rejected(rejection, StatusCode::OK, envelope(state, code, message, json!({})))
}

impl Protocol for Bybit {
    fn name(&self) -> &'static str {
        "bybit"
    }

    fn public(&self, state: &State, request: &WireRequest) -> Option<Reply> {
        if request.path == "/v5/market/time" {
            let now = state.clock.now_ms();
            let result = json!({
                "timeSecond": now.div_euclid(1000).to_string(),
                "timeNano": (i128::from(now) * 1_000_000).to_string(),
            });
            return Some(Reply::ok(envelope(state, 0, "OK", result)));
        }
        if is_public(&request.path) {
            return Some(Reply::ok(envelope(state, 0, "OK", echo(request))));
        }
        None
    }

    fn is_private(&self, path: &str) -> bool {
        path.starts_with("/v5/")
    }

    fn authenticate(&self, state: &State, request: &WireRequest) -> Result<(), Reply> {
        let api_key = request.header("x-bapi-api-key");
        let timestamp = request.header("x-bapi-timestamp");
        let signature = request.header("x-bapi-sign");
        let (Some(api_key), Some(timestamp), Some(signature)) = (api_key, timestamp, signature) else {
            // Bybit repeats the values it saw; the key is shortened so the body never carries it.
            let message = format!(
                "empty value: apiTimestamp[{}] apiKey[{}] apiSignature[{}]",
                timestamp.unwrap_or_default(),
                api_key.map(|key| KeyHint(key).to_string()).unwrap_or_default(),
                signature.unwrap_or_default(),
            );
            return Err(error(state, Rejection::MissingAuth, 10001, &message));
        };
        let recv_window_text = request.header("x-bapi-recv-window").unwrap_or_default();
        let recv_window = if recv_window_text.is_empty() {
            DEFAULT_RECV_WINDOW_MS
        } else {
            super::parse_integer(recv_window_text).unwrap_or(-1)
        };

        let now = state.clock.now_ms();
        let in_window = super::parse_integer(timestamp)
            .is_some_and(|ts| recv_window >= 0 && now - recv_window <= ts && ts < now + MAX_AHEAD_MS);
        if !in_window {
            let message = format!(
                "invalid request, please check your server timestamp or recv_window param. \
                 req_timestamp[{timestamp}],server_timestamp[{now}],recv_window[{recv_window_text}]"
            );
            return Err(error(state, Rejection::TimestampOutsideWindow, 10002, &message));
        }

        let Some(key) = state.key(api_key) else {
            return Err(error(state, Rejection::UnknownKey, 10003, "API key is invalid."));
        };

        let body = request.body_text();
        let payload: &str = if request.method == Method::GET {
            &request.query
        } else {
            &body
        };
        let expected = verify::hmac_sha256(
            key.credentials.secret().as_bytes(),
            &[
                timestamp.as_bytes(),
                api_key.as_bytes(),
                recv_window_text.as_bytes(),
                payload.as_bytes(),
            ],
        );
        if !verify::hex_matches(&expected, signature) {
            let message = format!(
                "error sign! origin_string[{timestamp}{}{recv_window_text}{payload}]",
                KeyHint(api_key)
            );
            return Err(error(state, Rejection::BadSignature, 10004, &message));
        }
        Ok(())
    }

    fn order_endpoint(&self) -> (Method, &'static str) {
        (Method::POST, "/v5/order/create")
    }

    fn place_order(&self, state: &State, request: &WireRequest) -> Reply {
        let order_id = uuid_like(state.next_order_number());
        let order = executed_order(state, request, order_id.clone(), &["orderLinkId"]);
        let result = json!({
            "orderId": order_id,
            "orderLinkId": order.client_order_id.clone().unwrap_or_default(),
        });
        Reply::executed(envelope(state, 0, "OK", result), order)
    }

    fn success(&self, state: &State, request: &WireRequest) -> Reply {
        let result = crate::permissions::bybit(state, request).unwrap_or_else(|| echo(request));
        Reply::ok(envelope(state, 0, "OK", result))
    }

    fn budgets(&self) -> &'static [Budget] {
        &BUDGETS
    }

    fn charges(&self, request: &WireRequest) -> Vec<Charge> {
        if !self.is_private(&request.path) || is_public(&request.path) {
            return Vec::new();
        }
        let (method, path) = self.order_endpoint();
        let budget = if request.method == method && request.path == path {
            ORDER_CREATE
        } else {
            OTHER_ENDPOINT
        };
        vec![Charge::scoped(budget, &request.path, 1)]
    }

    fn limit_headers(&self, usages: &[Usage], headers: &mut HeaderMap) {
        for usage in usages {
            let reset = if usage.remaining() == 0 {
                usage.resets_at_ms
            } else {
                usage.now_ms
            };
            set_header(headers, "X-Bapi-Limit", usage.budget.limit);
            set_header(headers, "X-Bapi-Limit-Status", usage.remaining());
            set_header(headers, "X-Bapi-Limit-Reset-Timestamp", reset);
        }
    }

    fn throttled(&self, state: &State, _exceeded: &Usage, _retry_after_ms: i64) -> Reply {
        error(state, Rejection::RateLimited, 10006, "Too many visits!")
    }
}
