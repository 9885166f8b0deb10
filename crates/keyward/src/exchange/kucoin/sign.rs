//! The KuCoin (API key version 2) signer.

use crate::{
    Credentials,
    credentials::{ApiKey, CredentialError, ExposeSecret},
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
#[derive(Clone)]
pub struct KucoinSigner {
    api_key: ApiKey,
    mac: Hmac<Sha256>,
    /// `KC-API-PASSPHRASE`, signed once: a sensitive header value, cloned per request.
    signed_passphrase: HeaderValue,
}

impl KucoinSigner {
    /// Prepares a signer: keys the MAC and signs the passphrase once.
    ///
    /// Fails with [`CredentialError::MissingPassphrase`] without a passphrase, and with
    /// [`CredentialError::InvalidSecret`] for an empty secret or one with surrounding whitespace.
    pub fn new(credentials: &Credentials) -> Result<Self, CredentialError> {
        let material = Material::of("kucoin", credentials);
        let secret = material.secret(Whitespace::Reject)?;
        let passphrase = material.passphrase()?;
        let mac = material.hmac(secret.as_bytes())?;
        let signed_passphrase =
            EncodedSignature::mac(&mac, passphrase.expose_secret().as_bytes(), SignatureEncoding::Base64)
                .and_then(|signed| signed.to_header_value())
                .map_err(|_| material.invalid("internal error: the signed passphrase cannot be encoded"))?;
        Ok(Self {
            api_key: credentials.api_key().clone(),
            mac,
            signed_passphrase,
        })
    }
}

impl fmt::Debug for KucoinSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KucoinSigner")
            .field("api_key", &self.api_key.fingerprint())
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
        let timestamp = context.unix_millis().to_string();
        let method = request.method().as_str().to_ascii_uppercase();
        let target = request.uri().path_and_query().map_or("/", |target| target.as_str());
        let endpoint: Vec<u8> = percent_encoding::percent_decode_str(target).collect();
        let body = request.body();

        let string_to_sign = prehash::concat(
            trace,
            &[
                ("timestamp", timestamp.as_bytes()),
                ("method", method.as_bytes()),
                ("endpoint", &endpoint),
                ("body", body),
            ],
        );
        let signature =
            EncodedSignature::mac(&self.mac, &string_to_sign, SignatureEncoding::Base64)?.to_header_value()?;
        let key = sensitive_header(self.api_key.expose()).map_err(SignError::header)?;
        let timestamp = HeaderValue::from_str(&timestamp).map_err(SignError::header)?;
        let headers = request.headers_mut();
        headers.insert("KC-API-KEY", key);
        headers.insert("KC-API-SIGN", signature);
        headers.insert("KC-API-TIMESTAMP", timestamp);
        headers.insert("KC-API-PASSPHRASE", self.signed_passphrase.clone());
        headers.insert("KC-API-KEY-VERSION", HeaderValue::from_static("2"));
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::sign::{Explanation, NoTrace};
    use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
    use hmac::Mac;

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
