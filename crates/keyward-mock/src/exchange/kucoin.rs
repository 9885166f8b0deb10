//! KuCoin Spot (API key version 2).
//!
//! - Headers `KC-API-KEY`, `KC-API-SIGN`, `KC-API-TIMESTAMP` (ms), `KC-API-PASSPHRASE` and
//!   `KC-API-KEY-VERSION`.
//! - `KC-API-SIGN` = base64 HMAC-SHA256 of `timestamp + METHOD + endpoint + body`, where the
//!   endpoint includes `?query` with `%XX` decoded ("the URL without URL encoding").
//! - Version 2 and 3 keys send `KC-API-PASSPHRASE` = base64 HMAC-SHA256(secret, passphrase);
//!   version 1 keys (or no version header) send it as typed.
//! - Served within 5 s of the server's time.
//! - Errors are HTTP 401 `{"code":"40000x","msg":..}`: 400001 missing header, 400002 timestamp,
//!   400003 key, 400004 passphrase, 400005 signature.
//!
//! Rate limits: resource pools of weight per 30 s, VIP 0 quotas: private endpoints draw on the
//! Spot pool (4000; the Futures, Management and Earn pools are not told apart), public ones on the
//! Public pool (2000). A pool's window opens with the first request after the last one closed.
//! Weights: place order 2, server time 3, 1 elsewhere (KuCoin lists one per endpoint). Every
//! limited answer carries `gw-ratelimit-limit`, `gw-ratelimit-remaining` and `gw-ratelimit-reset`
//! (ms until the pool refills); a spent pool is HTTP 429 `{"code":"429000",..}`.

use super::{Protocol, executed_order};
use crate::{
    limits::{Budget, Charge, Usage},
    record::Rejection,
    reply::{Reply, set_header},
    state::State,
    verify,
    wire::{WireRequest, echo},
};
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

const WINDOW_MS: i64 = 5_000;

const PUBLIC_PATHS: &[&str] = &[
    "/api/v1/status",
    "/api/v1/symbols",
    "/api/v2/symbols",
    "/api/v1/currencies",
    "/api/v3/currencies",
    "/api/v1/prices",
    "/api/v1/bullet-public",
];

/// Indices into [`BUDGETS`].
const SPOT_POOL: usize = 0;
const PUBLIC_POOL: usize = 1;

static BUDGETS: [Budget; 2] = [
    Budget::from_first_request("Spot", 4000, 30_000),
    Budget::from_first_request("Public", 2000, 30_000),
];

#[derive(Debug, Clone, Copy)]
pub(super) struct Kucoin;

fn is_public(path: &str) -> bool {
    path == "/api/v1/timestamp"
        || path.starts_with("/api/v1/market/")
        || PUBLIC_PATHS
            .iter()
            .any(|public| path == *public || path.starts_with(&format!("{public}/")))
}

fn success_body(data: Value) -> Value {
    json!({"code": "200000", "data": data})
}

fn error(rejection: Rejection, code: &str, msg: &str) -> Reply {
    Reply::rejected(rejection, StatusCode::UNAUTHORIZED, json!({"code": code, "msg": msg}))
}

impl Protocol for Kucoin {
    fn name(&self) -> &'static str {
        "kucoin"
    }

    fn public(&self, state: &State, request: &WireRequest) -> Option<Reply> {
        let path = request.path.as_str();
        if path == "/api/v1/timestamp" {
            return Some(Reply::ok(success_body(json!(state.clock.now_ms()))));
        }
        is_public(path).then(|| Reply::ok(success_body(echo(request))))
    }

    fn is_private(&self, path: &str) -> bool {
        ["/api/v1/", "/api/v2/", "/api/v3/"]
            .iter()
            .any(|prefix| path.starts_with(prefix))
    }

    fn authenticate(&self, state: &State, request: &WireRequest) -> Result<(), Reply> {
        let (Some(api_key), Some(signature), Some(timestamp), Some(passphrase)) = (
            request.header("kc-api-key"),
            request.header("kc-api-sign"),
            request.header("kc-api-timestamp"),
            request.header("kc-api-passphrase"),
        ) else {
            return Err(error(
                Rejection::MissingAuth,
                "400001",
                "Please check the header of your request for KC-API-KEY, KC-API-SIGN, KC-API-TIMESTAMP, KC-API-PASSPHRASE.",
            ));
        };

        let in_window = super::parse_integer(timestamp)
            .is_some_and(|signed_at| (state.clock.now_ms() - signed_at).abs() <= WINDOW_MS);
        if !in_window {
            return Err(error(
                Rejection::TimestampOutsideWindow,
                "400002",
                "Invalid KC-API-TIMESTAMP",
            ));
        }

        let Some(key) = state.key(api_key) else {
            return Err(error(Rejection::UnknownKey, "400003", "KC-API-KEY not exists"));
        };
        let secret = key.credentials.secret().as_bytes();
        let expected_passphrase = key.credentials.passphrase().unwrap_or_default();
        let passphrase_ok = match request.header("kc-api-key-version") {
            Some("2" | "3") => {
                let expected = verify::hmac_sha256(secret, &[expected_passphrase.as_bytes()]);
                !expected_passphrase.is_empty() && verify::base64_matches(&expected, passphrase)
            }
            None | Some("1") => {
                !expected_passphrase.is_empty()
                    && bool::from(expected_passphrase.as_bytes().ct_eq(passphrase.as_bytes()))
            }
            Some(_) => false,
        };
        if !passphrase_ok {
            return Err(error(Rejection::BadPassphrase, "400004", "Invalid KC-API-PASSPHRASE"));
        }

        // KuCoin signs the URL "without URL encoding": `%XX` decoded, `+` left as it is.
        let endpoint: Vec<u8> = percent_encoding::percent_decode_str(&request.path_and_query()).collect();
        let expected = verify::hmac_sha256(
            secret,
            &[
                timestamp.as_bytes(),
                request.method.as_str().as_bytes(),
                &endpoint,
                &request.body,
            ],
        );
        if !verify::base64_matches(&expected, signature) {
            return Err(error(Rejection::BadSignature, "400005", "Invalid KC-API-SIGN"));
        }
        Ok(())
    }

    fn order_endpoint(&self) -> (Method, &'static str) {
        (Method::POST, "/api/v1/orders")
    }

    fn place_order(&self, state: &State, request: &WireRequest) -> Reply {
        // KuCoin order ids are 24 hex digits.
        let order_id = format!(
            "{:024x}",
            0x6500_0000_0000_0000_0000_0000u128 + u128::from(state.next_order_number())
        );
        let order = executed_order(state, request, order_id.clone(), &["clientOid"]);
        let mut data = json!({"orderId": order_id});
        if let Some(client_order_id) = &order.client_order_id {
            data["clientOid"] = json!(client_order_id);
        }
        Reply::executed(success_body(data), order)
    }

    fn success(&self, state: &State, request: &WireRequest) -> Reply {
        let data = crate::permissions::kucoin(state, request).unwrap_or_else(|| echo(request));
        Reply::ok(success_body(data))
    }

    fn not_found(&self, _request: &WireRequest) -> Reply {
        Reply::rejected(
            Rejection::NotFound,
            StatusCode::NOT_FOUND,
            json!({"code": "404000", "msg": "Url Not Found"}),
        )
    }

    fn budgets(&self) -> &'static [Budget] {
        &BUDGETS
    }

    fn charges(&self, request: &WireRequest) -> Vec<Charge> {
        let path = request.path.as_str();
        if !self.is_private(path) {
            return Vec::new();
        }
        let (method, order_path) = self.order_endpoint();
        let (pool, weight) = match path {
            "/api/v1/timestamp" => (PUBLIC_POOL, 3),
            _ if is_public(path) => (PUBLIC_POOL, 1),
            _ if request.method == method && path == order_path => (SPOT_POOL, 2),
            _ => (SPOT_POOL, 1),
        };
        vec![Charge::shared(pool, weight)]
    }

    fn limit_headers(&self, usages: &[Usage], headers: &mut HeaderMap) {
        for usage in usages {
            set_header(headers, "gw-ratelimit-limit", usage.budget.limit);
            set_header(headers, "gw-ratelimit-remaining", usage.remaining());
            set_header(
                headers,
                "gw-ratelimit-reset",
                (usage.resets_at_ms - usage.now_ms).max(0),
            );
        }
    }

    fn throttled(&self, _state: &State, _exceeded: &Usage, _retry_after_ms: i64) -> Reply {
        Reply::rejected(
            Rejection::RateLimited,
            StatusCode::TOO_MANY_REQUESTS,
            json!({"code": "429000", "msg": "Too Many Requests"}),
        )
    }
}
