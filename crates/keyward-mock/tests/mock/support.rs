//! Hand-written signing primitives and an HTTP helper. Deliberately independent of the mock's
//! own verification code: each test signs the way the exchange's documentation says.

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use hmac::{Hmac, Mac};
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) const KEY: &str = "test-only-key-0001";
pub(crate) const SECRET: &str = "test-only-secret-0001";
pub(crate) const WRONG_SECRET: &str = "test-only-secret-9999";
pub(crate) const PASSPHRASE: &str = "test-only-passphrase";
pub(crate) const UNKNOWN_KEY: &str = "test-only-key-unknown";

pub(crate) fn local_now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// The clock offset that puts the mock's clock at `target_ms` now.
pub(crate) fn offset_to(target_ms: i64) -> i64 {
    target_ms - local_now_ms()
}

pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

pub(crate) fn hmac_sha512(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha512>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

pub(crate) fn b64_decode(text: &str) -> Vec<u8> {
    BASE64.decode(text).unwrap()
}

/// What came back.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) json: Value,
    pub(crate) date: Option<String>,
}

pub(crate) async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let date = response
        .headers()
        .get("date")
        .map(|value| value.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    Answer { status, json, date }
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::new()
}
