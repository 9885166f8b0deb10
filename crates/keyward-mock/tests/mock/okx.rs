use crate::support::*;
use keyward_mock::{MockCredentials, MockExchange, Rejection, RunningMock, Verdict};
use serde_json::json;

// The moment of OKX's documented timestamp example, so tests can sign with fixed strings.
const DOC_MOMENT_MS: i64 = 1_607_418_537_715;
const DOC_TIMESTAMP: &str = "2020-12-08T09:08:57.715Z";

async fn mock() -> RunningMock {
    MockExchange::builder("okx")
        .unwrap()
        .credentials(MockCredentials::new(KEY, SECRET).with_passphrase(PASSPHRASE))
        .clock_offset_ms(offset_to(DOC_MOMENT_MS))
        .start()
        .await
        .unwrap()
}

struct Signing<'a> {
    key: &'a str,
    secret: &'a str,
    passphrase: Option<&'a str>,
    timestamp: &'a str,
}

const GOOD: Signing<'static> = Signing {
    key: KEY,
    secret: SECRET,
    passphrase: Some(PASSPHRASE),
    timestamp: DOC_TIMESTAMP,
};

/// Signs as OKX documents: base64 HMAC-SHA256 of `timestamp + METHOD + requestPath + body`.
fn request(
    mock: &RunningMock,
    method: &str,
    path_and_query: &str,
    body: &str,
    signing: &Signing<'_>,
) -> reqwest::RequestBuilder {
    let prehash = format!("{}{method}{path_and_query}{body}", signing.timestamp);
    let signature = b64(&hmac_sha256(signing.secret.as_bytes(), prehash.as_bytes()));
    let mut request = client()
        .request(method.parse().unwrap(), format!("{}{path_and_query}", mock.base_url()))
        .header("OK-ACCESS-KEY", signing.key)
        .header("OK-ACCESS-SIGN", signature)
        .header("OK-ACCESS-TIMESTAMP", signing.timestamp)
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(passphrase) = signing.passphrase {
        request = request.header("OK-ACCESS-PASSPHRASE", passphrase);
    }
    request
}

const ORDER: &str = r#"{"instId":"BTC-USDT","tdMode":"cash","clOrdId":"testclordid1","side":"buy","ordType":"limit","px":"2.15","sz":"2"}"#;

#[tokio::test]
async fn signed_requests_are_served_and_orders_executed() {
    let mock = mock().await;
    let answer = send(request(&mock, "GET", "/api/v5/account/balance?ccy=BTC,ETH", "", &GOOD)).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["code"], "0");
    assert_eq!(answer.json["data"][0]["params"]["ccy"], "BTC,ETH");

    let answer = send(request(&mock, "POST", "/api/v5/trade/order", ORDER, &GOOD)).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["data"][0]["clOrdId"], "testclordid1");
    assert_eq!(answer.json["data"][0]["sCode"], "0");
    let orders = mock.orders();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].client_order_id.as_deref(), Some("testclordid1"));
    assert_eq!(answer.json["data"][0]["ordId"], orders[0].order_id);
}

#[tokio::test]
async fn refusals_carry_okx_codes_with_http_401() {
    let mock = mock().await;
    let cases = [
        (
            Signing {
                secret: WRONG_SECRET,
                ..GOOD
            },
            ORDER,
            "50113",
            "Invalid Sign",
            Rejection::BadSignature,
        ),
        (
            Signing {
                key: UNKNOWN_KEY,
                ..GOOD
            },
            ORDER,
            "50111",
            "Invalid OK-ACCESS-KEY",
            Rejection::UnknownKey,
        ),
        (
            Signing {
                passphrase: Some("test-only-wrong"),
                ..GOOD
            },
            ORDER,
            "50105",
            "Request header \"OK-ACCESS-PASSPHRASE\" incorrect.",
            Rejection::BadPassphrase,
        ),
        (
            Signing {
                passphrase: None,
                ..GOOD
            },
            ORDER,
            "50104",
            "Request header \"OK-ACCESS-PASSPHRASE\" cannot be empty.",
            Rejection::MissingAuth,
        ),
        (
            Signing {
                timestamp: "2020-12-08T09:08:00.000Z",
                ..GOOD
            },
            ORDER,
            "50102",
            "Timestamp request expired",
            Rejection::TimestampOutsideWindow,
        ),
        (
            Signing {
                timestamp: "1607418537715",
                ..GOOD
            },
            ORDER,
            "50112",
            "Invalid OK-ACCESS-TIMESTAMP",
            Rejection::TimestampOutsideWindow,
        ),
    ];
    for (signing, body, code, msg, rejection) in &cases {
        let answer = send(request(&mock, "POST", "/api/v5/trade/order", body, signing)).await;
        assert_eq!(answer.status, 401, "{code}");
        assert_eq!(answer.json, json!({"code": code, "msg": msg, "data": []}));
        assert_eq!(mock.requests().last().unwrap().verdict, Verdict::Rejected(*rejection));
    }

    // Signed, then changed on the way.
    let signed = request(&mock, "POST", "/api/v5/trade/order", ORDER, &GOOD)
        .build()
        .unwrap();
    let mut tampered = reqwest::Request::new(signed.method().clone(), signed.url().clone());
    *tampered.headers_mut() = signed.headers().clone();
    *tampered.body_mut() = Some(ORDER.replace("\"sz\":\"2\"", "\"sz\":\"20\"").into());
    let response = client().execute(tampered).await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["code"], "50113");
    assert!(mock.orders().is_empty());
}
