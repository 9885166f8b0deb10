//! Gate APIv4.
//!
//! - Headers `KEY`, `Timestamp` (Unix seconds) and `SIGN`.
//! - `SIGN` = hex HMAC-SHA512 of `METHOD \n path \n raw query \n hex(SHA512(body)) \n Timestamp`,
//!   with the path including `/api/v4` and the query "without URL encode" (the docs' words): the
//!   query as sent, form-decoded (`+` is a space, `%XX` its byte), as Gate's own SDK signs it.
//! - Served within 60 s of the server's time; Gate checks the time before the key.
//! - Errors are `{"label":..,"message":..}`: 400 `MISSING_REQUIRED_HEADER`, 403
//!   `REQUEST_EXPIRED`, 401 `INVALID_KEY`, 401 `INVALID_SIGNATURE`.
//! - `GET /api/v4/account/detail` reports the calling key's configured IP allow-list.
//!
//! Rate limits: per endpoint, 200 requests per 10 s for everything under `/api/v4/` (public
//! endpoints per IP, private ones per account), and 10 per second for spot order placement
//! (counted per endpoint, not per currency pair). Every limited answer carries
//! `X-Gate-RateLimit-Requests-Remain`, `X-Gate-RateLimit-Limit` and
//! `X-Gate-RateLimit-Reset-Timestamp` (ms: when the window resets once it is spent, the current
//! time otherwise); a spent budget is HTTP 429 `{"label":"TOO_MANY_REQUESTS",..}`.

use super::{Protocol, executed_order};
use crate::{
    limits::{Budget, Charge, Usage},
    record::Rejection,
    reply::{Reply, set_header},
    state::State,
    verify,
    wire::{WireRequest, echo, param_text},
};
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha512};

const WINDOW_MS: i64 = 60_000;

/// The public spot endpoints, and the last segment of public futures endpoints
/// (`/api/v4/futures/usdt/contracts`).
const PUBLIC_SPOT_PREFIXES: &[&str] = &[
    "/api/v4/spot/currencies",
    "/api/v4/spot/currency_pairs",
    "/api/v4/spot/tickers",
    "/api/v4/spot/order_book",
    "/api/v4/spot/trades",
    "/api/v4/spot/candlesticks",
];
const PUBLIC_FUTURES_SEGMENTS: &[&str] = &[
    "contracts",
    "order_book",
    "tickers",
    "trades",
    "candlesticks",
    "funding_rate",
];

/// Indices into [`BUDGETS`]; each endpoint keeps its own counter.
const SPOT_ORDERS: usize = 0;
const OTHER_ENDPOINT: usize = 1;

static BUDGETS: [Budget; 2] = [
    Budget::window("spot orders", 10, 1_000),
    Budget::window("endpoint", 200, 10_000),
];

#[derive(Debug, Clone, Copy)]
pub(super) struct Gate;

fn error(rejection: Rejection, status: StatusCode, label: &str, message: &str) -> Reply {
    Reply::rejected(rejection, status, json!({"label": label, "message": message}))
}

fn is_public(path: &str) -> bool {
    if PUBLIC_SPOT_PREFIXES
        .iter()
        .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")))
    {
        return true;
    }
    let Some(rest) = path
        .strip_prefix("/api/v4/futures/")
        .or_else(|| path.strip_prefix("/api/v4/delivery/"))
    else {
        return false;
    };
    // `{settle}/{segment}[/{contract}]`
    rest.split('/')
        .nth(1)
        .is_some_and(|segment| PUBLIC_FUTURES_SEGMENTS.contains(&segment))
}

fn required<'a>(request: &'a WireRequest, header: &str) -> Result<&'a str, Reply> {
    request.header(header).ok_or_else(|| {
        error(
            Rejection::MissingAuth,
            StatusCode::BAD_REQUEST,
            "MISSING_REQUIRED_HEADER",
            &format!("Missing required header: {header}"),
        )
    })
}

impl Protocol for Gate {
    fn name(&self) -> &'static str {
        "gate"
    }

    fn public(&self, state: &State, request: &WireRequest) -> Option<Reply> {
        if request.path == "/api/v4/spot/time" {
            return Some(Reply::ok(json!({"server_time": state.clock.now_ms()})));
        }
        is_public(&request.path).then(|| Reply::ok(echo(request)))
    }

    fn is_private(&self, path: &str) -> bool {
        path.starts_with("/api/v4/")
    }

    fn authenticate(&self, state: &State, request: &WireRequest) -> Result<(), Reply> {
        let api_key = required(request, "KEY")?;
        let timestamp = required(request, "Timestamp")?;
        let signature = required(request, "SIGN")?;

        let now = state.clock.now_ms();
        let in_window =
            super::parse_seconds_to_ms(timestamp).is_some_and(|signed_at| (now - signed_at).abs() <= WINDOW_MS);
        if !in_window {
            return Err(error(
                Rejection::TimestampOutsideWindow,
                StatusCode::FORBIDDEN,
                "REQUEST_EXPIRED",
                &format!(
                    "gap between request Timestamp and server time exceeds 60 current_time:{} header.timestamp:{timestamp}",
                    now.div_euclid(1000)
                ),
            ));
        }
        let Some(key) = state.key(api_key) else {
            return Err(error(
                Rejection::UnknownKey,
                StatusCode::UNAUTHORIZED,
                "INVALID_KEY",
                "Invalid key provided",
            ));
        };
        let body_hash = hex::encode(Sha512::digest(&request.body));
        let query = form_decoded(&request.query);
        let expected = verify::hmac_sha512(
            key.credentials.secret().as_bytes(),
            &[
                request.method.as_str().as_bytes(),
                b"\n",
                request.path.as_bytes(),
                b"\n",
                &query,
                b"\n",
                body_hash.as_bytes(),
                b"\n",
                timestamp.as_bytes(),
            ],
        );
        if !verify::hex_matches(&expected, signature) {
            return Err(error(
                Rejection::BadSignature,
                StatusCode::UNAUTHORIZED,
                "INVALID_SIGNATURE",
                "Signature mismatch",
            ));
        }
        Ok(())
    }

    fn order_endpoint(&self) -> (Method, &'static str) {
        (Method::POST, "/api/v4/spot/orders")
    }

    fn place_order(&self, state: &State, request: &WireRequest) -> Reply {
        let order_id = (12_000_000_000u64 + state.next_order_number()).to_string();
        let order = executed_order(state, request, order_id.clone(), &["text"]);
        let field = |name: &str| param_text(&order.params, name).map_or(Value::Null, Value::String);
        let (seconds, millis) = (order.executed_at_ms.div_euclid(1000), order.executed_at_ms);
        let body = json!({
            "id": order_id,
            // Gate labels orders placed without a text as coming from the API.
            "text": order.client_order_id.clone().unwrap_or_else(|| "apiv4".into()),
            "create_time": seconds.to_string(),
            "update_time": seconds.to_string(),
            "create_time_ms": millis,
            "update_time_ms": millis,
            "status": "open",
            "currency_pair": field("currency_pair"),
            "type": param_text(&order.params, "type").unwrap_or_else(|| "limit".into()),
            "account": param_text(&order.params, "account").unwrap_or_else(|| "spot".into()),
            "side": field("side"),
            "amount": field("amount"),
            "price": field("price"),
            "time_in_force": param_text(&order.params, "time_in_force").unwrap_or_else(|| "gtc".into()),
            "left": field("amount"),
            "filled_total": "0",
            "fee": "0",
        });
        Reply::executed(body, order)
    }

    fn success(&self, state: &State, request: &WireRequest) -> Reply {
        Reply::ok(crate::permissions::gate(state, request).unwrap_or_else(|| echo(request)))
    }

    fn budgets(&self) -> &'static [Budget] {
        &BUDGETS
    }

    fn charges(&self, request: &WireRequest) -> Vec<Charge> {
        if !self.is_private(&request.path) {
            return Vec::new();
        }
        let (method, path) = self.order_endpoint();
        let budget = if request.method == method && request.path == path {
            SPOT_ORDERS
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
            set_header(headers, "X-Gate-RateLimit-Requests-Remain", usage.remaining());
            set_header(headers, "X-Gate-RateLimit-Limit", usage.budget.limit);
            set_header(headers, "X-Gate-RateLimit-Reset-Timestamp", reset);
        }
    }

    fn throttled(&self, _state: &State, _exceeded: &Usage, _retry_after_ms: i64) -> Reply {
        error(
            Rejection::RateLimited,
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "Request rate exceeds limits",
        )
    }
}

/// The query with `+` read as a space and `%XX` as its byte; `&` and `=` stay as they are.
fn form_decoded(query: &str) -> Vec<u8> {
    let spaced = query.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_endpoints_are_told_apart_from_private_ones() {
        assert!(is_public("/api/v4/spot/currency_pairs/BTC_USDT"));
        assert!(is_public("/api/v4/futures/usdt/contracts/BTC_USDT"));
        assert!(!is_public("/api/v4/futures/usdt/orders"));
        assert!(!is_public("/api/v4/futures/orders"));
        assert!(!is_public("/api/v4/spot/orders"));
        assert!(!is_public("/api/v4/futures/usdt/my_trades"));
    }
}
