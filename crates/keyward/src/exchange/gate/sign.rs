//! The Gate APIv4 signer: `SIGN` over method, path, query, body hash and timestamp.

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
use sha2::Sha512;
use std::fmt;

/// The Gate scheme: five parts joined with `\n`, HMAC-SHA512 in hex, headers `KEY`, `Timestamp`
/// and `SIGN`.
static SCHEME: PrehashHmacScheme = PrehashHmacScheme {
    exchange: "gate",
    parts: &[
        ("method", PrehashPart::Method),
        ("path", PrehashPart::Path),
        ("query", PrehashPart::FormDecodedQuery),
        ("hex(sha512(body))", PrehashPart::BodySha512Hex),
        ("timestamp", PrehashPart::Timestamp),
    ],
    separator: b"\n",
    timestamp: TimestampFormat::UnixSeconds,
    encoding: SignatureEncoding::LowerHex,
    api_key_header: HeaderName::from_static("key"),
    signature_header: HeaderName::from_static("sign"),
    timestamp_header: HeaderName::from_static("timestamp"),
    passphrase: Passphrase::None,
    fixed_headers: &[],
    json_content_type: false,
    path_example: "/api/v4/spot/orders",
};

/// Signs Gate APIv4 calls.
///
/// `SIGN = hex(HMAC-SHA512(secret, METHOD + "\n" + path + "\n" + query + "\n" + hex(SHA512(body)) + "\n" + timestamp))`
/// with the timestamp in whole seconds (the `Timestamp` header) and the body hashed even when empty.
/// Gate wants the query "without URL encode": its own SDK signs the form-decoded query
/// (`unquote_plus`), so the signer decodes `%XX` and `+` for the string-to-sign while the URL goes
/// out as the caller wrote it, in the same order.
///
/// # Example
///
/// ```
/// use bytes::Bytes;
/// use keyward::{Credentials, exchange::gate::GateSigner, sign::{NoTrace, Signer, SigningContext}};
///
/// // Gate's documented example uses the key "key" and the secret "secret".
/// let signer = GateSigner::new(&Credentials::new("key", "secret"))?;
/// let url = "https://api.gateio.ws/api/v4/futures/orders?contract=BTC_USD&status=finished&limit=50";
/// let mut request = http::Request::get(url).body(Bytes::new())?;
/// signer.sign(&mut request, &SigningContext::at_millis(1_541_993_715_000), &mut NoTrace)?;
/// assert_eq!(request.headers()["Timestamp"], "1541993715");
/// assert_eq!(request.headers()["SIGN"], concat!(
///     "55f84ea195d6fe57ce62464daaa7c3c02fa9d1dde954e4c898289c9a2407a3d6",
///     "fb3faf24deff16790d726b66ac9f74526668b13bd01029199cc4fcc522418b8a"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct GateSigner(PrehashHmacSigner<Hmac<Sha512>>);

impl GateSigner {
    /// Prepares a signer: keys the MAC once. Fails with [`CredentialError::InvalidSecret`] for an
    /// empty secret or one with surrounding whitespace.
    pub fn new(credentials: &Credentials) -> Result<Self, CredentialError> {
        let material = Material::of("gate", credentials);
        let mac = material.hmac(material.secret(Whitespace::Reject)?.as_bytes())?;
        PrehashHmacSigner::new(&SCHEME, &material, mac).map(Self)
    }
}

impl fmt::Debug for GateSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GateSigner")
            .field("api_key", &self.0.fingerprint())
            .finish_non_exhaustive()
    }
}

impl Signer for GateSigner {
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
    use sha2::Digest;

    fn signer() -> GateSigner {
        GateSigner::new(&Credentials::new("test-only-gate-key-0001", "test-only-secret-gate")).unwrap()
    }

    fn explain(request: &mut http::Request<Bytes>, seconds: u64) -> Explanation {
        let mut explanation = Explanation::default();
        signer()
            .sign(request, &SigningContext::at_millis(seconds * 1000), &mut explanation)
            .unwrap();
        explanation
    }

    #[test]
    fn published_vectors_reproduce() {
        let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/vectors.json"));
        let vectors: Vec<Value> = serde_json::from_str(text).unwrap();
        let mut checked = 0;
        for vector in vectors
            .iter()
            .filter(|v| v["id"].as_str().unwrap().starts_with("gate-"))
        {
            let inputs = &vector["inputs"];
            let expected = vector["expected_output"].as_str().unwrap();
            let body = Bytes::from(inputs["body"].as_str().unwrap().to_owned());
            let Some(method) = inputs["method"].as_str() else {
                // The intermediate vector: the hex SHA-512 of a body, read back from the explanation.
                let mut request = http::Request::post("/api/v4/futures/orders").body(body).unwrap();
                let explanation = explain(&mut request, 1);
                assert_eq!(
                    explanation.parts()[3],
                    ("hex(sha512(body))", expected.as_bytes().to_vec())
                );
                checked += 1;
                continue;
            };
            let query = inputs["query"].as_str().unwrap();
            let mut url = format!("https://api.gateio.ws{}", inputs["url"].as_str().unwrap());
            if !query.is_empty() {
                url = format!("{url}?{query}");
            }
            let signer = GateSigner::new(&Credentials::new(
                inputs["key"].as_str().unwrap(),
                inputs["secret"].as_str().unwrap(),
            ))
            .unwrap();
            let mut request = http::Request::builder().method(method).uri(&url).body(body).unwrap();
            let seconds: u64 = inputs["timestamp"].as_str().unwrap().parse().unwrap();
            let mut explanation = Explanation::default();
            signer
                .sign(
                    &mut request,
                    &SigningContext::at_millis(seconds * 1000),
                    &mut explanation,
                )
                .unwrap();
            assert_eq!(request.headers()["SIGN"], expected, "{}", vector["id"]);
            assert_eq!(request.headers()["Timestamp"], inputs["timestamp"].as_str().unwrap());
            assert_eq!(request.headers()["KEY"], inputs["key"].as_str().unwrap());
            let published_hash = inputs
                .get("intermediate_sha512_body")
                .or(inputs.get("intermediate_sha512_empty_body"));
            assert_eq!(
                explanation.parts()[3].1,
                published_hash.unwrap().as_str().unwrap().as_bytes()
            );
            checked += 1;
        }
        assert_eq!(checked, 3);
    }

    #[test]
    fn empty_query_is_an_empty_line_and_empty_body_hashes_the_empty_string() {
        let mut request = http::Request::get("/api/v4/spot/accounts").body(Bytes::new()).unwrap();
        let explanation = explain(&mut request, 1_600_000_000);
        let empty_hash = hex::encode(Sha512::digest(b""));
        assert_eq!(
            explanation.signed(),
            format!("GET\n/api/v4/spot/accounts\n\n{empty_hash}\n1600000000").as_bytes()
        );
    }

    #[test]
    fn query_is_signed_decoded_in_order_and_sent_as_written() {
        let target = "/api/v4/spot/orders?text=t-%E2%82%AC+1&currency_pair=BTC_USDT&status=open";
        let mut request = http::Request::get(target).body(Bytes::new()).unwrap();
        let explanation = explain(&mut request, 7);
        assert_eq!(
            explanation.parts()[2].1,
            "text=t-€ 1&currency_pair=BTC_USDT&status=open".as_bytes()
        );
        assert_eq!(request.uri().path_and_query().unwrap().as_str(), target);
    }

    #[test]
    fn unicode_body_is_hashed_byte_for_byte() {
        let body = "{\"text\":\"t-caf\u{e9}\",\"currency_pair\":\"BTC_USDT\"}";
        let mut request = http::Request::post("/api/v4/spot/orders")
            .body(Bytes::from_static(body.as_bytes()))
            .unwrap();
        let explanation = explain(&mut request, 7);
        assert_eq!(
            explanation.parts()[3].1,
            hex::encode(Sha512::digest(body.as_bytes())).as_bytes()
        );
        assert_eq!(request.body(), body.as_bytes());
    }

    #[test]
    fn an_empty_or_padded_secret_is_refused_without_echoing_it() {
        for secret in ["", " test-only-secret-gate"] {
            let err = GateSigner::new(&Credentials::new("test-only-gate-key-0001", secret)).unwrap_err();
            assert!(matches!(err, CredentialError::InvalidSecret { exchange: "gate", .. }));
            assert!(!err.to_string().contains("test-only-secret-gate"));
        }
    }

    #[test]
    fn debug_shows_only_the_key_fingerprint() {
        let signer = signer();
        let shown = format!("{signer:?}");
        assert!(shown.contains("…0001"), "{shown}");
        assert!(!shown.contains("test-only-gate-key-0001"), "{shown}");
        assert!(!shown.contains("test-only-secret-gate"), "{shown}");
        let mut request = http::Request::get("/api/v4/spot/accounts").body(Bytes::new()).unwrap();
        signer
            .sign(&mut request, &SigningContext::at_millis(0), &mut NoTrace)
            .unwrap();
        assert!(request.headers()["SIGN"].is_sensitive());
    }
}
