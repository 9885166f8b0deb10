//! OKX (v5 REST API).
//!
//! Requests are signed in headers: `OK-ACCESS-SIGN` is
//! `base64(HMAC-SHA256(secret, timestamp ‖ METHOD ‖ requestPath(?query) ‖ body))` with an ISO 8601
//! millisecond timestamp, sent with `OK-ACCESS-KEY`, `OK-ACCESS-TIMESTAMP` and the key's
//! passphrase in `OK-ACCESS-PASSPHRASE`, which OKX requires. Errors carry a `code` other than
//! `"0"`, often with HTTP 200.
//! See <https://www.okx.com/docs-v5/en/#overview-rest-authentication>.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use keyward::{Credentials, exchange::{Exchange, okx::Okx}, sign::{NoTrace, SigningContext}};
//!
//! let creds = Credentials::new("test-only-key-0123456789", "test-only-secret").with_passphrase("test-only-passphrase");
//! let signer = Okx.signer(&creds)?;
//! let mut request = http::Request::get("https://www.okx.com/api/v5/account/balance").body(Bytes::new())?;
//! signer.sign(&mut request, &SigningContext::at_millis(1_607_418_537_715), &mut NoTrace)?;
//! assert_eq!(request.headers()["ok-access-timestamp"], "2020-12-08T09:08:57.715Z");
//! assert_eq!(request.headers()["ok-access-sign"].len(), 44);
//!
//! // Without the passphrase there is no signer.
//! assert!(Okx.signer(&Credentials::new("test-only-key-0123456789", "test-only-secret")).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod classify;
mod endpoints;
mod limits;
mod orders;
mod permissions;
mod sign;

pub use sign::OkxSigner;

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

/// The OKX integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct Okx;

impl Exchange for Okx {
    fn name(&self) -> &'static str {
        "okx"
    }

    fn default_base_url(&self) -> &'static str {
        "https://www.okx.com"
    }

    fn needs_passphrase(&self) -> bool {
        true
    }

    fn signer(&self, credentials: &Credentials) -> Result<Arc<dyn Signer>, CredentialError> {
        Ok(Arc::new(OkxSigner::new(credentials)?))
    }

    fn classify(&self, status: http::StatusCode, headers: &http::HeaderMap, body: &[u8]) -> Option<ExchangeError> {
        classify::classify(status, headers, body)
    }

    fn dangerous_endpoints(&self) -> &'static [EndpointRule] {
        endpoints::DANGEROUS
    }

    fn server_time(&self) -> ServerTime {
        ServerTime {
            path: "/api/v5/public/time",
            parse: parse_server_time,
        }
    }

    fn signing_params(&self) -> &'static [&'static str] {
        &[
            "OK-ACCESS-KEY",
            "OK-ACCESS-SIGN",
            "OK-ACCESS-TIMESTAMP",
            "OK-ACCESS-PASSPHRASE",
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

/// Reads `{"code":"0","msg":"","data":[{"ts":"1597026383085"}]}`.
fn parse_server_time(body: &[u8]) -> Option<u64> {
    let json = serde_json::from_slice::<Value>(body).ok()?;
    if json.get("code").and_then(Value::as_str) != Some("0") {
        return None;
    }
    json.get("data")?.get(0)?.get("ts")?.as_str()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_time_parses_the_documented_answer() {
        assert_eq!(
            parse_server_time(br#"{"code":"0","msg":"","data":[{"ts":"1597026383085"}]}"#),
            Some(1_597_026_383_085)
        );
        assert_eq!(parse_server_time(br#"{"code":"50001","msg":"busy","data":[]}"#), None);
        assert_eq!(parse_server_time(br#"{"code":"0","data":[{"ts":"-1"}]}"#), None);
        assert_eq!(parse_server_time(b""), None);
    }
}
