//! Kraken error responses: an `error` array of `"<E|W><Category>:<message>"` strings, usually on HTTP 200.

use crate::exchange::{
    ExchangeError, ExchangeErrorKind,
    response::{self, body_excerpt, message_excerpt, retry_after},
};
use http::{HeaderMap, StatusCode};
use serde_json::Value;

/// Classifies a Kraken spot REST response, or `None` for a success (warnings alone are a success).
pub(super) fn classify(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Option<ExchangeError> {
    let errors: Vec<String> = match serde_json::from_slice::<Value>(body) {
        Ok(value) => {
            let entries = match value.get("error") {
                Some(Value::Array(entries)) => entries.iter().filter_map(Value::as_str).collect(),
                Some(Value::String(entry)) => vec![entry.as_str()],
                _ => Vec::new(),
            };
            entries
                .into_iter()
                // Kraken prefixes warnings with `W`; they do not make the call fail.
                .filter(|entry| entry.starts_with('E'))
                .map(str::to_owned)
                .collect()
        }
        Err(_) if status.is_success() => {
            return (!response::is_blank(body)).then(|| response::unreadable_answer(status, body));
        }
        Err(_) => return Some(other_http_error(status, headers, body)),
    };
    let Some(first) = errors.first() else {
        return (!status.is_success()).then(|| other_http_error(status, headers, body));
    };
    let kind = kind_of(first, headers);
    Some(ExchangeError::new(
        kind,
        status.as_u16(),
        Some(message_excerpt(first)),
        message_excerpt(&errors.join("; ")),
    ))
}

fn kind_of(error: &str, headers: &HeaderMap) -> ExchangeErrorKind {
    let is = |prefix: &str| error.starts_with(prefix);
    if is("EAPI:Invalid key") {
        ExchangeErrorKind::Authentication
    } else if is("EAPI:Invalid signature") {
        ExchangeErrorKind::InvalidSignature
    } else if is("EAPI:Invalid nonce") {
        ExchangeErrorKind::TimestampOutsideWindow
    } else if is("EAPI:Rate limit exceeded") || is("EOrder:Rate limit exceeded") || is("EGeneral:Too many requests") {
        ExchangeErrorKind::RateLimited {
            retry_after: retry_after(headers),
        }
    } else if is("EGeneral:Temporary lockout") {
        ExchangeErrorKind::Banned {
            retry_after: retry_after(headers),
        }
    } else if is("EGeneral:Permission denied") || is("EAPI:Feature disabled") {
        ExchangeErrorKind::InsufficientPermission
    } else {
        ExchangeErrorKind::Other
    }
}

fn other_http_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ExchangeError {
    let kind = if status == StatusCode::TOO_MANY_REQUESTS {
        ExchangeErrorKind::RateLimited {
            retry_after: retry_after(headers),
        }
    } else {
        ExchangeErrorKind::Other
    };
    ExchangeError::new(kind, status.as_u16(), None, body_excerpt(status, body))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use http::header::RETRY_AFTER;
    use proptest::prelude::*;
    use std::time::Duration;

    fn classify_ok(body: &str) -> Option<ExchangeError> {
        classify(StatusCode::OK, &HeaderMap::new(), body.as_bytes())
    }

    #[test]
    fn documented_errors_map_to_their_kind_and_code() {
        let cases = [
            ("EAPI:Invalid key", ExchangeErrorKind::Authentication),
            ("EAPI:Invalid signature", ExchangeErrorKind::InvalidSignature),
            ("EAPI:Invalid nonce", ExchangeErrorKind::TimestampOutsideWindow),
            (
                "EAPI:Rate limit exceeded",
                ExchangeErrorKind::RateLimited { retry_after: None },
            ),
            (
                "EOrder:Rate limit exceeded",
                ExchangeErrorKind::RateLimited { retry_after: None },
            ),
            (
                "EGeneral:Temporary lockout",
                ExchangeErrorKind::Banned { retry_after: None },
            ),
            ("EGeneral:Permission denied", ExchangeErrorKind::InsufficientPermission),
            ("EAPI:Feature disabled", ExchangeErrorKind::InsufficientPermission),
            ("EGeneral:Invalid arguments:volume", ExchangeErrorKind::Other),
            ("EOrder:Insufficient funds", ExchangeErrorKind::Other),
        ];
        for (error, kind) in cases {
            let body = format!(r#"{{"error":["{error}"],"result":{{}}}}"#);
            let classified = classify_ok(&body).unwrap();
            assert_eq!(classified.kind, kind, "{error}");
            assert_eq!(classified.code.as_deref(), Some(error));
            assert_eq!(classified.status, 200);
        }
    }

    #[test]
    fn a_single_error_string_is_read_too() {
        let classified = classify_ok(r#"{"error":"EAPI:Invalid key"}"#).unwrap();
        assert_eq!(classified.kind, ExchangeErrorKind::Authentication);
    }

    #[test]
    fn successes_and_warnings_are_not_errors() {
        assert!(classify_ok(r#"{"error":[],"result":{"unixtime":1688669448}}"#).is_none());
        assert!(classify_ok(r#"{"result":{}}"#).is_none());
        assert!(classify_ok(r#"{"error":["WGeneral:Deprecated"],"result":{}}"#).is_none());
    }

    #[test]
    fn all_errors_are_kept_in_the_message_and_the_first_decides() {
        let classified =
            classify_ok(r#"{"error":["WGeneral:Deprecated","EAPI:Invalid nonce","EGeneral:Internal error"]}"#).unwrap();
        assert_eq!(classified.kind, ExchangeErrorKind::TimestampOutsideWindow);
        assert_eq!(classified.message, "EAPI:Invalid nonce; EGeneral:Internal error");
    }

    #[test]
    fn retry_after_header_is_read_for_rate_limits() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        let classified = classify(StatusCode::OK, &headers, br#"{"error":["EAPI:Rate limit exceeded"]}"#).unwrap();
        assert_eq!(
            classified.kind,
            ExchangeErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(7))
            }
        );
    }

    #[test]
    fn non_json_error_pages_are_other_with_the_status() {
        let classified = classify(
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
            b"<html>502 Bad Gateway</html>",
        )
        .unwrap();
        assert_eq!(classified.kind, ExchangeErrorKind::Other);
        assert_eq!(classified.status, 502);
        assert!(classified.message.contains("502"));
        let empty = classify(StatusCode::SERVICE_UNAVAILABLE, &HeaderMap::new(), b"").unwrap();
        assert_eq!(empty.message, "Service Unavailable");
        // A success status with a body that is not Kraken's: unknown whether it took effect.
        let page = classify(StatusCode::OK, &HeaderMap::new(), b"<html>maintenance</html>").unwrap();
        assert_eq!(page.kind, ExchangeErrorKind::UnreadableAnswer);
        assert!(!page.kind.not_executed());
        assert!(classify(StatusCode::OK, &HeaderMap::new(), b"").is_none());
        let limited = classify(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), b"slow down").unwrap();
        assert!(matches!(limited.kind, ExchangeErrorKind::RateLimited { .. }));
    }

    #[test]
    fn nasty_bodies_do_not_panic() {
        let deep = "[".repeat(100_000);
        for body in [
            deep.as_str(),
            r#"{"error":[1,null,{"a":1}]}"#,
            "\u{0}\u{ffff}",
            r#"{"error":["E"]}"#,
        ] {
            let _ = classify(StatusCode::OK, &HeaderMap::new(), body.as_bytes());
            let _ = classify(StatusCode::INTERNAL_SERVER_ERROR, &HeaderMap::new(), body.as_bytes());
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let status = StatusCode::from_u16(status).unwrap();
            let _ = classify(status, &HeaderMap::new(), &body);
        }
    }
}
