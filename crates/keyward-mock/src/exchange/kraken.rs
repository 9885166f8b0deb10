//! Kraken Spot REST.
//!
//! - Headers `API-Key` and `API-Sign`; the `nonce` is a body parameter (form, or JSON).
//! - `API-Sign` = base64 HMAC-SHA512, keyed with the base64-decoded secret, of
//!   `URI path + SHA256(nonce + POST data)` (the SHA-256 as raw bytes).
//! - Each key's nonces must strictly increase.
//! - Every answer is HTTP 200 with `{"error":[..],"result":..}`: `EAPI:Invalid key`,
//!   `EAPI:Invalid signature`, `EAPI:Invalid nonce`.
//! - `POST /0/private/BalanceEx` answers empty extended balances.
//!
//! Rate limits: the REST call counter of each API key, starter tier (the strictest: at most 15,
//! decaying by 0.33 per second). Ledger and trade-history calls add 2, `AddOrder` and
//! `CancelOrder` nothing (they count on the matching engine's limiter, not modelled), every
//! other private call 1; public calls are not limited. Kraken sends no rate-limit headers; a
//! counter above its maximum is HTTP 200 `{"error":["EAPI:Rate limit exceeded"]}`.

use super::{Protocol, executed_order};
use crate::{
    clock::Civil,
    credentials::MockCredentials,
    limits::{Budget, Charge, Usage},
    record::Rejection,
    reply::Reply,
    state::{Key, State},
    verify,
    wire::{WireRequest, echo, param_text},
};
use http::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// 15 units decaying at 0.33 per second come back in 15 / 0.33 s.
static BUDGETS: [Budget; 1] = [Budget::drain("call counter", 15, 45_455)];

/// The calls that add 2 to the counter ("ledger/trade history calls").
const HISTORY_CALLS: &[&str] = &[
    "/0/private/Ledgers",
    "/0/private/QueryLedgers",
    "/0/private/TradesHistory",
    "/0/private/QueryTrades",
];

#[derive(Debug, Clone, Copy)]
pub(super) struct Kraken;

fn error(rejection: Rejection, message: &str) -> Reply {
    Reply::rejected(rejection, StatusCode::OK, json!({"error": [message]}))
}

fn success_body(result: Value) -> Value {
    json!({"error": [], "result": result})
}

/// A Kraken-shaped transaction id (`OUF4EM-FRGI2-MQMWZD`), unique per sequence number.
fn txid(sequence: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut value = sequence;
    let mut chars = Vec::with_capacity(16);
    for _ in 0..16 {
        chars.push(ALPHABET[(value % 32) as usize] as char);
        value /= 32;
    }
    chars.reverse();
    let text: String = chars.into_iter().collect();
    format!("O{}-{}-{}", &text[11..16], &text[6..11], &text[0..6])
}

impl Protocol for Kraken {
    fn name(&self) -> &'static str {
        "kraken"
    }

    fn prepare_key(&self, credentials: MockCredentials) -> Result<Key, String> {
        if verify::base64_decode(credentials.secret()).is_none() {
            return Err("kraken: the private key must be base64, as Kraken issues it".into());
        }
        Ok(Key {
            credentials,
            ed25519: None,
        })
    }

    fn public(&self, state: &State, request: &WireRequest) -> Option<Reply> {
        if request.path == "/0/public/Time" {
            let now = state.clock.now_ms();
            return Some(Reply::ok(success_body(json!({
                "unixtime": now.div_euclid(1000),
                "rfc1123": Civil::from_unix_ms(now).kraken_rfc1123(),
            }))));
        }
        request
            .path
            .starts_with("/0/public/")
            .then(|| Reply::ok(success_body(echo(request))))
    }

    fn is_private(&self, path: &str) -> bool {
        path.starts_with("/0/private/")
    }

    fn authenticate(&self, state: &State, request: &WireRequest) -> Result<(), Reply> {
        let Some(api_key) = request.header("api-key") else {
            return Err(error(Rejection::MissingAuth, "EAPI:Invalid key"));
        };
        let Some(signature) = request.header("api-sign") else {
            return Err(error(Rejection::MissingAuth, "EAPI:Invalid signature"));
        };
        let Some(key) = state.key(api_key) else {
            return Err(error(Rejection::UnknownKey, "EAPI:Invalid key"));
        };
        let params = request.params();
        let Some(nonce_text) = param_text(&params, "nonce") else {
            return Err(error(Rejection::MissingAuth, "EAPI:Invalid nonce"));
        };
        let Some(nonce) = super::parse_integer(&nonce_text).and_then(|n| u64::try_from(n).ok()) else {
            return Err(error(Rejection::BadRequest, "EAPI:Invalid nonce"));
        };

        let digest = Sha256::new()
            .chain_update(nonce_text.as_bytes())
            .chain_update(&request.body)
            .finalize();
        let secret = verify::base64_decode(key.credentials.secret()).unwrap_or_default();
        let expected = verify::hmac_sha512(&secret, &[request.path.as_bytes(), &digest]);
        if !verify::base64_matches(&expected, signature) {
            return Err(error(Rejection::BadSignature, "EAPI:Invalid signature"));
        }
        // Only a request that authenticated consumes its nonce, as at Kraken.
        if !state.accept_increasing_nonce(api_key, nonce) {
            return Err(error(Rejection::NonceNotIncreasing, "EAPI:Invalid nonce"));
        }
        Ok(())
    }

    fn order_endpoint(&self) -> (Method, &'static str) {
        (Method::POST, "/0/private/AddOrder")
    }

    fn place_order(&self, state: &State, request: &WireRequest) -> Reply {
        let order_id = txid(state.next_order_number());
        let order = executed_order(state, request, order_id.clone(), &["cl_ord_id", "userref"]);
        let param = |name: &str| param_text(&order.params, name).unwrap_or_default();
        let mut description = format!("{} {} {}", param("type"), param("volume"), param("pair"));
        if param("ordertype") == "market" {
            description.push_str(" @ market");
        } else {
            description.push_str(&format!(" @ {} {}", param("ordertype"), param("price")));
        }
        let body = success_body(json!({
            "descr": {"order": description},
            "txid": [order_id],
        }));
        Reply::executed(body, order)
    }

    fn success(&self, _state: &State, request: &WireRequest) -> Reply {
        // The extended balance, which the preflight reads to prove a key is accepted.
        if request.path == "/0/private/BalanceEx" {
            return Reply::ok(success_body(json!({
                "ZUSD": {"balance": "0.0000", "hold_trade": "0.0000"},
                "XXBT": {"balance": "0.0000000000", "hold_trade": "0.0000000000"},
            })));
        }
        Reply::ok(success_body(echo(request)))
    }

    fn not_found(&self, _request: &WireRequest) -> Reply {
        Reply::rejected(
            Rejection::NotFound,
            StatusCode::NOT_FOUND,
            json!({"error": ["EGeneral:Unknown method"]}),
        )
    }

    fn budgets(&self) -> &'static [Budget] {
        &BUDGETS
    }

    fn charges(&self, request: &WireRequest) -> Vec<Charge> {
        let path = request.path.as_str();
        if !self.is_private(path) || matches!(path, "/0/private/AddOrder" | "/0/private/CancelOrder") {
            return Vec::new();
        }
        let cost = if HISTORY_CALLS.contains(&path) { 2 } else { 1 };
        // Each key has its own counter.
        vec![Charge::scoped(0, request.header("api-key").unwrap_or_default(), cost)]
    }

    fn throttled(&self, _state: &State, _exceeded: &Usage, _retry_after_ms: i64) -> Reply {
        Reply::rejected(
            Rejection::RateLimited,
            StatusCode::OK,
            json!({"error": ["EAPI:Rate limit exceeded"]}),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_ids_are_unique_and_shaped_like_krakens() {
        let (first, second) = (txid(1), txid(2));
        assert_ne!(first, second);
        assert_eq!(first.len(), "OUF4EM-FRGI2-MQMWZD".len());
        assert_eq!(first.matches('-').count(), 2);
    }
}
