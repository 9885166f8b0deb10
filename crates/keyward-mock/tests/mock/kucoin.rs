use crate::support::*;
use keyward_mock::{MockCredentials, MockExchange, Rejection, RunningMock, Verdict};
use serde_json::json;

async fn mock() -> RunningMock {
    MockExchange::builder("kucoin")
        .unwrap()
        .credentials(MockCredentials::new(KEY, SECRET).with_passphrase(PASSPHRASE))
        .start()
        .await
        .unwrap()
}

struct Signing<'a> {
    key: &'a str,
    secret: &'a str,
    passphrase: &'a str,
    version: &'a str,
    timestamp: i64,
    /// Sends the passphrase as typed whatever the version says.
    raw_passphrase: bool,
}

fn good(mock: &RunningMock) -> Signing<'static> {
    Signing {
        key: KEY,
        secret: SECRET,
        passphrase: PASSPHRASE,
        version: "2",
        timestamp: mock.now_ms(),
        raw_passphrase: false,
    }
}

/// Signs as KuCoin documents for v2 keys: base64 HMAC-SHA256 of
/// `timestamp + METHOD + endpoint + body`, and the passphrase HMAC'd with the secret.
fn request(
    mock: &RunningMock,
    method: &str,
    path_and_query: &str,
    body: &str,
    signing: &Signing<'_>,
) -> reqwest::RequestBuilder {
    let prehash = format!("{}{method}{path_and_query}{body}", signing.timestamp);
    let signature = b64(&hmac_sha256(signing.secret.as_bytes(), prehash.as_bytes()));
    let passphrase = if signing.version == "1" || signing.raw_passphrase {
        signing.passphrase.to_owned()
    } else {
        b64(&hmac_sha256(signing.secret.as_bytes(), signing.passphrase.as_bytes()))
    };
    client()
        .request(method.parse().unwrap(), format!("{}{path_and_query}", mock.base_url()))
        .header("KC-API-KEY", signing.key)
        .header("KC-API-SIGN", signature)
        .header("KC-API-TIMESTAMP", signing.timestamp.to_string())
        .header("KC-API-PASSPHRASE", passphrase)
        .header("KC-API-KEY-VERSION", signing.version)
        .header("content-type", "application/json")
        .body(body.to_owned())
}

const ORDER: &str =
    r#"{"clientOid":"test-client-oid-1","side":"buy","symbol":"BTC-USDT","type":"limit","price":"10","size":"1"}"#;

#[tokio::test]
async fn signed_requests_are_served_and_orders_executed() {
    let mock = mock().await;
    let answer = send(request(
        &mock,
        "GET",
        "/api/v1/accounts?currency=BTC&type=trade",
        "",
        &good(&mock),
    ))
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["code"], "200000");
    assert_eq!(answer.json["data"]["params"]["type"], "trade");

    let answer = send(request(&mock, "POST", "/api/v1/orders", ORDER, &good(&mock))).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    let orders = mock.orders();
    assert_eq!(answer.json["data"]["orderId"], orders[0].order_id);
    assert_eq!(answer.json["data"]["clientOid"], "test-client-oid-1");
    assert_eq!(orders[0].client_order_id.as_deref(), Some("test-client-oid-1"));

    // A version 1 key sends its passphrase as typed.
    let v1 = Signing {
        version: "1",
        ..good(&mock)
    };
    assert_eq!(
        send(request(&mock, "GET", "/api/v1/accounts", "", &v1)).await.status,
        200
    );
}

#[tokio::test]
async fn refusals_carry_kucoin_codes_with_http_401() {
    let mock = mock().await;
    let now = mock.now_ms();
    let cases = [
        (
            Signing {
                secret: WRONG_SECRET,
                ..good(&mock)
            },
            "400004",
            "Invalid KC-API-PASSPHRASE",
            Rejection::BadPassphrase,
        ),
        (
            Signing {
                passphrase: "test-only-wrong",
                ..good(&mock)
            },
            "400004",
            "Invalid KC-API-PASSPHRASE",
            Rejection::BadPassphrase,
        ),
        (
            Signing {
                key: UNKNOWN_KEY,
                ..good(&mock)
            },
            "400003",
            "KC-API-KEY not exists",
            Rejection::UnknownKey,
        ),
        (
            Signing {
                timestamp: now - 6_000,
                ..good(&mock)
            },
            "400002",
            "Invalid KC-API-TIMESTAMP",
            Rejection::TimestampOutsideWindow,
        ),
        (
            Signing {
                timestamp: now + 6_000,
                ..good(&mock)
            },
            "400002",
            "Invalid KC-API-TIMESTAMP",
            Rejection::TimestampOutsideWindow,
        ),
    ];
    for (signing, code, msg, rejection) in &cases {
        let answer = send(request(&mock, "POST", "/api/v1/orders", ORDER, signing)).await;
        assert_eq!(answer.status, 401, "{code}");
        assert_eq!(answer.json, json!({"code": code, "msg": msg}));
        assert_eq!(mock.requests().last().unwrap().verdict, Verdict::Rejected(*rejection));
    }

    // A raw passphrase under version 2 is wrong.
    let raw = Signing {
        raw_passphrase: true,
        ..good(&mock)
    };
    assert_eq!(
        send(request(&mock, "GET", "/api/v1/accounts", "", &raw)).await.json["code"],
        "400004"
    );

    // Right passphrase, but the body changed after signing.
    let tampered = request(&mock, "POST", "/api/v1/orders", ORDER, &good(&mock)).body(ORDER.replace("\"1\"", "\"9\""));
    let answer = send(tampered).await;
    assert_eq!(
        (answer.status, answer.json),
        (401, json!({"code": "400005", "msg": "Invalid KC-API-SIGN"}))
    );

    let answer = send(client().get(format!("{}/api/v1/accounts", mock.base_url()))).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.json["code"], "400001");
    assert!(mock.orders().is_empty());
}
