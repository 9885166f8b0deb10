//! Coinbase Exchange (the former Coinbase Pro API at `api.exchange.coinbase.com`; not Advanced
//! Trade).
//!
//! Requests are signed in headers: `CB-ACCESS-SIGN` is
//! `base64(HMAC-SHA256(base64decode(secret), timestamp ‖ METHOD ‖ requestPath(?query) ‖ body))`
//! with the timestamp in whole seconds, sent with `CB-ACCESS-KEY`, `CB-ACCESS-TIMESTAMP` and the
//! key's passphrase in `CB-ACCESS-PASSPHRASE`, which Coinbase Exchange requires.
//! See <https://docs.cdp.coinbase.com/exchange/docs/rest-auth>.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use keyward::{Credentials, exchange::{Exchange, coinbase::Coinbase}, sign::{NoTrace, SigningContext}};
//!
//! // "test-only-secret", base64-encoded as Coinbase Exchange issues secrets.
//! let creds = Credentials::new("test-only-key-0123456789", "dGVzdC1vbmx5LXNlY3JldA==")
//!     .with_passphrase("test-only-passphrase");
//! let signer = Coinbase.signer(&creds)?;
//! let mut request = http::Request::get("https://api.exchange.coinbase.com/accounts").body(Bytes::new())?;
//! signer.sign(&mut request, &SigningContext::at_millis(1_420_674_445_201), &mut NoTrace)?;
//! assert_eq!(request.headers()["cb-access-timestamp"], "1420674445");
//!
//! // A secret that is not base64 is refused before any request is signed.
//! let wrong = Credentials::new("test-only-key-0123456789", "not base64!").with_passphrase("test-only-passphrase");
//! assert!(Coinbase.signer(&wrong).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod classify;
mod endpoints;
mod limits;
mod orders;
mod permissions;
mod sign;

pub use sign::CoinbaseSigner;

use crate::{
    Credentials,
    credentials::CredentialError,
    exchange::{CredentialsProbe, Exchange, ExchangeError, OrderPlacement, ServerTime},
    guard::EndpointRule,
    rate_limit::RateLimitSpec,
    sign::Signer,
};
use std::sync::Arc;

/// The Coinbase Exchange integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct Coinbase;

impl Exchange for Coinbase {
    fn name(&self) -> &'static str {
        "coinbase"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.exchange.coinbase.com"
    }

    fn needs_passphrase(&self) -> bool {
        true
    }

    fn signer(&self, credentials: &Credentials) -> Result<Arc<dyn Signer>, CredentialError> {
        Ok(Arc::new(CoinbaseSigner::new(credentials)?))
    }

    fn classify(&self, status: http::StatusCode, headers: &http::HeaderMap, body: &[u8]) -> Option<ExchangeError> {
        classify::classify(status, headers, body)
    }

    fn dangerous_endpoints(&self) -> &'static [EndpointRule] {
        endpoints::DANGEROUS
    }

    fn server_time(&self) -> ServerTime {
        ServerTime {
            path: "/time",
            parse: parse_server_time,
        }
    }

    fn signing_params(&self) -> &'static [&'static str] {
        &[
            "CB-ACCESS-KEY",
            "CB-ACCESS-SIGN",
            "CB-ACCESS-TIMESTAMP",
            "CB-ACCESS-PASSPHRASE",
        ]
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
}

/// Reads `{"iso":"2015-01-07T23:47:25.201Z","epoch":1420674445.201}`: `epoch` is fractional
/// seconds, rounded to the nearest millisecond.
fn parse_server_time(body: &[u8]) -> Option<u64> {
    let epoch = serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("epoch")?
        .as_f64()?;
    // Beyond 2^53 ms an f64 no longer holds whole milliseconds; no real clock is there.
    if !epoch.is_finite() || epoch < 0.0 || epoch * 1000.0 > 9_007_199_254_740_992.0 {
        return None;
    }
    Some((epoch * 1000.0).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_time_parses_the_documented_answer() {
        assert_eq!(
            parse_server_time(br#"{"iso":"2015-01-07T23:47:25.201Z","epoch":1420674445.201}"#),
            Some(1_420_674_445_201)
        );
        assert_eq!(parse_server_time(br#"{"epoch":1420674445}"#), Some(1_420_674_445_000));
        assert_eq!(parse_server_time(br#"{"epoch":-1}"#), None);
        assert_eq!(parse_server_time(br#"{"epoch":1e300}"#), None);
        assert_eq!(parse_server_time(br#"{"iso":"2015-01-07T23:47:25.201Z"}"#), None);
    }
}
