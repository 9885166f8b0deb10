//! Gate APIv4: `KEY`, `Timestamp` (seconds) and `SIGN`, the hex HMAC-SHA512 of
//! `METHOD\npath\nquery\nhex(SHA512(body))\ntimestamp`.
//!
//! The [`GateSigner`] hashes the body even when it is empty and signs the query form-decoded, as
//! Gate verifies it. Errors are non-2xx responses with a `label` such as `INVALID_SIGNATURE`.
//! See <https://www.gate.io/docs/developers/apiv4/en/#authentication>.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use keyward::{Credentials, exchange::{self, ExchangeErrorKind}, sign::{NoTrace, SigningContext}};
//!
//! let gate = exchange::by_name("gate").unwrap();
//! // Gate's documented example uses the key "key" and the secret "secret".
//! let signer = gate.signer(&Credentials::new("key", "secret"))?;
//! let mut request = http::Request::post("https://api.gateio.ws/api/v4/futures/orders").body(Bytes::from_static(
//!     br#"{"contract":"BTC_USD","type":"limit","size":100,"price":6800,"time_in_force":"gtc"}"#))?;
//! signer.sign(&mut request, &SigningContext::at_millis(1_541_993_715_000), &mut NoTrace)?;
//! assert!(request.headers()["SIGN"].to_str()?.starts_with("eae42da914a590ddf727473aff25fc87"));
//!
//! let refused = gate.classify(http::StatusCode::UNAUTHORIZED, &http::HeaderMap::new(),
//!     br#"{"label":"REQUEST_EXPIRED","message":"gap between request Timestamp and server time exceeds 60"}"#);
//! assert_eq!(refused.unwrap().kind, ExchangeErrorKind::TimestampOutsideWindow);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod classify;
mod endpoints;
mod limits;
mod orders;
mod permissions;
mod sign;

pub use sign::GateSigner;

use crate::{
    Credentials,
    credentials::CredentialError,
    exchange::{CredentialsProbe, Exchange, ExchangeError, OrderPlacement, ServerTime},
    guard::EndpointRule,
    rate_limit::RateLimitSpec,
    sign::Signer,
};
use std::sync::Arc;

/// The Gate integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gate;

impl Exchange for Gate {
    fn name(&self) -> &'static str {
        "gate"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.gateio.ws"
    }

    fn needs_passphrase(&self) -> bool {
        false
    }

    fn signer(&self, credentials: &Credentials) -> Result<Arc<dyn Signer>, CredentialError> {
        Ok(Arc::new(GateSigner::new(credentials)?))
    }

    fn classify(&self, status: http::StatusCode, headers: &http::HeaderMap, body: &[u8]) -> Option<ExchangeError> {
        classify::classify(status, headers, body)
    }

    fn dangerous_endpoints(&self) -> &'static [EndpointRule] {
        endpoints::DANGEROUS
    }

    fn server_time(&self) -> ServerTime {
        ServerTime {
            path: "/api/v4/spot/time",
            parse: parse_server_time,
        }
    }

    fn signing_params(&self) -> &'static [&'static str] {
        &["KEY", "SIGN", "Timestamp"]
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

/// Reads `{"server_time":1597026383085}`: milliseconds.
fn parse_server_time(body: &[u8]) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get("server_time")?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_time_is_read_in_milliseconds() {
        let time = Gate.server_time();
        assert_eq!(
            (time.parse)(br#"{"server_time":1597026383085}"#),
            Some(1_597_026_383_085)
        );
        assert_eq!((time.parse)(br#"{"label":"SERVER_ERROR"}"#), None);
        assert_eq!((time.parse)(b"\xff"), None);
    }
}
