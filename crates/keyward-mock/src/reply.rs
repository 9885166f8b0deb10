//! An exchange's answer to one request, before it becomes an HTTP response.

use crate::record::{RecordedOrder, Rejection, Verdict};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::Value;

/// What an exchange answers: status, headers of its own (rate-limit counters, `Retry-After`),
/// JSON body, the verdict to record, and the order it executed, if any. The headers and the order
/// are boxed to keep `Result<_, Reply>`, which every authentication step returns, small.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: Box<HeaderMap>,
    pub(crate) body: Value,
    pub(crate) verdict: Verdict,
    pub(crate) order: Option<Box<RecordedOrder>>,
}

impl Reply {
    /// A `200 OK` success.
    pub(crate) fn ok(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            headers: Box::default(),
            body,
            verdict: Verdict::Accepted,
            order: None,
        }
    }

    /// A success that executed `order`.
    pub(crate) fn executed(body: Value, order: RecordedOrder) -> Self {
        Self {
            order: Some(Box::new(order)),
            ..Self::ok(body)
        }
    }

    /// A refusal with the exchange's own status and body.
    pub(crate) fn rejected(rejection: Rejection, status: StatusCode, body: Value) -> Self {
        Self {
            status,
            headers: Box::default(),
            body,
            verdict: Verdict::Rejected(rejection),
            order: None,
        }
    }

    /// The same reply with one more header.
    pub(crate) fn with_header(mut self, name: &str, value: impl ToString) -> Self {
        set_header(&mut self.headers, name, value);
        self
    }
}

/// Sets a header whose value the mock formats itself (numbers, timestamps). Names may be written
/// as the exchange documents them (`X-MBX-USED-WEIGHT-1M`); a name or value that is not a valid
/// header is left out rather than failing the answer.
pub(crate) fn set_header(headers: &mut HeaderMap, name: &str, value: impl ToString) {
    let name = HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes());
    if let (Ok(name), Ok(value)) = (name, HeaderValue::from_str(&value.to_string())) {
        headers.insert(name, value);
    }
}
