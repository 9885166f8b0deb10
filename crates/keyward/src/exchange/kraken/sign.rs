//! The Kraken spot REST signer: `API-Sign` over the path and a SHA-256 of nonce and form body.

use crate::{
    Credentials,
    credentials::{ApiKey, CredentialError},
    sign::{
        EncodedSignature, KeyedMac, Material, SignError, SignTrace, SignatureEncoding, Signer, SigningContext,
        TimestampFormat, Whitespace,
    },
};
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::{HeaderName, HeaderValue, Method, header::CONTENT_TYPE};
use sha2::{Digest, Sha256, Sha512};
use std::fmt;

static API_KEY_HEADER: HeaderName = HeaderName::from_static("api-key");
static SIGN_HEADER: HeaderName = HeaderName::from_static("api-sign");
const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// Signs Kraken spot REST private calls.
///
/// `API-Sign = base64(HMAC-SHA512(base64decode(secret), uri_path + SHA256(nonce + postdata)))`, where
/// `postdata` is the form-encoded body exactly as sent. The signer puts `nonce=<context nonce>` first in
/// the body unless the body already carries a `nonce`, in which case that value is the one hashed.
///
/// # Example
///
/// ```
/// use bytes::Bytes;
/// use keyward::{Credentials, exchange::kraken::KrakenSigner, sign::{NoTrace, Signer, SigningContext}};
///
/// // Kraken's published example secret.
/// let secret = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";
/// let signer = KrakenSigner::new(&Credentials::new("test-only-kraken-key", secret))?;
/// let mut request = http::Request::post("https://api.kraken.com/0/private/AddOrder")
///     .body(Bytes::from_static(b"ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"))?;
/// let context = SigningContext::at_millis(1_616_492_376_594);
/// signer.sign(&mut request, &context, &mut NoTrace)?;
/// assert!(request.body().starts_with(b"nonce=1616492376594&ordertype=limit"));
/// assert_eq!(request.headers()["API-Sign"],
///     "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct KrakenSigner {
    api_key: ApiKey,
    api_key_header: HeaderValue,
    mac: KeyedMac<Hmac<Sha512>>,
}

impl KrakenSigner {
    /// Prepares a signer: decodes the base64 secret and keys the MAC once.
    ///
    /// Fails with [`CredentialError::InvalidSecret`] when the secret is empty, has surrounding
    /// whitespace, or is not base64, which is the form Kraken issues secrets in, or when the API
    /// key cannot travel in a header.
    pub fn new(credentials: &Credentials) -> Result<Self, CredentialError> {
        let material = Material::of("kraken", credentials);
        let key = material.decode_base64(
            material.secret(Whitespace::Reject)?,
            "it is not valid base64; paste the private key exactly as Kraken showed it",
        )?;
        Ok(Self {
            mac: material.hmac(&key)?,
            api_key: credentials.api_key().clone(),
            api_key_header: material.api_key_header()?,
        })
    }
}

impl fmt::Debug for KrakenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KrakenSigner")
            .field("api_key", &self.api_key.fingerprint())
            .finish_non_exhaustive()
    }
}

impl Signer for KrakenSigner {
    fn sign(
        &self,
        request: &mut http::Request<Bytes>,
        context: &SigningContext,
        trace: &mut dyn SignTrace,
    ) -> Result<(), SignError> {
        check_request_shape(request)?;

        let body = request.body();
        let added_nonce = context.timestamp(TimestampFormat::Nonce);
        // The body as sent, in pieces: `nonce=<n>&` before the caller's parameters unless they
        // carry a nonce already.
        let (nonce, prefix): (&[u8], &[&[u8]]) = match existing_nonce(body) {
            Some([]) => {
                return Err(SignError::InvalidRequest(
                    "the body has an empty `nonce` parameter; remove it so the signer adds one, or give it a value"
                        .into(),
                ));
            }
            Some(nonce) => (nonce, &[]),
            None if body.is_empty() => (added_nonce.as_bytes(), &[b"nonce=", added_nonce.as_bytes()]),
            None => (added_nonce.as_bytes(), &[b"nonce=", added_nonce.as_bytes(), b"&"]),
        };
        let mut digest = Sha256::new().chain_update(nonce);
        for piece in prefix {
            digest.update(piece);
        }
        let digest = digest.chain_update(body).finalize();
        let postdata = if prefix.is_empty() {
            body.clone()
        } else {
            let mut postdata = Vec::with_capacity(prefix.iter().map(|piece| piece.len()).sum::<usize>() + body.len());
            for piece in prefix {
                postdata.extend_from_slice(piece);
            }
            postdata.extend_from_slice(body);
            Bytes::from(postdata)
        };

        // Kraken's string-to-sign is the path and a digest: two updates of the MAC, with the
        // parts shown as the digest's inputs rather than through `Prehash`.
        let path = request.uri().path().as_bytes();
        let mut mac = self.mac.start();
        mac.update(path);
        mac.update(&digest);
        if trace.is_recording() {
            trace.part("uri_path", path);
            trace.part("nonce", nonce);
            trace.part("postdata", &postdata);
            trace.part("sha256(nonce + postdata)", &digest);
            trace.string_to_sign(&[path, digest.as_slice()].concat());
        }
        let signature =
            EncodedSignature::encode(&mac.finalize().into_bytes(), SignatureEncoding::Base64)?.to_header_value()?;

        let headers = request.headers_mut();
        headers.insert(&API_KEY_HEADER, self.api_key_header.clone());
        headers.insert(&SIGN_HEADER, signature);
        if !headers.contains_key(CONTENT_TYPE) {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(FORM_CONTENT_TYPE));
        }
        *request.body_mut() = postdata;
        Ok(())
    }
}

/// Rejects what Kraken cannot verify: its private calls are POSTs whose parameters all travel in a
/// form-encoded body, and only the path and that body are signed.
fn check_request_shape(request: &http::Request<Bytes>) -> Result<(), SignError> {
    if request.method() != Method::POST {
        return Err(SignError::InvalidRequest(format!(
            "Kraken private endpoints take POST, not {}; send the parameters as a form-encoded POST body",
            request.method()
        )));
    }
    if request.uri().query().is_some_and(|query| !query.is_empty()) {
        return Err(SignError::InvalidRequest(
            "Kraken signs only the path and the body; move the query parameters into the form-encoded body".into(),
        ));
    }
    if let Some(content_type) = request.headers().get(CONTENT_TYPE) {
        let essence = content_type
            .to_str()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim();
        if !essence.eq_ignore_ascii_case(FORM_CONTENT_TYPE) {
            return Err(SignError::InvalidRequest(format!(
                "the Kraken signer signs form bodies only; \
                 set Content-Type to {FORM_CONTENT_TYPE} and form-encode the body"
            )));
        }
    }
    let body = request.body();
    let looks_like_json = matches!(body.first(), Some(b'{' | b'['));
    let has_unencoded_bytes = body.iter().any(|&byte| !(0x21..=0x7e).contains(&byte));
    if looks_like_json || has_unencoded_bytes {
        return Err(SignError::InvalidRequest(
            "the body is not form-encoded (key=value&key=value, percent-encoded); form-encode it before signing".into(),
        ));
    }
    Ok(())
}

/// The value of the body's `nonce` parameter, if it has one.
fn existing_nonce(body: &[u8]) -> Option<&[u8]> {
    body.split(|&byte| byte == b'&').find_map(|pair| {
        let mut halves = pair.splitn(2, |&byte| byte == b'=');
        (halves.next() == Some(b"nonce".as_slice())).then(|| halves.next().unwrap_or_default())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::sign::{Explanation, NoTrace};
    use serde_json::Value;

    const DOC_SECRET: &str = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";

    fn signer() -> KrakenSigner {
        KrakenSigner::new(&Credentials::new("test-only-kraken-api-key-0001", DOC_SECRET)).unwrap()
    }

    fn post(path: &str, body: &'static str) -> http::Request<Bytes> {
        http::Request::post(path)
            .body(Bytes::from_static(body.as_bytes()))
            .unwrap()
    }

    fn vectors() -> Vec<Value> {
        let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/vectors.json"));
        let all: Vec<Value> = serde_json::from_str(text).unwrap();
        all.into_iter()
            .filter(|v| v["id"].as_str().unwrap().starts_with("kraken-"))
            .collect()
    }

    #[test]
    fn published_vectors_reproduce_with_and_without_a_nonce_in_the_body() {
        let vectors = vectors();
        assert!(!vectors.is_empty());
        for vector in vectors {
            let inputs = &vector["inputs"];
            let expected = vector["expected_output"].as_str().unwrap();
            let signer = KrakenSigner::new(&Credentials::new(
                "test-only-kraken-api-key-0001",
                inputs["private_key_b64"].as_str().unwrap(),
            ))
            .unwrap();
            let nonce: u64 = inputs["nonce"].as_str().unwrap().parse().unwrap();
            let payload = inputs["encoded_payload"].as_str().unwrap();
            let path = format!("https://api.kraken.com{}", inputs["uri_path"].as_str().unwrap());

            // The body already has the nonce: it is kept, and the context's nonce is ignored.
            let mut request = http::Request::post(&path)
                .body(Bytes::from(payload.to_owned()))
                .unwrap();
            signer
                .sign(&mut request, &SigningContext::at_millis(1).with_nonce(7), &mut NoTrace)
                .unwrap();
            assert_eq!(request.headers()["API-Sign"], expected, "{}", vector["id"]);
            assert_eq!(request.body(), payload.as_bytes());

            // The body has no nonce: the signer adds the context's nonce first.
            let without_nonce = payload.strip_prefix(&format!("nonce={nonce}&")).unwrap();
            let mut request = http::Request::post(&path)
                .body(Bytes::from(without_nonce.to_owned()))
                .unwrap();
            signer
                .sign(&mut request, &SigningContext::at_millis(nonce), &mut NoTrace)
                .unwrap();
            assert_eq!(request.headers()["API-Sign"], expected, "{}", vector["id"]);
            assert_eq!(request.body(), payload.as_bytes());
            assert_eq!(request.headers()["API-Key"], "test-only-kraken-api-key-0001");
            assert_eq!(request.headers()[CONTENT_TYPE], FORM_CONTENT_TYPE);
        }
    }

    #[test]
    fn explanation_shows_path_and_hash_of_nonce_and_body() {
        let mut request = post("/0/private/Balance", "");
        let mut explanation = Explanation::default();
        signer()
            .sign(
                &mut request,
                &SigningContext::at_millis(5).with_nonce(42),
                &mut explanation,
            )
            .unwrap();
        assert_eq!(request.body(), "nonce=42");
        let parts = explanation.parts();
        assert_eq!(parts[0], ("uri_path", b"/0/private/Balance".to_vec()));
        assert_eq!(parts[1], ("nonce", b"42".to_vec()));
        assert_eq!(parts[2], ("postdata", b"nonce=42".to_vec()));
        let digest = Sha256::digest(b"42nonce=42");
        assert_eq!(parts[3].1, digest.to_vec());
        assert_eq!(
            explanation.signed(),
            [b"/0/private/Balance".as_slice(), digest.as_slice()].concat()
        );
    }

    #[test]
    fn existing_parameters_keep_their_order_and_encoding() {
        let body = "pair=XBT%2FUSD&userref=%E2%82%AC+1&nonce=99&volume=1.25";
        let mut request = post("/0/private/AddOrder", body);
        let mut explanation = Explanation::default();
        signer()
            .sign(
                &mut request,
                &SigningContext::at_millis(1).with_nonce(5),
                &mut explanation,
            )
            .unwrap();
        assert_eq!(request.body(), body.as_bytes());
        assert_eq!(explanation.parts()[1].1, b"99");
    }

    #[test]
    fn a_preset_content_type_is_kept() {
        let mut request = post("/0/private/Balance", "");
        request.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
        );
        signer()
            .sign(&mut request, &SigningContext::at_millis(1), &mut NoTrace)
            .unwrap();
        assert_eq!(
            request.headers()[CONTENT_TYPE],
            "application/x-www-form-urlencoded; charset=utf-8"
        );
    }

    #[test]
    fn requests_kraken_cannot_verify_are_refused_with_the_fix() {
        let cases: Vec<(http::Request<Bytes>, &str)> = vec![
            (
                http::Request::get("/0/private/Balance").body(Bytes::new()).unwrap(),
                "POST",
            ),
            (post("/0/private/Balance?asset=XBT", ""), "query"),
            (post("/0/private/AddOrder", r#"{"pair":"XBTUSD"}"#), "form-encode"),
            (post("/0/private/AddOrder", "pair=XBT USD"), "form-encode"),
            (post("/0/private/AddOrder", "note=caf\u{e9}"), "form-encode"),
            (post("/0/private/AddOrder", "nonce=&pair=XBTUSD"), "empty `nonce`"),
        ];
        for (mut request, hint) in cases {
            let err = signer()
                .sign(&mut request, &SigningContext::at_millis(1), &mut NoTrace)
                .unwrap_err();
            assert!(
                matches!(&err, SignError::InvalidRequest(why) if why.contains(hint)),
                "{err}"
            );
            assert!(!request.headers().contains_key("API-Sign"));
        }

        let mut request = post("/0/private/AddOrder", "pair=XBTUSD");
        request
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let err = signer()
            .sign(&mut request, &SigningContext::at_millis(1), &mut NoTrace)
            .unwrap_err();
        assert!(err.to_string().contains(FORM_CONTENT_TYPE), "{err}");
    }

    #[test]
    fn a_secret_that_is_not_base64_is_refused_without_echoing_it() {
        for secret in ["", "   ", "test-only-secret-not*base64!", &format!("{DOC_SECRET}\n")] {
            let err = KrakenSigner::new(&Credentials::new("test-only-kraken-api-key-0001", secret)).unwrap_err();
            assert!(matches!(err, CredentialError::InvalidSecret { exchange: "kraken", .. }));
            if !secret.trim().is_empty() {
                assert!(!err.to_string().contains(secret.trim()));
            }
        }
    }

    #[test]
    fn debug_shows_only_the_key_fingerprint() {
        let shown = format!("{:?}", signer());
        assert!(shown.contains("…0001"), "{shown}");
        assert!(!shown.contains("test-only-kraken-api-key-0001"), "{shown}");
        assert!(!shown.contains("kQH5HW"), "{shown}");
    }
}
