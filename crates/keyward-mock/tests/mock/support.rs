//! Hand-written signing primitives and an HTTP helper. Deliberately independent of the mock's
//! own verification code: each test signs the way the exchange's documentation says.

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use hmac::{Hmac, Mac};
use serde_json::Value;
use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

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

/// A time a test moves by hand, shared with the mock through `Builder::time_source`.
#[derive(Debug, Clone)]
pub(crate) struct ManualTime(Arc<AtomicI64>);

impl ManualTime {
    pub(crate) fn at(unix_ms: i64) -> Self {
        Self(Arc::new(AtomicI64::new(unix_ms)))
    }

    pub(crate) fn source(&self) -> Arc<dyn Fn() -> i64 + Send + Sync> {
        let now = Arc::clone(&self.0);
        Arc::new(move || now.load(Ordering::SeqCst))
    }

    pub(crate) fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    pub(crate) fn set(&self, unix_ms: i64) {
        self.0.store(unix_ms, Ordering::SeqCst);
    }

    pub(crate) fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

/// What came back.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) json: Value,
    pub(crate) date: Option<String>,
    pub(crate) headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// A header's value as text; panics (failing the test) when it is missing.
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
            .to_str()
            .unwrap()
    }

    /// A header's value as a number.
    pub(crate) fn header_number(&self, name: &str) -> i64 {
        self.header(name).parse().unwrap()
    }
}

pub(crate) async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let date = headers.get("date").map(|value| value.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    Answer {
        status,
        json,
        date,
        headers,
    }
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::new()
}
