//! Bybit v5 request signing: HMAC-SHA256 in headers.

use crate::{
    Credentials,
    credentials::{ApiKey, CredentialError},
    sign::{
        KeyedMac, Material, SignError, SignTrace, SignatureEncoding, Signer, SigningContext, TimestampFormat,
        Whitespace, prehash::Prehash,
    },
};
use bytes::Bytes;
use hmac::Hmac;
use http::{HeaderName, HeaderValue, Method, header};
use sha2::Sha256;
use std::fmt;

const EXCHANGE: &str = "bybit";
static API_KEY_HEADER: HeaderName = HeaderName::from_static("x-bapi-api-key");
static TIMESTAMP_HEADER: HeaderName = HeaderName::from_static("x-bapi-timestamp");
static RECV_WINDOW_HEADER: HeaderName = HeaderName::from_static("x-bapi-recv-window");
static SIGN_HEADER: HeaderName = HeaderName::from_static("x-bapi-sign");
static SIGN_TYPE_HEADER: HeaderName = HeaderName::from_static("x-bapi-sign-type");

/// The receive window keyward sends unless the request sets `X-BAPI-RECV-WINDOW` itself:
/// Bybit's own default, in milliseconds.
pub const DEFAULT_RECV_WINDOW: &str = "5000";

/// Signs Bybit v5 requests.
///
/// `X-BAPI-SIGN` is the lowercase hex HMAC-SHA256 of `timestamp ‖ api_key ‖ recv_window ‖ payload`,
/// where the payload is the query string as sent for `GET` and the JSON body byte for byte for
/// `POST`. The signer adds `X-BAPI-API-KEY`, `X-BAPI-TIMESTAMP` (milliseconds),
/// `X-BAPI-RECV-WINDOW` (kept if the request already sets it, else
/// [`DEFAULT_RECV_WINDOW`]), `X-BAPI-SIGN` and `X-BAPI-SIGN-TYPE: 2` (HMAC). RSA keys are not
/// supported.
///
/// # Example
///
/// ```
/// use bytes::Bytes;
/// use keyward::{Credentials, exchange::bybit::BybitSigner, sign::{Explanation, Signer, SigningContext}};
///
/// let signer = BybitSigner::new(&Credentials::new("XXXXXXXXXX", "test-only-secret-bybit"))?;
/// let mut request = http::Request::get("https://api.bybit.com/v5/order/realtime?category=option&symbol=BTC-29JUL22-25000-C")
///     .body(Bytes::new())?;
/// let mut explanation = Explanation::default();
/// signer.sign(&mut request, &SigningContext::at_millis(1_658_384_314_791), &mut explanation)?;
/// assert_eq!(explanation.signed(), b"1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C");
/// assert_eq!(request.headers()["x-bapi-sign"].len(), 64);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct BybitSigner {
    api_key: ApiKey,
    api_key_header: HeaderValue,
    mac: KeyedMac<Hmac<Sha256>>,
}

impl BybitSigner {
    /// Prepares a signer: keys the HMAC once.
    ///
    /// # Errors
    ///
    /// [`CredentialError::InvalidSecret`] for an empty secret, an RSA private key (keyward signs
    /// with system-generated HMAC keys only), or an API key that cannot travel in a header.
    pub fn new(credentials: &Credentials) -> Result<Self, CredentialError> {
        let material = Material::of(EXCHANGE, credentials);
        let secret = material.secret(Whitespace::Keep)?;
        if material.secret_is_pem() {
            return Err(material.invalid(
                "it is a PEM private key (a self-generated RSA key), which keyward does not support; create a system-generated HMAC key",
            ));
        }
        Ok(Self {
            mac: material.hmac(secret.as_bytes())?,
            api_key: credentials.api_key().clone(),
            api_key_header: material.api_key_header()?,
        })
    }
}

impl fmt::Debug for BybitSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BybitSigner")
            .field("api_key", &self.api_key.fingerprint())
            .finish()
    }
}

/// Bybit's scheme has the shape of the shared prehash-HMAC one, but its payload depends on the
/// method and its receive window on a header the caller may set, so it is written out here with
/// the same building blocks.
impl Signer for BybitSigner {
    fn sign(
        &self,
        request: &mut http::Request<Bytes>,
        context: &SigningContext,
        trace: &mut dyn SignTrace,
    ) -> Result<(), SignError> {
        let query = request.uri().query().unwrap_or("");
        let (payload_label, payload): (&'static str, &[u8]) = match *request.method() {
            Method::GET => {
                if !request.body().is_empty() {
                    return Err(SignError::InvalidRequest(
                        "Bybit signs a GET by its query string; move the body's parameters into the URL query".into(),
                    ));
                }
                ("query", query.as_bytes())
            }
            Method::POST => {
                if !query.is_empty() {
                    return Err(SignError::InvalidRequest(
                        "Bybit signs a POST by its JSON body only; move the query parameters into the body".into(),
                    ));
                }
                ("body", request.body())
            }
            ref other => {
                return Err(SignError::InvalidRequest(format!(
                    "Bybit v5 has only GET and POST endpoints, not {other}; use GET for reads and POST for writes"
                )));
            }
        };

        let caller_recv_window = request.headers().get(&RECV_WINDOW_HEADER);
        let recv_window = match caller_recv_window {
            Some(value) => {
                let value = value.as_bytes();
                if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
                    return Err(SignError::InvalidRequest(
                        "X-BAPI-RECV-WINDOW must be a whole number of milliseconds, such as 5000".into(),
                    ));
                }
                value
            }
            None => DEFAULT_RECV_WINDOW.as_bytes(),
        };
        let timestamp = context.timestamp(TimestampFormat::UnixMillis);

        let mut prehash = Prehash::new(self.mac.start(), b"", trace);
        prehash.part("timestamp", timestamp.as_bytes());
        prehash.part("api_key", self.api_key.expose().as_bytes());
        prehash.part("recv_window", recv_window);
        prehash.part(payload_label, payload);
        let signature = prehash.finish(SignatureEncoding::LowerHex)?.to_header_value()?;

        let add_content_type = *request.method() == Method::POST
            && !request.body().is_empty()
            && !request.headers().contains_key(header::CONTENT_TYPE);
        let add_recv_window = caller_recv_window.is_none();
        let headers = request.headers_mut();
        headers.insert(&API_KEY_HEADER, self.api_key_header.clone());
        headers.insert(&TIMESTAMP_HEADER, timestamp.to_header_value()?);
        if add_recv_window {
            headers.insert(&RECV_WINDOW_HEADER, HeaderValue::from_static(DEFAULT_RECV_WINDOW));
        }
        headers.insert(&SIGN_HEADER, signature);
        headers.insert(&SIGN_TYPE_HEADER, HeaderValue::from_static("2"));
        if add_content_type {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::{Explanation, NoTrace};
    use hmac::Mac;

    // The docs print "XXXXXXXXXX" for the key and never publish the secret (testdata/vectors.json).
    const DOC_KEY: &str = "XXXXXXXXXX";
    const SECRET: &str = "test-only-secret-bybit";

    fn signer() -> BybitSigner {
        BybitSigner::new(&Credentials::new(DOC_KEY, SECRET)).unwrap()
    }

    fn sign(request: &mut http::Request<Bytes>, millis: u64) -> Explanation {
        let mut explanation = Explanation::default();
        signer()
            .sign(request, &SigningContext::at_millis(millis), &mut explanation)
            .unwrap();
        explanation
    }

    fn expected_signature(string_to_sign: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(string_to_sign);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn vector_get_string_to_sign() {
        let mut request =
            http::Request::get("https://api.bybit.com/v5/order/realtime?category=option&symbol=BTC-29JUL22-25000-C")
                .body(Bytes::new())
                .unwrap();
        let explanation = sign(&mut request, 1_658_384_314_791);
        let expected = b"1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C";
        assert_eq!(explanation.signed(), expected);
        let labels: Vec<_> = explanation.parts().iter().map(|(label, _)| *label).collect();
        assert_eq!(labels, ["timestamp", "api_key", "recv_window", "query"]);
        let headers = request.headers();
        assert_eq!(headers["x-bapi-sign"], expected_signature(expected).as_str());
        assert_eq!(headers["x-bapi-api-key"], DOC_KEY);
        assert_eq!(headers["x-bapi-timestamp"], "1658384314791");
        assert_eq!(headers["x-bapi-recv-window"], "5000");
        assert_eq!(headers["x-bapi-sign-type"], "2");
        assert_eq!(
            request.uri().query(),
            Some("category=option&symbol=BTC-29JUL22-25000-C"),
            "the query is left as sent"
        );
    }

    #[test]
    fn vector_post_string_to_sign_keeps_the_body_byte_for_byte() {
        let body = Bytes::from_static(b"{\"category\": \"option\"}");
        let mut request = http::Request::post("https://api.bybit.com/v5/order/create")
            .body(body.clone())
            .unwrap();
        let explanation = sign(&mut request, 1_658_385_579_423);
        assert_eq!(
            explanation.signed(),
            b"1658385579423XXXXXXXXXX5000{\"category\": \"option\"}"
        );
        assert_eq!(request.body(), &body);
        assert_eq!(request.headers()[header::CONTENT_TYPE], "application/json");
    }

    #[test]
    fn unicode_and_reserved_characters_are_signed_as_sent() {
        let body = "{\"orderLinkId\":\"ñ&=+/ 注文\"}";
        let mut request = http::Request::post("/v5/order/create").body(Bytes::from(body)).unwrap();
        let explanation = sign(&mut request, 1);
        assert_eq!(explanation.signed(), format!("1{DOC_KEY}5000{body}").as_bytes());

        let mut request = http::Request::get("/v5/market/tickers?category=spot&symbol=%E2%82%BF%2BX")
            .body(Bytes::new())
            .unwrap();
        let explanation = sign(&mut request, 1);
        assert!(
            explanation
                .signed()
                .ends_with(b"5000category=spot&symbol=%E2%82%BF%2BX")
        );
    }

    #[test]
    fn empty_query_and_empty_body_sign_nothing_after_the_window() {
        let mut get = http::Request::get("/v5/account/wallet-balance")
            .body(Bytes::new())
            .unwrap();
        assert_eq!(sign(&mut get, 9).signed(), b"9XXXXXXXXXX5000");
        let mut post = http::Request::post("/v5/order/cancel-all").body(Bytes::new()).unwrap();
        assert_eq!(sign(&mut post, 9).signed(), b"9XXXXXXXXXX5000");
        assert!(!post.headers().contains_key(header::CONTENT_TYPE));
    }

    #[test]
    fn a_recv_window_set_by_the_caller_is_kept_and_signed() {
        let mut request = http::Request::get("/v5/position/list?category=linear")
            .header("X-BAPI-RECV-WINDOW", "20000")
            .body(Bytes::new())
            .unwrap();
        assert_eq!(sign(&mut request, 5).signed(), b"5XXXXXXXXXX20000category=linear");
        assert_eq!(request.headers()["x-bapi-recv-window"], "20000");

        let mut bad = http::Request::get("/v5/position/list")
            .header("X-BAPI-RECV-WINDOW", "5s")
            .body(Bytes::new())
            .unwrap();
        let err = signer()
            .sign(&mut bad, &SigningContext::at_millis(1), &mut NoTrace)
            .unwrap_err();
        assert!(err.to_string().contains("milliseconds"), "{err}");
    }

    #[test]
    fn misplaced_parameters_are_refused_with_a_fix() {
        let mut get_with_body = http::Request::get("/v5/order/realtime")
            .body(Bytes::from_static(b"{}"))
            .unwrap();
        let err = signer()
            .sign(&mut get_with_body, &SigningContext::at_millis(1), &mut NoTrace)
            .unwrap_err();
        assert!(err.to_string().contains("query"), "{err}");
        let mut post_with_query = http::Request::post("/v5/order/create?category=spot")
            .body(Bytes::from_static(b"{}"))
            .unwrap();
        let err = signer()
            .sign(&mut post_with_query, &SigningContext::at_millis(1), &mut NoTrace)
            .unwrap_err();
        assert!(err.to_string().contains("body"), "{err}");
        let mut delete = http::Request::delete("/v5/order/cancel").body(Bytes::new()).unwrap();
        assert!(
            signer()
                .sign(&mut delete, &SigningContext::at_millis(1), &mut NoTrace)
                .is_err()
        );
    }

    #[test]
    fn bad_secrets_are_rejected_without_echoing_them() {
        for secret in [
            "",
            "-----BEGIN PRIVATE KEY-----\ntest-only-secret-rsa\n-----END PRIVATE KEY-----",
        ] {
            let err = BybitSigner::new(&Credentials::new(DOC_KEY, secret)).unwrap_err();
            assert!(
                matches!(err, CredentialError::InvalidSecret { exchange: "bybit", .. }),
                "{err}"
            );
            assert!(!err.to_string().contains("test-only-secret"), "{err}");
        }
    }

    #[test]
    fn debug_shows_only_the_fingerprint() {
        let key = "test-only-key-bybit-0123456789";
        let shown = format!("{:?}", BybitSigner::new(&Credentials::new(key, SECRET)).unwrap());
        assert_eq!(shown, "BybitSigner { api_key: …6789 }");
        assert!(!shown.contains(SECRET));
    }
}
