//! What the mock exchange saw and did: every request with its verdict, and every order it
//! executed.

use crate::{credentials::KeyHint, faults::Fault};
use bytes::Bytes;
use std::fmt;

/// One request as the mock exchange received it, and what it decided.
///
/// `Debug` redacts the values of authentication headers (keys, signatures, passphrases), so a
/// failing test can print records without leaking them.
#[derive(Clone)]
pub struct RecordedRequest {
    /// The HTTP method.
    pub method: http::Method,
    /// The path, exactly as sent (still percent-encoded).
    pub path: String,
    /// The raw query string without `?`, exactly as sent; empty if there was none.
    pub query: String,
    /// Every header as received.
    pub headers: http::HeaderMap,
    /// The body bytes as received.
    pub body: Bytes,
    /// Whether the exchange accepted the request.
    pub verdict: Verdict,
    /// The [`Fault`] injected into this request, if any. A fault that does not replace the
    /// exchange's answer (a delay, a timeout after execution, a truncated or non-JSON body)
    /// leaves the exchange's own verdict.
    pub fault: Option<Fault>,
    /// When the request's head arrived, on the exchange's clock (Unix milliseconds): before any
    /// delay a fault adds, so that it can be compared with ban windows
    /// ([`RunningMock::bans`](crate::RunningMock::bans)) and `Retry-After`s.
    pub received_at_ms: i64,
    /// The request's number in the order requests arrived, from 0 (the record itself is in
    /// the order they were answered).
    pub arrival: u64,
}

impl RecordedRequest {
    /// The body as UTF-8 text (lossy), for assertions.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value as text, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &RedactedHeaders(&self.headers))
            .field("body", &self.body_text())
            .field("verdict", &self.verdict)
            .field("fault", &self.fault)
            .field("received_at_ms", &self.received_at_ms)
            .field("arrival", &self.arrival)
            .finish()
    }
}

/// Header values that authenticate a request are shown as their last four characters at most.
struct RedactedHeaders<'a>(&'a http::HeaderMap);

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.0 {
            let shown = value.to_str().unwrap_or("<binary>");
            if is_sensitive_header(name.as_str()) {
                map.entry(&name.as_str(), &KeyHint(shown));
            } else {
                map.entry(&name.as_str(), &shown);
            }
        }
        map.finish()
    }
}

/// Every exchange's key, signature and passphrase headers contain one of these words
/// (`X-MBX-APIKEY`, `OK-ACCESS-PASSPHRASE`, `API-Sign`, `SIGN`, `KEY`, ...).
fn is_sensitive_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["key", "sign", "passphrase", "authorization", "cookie"]
        .iter()
        .any(|word| name.contains(word))
}

/// A ban of the client: earned by sending during a `Retry-After`, or
/// [forced](crate::RunningMock::ban_for) by a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ban {
    /// When it began and ends, on the exchange's clock (Unix milliseconds).
    pub window_ms: std::ops::Range<i64>,
    /// How many requests had arrived when it began: those whose
    /// [`arrival`](RecordedRequest::arrival) number is at least this came after its start.
    /// (The exchange's clock may jump back, so times alone cannot tell.)
    pub arrivals_before: u64,
}

impl Ban {
    /// Whether `request` arrived while this ban was in force.
    pub fn covers(&self, request: &RecordedRequest) -> bool {
        request.arrival >= self.arrivals_before && self.window_ms.contains(&request.received_at_ms)
    }
}

/// What the mock exchange decided about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Served: a public endpoint, or a private one that authenticated.
    Accepted,
    /// Refused, with the exchange's own error body.
    Rejected(Rejection),
}

impl Verdict {
    /// Whether the request was served.
    pub fn is_accepted(&self) -> bool {
        matches!(self, Self::Accepted)
    }
}

/// Why the mock exchange refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// A required authentication header or parameter was missing or empty.
    MissingAuth,
    /// The API key is not one the exchange knows.
    UnknownKey,
    /// The passphrase does not match the key's.
    BadPassphrase,
    /// The signature does not match the request.
    BadSignature,
    /// The timestamp or expiry is outside the exchange's window, or malformed.
    TimestampOutsideWindow,
    /// The nonce is not greater than the last one accepted for the key (Kraken).
    NonceNotIncreasing,
    /// A parameter the exchange checks before executing was malformed.
    BadRequest,
    /// No such endpoint.
    NotFound,
    /// A [`Fault`] the test injected answered instead of the exchange (a status, or a reset
    /// connection).
    InjectedFault,
    /// A rate-limit budget was spent: the exchange's "too many requests" answer.
    RateLimited,
    /// The client is banned for having kept sending after being rate limited (Binance's 418).
    Banned,
}

impl Rejection {
    /// A short stable name, matching keyward's error kinds where one exists.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::MissingAuth => "missing_auth",
            Self::UnknownKey => "unknown_key",
            Self::BadPassphrase => "bad_passphrase",
            Self::BadSignature => "invalid_signature",
            Self::TimestampOutsideWindow => "timestamp_outside_window",
            Self::NonceNotIncreasing => "nonce_not_increasing",
            Self::BadRequest => "bad_request",
            Self::NotFound => "not_found",
            Self::InjectedFault => "injected_fault",
            Self::RateLimited => "rate_limited",
            Self::Banned => "banned",
        }
    }
}

/// An order the mock exchange executed.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedOrder {
    /// The exchange's order id, as returned to the client.
    pub order_id: String,
    /// The client order id, from the exchange's own field (`newClientOrderId`, `orderLinkId`,
    /// `clOrdId`, `client_oid`, `cl_ord_id` or `userref`, `clientOid`, `clOrdID`, `text`), if the
    /// client sent one.
    pub client_order_id: Option<String>,
    /// The exchange's clock when it executed the order, in Unix milliseconds.
    pub executed_at_ms: i64,
    /// Every parameter of the order as the exchange parsed it (query and body).
    pub params: serde_json::Map<String, serde_json::Value>,
}

impl RecordedOrder {
    /// A parameter as text (strings as they are, numbers and booleans as JSON).
    pub fn param(&self, name: &str) -> Option<String> {
        self.params.get(name).map(|value| match value {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        })
    }
}
