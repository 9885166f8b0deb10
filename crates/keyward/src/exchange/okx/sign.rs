//! OKX v5 request signing: base64 HMAC-SHA256 in headers, with the passphrase.

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

const EXCHANGE: &str = "okx";

/// The OKX scheme: `timestamp ‖ METHOD ‖ requestPath ‖ body`, base64, four `OK-ACCESS-*` headers.
static SCHEME: PrehashHmacScheme = PrehashHmacScheme {
    exchange: EXCHANGE,
    parts: &[
        ("timestamp", PrehashPart::Timestamp),
        ("method", PrehashPart::Method),
        ("request_path", PrehashPart::Target),
        ("body", PrehashPart::Body),
    ],
    separator: b"",
    timestamp: TimestampFormat::Iso8601Millis,
    encoding: SignatureEncoding::Base64,
    api_key_header: HeaderName::from_static("ok-access-key"),
    signature_header: HeaderName::from_static("ok-access-sign"),
    timestamp_header: HeaderName::from_static("ok-access-timestamp"),
    passphrase: Passphrase::Plain(HeaderName::from_static("ok-access-passphrase")),
    fixed_headers: &[],
    // OKX reads request bodies as JSON only.
    json_content_type: true,
    path_example: "/api/v5/account/balance",
};

/// Signs OKX v5 REST requests.
///
/// `OK-ACCESS-SIGN` is `base64(HMAC-SHA256(secret, timestamp ‖ METHOD ‖ requestPath ‖ body))`,
/// where the timestamp is ISO 8601 UTC with milliseconds (`2020-12-08T09:08:57.715Z`, also sent
/// as `OK-ACCESS-TIMESTAMP`), the request path includes `?query` exactly as sent, and an empty
/// body signs as nothing. The key and the passphrase travel in `OK-ACCESS-KEY` and
/// `OK-ACCESS-PASSPHRASE`.
///
/// # Example
///
/// ```
/// use bytes::Bytes;
/// use keyward::{Credentials, exchange::okx::OkxSigner, sign::{Explanation, Signer, SigningContext}};
///
/// let creds = Credentials::new("test-only-key-0123456789", "test-only-secret").with_passphrase("test-only-passphrase");
/// let signer = OkxSigner::new(&creds)?;
/// let mut request = http::Request::get("https://www.okx.com/api/v5/account/balance?ccy=BTC").body(Bytes::new())?;
/// let mut explanation = Explanation::default();
/// signer.sign(&mut request, &SigningContext::at_millis(1_607_418_537_715), &mut explanation)?;
/// assert_eq!(explanation.signed(), b"2020-12-08T09:08:57.715ZGET/api/v5/account/balance?ccy=BTC");
/// assert_eq!(request.headers()["ok-access-timestamp"], "2020-12-08T09:08:57.715Z");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct OkxSigner(PrehashHmacSigner<Hmac<Sha256>>);

impl OkxSigner {
    /// Prepares a signer: keys the HMAC and the passphrase header once.
    ///
    /// # Errors
    ///
    /// [`CredentialError::MissingPassphrase`] without a passphrase;
    /// [`CredentialError::InvalidSecret`] for an empty secret, or a key or passphrase that cannot
    /// travel in an HTTP header.
    pub fn new(credentials: &Credentials) -> Result<Self, CredentialError> {
        let material = Material::of(EXCHANGE, credentials);
        // The missing passphrase is reported before any problem with the secret.
        material.passphrase()?;
        let mac = material.hmac(material.secret(Whitespace::Keep)?.as_bytes())?;
        PrehashHmacSigner::new(&SCHEME, &material, mac).map(Self)
    }
}

impl fmt::Debug for OkxSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OkxSigner")
            .field("api_key", &self.0.fingerprint())
            .finish()
    }
}

impl Signer for OkxSigner {
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
mod tests {
    use super::*;
    use crate::sign::{Explanation, NoTrace};
    use base64::Engine as _;
    use hmac::Mac;
    use http::header;

    const KEY: &str = "test-only-key-okx-0123456789";
    const SECRET: &str = "test-only-secret-okx";
    const PASSPHRASE: &str = "test-only-passphrase-okx";
    // 2020-12-08T09:08:57.715Z, the timestamp of the signing example in OKX's docs.
    const MILLIS: u64 = 1_607_418_537_715;

    fn signer() -> OkxSigner {
        OkxSigner::new(&Credentials::new(KEY, SECRET).with_passphrase(PASSPHRASE)).unwrap()
    }

    fn sign(request: &mut http::Request<Bytes>) -> Explanation {
        let mut explanation = Explanation::default();
        signer()
            .sign(request, &SigningContext::at_millis(MILLIS), &mut explanation)
            .unwrap();
        explanation
    }

    fn independent_signature(prehash: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(prehash);
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    #[test]
    fn get_with_query_signs_path_and_query_and_no_body() {
        let mut request = http::Request::get("https://www.okx.com/api/v5/account/balance?ccy=BTC,ETH")
            .body(Bytes::new())
            .unwrap();
        let explanation = sign(&mut request);
        let expected = b"2020-12-08T09:08:57.715ZGET/api/v5/account/balance?ccy=BTC,ETH";
        assert_eq!(explanation.signed(), expected);
        let headers = request.headers();
        assert_eq!(headers["ok-access-sign"], independent_signature(expected).as_str());
        assert_eq!(headers["ok-access-key"], KEY);
        assert_eq!(headers["ok-access-timestamp"], "2020-12-08T09:08:57.715Z");
        assert_eq!(headers["ok-access-passphrase"], PASSPHRASE);
        assert!(!headers.contains_key(header::CONTENT_TYPE));
        assert_eq!(request.uri().query(), Some("ccy=BTC,ETH"));
    }

    #[test]
    fn post_signs_the_json_body_byte_for_byte() {
        let body = r#"{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"market","sz":"100"}"#;
        let mut request = http::Request::post("/api/v5/trade/order")
            .body(Bytes::from(body))
            .unwrap();
        let explanation = sign(&mut request);
        assert_eq!(
            explanation.signed(),
            format!("2020-12-08T09:08:57.715ZPOST/api/v5/trade/order{body}").as_bytes()
        );
        assert_eq!(request.body(), body.as_bytes());
        assert_eq!(request.headers()[header::CONTENT_TYPE], "application/json");
        let labels: Vec<_> = explanation.parts().iter().map(|(label, _)| *label).collect();
        assert_eq!(labels, ["timestamp", "method", "request_path", "body"]);
    }

    #[test]
    fn unicode_and_reserved_characters_are_signed_as_sent() {
        let mut request = http::Request::get("/api/v5/market/ticker?instId=BTC-USDT&tag=%E2%82%AC%2B%26")
            .body(Bytes::new())
            .unwrap();
        let explanation = sign(&mut request);
        assert!(
            explanation
                .signed()
                .ends_with(b"GET/api/v5/market/ticker?instId=BTC-USDT&tag=%E2%82%AC%2B%26")
        );

        let body = "{\"clOrdId\":\"ü&=?\"}";
        let mut request = http::Request::post("/api/v5/trade/order")
            .body(Bytes::from(body))
            .unwrap();
        assert!(sign(&mut request).signed().ends_with(body.as_bytes()));
    }

    #[test]
    fn missing_passphrase_and_bad_secret_are_rejected() {
        assert_eq!(
            OkxSigner::new(&Credentials::new(KEY, SECRET)).unwrap_err(),
            CredentialError::MissingPassphrase { exchange: "okx" }
        );
        let err = OkxSigner::new(&Credentials::new(KEY, "").with_passphrase(PASSPHRASE)).unwrap_err();
        assert!(matches!(err, CredentialError::InvalidSecret { exchange: "okx", .. }));
        let err = OkxSigner::new(&Credentials::new(KEY, SECRET).with_passphrase("test-only\npass")).unwrap_err();
        assert!(err.to_string().contains("passphrase"), "{err}");
        assert!(!err.to_string().contains("test-only"), "{err}");
    }

    #[test]
    fn debug_shows_only_the_fingerprint() {
        let shown = format!("{:?}", signer());
        assert_eq!(shown, "OkxSigner { api_key: …6789 }");
    }

    #[test]
    fn a_url_without_path_is_refused() {
        let mut request = http::Request::get("*").body(Bytes::new()).unwrap();
        assert!(
            signer()
                .sign(&mut request, &SigningContext::at_millis(1), &mut NoTrace)
                .is_err()
        );
    }
}
