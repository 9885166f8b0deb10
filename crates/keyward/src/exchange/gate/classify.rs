//! Gate APIv4 error responses: a non-2xx status with `{"label":"INVALID_SIGNATURE","message":"..."}`.

use crate::exchange::{
    ExchangeError, ExchangeErrorKind,
    response::{self, body_excerpt, message_excerpt, retry_after},
};
use http::{HeaderMap, StatusCode};
use serde_json::Value;

/// Classifies a Gate APIv4 response, or `None` for a success.
pub(super) fn classify(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Option<ExchangeError> {
    if status.is_success() {
        return response::unless_json(status, body);
    }
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let field = |name: &str| parsed.as_ref()?.get(name)?.as_str().map(message_excerpt);
    let label = field("label");
    // Gate documents `message`, and `detail` on some routes.
    let message = field("message")
        .or_else(|| field("detail"))
        .unwrap_or_else(|| body_excerpt(status, body));

    let kind = match label.as_deref() {
        Some("INVALID_KEY" | "INVALID_CREDENTIALS" | "MISSING_REQUIRED_HEADER") => ExchangeErrorKind::Authentication,
        Some("INVALID_SIGNATURE") => ExchangeErrorKind::InvalidSignature,
        Some("REQUEST_EXPIRED") => ExchangeErrorKind::TimestampOutsideWindow,
        // Not on the key's IP whitelist, a read-only key, or no permission for the operation.
        Some("IP_FORBIDDEN" | "READ_ONLY" | "FORBIDDEN") => ExchangeErrorKind::InsufficientPermission,
        Some("ACCOUNT_LOCKED") => ExchangeErrorKind::Banned {
            retry_after: retry_after(headers),
        },
        // `TOO_FAST` is the withdrawal-frequency limit.
        Some("TOO_MANY_REQUESTS" | "TOO_FAST") => ExchangeErrorKind::RateLimited {
            retry_after: retry_after(headers),
        },
        _ if status == StatusCode::TOO_MANY_REQUESTS => ExchangeErrorKind::RateLimited {
            retry_after: retry_after(headers),
        },
        _ => ExchangeErrorKind::Other,
    };
    Some(ExchangeError::new(kind, status.as_u16(), label, message))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use http::header::RETRY_AFTER;
    use proptest::prelude::*;
    use std::time::Duration;

    #[test]
    fn documented_labels_map_to_their_kind_and_code() {
        let cases = [
            (401, "INVALID_KEY", "Invalid API Key", ExchangeErrorKind::Authentication),
            (
                401,
                "INVALID_CREDENTIALS",
                "Invalid credentials provided",
                ExchangeErrorKind::Authentication,
            ),
            (
                401,
                "MISSING_REQUIRED_HEADER",
                "Missing required authentication header",
                ExchangeErrorKind::Authentication,
            ),
            (
                401,
                "INVALID_SIGNATURE",
                "Signature mismatch",
                ExchangeErrorKind::InvalidSignature,
            ),
            (
                401,
                "REQUEST_EXPIRED",
                "gap between request Timestamp and server time exceeds 60",
                ExchangeErrorKind::TimestampOutsideWindow,
            ),
            (
                403,
                "IP_FORBIDDEN",
                "Request IP not in whitelist",
                ExchangeErrorKind::InsufficientPermission,
            ),
            (
                403,
                "READ_ONLY",
                "API key is read-only",
                ExchangeErrorKind::InsufficientPermission,
            ),
            (
                403,
                "FORBIDDEN",
                "Account has no permission to request operation",
                ExchangeErrorKind::InsufficientPermission,
            ),
            (
                403,
                "ACCOUNT_LOCKED",
                "Account is locked",
                ExchangeErrorKind::Banned { retry_after: None },
            ),
            (
                429,
                "TOO_MANY_REQUESTS",
                "Request Rate limit Exceeded",
                ExchangeErrorKind::RateLimited { retry_after: None },
            ),
            (
                400,
                "TOO_FAST",
                "Withdrawing request exceeds frequency limit",
                ExchangeErrorKind::RateLimited { retry_after: None },
            ),
            (
                400,
                "BALANCE_NOT_ENOUGH",
                "Balance is not enough",
                ExchangeErrorKind::Other,
            ),
            (
                400,
                "INVALID_PARAM_VALUE",
                "Invalid parameter `text` with value: abc",
                ExchangeErrorKind::Other,
            ),
        ];
        for (status, label, message, kind) in cases {
            let body = format!(r#"{{"label":"{label}","message":"{message}"}}"#);
            let status = StatusCode::from_u16(status).unwrap();
            let classified = classify(status, &HeaderMap::new(), body.as_bytes()).unwrap();
            assert_eq!(classified.kind, kind, "{label}");
            assert_eq!(classified.code.as_deref(), Some(label));
            assert_eq!(classified.message, message);
        }
    }

    #[test]
    fn detail_is_used_when_message_is_absent_and_retry_after_is_read() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "2".parse().unwrap());
        let classified = classify(
            StatusCode::TOO_MANY_REQUESTS,
            &headers,
            br#"{"label":"TOO_MANY_REQUESTS","detail":"slow down"}"#,
        )
        .unwrap();
        assert_eq!(
            classified.kind,
            ExchangeErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(2))
            }
        );
        assert_eq!(classified.message, "slow down");
    }

    #[test]
    fn success_is_not_an_error_and_non_json_errors_are_other() {
        assert!(classify(StatusCode::OK, &HeaderMap::new(), br#"{"server_time":1597026383085}"#).is_none());
        let classified = classify(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"<html>502</html>").unwrap();
        assert_eq!(classified.kind, ExchangeErrorKind::Other);
        assert_eq!(classified.code, None);
        assert_eq!(classified.status, 502);
    }

    #[test]
    fn nasty_bodies_do_not_panic() {
        let deep = "[".repeat(100_000);
        for body in [
            deep.as_str(),
            r#"{"label":5}"#,
            r#"{"label":null,"message":[]}"#,
            "\u{0}",
            "\"label\"",
        ] {
            let _ = classify(StatusCode::UNAUTHORIZED, &HeaderMap::new(), body.as_bytes());
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = classify(StatusCode::from_u16(status).unwrap(), &HeaderMap::new(), &body);
        }
    }
}
