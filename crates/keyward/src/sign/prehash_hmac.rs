//! One signer for the family of schemes that MAC a "prehash" string of request parts and send
//! the signature, the key, the timestamp (and a passphrase) in headers.
//!
//! OKX, Coinbase Exchange, KuCoin, BitMEX and Gate all sign the same way: an HMAC of a few
//! request parts (timestamp, method, path with query, body, ...), concatenated or joined with a
//! separator, encoded as hex or base64 and sent in a header beside the API key and the timestamp.
//! They differ only in data: which parts in which order, how the timestamp is written, the hash,
//! the encoding and the header names. A [`PrehashHmacScheme`] is that data, and
//! [`PrehashHmacSigner`] signs any of them; each exchange's `sign.rs` keeps its docs, its secret
//! checks and its tests, and is otherwise a configuration.
//!
//! Signing with it costs one MAC over the parts read in place, plus the header values the request
//! needs: the parts are fed to a [`KeyedMac`] copy without assembling the string-to-sign (unless
//! the trace records it), the timestamp and the signature are written on the stack, and the API
//! key and passphrase header values are made once per credential.
//!
//! # Example
//!
//! A scheme that signs `timestamp ‖ METHOD ‖ target ‖ body` in hex, with two headers:
//!
//! ```
//! use bytes::Bytes;
//! use hmac::Hmac;
//! use http::HeaderName;
//! use keyward::{Credentials, sign::{Material, NoTrace, Signer, SigningContext, SignatureEncoding, TimestampFormat, Whitespace}};
//! use keyward::sign::prehash_hmac::{Passphrase, PrehashHmacScheme, PrehashHmacSigner, PrehashPart};
//!
//! static EXAMPLE: PrehashHmacScheme = PrehashHmacScheme {
//!     exchange: "example",
//!     parts: &[
//!         ("timestamp", PrehashPart::Timestamp),
//!         ("method", PrehashPart::Method),
//!         ("target", PrehashPart::Target),
//!         ("body", PrehashPart::Body),
//!     ],
//!     separator: b"",
//!     timestamp: TimestampFormat::UnixMillis,
//!     encoding: SignatureEncoding::LowerHex,
//!     api_key_header: HeaderName::from_static("x-key"),
//!     signature_header: HeaderName::from_static("x-sign"),
//!     timestamp_header: HeaderName::from_static("x-time"),
//!     passphrase: Passphrase::None,
//!     fixed_headers: &[],
//!     json_content_type: false,
//!     path_example: "/v1/orders",
//! };
//!
//! let credentials = Credentials::new("test-only-key-0123456789", "test-only-secret");
//! let material = Material::of("example", &credentials);
//! let mac = material.hmac::<Hmac<sha2::Sha256>>(material.secret(Whitespace::Keep)?.as_bytes())?;
//! let signer = PrehashHmacSigner::new(&EXAMPLE, &material, mac)?;
//! let mut request = http::Request::get("https://example.com/v1/orders?limit=1").body(Bytes::new())?;
//! signer.sign(&mut request, &SigningContext::at_millis(1_700_000_000_000), &mut NoTrace)?;
//! assert_eq!(request.headers()["x-time"], "1700000000000");
//! assert_eq!(request.headers()["x-sign"].len(), 64);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::{
    KeyedMac, Material, SignError, SignTrace, SignatureEncoding, Signer, SigningContext, TimestampFormat,
    prehash::{self, Prehash},
};
use crate::credentials::{ApiKey, CredentialError, ExposeSecret};
use bytes::Bytes;
use hmac::{Mac, digest::KeyInit};
use http::{HeaderName, HeaderValue, Method, header};
use sha2::{Digest, Sha512};
use std::{borrow::Cow, fmt};

/// One part of a prehash string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrehashPart {
    /// The signing moment, written as the scheme's [`TimestampFormat`] (also sent in the
    /// timestamp header).
    Timestamp,
    /// The HTTP method in upper case.
    Method,
    /// The URL path as sent, without the query.
    Path,
    /// The path, then `?` and the query when the URL has one, as sent. A URL without a path is
    /// refused.
    Target,
    /// [`Target`](Self::Target) with `%XX` escapes decoded (KuCoin signs the URL "that has not
    /// been URL-encoded"); the URL itself is sent as it is.
    PercentDecodedTarget,
    /// The query as sent, form-decoded (`+` is a space, `%XX` a byte), without the `?`: Gate's
    /// SDK signs what `unquote_plus` makes of it.
    FormDecodedQuery,
    /// The body, byte for byte.
    Body,
    /// The lowercase hex SHA-512 of the body, of the empty string when there is none (Gate).
    BodySha512Hex,
}

/// What a scheme does with the passphrase.
#[derive(Debug, Clone)]
pub enum Passphrase {
    /// The scheme has no passphrase.
    None,
    /// The passphrase is sent as it is in this header (OKX, Coinbase Exchange).
    Plain(HeaderName),
    /// The passphrase is sent MACed with the secret and encoded like the signature (KuCoin key
    /// version 2), computed once per credential.
    Signed(HeaderName),
}

/// The data that tells one prehash-HMAC scheme from another.
///
/// Header names are lower case, as [`HeaderName::from_static`] requires; HTTP header names are
/// case-insensitive, and `http` sends them lower case anyway.
#[derive(Debug)]
pub struct PrehashHmacScheme {
    /// The exchange's lower-case name, for error messages.
    pub exchange: &'static str,
    /// The parts of the string-to-sign, in order, each with the label `keyward sign --explain`
    /// shows for it.
    pub parts: &'static [(&'static str, PrehashPart)],
    /// What goes between each two parts.
    pub separator: &'static [u8],
    /// How the timestamp is written, in the string-to-sign and in its header.
    pub timestamp: TimestampFormat,
    /// How the signature is written.
    pub encoding: SignatureEncoding,
    /// The header that carries the API key (marked sensitive).
    pub api_key_header: HeaderName,
    /// The header that carries the signature (marked sensitive).
    pub signature_header: HeaderName,
    /// The header that carries the timestamp.
    pub timestamp_header: HeaderName,
    /// Whether and how the passphrase is sent.
    pub passphrase: Passphrase,
    /// Headers every signed request carries with the same value (KuCoin's key version).
    pub fixed_headers: &'static [(HeaderName, HeaderValue)],
    /// Whether a non-empty body without a `Content-Type` gets `application/json` (exchanges that
    /// read bodies as JSON only).
    pub json_content_type: bool,
    /// A path of this exchange, for the message that refuses a URL without one.
    pub path_example: &'static str,
}

/// Signs requests for one [`PrehashHmacScheme`] with one set of prepared credentials.
///
/// `M` is the MAC (`Hmac<Sha256>`, `Hmac<Sha512>`). `Debug` shows the exchange and the API key's
/// fingerprint only.
pub struct PrehashHmacSigner<M: Mac + KeyInit + Clone> {
    scheme: &'static PrehashHmacScheme,
    mac: KeyedMac<M>,
    api_key: ApiKey,
    api_key_header: HeaderValue,
    passphrase_header: Option<HeaderValue>,
}

impl<M: Mac + KeyInit + Clone> PrehashHmacSigner<M> {
    /// Prepares a signer from a keyed MAC: makes the API key header and the passphrase header
    /// (signing the passphrase, for [`Passphrase::Signed`]) once.
    ///
    /// Secret checks (whitespace, base64, PEM) belong to the exchange, before it keys `mac`.
    ///
    /// # Errors
    ///
    /// [`CredentialError::MissingPassphrase`] when the scheme sends a passphrase and there is
    /// none; [`CredentialError::InvalidSecret`] when the passphrase or the API key cannot travel
    /// in an HTTP header.
    pub fn new(
        scheme: &'static PrehashHmacScheme,
        material: &Material<'_>,
        mac: KeyedMac<M>,
    ) -> Result<Self, CredentialError> {
        let passphrase_header = match &scheme.passphrase {
            Passphrase::None => None,
            Passphrase::Plain(_) => Some(material.passphrase_header()?),
            Passphrase::Signed(_) => {
                let passphrase = material.passphrase()?.expose_secret().as_bytes();
                let signed = mac
                    .sign(passphrase, scheme.encoding)
                    .and_then(|signed| signed.to_header_value())
                    .map_err(|_| material.invalid("internal error: the signed passphrase cannot be encoded"))?;
                Some(signed)
            }
        };
        Ok(Self {
            scheme,
            api_key: material.api_key().clone(),
            api_key_header: material.api_key_header()?,
            passphrase_header,
            mac,
        })
    }

    /// The fingerprint of the API key this signer signs for.
    pub fn fingerprint(&self) -> crate::credentials::Fingerprint {
        self.api_key.fingerprint()
    }
}

impl<M: Mac + KeyInit + Clone> fmt::Debug for PrehashHmacSigner<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrehashHmacSigner")
            .field("exchange", &self.scheme.exchange)
            .field("api_key", &self.api_key.fingerprint())
            .finish_non_exhaustive()
    }
}

impl<M: Mac + KeyInit + Clone + Send + Sync> Signer for PrehashHmacSigner<M> {
    fn sign(
        &self,
        request: &mut http::Request<Bytes>,
        context: &SigningContext,
        trace: &mut dyn SignTrace,
    ) -> Result<(), SignError> {
        let scheme = self.scheme;
        let timestamp = context.timestamp(scheme.timestamp);
        let mut prehash = Prehash::new(self.mac.start(), scheme.separator, trace);
        for &(label, part) in scheme.parts {
            match part {
                PrehashPart::Timestamp => prehash.part(label, timestamp.as_bytes()),
                PrehashPart::Method => prehash.part(label, upper_case_method(request.method()).as_bytes()),
                PrehashPart::Path => prehash.part(label, request.uri().path().as_bytes()),
                PrehashPart::Target => prehash.part(label, self.target(request.uri())?.as_bytes()),
                PrehashPart::PercentDecodedTarget => {
                    let target = self.target(request.uri())?;
                    let decoded: Cow<'_, [u8]> = percent_encoding::percent_decode_str(&target).into();
                    prehash.part(label, &decoded);
                }
                PrehashPart::FormDecodedQuery => {
                    prehash.part(label, &form_decode(request.uri().query().unwrap_or_default()));
                }
                PrehashPart::Body => prehash.part(label, request.body()),
                PrehashPart::BodySha512Hex => {
                    let mut body_hash = [0u8; 128];
                    hex::encode_to_slice(Sha512::digest(request.body()), &mut body_hash)
                        .map_err(|_| SignError::InvalidRequest("internal error: the body hash is too long".into()))?;
                    prehash.part(label, &body_hash);
                }
            }
        }
        let signature = prehash.finish(scheme.encoding)?.to_header_value()?;

        let add_content_type = scheme.json_content_type
            && !request.body().is_empty()
            && !request.headers().contains_key(header::CONTENT_TYPE);
        let headers = request.headers_mut();
        headers.insert(&scheme.api_key_header, self.api_key_header.clone());
        headers.insert(&scheme.signature_header, signature);
        headers.insert(&scheme.timestamp_header, timestamp.to_header_value()?);
        if let (Passphrase::Plain(name) | Passphrase::Signed(name), Some(value)) =
            (&scheme.passphrase, &self.passphrase_header)
        {
            headers.insert(name, value.clone());
        }
        for (name, value) in scheme.fixed_headers {
            headers.insert(name, value.clone());
        }
        if add_content_type {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        Ok(())
    }
}

impl<M: Mac + KeyInit + Clone> PrehashHmacSigner<M> {
    fn target<'u>(&self, uri: &'u http::Uri) -> Result<Cow<'u, str>, SignError> {
        prehash::request_target(uri).ok_or_else(|| {
            SignError::InvalidRequest(format!(
                "the URL has no path; {} signs the request path, such as {}",
                self.scheme.exchange, self.scheme.path_example
            ))
        })
    }
}

/// The method as exchanges sign it: upper case. Standard methods already are, so this borrows.
pub(crate) fn upper_case_method(method: &Method) -> Cow<'_, str> {
    let name = method.as_str();
    if name.bytes().any(|byte| byte.is_ascii_lowercase()) {
        Cow::Owned(name.to_ascii_uppercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// `application/x-www-form-urlencoded` decoding of a whole query string, `&` and `=` kept: `+`
/// becomes a space and `%XX` its byte, as Python's `unquote_plus` does. Borrows when there is
/// nothing to decode.
fn form_decode(query: &str) -> Cow<'_, [u8]> {
    if !query.bytes().any(|byte| byte == b'+' || byte == b'%') {
        return Cow::Borrowed(query.as_bytes());
    }
    let spaced = query.replace('+', " ");
    Cow::Owned(percent_encoding::percent_decode_str(&spaced).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Credentials, sign::Explanation};
    use hmac::Hmac;
    use sha2::Sha256;

    static FIXED: [(HeaderName, HeaderValue); 1] =
        [(HeaderName::from_static("x-version"), HeaderValue::from_static("2"))];

    static EVERY_PART: PrehashHmacScheme = PrehashHmacScheme {
        exchange: "test",
        parts: &[
            ("timestamp", PrehashPart::Timestamp),
            ("method", PrehashPart::Method),
            ("path", PrehashPart::Path),
            ("target", PrehashPart::Target),
            ("decoded", PrehashPart::PercentDecodedTarget),
            ("form", PrehashPart::FormDecodedQuery),
            ("body", PrehashPart::Body),
            ("body_hash", PrehashPart::BodySha512Hex),
        ],
        separator: b"|",
        timestamp: TimestampFormat::UnixSeconds,
        encoding: SignatureEncoding::Base64,
        api_key_header: HeaderName::from_static("x-key"),
        signature_header: HeaderName::from_static("x-sign"),
        timestamp_header: HeaderName::from_static("x-time"),
        passphrase: Passphrase::Signed(HeaderName::from_static("x-passphrase")),
        fixed_headers: &FIXED,
        json_content_type: true,
        path_example: "/v1/orders",
    };

    const KEY: &str = "test-only-key-0123456789";
    const SECRET: &[u8] = b"test-only-secret";

    fn signer() -> PrehashHmacSigner<Hmac<Sha256>> {
        let credentials = Credentials::new(KEY, "test-only-secret").with_passphrase("test-only-passphrase");
        let material = Material::of("test", &credentials);
        PrehashHmacSigner::new(&EVERY_PART, &material, KeyedMac::new(SECRET).unwrap()).unwrap()
    }

    fn independent(message: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET).unwrap();
        mac.update(message);
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, mac.finalize().into_bytes())
    }

    #[test]
    fn every_part_is_signed_as_documented_and_the_headers_are_set() {
        let mut request = http::Request::post("https://h/a%20b?x=%2B+1&y")
            .body(Bytes::from_static(b"{}"))
            .unwrap();
        let mut explanation = Explanation::default();
        signer()
            .sign(
                &mut request,
                &SigningContext::at_millis(1_700_000_000_999),
                &mut explanation,
            )
            .unwrap();
        let body_hash = hex::encode(Sha512::digest(b"{}"));
        let expected = format!("1700000000|POST|/a%20b|/a%20b?x=%2B+1&y|/a b?x=++1&y|x=+ 1&y|{{}}|{body_hash}");
        assert_eq!(explanation.signed(), expected.as_bytes());
        let headers = request.headers();
        assert_eq!(headers["x-sign"], independent(expected.as_bytes()).as_str());
        assert_eq!(headers["x-passphrase"], independent(b"test-only-passphrase").as_str());
        assert_eq!(headers["x-time"], "1700000000");
        assert_eq!(headers["x-key"], KEY);
        assert_eq!(headers["x-version"], "2");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        for sensitive in ["x-sign", "x-passphrase", "x-key"] {
            assert!(headers[sensitive].is_sensitive(), "{sensitive}");
        }
    }

    #[test]
    fn signing_without_a_trace_gives_the_same_signature() {
        let request = || http::Request::get("/a?b=%41").body(Bytes::new()).unwrap();
        let context = SigningContext::at_millis(5_000);
        let (mut traced, mut untraced) = (request(), request());
        signer()
            .sign(&mut traced, &context, &mut Explanation::default())
            .unwrap();
        signer()
            .sign(&mut untraced, &context, &mut crate::sign::NoTrace)
            .unwrap();
        assert_eq!(traced.headers()["x-sign"], untraced.headers()["x-sign"]);
        assert!(
            !untraced.headers().contains_key(header::CONTENT_TYPE),
            "no body, no content type"
        );
    }

    #[test]
    fn a_lower_case_extension_method_is_signed_in_upper_case() {
        assert_eq!(upper_case_method(&Method::from_bytes(b"purge").unwrap()), "PURGE");
        assert!(matches!(upper_case_method(&Method::GET), Cow::Borrowed("GET")));
    }

    #[test]
    fn a_url_without_a_path_is_refused_with_an_example() {
        let mut request = http::Request::get("*").body(Bytes::new()).unwrap();
        let err = signer()
            .sign(&mut request, &SigningContext::at_millis(1), &mut crate::sign::NoTrace)
            .unwrap_err();
        assert!(err.to_string().contains("/v1/orders"), "{err}");
    }

    #[test]
    fn debug_shows_the_exchange_and_the_fingerprint_only() {
        let shown = format!("{:?}", signer());
        assert_eq!(shown, "PrehashHmacSigner { exchange: \"test\", api_key: …6789, .. }");
    }
}
