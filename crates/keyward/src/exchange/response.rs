//! Reading an exchange's error response, for the classifiers: how long it asks to wait, and how
//! much of its text goes into an [`ExchangeError`](super::ExchangeError).
//!
//! Error pages can be large HTML documents from a proxy, so what is kept of them is bounded here,
//! once for every exchange.

use super::{ExchangeError, ExchangeErrorKind};
use http::{HeaderMap, StatusCode, header::AsHeaderName};
use serde_json::Value;
use std::time::Duration;

/// Longest exchange-written message (a JSON `msg` and the like) kept in an error.
pub(crate) const MAX_MESSAGE_CHARS: usize = 300;

/// Longest excerpt of a body that is not the exchange's JSON kept in an error.
pub(crate) const MAX_BODY_EXCERPT_CHARS: usize = 200;

/// `Retry-After` in whole seconds; `None` when absent or in the HTTP-date form, which no
/// integrated exchange sends.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    header_number(headers, http::header::RETRY_AFTER).map(Duration::from_secs)
}

/// A header that carries a non-negative integer (`Retry-After`, an exchange's reset counter).
pub(crate) fn header_number(headers: &HeaderMap, name: impl AsHeaderName) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// An exchange's message, cut to [`MAX_MESSAGE_CHARS`] characters.
pub(crate) fn message_excerpt(message: &str) -> String {
    message.chars().take(MAX_MESSAGE_CHARS).collect()
}

/// A body that is not the exchange's JSON (an HTML page from a proxy, say), trimmed and cut to
/// [`MAX_BODY_EXCERPT_CHARS`] characters; the status's reason when the body is blank.
pub(crate) fn body_excerpt(status: StatusCode, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return status.canonical_reason().unwrap_or("error without a body").to_owned();
    }
    text.chars().take(MAX_BODY_EXCERPT_CHARS).collect()
}

/// An error code sent as a JSON string or number (`"50113"` or `50113`), as text, cut like a
/// message: a string of any length may stand where the code belongs.
pub(crate) fn code_text(code: &Value) -> Option<String> {
    match code {
        Value::String(text) => Some(message_excerpt(text)),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// The error for a success status whose body is not the exchange's answer (see
/// [`ExchangeErrorKind::UnreadableAnswer`]), quoting the start of the body.
pub(crate) fn unreadable_answer(status: StatusCode, body: &[u8]) -> ExchangeError {
    ExchangeError::new(
        ExchangeErrorKind::UnreadableAnswer,
        status.as_u16(),
        None,
        format!(
            "HTTP {status} with a body that is not the exchange's answer (a proxy or CDN in front of it?): {}",
            body_excerpt(status, body)
        ),
    )
}

/// Whether a body has content at all: an empty success body is an answer of its own (`204`).
pub(crate) fn is_blank(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

/// For exchanges whose successful answers carry no envelope to check: the error when a success
/// body has content that is not JSON, which no endpoint of theirs answers.
pub(crate) fn unless_json(status: StatusCode, body: &[u8]) -> Option<ExchangeError> {
    let unreadable = !is_blank(body) && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err();
    unreadable.then(|| unreadable_answer(status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: &'static str, value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, http::HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn retry_after_reads_whole_seconds_only() {
        assert_eq!(
            retry_after(&headers("retry-after", " 7 ")),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
        assert_eq!(retry_after(&headers("retry-after", "-1")), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
        assert_eq!(
            header_number(&headers("gw-ratelimit-reset", "1500"), "gw-ratelimit-reset"),
            Some(1500)
        );
    }

    #[test]
    fn excerpts_are_bounded_in_characters_not_bytes() {
        assert_eq!(message_excerpt(&"é".repeat(400)).chars().count(), MAX_MESSAGE_CHARS);
        let page = format!("  <html>{}</html>  ", "x".repeat(500));
        let excerpt = body_excerpt(StatusCode::BAD_GATEWAY, page.as_bytes());
        assert_eq!(excerpt.chars().count(), MAX_BODY_EXCERPT_CHARS);
        assert!(excerpt.starts_with("<html>"));
        assert_eq!(body_excerpt(StatusCode::BAD_GATEWAY, b" \n"), "Bad Gateway");
        assert_eq!(
            body_excerpt(StatusCode::from_u16(599).unwrap(), b""),
            "error without a body"
        );
    }

    #[test]
    fn codes_come_as_strings_or_numbers() {
        assert_eq!(code_text(&Value::from("50113")).as_deref(), Some("50113"));
        assert_eq!(code_text(&Value::from(-1022)).as_deref(), Some("-1022"));
        assert_eq!(code_text(&Value::Null), None);
    }

    #[test]
    fn a_success_body_that_is_not_json_is_an_unreadable_answer() {
        for body in [&b"<html><body>502 from the CDN</body></html>"[..], b"{\"truncated\": "] {
            let error = unless_json(StatusCode::OK, body).unwrap();
            assert_eq!(error.kind, ExchangeErrorKind::UnreadableAnswer);
            assert_eq!(error.status, 200);
        }
        for body in [&b""[..], b" \n", b"{}", b"[]", br#"{"orderId":1}"#] {
            assert!(unless_json(StatusCode::OK, body).is_none());
        }
    }
}
