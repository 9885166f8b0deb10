//! Coinbase Exchange request signing: base64 HMAC-SHA256 keyed with the base64-decoded secret.

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

const EXCHANGE: &str = "coinbase";

/// The Coinbase Exchange scheme: `timestamp ‖ METHOD ‖ requestPath ‖ body`, base64, four
/// `CB-ACCESS-*` headers.
static SCHEME: PrehashHmacScheme = PrehashHmacScheme {
    exchange: EXCHANGE,
    parts: &[
        ("timestamp", PrehashPart::Timestamp),
        ("method", PrehashPart::Method),
        ("request_path", PrehashPart::Target),
        ("body", PrehashPart::Body),
    ],
    separator: b"",
    timestamp: TimestampFormat::UnixSeconds,
    encoding: SignatureEncoding::Base64,
    api_key_header: HeaderName::from_static("cb-access-key"),
    signature_header: HeaderName::from_static("cb-access-sign"),
    timestamp_header: HeaderName::from_static("cb-access-timestamp"),
    passphrase: Passphrase::Plain(HeaderName::from_static("cb-access-passphrase")),
    fixed_headers: &[],
    // Coinbase Exchange reads request bodies as JSON only.
    json_content_type: true,
    path_example: "/orders",
};

/// Signs Coinbase Exchange (formerly Coinbase Pro) REST requests.
///
/// `CB-ACCESS-SIGN` is `base64(HMAC-SHA256(base64decode(secret), timestamp ‖ METHOD ‖
/// requestPath(?query) ‖ body))`, where the timestamp is whole Unix seconds (also sent as
/// `CB-ACCESS-TIMESTAMP`) and an empty body signs as nothing. The key and the passphrase travel
/// in `CB-ACCESS-KEY` and `CB-ACCESS-PASSPHRASE`. Advanced Trade keys (JWT, EC private keys) are
/// a different scheme and are rejected.
///
/// # Example
///
/// ```
/// use bytes::Bytes;
/// use keyward::{Credentials, exchange::coinbase::CoinbaseSigner, sign::{Explanation, Signer, SigningContext}};
///
/// // The secret is base64, as Coinbase Exchange issues them ("test-only-secret" encoded).
/// let creds = Credentials::new("test-only-key-0123456789", "dGVzdC1vbmx5LXNlY3JldA==").with_passphrase("test-only-passphrase");
/// let signer = CoinbaseSigner::new(&creds)?;
/// let mut request = http::Request::get("https://api.exchange.coinbase.com/orders?status=open").body(Bytes::new())?;
/// let mut explanation = Explanation::default();
/// signer.sign(&mut request, &SigningContext::at_millis(1_420_674_445_201), &mut explanation)?;
/// assert_eq!(explanation.signed(), b"1420674445GET/orders?status=open");
/// assert_eq!(request.headers()["cb-access-timestamp"], "1420674445");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CoinbaseSigner(PrehashHmacSigner<Hmac<Sha256>>);

impl CoinbaseSigner {
    /// Prepares a signer: decodes the base64 secret and keys the HMAC once.
    ///
    /// # Errors
    ///
    /// [`CredentialError::MissingPassphrase`] without a passphrase;
    /// [`CredentialError::InvalidSecret`] for a secret that is not base64 (or is empty), or a key
    /// or passphrase that cannot travel in an HTTP header.
    pub fn new(credentials: &Credentials) -> Result<Self, CredentialError> {
        let material = Material::of(EXCHANGE, credentials);
        // The missing passphrase is reported before any problem with the secret.
        material.passphrase()?;
        let secret = material.secret(Whitespace::Trim)?;
        if material.secret_is_pem() {
            return Err(material.invalid(
                "it is a PEM private key, which belongs to a Coinbase Advanced Trade (CDP) key; keyward signs for Coinbase Exchange, whose secrets are base64",
            ));
        }
        let decoded = material.decode_base64(
            secret,
            "it is not base64; Coinbase Exchange secrets are the base64 string shown when the key was created",
        )?;
        let mac = material.hmac(&decoded)?;
        PrehashHmacSigner::new(&SCHEME, &material, mac).map(Self)
    }
}

impl fmt::Debug for CoinbaseSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoinbaseSigner")
            .field("api_key", &self.0.fingerprint())
            .finish()
    }
}

impl Signer for CoinbaseSigner {
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

    const KEY: &str = "test-only-key-coinbase-0123456789";
    // base64("test-only-secret-coinbase-hmac-key")
    const SECRET_B64: &str = "dGVzdC1vbmx5LXNlY3JldC1jb2luYmFzZS1obWFjLWtleQ==";
    const SECRET_RAW: &[u8] = b"test-only-secret-coinbase-hmac-key";
    const PASSPHRASE: &str = "test-only-passphrase-cb";

    fn signer() -> CoinbaseSigner {
        CoinbaseSigner::new(&Credentials::new(KEY, SECRET_B64).with_passphrase(PASSPHRASE)).unwrap()
    }

    fn sign(request: &mut http::Request<Bytes>, millis: u64) -> Explanation {
        let mut explanation = Explanation::default();
        signer()
            .sign(request, &SigningContext::at_millis(millis), &mut explanation)
            .unwrap();
        explanation
    }

    fn independent_signature(prehash: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET_RAW).unwrap();
        mac.update(prehash);
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    #[test]
    fn get_signs_whole_seconds_method_path_query_and_empty_body() {
        let mut request = http::Request::get("https://api.exchange.coinbase.com/fills?product_id=BTC-USD&limit=10")
            .body(Bytes::new())
            .unwrap();
        let explanation = sign(&mut request, 1_420_674_445_999);
        let expected = b"1420674445GET/fills?product_id=BTC-USD&limit=10";
        assert_eq!(explanation.signed(), expected);
        let headers = request.headers();
        assert_eq!(headers["cb-access-sign"], independent_signature(expected).as_str());
        assert_eq!(headers["cb-access-key"], KEY);
        assert_eq!(headers["cb-access-timestamp"], "1420674445");
        assert_eq!(headers["cb-access-passphrase"], PASSPHRASE);
        assert!(!headers.contains_key(header::CONTENT_TYPE));
    }

    #[test]
    fn post_signs_the_json_body_byte_for_byte() {
        let body = r#"{"size": "0.01", "price": "0.100", "side": "buy", "product_id": "BTC-USD"}"#;
        let mut request = http::Request::post("/orders").body(Bytes::from(body)).unwrap();
        let explanation = sign(&mut request, 1_700_000_000_000);
        assert_eq!(explanation.signed(), format!("1700000000POST/orders{body}").as_bytes());
        assert_eq!(request.body(), body.as_bytes());
        assert_eq!(request.headers()[header::CONTENT_TYPE], "application/json");
        let labels: Vec<_> = explanation.parts().iter().map(|(label, _)| *label).collect();
        assert_eq!(labels, ["timestamp", "method", "request_path", "body"]);
    }

    #[test]
    fn unicode_and_reserved_characters_are_signed_as_sent() {
        let mut request = http::Request::delete("/orders/client:%C3%BC%2B1?product_id=BTC-USD")
            .body(Bytes::new())
            .unwrap();
        let explanation = sign(&mut request, 1_000);
        assert_eq!(
            explanation.signed(),
            b"1DELETE/orders/client:%C3%BC%2B1?product_id=BTC-USD"
        );
        let body = "{\"client_oid\":\"é&=?\"}";
        let mut request = http::Request::post("/orders").body(Bytes::from(body)).unwrap();
        assert!(sign(&mut request, 1_000).signed().ends_with(body.as_bytes()));
    }

    #[test]
    fn bad_secrets_and_missing_passphrase_are_rejected_without_echoing_them() {
        assert_eq!(
            CoinbaseSigner::new(&Credentials::new(KEY, SECRET_B64)).unwrap_err(),
            CredentialError::MissingPassphrase { exchange: "coinbase" }
        );
        for secret in [
            "",
            "test-only-secret-not-base64!",
            "-----BEGIN EC PRIVATE KEY-----\ntest-only-secret\n-----END EC PRIVATE KEY-----",
        ] {
            let err = CoinbaseSigner::new(&Credentials::new(KEY, secret).with_passphrase(PASSPHRASE)).unwrap_err();
            assert!(
                matches!(
                    err,
                    CredentialError::InvalidSecret {
                        exchange: "coinbase",
                        ..
                    }
                ),
                "{err}"
            );
            assert!(!err.to_string().contains("test-only-secret"), "{err}");
        }
        let err = CoinbaseSigner::new(&Credentials::new(KEY, "not base64").with_passphrase(PASSPHRASE)).unwrap_err();
        assert!(err.to_string().contains("not base64"), "{err}");
    }

    #[test]
    fn debug_shows_only_the_fingerprint() {
        assert_eq!(format!("{:?}", signer()), "CoinbaseSigner { api_key: …6789 }");
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
