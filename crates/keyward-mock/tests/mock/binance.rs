use crate::support::*;
use ed25519_dalek::{Signer, SigningKey, pkcs8::DecodePrivateKey};
use keyward_mock::{MockCredentials, MockExchange, Rejection, RunningMock, Verdict};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::json;

// Binance's published documentation example key (testdata/vectors.json).
const DOC_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const DOC_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
const DOC_PAYLOAD: &str =
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
const DOC_TIMESTAMP: i64 = 1_499_827_319_559;
// The Ed25519 key Binance published with its FIX example (testdata/vectors.json).
const DOC_ED25519_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n-----END PRIVATE KEY-----\n";

async fn mock_at(offset_ms: i64) -> RunningMock {
    MockExchange::builder("binance")
        .unwrap()
        .credentials(MockCredentials::new(DOC_KEY, DOC_SECRET))
        .credentials(MockCredentials::new(KEY, SECRET))
        .credentials(MockCredentials::new("test-only-ed25519-key", DOC_ED25519_PEM))
        .clock_offset_ms(offset_ms)
        .start()
        .await
        .unwrap()
}

fn hmac_hex(secret: &str, payload: &str) -> String {
    hex::encode(hmac_sha256(secret.as_bytes(), payload.as_bytes()))
}

async fn signed_get(mock: &RunningMock, key: &str, query: &str) -> Answer {
    let url = format!("{}/api/v3/account?{query}", mock.base_url());
    send(client().get(url).header("X-MBX-APIKEY", key)).await
}

fn fresh_query(mock: &RunningMock, secret: &str) -> String {
    let query = format!("omitZeroBalances=true&timestamp={}", mock.now_ms());
    format!("{query}&signature={}", hmac_hex(secret, &query))
}

#[tokio::test]
async fn documented_order_is_accepted_at_its_timestamp_in_the_body() {
    let mock = mock_at(offset_to(DOC_TIMESTAMP)).await;
    let body = format!(
        "{DOC_PAYLOAD}&signature={}",
        "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    );
    let answer = send(
        client()
            .post(format!("{}/api/v3/order", mock.base_url()))
            .header("X-MBX-APIKEY", DOC_KEY)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone()),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["symbol"], "LTCBTC");
    assert_eq!(answer.json["status"], "NEW");
    assert_eq!(answer.json["origQty"], "1");

    let orders = mock.orders();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].param("price").as_deref(), Some("0.1"));
    assert_eq!(answer.json["clientOrderId"], orders[0].client_order_id.clone().unwrap());
    assert_eq!(answer.json["orderId"].to_string(), orders[0].order_id);
    let recorded = &mock.requests()[0];
    assert_eq!(recorded.body_text(), body);
    assert_eq!(recorded.verdict, Verdict::Accepted);
}

#[tokio::test]
async fn documented_signatures_are_accepted_in_the_query_and_percent_encoded() {
    let mock = mock_at(offset_to(DOC_TIMESTAMP)).await;
    let in_query = format!(
        "{}/api/v3/order?{DOC_PAYLOAD}&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71",
        mock.base_url()
    );
    let answer = send(client().post(in_query).header("X-MBX-APIKEY", DOC_KEY)).await;
    assert_eq!(answer.status, 200, "{}", answer.json);

    let non_ascii = "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
    let body = format!("{non_ascii}&signature=e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3");
    let answer = send(
        client()
            .post(format!("{}/api/v3/order", mock.base_url()))
            .header("X-MBX-APIKEY", DOC_KEY)
            .body(body),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["symbol"], "１２３４５６");
    assert_eq!(mock.orders().len(), 2);
}

#[tokio::test]
async fn documented_timestamp_only_signature_is_accepted() {
    let mock = mock_at(offset_to(1_578_963_600_000)).await;
    let query = "timestamp=1578963600000&signature=d84e6641b1e328e7b418fff030caed655c266299c9355e36ce801ed14631eed4";
    let answer = signed_get(&mock, DOC_KEY, query).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["path"], "/api/v3/account");
    assert_eq!(answer.json["params"]["timestamp"], "1578963600000");
}

#[tokio::test]
async fn query_and_body_are_concatenated_without_separator() {
    let mock = mock_at(0).await;
    let query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC";
    let body = format!("quantity=1&price=0.1&recvWindow=5000&timestamp={}", mock.now_ms());
    let signature = hmac_hex(SECRET, &format!("{query}{body}"));
    let answer = send(
        client()
            .post(format!("{}/api/v3/order?{query}", mock.base_url()))
            .header("X-MBX-APIKEY", KEY)
            .body(format!("{body}&signature={signature}")),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);

    // Joining the parts with `&` is a different payload.
    let body = format!("quantity=1&price=0.1&recvWindow=5000&timestamp={}", mock.now_ms());
    let signature = hmac_hex(SECRET, &format!("{query}&{body}"));
    let answer = send(
        client()
            .post(format!("{}/api/v3/order?{query}", mock.base_url()))
            .header("X-MBX-APIKEY", KEY)
            .body(format!("{body}&signature={signature}")),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json,
        json!({"code": -1022, "msg": "Signature for this request is not valid."})
    );
}

#[tokio::test]
async fn hmac_signatures_are_case_insensitive() {
    let mock = mock_at(0).await;
    let query = format!("timestamp={}", mock.now_ms());
    let signature = hmac_hex(SECRET, &query).to_uppercase();
    let answer = signed_get(&mock, KEY, &format!("{query}&signature={signature}")).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
}

#[tokio::test]
async fn wrong_secret_and_tampered_body_are_invalid_signatures() {
    let mock = mock_at(0).await;
    let answer = signed_get(&mock, KEY, &fresh_query(&mock, WRONG_SECRET)).await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json,
        json!({"code": -1022, "msg": "Signature for this request is not valid."})
    );

    let body = format!(
        "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=1&timestamp={}",
        mock.now_ms()
    );
    let signed = format!("{body}&signature={}", hmac_hex(SECRET, &body));
    let tampered = signed.replace("quantity=1", "quantity=9");
    let answer = send(
        client()
            .post(format!("{}/api/v3/order", mock.base_url()))
            .header("X-MBX-APIKEY", KEY)
            .body(tampered),
    )
    .await;
    assert_eq!(answer.json["code"], -1022);
    assert!(mock.orders().is_empty(), "a rejected order must not execute");
    let verdicts: Vec<Verdict> = mock.requests().iter().map(|r| r.verdict).collect();
    assert_eq!(verdicts, [Verdict::Rejected(Rejection::BadSignature); 2]);
}

#[tokio::test]
async fn timestamps_outside_the_window_are_refused_with_1021() {
    let mock = mock_at(0).await;
    for (timestamp, message) in [
        (
            mock.now_ms() - 6_000,
            "Timestamp for this request is outside of the recvWindow.",
        ),
        (
            mock.now_ms() + 2_000,
            "Timestamp for this request was 1000ms ahead of the server's time.",
        ),
    ] {
        let query = format!("timestamp={timestamp}");
        let query = format!("{query}&signature={}", hmac_hex(SECRET, &query));
        let answer = signed_get(&mock, KEY, &query).await;
        assert_eq!(answer.status, 400);
        assert_eq!(answer.json, json!({"code": -1021, "msg": message}));
    }
    // A wider recvWindow, signed, lets the old timestamp through.
    let query = format!("recvWindow=10000&timestamp={}", mock.now_ms() - 6_000);
    let query = format!("{query}&signature={}", hmac_hex(SECRET, &query));
    assert_eq!(signed_get(&mock, KEY, &query).await.status, 200);
}

#[tokio::test]
async fn key_problems_are_401() {
    let mock = mock_at(0).await;
    let answer = signed_get(&mock, UNKNOWN_KEY, &fresh_query(&mock, SECRET)).await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.json,
        json!({"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."})
    );

    let url = format!("{}/api/v3/account?{}", mock.base_url(), fresh_query(&mock, SECRET));
    let answer = send(client().get(url)).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.json, json!({"code": -2014, "msg": "API-key format invalid."}));

    let answer = signed_get(&mock, KEY, &format!("timestamp={}", mock.now_ms())).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json["code"], -1102);
    let rejections: Vec<Verdict> = mock.requests().iter().map(|r| r.verdict).collect();
    assert_eq!(
        rejections,
        [
            Verdict::Rejected(Rejection::UnknownKey),
            Verdict::Rejected(Rejection::MissingAuth),
            Verdict::Rejected(Rejection::MissingAuth)
        ]
    );
}

#[tokio::test]
async fn ed25519_keys_are_verified_with_their_public_key() {
    let mock = mock_at(0).await;
    let signing_key = SigningKey::from_pkcs8_pem(DOC_ED25519_PEM).unwrap();
    let payload = format!(
        "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.5&timestamp={}",
        mock.now_ms()
    );
    let signature = b64(&signing_key.sign(payload.as_bytes()).to_bytes());
    let encoded = utf8_percent_encode(&signature, NON_ALPHANUMERIC).to_string();

    let post = |body: String| {
        client()
            .post(format!("{}/api/v3/order", mock.base_url()))
            .header("X-MBX-APIKEY", "test-only-ed25519-key")
            .body(body)
    };
    let answer = send(post(format!("{payload}&signature={encoded}"))).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["side"], "SELL");

    let tampered = format!("{}&signature={encoded}", payload.replace("0.5", "5"));
    let answer = send(post(tampered)).await;
    assert_eq!(answer.json["code"], -1022);

    // An HMAC over the PEM text is not an Ed25519 signature.
    let hmac_signature = hmac_hex(DOC_ED25519_PEM, &payload);
    let answer = send(post(format!("{payload}&signature={hmac_signature}"))).await;
    assert_eq!(answer.json["code"], -1022);
    assert_eq!(mock.orders().len(), 1);
}

#[tokio::test]
async fn test_order_endpoint_executes_nothing_and_public_endpoints_need_no_key() {
    let mock = mock_at(0).await;
    let body = format!(
        "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=1&timestamp={}",
        mock.now_ms()
    );
    let answer = send(
        client()
            .post(format!("{}/api/v3/order/test", mock.base_url()))
            .header("X-MBX-APIKEY", KEY)
            .body(format!("{body}&signature={}", hmac_hex(SECRET, &body))),
    )
    .await;
    assert_eq!((answer.status, answer.json), (200, json!({})));
    assert!(mock.orders().is_empty());

    let answer = send(client().get(format!("{}/api/v3/depth?symbol=BTCUSDT", mock.base_url()))).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json["params"]["symbol"], "BTCUSDT");
}

#[tokio::test]
async fn an_unparsable_pem_secret_is_refused_at_start() {
    let error = MockExchange::builder("binance")
        .unwrap()
        .credentials(MockCredentials::new(
            KEY,
            "-----BEGIN PRIVATE KEY-----\ntest-only-garbage\n-----END PRIVATE KEY-----\n",
        ))
        .start()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(!error.to_string().contains("test-only-garbage"));
}
