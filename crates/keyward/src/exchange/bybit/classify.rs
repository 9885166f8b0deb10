//! Bybit v5 error responses: usually HTTP 200 with a non-zero `retCode`, sometimes an HTTP
//! status of its own (401, 403, 429).
//!
//! See <https://bybit-exchange.github.io/docs/v5/error> and
//! <https://bybit-exchange.github.io/docs/v5/rate-limit>. When a rate limit is hit Bybit sends
//! `X-Bapi-Limit-Reset-Timestamp` (Unix ms); with the response's own `time` field that says how
//! long to wait without consulting the local clock.

use crate::exchange::{
    ExchangeError, ExchangeErrorKind,
    response::{self, header_number, message_excerpt},
};
use http::{HeaderMap, StatusCode};
use serde_json::Value;
use std::time::Duration;

const LIMIT_RESET_HEADER: &str = "x-bapi-limit-reset-timestamp";

pub(crate) fn classify(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Option<ExchangeError> {
    let json = serde_json::from_slice::<Value>(body).ok();
    // v5 names the fields `retCode`/`retMsg`; some older paths still answer `ret_code`/`ret_msg`.
    let field = |names: [&str; 2]| json.as_ref().and_then(|v| names.iter().find_map(|name| v.get(*name)));
    let code = field(["retCode", "ret_code"]).and_then(Value::as_i64);
    let message = field(["retMsg", "ret_msg"])
        .and_then(Value::as_str)
        .filter(|message| !message.is_empty())
        .map(|message| message_excerpt(&redact_origin_string(message)))
        .unwrap_or_else(|| format!("HTTP {status} without a Bybit error body"));
    let server_millis = json.as_ref().and_then(|v| v.get("time")).and_then(Value::as_u64);
    let retry_after = retry_after(headers, server_millis);

    let kind = match code {
        Some(0) if status.is_success() => return None,
        Some(code) if code != 0 => kind_for_code(code, retry_after),
        // Every v5 answer carries `retCode`; a success without it came from something else.
        None if status.is_success() => {
            return (!response::is_blank(body)).then(|| response::unreadable_answer(status, body));
        }
        _ => match status.as_u16() {
            401 => ExchangeErrorKind::Authentication,
            429 => ExchangeErrorKind::RateLimited { retry_after },
            // "403, access too frequent": the IP broke the rate limit and is blocked for a while.
            403 if contains_ignore_case(body, b"too frequent") => ExchangeErrorKind::Banned { retry_after },
            _ => ExchangeErrorKind::Other,
        },
    };
    Some(ExchangeError::new(
        kind,
        status.as_u16(),
        code.filter(|code| *code != 0).map(|code| code.to_string()),
        message,
    ))
}

fn kind_for_code(code: i64, retry_after: Option<Duration>) -> ExchangeErrorKind {
    match code {
        10002 => ExchangeErrorKind::TimestampOutsideWindow,
        10004 => ExchangeErrorKind::InvalidSignature,
        // Invalid key, failed authentication, expired key (derivatives 33004, spot -2015).
        10003 | 10007 | 33004 | -2015 => ExchangeErrorKind::Authentication,
        // Permission denied, IP not bound to the key, symbol not on the key's whitelist.
        10005 | 10010 | 10029 => ExchangeErrorKind::InsufficientPermission,
        10006 | 10018 => ExchangeErrorKind::RateLimited { retry_after },
        // Account-level ban ("common banned"), IP banned, trading banned.
        10008 | 10009 | 10027 => ExchangeErrorKind::Banned { retry_after: None },
        _ => ExchangeErrorKind::Other,
    }
}

fn retry_after(headers: &HeaderMap, server_millis: Option<u64>) -> Option<Duration> {
    if let Some(wait) = response::retry_after(headers) {
        return Some(wait);
    }
    let reset_millis = header_number(headers, LIMIT_RESET_HEADER)?;
    Some(Duration::from_millis(reset_millis.checked_sub(server_millis?)?))
}

/// Bybit echoes the string it expected to be signed (`error sign! origin_string[..]`), which
/// contains the full API key; an error message must never carry it into a log.
fn redact_origin_string(message: &str) -> String {
    const MARKER: &str = "origin_string[";
    let Some(start) = message.find(MARKER) else {
        return message.to_owned();
    };
    let content_start = start + MARKER.len();
    let rest = &message[content_start..];
    let after = rest.find(']').map_or("", |end| &rest[end..]);
    format!("{}[REDACTED]{after}", &message[..content_start])
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn classify_body(status: u16, body: &str) -> Option<ExchangeError> {
        classify(
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body.as_bytes(),
        )
    }

    #[test]
    fn documented_ret_codes_in_a_200_map_to_their_kind_and_code() {
        let cases = [
            (
                10002,
                "The request time exceeds the time window range.",
                ExchangeErrorKind::TimestampOutsideWindow,
            ),
            (10003, "API key is invalid.", ExchangeErrorKind::Authentication),
            (
                10004,
                "Error sign, please check your signature generation algorithm.",
                ExchangeErrorKind::InvalidSignature,
            ),
            (
                10005,
                "Permission denied, please check your API key permissions.",
                ExchangeErrorKind::InsufficientPermission,
            ),
            (
                10006,
                "Too many visits!",
                ExchangeErrorKind::RateLimited { retry_after: None },
            ),
            (
                10009,
                "IP has been banned.",
                ExchangeErrorKind::Banned { retry_after: None },
            ),
            (
                10010,
                "Unmatched IP, please check your API key's bound IP addresses.",
                ExchangeErrorKind::InsufficientPermission,
            ),
            (
                10018,
                "Exceeded the IP Rate Limit.",
                ExchangeErrorKind::RateLimited { retry_after: None },
            ),
            (33004, "Your api key has expired", ExchangeErrorKind::Authentication),
            (110007, "Insufficient available balance", ExchangeErrorKind::Other),
        ];
        for (code, message, kind) in cases {
            let body = format!(
                r#"{{"retCode":{code},"retMsg":"{message}","result":{{}},"retExtInfo":{{}},"time":1671017382656}}"#
            );
            let err = classify_body(200, &body).unwrap();
            assert_eq!(err.kind, kind, "{body}");
            assert_eq!(err.code, Some(code.to_string()));
            assert_eq!(err.message, message);
            assert_eq!(err.status, 200);
        }
    }

    #[test]
    fn the_echoed_string_to_sign_with_the_api_key_is_redacted() {
        let body = r#"{"retCode":10004,"retMsg":"error sign! origin_string[1658384314791test-only-key-0123456789abcdef5000category=spot]","result":{},"time":1}"#;
        let err = classify_body(200, body).unwrap();
        assert_eq!(err.kind, ExchangeErrorKind::InvalidSignature);
        assert_eq!(err.message, "error sign! origin_string[[REDACTED]]");
        let unterminated = r#"{"retCode":10004,"retMsg":"error sign! origin_string[1test-only-key-0123456789abcdef"}"#;
        assert!(
            !classify_body(200, unterminated)
                .unwrap()
                .message
                .contains("test-only-key")
        );
    }

    #[test]
    fn success_is_none() {
        let ok =
            r#"{"retCode":0,"retMsg":"OK","result":{"timeSecond":"1688639403"},"retExtInfo":{},"time":1688639403423}"#;
        assert!(classify_body(200, ok).is_none());
        assert!(classify_body(200, "").is_none());
        // An HTML page or JSON without `retCode` is not Bybit's answer, whatever the status.
        for body in ["<html>cdn</html>", r#"{"result":{}}"#] {
            assert_eq!(
                classify_body(200, body).unwrap().kind,
                ExchangeErrorKind::UnreadableAnswer
            );
        }
    }

    #[test]
    fn rate_limit_wait_comes_from_the_reset_header_and_the_response_time() {
        let mut headers = HeaderMap::new();
        headers.insert(LIMIT_RESET_HEADER, "1671017383656".parse().unwrap());
        let body = br#"{"retCode":10006,"retMsg":"Too many visits!","result":{},"retExtInfo":{},"time":1671017382656}"#;
        let err = classify(StatusCode::OK, &headers, body).unwrap();
        assert_eq!(
            err.kind,
            ExchangeErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(1))
            }
        );
        headers.insert(http::header::RETRY_AFTER, "3".parse().unwrap());
        let err = classify(StatusCode::OK, &headers, body).unwrap();
        assert_eq!(
            err.kind,
            ExchangeErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(3))
            }
        );
    }

    #[test]
    fn http_status_errors_without_a_ret_code() {
        assert_eq!(
            classify_body(401, "Unauthorized").unwrap().kind,
            ExchangeErrorKind::Authentication
        );
        assert_eq!(
            classify_body(403, "403 Forbidden: access too frequent").unwrap().kind,
            ExchangeErrorKind::Banned { retry_after: None }
        );
        assert_eq!(classify_body(403, "<html>").unwrap().kind, ExchangeErrorKind::Other);
        assert_eq!(
            classify_body(429, "").unwrap().kind,
            ExchangeErrorKind::RateLimited { retry_after: None }
        );
        let gateway = classify_body(502, "<html>bad gateway</html>").unwrap();
        assert_eq!(gateway.kind, ExchangeErrorKind::Other);
        assert_eq!(gateway.status, 502);
        assert!(!gateway.message.contains("<html>"));
    }

    #[test]
    fn nasty_inputs_do_not_panic() {
        let deep = "{\"a\":".repeat(50_000);
        for body in [
            "\u{0}",
            "{\"retCode\":\"10004\"}",
            "{\"retCode\":1e999}",
            deep.as_str(),
            "[1,2]",
        ] {
            let _ = classify_body(400, body);
            let _ = classify_body(200, body);
        }
    }

    proptest! {
        #[test]
        fn never_panics(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..256), reset in ".{0,16}") {
            let mut headers = HeaderMap::new();
            if let Ok(value) = reset.parse() {
                headers.insert(LIMIT_RESET_HEADER, value);
            }
            let _ = classify(StatusCode::from_u16(status).unwrap(), &headers, &body);
        }
    }
}
