//! Bybit (v5 unified API).
//!
//! Requests are signed in headers: `X-BAPI-SIGN` is the lowercase hex HMAC-SHA256 of
//! `timestamp ‖ api_key ‖ recv_window ‖ (query string for GET | JSON body for POST)`, sent with
//! `X-BAPI-API-KEY`, `X-BAPI-TIMESTAMP` (ms), `X-BAPI-RECV-WINDOW` and `X-BAPI-SIGN-TYPE: 2`.
//! Errors mostly arrive as HTTP 200 with a non-zero `retCode`.
//! See <https://bybit-exchange.github.io/docs/v5/guide#authentication>.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use keyward::{Credentials, exchange::{Exchange, bybit::Bybit}, sign::{NoTrace, SigningContext}};
//!
//! let signer = Bybit.signer(&Credentials::new("test-only-key-0123456789", "test-only-secret"))?;
//! let mut request = http::Request::post("https://api.bybit.com/v5/order/create")
//!     .body(Bytes::from_static(br#"{"category":"spot","symbol":"BTCUSDT"}"#))?;
//! signer.sign(&mut request, &SigningContext::at_millis(1_658_385_579_423), &mut NoTrace)?;
//! assert_eq!(request.headers()["x-bapi-timestamp"], "1658385579423");
//! assert_eq!(request.headers()["x-bapi-recv-window"], "5000");
//!
//! let error = Bybit.classify(http::StatusCode::OK, &http::HeaderMap::new(),
//!     br#"{"retCode":10004,"retMsg":"error sign!","result":{},"time":1}"#).unwrap();
//! assert_eq!(error.kind, keyward::exchange::ExchangeErrorKind::InvalidSignature);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod classify;
mod endpoints;
mod limits;
mod orders;
pub(super) mod permissions;
mod sign;

pub use sign::{BybitSigner, DEFAULT_RECV_WINDOW};

use crate::{
    Credentials,
    credentials::CredentialError,
    exchange::{Exchange, ExchangeError, KeyPermissionsEndpoint, OrderPlacement, ServerTime},
    guard::EndpointRule,
    rate_limit::RateLimitSpec,
    sign::Signer,
};
use serde_json::Value;
use std::sync::Arc;

/// The Bybit integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bybit;

impl Exchange for Bybit {
    fn name(&self) -> &'static str {
        "bybit"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.bybit.com"
    }

    fn needs_passphrase(&self) -> bool {
        false
    }

    fn signer(&self, credentials: &Credentials) -> Result<Arc<dyn Signer>, CredentialError> {
        Ok(Arc::new(BybitSigner::new(credentials)?))
    }

    fn classify(&self, status: http::StatusCode, headers: &http::HeaderMap, body: &[u8]) -> Option<ExchangeError> {
        classify::classify(status, headers, body)
    }

    fn dangerous_endpoints(&self) -> &'static [EndpointRule] {
        endpoints::DANGEROUS
    }

    fn server_time(&self) -> ServerTime {
        ServerTime {
            path: "/v5/market/time",
            parse: parse_server_time,
        }
    }

    fn signing_params(&self) -> &'static [&'static str] {
        &[
            "X-BAPI-API-KEY",
            "X-BAPI-TIMESTAMP",
            "X-BAPI-RECV-WINDOW",
            "X-BAPI-SIGN",
        ]
    }

    fn rate_limits(&self) -> &'static RateLimitSpec {
        &limits::LIMITS
    }

    fn order_placement(&self) -> Option<OrderPlacement> {
        Some(orders::ORDER)
    }

    fn key_permissions(&self) -> Option<KeyPermissionsEndpoint> {
        Some(permissions::ENDPOINT)
    }
}

/// Reads `{"retCode":0,"result":{"timeSecond":"..","timeNano":".."},"time":1688639403423}`:
/// `result.timeNano` when present (the most precise), else the envelope's `time`.
fn parse_server_time(body: &[u8]) -> Option<u64> {
    let json = serde_json::from_slice::<Value>(body).ok()?;
    if json.get("retCode").and_then(Value::as_i64) != Some(0) {
        return None;
    }
    let nanos = json
        .get("result")
        .and_then(|result| result.get("timeNano"))
        .and_then(Value::as_str)
        .and_then(|nanos| nanos.parse::<u128>().ok());
    match nanos {
        Some(nanos) => u64::try_from(nanos / 1_000_000).ok(),
        None => json.get("time").and_then(Value::as_u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_time_parses_the_documented_answer() {
        let body = br#"{"retCode":0,"retMsg":"OK","result":{"timeSecond":"1688639403","timeNano":"1688639403423213947"},"retExtInfo":{},"time":1688639403423}"#;
        assert_eq!(parse_server_time(body), Some(1_688_639_403_423));
        assert_eq!(
            parse_server_time(br#"{"retCode":0,"result":{},"time":1688639403500}"#),
            Some(1_688_639_403_500)
        );
        assert_eq!(
            parse_server_time(br#"{"retCode":10016,"retMsg":"Server error","time":1}"#),
            None
        );
        assert_eq!(parse_server_time(b"not json"), None);
    }
}
