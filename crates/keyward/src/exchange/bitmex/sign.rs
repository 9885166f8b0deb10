//! The BitMEX signer: `api-signature` over verb, path with query, expiry and body.

use crate::{
    Credentials,
    credentials::CredentialError,
    sign::{
        Material, SignError, SignTrace, SignatureEncoding, Signer, SigningContext, TimestampFormat, Whitespace,
        prehash_hmac::{Passphrase, PrehashHmacScheme, PrehashHmacSigner, PrehashPart},
    },
};
use bytes::Bytes;
use hmac::Hmac;
use http::HeaderName;
use sha2::Sha256;
use std::fmt;

/// How long after the signing moment a BitMEX request stays valid, in seconds (`api-expires`).
///
/// Sixty seconds covers network latency and a modest clock offset while keeping a captured request
/// from being replayed for long; BitMEX rejects a request whose expiry has passed.
pub const EXPIRES_AFTER_SECS: u64 = 60;

/// The BitMEX scheme: `VERB ‖ path?query ‖ expires ‖ body`, hex, three `api-*` headers.
static SCHEME: PrehashHmacScheme = PrehashHmacScheme {
    exchange: "bitmex",
    parts: &[
        ("verb", PrehashPart::Method),
        ("path", PrehashPart::Target),
        ("expires", PrehashPart::Timestamp),
        ("body", PrehashPart::Body),
    ],
    separator: b"",
    timestamp: TimestampFormat::ExpiresAfterSeconds(EXPIRES_AFTER_SECS),
    encoding: SignatureEncoding::LowerHex,
    api_key_header: HeaderName::from_static("api-key"),
    signature_header: HeaderName::from_static("api-signature"),
    timestamp_header: HeaderName::from_static("api-expires"),
    passphrase: Passphrase::None,
    fixed_headers: &[],
    json_content_type: false,
    path_example: "/api/v1/order",
};

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
pub struct BitmexSigner(PrehashHmacSigner<Hmac<Sha256>>);

impl BitmexSigner {
    /// Prepares a signer: keys the MAC once. Fails with [`CredentialError::InvalidSecret`] for an
    /// empty secret or one with surrounding whitespace.
    pub fn new(credentials: &Credentials) -> Result<Self, CredentialError> {
        let material = Material::of("bitmex", credentials);
        let mac = material.hmac(material.secret(Whitespace::Reject)?.as_bytes())?;
        PrehashHmacSigner::new(&SCHEME, &material, mac).map(Self)
    }
}

impl fmt::Debug for BitmexSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BitmexSigner")
            .field("api_key", &self.0.fingerprint())
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
        self.0.sign(request, context, trace)
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
