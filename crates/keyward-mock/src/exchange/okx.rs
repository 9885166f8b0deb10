//! OKX v5.
//!
//! - Headers `OK-ACCESS-KEY`, `OK-ACCESS-SIGN`, `OK-ACCESS-TIMESTAMP` (ISO 8601 UTC with
//!   milliseconds, `2020-12-08T09:08:57.715Z`) and `OK-ACCESS-PASSPHRASE` (as typed when the key
//!   was created).
//! - `OK-ACCESS-SIGN` = base64 HMAC-SHA256 of `timestamp + METHOD + requestPath + body`, where
//!   `requestPath` includes `?query` as sent.
//! - Served within 30 s of the server's time.
//! - Errors are HTTP 401 `{"code":"501xx","msg":..,"data":[]}`: 50102 expired, 50103/50104/50106/50107
//!   missing header, 50105 passphrase, 50111 key, 50112 timestamp format, 50113 signature.
//!
//! Rate limits: per endpoint, per 2 seconds, for everything under `/api/v5/`: place order 60,
//! account balance 10, and 20 for the rest (OKX documents each endpoint's own number; 20 is its
//! most common). OKX sends no rate-limit headers; a spent budget is HTTP 429
//! `{"code":"50011","msg":"Rate limit reached. ..","data":[]}`.

use super::{Protocol, executed_order};
use crate::{
    clock::parse_iso8601_ms,
    limits::{Budget, Charge, Usage},
    record::Rejection,
    reply::Reply,
    state::State,
    verify,
    wire::{WireRequest, echo},
};
use http::{Method, StatusCode};
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

const WINDOW_MS: i64 = 30_000;

/// Indices into [`BUDGETS`]; each endpoint keeps its own counter.
const PLACE_ORDER: usize = 0;
const BALANCE: usize = 1;
const OTHER_ENDPOINT: usize = 2;

static BUDGETS: [Budget; 3] = [
    Budget::window("trade/order", 60, 2_000),
    Budget::window("account/balance", 10, 2_000),
    Budget::window("endpoint", 20, 2_000),
];

#[derive(Debug, Clone, Copy)]
pub(super) struct Okx;

fn success_body(data: Value) -> Value {
    json!({"code": "0", "msg": "", "data": [data]})
}

fn error(rejection: Rejection, code: &str, msg: &str) -> Reply {
    Reply::rejected(
        rejection,
        StatusCode::UNAUTHORIZED,
        json!({"code": code, "msg": msg, "data": []}),
    )
}

fn required<'a>(request: &'a WireRequest, header: &str, code: &str) -> Result<&'a str, Reply> {
    request.header(header).ok_or_else(|| {
        error(
            Rejection::MissingAuth,
            code,
            &format!("Request header \"{}\" cannot be empty.", header.to_ascii_uppercase()),
        )
    })
}

impl Protocol for Okx {
    fn name(&self) -> &'static str {
        "okx"
    }

    fn public(&self, state: &State, request: &WireRequest) -> Option<Reply> {
        if request.path == "/api/v5/public/time" {
            return Some(Reply::ok(success_body(json!({"ts": state.clock.now_ms().to_string()}))));
        }
        if request.path.starts_with("/api/v5/public/") || request.path.starts_with("/api/v5/market/") {
            return Some(Reply::ok(success_body(echo(request))));
        }
        None
    }

    fn is_private(&self, path: &str) -> bool {
        path.starts_with("/api/v5/")
    }

    fn authenticate(&self, state: &State, request: &WireRequest) -> Result<(), Reply> {
        let api_key = required(request, "ok-access-key", "50103")?;
        let signature = required(request, "ok-access-sign", "50106")?;
        let timestamp = required(request, "ok-access-timestamp", "50107")?;
        let passphrase = required(request, "ok-access-passphrase", "50104")?;

        let Some(signed_at) = parse_iso8601_ms(timestamp) else {
            return Err(error(
                Rejection::TimestampOutsideWindow,
                "50112",
                "Invalid OK-ACCESS-TIMESTAMP",
            ));
        };
        if (state.clock.now_ms() - signed_at).abs() > WINDOW_MS {
            return Err(error(
                Rejection::TimestampOutsideWindow,
                "50102",
                "Timestamp request expired",
            ));
        }

        let Some(key) = state.key(api_key) else {
            return Err(error(Rejection::UnknownKey, "50111", "Invalid OK-ACCESS-KEY"));
        };
        let expected_passphrase = key.credentials.passphrase().unwrap_or_default().as_bytes();
        if expected_passphrase.is_empty() || !bool::from(expected_passphrase.ct_eq(passphrase.as_bytes())) {
            return Err(error(
                Rejection::BadPassphrase,
                "50105",
                "Request header \"OK-ACCESS-PASSPHRASE\" incorrect.",
            ));
        }

        let expected = verify::hmac_sha256(
            key.credentials.secret().as_bytes(),
            &[
                timestamp.as_bytes(),
                request.method.as_str().as_bytes(),
                request.path_and_query().as_bytes(),
                &request.body,
            ],
        );
        if !verify::base64_matches(&expected, signature) {
            return Err(error(Rejection::BadSignature, "50113", "Invalid Sign"));
        }
        Ok(())
    }

    fn order_endpoint(&self) -> (Method, &'static str) {
        (Method::POST, "/api/v5/trade/order")
    }

    fn place_order(&self, state: &State, request: &WireRequest) -> Reply {
        let order_id = format!("{}", 600_000_000_000_000_000u64 + state.next_order_number());
        let order = executed_order(state, request, order_id.clone(), &["clOrdId"]);
        let now_us = (order.executed_at_ms * 1000).to_string();
        let body = json!({
            "code": "0",
            "msg": "",
            "data": [{
                "clOrdId": order.client_order_id.clone().unwrap_or_default(),
                "ordId": order_id,
                "tag": order.params.get("tag").cloned().unwrap_or_else(|| json!("")),
                "ts": order.executed_at_ms.to_string(),
                "sCode": "0",
                "sMsg": "Order placed",
            }],
            "inTime": now_us,
            "outTime": now_us,
        });
        Reply::executed(body, order)
    }

    fn success(&self, state: &State, request: &WireRequest) -> Reply {
        let data = crate::permissions::okx(state, request).unwrap_or_else(|| echo(request));
        Reply::ok(success_body(data))
    }

    fn budgets(&self) -> &'static [Budget] {
        &BUDGETS
    }

    fn charges(&self, request: &WireRequest) -> Vec<Charge> {
        if !self.is_private(&request.path) {
            return Vec::new();
        }
        let budget = match request.path.as_str() {
            "/api/v5/trade/order" => PLACE_ORDER,
            "/api/v5/account/balance" => BALANCE,
            _ => OTHER_ENDPOINT,
        };
        vec![Charge::scoped(budget, &request.path, 1)]
    }

    fn throttled(&self, _state: &State, _exceeded: &Usage, _retry_after_ms: i64) -> Reply {
        Reply::rejected(
            Rejection::RateLimited,
            StatusCode::TOO_MANY_REQUESTS,
            json!({
                "code": "50011",
                "msg": "Rate limit reached. Please refer to API documentation and throttle requests accordingly.",
                "data": [],
            }),
        )
    }
}
