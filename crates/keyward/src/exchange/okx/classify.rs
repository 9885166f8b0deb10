//! OKX v5 error responses: `{"code": "50113", "msg": "Invalid Sign", "data": []}`, where any
//! `code` other than `"0"` is an error, whatever the HTTP status (often 200).
//!
//! Batch endpoints answer `code` `"1"` (every item failed) or `"2"` (some succeeded) with the
//! per-item `sCode`/`sMsg` in `data`. A partial success is never "not executed", so `"2"` stays
//! [`ExchangeErrorKind::Other`]. See <https://www.okx.com/docs-v5/en/#error-code>.

use crate::exchange::{
    ExchangeError, ExchangeErrorKind,
    response::{self, code_text, message_excerpt, retry_after},
};
use http::{HeaderMap, StatusCode};
use serde_json::Value;
use std::time::Duration;

pub(crate) fn classify(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Option<ExchangeError> {
    let json = serde_json::from_slice::<Value>(body).ok();
    let code = json.as_ref().and_then(|v| v.get("code")).and_then(code_text);
    let retry_after = retry_after(headers);
    let has_code = code.is_some();
    let Some(code) = code.filter(|code| code != "0") else {
        if status.is_success() {
            // Every OKX answer carries `code`; a success without it came from something else.
            return (!has_code && !response::is_blank(body)).then(|| response::unreadable_answer(status, body));
        }
        let kind = match status.as_u16() {
            429 => ExchangeErrorKind::RateLimited { retry_after },
            _ => ExchangeErrorKind::Other,
        };
        return Some(ExchangeError::new(
            kind,
            status.as_u16(),
            None,
            format!("HTTP {status} without an OKX error body"),
        ));
    };

    let mut message = json
        .as_ref()
        .and_then(|v| v.get("msg"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let first_failure = json.as_ref().and_then(first_failed_item);
    if let Some((item_code, item_message)) = &first_failure {
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&format!("{item_message} (sCode {item_code})"));
    }
    if message.is_empty() {
        message = format!("HTTP {status}");
    }
    let kind = match (code.as_str(), &first_failure) {
        // Every item failed for the same reason as its first: classify by that reason.
        ("1", Some((item_code, _))) => kind_for_code(item_code, retry_after),
        _ => kind_for_code(&code, retry_after),
    };
    Some(ExchangeError::new(
        kind,
        status.as_u16(),
        Some(code),
        message_excerpt(&message),
    ))
}

fn kind_for_code(code: &str, retry_after: Option<Duration>) -> ExchangeErrorKind {
    match code {
        // Timestamp request expired; invalid OK-ACCESS-TIMESTAMP.
        "50102" | "50112" => ExchangeErrorKind::TimestampOutsideWindow,
        "50113" => ExchangeErrorKind::InvalidSignature,
        // API frozen; key for another environment (demo/live); a required header empty;
        // passphrase incorrect; invalid OK-ACCESS-KEY; invalid authorization.
        "50100" | "50101" | "50103" | "50104" | "50105" | "50106" | "50107" | "50111" | "50114" => {
            ExchangeErrorKind::Authentication
        }
        // The IP is not on the key's allow-list.
        "50110" => ExchangeErrorKind::InsufficientPermission,
        // Requests too frequent; sub-account rate limit.
        "50011" | "50061" => ExchangeErrorKind::RateLimited { retry_after },
        _ => ExchangeErrorKind::Other,
    }
}

fn first_failed_item(json: &Value) -> Option<(String, String)> {
    json.get("data")?.as_array()?.iter().find_map(|item| {
        let item_code = item.get("sCode").and_then(code_text).filter(|code| code != "0")?;
        let item_message = item.get("sMsg").and_then(Value::as_str).unwrap_or("").to_owned();
        Some((item_code, item_message))
    })
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
    fn documented_error_codes_map_to_their_kind() {
        let cases = [
            (
                401,
                "50102",
                "Timestamp request expired",
                ExchangeErrorKind::TimestampOutsideWindow,
            ),
            (
                401,
                "50112",
                "Invalid OK-ACCESS-TIMESTAMP",
                ExchangeErrorKind::TimestampOutsideWindow,
            ),
            (401, "50113", "Invalid Sign", ExchangeErrorKind::InvalidSignature),
            (401, "50111", "Invalid OK-ACCESS-KEY", ExchangeErrorKind::Authentication),
            (
                401,
                "50105",
                "Request header \\\"OK-ACCESS-PASSPHRASE\\\" incorrect",
                ExchangeErrorKind::Authentication,
            ),
            (
                401,
                "50101",
                "APIKey does not match current environment",
                ExchangeErrorKind::Authentication,
            ),
            (
                401,
                "50110",
                "Your IP 1.2.3.4 is not included in your API key's IP whitelist",
                ExchangeErrorKind::InsufficientPermission,
            ),
            (
                429,
                "50011",
                "Rate limit reached",
                ExchangeErrorKind::RateLimited { retry_after: None },
            ),
            (
                200,
                "51008",
                "Order failed. Insufficient USDT balance",
                ExchangeErrorKind::Other,
            ),
        ];
        for (status, code, message, kind) in cases {
            let body = format!(r#"{{"code":"{code}","msg":"{message}","data":[]}}"#);
            let err = classify_body(status, &body).unwrap();
            assert_eq!(err.kind, kind, "{body}");
            assert_eq!(err.code.as_deref(), Some(code));
            assert_eq!(err.status, status);
        }
    }

    #[test]
    fn success_is_none() {
        assert!(classify_body(200, r#"{"code":"0","msg":"","data":[{"ts":"1597026383085"}]}"#).is_none());
        assert!(classify_body(200, "").is_none());
        for body in ["<html>cdn</html>", r#"{"data":[]}"#] {
            assert_eq!(
                classify_body(200, body).unwrap().kind,
                ExchangeErrorKind::UnreadableAnswer
            );
        }
    }

    #[test]
    fn batch_failures_use_the_item_code_but_partial_success_stays_other() {
        let all_failed = r#"{"code":"1","msg":"All operations failed","data":[{"clOrdId":"a","sCode":"50011","sMsg":"Rate limit reached"}]}"#;
        let err = classify_body(200, all_failed).unwrap();
        assert_eq!(err.kind, ExchangeErrorKind::RateLimited { retry_after: None });
        assert_eq!(err.code.as_deref(), Some("1"));
        assert_eq!(err.message, "All operations failed: Rate limit reached (sCode 50011)");

        let partial = r#"{"code":"2","msg":"Batch operation partially succeeded","data":[{"sCode":"0","sMsg":""},{"sCode":"50011","sMsg":"Rate limit reached"}]}"#;
        let err = classify_body(200, partial).unwrap();
        assert_eq!(err.kind, ExchangeErrorKind::Other);
        assert!(!err.kind.not_executed());
    }

    #[test]
    fn rate_limit_status_and_retry_after() {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::RETRY_AFTER, "2".parse().unwrap());
        let err = classify(StatusCode::TOO_MANY_REQUESTS, &headers, b"Too Many Requests").unwrap();
        assert_eq!(
            err.kind,
            ExchangeErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(2))
            }
        );
        let gateway = classify_body(503, "<html>").unwrap();
        assert_eq!((gateway.kind, gateway.status), (ExchangeErrorKind::Other, 503));
    }

    #[test]
    fn nasty_inputs_do_not_panic() {
        let deep = "[".repeat(100_000);
        for body in [
            r#"{"code":50113}"#,
            r#"{"code":null}"#,
            r#"{"code":"1","data":"x"}"#,
            &deep,
            "\u{fffd}",
        ] {
            let _ = classify_body(200, body);
            let _ = classify_body(500, body);
        }
        assert_eq!(
            classify_body(200, r#"{"code":50113,"msg":"Invalid Sign"}"#)
                .unwrap()
                .kind,
            ExchangeErrorKind::InvalidSignature
        );
    }

    proptest! {
        #[test]
        fn never_panics(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = classify(StatusCode::from_u16(status).unwrap(), &HeaderMap::new(), &body);
        }

        #[test]
        fn never_panics_on_json_shaped_input(code in ".{0,6}", msg in ".{0,40}", s_code in ".{0,6}") {
            let body = serde_json::json!({"code": code, "msg": msg, "data": [{"sCode": s_code, "sMsg": msg}]}).to_string();
            let _ = classify(StatusCode::OK, &HeaderMap::new(), body.as_bytes());
        }
    }
}
