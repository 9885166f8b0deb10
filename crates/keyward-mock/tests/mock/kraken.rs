use crate::support::*;
use keyward_mock::{MockCredentials, MockExchange, Rejection, RunningMock, Verdict};
use serde_json::json;
use sha2::{Digest, Sha256};

// Kraken's published documentation example (testdata/vectors.json). The API key is not part of
// the signature, so any fixture name serves.
const DOC_SECRET: &str = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";
const DOC_BODY: &str = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25";
const DOC_SIGNATURE: &str = "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==";
const WRONG: &str = "dGVzdC1vbmx5LXdyb25nLXNlY3JldA==";

async fn mock() -> RunningMock {
    MockExchange::builder("kraken")
        .unwrap()
        .credentials(MockCredentials::new(KEY, DOC_SECRET))
        .start()
        .await
        .unwrap()
}

/// Signs as Kraken documents: base64 HMAC-SHA512, keyed with the decoded secret, of
/// `path + SHA256(nonce + body)`.
fn sign(secret: &str, path: &str, nonce: &str, body: &str) -> String {
    let digest = Sha256::digest(format!("{nonce}{body}").as_bytes());
    let mut message = path.as_bytes().to_vec();
    message.extend_from_slice(&digest);
    b64(&hmac_sha512(&b64_decode(secret), &message))
}

fn post(mock: &RunningMock, path: &str, key: &str, signature: &str, body: &str) -> reqwest::RequestBuilder {
    client()
        .post(format!("{}{path}", mock.base_url()))
        .header("API-Key", key)
        .header("API-Sign", signature)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
}

#[tokio::test]
async fn documented_add_order_is_accepted_once() {
    let mock = mock().await;
    assert_eq!(
        sign(DOC_SECRET, "/0/private/AddOrder", "1616492376594", DOC_BODY),
        DOC_SIGNATURE
    );

    let answer = send(post(&mock, "/0/private/AddOrder", KEY, DOC_SIGNATURE, DOC_BODY)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json["error"], json!([]), "{}", answer.json);
    assert_eq!(answer.json["result"]["descr"]["order"], "buy 1.25 XBTUSD @ limit 37500");
    let orders = mock.orders();
    assert_eq!(orders.len(), 1);
    assert_eq!(answer.json["result"]["txid"][0], orders[0].order_id);
    assert_eq!(orders[0].param("volume").as_deref(), Some("1.25"));

    // The same request again reuses its nonce: a replay.
    let answer = send(post(&mock, "/0/private/AddOrder", KEY, DOC_SIGNATURE, DOC_BODY)).await;
    assert_eq!(
        (answer.status, answer.json),
        (200, json!({"error": ["EAPI:Invalid nonce"]}))
    );
    assert_eq!(
        mock.requests()[1].verdict,
        Verdict::Rejected(Rejection::NonceNotIncreasing)
    );
    assert_eq!(mock.orders().len(), 1);
}

#[tokio::test]
async fn nonces_must_strictly_increase_per_key() {
    let mock = mock().await;
    let balance = |nonce: u64| {
        let body = format!("nonce={nonce}");
        post(
            &mock,
            "/0/private/Balance",
            KEY,
            &sign(DOC_SECRET, "/0/private/Balance", &nonce.to_string(), &body),
            &body,
        )
    };
    assert_eq!(send(balance(1000)).await.json["error"], json!([]));
    assert_eq!(send(balance(1001)).await.json["result"]["params"]["nonce"], "1001");
    assert_eq!(send(balance(1001)).await.json, json!({"error": ["EAPI:Invalid nonce"]}));
    assert_eq!(send(balance(999)).await.json, json!({"error": ["EAPI:Invalid nonce"]}));
    assert_eq!(send(balance(5000)).await.json["error"], json!([]));
}

#[tokio::test]
async fn refusals_carry_kraken_errors() {
    let mock = mock().await;
    let body = "nonce=2000&ordertype=market&pair=XBTUSD&type=sell&volume=0.5&userref=42";
    let good = sign(DOC_SECRET, "/0/private/AddOrder", "2000", body);
    let cases = [
        (
            post(
                &mock,
                "/0/private/AddOrder",
                KEY,
                &sign(WRONG, "/0/private/AddOrder", "2000", body),
                body,
            ),
            "EAPI:Invalid signature",
            Rejection::BadSignature,
        ),
        (
            post(&mock, "/0/private/AddOrder", KEY, &good, &body.replace("0.5", "5")),
            "EAPI:Invalid signature",
            Rejection::BadSignature,
        ),
        (
            post(&mock, "/0/private/AddOrder", UNKNOWN_KEY, &good, body),
            "EAPI:Invalid key",
            Rejection::UnknownKey,
        ),
        (
            client()
                .post(format!("{}/0/private/AddOrder", mock.base_url()))
                .body(body),
            "EAPI:Invalid key",
            Rejection::MissingAuth,
        ),
    ];
    for (request, error, rejection) in cases {
        let answer = send(request).await;
        assert_eq!((answer.status, answer.json), (200, json!({"error": [error]})));
        assert_eq!(mock.requests().last().unwrap().verdict, Verdict::Rejected(rejection));
    }
    // Failed attempts do not consume the nonce.
    let answer = send(post(&mock, "/0/private/AddOrder", KEY, &good, body)).await;
    assert_eq!(answer.json["result"]["descr"]["order"], "sell 0.5 XBTUSD @ market");
    assert_eq!(mock.orders()[0].client_order_id.as_deref(), Some("42"));
}

#[tokio::test]
async fn json_bodies_carry_the_nonce_too() {
    let mock = mock().await;
    let body = r#"{"nonce":"3000","cl_ord_id":"test-cl-ord-1","ordertype":"limit","type":"buy","volume":"1","pair":"XBTUSD","price":"10"}"#;
    let answer = send(
        post(
            &mock,
            "/0/private/AddOrder",
            KEY,
            &sign(DOC_SECRET, "/0/private/AddOrder", "3000", body),
            body,
        )
        .header("content-type", "application/json"),
    )
    .await;
    assert_eq!(answer.json["error"], json!([]), "{}", answer.json);
    assert_eq!(mock.orders()[0].client_order_id.as_deref(), Some("test-cl-ord-1"));
}
