use crate::support::*;
use keyward_mock::{MockCredentials, MockExchange, Rejection, RunningMock, Verdict};
use serde_json::json;

// Coinbase secrets are base64; this one decodes to "test-only-coinbase-secret".
const CB_SECRET: &str = "dGVzdC1vbmx5LWNvaW5iYXNlLXNlY3JldA==";
const CB_WRONG_SECRET: &str = "dGVzdC1vbmx5LXdyb25nLXNlY3JldA==";

async fn mock() -> RunningMock {
    MockExchange::builder("coinbase")
        .unwrap()
        .credentials(MockCredentials::new(KEY, CB_SECRET).with_passphrase(PASSPHRASE))
        .start()
        .await
        .unwrap()
}

fn seconds(millis: i64) -> String {
    format!("{}.{:03}", millis / 1000, millis % 1000)
}

/// Signs as Coinbase documents: base64 HMAC-SHA256, keyed with the decoded secret, of
/// `timestamp + METHOD + requestPath + body`.
fn request(
    mock: &RunningMock,
    key: &str,
    method: &str,
    path_and_query: &str,
    body: &str,
    secret: &str,
    timestamp: &str,
) -> reqwest::RequestBuilder {
    let prehash = format!("{timestamp}{method}{path_and_query}{body}");
    let signature = b64(&hmac_sha256(&b64_decode(secret), prehash.as_bytes()));
    client()
        .request(method.parse().unwrap(), format!("{}{path_and_query}", mock.base_url()))
        .header("CB-ACCESS-KEY", key)
        .header("CB-ACCESS-SIGN", signature)
        .header("CB-ACCESS-TIMESTAMP", timestamp)
        .header("content-type", "application/json")
        .body(body.to_owned())
}

const ORDER: &str = r#"{"product_id":"BTC-USD","side":"buy","type":"limit","price":"100.00","size":"0.01","client_oid":"test-client-oid-1"}"#;

#[tokio::test]
async fn signed_requests_are_served_and_orders_executed() {
    let mock = mock().await;
    let now = seconds(mock.now_ms());
    let answer = send(
        request(&mock, KEY, "GET", "/accounts?limit=5", "", CB_SECRET, &now).header("CB-ACCESS-PASSPHRASE", PASSPHRASE),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["path"], "/accounts");
    assert_eq!(answer.json["params"]["limit"], "5");

    let answer =
        send(request(&mock, KEY, "POST", "/orders", ORDER, CB_SECRET, &now).header("CB-ACCESS-PASSPHRASE", PASSPHRASE))
            .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["status"], "pending");
    assert_eq!(answer.json["client_oid"], "test-client-oid-1");
    let orders = mock.orders();
    assert_eq!(orders[0].client_order_id.as_deref(), Some("test-client-oid-1"));
    assert_eq!(answer.json["id"], orders[0].order_id);

    // Whole seconds are a valid timestamp too.
    let whole = (mock.now_ms() / 1000).to_string();
    let answer =
        send(request(&mock, KEY, "GET", "/accounts", "", CB_SECRET, &whole).header("CB-ACCESS-PASSPHRASE", PASSPHRASE))
            .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
}

#[tokio::test]
async fn refusals_carry_coinbase_messages() {
    let mock = mock().await;
    let now = seconds(mock.now_ms());
    let stale = seconds(mock.now_ms() - 31_000);
    let with_passphrase = |request: reqwest::RequestBuilder| request.header("CB-ACCESS-PASSPHRASE", PASSPHRASE);

    let cases = [
        (
            with_passphrase(request(&mock, KEY, "POST", "/orders", ORDER, CB_WRONG_SECRET, &now)),
            401,
            "invalid signature",
            Rejection::BadSignature,
        ),
        (
            with_passphrase(request(&mock, KEY, "POST", "/orders", ORDER, CB_SECRET, &now))
                .body(ORDER.replace("0.01", "1.00")),
            401,
            "invalid signature",
            Rejection::BadSignature,
        ),
        (
            with_passphrase(request(&mock, KEY, "POST", "/orders", ORDER, CB_SECRET, &stale)),
            401,
            "request timestamp expired",
            Rejection::TimestampOutsideWindow,
        ),
        (
            with_passphrase(request(&mock, UNKNOWN_KEY, "POST", "/orders", ORDER, CB_SECRET, &now)),
            401,
            "Invalid API Key",
            Rejection::UnknownKey,
        ),
        (
            request(&mock, KEY, "POST", "/orders", ORDER, CB_SECRET, &now)
                .header("CB-ACCESS-PASSPHRASE", "test-only-wrong"),
            401,
            "Invalid Passphrase",
            Rejection::BadPassphrase,
        ),
        (
            request(&mock, KEY, "POST", "/orders", ORDER, CB_SECRET, &now),
            400,
            "CB-ACCESS-PASSPHRASE header is required",
            Rejection::MissingAuth,
        ),
        (
            client().get(format!("{}/accounts", mock.base_url())),
            401,
            "CB-ACCESS-KEY header is required",
            Rejection::MissingAuth,
        ),
    ];
    for (request, status, message, rejection) in cases {
        let answer = send(request).await;
        assert_eq!(answer.status, status, "{message}");
        assert_eq!(answer.json, json!({"message": message}));
        assert_eq!(mock.requests().last().unwrap().verdict, Verdict::Rejected(rejection));
    }
    assert!(mock.orders().is_empty());
}

#[tokio::test]
async fn products_are_public_and_secrets_must_be_base64() {
    let mock = mock().await;
    let answer = send(client().get(format!("{}/products/BTC-USD/book?level=2", mock.base_url()))).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json["params"]["level"], "2");

    let error = MockExchange::builder("coinbase")
        .unwrap()
        .credentials(MockCredentials::new(KEY, "test-only secret, not base64!"))
        .start()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(!error.to_string().contains("not base64!"));
}
