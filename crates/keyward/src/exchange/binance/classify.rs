//! Binance error responses: `{"code": -1022, "msg": "..."}` with a 4xx status, plus the
//! status-only answers of its rate limiter (429, 418) and firewall (403).
//!
//! See <https://developers.binance.com/docs/binance-spot-api-docs/errors> and the "Limits"
//! section of the REST API page: 429 means a rate limit was broken, 418 that the IP is banned
//! after repeated 429s, and both carry `Retry-After` in seconds. 5xx means the execution status is
//! unknown, so it stays [`ExchangeErrorKind::Other`].

use crate::exchange::{
    ExchangeError, ExchangeErrorKind,
    response::{self, message_excerpt, retry_after},
};
use http::{HeaderMap, StatusCode};
use serde_json::Value;
use std::time::Duration;

pub(crate) fn classify(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Option<ExchangeError> {
    let json = serde_json::from_slice::<Value>(body).ok();
    let code = json.as_ref().and_then(|v| v.get("code")).and_then(Value::as_i64);
    // A few /sapi endpoints answer 200 with an error code; successes never carry a negative one.
    // Decided before anything else is built: this runs on every successful response.
    if status.is_success() && code.is_none_or(|code| code >= 0) {
        return (json.is_none() && !response::is_blank(body)).then(|| response::unreadable_answer(status, body));
    }
    let message = json
        .as_ref()
        .and_then(|v| v.get("msg"))
        .and_then(Value::as_str)
        .map(message_excerpt)
        .unwrap_or_else(|| status_message(status));
    let retry_after = retry_after(headers);

    if status.is_success() {
        let code = code.filter(|code| *code < 0)?;
        return Some(ExchangeError::new(
            kind_for_code(code, &message, retry_after),
            status.as_u16(),
            Some(code.to_string()),
            message,
        ));
    }
    let kind = match (status.as_u16(), code) {
        (418, _) => ExchangeErrorKind::Banned { retry_after },
        (429, _) => ExchangeErrorKind::RateLimited { retry_after },
        (_, Some(code)) => kind_for_code(code, &message, retry_after),
        // The web application firewall refuses the request before Binance reads it.
        (403, None) => ExchangeErrorKind::Banned { retry_after },
        _ => ExchangeErrorKind::Other,
    };
    Some(ExchangeError::new(
        kind,
        status.as_u16(),
        code.map(|c| c.to_string()),
        message,
    ))
}

fn kind_for_code(code: i64, message: &str, retry_after: Option<Duration>) -> ExchangeErrorKind {
    match code {
        -1021 => ExchangeErrorKind::TimestampOutsideWindow,
        -1022 => ExchangeErrorKind::InvalidSignature,
        -1002 => ExchangeErrorKind::InsufficientPermission,
        // -2015 reads "Invalid API-key, IP, or permissions for action": Binance does not say
        // which, and an unknown key is the case the operator must fix first.
        -2014 | -2015 | -2008 => ExchangeErrorKind::Authentication,
        -1003 if message.to_ascii_lowercase().contains("banned") => ExchangeErrorKind::Banned { retry_after },
        -1003 | -1015 => ExchangeErrorKind::RateLimited { retry_after },
        _ => ExchangeErrorKind::Other,
    }
}

/// The message for a body that is not Binance's JSON: the status alone, never the raw body.
fn status_message(status: StatusCode) -> String {
    format!("HTTP {status} without a Binance error body")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::response::MAX_MESSAGE_CHARS;
    use proptest::prelude::*;

    fn classify_json(status: u16, body: &str) -> ExchangeError {
        classify(
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body.as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn documented_error_bodies_map_to_their_kind_and_code() {
        let cases = [
            (
                400,
                r#"{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}"#,
                ExchangeErrorKind::TimestampOutsideWindow,
                "-1021",
            ),
            (
                400,
                r#"{"code":-1022,"msg":"Signature for this request is not valid."}"#,
                ExchangeErrorKind::InvalidSignature,
                "-1022",
            ),
            (
                401,
                r#"{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}"#,
                ExchangeErrorKind::Authentication,
                "-2015",
            ),
            (
                401,
                r#"{"code":-2014,"msg":"API-key format invalid."}"#,
                ExchangeErrorKind::Authentication,
                "-2014",
            ),
            (
                401,
                r#"{"code":-1002,"msg":"You are not authorized to execute this request."}"#,
                ExchangeErrorKind::InsufficientPermission,
                "-1002",
            ),
            (
                400,
                r#"{"code":-1121,"msg":"Invalid symbol."}"#,
                ExchangeErrorKind::Other,
                "-1121",
            ),
            (
                400,
                r#"{"code":-1003,"msg":"Way too much request weight used; IP banned until 1700000000000."}"#,
                ExchangeErrorKind::Banned { retry_after: None },
                "-1003",
            ),
            (
                400,
                r#"{"code":-1015,"msg":"Too many new orders; current limit is 50 orders per 10 SECOND."}"#,
                ExchangeErrorKind::RateLimited { retry_after: None },
                "-1015",
            ),
        ];
        for (status, body, kind, code) in cases {
            let err = classify_json(status, body);
            assert_eq!(err.kind, kind, "{body}");
            assert_eq!(err.code.as_deref(), Some(code));
            assert_eq!(err.status, status);
        }
        assert_eq!(
            classify_json(
                400,
                r#"{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}"#
            )
            .message,
            "Timestamp for this request is outside of the recvWindow."
        );
    }

    #[test]
    fn rate_limit_and_ban_statuses_carry_retry_after() {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::RETRY_AFTER, "17".parse().unwrap());
        let body = br#"{"code":-1003,"msg":"Too much request weight used; current limit is 6000 request weight per 1 MINUTE."}"#;
        let limited = classify(StatusCode::TOO_MANY_REQUESTS, &headers, body).unwrap();
        assert_eq!(
            limited.kind,
            ExchangeErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(17))
            }
        );
        let banned = classify(StatusCode::IM_A_TEAPOT, &headers, b"").unwrap();
        assert_eq!(
            banned.kind,
            ExchangeErrorKind::Banned {
                retry_after: Some(Duration::from_secs(17))
            }
        );
    }

    #[test]
    fn success_is_none_but_an_error_code_in_a_200_is_classified() {
        assert!(classify(StatusCode::OK, &HeaderMap::new(), br#"{"serverTime":1499827319559}"#).is_none());
        assert!(classify(StatusCode::OK, &HeaderMap::new(), br#"{"code":200,"msg":"done"}"#).is_none());
        assert!(classify(StatusCode::OK, &HeaderMap::new(), b"[]").is_none());
        let err = classify(StatusCode::OK, &HeaderMap::new(), br#"{"code":-1022,"msg":"bad"}"#).unwrap();
        assert_eq!(err.kind, ExchangeErrorKind::InvalidSignature);
    }

    #[test]
    fn non_json_error_is_other_with_the_status_and_no_raw_body() {
        let err = classify(
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
            b"<html>upstream secret-ish page</html>",
        )
        .unwrap();
        assert_eq!(err.kind, ExchangeErrorKind::Other);
        assert_eq!(err.status, 502);
        assert!(!err.message.contains("<html>"));
        let waf = classify(StatusCode::FORBIDDEN, &HeaderMap::new(), b"Forbidden").unwrap();
        assert_eq!(waf.kind, ExchangeErrorKind::Banned { retry_after: None });
    }

    #[test]
    fn nasty_inputs_do_not_panic() {
        let deep = "[".repeat(100_000);
        for body in [
            &b""[..],
            b"\xff\xfe",
            b"{\"code\":\"-1022\"}",
            b"{\"code\":1e400}",
            deep.as_bytes(),
        ] {
            let _ = classify(StatusCode::BAD_REQUEST, &HeaderMap::new(), body);
        }
        let long = format!(r#"{{"code":-1000,"msg":"{}"}}"#, "é".repeat(10_000));
        assert_eq!(classify_json(400, &long).message.chars().count(), MAX_MESSAGE_CHARS);
    }

    proptest! {
        #[test]
        fn never_panics(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..256), retry in ".{0,8}") {
            let mut headers = HeaderMap::new();
            if let Ok(value) = retry.parse() {
                headers.insert(http::header::RETRY_AFTER, value);
            }
            let _ = classify(StatusCode::from_u16(status).unwrap(), &headers, &body);
        }
    }
}
