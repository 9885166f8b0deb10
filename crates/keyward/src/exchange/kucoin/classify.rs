//! KuCoin error responses: `{"code":"400005","msg":"Signature error"}`, where any `code` other than
//! `200000` is an error, on a 4xx/5xx status or, for business errors, on HTTP 200.

use crate::exchange::{
    ExchangeError, ExchangeErrorKind,
    response::{self, body_excerpt, code_text, header_number, message_excerpt},
};
use http::{HeaderMap, StatusCode, header::RETRY_AFTER};
use serde_json::Value;
use std::time::Duration;

const SUCCESS: &str = "200000";

/// Classifies a KuCoin REST response, or `None` for a success.
pub(super) fn classify(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Option<ExchangeError> {
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let code = parsed.as_ref().and_then(|value| code_text(value.get("code")?));
    let Some(code) = code else {
        if status.is_success() {
            // Every KuCoin answer carries `code`; a success without it came from something else.
            return (!response::is_blank(body)).then(|| response::unreadable_answer(status, body));
        }
        let kind = if status == StatusCode::TOO_MANY_REQUESTS {
            ExchangeErrorKind::RateLimited {
                retry_after: retry_after(headers),
            }
        } else {
            ExchangeErrorKind::Other
        };
        return Some(ExchangeError::new(
            kind,
            status.as_u16(),
            None,
            body_excerpt(status, body),
        ));
    };
    if code == SUCCESS && status.is_success() {
        return None;
    }
    let message = parsed
        .as_ref()
        .and_then(|value| value.get("msg"))
        .and_then(Value::as_str)
        .map_or_else(|| body_excerpt(status, body), message_excerpt);
    let kind = match code.as_str() {
        // Missing authentication header, unknown key, wrong passphrase.
        "400001" | "400003" | "400004" => ExchangeErrorKind::Authentication,
        "400002" => ExchangeErrorKind::TimestampOutsideWindow,
        "400005" => ExchangeErrorKind::InvalidSignature,
        // IP not on the key's whitelist; key lacks the permission.
        "400006" | "400007" => ExchangeErrorKind::InsufficientPermission,
        "411100" => ExchangeErrorKind::Banned { retry_after: None },
        "429000" => ExchangeErrorKind::RateLimited {
            retry_after: retry_after(headers),
        },
        _ if status == StatusCode::TOO_MANY_REQUESTS => ExchangeErrorKind::RateLimited {
            retry_after: retry_after(headers),
        },
        _ => ExchangeErrorKind::Other,
    };
    Some(ExchangeError::new(kind, status.as_u16(), Some(code), message))
}

/// `Retry-After` when present, else KuCoin's `gw-ratelimit-reset` (milliseconds until the quota refills).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    header_number(headers, RETRY_AFTER)
        .map(Duration::from_secs)
        .or_else(|| header_number(headers, "gw-ratelimit-reset").map(Duration::from_millis))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn documented_system_codes_map_to_their_kind() {
        let cases = [
            (
                "400001",
                "Any of KC-API-KEY, KC-API-SIGN, KC-API-TIMESTAMP, KC-API-PASSPHRASE is missing in your request header",
                ExchangeErrorKind::Authentication,
            ),
            (
                "400002",
                "KC-API-TIMESTAMP Invalid -- Time differs from server time by more than 5 seconds",
                ExchangeErrorKind::TimestampOutsideWindow,
            ),
            ("400003", "KC-API-KEY not exists", ExchangeErrorKind::Authentication),
            ("400004", "KC-API-PASSPHRASE error", ExchangeErrorKind::Authentication),
            (
                "400005",
                "Signature error -- Please check your signature",
                ExchangeErrorKind::InvalidSignature,
            ),
            (
                "400006",
                "The IP address is not in the API whitelist",
                ExchangeErrorKind::InsufficientPermission,
            ),
            (
                "400007",
                "Access Denied -- Your API key does not have sufficient permissions to access the URI",
                ExchangeErrorKind::InsufficientPermission,
            ),
            (
                "411100",
                "User is frozen -- Please contact us via support center",
                ExchangeErrorKind::Banned { retry_after: None },
            ),
            (
                "429000",
                "Too Many Requests",
                ExchangeErrorKind::RateLimited { retry_after: None },
            ),
            ("400100", "Parameter Error", ExchangeErrorKind::Other),
            ("500000", "Internal Server Error", ExchangeErrorKind::Other),
        ];
        for (code, msg, kind) in cases {
            let body = format!(r#"{{"code":"{code}","msg":"{msg}"}}"#);
            let classified = classify(StatusCode::UNAUTHORIZED, &HeaderMap::new(), body.as_bytes()).unwrap();
            assert_eq!(classified.kind, kind, "{code}");
            assert_eq!(classified.code.as_deref(), Some(code));
            assert_eq!(classified.message, msg);
            assert_eq!(classified.status, 401);
        }
    }

    #[test]
    fn business_errors_on_http_200_are_errors_and_success_is_not() {
        let classified = classify(
            StatusCode::OK,
            &HeaderMap::new(),
            br#"{"code":"200004","msg":"Balance insufficient"}"#,
        )
        .unwrap();
        assert_eq!(classified.kind, ExchangeErrorKind::Other);
        assert_eq!(classified.code.as_deref(), Some("200004"));
        assert!(
            classify(
                StatusCode::OK,
                &HeaderMap::new(),
                br#"{"code":"200000","data":1546837113087}"#
            )
            .is_none()
        );
        assert!(classify(StatusCode::OK, &HeaderMap::new(), b"").is_none());
    }

    #[test]
    fn numeric_codes_are_read_too() {
        let classified = classify(
            StatusCode::OK,
            &HeaderMap::new(),
            br#"{"code":400005,"msg":"Signature error"}"#,
        )
        .unwrap();
        assert_eq!(classified.kind, ExchangeErrorKind::InvalidSignature);
    }

    #[test]
    fn rate_limit_waits_come_from_retry_after_or_the_gateway_reset() {
        let body = br#"{"code":"429000","msg":"Too Many Requests"}"#;
        let mut headers = HeaderMap::new();
        headers.insert("gw-ratelimit-reset", "1500".parse().unwrap());
        let classified = classify(StatusCode::TOO_MANY_REQUESTS, &headers, body).unwrap();
        assert_eq!(
            classified.kind,
            ExchangeErrorKind::RateLimited {
                retry_after: Some(Duration::from_millis(1500))
            }
        );
        headers.insert(RETRY_AFTER, "3".parse().unwrap());
        let classified = classify(StatusCode::TOO_MANY_REQUESTS, &headers, body).unwrap();
        assert_eq!(
            classified.kind,
            ExchangeErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(3))
            }
        );
    }

    #[test]
    fn non_json_error_pages_are_other_with_the_status() {
        let classified = classify(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"<html>bad gateway</html>").unwrap();
        assert_eq!(classified.kind, ExchangeErrorKind::Other);
        assert_eq!(classified.status, 502);
        assert_eq!(classified.code, None);
    }

    #[test]
    fn nasty_bodies_do_not_panic() {
        let deep = "{\"a\":".repeat(50_000);
        for body in [
            deep.as_str(),
            r#"{"code":null}"#,
            r#"{"code":{"x":1},"msg":5}"#,
            "\u{0}",
            "[]",
        ] {
            let _ = classify(StatusCode::OK, &HeaderMap::new(), body.as_bytes());
            let _ = classify(StatusCode::FORBIDDEN, &HeaderMap::new(), body.as_bytes());
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = classify(StatusCode::from_u16(status).unwrap(), &HeaderMap::new(), &body);
        }
    }
}
