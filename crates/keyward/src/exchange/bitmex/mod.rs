//! BitMEX: `api-key`, `api-expires` and `api-signature`, the hex HMAC-SHA256 of
//! `VERB + path?query + expires + body` with the raw secret.
//!
//! The [`BitmexSigner`] sets `api-expires` to the signing second plus [`EXPIRES_AFTER_SECS`] and
//! signs the path and query exactly as sent. Errors are 4xx/5xx responses with an `error` object.
//! See <https://www.bitmex.com/app/apiKeysUsage>.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use keyward::{Credentials, exchange, sign::{NoTrace, SigningContext}};
//!
//! let bitmex = exchange::by_name("bitmex").unwrap();
//! // BitMEX's published example key and secret.
//! let credentials = Credentials::new("LAqUlngMIQkIUjXMUreyu3qn", "chNOOS4KvNXR_Xq4k4c9qsfoKWvnDecLATCRlcBwyKDYnWgO");
//! let signer = bitmex.signer(&credentials)?;
//! let mut request = http::Request::post("https://www.bitmex.com/api/v1/order")
//!     .body(Bytes::from_static(
//!         br#"{"symbol":"XBTM15","price":219.0,"clOrdID":"mm_bitmex_1a/oemUeQ4CAJZgP3fjHsA","orderQty":98}"#,
//!     ))?;
//! signer.sign(&mut request, &SigningContext::at_millis(1_518_064_178_000), &mut NoTrace)?;
//! assert_eq!(request.headers()["api-expires"], "1518064238");
//! assert_eq!(request.headers()["api-signature"], "1749cd2ccae4aa49048ae09f0b95110cee706e0944e6a14ad0b3a8cb45bd336b");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod classify;
mod endpoints;
mod limits;
mod orders;
mod permissions;
mod sign;

pub use sign::{BitmexSigner, EXPIRES_AFTER_SECS};

use crate::{
    Credentials,
    credentials::CredentialError,
    exchange::{CredentialsProbe, Exchange, ExchangeError, OrderPlacement, ServerTime},
    guard::EndpointRule,
    rate_limit::RateLimitSpec,
    sign::Signer,
};
use std::sync::Arc;

/// The BitMEX integration.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bitmex;

impl Exchange for Bitmex {
    fn name(&self) -> &'static str {
        "bitmex"
    }

    fn default_base_url(&self) -> &'static str {
        "https://www.bitmex.com"
    }

    fn needs_passphrase(&self) -> bool {
        false
    }

    fn signer(&self, credentials: &Credentials) -> Result<Arc<dyn Signer>, CredentialError> {
        Ok(Arc::new(BitmexSigner::new(credentials)?))
    }

    fn classify(&self, status: http::StatusCode, headers: &http::HeaderMap, body: &[u8]) -> Option<ExchangeError> {
        classify::classify(status, headers, body)
    }

    fn dangerous_endpoints(&self) -> &'static [EndpointRule] {
        endpoints::DANGEROUS
    }

    fn server_time(&self) -> ServerTime {
        ServerTime {
            path: "/api/v1",
            parse: parse_server_time,
        }
    }

    fn signing_params(&self) -> &'static [&'static str] {
        // `api-nonce` is the retired predecessor of `api-expires`; old clients may still send it.
        &["api-key", "api-signature", "api-expires", "api-nonce"]
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

/// Reads `{"name":"BitMEX API","version":"...","timestamp":1518064236000}`: milliseconds.
fn parse_server_time(body: &[u8]) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    match value.get("timestamp")? {
        serde_json::Value::Number(number) => number.as_u64(),
        serde_json::Value::String(text) => text.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_time_is_read_in_milliseconds() {
        let time = Bitmex.server_time();
        assert_eq!(
            (time.parse)(br#"{"name":"BitMEX API","version":"1.2.0","timestamp":1518064236000}"#),
            Some(1_518_064_236_000)
        );
        assert_eq!(
            (time.parse)(br#"{"timestamp":"1518064236000"}"#),
            Some(1_518_064_236_000)
        );
        assert_eq!((time.parse)(br#"{"timestamp":-1}"#), None);
        assert_eq!((time.parse)(b""), None);
    }
}
