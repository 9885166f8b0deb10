//! Coinbase Exchange error responses: a 4xx or 5xx status with `{"message": "..."}` and no
//! error code, so the kind is read from the status and the documented messages
//! (`invalid signature`, `request timestamp expired`, `Invalid API Key`, `Invalid Passphrase`,
//! `Private rate limit exceeded`). See <https://docs.cdp.coinbase.com/exchange/docs/rest-requests>.

use crate::exchange::{
    ExchangeError, ExchangeErrorKind,
    response::{self, message_excerpt, retry_after},
};
use http::{HeaderMap, StatusCode};
use serde_json::Value;

pub(crate) fn classify(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Option<ExchangeError> {
    if status.is_success() {
        return response::unless_json(status, body);
    }
    let retry_after = retry_after(headers);
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|json| json.get("message").and_then(Value::as_str).map(str::to_owned));
    let Some(message) = message else {
        let kind = match status.as_u16() {
            429 => ExchangeErrorKind::RateLimited { retry_after },
            _ => ExchangeErrorKind::Other,
        };
        return Some(ExchangeError::new(
            kind,
            status.as_u16(),
            None,
            format!("HTTP {status} without a Coinbase error body"),
        ));
    };
    let lower = message.to_ascii_lowercase();
    let kind = if lower.contains("invalid signature") {
        ExchangeErrorKind::InvalidSignature
    } else if lower.contains("timestamp") {
        // "request timestamp expired", "invalid timestamp".
        ExchangeErrorKind::TimestampOutsideWindow
    } else if status == StatusCode::TOO_MANY_REQUESTS || lower.contains("rate limit exceeded") {
        ExchangeErrorKind::RateLimited { retry_after }
    } else if status == StatusCode::UNAUTHORIZED
        || lower.contains("invalid api key")
        || lower.contains("invalid passphrase")
    {
        ExchangeErrorKind::Authentication
    } else if status == StatusCode::FORBIDDEN {
        // "Forbidden": the key lacks the permission (view/trade/transfer) or the IP is not allowed.
        ExchangeErrorKind::InsufficientPermission
    } else {
        ExchangeErrorKind::Other
    };
    Some(ExchangeError::new(
        kind,
        status.as_u16(),
        None,
        message_excerpt(&message),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::response::MAX_MESSAGE_CHARS;
    use proptest::prelude::*;
    use std::time::Duration;

    fn classify_body(status: u16, body: &str) -> Option<ExchangeError> {
        classify(
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body.as_bytes(),
        )
    }

    #[test]
    fn documented_messages_map_to_their_kind() {
        let cases = [
            (401, "invalid signature", ExchangeErrorKind::InvalidSignature),
            (
                400,
                "request timestamp expired",
                ExchangeErrorKind::TimestampOutsideWindow,
            ),
            (401, "Invalid API Key", ExchangeErrorKind::Authentication),
            (401, "Invalid Passphrase", ExchangeErrorKind::Authentication),
            (401, "Unauthorized.", ExchangeErrorKind::Authentication),
            (403, "Forbidden", ExchangeErrorKind::InsufficientPermission),
            (
                429,
                "Private rate limit exceeded",
                ExchangeErrorKind::RateLimited { retry_after: None },
            ),
            (400, "Insufficient funds", ExchangeErrorKind::Other),
            (404, "NotFound", ExchangeErrorKind::Other),
        ];
        for (status, message, kind) in cases {
            let err = classify_body(status, &format!(r#"{{"message":"{message}"}}"#)).unwrap();
            assert_eq!(err.kind, kind, "{message}");
            assert_eq!(err.message, message);
            assert_eq!((err.status, err.code), (status, None));
        }
    }

    #[test]
    fn success_is_none() {
        assert!(classify_body(200, r#"{"iso":"2015-01-07T23:47:25.201Z","epoch":1420674445.201}"#).is_none());
        assert!(classify_body(200, r#"{"message":"looks like an error but is a 200"}"#).is_none());
    }

    #[test]
    fn rate_limit_uses_retry_after_and_non_json_is_other() {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::RETRY_AFTER, "1".parse().unwrap());
        let err = classify(StatusCode::TOO_MANY_REQUESTS, &headers, b"slow down").unwrap();
        assert_eq!(
            err.kind,
            ExchangeErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(1))
            }
        );
        let err = classify_body(500, "<html>oops</html>").unwrap();
        assert_eq!((err.kind, err.status), (ExchangeErrorKind::Other, 500));
        assert!(!err.message.contains("<html>"));
    }

    #[test]
    fn nasty_inputs_do_not_panic() {
        let deep = "[".repeat(100_000);
        for body in [
            r#"{"message":7}"#,
            r#"{"message":null}"#,
            "\u{0}",
            &deep,
            r#""message""#,
        ] {
            let _ = classify_body(400, body);
        }
        let long = format!(r#"{{"message":"{}"}}"#, "ß".repeat(5_000));
        assert_eq!(
            classify_body(400, &long).unwrap().message.chars().count(),
            MAX_MESSAGE_CHARS
        );
    }

    proptest! {
        #[test]
        fn never_panics(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = classify(StatusCode::from_u16(status).unwrap(), &HeaderMap::new(), &body);
        }

        #[test]
        fn never_panics_on_any_message(status in 400u16..600, message in ".{0,80}") {
            let body = serde_json::json!({ "message": message }).to_string();
            prop_assert!(classify(StatusCode::from_u16(status).unwrap(), &HeaderMap::new(), body.as_bytes()).is_some());
        }
    }
}
