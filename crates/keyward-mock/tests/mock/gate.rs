use crate::support::*;
use keyward_mock::{MockCredentials, MockExchange, Rejection, RunningMock, Verdict};
use serde_json::json;
use sha2::{Digest, Sha512};

// Gate's documentation example: key "key", secret "secret", at 1541993715 (testdata/vectors.json).
const DOC_TIMESTAMP_MS: i64 = 1_541_993_715_000;
const DOC_POST_BODY: &str = r#"{"contract":"BTC_USD","type":"limit","size":100,"price":6800,"time_in_force":"gtc"}"#;

async fn mock_at(offset_ms: i64) -> RunningMock {
    MockExchange::builder("gate")
        .unwrap()
        .credentials(MockCredentials::new("key", "secret"))
        .credentials(MockCredentials::new(KEY, SECRET))
        .clock_offset_ms(offset_ms)
        .start()
        .await
        .unwrap()
}

/// Signs as Gate documents: hex HMAC-SHA512 of
/// `METHOD\npath\nquery\nhex(SHA512(body))\ntimestamp`.
fn sign(secret: &str, method: &str, path: &str, query: &str, body: &str, timestamp: &str) -> String {
    let body_hash = hex::encode(Sha512::digest(body.as_bytes()));
    let message = format!("{method}\n{path}\n{query}\n{body_hash}\n{timestamp}");
    hex::encode(hmac_sha512(secret.as_bytes(), message.as_bytes()))
}

fn request(
    mock: &RunningMock,
    method: &str,
    url: &str,
    key: &str,
    timestamp: &str,
    signature: &str,
    body: &str,
) -> reqwest::RequestBuilder {
    client()
        .request(method.parse().unwrap(), format!("{}{url}", mock.base_url()))
        .header("KEY", key)
        .header("Timestamp", timestamp)
        .header("SIGN", signature)
        .header("content-type", "application/json")
        .body(body.to_owned())
}

#[tokio::test]
async fn documented_examples_are_accepted_at_their_timestamp() {
    let mock = mock_at(offset_to(DOC_TIMESTAMP_MS)).await;
    let get = request(
        &mock,
        "GET",
        "/api/v4/futures/orders?contract=BTC_USD&status=finished&limit=50",
        "key",
        "1541993715",
        "55f84ea195d6fe57ce62464daaa7c3c02fa9d1dde954e4c898289c9a2407a3d6fb3faf24deff16790d726b66ac9f74526668b13bd01029199cc4fcc522418b8a",
        "",
    );
    let answer = send(get).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["params"]["status"], "finished");

    let post = request(
        &mock,
        "POST",
        "/api/v4/futures/orders",
        "key",
        "1541993715",
        "eae42da914a590ddf727473aff25fc87d50b64783941061f47a3fdb92742541fc4c2c14017581b4199a1418d54471c269c03a38d788d802e2c306c37636389f0",
        DOC_POST_BODY,
    );
    let answer = send(post).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["params"]["size"], 100);
}

#[tokio::test]
async fn spot_orders_are_executed_with_their_text() {
    let mock = mock_at(0).await;
    let timestamp = (mock.now_ms() / 1000).to_string();
    let body = r#"{"text":"t-test-1","currency_pair":"BTC_USDT","type":"limit","account":"spot","side":"buy","amount":"0.001","price":"65000"}"#;
    let signature = sign(SECRET, "POST", "/api/v4/spot/orders", "", body, &timestamp);
    let answer = send(request(
        &mock,
        "POST",
        "/api/v4/spot/orders",
        KEY,
        &timestamp,
        &signature,
        body,
    ))
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["text"], "t-test-1");
    assert_eq!(answer.json["status"], "open");
    let orders = mock.orders();
    assert_eq!(orders[0].client_order_id.as_deref(), Some("t-test-1"));
    assert_eq!(answer.json["id"], orders[0].order_id);
}

#[tokio::test]
async fn refusals_carry_gate_labels() {
    let mock = mock_at(0).await;
    let now = (mock.now_ms() / 1000).to_string();
    let stale = (mock.now_ms() / 1000 - 61).to_string();
    let path = "/api/v4/spot/accounts";
    let query = "currency=BTC";
    let url = format!("{path}?{query}");
    let good = sign(SECRET, "GET", path, query, "", &now);
    let cases = [
        (
            request(
                &mock,
                "GET",
                &url,
                KEY,
                &now,
                &sign(WRONG_SECRET, "GET", path, query, "", &now),
                "",
            ),
            401,
            "INVALID_SIGNATURE",
            Rejection::BadSignature,
        ),
        (
            request(&mock, "GET", &format!("{path}?currency=ETH"), KEY, &now, &good, ""),
            401,
            "INVALID_SIGNATURE",
            Rejection::BadSignature,
        ),
        (
            request(&mock, "GET", &url, UNKNOWN_KEY, &now, &good, ""),
            401,
            "INVALID_KEY",
            Rejection::UnknownKey,
        ),
        (
            request(
                &mock,
                "GET",
                &url,
                KEY,
                &stale,
                &sign(SECRET, "GET", path, query, "", &stale),
                "",
            ),
            403,
            "REQUEST_EXPIRED",
            Rejection::TimestampOutsideWindow,
        ),
        (
            client()
                .get(format!("{}{url}", mock.base_url()))
                .header("KEY", KEY)
                .header("Timestamp", &now),
            400,
            "MISSING_REQUIRED_HEADER",
            Rejection::MissingAuth,
        ),
    ];
    for (request, status, label, rejection) in cases {
        let answer = send(request).await;
        assert_eq!(answer.status, status, "{label}");
        assert_eq!(answer.json["label"], label, "{}", answer.json);
        assert_eq!(mock.requests().last().unwrap().verdict, Verdict::Rejected(rejection));
    }
    let answer = send(request(
        &mock,
        "GET",
        &url,
        KEY,
        &now,
        &sign(WRONG_SECRET, "GET", path, query, "", &now),
        "",
    ))
    .await;
    assert_eq!(
        answer.json,
        json!({"label": "INVALID_SIGNATURE", "message": "Signature mismatch"})
    );

    // A body changed after signing.
    let body = r#"{"currency_pair":"BTC_USDT","side":"buy","amount":"1","price":"1"}"#;
    let signature = sign(SECRET, "POST", "/api/v4/spot/orders", "", body, &now);
    let answer = send(request(
        &mock,
        "POST",
        "/api/v4/spot/orders",
        KEY,
        &now,
        &signature,
        &body.replace("\"1\"", "\"2\""),
    ))
    .await;
    assert_eq!(
        (answer.status, answer.json["label"].as_str()),
        (401, Some("INVALID_SIGNATURE"))
    );
    assert!(mock.orders().is_empty());
}
