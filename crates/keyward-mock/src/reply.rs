//! An exchange's answer to one request, before it becomes an HTTP response.

use crate::record::{RecordedOrder, Rejection, Verdict};
use http::StatusCode;
use serde_json::Value;

/// What an exchange answers: status, JSON body, the verdict to record, and the order it
/// executed, if any.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
    pub(crate) verdict: Verdict,
    pub(crate) order: Option<RecordedOrder>,
}

impl Reply {
    /// A `200 OK` success.
    pub(crate) fn ok(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            body,
            verdict: Verdict::Accepted,
            order: None,
        }
    }

    /// A success that executed `order`.
    pub(crate) fn executed(body: Value, order: RecordedOrder) -> Self {
        Self {
            order: Some(order),
            ..Self::ok(body)
        }
    }

    /// A refusal with the exchange's own status and body.
    pub(crate) fn rejected(rejection: Rejection, status: StatusCode, body: Value) -> Self {
        Self {
            status,
            body,
            verdict: Verdict::Rejected(rejection),
            order: None,
        }
    }
}
