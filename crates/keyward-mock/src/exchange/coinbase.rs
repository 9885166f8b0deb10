//! Coinbase Exchange (the former Coinbase Pro REST API).
//!
//! - Headers `CB-ACCESS-KEY`, `CB-ACCESS-SIGN`, `CB-ACCESS-TIMESTAMP` (Unix seconds, decimals
//!   allowed) and `CB-ACCESS-PASSPHRASE` (as typed when the key was created).
//! - `CB-ACCESS-SIGN` = base64 HMAC-SHA256, keyed with the base64-decoded secret, of
//!   `timestamp + METHOD + requestPath + body`, where `requestPath` includes `?query`.
//! - Served within 30 s of the server's time.
//! - Errors are `{"message":".."}`: 401 for the key, passphrase, signature and expiry, 400 for
//!   missing headers other than the key and a malformed timestamp.
//! - Public: `/time`, `/products...`, `/currencies...`; everything else is private.
//! - `GET /profiles` answers the one profile the keys belong to.
//!
//! Rate limits: token buckets, private endpoints 15 requests per second per profile with bursts
//! up to 30, public endpoints 10 per second per IP with bursts up to 15 (the `/fills` and
//! `/loans` buckets of their own are not modelled). Coinbase sends no rate-limit headers; a spent
//! bucket is HTTP 429 `{"message":"Private rate limit exceeded"}` (or `Public`).

use super::{Protocol, executed_order, uuid_like};
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
use subtle::ConstantTimeEq;

const WINDOW_MS: i64 = 30_000;

/// Indices into [`BUDGETS`].
const PRIVATE: usize = 0;
const PUBLIC: usize = 1;

/// A bucket of `burst` that refills at `rate` per second drains `burst` units in `burst / rate`
/// seconds: 30 in 2 s, 15 in 1.5 s.
static BUDGETS: [Budget; 2] = [Budget::drain("private", 30, 2_000), Budget::drain("public", 15, 1_500)];

#[derive(Debug, Clone, Copy)]
pub(super) struct Coinbase;

fn is_public(path: &str) -> bool {
    path == "/time"
        || ["/products", "/currencies"]
            .iter()
            .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")))
}

fn error(rejection: Rejection, status: StatusCode, message: &str) -> Reply {
    Reply::rejected(rejection, status, json!({"message": message}))
}

fn required<'a>(request: &'a WireRequest, header: &str, status: StatusCode) -> Result<&'a str, Reply> {
    request.header(header).ok_or_else(|| {
        error(
            Rejection::MissingAuth,
            status,
            &format!("{} header is required", header.to_ascii_uppercase()),
        )
    })
}

/// `GET /profiles`: the one profile (portfolio) the keys belong to, which the preflight reads to
/// prove a key is accepted. Filters such as `active=true` change nothing with one active profile.
fn profiles() -> Value {
    json!([{
        "id": "86602c68-306a-4500-ac73-4ce56a91d83c",
        "user_id": "5cf6e115aaf44503db300f1e",
        "name": "default",
        "active": true,
        "is_default": true,
        "has_margin": false,
        "created_at": "2019-11-18T15:08:40.236309Z",
    }])
}

impl Protocol for Coinbase {
    fn name(&self) -> &'static str {
        "coinbase"
    }

    fn prepare_key(&self, credentials: MockCredentials) -> Result<Key, String> {
        if verify::base64_decode(credentials.secret()).is_none() {
            return Err("coinbase: the secret must be base64, as Coinbase issues it".into());
        }
        Ok(Key {
            credentials,
            ed25519: None,
        })
    }

    fn public(&self, state: &State, request: &WireRequest) -> Option<Reply> {
        if request.path == "/time" {
            let now = state.clock.now_ms();
            let epoch = now as f64 / 1000.0;
            return Some(Reply::ok(json!({
                "iso": Civil::from_unix_ms(now).iso8601_millis(),
                "epoch": epoch,
            })));
        }
        is_public(&request.path).then(|| Reply::ok(echo(request)))
    }

    fn is_private(&self, _path: &str) -> bool {
        true
    }

    fn authenticate(&self, state: &State, request: &WireRequest) -> Result<(), Reply> {
        let api_key = required(request, "cb-access-key", StatusCode::UNAUTHORIZED)?;
        let signature = required(request, "cb-access-sign", StatusCode::BAD_REQUEST)?;
        let timestamp = required(request, "cb-access-timestamp", StatusCode::BAD_REQUEST)?;
        let passphrase = required(request, "cb-access-passphrase", StatusCode::BAD_REQUEST)?;

        let Some(signed_at) = super::parse_seconds_to_ms(timestamp) else {
            return Err(error(
                Rejection::TimestampOutsideWindow,
                StatusCode::BAD_REQUEST,
                "invalid timestamp",
            ));
        };
        if (state.clock.now_ms() - signed_at).abs() > WINDOW_MS {
            return Err(error(
                Rejection::TimestampOutsideWindow,
                StatusCode::UNAUTHORIZED,
                "request timestamp expired",
            ));
        }

        let Some(key) = state.key(api_key) else {
            return Err(error(
                Rejection::UnknownKey,
                StatusCode::UNAUTHORIZED,
                "Invalid API Key",
            ));
        };
        let expected_passphrase = key.credentials.passphrase().unwrap_or_default().as_bytes();
        if expected_passphrase.is_empty() || !bool::from(expected_passphrase.ct_eq(passphrase.as_bytes())) {
            return Err(error(
                Rejection::BadPassphrase,
                StatusCode::UNAUTHORIZED,
                "Invalid Passphrase",
            ));
        }

        let secret = verify::base64_decode(key.credentials.secret()).unwrap_or_default();
        let expected = verify::hmac_sha256(
            &secret,
            &[
                timestamp.as_bytes(),
                request.method.as_str().as_bytes(),
                request.path_and_query().as_bytes(),
                &request.body,
            ],
        );
        if !verify::base64_matches(&expected, signature) {
            return Err(error(
                Rejection::BadSignature,
                StatusCode::UNAUTHORIZED,
                "invalid signature",
            ));
        }
        Ok(())
    }

    fn order_endpoint(&self) -> (Method, &'static str) {
        (Method::POST, "/orders")
    }

    fn place_order(&self, state: &State, request: &WireRequest) -> Reply {
        let order_id = uuid_like(state.next_order_number());
        let order = executed_order(state, request, order_id.clone(), &["client_oid"]);
        let field = |name: &str| param_text(&order.params, name).map_or(Value::Null, Value::String);
        let body = json!({
            "id": order_id,
            "price": field("price"),
            "size": field("size"),
            "product_id": field("product_id"),
            "profile_id": "default",
            "side": field("side"),
            "type": param_text(&order.params, "type").unwrap_or_else(|| "limit".into()),
            "time_in_force": param_text(&order.params, "time_in_force").unwrap_or_else(|| "GTC".into()),
            "post_only": false,
            "created_at": Civil::from_unix_ms(order.executed_at_ms).iso8601_millis(),
            "fill_fees": "0",
            "filled_size": "0",
            "executed_value": "0",
            "status": "pending",
            "settled": false,
            "client_oid": order.client_order_id.clone().unwrap_or_default(),
        });
        Reply::executed(body, order)
    }

    fn success(&self, _state: &State, request: &WireRequest) -> Reply {
        if request.method == Method::GET && request.path == "/profiles" {
            return Reply::ok(profiles());
        }
        Reply::ok(echo(request))
    }

    fn not_found(&self, _request: &WireRequest) -> Reply {
        error(Rejection::NotFound, StatusCode::NOT_FOUND, "NotFound")
    }

    fn budgets(&self) -> &'static [Budget] {
        &BUDGETS
    }

    fn charges(&self, request: &WireRequest) -> Vec<Charge> {
        let budget = if is_public(&request.path) { PUBLIC } else { PRIVATE };
        vec![Charge::shared(budget, 1)]
    }

    fn throttled(&self, _state: &State, exceeded: &Usage, _retry_after_ms: i64) -> Reply {
        let message = if exceeded.budget.name == "public" {
            "Public rate limit exceeded"
        } else {
            "Private rate limit exceeded"
        };
        error(Rejection::RateLimited, StatusCode::TOO_MANY_REQUESTS, message)
    }
}
