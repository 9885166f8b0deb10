use crate::support::*;
use keyward_mock::{MockCredentials, MockExchange, Rejection, RunningMock, Verdict};
use serde_json::json;

// BitMEX's published documentation example (testdata/vectors.json).
const DOC_KEY: &str = "LAqUlngMIQkIUjXMUreyu3qn";
const DOC_SECRET: &str = "chNOOS4KvNXR_Xq4k4c9qsfoKWvnDecLATCRlcBwyKDYnWgO";
const DOC_ORDER: &str =
    r#"{"symbol":"XBTM15","price":219.0,"clOrdID":"mm_bitmex_1a/oemUeQ4CAJZgP3fjHsA","orderQty":98}"#;

async fn mock_at(offset_ms: i64) -> RunningMock {
    MockExchange::builder("bitmex")
        .unwrap()
        .credentials(MockCredentials::new(DOC_KEY, DOC_SECRET))
        .clock_offset_ms(offset_ms)
        .start()
        .await
        .unwrap()
}

fn request(
    mock: &RunningMock,
    method: &str,
    path_and_query: &str,
    key: &str,
    expires: &str,
    signature: &str,
    body: &str,
) -> reqwest::RequestBuilder {
    client()
        .request(method.parse().unwrap(), format!("{}{path_and_query}", mock.base_url()))
        .header("api-key", key)
        .header("api-expires", expires)
        .header("api-signature", signature)
        .header("content-type", "application/json")
        .body(body.to_owned())
}

/// Signs as BitMEX documents: hex HMAC-SHA256 of `VERB + path + expires + data`.
fn sign(secret: &str, method: &str, path_and_query: &str, expires: &str, body: &str) -> String {
    hex::encode(hmac_sha256(
        secret.as_bytes(),
        format!("{method}{path_and_query}{expires}{body}").as_bytes(),
    ))
}

#[tokio::test]
async fn documented_examples_are_accepted_before_they_expire() {
    // Just before the documented expiries (1518064236..38).
    let mock = mock_at(offset_to(1_518_064_230_000)).await;
    let simple = request(
        &mock,
        "GET",
        "/api/v1/instrument",
        DOC_KEY,
        "1518064236",
        "c7682d435d0cfe87c16098df34ef2eb5a549d4c5a3c2b1f0f77b8af73423bf00",
        "",
    );
    let answer = send(simple).await;
    assert_eq!(answer.status, 200, "{}", answer.json);

    let filtered = request(
        &mock,
        "GET",
        "/api/v1/instrument?filter=%7B%22symbol%22%3A+%22XBTM15%22%7D",
        DOC_KEY,
        "1518064237",
        "e2f422547eecb5b3cb29ade2127e21b858b235b386bfa45e1c1756eb3383919f",
        "",
    );
    let answer = send(filtered).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["params"]["filter"], r#"{"symbol": "XBTM15"}"#);
    assert_eq!(mock.requests()[1].query, "filter=%7B%22symbol%22%3A+%22XBTM15%22%7D");

    let order = request(
        &mock,
        "POST",
        "/api/v1/order",
        DOC_KEY,
        "1518064238",
        "1749cd2ccae4aa49048ae09f0b95110cee706e0944e6a14ad0b3a8cb45bd336b",
        DOC_ORDER,
    );
    let answer = send(order).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    assert_eq!(answer.json["clOrdID"], "mm_bitmex_1a/oemUeQ4CAJZgP3fjHsA");
    assert_eq!(answer.json["orderQty"], 98);
    assert_eq!(answer.json["ordStatus"], "New");
    let orders = mock.orders();
    assert_eq!(
        orders[0].client_order_id.as_deref(),
        Some("mm_bitmex_1a/oemUeQ4CAJZgP3fjHsA")
    );
    assert_eq!(answer.json["orderID"], orders[0].order_id);
}

#[tokio::test]
async fn refusals_carry_bitmex_errors() {
    let mock = mock_at(0).await;
    let expires = (mock.now_ms() / 1000 + 60).to_string();
    let past = (mock.now_ms() / 1000 - 1).to_string();
    let good = sign(DOC_SECRET, "POST", "/api/v1/order", &expires, DOC_ORDER);
    let cases = [
        (
            request(
                &mock,
                "POST",
                "/api/v1/order",
                DOC_KEY,
                &expires,
                &sign(WRONG_SECRET, "POST", "/api/v1/order", &expires, DOC_ORDER),
                DOC_ORDER,
            ),
            "Signature not valid.".to_owned(),
            Rejection::BadSignature,
        ),
        (
            request(
                &mock,
                "POST",
                "/api/v1/order",
                DOC_KEY,
                &expires,
                &good,
                &DOC_ORDER.replace("98", "99"),
            ),
            "Signature not valid.".to_owned(),
            Rejection::BadSignature,
        ),
        (
            request(&mock, "POST", "/api/v1/order", UNKNOWN_KEY, &expires, &good, DOC_ORDER),
            "Invalid API Key.".to_owned(),
            Rejection::UnknownKey,
        ),
        (
            request(
                &mock,
                "POST",
                "/api/v1/order",
                DOC_KEY,
                &past,
                &sign(DOC_SECRET, "POST", "/api/v1/order", &past, DOC_ORDER),
                DOC_ORDER,
            ),
            format!(
                "This request has expired - `expires` is in the past. Current time: {}",
                mock.now_ms() / 1000
            ),
            Rejection::TimestampOutsideWindow,
        ),
        (
            client().get(format!("{}/api/v1/position", mock.base_url())),
            "Not logged in.".to_owned(),
            Rejection::MissingAuth,
        ),
    ];
    for (request, message, rejection) in cases {
        let answer = send(request).await;
        assert_eq!(answer.status, 401, "{message}");
        assert_eq!(answer.json, json!({"error": {"message": message, "name": "HTTPError"}}));
        assert_eq!(mock.requests().last().unwrap().verdict, Verdict::Rejected(rejection));
    }
    assert!(mock.orders().is_empty());

    // A public endpoint needs no key.
    let answer = send(client().get(format!("{}/api/v1/orderBook/L2?symbol=XBTUSD", mock.base_url()))).await;
    assert_eq!(answer.status, 200);
}
