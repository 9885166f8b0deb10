use crate::support::*;
use keyward_mock::{MockCredentials, MockExchange, Rejection, RunningMock, Verdict};

async fn mock_at(offset_ms: i64) -> RunningMock {
    MockExchange::builder("bybit")
        .unwrap()
        .credentials(MockCredentials::new(KEY, SECRET))
        .credentials(MockCredentials::new("XXXXXXXXXX", SECRET))
        .clock_offset_ms(offset_ms)
        .start()
        .await
        .unwrap()
}

/// Signs as the v5 guide says: hex HMAC-SHA256 of `timestamp + key + recv_window + payload`.
fn signed(
    request: reqwest::RequestBuilder,
    key: &str,
    secret: &str,
    timestamp: i64,
    payload: &str,
) -> reqwest::RequestBuilder {
    let signature = hex::encode(hmac_sha256(
        secret.as_bytes(),
        format!("{timestamp}{key}5000{payload}").as_bytes(),
    ));
    request
        .header("X-BAPI-API-KEY", key)
        .header("X-BAPI-TIMESTAMP", timestamp.to_string())
        .header("X-BAPI-RECV-WINDOW", "5000")
        .header("X-BAPI-SIGN", signature)
}

fn order(mock: &RunningMock, body: &str, secret: &str, signed_body: &str) -> reqwest::RequestBuilder {
    let request = client()
        .post(format!("{}/v5/order/create", mock.base_url()))
        .header("content-type", "application/json")
        .body(body.to_owned());
    signed(request, KEY, secret, mock.now_ms(), signed_body)
}

const ORDER: &str = r#"{"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.1", "orderLinkId": "test-link-1"}"#;

#[tokio::test]
async fn documented_string_to_sign_is_what_is_verified() {
    // The guide's GET example: its string-to-sign, signed with our own secret (it publishes none).
    let mock = mock_at(offset_to(1_658_384_314_791)).await;
    let url = format!(
        "{}/v5/order/realtime?category=option&symbol=BTC-29JUL22-25000-C",
        mock.base_url()
    );
    let signature = hex::encode(hmac_sha256(
        SECRET.as_bytes(),
        b"1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C",
    ));
    let answer = send(
        client()
            .get(url)
            .header("X-BAPI-API-KEY", "XXXXXXXXXX")
            .header("X-BAPI-TIMESTAMP", "1658384314791")
            .header("X-BAPI-RECV-WINDOW", "5000")
            .header("X-BAPI-SIGN", signature),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json["retCode"], 0, "{}", answer.json);
    assert_eq!(answer.json["result"]["params"]["symbol"], "BTC-29JUL22-25000-C");
}

#[tokio::test]
async fn order_signed_over_the_raw_body_is_executed() {
    let mock = mock_at(0).await;
    let answer = send(order(&mock, ORDER, SECRET, ORDER)).await;
    assert_eq!(answer.json["retCode"], 0, "{}", answer.json);
    assert_eq!(answer.json["retMsg"], "OK");
    assert_eq!(answer.json["result"]["orderLinkId"], "test-link-1");
    let orders = mock.orders();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].client_order_id.as_deref(), Some("test-link-1"));
    assert_eq!(answer.json["result"]["orderId"], orders[0].order_id);
    assert_eq!(orders[0].param("qty").as_deref(), Some("0.1"));
}

#[tokio::test]
async fn refusals_are_http_200_with_bybit_codes() {
    let mock = mock_at(0).await;
    let wrong_secret = send(order(&mock, ORDER, WRONG_SECRET, ORDER)).await;
    let changed_body = send(order(&mock, &ORDER.replace("0.1", "10"), SECRET, ORDER)).await;
    let stale = send(signed(
        client().get(format!(
            "{}/v5/account/wallet-balance?accountType=UNIFIED",
            mock.base_url()
        )),
        KEY,
        SECRET,
        mock.now_ms() - 6_000,
        "accountType=UNIFIED",
    ))
    .await;
    let unknown = send(signed(
        client().get(format!(
            "{}/v5/account/wallet-balance?accountType=UNIFIED",
            mock.base_url()
        )),
        UNKNOWN_KEY,
        SECRET,
        mock.now_ms(),
        "accountType=UNIFIED",
    ))
    .await;
    let missing = send(client().get(format!("{}/v5/account/wallet-balance", mock.base_url()))).await;

    for (answer, code) in [
        (&wrong_secret, 10004),
        (&changed_body, 10004),
        (&stale, 10002),
        (&unknown, 10003),
        (&missing, 10001),
    ] {
        assert_eq!(answer.status, 200);
        assert_eq!(answer.json["retCode"], code, "{}", answer.json);
        assert_eq!(answer.json["result"], serde_json::json!({}));
        assert!(answer.json["time"].as_i64().is_some());
    }
    let message = wrong_secret.json["retMsg"].as_str().unwrap();
    assert!(message.starts_with("error sign! origin_string["), "{message}");
    assert!(
        !message.contains(KEY),
        "the error must not carry the full key: {message}"
    );
    assert!(stale.json["retMsg"].as_str().unwrap().contains("recv_window[5000]"));
    assert_eq!(unknown.json["retMsg"], "API key is invalid.");
    assert!(mock.orders().is_empty());

    let verdicts: Vec<Verdict> = mock.requests().iter().map(|r| r.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Rejected(Rejection::BadSignature),
            Verdict::Rejected(Rejection::BadSignature),
            Verdict::Rejected(Rejection::TimestampOutsideWindow),
            Verdict::Rejected(Rejection::UnknownKey),
            Verdict::Rejected(Rejection::MissingAuth),
        ]
    );
}

#[tokio::test]
async fn a_timestamp_ahead_of_the_server_is_refused() {
    let mock = mock_at(0).await;
    let answer = send(signed(
        client().get(format!("{}/v5/position/list?category=linear", mock.base_url())),
        KEY,
        SECRET,
        mock.now_ms() + 2_000,
        "category=linear",
    ))
    .await;
    assert_eq!(answer.json["retCode"], 10002);
}
