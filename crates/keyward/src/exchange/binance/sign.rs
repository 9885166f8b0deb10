//! Binance `SIGNED` requests: HMAC-SHA256 or Ed25519 over the parameters as sent.

use crate::{
    Credentials,
    credentials::{ApiKey, CredentialError, ExposeSecret},
    sign::{
        EncodedSignature, KeyedMac, Material, SignError, SignTrace, SignatureEncoding, Signer, SigningContext,
        TimestampFormat, Whitespace, prehash::Prehash,
    },
};
use base64::Engine as _;
use bytes::Bytes;
use ed25519_dalek::{SigningKey, pkcs8::DecodePrivateKey};
use hmac::{Hmac, Mac};
use http::{HeaderName, HeaderValue, Uri, header, uri::PathAndQuery};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::Sha256;
use std::fmt;

const EXCHANGE: &str = "binance";
static API_KEY_HEADER: HeaderName = HeaderName::from_static("x-mbx-apikey");
/// The length of a hex HMAC-SHA256.
const HEX_SIGNATURE_LEN: usize = 64;
const PKCS8_PEM_HEADER: &str = "-----BEGIN PRIVATE KEY-----";
const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// The key material of a Binance API key, prepared once.
enum SigningMaterial {
    /// An HMAC key: the MAC state already keyed with the secret, cloned per request.
    Hmac(KeyedMac<Hmac<Sha256>>),
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
                let mut mac = mac.start();
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

impl BinanceSigner {
    /// How long the signature is as a parameter value, when that is known before signing: a
    /// buffer of exactly the final size becomes `Bytes` without another allocation. (An Ed25519
    /// signature, rare and slow anyway, makes room for itself.)
    fn signature_len(&self) -> usize {
        if self.is_ed25519() { 0 } else { HEX_SIGNATURE_LEN }
    }

    /// Signs `query ‖ body` (the "totalParams" Binance verifies), reporting both to `trace`.
    fn signature(&self, query: &[u8], body: &[u8], trace: &mut dyn SignTrace) -> Result<EncodedSignature, SignError> {
        match &self.material {
            SigningMaterial::Hmac(mac) => {
                let mut prehash = Prehash::new(mac.start(), b"", trace);
                prehash.part("query", query);
                prehash.part("body", body);
                prehash.finish(SignatureEncoding::LowerHex)
            }
            SigningMaterial::Ed25519(key) => {
                let total_params = [query, body].concat();
                trace.part("query", query);
                trace.part("body", body);
                trace.string_to_sign(&total_params);
                EncodedSignature::encode(
                    &ed25519_dalek::Signer::sign(key.as_ref(), &total_params).to_bytes(),
                    SignatureEncoding::Base64,
                )
            }
        }
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
        let query = request.uri().query().unwrap_or("").as_bytes();
        let body = request.body();
        let (in_query, in_body) = (Params::scan(query), Params::scan(body));
        if in_query.signature || in_body.signature {
            return Err(SignError::InvalidRequest(
                "the request already has a `signature` parameter; remove it and let keyward sign the request".into(),
            ));
        }
        let timestamp = context.timestamp(TimestampFormat::UnixMillis);
        let timestamp = (!in_query.timestamp && !in_body.timestamp).then_some(timestamp.as_bytes());

        // Binance wants the signature after everything it covers, and one place for both: the
        // body when it carries parameters, otherwise the query string. Either is built once, at
        // its final size, and signed where it lies.
        if body.is_empty() {
            let path = request.uri().path().as_bytes();
            let signed_len = ParamWriter::signed_len(query, query.len(), timestamp, self.signature_len());
            let mut target = Vec::with_capacity(path.len() + 1 + signed_len);
            target.extend_from_slice(path);
            target.push(b'?');
            let mut params = ParamWriter::new(&mut target);
            params.extend(query);
            if let Some(timestamp) = timestamp {
                params.append(b"timestamp=", timestamp);
            }
            let signature = self.signature(params.written(), b"", trace)?;
            params.append_signature(&signature, self.is_ed25519());
            let target = PathAndQuery::from_maybe_shared(Bytes::from(target))
                .map_err(|err| SignError::InvalidRequest(format!("the signed URL is not valid: {err}")))?;
            *request.uri_mut() = with_target(request.uri(), target)?;
        } else {
            let encoded_len = body.len() + 2 * body.iter().filter(|byte| !byte.is_ascii()).count();
            let mut signed_body = Vec::with_capacity(ParamWriter::signed_len(
                body,
                encoded_len,
                timestamp,
                self.signature_len(),
            ));
            let mut params = ParamWriter::new(&mut signed_body);
            params.extend_percent_encoding_non_ascii(body);
            if let Some(timestamp) = timestamp {
                params.append(b"timestamp=", timestamp);
            }
            let signature = self.signature(query, params.written(), trace)?;
            params.append_signature(&signature, self.is_ed25519());
            if !request.headers().contains_key(header::CONTENT_TYPE) {
                request
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static(FORM_CONTENT_TYPE));
            }
            *request.body_mut() = Bytes::from(signed_body);
        }
        request
            .headers_mut()
            .insert(&API_KEY_HEADER, self.api_key_header.clone());
        Ok(())
    }
}

/// Which of the parameters the signer adds a parameter list (`a=1&b=2`) already has.
#[derive(Default)]
struct Params {
    signature: bool,
    timestamp: bool,
}

impl Params {
    fn scan(params: &[u8]) -> Self {
        let mut found = Self::default();
        let mut rest = params;
        loop {
            // A parameter is named `name` when it starts with it and then ends or has its `=`.
            let named =
                |name: &[u8]| rest.starts_with(name) && matches!(rest.get(name.len()), None | Some(b'=' | b'&'));
            found.signature |= named(b"signature");
            found.timestamp |= named(b"timestamp");
            match rest.iter().position(|&byte| byte == b'&') {
                Some(separator) => rest = &rest[separator + 1..],
                None => return found,
            }
        }
    }
}

/// Appends to the parameter list that starts at the end of `buffer` as it is given (after a
/// path's `?`, or at the start of a body).
struct ParamWriter<'b> {
    buffer: &'b mut Vec<u8>,
    start: usize,
}

impl<'b> ParamWriter<'b> {
    fn new(buffer: &'b mut Vec<u8>) -> Self {
        let start = buffer.len();
        Self { buffer, start }
    }

    /// The length of the parameter list `params` (`encoded_len` once copied) after the signer
    /// appends `timestamp` (if given) and a signature of `signature_len` characters.
    fn signed_len(params: &[u8], encoded_len: usize, timestamp: Option<&[u8]>, signature_len: usize) -> usize {
        let mut needs_separator = !params.is_empty() && !params.ends_with(b"&");
        let mut len = encoded_len;
        if let Some(timestamp) = timestamp {
            len += usize::from(needs_separator) + "timestamp=".len() + timestamp.len();
            needs_separator = true;
        }
        len + usize::from(needs_separator) + "signature=".len() + signature_len
    }

    /// The parameters written so far.
    fn written(&self) -> &[u8] {
        &self.buffer[self.start..]
    }

    fn extend(&mut self, params: &[u8]) {
        self.buffer.extend_from_slice(params);
    }

    /// Copies `params`, percent-encoding (UTF-8, uppercase hex) every non-ASCII byte: Binance
    /// verifies the percent-encoded form, so that is the form that is signed and sent.
    fn extend_percent_encoding_non_ascii(&mut self, params: &[u8]) {
        for run in params.split_inclusive(|byte| !byte.is_ascii()) {
            match run.split_last() {
                Some((&last, ascii)) if !last.is_ascii() => {
                    self.buffer.extend_from_slice(ascii);
                    let mut hex_buf = [0u8; 2];
                    // Two output bytes for one input byte: cannot fail.
                    let _ = hex::encode_to_slice([last], &mut hex_buf);
                    self.buffer.push(b'%');
                    self.buffer.extend(hex_buf.iter().map(u8::to_ascii_uppercase));
                }
                _ => self.buffer.extend_from_slice(run),
            }
        }
    }

    /// Appends `name` followed by `value`, after a `&` unless the list is empty or ends in one.
    fn append(&mut self, name: &[u8], value: &[u8]) {
        if !self.written().is_empty() && !self.written().ends_with(b"&") {
            self.buffer.push(b'&');
        }
        self.buffer.extend_from_slice(name);
        self.buffer.extend_from_slice(value);
    }

    /// Appends `signature=`: hex as it is; base64 (`is_base64`) with its `+`, `/` and `=`
    /// escaped, as in any parameter.
    fn append_signature(&mut self, signature: &EncodedSignature, is_base64: bool) {
        if !is_base64 {
            self.append(b"signature=", signature.as_bytes());
            return;
        }
        self.append(b"signature=", b"");
        for piece in utf8_percent_encode(signature.as_str(), NON_ALPHANUMERIC) {
            self.buffer.extend_from_slice(piece.as_bytes());
        }
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
            .as_bytes()
            .trim_ascii_start()
            .get(..FORM_CONTENT_TYPE.len())
            .is_some_and(|essence| essence.eq_ignore_ascii_case(FORM_CONTENT_TYPE.as_bytes()));
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

/// `uri` with its path and query replaced by `target`.
fn with_target(uri: &Uri, target: PathAndQuery) -> Result<Uri, SignError> {
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(target);
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
    fn signed_parameters_are_sized_exactly_up_front() {
        let signature = EncodedSignature::encode(&[0xab; 32], SignatureEncoding::LowerHex).unwrap();
        let cases: [(&[u8], Option<&[u8]>); 5] = [
            (b"", Some(b"1")),
            (b"a=1", Some(b"1499827319559")),
            (b"a=1&", Some(b"7")),
            (b"timestamp=1", None),
            (b"a=%C3%A9&timestamp=1&", None),
        ];
        for (params, timestamp) in cases {
            let mut buffer = b"/api/v3/order?".to_vec();
            let mut writer = ParamWriter::new(&mut buffer);
            writer.extend(params);
            if let Some(timestamp) = timestamp {
                writer.append(b"timestamp=", timestamp);
            }
            writer.append_signature(&signature, false);
            let expected = ParamWriter::signed_len(params, params.len(), timestamp, HEX_SIGNATURE_LEN);
            assert_eq!(writer.written().len(), expected, "{}", String::from_utf8_lossy(params));
        }
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
