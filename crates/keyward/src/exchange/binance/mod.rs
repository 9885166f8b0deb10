//! Binance (spot, margin, wallet `/sapi`, and the futures APIs that share its scheme).
//!
//! `SIGNED` endpoints carry `timestamp` and `signature` parameters: the signature is
//! `hex(HMAC-SHA256(secret, query string ‖ body))` for HMAC keys, or `base64(Ed25519(...))` of the
//! same payload for Ed25519 keys, and the API key travels in the `X-MBX-APIKEY` header. Non-ASCII
//! parameter bytes are percent-encoded before signing.
//! See <https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security>.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use keyward::{Credentials, exchange::{Exchange, binance::Binance}, sign::{NoTrace, SigningContext}};
//!
//! // Binance's documented example key and secret.
//! let creds = Credentials::new(
//!     "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
//!     "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
//! );
//! let signer = Binance.signer(&creds)?;
//! let mut request = http::Request::get("https://api.binance.com/api/v3/account").body(Bytes::new())?;
//! signer.sign(&mut request, &SigningContext::at_millis(1_578_963_600_000), &mut NoTrace)?;
//! assert_eq!(
//!     request.uri().query(),
//!     Some("timestamp=1578963600000&signature=d84e6641b1e328e7b418fff030caed655c266299c9355e36ce801ed14631eed4"),
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod classify;
mod endpoints;
mod limits;
mod orders;
mod permissions;
mod sign;

pub use sign::{BinanceSigner, websocket_payload};

use crate::{
    Credentials,
    credentials::CredentialError,
    exchange::{Exchange, ExchangeError, KeyPermissionsEndpoint, OrderPlacement, ServerTime},
    guard::EndpointRule,
    rate_limit::RateLimitSpec,
    sign::Signer,
};
use std::sync::Arc;

/// The Binance integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct Binance;

impl Exchange for Binance {
    fn name(&self) -> &'static str {
        "binance"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.binance.com"
    }

    fn needs_passphrase(&self) -> bool {
        false
    }

    fn signer(&self, credentials: &Credentials) -> Result<Arc<dyn Signer>, CredentialError> {
        Ok(Arc::new(BinanceSigner::new(credentials)?))
    }

    fn classify(&self, status: http::StatusCode, headers: &http::HeaderMap, body: &[u8]) -> Option<ExchangeError> {
        classify::classify(status, headers, body)
    }

    fn dangerous_endpoints(&self) -> &'static [EndpointRule] {
        endpoints::DANGEROUS
    }

    fn server_time(&self) -> ServerTime {
        ServerTime {
            path: "/api/v3/time",
            parse: parse_server_time,
        }
    }

    fn signing_params(&self) -> &'static [&'static str] {
        &["X-MBX-APIKEY", "signature", "timestamp"]
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

/// Reads `{"serverTime": 1499827319559}`.
fn parse_server_time(body: &[u8]) -> Option<u64> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("serverTime")?
        .as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_time_parses_the_documented_answer_only() {
        assert_eq!(
            parse_server_time(br#"{"serverTime":1499827319559}"#),
            Some(1_499_827_319_559)
        );
        assert_eq!(parse_server_time(br#"{"serverTime":"1499827319559"}"#), None);
        assert_eq!(parse_server_time(b"<html>"), None);
    }
}
