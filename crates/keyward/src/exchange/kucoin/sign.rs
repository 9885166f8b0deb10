//! The KuCoin (API key version 2) signer.

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
use http::{HeaderName, HeaderValue};
use sha2::Sha256;
use std::fmt;

/// `KC-API-KEY-VERSION: 2`, sent with every request.
static KEY_VERSION: [(HeaderName, HeaderValue); 1] = [(
    HeaderName::from_static("kc-api-key-version"),
    HeaderValue::from_static("2"),
)];

/// The KuCoin scheme: `timestamp ‖ METHOD ‖ endpoint ‖ body`, base64, five `KC-API-*` headers.
static SCHEME: PrehashHmacScheme = PrehashHmacScheme {
    exchange: "kucoin",
    parts: &[
        ("timestamp", PrehashPart::Timestamp),
        ("method", PrehashPart::Method),
        ("endpoint", PrehashPart::PercentDecodedTarget),
        ("body", PrehashPart::Body),
    ],
    separator: b"",
    timestamp: TimestampFormat::UnixMillis,
    encoding: SignatureEncoding::Base64,
    api_key_header: HeaderName::from_static("kc-api-key"),
    signature_header: HeaderName::from_static("kc-api-sign"),
    timestamp_header: HeaderName::from_static("kc-api-timestamp"),
    passphrase: Passphrase::Signed(HeaderName::from_static("kc-api-passphrase")),
    fixed_headers: &KEY_VERSION,
    json_content_type: false,
    path_example: "/api/v1/accounts",
};

/// Signs KuCoin REST calls with a version 2 API key.
///
/// `KC-API-SIGN = base64(HMAC-SHA256(secret, timestamp + METHOD + endpoint + body))`, where
/// `endpoint` is the path plus `?query` and the timestamp is in milliseconds. KuCoin verifies the
/// URL *without* its percent-encoding ("the URL must use the content that has not been URL-encoded"),
/// so the signer percent-decodes path and query for the string-to-sign and leaves the URL as sent.
/// `KC-API-PASSPHRASE` is `base64(HMAC-SHA256(secret, passphrase))`, computed once here.
///
/// # Example
///
/// ```
/// use bytes::Bytes;
/// use keyward::{Credentials, exchange::kucoin::KucoinSigner, sign::{Explanation, Signer, SigningContext}};
///
/// let credentials = Credentials::new("test-only-kucoin-key-0001", "test-only-secret-kucoin")
///     .with_passphrase("test-only-passphrase");
/// let signer = KucoinSigner::new(&credentials)?;
/// let mut request = http::Request::get("https://api.kucoin.com/api/v1/accounts?currency=BTC").body(Bytes::new())?;
/// let mut explanation = Explanation::default();
/// signer.sign(&mut request, &SigningContext::at_millis(1_547_015_186_532), &mut explanation)?;
/// assert_eq!(explanation.signed(), b"1547015186532GET/api/v1/accounts?currency=BTC");
/// assert_eq!(request.headers()["KC-API-KEY-VERSION"], "2");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct KucoinSigner(PrehashHmacSigner<Hmac<Sha256>>);

impl KucoinSigner {
    /// Prepares a signer: keys the MAC and signs the passphrase once.
    ///
    /// Fails with [`CredentialError::MissingPassphrase`] without a passphrase, and with
    /// [`CredentialError::InvalidSecret`] for an empty secret or one with surrounding whitespace.
    pub fn new(credentials: &Credentials) -> Result<Self, CredentialError> {
        let material = Material::of("kucoin", credentials);
        let secret = material.secret(Whitespace::Reject)?;
        material.passphrase()?;
        let mac = material.hmac(secret.as_bytes())?;
        PrehashHmacSigner::new(&SCHEME, &material, mac).map(Self)
    }
}

impl fmt::Debug for KucoinSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KucoinSigner")
            .field("api_key", &self.0.fingerprint())
            .finish_non_exhaustive()
    }
}

impl Signer for KucoinSigner {
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
    use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
    use hmac::Mac;
    use sha2::Sha256;

    const KEY: &str = "test-only-kucoin-key-0001";
    const SECRET: &str = "test-only-secret-kucoin";
    const PASSPHRASE: &str = "test-only-passphrase";

    fn signer() -> KucoinSigner {
        KucoinSigner::new(&Credentials::new(KEY, SECRET).with_passphrase(PASSPHRASE)).unwrap()
    }

    fn base64_hmac(message: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(message);
        BASE64.encode(mac.finalize().into_bytes())
    }

    fn sign(request: &mut http::Request<Bytes>, millis: u64) -> Explanation {
        let mut explanation = Explanation::default();
        signer()
            .sign(request, &SigningContext::at_millis(millis), &mut explanation)
            .unwrap();
        explanation
    }

    #[test]
    fn get_with_query_signs_timestamp_method_endpoint_and_empty_body() {
        let mut request = http::Request::get("https://api.kucoin.com/api/v1/deposit-addresses?currency=XBT")
            .body(Bytes::new())
            .unwrap();
        let explanation = sign(&mut request, 1_547_015_186_532);
        let expected = b"1547015186532GET/api/v1/deposit-addresses?currency=XBT";
        assert_eq!(explanation.signed(), expected);
        let parts: Vec<_> = explanation.parts().iter().map(|(label, _)| *label).collect();
        assert_eq!(parts, ["timestamp", "method", "endpoint", "body"]);
        let headers = request.headers();
        assert_eq!(headers["KC-API-SIGN"], base64_hmac(expected).as_str());
        assert_eq!(headers["KC-API-TIMESTAMP"], "1547015186532");
        assert_eq!(headers["KC-API-KEY"], KEY);
        assert_eq!(headers["KC-API-KEY-VERSION"], "2");
        assert_eq!(request.uri().query(), Some("currency=XBT"));
    }

    #[test]
    fn post_signs_the_json_body_byte_for_byte() {
        let body = r#"{"clientOid":"test-1","side":"buy","symbol":"BTC-USDT","price":"1","size":"0.1"}"#;
        let mut request = http::Request::post("/api/v1/orders")
            .body(Bytes::from_static(body.as_bytes()))
            .unwrap();
        let explanation = sign(&mut request, 1_700_000_000_000);
        assert_eq!(
            explanation.signed(),
            format!("1700000000000POST/api/v1/orders{body}").as_bytes()
        );
        assert_eq!(request.body(), body.as_bytes());
    }

    #[test]
    fn passphrase_is_sent_signed_not_in_clear() {
        let mut request = http::Request::get("/api/v1/accounts").body(Bytes::new()).unwrap();
        sign(&mut request, 1);
        let sent = &request.headers()["KC-API-PASSPHRASE"];
        assert_eq!(sent, base64_hmac(PASSPHRASE.as_bytes()).as_str());
        assert_ne!(sent, PASSPHRASE);
        assert!(sent.is_sensitive());
    }

    #[test]
    fn the_docs_example_of_an_encoded_query_is_signed_decoded_and_sent_as_is() {
        // KuCoin's own example: `passphrase=abc%21%40%2311` participates as `abc!@#11`.
        let target = "/api/v1/sub/api-key?apiKey=67b3&subName=test&passphrase=abc%21%40%2311";
        let mut request = http::Request::get(target).body(Bytes::new()).unwrap();
        let explanation = sign(&mut request, 2);
        assert_eq!(
            explanation.signed(),
            b"2GET/api/v1/sub/api-key?apiKey=67b3&subName=test&passphrase=abc!@#11"
        );
        assert_eq!(request.uri().path_and_query().unwrap().as_str(), target);
    }

    #[test]
    fn unicode_in_query_and_body_is_signed_as_utf8() {
        let mut request = http::Request::post("/api/v1/orders?remark=%E2%82%AC%20%26%3D")
            .body(Bytes::from_static("{\"remark\":\"€ &=\"}".as_bytes()))
            .unwrap();
        let explanation = sign(&mut request, 3);
        assert_eq!(
            explanation.signed(),
            "3POST/api/v1/orders?remark=€ &={\"remark\":\"€ &=\"}".as_bytes()
        );
    }

    #[test]
    fn a_missing_passphrase_or_empty_secret_is_refused() {
        let err = KucoinSigner::new(&Credentials::new(KEY, SECRET)).unwrap_err();
        assert_eq!(err, CredentialError::MissingPassphrase { exchange: "kucoin" });
        for secret in ["", "test-only-secret-kucoin\r\n"] {
            let err = KucoinSigner::new(&Credentials::new(KEY, secret).with_passphrase(PASSPHRASE)).unwrap_err();
            assert!(matches!(err, CredentialError::InvalidSecret { exchange: "kucoin", .. }));
            assert!(!err.to_string().contains(SECRET));
        }
    }

    #[test]
    fn debug_shows_only_the_key_fingerprint() {
        let signer = signer();
        let shown = format!("{signer:?}");
        assert!(shown.contains("…0001"), "{shown}");
        for hidden in [KEY, SECRET, PASSPHRASE, base64_hmac(PASSPHRASE.as_bytes()).as_str()] {
            assert!(!shown.contains(hidden), "{shown}");
        }
        let mut request = http::Request::get("/api/v1/accounts").body(Bytes::new()).unwrap();
        signer
            .sign(&mut request, &SigningContext::at_millis(1), &mut NoTrace)
            .unwrap();
        let headers = format!("{:?}", request.headers());
        assert!(!headers.contains(KEY), "{headers}");
    }
}
