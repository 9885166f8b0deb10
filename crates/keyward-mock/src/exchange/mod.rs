//! The eight exchanges the mock stands in for: one file per exchange, one line per exchange in
//! [`ALL`].
//!
//! An exchange is a small [`Protocol`] impl: its public endpoints (server time first), its private
//! prefixes, how it authenticates a request as received on the wire, its order endpoint, the
//! envelope of its answers, and its rate limits (budgets, costs, headers, refusals).
//! [`serve_within_limits`] runs them in the same order for every exchange.

mod binance;
mod bitmex;
mod bybit;
mod coinbase;
mod gate;
mod kraken;
mod kucoin;
mod okx;

use crate::{
    credentials::MockCredentials,
    limits::{Admission, Budget, Charge, Usage},
    record::{RecordedOrder, Rejection},
    reply::Reply,
    state::{Key, State},
    wire::{WireRequest, param_text},
};
use http::{HeaderMap, StatusCode};
use std::fmt;

/// Every exchange, in alphabetical order. Adding one adds one file and one line here.
static ALL: &[&dyn Protocol] = &[
    &binance::Binance,
    &bitmex::Bitmex,
    &bybit::Bybit,
    &coinbase::Coinbase,
    &gate::Gate,
    &kraken::Kraken,
    &kucoin::Kucoin,
    &okx::Okx,
];

/// The exchange named `name` (lower case), if the mock knows it.
pub(crate) fn by_name(name: &str) -> Option<&'static dyn Protocol> {
    ALL.iter().copied().find(|exchange| exchange.name() == name)
}

/// The names of every exchange the mock stands in for.
pub(crate) fn names() -> Vec<&'static str> {
    ALL.iter().map(|exchange| exchange.name()).collect()
}

/// One exchange's behaviour. Every method reads the request exactly as it arrived.
pub(crate) trait Protocol: fmt::Debug + Send + Sync + 'static {
    /// The lower-case name (`binance`, `okx`, ...).
    fn name(&self) -> &'static str;

    /// Prepares the key material of an accepted key once, refusing credentials the exchange
    /// could never have issued (a Coinbase secret that is not base64, say). The message must not
    /// contain the secret.
    fn prepare_key(&self, credentials: MockCredentials) -> Result<Key, String> {
        Ok(Key {
            credentials,
            ed25519: None,
        })
    }

    /// Answers the unauthenticated endpoints (server time, market data); `None` for the rest.
    fn public(&self, state: &State, request: &WireRequest) -> Option<Reply>;

    /// Whether `path` is under one of the exchange's private prefixes.
    fn is_private(&self, path: &str) -> bool;

    /// Authenticates a private request, or answers with the exchange's own error.
    fn authenticate(&self, state: &State, request: &WireRequest) -> Result<(), Reply>;

    /// The order-placement endpoint.
    fn order_endpoint(&self) -> (http::Method, &'static str);

    /// Executes an order and answers like the exchange.
    fn place_order(&self, state: &State, request: &WireRequest) -> Reply;

    /// The success envelope around [`echo`](crate::wire::echo) for any other private endpoint.
    fn success(&self, state: &State, request: &WireRequest) -> Reply;

    /// The answer for a path the exchange does not serve.
    fn not_found(&self, _request: &WireRequest) -> Reply {
        Reply::rejected(
            Rejection::NotFound,
            StatusCode::NOT_FOUND,
            serde_json::json!({"error": "not found"}),
        )
    }

    /// The rate-limit budgets the exchange documents. The primary ones are what
    /// [`Builder::weight_limit`](crate::Builder::weight_limit) replaces.
    fn budgets(&self) -> &'static [Budget];

    /// What `request` costs, budget by budget (indices into [`budgets`](Self::budgets)). Limits
    /// are applied before authentication: a refused signature still spends its units.
    fn charges(&self, request: &WireRequest) -> Vec<Charge>;

    /// Writes the exchange's rate-limit headers about `usages` into an answer, admitted or not.
    fn limit_headers(&self, _usages: &[Usage], _headers: &mut HeaderMap) {}

    /// The exchange's refusal when the budget in `exceeded` is spent.
    fn throttled(&self, state: &State, exceeded: &Usage, retry_after_ms: i64) -> Reply;

    /// The exchange's answer to a banned client; only exchanges with banning budgets ban.
    fn banned(&self, _state: &State, until_ms: i64, now_ms: i64) -> Reply {
        Reply::rejected(Rejection::Banned, StatusCode::IM_A_TEAPOT, serde_json::json!({}))
            .with_header("retry-after", retry_after_seconds(until_ms - now_ms))
    }
}

/// Answers one request the way `state.exchange` does, after its rate limits admitted it.
pub(crate) fn serve_within_limits(state: &State, request: &WireRequest) -> Reply {
    let exchange = state.exchange;
    let charges = exchange.charges(request);
    match state.limits.admit(state.clock.now_ms(), &charges) {
        Admission::Admitted(usages) => {
            let mut reply = serve(state, request);
            exchange.limit_headers(&usages, &mut reply.headers);
            reply
        }
        Admission::Throttled {
            usages,
            exceeded,
            retry_after_ms,
        } => {
            let mut reply = exchange.throttled(state, &exceeded, retry_after_ms);
            exchange.limit_headers(&usages, &mut reply.headers);
            reply
        }
        Admission::Banned { until_ms, now_ms } => exchange.banned(state, until_ms, now_ms),
    }
}

/// A wait as `Retry-After` seconds: rounded up, and at least one, so that a client that honours
/// it is never early.
pub(crate) fn retry_after_seconds(wait_ms: i64) -> i64 {
    (wait_ms.max(1) + 999) / 1000
}

/// Answers one request the way `state.exchange` does, without rate limits.
fn serve(state: &State, request: &WireRequest) -> Reply {
    let exchange = state.exchange;
    if let Some(reply) = crate::permissions::ip_echo(request) {
        return reply;
    }
    if let Some(reply) = exchange.public(state, request) {
        return reply;
    }
    if !exchange.is_private(&request.path) {
        return exchange.not_found(request);
    }
    if let Err(refusal) = exchange.authenticate(state, request) {
        return refusal;
    }
    let (method, path) = exchange.order_endpoint();
    if request.method == method && request.path == path {
        exchange.place_order(state, request)
    } else {
        exchange.success(state, request)
    }
}

/// The order an exchange executes for `request`: its parameters, and the client order id from
/// the first of `client_id_fields` present.
pub(crate) fn executed_order(
    state: &State,
    request: &WireRequest,
    order_id: String,
    client_id_fields: &[&str],
) -> RecordedOrder {
    let params = request.params();
    let client_order_id = client_id_fields.iter().find_map(|field| param_text(&params, field));
    RecordedOrder {
        order_id,
        client_order_id,
        executed_at_ms: state.clock.now_ms(),
        params,
    }
}

/// A deterministic, UUID-shaped order id (BitMEX, Bybit and Coinbase use UUIDs).
pub(crate) fn uuid_like(sequence: u64) -> String {
    let digits = format!("{sequence:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &digits[0..8],
        &digits[8..12],
        &digits[12..16],
        &digits[16..20],
        &digits[20..32]
    )
}

/// Parses an integer timestamp or nonce, as exchanges read them: ASCII digits only.
pub(crate) fn parse_integer(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Parses seconds with an optional fraction (`1541993715`, `1420674445.201`) to milliseconds.
pub(crate) fn parse_seconds_to_ms(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let seconds = parse_integer(whole)?;
    let millis = if fraction.is_empty() {
        0
    } else {
        if !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        format!("{fraction:0<3}")[..3].parse::<i64>().ok()?
    };
    seconds.checked_mul(1000)?.checked_add(millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exchange_is_listed_once() {
        assert_eq!(
            names(),
            [
                "binance", "bitmex", "bybit", "coinbase", "gate", "kraken", "kucoin", "okx"
            ]
        );
        assert!(by_name("mtgox").is_none());
    }

    #[test]
    fn parses_numbers_strictly() {
        assert_eq!(parse_integer("1499827319559"), Some(1_499_827_319_559));
        assert_eq!(parse_integer("-1"), None);
        assert_eq!(parse_integer("1e3"), None);
        assert_eq!(parse_seconds_to_ms("1420674445.201"), Some(1_420_674_445_201));
        assert_eq!(parse_seconds_to_ms("1541993715"), Some(1_541_993_715_000));
        assert_eq!(parse_seconds_to_ms("1.5"), Some(1_500));
        assert_eq!(parse_seconds_to_ms("1.x"), None);
        assert_eq!(uuid_like(1), "00000000-0000-0000-0000-000000000001");
    }

    #[test]
    fn retry_after_never_tells_a_client_to_come_back_early() {
        assert_eq!(retry_after_seconds(0), 1);
        assert_eq!(retry_after_seconds(1), 1);
        assert_eq!(retry_after_seconds(1_000), 1);
        assert_eq!(retry_after_seconds(1_001), 2);
        assert_eq!(retry_after_seconds(120_000), 120);
    }

    #[test]
    fn every_exchange_documents_budgets_and_charges_its_order_endpoint() {
        for exchange in ALL {
            assert!(!exchange.budgets().is_empty(), "{}", exchange.name());
            assert!(
                exchange.budgets().iter().any(|budget| budget.primary),
                "{}",
                exchange.name()
            );
            let (method, path) = exchange.order_endpoint();
            let order = WireRequest {
                method,
                path: path.into(),
                query: String::new(),
                headers: http::HeaderMap::new(),
                body: bytes::Bytes::new(),
            };
            let charges = exchange.charges(&order);
            // Kraken's AddOrder is the one call its REST counter does not count.
            assert_eq!(charges.is_empty(), exchange.name() == "kraken", "{}", exchange.name());
            for charge in charges {
                assert!(charge.budget < exchange.budgets().len(), "{}", exchange.name());
            }
        }
    }
}
