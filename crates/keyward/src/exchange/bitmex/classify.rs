//! BitMEX error responses: a 4xx/5xx status with `{"error":{"message":"...","name":"HTTPError"}}`.

use crate::exchange::{
    ExchangeError, ExchangeErrorKind,
    response::{self, body_excerpt, message_excerpt, retry_after},
};
use http::{HeaderMap, StatusCode};
use serde_json::Value;
use std::time::Duration;

/// BitMEX asks clients to wait at least this long after a 503 "system is currently overloaded".
const OVERLOAD_RETRY_AFTER: Duration = Duration::from_millis(500);

/// Classifies a BitMEX REST response, or `None` for a success.
pub(super) fn classify(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Option<ExchangeError> {
    if status.is_success() {
        return response::unless_json(status, body);
    }
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let error = parsed.as_ref().and_then(|value| value.get("error"));
    let message = error
        .and_then(|error| error.get("message"))
        .and_then(Value::as_str)
        .map_or_else(|| body_excerpt(status, body), message_excerpt);
    let name = error
        .and_then(|error| error.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let lowered = message.to_ascii_lowercase();
    let mentions = |needle: &str| lowered.contains(needle);

    let kind = match status {
        StatusCode::UNAUTHORIZED if mentions("signature not valid") => ExchangeErrorKind::InvalidSignature,
        // "This request has expired - `expires` is in the past. Current time: ..."
        StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST
            if mentions("request has expired") || mentions("expires") =>
        {
            ExchangeErrorKind::TimestampOutsideWindow
        }
        // "Invalid API Key.", "This key is disabled.", missing authentication headers.
        StatusCode::UNAUTHORIZED => ExchangeErrorKind::Authentication,
        StatusCode::FORBIDDEN if mentions("ban") => ExchangeErrorKind::Banned {
            retry_after: retry_after(headers),
        },
        StatusCode::FORBIDDEN if mentions("key is disabled") => ExchangeErrorKind::Authentication,
        // "Access Denied", "Account is restricted", a key without the needed permission.
        StatusCode::FORBIDDEN => ExchangeErrorKind::InsufficientPermission,
        StatusCode::TOO_MANY_REQUESTS => ExchangeErrorKind::RateLimited {
            retry_after: retry_after(headers),
        },
        // BitMEX documents that an overloaded 503 never reached the matching engine, so it is a
        // rejection with a wait, not an outcome in doubt.
        StatusCode::SERVICE_UNAVAILABLE if mentions("overloaded") => ExchangeErrorKind::RateLimited {
            retry_after: Some(retry_after(headers).unwrap_or(OVERLOAD_RETRY_AFTER)),
        },
        _ => ExchangeErrorKind::Other,
    };
    Some(ExchangeError::new(kind, status.as_u16(), name, message))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use http::header::RETRY_AFTER;
    use proptest::prelude::*;

    fn error_body(message: &str) -> String {
        format!(r#"{{"error":{{"message":"{message}","name":"HTTPError"}}}}"#)
    }

    #[test]
    fn documented_errors_map_to_their_kind() {
        let cases = [
            (401, "Signature not valid.", ExchangeErrorKind::InvalidSignature),
            (
                401,
                "This request has expired - `expires` is in the past. Current time: 1518064300",
                ExchangeErrorKind::TimestampOutsideWindow,
            ),
            (401, "Invalid API Key.", ExchangeErrorKind::Authentication),
            (401, "This key is disabled.", ExchangeErrorKind::Authentication),
            (403, "Access Denied", ExchangeErrorKind::InsufficientPermission),
            (403, "Account is restricted", ExchangeErrorKind::InsufficientPermission),
            (
                403,
                "Your IP has been banned for excessive rate limit violations",
                ExchangeErrorKind::Banned { retry_after: None },
            ),
            (
                429,
                "Rate limit exceeded, retry in 1 seconds.",
                ExchangeErrorKind::RateLimited { retry_after: None },
            ),
            (
                503,
                "The system is currently overloaded. Please try again later.",
                ExchangeErrorKind::RateLimited {
                    retry_after: Some(OVERLOAD_RETRY_AFTER),
                },
            ),
            (
                400,
                "Account has insufficient Available Balance",
                ExchangeErrorKind::Other,
            ),
            (500, "Server Error", ExchangeErrorKind::Other),
        ];
        for (status, message, kind) in cases {
            let status = StatusCode::from_u16(status).unwrap();
            let classified = classify(status, &HeaderMap::new(), error_body(message).as_bytes()).unwrap();
            assert_eq!(classified.kind, kind, "{message}");
            assert_eq!(classified.message, message);
            assert_eq!(classified.code.as_deref(), Some("HTTPError"));
        }
    }

    #[test]
    fn retry_after_is_read_on_429() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "12".parse().unwrap());
        let classified = classify(
            StatusCode::TOO_MANY_REQUESTS,
            &headers,
            error_body("Rate limit exceeded").as_bytes(),
        )
        .unwrap();
        assert_eq!(
            classified.kind,
            ExchangeErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(12))
            }
        );
    }

    #[test]
    fn success_is_not_an_error_and_non_json_errors_are_other() {
        assert!(classify(StatusCode::OK, &HeaderMap::new(), br#"[{"symbol":"XBTUSD"}]"#).is_none());
        let classified = classify(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"<html>502</html>").unwrap();
        assert_eq!(classified.kind, ExchangeErrorKind::Other);
        assert_eq!(classified.status, 502);
        assert_eq!(classified.code, None);
    }

    #[test]
    fn nasty_bodies_do_not_panic() {
        let deep = "[".repeat(100_000);
        for body in [
            deep.as_str(),
            r#"{"error":"x"}"#,
            r#"{"error":{"message":7}}"#,
            "\u{0}",
            "null",
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
