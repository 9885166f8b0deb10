//! Every signing example the exchanges published (`testdata/vectors.json`) that has an
//! `expected_output` is reproduced byte for byte through keyward's public signers: the same code
//! path the signing layer uses. A vector this file does not know fails the test, so a new entry
//! cannot be skipped silently.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use keyward::{
    Credentials,
    exchange::{self, binance::BinanceSigner},
    sign::{Explanation, NoTrace, SigningContext},
};
use serde_json::Value;

fn vectors() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn text<'a>(vector: &'a Value, field: &str) -> &'a str {
    vector["inputs"][field]
        .as_str()
        .unwrap_or_else(|| panic!("{}: no input {field}", vector["id"]))
}

fn sign(
    name: &str,
    credentials: &Credentials,
    mut request: http::Request<Bytes>,
    at: SigningContext,
) -> http::Request<Bytes> {
    let signer = exchange::by_name(name).unwrap().signer(credentials).unwrap();
    signer.sign(&mut request, &at, &mut NoTrace).unwrap();
    request
}

fn header(request: &http::Request<Bytes>, name: &str) -> String {
    request.headers()[name].to_str().unwrap().to_owned()
}

/// What keyward produces for `vector`.
fn reproduce(vector: &Value) -> String {
    let id = vector["id"].as_str().unwrap();
    match id {
        "binance-rest-hmac-ascii" | "binance-rest-hmac-nonascii-percent-encoded" | "binance-hmac-timestamp-only" => {
            let credentials = Credentials::new("test-only-binance-key-0001", text(vector, "secretKey"));
            // The payload already carries its timestamp: the signer keeps it and appends the signature.
            let url = format!(
                "https://api.binance.com/api/v3/order?{}",
                text(vector, "signature_payload")
            );
            let signed = sign(
                "binance",
                &credentials,
                http::Request::post(url).body(Bytes::new()).unwrap(),
                SigningContext::at_millis(0),
            );
            let query = signed.uri().query().unwrap().to_owned();
            query.rsplit_once("&signature=").unwrap().1.to_owned()
        }
        "binance-wsapi-hmac-ascii" | "binance-wsapi-hmac-nonascii-raw-utf8" | "binance-wsapi-session-logon" => {
            let payload = text(vector, "signature_payload");
            let params = payload.split('&').map(|pair| pair.split_once('=').unwrap());
            let rebuilt = exchange::binance::websocket_payload(params);
            assert_eq!(rebuilt, payload, "{id}: the WebSocket payload is rebuilt as published");
            let signer = BinanceSigner::new(&Credentials::new(
                "test-only-binance-key-0001",
                text(vector, "secretKey"),
            ))
            .unwrap();
            signer.sign_payload(rebuilt.as_bytes())
        }
        "binance-fix-logon-ed25519" => {
            let signer = BinanceSigner::new(&Credentials::new(
                "test-only-binance-key-0001",
                text(vector, "private_key_pem_pkcs8"),
            ))
            .unwrap();
            assert!(signer.is_ed25519());
            let fields =
                ["MsgType", "SenderCompID", "TargetCompID", "MsgSeqNum", "SendingTime"].map(|f| text(vector, f));
            signer.sign_payload(fields.join("\x01").as_bytes())
        }
        "kraken-spot-rest-addorder" => {
            let credentials = Credentials::new("test-only-kraken-key-0001", text(vector, "private_key_b64"));
            let url = format!("https://api.kraken.com{}", text(vector, "uri_path"));
            let request = http::Request::post(url)
                .body(Bytes::from(text(vector, "encoded_payload").to_owned()))
                .unwrap();
            let nonce = text(vector, "nonce").parse().unwrap();
            header(
                &sign(
                    "kraken",
                    &credentials,
                    request,
                    SigningContext::at_millis(nonce).with_nonce(nonce),
                ),
                "API-Sign",
            )
        }
        _ if id.starts_with("bitmex-") => {
            let credentials = Credentials::new(text(vector, "apiKey"), text(vector, "apiSecret"));
            let url = format!("https://www.bitmex.com{}", text(vector, "path"));
            let request = http::Request::builder()
                .method(text(vector, "verb"))
                .uri(url)
                .body(Bytes::from(text(vector, "data").to_owned()))
                .unwrap();
            // `api-expires` is the signing moment plus the signer's fixed window.
            let expires: u64 = text(vector, "expires_or_nonce").parse().unwrap();
            let at = SigningContext::at_millis((expires - exchange::bitmex::EXPIRES_AFTER_SECS) * 1000);
            let signed = sign("bitmex", &credentials, request, at);
            assert_eq!(header(&signed, "api-expires"), expires.to_string());
            header(&signed, "api-signature")
        }
        "gate-v4-get-futures-orders" | "gate-v4-post-futures-orders" => {
            let credentials = Credentials::new(text(vector, "key"), text(vector, "secret"));
            let query = text(vector, "query");
            let url = if query.is_empty() {
                format!("https://api.gateio.ws{}", text(vector, "url"))
            } else {
                format!("https://api.gateio.ws{}?{query}", text(vector, "url"))
            };
            let request = http::Request::builder()
                .method(text(vector, "method"))
                .uri(url)
                .body(Bytes::from(text(vector, "body").to_owned()))
                .unwrap();
            let at = SigningContext::at_millis(text(vector, "timestamp").parse::<u64>().unwrap() * 1000);
            header(&sign("gate", &credentials, request, at), "SIGN")
        }
        "gate-v4-post-body-sha512-intermediate" => {
            // The body hash Gate puts in its string-to-sign, as keyward's signer computes it.
            let credentials = Credentials::new("key", "secret");
            let signer = exchange::by_name("gate").unwrap().signer(&credentials).unwrap();
            let mut request = http::Request::post("https://api.gateio.ws/api/v4/futures/orders")
                .body(Bytes::from(text(vector, "body").to_owned()))
                .unwrap();
            let mut explanation = Explanation::default();
            signer
                .sign(&mut request, &SigningContext::at_millis(0), &mut explanation)
                .unwrap();
            let signed = String::from_utf8(explanation.signed().to_vec()).unwrap();
            signed.split('\n').nth(3).unwrap().to_owned()
        }
        "gemini-order-status" => {
            // keyward does not integrate Gemini. Its published vector still checks the HMAC
            // primitive (RustCrypto `hmac`) and hex encoding every signer here is built on.
            use hmac::{Hmac, Mac};
            let mut mac = Hmac::<sha2::Sha384>::new_from_slice(text(vector, "api_secret").as_bytes()).unwrap();
            mac.update(text(vector, "x_gemini_payload_b64").as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        other => panic!("vector `{other}` has an expected output but no reproduction: add one"),
    }
}

#[test]
fn every_published_vector_with_an_output_reproduces() {
    let mut reproduced = 0;
    for vector in vectors() {
        let Some(expected) = vector["expected_output"].as_str() else {
            continue;
        };
        assert_eq!(reproduce(&vector), expected, "{}", vector["id"]);
        reproduced += 1;
    }
    assert_eq!(reproduced, 17, "every vector with an expected output is reproduced");
}

#[test]
fn bybit_string_to_sign_matches_the_documentation() {
    for vector in vectors()
        .iter()
        .filter(|v| v["id"].as_str().is_some_and(|id| id.starts_with("bybit-")))
    {
        let expected = text(vector, "string_to_sign");
        let timestamp: u64 = expected[..13].parse().unwrap();
        let rest = &expected[13 + text(vector, "api_key").len() + text(vector, "recv_window").len()..];
        let request = match text(vector, "method") {
            "GET" => http::Request::get(format!("https://api.bybit.com/v5/order/realtime?{rest}")).body(Bytes::new()),
            _ => http::Request::post("https://api.bybit.com/v5/order/create").body(Bytes::from(rest.to_owned())),
        }
        .unwrap();
        let credentials = Credentials::new(text(vector, "api_key"), "test-only-bybit-secret");
        let signer = exchange::by_name("bybit").unwrap().signer(&credentials).unwrap();
        let mut request = request;
        let mut explanation = Explanation::default();
        signer
            .sign(&mut request, &SigningContext::at_millis(timestamp), &mut explanation)
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(explanation.signed()),
            expected,
            "{}",
            vector["id"]
        );
    }
}
