//! Kraken spot REST: `API-Key` plus `API-Sign`, an HMAC-SHA512 keyed with the base64-decoded secret
//! over the URI path followed by the raw SHA-256 of `nonce + form body`.
//!
//! Every private call is a `POST` with a form-encoded body that starts with a strictly increasing
//! `nonce`; the [`KrakenSigner`] adds it from the [`SigningContext`](crate::sign::SigningContext)
//! unless the body already has one. Errors come back as an `error` array, often with HTTP 200.
//! See <https://docs.kraken.com/api/docs/guides/spot-rest-auth>.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use keyward::{Credentials, exchange::{self, ExchangeErrorKind}, sign::{NoTrace, SigningContext}};
//!
//! let kraken = exchange::by_name("kraken").unwrap();
//! // Kraken's published example secret.
//! let secret = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";
//! let signer = kraken.signer(&Credentials::new("test-only-kraken-key", secret))?;
//! let mut request = http::Request::post("https://api.kraken.com/0/private/Balance").body(Bytes::new())?;
//! signer.sign(&mut request, &SigningContext::at_millis(1_616_492_376_594), &mut NoTrace)?;
//! assert_eq!(request.body(), "nonce=1616492376594");
//! assert!(request.headers().contains_key("API-Sign"));
//!
//! let body = br#"{"error":["EAPI:Invalid nonce"]}"#;
//! let refused = kraken.classify(http::StatusCode::OK, &http::HeaderMap::new(), body);
//! assert_eq!(refused.unwrap().kind, ExchangeErrorKind::TimestampOutsideWindow);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod classify;
mod endpoints;
mod limits;
mod orders;
mod permissions;
mod sign;

pub use sign::KrakenSigner;

use crate::{
    Credentials,
    credentials::CredentialError,
    exchange::{CredentialsProbe, Exchange, ExchangeError, OrderPlacement, ServerTime},
    guard::EndpointRule,
    rate_limit::RateLimitSpec,
    sign::Signer,
};
use std::sync::Arc;

/// The Kraken spot integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct Kraken;

impl Exchange for Kraken {
    fn name(&self) -> &'static str {
        "kraken"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.kraken.com"
    }

    fn needs_passphrase(&self) -> bool {
        false
    }

    fn signer(&self, credentials: &Credentials) -> Result<Arc<dyn Signer>, CredentialError> {
        Ok(Arc::new(KrakenSigner::new(credentials)?))
    }

    fn classify(&self, status: http::StatusCode, headers: &http::HeaderMap, body: &[u8]) -> Option<ExchangeError> {
        classify::classify(status, headers, body)
    }

    fn dangerous_endpoints(&self) -> &'static [EndpointRule] {
        endpoints::DANGEROUS
    }

    fn server_time(&self) -> ServerTime {
        ServerTime {
            path: "/0/public/Time",
            parse: parse_server_time,
        }
    }

    fn signing_params(&self) -> &'static [&'static str] {
        // `otp` is the key's second-factor password, sent as a body parameter when enabled.
        &["API-Key", "API-Sign", "nonce", "otp"]
    }

    fn rate_limits(&self) -> &'static RateLimitSpec {
        &limits::LIMITS
    }

    fn order_placement(&self) -> Option<OrderPlacement> {
        Some(orders::ORDER)
    }

    fn credentials_probe(&self) -> Option<CredentialsProbe> {
        Some(permissions::PROBE)
    }

    fn nonce_must_increase(&self) -> bool {
        // "nonce: always increasing, unsigned 64-bit integer" (REST authentication guide).
        true
    }
}

/// Reads `{"error":[],"result":{"unixtime":1688669448,...}}`: Kraken tells its time in seconds.
fn parse_server_time(body: &[u8]) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get("result")?.get("unixtime")?.as_u64()?.checked_mul(1000)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn server_time_is_read_in_milliseconds() {
        let time = Kraken.server_time();
        let body = br#"{"error":[],"result":{"unixtime":1688669448,"rfc1123":"Thu, 06 Jul 23 18:50:48 +0000"}}"#;
        assert_eq!((time.parse)(body), Some(1_688_669_448_000));
        assert_eq!((time.parse)(br#"{"error":["EService:Unavailable"]}"#), None);
        assert_eq!((time.parse)(b"garbage"), None);
    }

    #[test]
    fn signer_errors_surface_through_the_trait() {
        let err = Kraken
            .signer(&Credentials::new("test-only-kraken-api-key-0001", "not base64!"))
            .unwrap_err();
        assert!(matches!(err, CredentialError::InvalidSecret { exchange: "kraken", .. }));
    }
}
