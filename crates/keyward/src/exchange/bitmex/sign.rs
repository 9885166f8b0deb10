//! The BitMEX signer: `api-signature` over verb, path with query, expiry and body.

use crate::{
    Credentials,
    credentials::{ApiKey, CredentialError},
    sign::{
        EncodedSignature, Material, SignError, SignTrace, SignatureEncoding, Signer, SigningContext, Whitespace,
        prehash, sensitive_header,
    },
};
use bytes::Bytes;
use hmac::Hmac;
use http::HeaderValue;
use sha2::Sha256;
use std::fmt;

/// How long after the signing moment a BitMEX request stays valid, in seconds (`api-expires`).
///
/// Sixty seconds covers network latency and a modest clock offset while keeping a captured request
/// from being replayed for long; BitMEX rejects a request whose expiry has passed.
pub const EXPIRES_AFTER_SECS: u64 = 60;

/// Signs BitMEX REST calls.
///
/// `api-signature = hex(HMAC-SHA256(secret, VERB + path + "?" + query + expires + body))`, with the
/// path and query exactly as sent and `expires` the whole Unix seconds of the signing moment plus
/// [`EXPIRES_AFTER_SECS`].
///
/// # Example
///
/// ```
/// use bytes::Bytes;
/// use keyward::exchange::bitmex::{BitmexSigner, EXPIRES_AFTER_SECS};
/// use keyward::{Credentials, sign::{NoTrace, Signer, SigningContext}};
///
/// // BitMEX's published example key and secret.
/// let credentials = Credentials::new("LAqUlngMIQkIUjXMUreyu3qn", "chNOOS4KvNXR_Xq4k4c9qsfoKWvnDecLATCRlcBwyKDYnWgO");
/// let signer = BitmexSigner::new(&credentials)?;
/// let mut request = http::Request::get("https://www.bitmex.com/api/v1/instrument").body(Bytes::new())?;
/// let context = SigningContext::at_millis((1_518_064_236 - EXPIRES_AFTER_SECS) * 1000);
/// signer.sign(&mut request, &context, &mut NoTrace)?;
/// assert_eq!(request.headers()["api-expires"], "1518064236");
/// assert_eq!(request.headers()["api-signature"], "c7682d435d0cfe87c16098df34ef2eb5a549d4c5a3c2b1f0f77b8af73423bf00");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct BitmexSigner {
    api_key: ApiKey,
    mac: Hmac<Sha256>,
}

impl BitmexSigner {
    /// Prepares a signer: keys the MAC once. Fails with [`CredentialError::InvalidSecret`] for an
    /// empty secret or one with surrounding whitespace.
    pub fn new(credentials: &Credentials) -> Result<Self, CredentialError> {
        let material = Material::of("bitmex", credentials);
        Ok(Self {
            mac: material.hmac(material.secret(Whitespace::Reject)?.as_bytes())?,
            api_key: credentials.api_key().clone(),
        })
    }
}

impl fmt::Debug for BitmexSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BitmexSigner")
            .field("api_key", &self.api_key.fingerprint())
            .finish_non_exhaustive()
    }
}

impl Signer for BitmexSigner {
    fn sign(
        &self,
        request: &mut http::Request<Bytes>,
        context: &SigningContext,
        trace: &mut dyn SignTrace,
    ) -> Result<(), SignError> {
        let verb = request.method().as_str().to_ascii_uppercase();
        let target = request.uri().path_and_query().map_or("/", |target| target.as_str());
        let expires = context.unix_seconds().saturating_add(EXPIRES_AFTER_SECS).to_string();
        let body = request.body();

        let string_to_sign = prehash::concat(
            trace,
            &[
                ("verb", verb.as_bytes()),
                ("path", target.as_bytes()),
                ("expires", expires.as_bytes()),
                ("body", body),
            ],
        );
        let signature =
            EncodedSignature::mac(&self.mac, &string_to_sign, SignatureEncoding::LowerHex)?.to_header_value()?;
        let key = sensitive_header(self.api_key.expose()).map_err(SignError::header)?;
        let expires = HeaderValue::from_str(&expires).map_err(SignError::header)?;
        let headers = request.headers_mut();
        headers.insert("api-expires", expires);
        headers.insert("api-key", key);
        headers.insert("api-signature", signature);
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::sign::{Explanation, NoTrace};
    use serde_json::Value;

    const DOC_KEY: &str = "LAqUlngMIQkIUjXMUreyu3qn";
    const DOC_SECRET: &str = "chNOOS4KvNXR_Xq4k4c9qsfoKWvnDecLATCRlcBwyKDYnWgO";

    fn signer() -> BitmexSigner {
        BitmexSigner::new(&Credentials::new(DOC_KEY, DOC_SECRET)).unwrap()
    }

    fn context_expiring_at(expires: u64) -> SigningContext {
        SigningContext::at_millis((expires - EXPIRES_AFTER_SECS) * 1000)
    }

    #[test]
    fn published_vectors_reproduce() {
        let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/vectors.json"));
        let vectors: Vec<Value> = serde_json::from_str(text).unwrap();
        let mut checked = 0;
        for vector in vectors
            .iter()
            .filter(|v| v["id"].as_str().unwrap().starts_with("bitmex-"))
        {
            let inputs = &vector["inputs"];
            let signer = BitmexSigner::new(&Credentials::new(
                inputs["apiKey"].as_str().unwrap(),
                inputs["apiSecret"].as_str().unwrap(),
            ))
            .unwrap();
            let url = format!("https://www.bitmex.com{}", inputs["path"].as_str().unwrap());
            let body = inputs["data"].as_str().unwrap().to_owned();
            let mut request = http::Request::builder()
                .method(inputs["verb"].as_str().unwrap())
                .uri(&url)
                .body(Bytes::from(body))
                .unwrap();
            // The legacy `api-nonce` vectors use the same construction with the nonce where the expiry
            // goes, so they check the MAC the same way.
            let expires: u64 = inputs["expires_or_nonce"].as_str().unwrap().parse().unwrap();
            signer
                .sign(&mut request, &context_expiring_at(expires), &mut NoTrace)
                .unwrap();
            assert_eq!(
                request.headers()["api-signature"],
                vector["expected_output"].as_str().unwrap(),
                "{}",
                vector["id"]
            );
            assert_eq!(request.headers()["api-expires"], expires.to_string().as_str());
            assert_eq!(request.headers()["api-key"], DOC_KEY);
            checked += 1;
        }
        assert_eq!(checked, 5);
    }

    #[test]
    fn expiry_is_the_signing_second_plus_the_window() {
        let mut request = http::Request::get("/api/v1/position").body(Bytes::new()).unwrap();
        let mut explanation = Explanation::default();
        signer()
            .sign(
                &mut request,
                &SigningContext::at_millis(1_700_000_000_999),
                &mut explanation,
            )
            .unwrap();
        assert_eq!(request.headers()["api-expires"], "1700000060");
        assert_eq!(explanation.signed(), b"GET/api/v1/position1700000060");
    }

    #[test]
    fn query_is_signed_exactly_as_sent_including_reserved_and_unicode_escapes() {
        let target = "/api/v1/order?filter=%7B%22text%22%3A%22%E2%82%AC+a%26b%22%7D&reverse=true";
        let mut request = http::Request::delete(target).body(Bytes::new()).unwrap();
        let mut explanation = Explanation::default();
        signer()
            .sign(&mut request, &context_expiring_at(1_600_000_000), &mut explanation)
            .unwrap();
        assert_eq!(explanation.signed(), format!("DELETE{target}1600000000").as_bytes());
        assert_eq!(request.uri().path_and_query().unwrap().as_str(), target);
    }

    #[test]
    fn unicode_body_is_signed_byte_for_byte() {
        let body = "{\"symbol\":\"XBTUSD\",\"text\":\"caf\u{e9} \u{20ac}\"}";
        let mut request = http::Request::post("/api/v1/order")
            .body(Bytes::from_static(body.as_bytes()))
            .unwrap();
        let mut explanation = Explanation::default();
        signer()
            .sign(&mut request, &context_expiring_at(1_600_000_000), &mut explanation)
            .unwrap();
        assert_eq!(
            explanation.signed(),
            format!("POST/api/v1/order1600000000{body}").as_bytes()
        );
        assert_eq!(request.body(), body.as_bytes());
    }

    #[test]
    fn an_empty_or_padded_secret_is_refused_without_echoing_it() {
        for secret in [" ".to_owned(), format!("{DOC_SECRET}\n")] {
            let err = BitmexSigner::new(&Credentials::new(DOC_KEY, secret)).unwrap_err();
            assert!(matches!(err, CredentialError::InvalidSecret { exchange: "bitmex", .. }));
            assert!(!err.to_string().contains(DOC_SECRET));
        }
    }

    #[test]
    fn debug_shows_only_the_key_fingerprint() {
        let shown = format!("{:?}", signer());
        assert!(shown.contains("…u3qn"), "{shown}");
        assert!(!shown.contains(DOC_KEY), "{shown}");
        assert!(!shown.contains(DOC_SECRET), "{shown}");
    }
}
