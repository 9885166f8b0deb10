//! Binance `SIGNED` requests: HMAC-SHA256 or Ed25519 over the parameters as sent.

use crate::{
    Credentials,
    credentials::{ApiKey, CredentialError, ExposeSecret},
    sign::{
        EncodedSignature, Material, SignError, SignTrace, SignatureEncoding, Signer, SigningContext, Whitespace,
        prehash,
    },
};
use base64::Engine as _;
use bytes::Bytes;
use ed25519_dalek::{SigningKey, pkcs8::DecodePrivateKey};
use hmac::{Hmac, Mac};
use http::{HeaderValue, Uri, header, uri::PathAndQuery};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::Sha256;
use std::fmt;

const EXCHANGE: &str = "binance";
const API_KEY_HEADER: &str = "x-mbx-apikey";
const PKCS8_PEM_HEADER: &str = "-----BEGIN PRIVATE KEY-----";
const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// The key material of a Binance API key, prepared once.
enum SigningMaterial {
    /// An HMAC key: the MAC state already keyed with the secret, cloned per request.
    Hmac(Hmac<Sha256>),
    /// An Ed25519 key, parsed from its PKCS#8 PEM form.
    Ed25519(Box<SigningKey>),
}

/// Signs Binance `SIGNED` (TRADE and USER_DATA) requests.
///
/// The signer appends `timestamp` (unless the request already carries one) and `signature` to
/// the body when the body has parameters, otherwise to the query string, and sends the API key
/// in `X-MBX-APIKEY`. The signed payload is the query string followed directly by the body, as
/// Binance defines it; non-ASCII bytes in the body are percent-encoded first, in the body that is
/// sent too, because Binance verifies the percent-encoded form.
///
/// HMAC keys produce a lowercase hex signature. A secret that is a PKCS#8 PEM
/// (`-----BEGIN PRIVATE KEY-----`) is an Ed25519 key; its signature is base64, percent-encoded
/// where it is placed. RSA keys are not supported.
///
/// # Example
///
/// ```
/// use bytes::Bytes;
/// use keyward::{Credentials, exchange::binance::BinanceSigner, sign::{NoTrace, Signer, SigningContext}};
///
/// // Binance's documented example key and secret.
/// let creds = Credentials::new(
///     "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
///     "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
/// );
/// let signer = BinanceSigner::new(&creds)?;
/// let mut request = http::Request::post("https://api.binance.com/api/v3/order")
///     .body(Bytes::from_static(b"symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000"))?;
/// signer.sign(&mut request, &SigningContext::at_millis(1_499_827_319_559), &mut NoTrace)?;
/// assert!(request.body().ends_with(
///     b"&timestamp=1499827319559&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct BinanceSigner {
    api_key: ApiKey,
    api_key_header: HeaderValue,
    material: SigningMaterial,
}

impl BinanceSigner {
    /// Prepares a signer: keys the HMAC, or parses the Ed25519 PEM, once.
    ///
    /// # Errors
    ///
    /// [`CredentialError::InvalidSecret`] for an empty secret, a PEM that is not a PKCS#8 Ed25519
    /// key (RSA keys are not supported), or an API key that cannot travel in a header.
    pub fn new(credentials: &Credentials) -> Result<Self, CredentialError> {
        let prepared = Material::of(EXCHANGE, credentials);
        let material = if prepared.secret_is_pem() {
            SigningMaterial::Ed25519(Box::new(parse_ed25519_pem(
                &prepared,
                credentials.secret().expose_secret(),
            )?))
        } else {
            SigningMaterial::Hmac(prepared.hmac(prepared.secret(Whitespace::Keep)?.as_bytes())?)
        };
        Ok(Self {
            api_key: credentials.api_key().clone(),
            api_key_header: prepared.api_key_header()?,
            material,
        })
    }

    /// Signs an arbitrary payload and returns the signature as Binance expects it in a JSON
    /// message: lowercase hex for HMAC keys, base64 for Ed25519 keys (not percent-encoded).
    ///
    /// This is the primitive behind the WebSocket API (`params.signature`, over
    /// [`websocket_payload`]) and the FIX API (`RawData` of Logon, over the SOH-joined header
    /// fields).
    ///
    /// # Example
    ///
    /// ```
    /// use keyward::{Credentials, exchange::binance::{BinanceSigner, websocket_payload}};
    ///
    /// // Binance's documented example secret; the key is the WebSocket example's `apiKey`.
    /// let creds = Credentials::new(
    ///     "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
    ///     "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
    /// );
    /// let payload = websocket_payload([
    ///     ("timestamp", "1649729878532"),
    ///     ("apiKey", "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"),
    /// ]);
    /// assert_eq!(
    ///     BinanceSigner::new(&creds)?.sign_payload(payload.as_bytes()),
    ///     "1cf54395b336b0a9727ef27d5d98987962bc47aca6e13fe978612d0adee066ed",
    /// );
    /// # Ok::<(), keyward::credentials::CredentialError>(())
    /// ```
    pub fn sign_payload(&self, payload: &[u8]) -> String {
        match &self.material {
            SigningMaterial::Hmac(mac) => {
                let mut mac = mac.clone();
                mac.update(payload);
                hex::encode(mac.finalize().into_bytes())
            }
            SigningMaterial::Ed25519(key) => {
                let signature = ed25519_dalek::Signer::sign(key.as_ref(), payload);
                base64::engine::general_purpose::STANDARD.encode(signature.to_bytes())
            }
        }
    }

    /// Whether this signer holds an Ed25519 key (otherwise an HMAC key).
    pub fn is_ed25519(&self) -> bool {
        matches!(self.material, SigningMaterial::Ed25519(_))
    }
}

/// The WebSocket API signature payload: every parameter except `signature`, sorted by name,
/// joined as `name=value` with `&`, values in raw UTF-8 (unlike REST, nothing is
/// percent-encoded).
///
/// # Example
///
/// ```
/// use keyward::exchange::binance::websocket_payload;
///
/// assert_eq!(websocket_payload([("symbol", "１２３"), ("apiKey", "k"), ("signature", "x")]), "apiKey=k&symbol=１２３");
/// ```
pub fn websocket_payload<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut params: Vec<(&str, &str)> = params.into_iter().filter(|(name, _)| *name != "signature").collect();
    params.sort_by(|a, b| a.0.cmp(b.0));
    let mut payload = String::new();
    for (index, (name, value)) in params.into_iter().enumerate() {
        if index > 0 {
            payload.push('&');
        }
        payload.push_str(name);
        payload.push('=');
        payload.push_str(value);
    }
    payload
}

impl fmt::Debug for BinanceSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BinanceSigner")
            .field("api_key", &self.api_key.fingerprint())
            .field("scheme", &if self.is_ed25519() { "ed25519" } else { "hmac-sha256" })
            .finish()
    }
}

impl Signer for BinanceSigner {
    fn sign(
        &self,
        request: &mut http::Request<Bytes>,
        context: &SigningContext,
        trace: &mut dyn SignTrace,
    ) -> Result<(), SignError> {
        check_form_encoded(request)?;
        let mut query = request.uri().query().unwrap_or("").to_owned();
        let mut body = percent_encode_non_ascii(request.body());
        if has_param(query.as_bytes(), "signature") || has_param(&body, "signature") {
            return Err(SignError::InvalidRequest(
                "the request already has a `signature` parameter; remove it and let keyward sign the request".into(),
            ));
        }
        // Binance wants the signature after everything it covers, and one place for both: the
        // body when it carries parameters, otherwise the query string.
        let into_body = !body.is_empty();
        if !has_param(query.as_bytes(), "timestamp") && !has_param(&body, "timestamp") {
            let timestamp = format!("timestamp={}", context.unix_millis());
            if into_body {
                append_param(&mut body, timestamp.as_bytes());
            } else {
                append_param_str(&mut query, &timestamp);
            }
        }

        let total_params = prehash::concat(trace, &[("query", query.as_bytes()), ("body", &body)]);
        let signature = match &self.material {
            SigningMaterial::Hmac(mac) => EncodedSignature::mac(mac, &total_params, SignatureEncoding::LowerHex)?,
            SigningMaterial::Ed25519(key) => EncodedSignature::encode(
                &ed25519_dalek::Signer::sign(key.as_ref(), &total_params).to_bytes(),
                SignatureEncoding::Base64,
            )?,
        };
        // Hex passes through unchanged; base64's `+`, `/` and `=` must be escaped in a parameter
        // (three bytes each at most, so this is the only allocation).
        let mut signature_param = String::with_capacity("signature=".len() + 3 * signature.as_str().len());
        signature_param.push_str("signature=");
        signature_param.extend(utf8_percent_encode(signature.as_str(), NON_ALPHANUMERIC));

        if into_body {
            append_param(&mut body, signature_param.as_bytes());
            if !request.headers().contains_key(header::CONTENT_TYPE) {
                request
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static(FORM_CONTENT_TYPE));
            }
        } else {
            append_param_str(&mut query, &signature_param);
        }
        let uri = with_query(request.uri(), &query)?;
        *request.uri_mut() = uri;
        *request.body_mut() = Bytes::from(body);
        request
            .headers_mut()
            .insert(API_KEY_HEADER, self.api_key_header.clone());
        Ok(())
    }
}

fn parse_ed25519_pem(material: &Material<'_>, secret: &str) -> Result<SigningKey, CredentialError> {
    // PEMs pasted into a single-line environment variable often arrive with literal `\n`.
    let unescaped;
    let pem = if !secret.contains('\n') && secret.contains("\\n") {
        unescaped = secret.replace("\\n", "\n");
        unescaped.as_str()
    } else {
        secret
    };
    let pem = pem.trim();
    if !pem.starts_with(PKCS8_PEM_HEADER) {
        return Err(material.invalid(
            "it is a PEM but not a PKCS#8 `BEGIN PRIVATE KEY` block; only Ed25519 keys are supported (RSA keys are not)",
        ));
    }
    SigningKey::from_pkcs8_pem(pem).map_err(|_| {
        material.invalid("it looks like a PKCS#8 PEM but is not an Ed25519 private key (RSA keys are not supported)")
    })
}

/// Binance signs form-encoded parameters; a JSON body would be signed but never understood.
fn check_form_encoded(request: &http::Request<Bytes>) -> Result<(), SignError> {
    if let Some(content_type) = request.headers().get(header::CONTENT_TYPE) {
        let is_form = content_type
            .to_str()
            .map(|value| value.trim_start().to_ascii_lowercase().starts_with(FORM_CONTENT_TYPE))
            .unwrap_or(false);
        if !is_form && !request.body().is_empty() {
            return Err(SignError::InvalidRequest(format!(
                "Binance signed endpoints take `{FORM_CONTENT_TYPE}` parameters; send the body as `name=value&...` with that Content-Type"
            )));
        }
    }
    if matches!(
        request.body().iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    ) {
        return Err(SignError::InvalidRequest(
            "the body is JSON, but Binance signed endpoints take form-encoded parameters; send it as `name=value&...`"
                .into(),
        ));
    }
    Ok(())
}

/// Percent-encodes (UTF-8, uppercase hex) every non-ASCII byte, leaving everything else as sent.
fn percent_encode_non_ascii(body: &[u8]) -> Vec<u8> {
    let extra = body.iter().filter(|b| !b.is_ascii()).count() * 2;
    let mut encoded = Vec::with_capacity(body.len() + extra);
    for &byte in body {
        if byte.is_ascii() {
            encoded.push(byte);
        } else {
            let mut hex_buf = [0u8; 2];
            // Two output bytes for one input byte: cannot fail.
            let _ = hex::encode_to_slice([byte], &mut hex_buf);
            encoded.push(b'%');
            encoded.extend(hex_buf.iter().map(u8::to_ascii_uppercase));
        }
    }
    encoded
}

/// Whether `params` (`a=1&b=2`) has a parameter named exactly `name`.
fn has_param(params: &[u8], name: &str) -> bool {
    params
        .split(|&b| b == b'&')
        .any(|pair| pair.split(|&b| b == b'=').next() == Some(name.as_bytes()))
}

fn append_param(params: &mut Vec<u8>, param: &[u8]) {
    if !params.is_empty() && !params.ends_with(b"&") {
        params.push(b'&');
    }
    params.extend_from_slice(param);
}

fn append_param_str(params: &mut String, param: &str) {
    if !params.is_empty() && !params.ends_with('&') {
        params.push('&');
    }
    params.push_str(param);
}

fn with_query(uri: &Uri, query: &str) -> Result<Uri, SignError> {
    let path = uri.path();
    let path_and_query = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(
        PathAndQuery::try_from(path_and_query)
            .map_err(|err| SignError::InvalidRequest(format!("the signed URL is not valid: {err}")))?,
    );
    Uri::from_parts(parts).map_err(|err| SignError::InvalidRequest(format!("the signed URL is not valid: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::{Explanation, NoTrace};

    // Binance's published documentation example key pair (testdata/vectors.json), not a credential.
    const DOC_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
    const DOC_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
    // Binance's published FIX-API Ed25519 example key (testdata/vectors.json).
    const DOC_ED25519_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n-----END PRIVATE KEY-----\n";

    fn signer() -> BinanceSigner {
        BinanceSigner::new(&Credentials::new(DOC_KEY, DOC_SECRET)).unwrap()
    }

    fn sign(signer: &BinanceSigner, request: &mut http::Request<Bytes>, millis: u64) -> Explanation {
        let mut explanation = Explanation::default();
        signer
            .sign(request, &SigningContext::at_millis(millis), &mut explanation)
            .unwrap();
        explanation
    }

    fn param<'a>(params: &'a str, name: &str) -> Option<&'a str> {
        params
            .split('&')
            .find_map(|pair| pair.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
    }

    fn body_str(request: &http::Request<Bytes>) -> &str {
        std::str::from_utf8(request.body()).unwrap()
    }

    #[test]
    fn vector_rest_hmac_ascii_in_body() {
        let mut request = http::Request::post("https://api.binance.com/api/v3/order")
            .body(Bytes::from_static(
                b"symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000",
            ))
            .unwrap();
        let explanation = sign(&signer(), &mut request, 1_499_827_319_559);
        assert_eq!(
            explanation.signed(),
            b"symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        );
        assert_eq!(
            param(body_str(&request), "signature"),
            Some("c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71")
        );
        assert_eq!(request.uri().query(), None);
        assert_eq!(request.headers()["x-mbx-apikey"], DOC_KEY);
        assert_eq!(request.headers()[header::CONTENT_TYPE], FORM_CONTENT_TYPE);
    }

    #[test]
    fn vector_rest_hmac_ascii_in_query() {
        let mut request = http::Request::post(
            "https://api.binance.com/api/v3/order?symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000",
        )
        .body(Bytes::new())
        .unwrap();
        sign(&signer(), &mut request, 1_499_827_319_559);
        assert_eq!(
            param(request.uri().query().unwrap(), "signature"),
            Some("c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71")
        );
        assert!(request.body().is_empty(), "an empty body stays empty");
        assert!(!request.headers().contains_key(header::CONTENT_TYPE));
    }

    #[test]
    fn vector_rest_hmac_mixed_query_and_body_concatenates_without_separator() {
        // Example 3 of Binance's request-security page ("mixed query string and request body").
        let mut request = http::Request::post(
            "https://api.binance.com/api/v3/order?symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC",
        )
        .body(Bytes::from_static(
            b"quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559",
        ))
        .unwrap();
        let explanation = sign(&signer(), &mut request, 42);
        assert_eq!(
            explanation.signed(),
            b"symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTCquantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        );
        assert_eq!(
            body_str(&request),
            "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559&signature=0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
        );
    }

    #[test]
    fn vector_rest_hmac_non_ascii_is_percent_encoded_before_signing() {
        let body = "symbol=１２３４５６&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000";
        let mut request = http::Request::post("/api/v3/order").body(Bytes::from(body)).unwrap();
        sign(&signer(), &mut request, 1_499_827_319_559);
        assert_eq!(
            body_str(&request),
            "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559&signature=e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
        );
    }

    #[test]
    fn vector_timestamp_only_query() {
        let mut request = http::Request::get("https://api.binance.com/api/v3/account")
            .body(Bytes::new())
            .unwrap();
        let explanation = sign(&signer(), &mut request, 1_578_963_600_000);
        assert_eq!(explanation.signed(), b"timestamp=1578963600000");
        assert_eq!(
            request.uri().to_string(),
            "https://api.binance.com/api/v3/account?timestamp=1578963600000&signature=d84e6641b1e328e7b418fff030caed655c266299c9355e36ce801ed14631eed4"
        );
    }

    #[test]
    fn vectors_websocket_api() {
        let signer = signer();
        let cases: [(&[(&str, &str)], &str); 3] = [
            (
                &[
                    ("symbol", "BTCUSDT"),
                    ("side", "SELL"),
                    ("type", "LIMIT"),
                    ("timeInForce", "GTC"),
                    ("quantity", "0.01000000"),
                    ("price", "52000.00"),
                    ("recvWindow", "100"),
                    ("timestamp", "1645423376532"),
                    ("apiKey", DOC_KEY),
                ],
                "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24",
            ),
            (
                &[
                    ("symbol", "１２３４５６"),
                    ("side", "BUY"),
                    ("type", "LIMIT"),
                    ("timeInForce", "GTC"),
                    ("quantity", "1.00000000"),
                    ("price", "0.10000000"),
                    ("recvWindow", "5000"),
                    ("timestamp", "1645423376532"),
                    ("apiKey", DOC_KEY),
                ],
                "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd",
            ),
            (
                &[("timestamp", "1649729878532"), ("apiKey", DOC_KEY)],
                "1cf54395b336b0a9727ef27d5d98987962bc47aca6e13fe978612d0adee066ed",
            ),
        ];
        for (params, expected) in cases {
            let payload = websocket_payload(params.iter().copied());
            assert_eq!(signer.sign_payload(payload.as_bytes()), expected, "{payload}");
        }
    }

    #[test]
    fn vector_fix_logon_ed25519() {
        let signer = BinanceSigner::new(&Credentials::new(DOC_KEY, DOC_ED25519_PEM)).unwrap();
        assert!(signer.is_ed25519());
        assert_eq!(
            signer.sign_payload(b"A\x01EXAMPLE\x01SPOT\x011\x0120240627-11:17:25.223"),
            "4MHXelVVcpkdwuLbl6n73HQUXUf1dse2PCgT1DYqW9w8AVZ1RACFGM+5UdlGPrQHrgtS3CvsRURC1oj73j8gCA=="
        );
    }

    #[test]
    fn ed25519_rest_signature_is_percent_encoded_base64_that_verifies() {
        let signer = BinanceSigner::new(&Credentials::new(DOC_KEY, DOC_ED25519_PEM)).unwrap();
        let mut request = http::Request::get("/api/v3/account?omitZeroBalances=true")
            .body(Bytes::new())
            .unwrap();
        let explanation = sign(&signer, &mut request, 1_578_963_600_000);
        let query = request.uri().query().unwrap();
        let encoded = param(query, "signature").unwrap();
        assert!(!encoded.contains(['+', '/', '=']), "{encoded}");
        let decoded = percent_encoding::percent_decode_str(encoded).decode_utf8().unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(decoded.as_bytes())
            .unwrap();
        let signature = ed25519_dalek::Signature::from_slice(&raw).unwrap();
        let SigningMaterial::Ed25519(key) = &signer.material else {
            panic!("expected an Ed25519 signer")
        };
        key.verifying_key()
            .verify_strict(explanation.signed(), &signature)
            .unwrap();
        assert_eq!(explanation.signed(), b"omitZeroBalances=true&timestamp=1578963600000");
    }

    #[test]
    fn ed25519_pem_with_escaped_newlines_is_accepted() {
        let single_line = DOC_ED25519_PEM.replace('\n', "\\n");
        assert!(
            BinanceSigner::new(&Credentials::new(DOC_KEY, single_line))
                .unwrap()
                .is_ed25519()
        );
    }

    #[test]
    fn existing_timestamp_is_kept_and_not_duplicated() {
        let mut request = http::Request::get("/api/v3/openOrders?timestamp=1&symbol=BTCUSDT")
            .body(Bytes::new())
            .unwrap();
        let explanation = sign(&signer(), &mut request, 1_578_963_600_000);
        assert_eq!(explanation.signed(), b"timestamp=1&symbol=BTCUSDT");
        let query = request.uri().query().unwrap();
        assert!(query.starts_with("timestamp=1&symbol=BTCUSDT&signature="), "{query}");
        assert_eq!(query.matches("timestamp=").count(), 1);
    }

    #[test]
    fn reserved_characters_in_query_are_signed_as_sent() {
        let mut request = http::Request::get("/sapi/v1/asset/assetDetail?asset=BTC%2BETH&note=a%20b%3Dc")
            .body(Bytes::new())
            .unwrap();
        let explanation = sign(&signer(), &mut request, 7);
        assert_eq!(explanation.signed(), b"asset=BTC%2BETH&note=a%20b%3Dc&timestamp=7");
        let mut mac = Hmac::<Sha256>::new_from_slice(DOC_SECRET.as_bytes()).unwrap();
        mac.update(explanation.signed());
        let expected = hex::encode(mac.finalize().into_bytes());
        assert_eq!(
            param(request.uri().query().unwrap(), "signature"),
            Some(expected.as_str())
        );
    }

    #[test]
    fn json_body_and_existing_signature_are_refused_with_a_fix() {
        let mut json = http::Request::post("/api/v3/order")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Bytes::from_static(b"{\"symbol\":\"BTCUSDT\"}"))
            .unwrap();
        let err = signer()
            .sign(&mut json, &SigningContext::at_millis(1), &mut NoTrace)
            .unwrap_err();
        assert!(err.to_string().contains("name=value"), "{err}");

        let mut signed = http::Request::get("/api/v3/account?timestamp=1&signature=abc")
            .body(Bytes::new())
            .unwrap();
        let err = signer()
            .sign(&mut signed, &SigningContext::at_millis(1), &mut NoTrace)
            .unwrap_err();
        assert!(err.to_string().contains("remove it"), "{err}");
    }

    #[test]
    fn bad_secrets_are_rejected_without_echoing_them() {
        let cases = [
            "",
            "-----BEGIN RSA PRIVATE KEY-----\ntest-only-secret-not-a-key\n-----END RSA PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\ntest-only-secret-not-a-key\n-----END PRIVATE KEY-----\n",
        ];
        for secret in cases {
            let err = BinanceSigner::new(&Credentials::new(DOC_KEY, secret)).unwrap_err();
            assert!(
                matches!(
                    err,
                    CredentialError::InvalidSecret {
                        exchange: "binance",
                        ..
                    }
                ),
                "{err}"
            );
            assert!(!err.to_string().contains("test-only-secret"), "{err}");
        }
    }

    #[test]
    fn debug_shows_only_the_fingerprint() {
        for secret in [DOC_SECRET, DOC_ED25519_PEM] {
            let shown = format!("{:?}", BinanceSigner::new(&Credentials::new(DOC_KEY, secret)).unwrap());
            assert!(shown.contains("…Eh8A"), "{shown}");
            assert!(!shown.contains(DOC_KEY), "{shown}");
            assert!(!shown.contains("NhqPtm"), "{shown}");
            assert!(!shown.contains("MC4CAQ"), "{shown}");
        }
    }
}
