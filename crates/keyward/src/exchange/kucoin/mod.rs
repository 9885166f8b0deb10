//! KuCoin (API key version 2): `KC-API-SIGN` is the base64 HMAC-SHA256 of
//! `timestamp + METHOD + endpoint + body`, with the passphrase itself sent HMAC-signed.
//!
//! The [`KucoinSigner`] adds `KC-API-KEY`, `KC-API-SIGN`, `KC-API-TIMESTAMP` (milliseconds),
//! `KC-API-PASSPHRASE` and `KC-API-KEY-VERSION: 2`. A passphrase is required. Errors carry a
//! `code` other than `"200000"`, on HTTP 200 for business errors.
//! See <https://www.kucoin.com/docs-new/authentication>.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use keyward::{Credentials, exchange, sign::{NoTrace, SigningContext}};
//!
//! let kucoin = exchange::by_name("kucoin").unwrap();
//! assert!(kucoin.needs_passphrase());
//! let credentials = Credentials::new("test-only-kucoin-key-0001", "test-only-secret-kucoin")
//!     .with_passphrase("test-only-passphrase");
//! let signer = kucoin.signer(&credentials)?;
//! let mut request = http::Request::get("https://api.kucoin.com/api/v1/accounts").body(Bytes::new())?;
//! signer.sign(&mut request, &SigningContext::at_millis(1_547_015_186_532), &mut NoTrace)?;
//! assert_eq!(request.headers()["KC-API-TIMESTAMP"], "1547015186532");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod classify;
mod endpoints;
mod limits;
mod orders;
mod permissions;
mod sign;

pub use sign::KucoinSigner;

use crate::{
    Credentials,
    credentials::CredentialError,
    exchange::{Exchange, ExchangeError, KeyPermissionsEndpoint, OrderPlacement, ServerTime},
    guard::EndpointRule,
    rate_limit::RateLimitSpec,
    sign::Signer,
};
use std::sync::Arc;

/// The KuCoin integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct Kucoin;

impl Exchange for Kucoin {
    fn name(&self) -> &'static str {
        "kucoin"
    }

    fn default_base_url(&self) -> &'static str {
        "https://api.kucoin.com"
    }

    fn needs_passphrase(&self) -> bool {
        true
    }

    fn signer(&self, credentials: &Credentials) -> Result<Arc<dyn Signer>, CredentialError> {
        Ok(Arc::new(KucoinSigner::new(credentials)?))
    }

    fn classify(&self, status: http::StatusCode, headers: &http::HeaderMap, body: &[u8]) -> Option<ExchangeError> {
        classify::classify(status, headers, body)
    }

    fn dangerous_endpoints(&self) -> &'static [EndpointRule] {
        endpoints::DANGEROUS
    }

    fn server_time(&self) -> ServerTime {
        ServerTime {
            path: "/api/v1/timestamp",
            parse: parse_server_time,
        }
    }

    fn signing_params(&self) -> &'static [&'static str] {
        &["KC-API-KEY", "KC-API-SIGN", "KC-API-TIMESTAMP", "KC-API-PASSPHRASE"]
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

/// Reads `{"code":"200000","data":1546837113087}`: milliseconds in `data`.
fn parse_server_time(body: &[u8]) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    if value.get("code")?.as_str()? != "200000" {
        return None;
    }
    value.get("data")?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_time_is_read_in_milliseconds() {
        let time = Kucoin.server_time();
        assert_eq!(
            (time.parse)(br#"{"code":"200000","msg":"success","data":1546837113087}"#),
            Some(1_546_837_113_087)
        );
        assert_eq!((time.parse)(br#"{"code":"500000","data":1546837113087}"#), None);
        assert_eq!((time.parse)(b"<html>"), None);
    }
}
