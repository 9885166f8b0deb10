use crate::support::*;
use keyward_mock::{Fault, MockCredentials, MockExchange, Rejection, Verdict};

#[tokio::test]
async fn unknown_exchanges_are_refused_by_name() {
    let error = MockExchange::builder("mtgox").unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("mtgox") && message.contains("binance") && message.contains("okx"),
        "{message}"
    );
}

#[tokio::test]
async fn requests_are_recorded_as_received_in_order_and_can_be_cleared() {
    let mock = MockExchange::builder("kraken").unwrap().start().await.unwrap();
    send(client().get(format!("{}/0/public/Time", mock.base_url()))).await;
    send(
        client()
            .post(format!("{}/0/private/Balance?asset=XBT", mock.base_url()))
            .header("API-Key", "test-only-key-not-configured")
            .header("API-Sign", "test-only-signature")
            .body("nonce=1&note=a+b"),
    )
    .await;
    let answer = send(client().get(format!("{}/elsewhere", mock.base_url()))).await;
    assert_eq!(answer.status, 404);

    let requests = mock.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].method, http::Method::GET);
    assert_eq!(requests[0].path, "/0/public/Time");
    assert_eq!(requests[0].verdict, Verdict::Accepted);
    assert_eq!(requests[1].path, "/0/private/Balance");
    assert_eq!(requests[1].query, "asset=XBT");
    assert_eq!(requests[1].body_text(), "nonce=1&note=a+b");
    assert_eq!(requests[1].header("api-sign"), Some("test-only-signature"));
    assert_eq!(requests[1].verdict, Verdict::Rejected(Rejection::UnknownKey));
    assert_eq!(requests[2].verdict, Verdict::Rejected(Rejection::NotFound));

    // Debug output is safe to print: key and signature headers are shortened.
    let shown = format!("{:?}", requests[1]);
    assert!(!shown.contains("test-only-key-not-configured"), "{shown}");
    assert!(!shown.contains("test-only-signature"), "{shown}");
    assert!(shown.contains("/0/private/Balance"));

    mock.clear_requests();
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn every_configured_key_is_accepted() {
    let mock = MockExchange::builder("bitmex")
        .unwrap()
        .credentials(MockCredentials::new("test-only-key-a", "test-only-secret-a"))
        .credentials(MockCredentials::new("test-only-key-b", "test-only-secret-b"))
        .start()
        .await
        .unwrap();
    for (key, secret) in [
        ("test-only-key-a", "test-only-secret-a"),
        ("test-only-key-b", "test-only-secret-b"),
    ] {
        let expires = (mock.now_ms() / 1000 + 30).to_string();
        let signature = hex::encode(hmac_sha256(
            secret.as_bytes(),
            format!("GET/api/v1/position{expires}").as_bytes(),
        ));
        let answer = send(
            client()
                .get(format!("{}/api/v1/position", mock.base_url()))
                .header("api-key", key)
                .header("api-expires", expires)
                .header("api-signature", signature),
        )
        .await;
        assert_eq!(answer.status, 200, "{key}: {}", answer.json);
    }
}

#[tokio::test]
async fn an_injected_fault_answers_the_next_request_only() {
    let mock = MockExchange::builder("binance").unwrap().start().await.unwrap();
    mock.inject(Fault::Status(http::StatusCode::SERVICE_UNAVAILABLE));
    let url = format!("{}/api/v3/time", mock.base_url());
    assert_eq!(send(client().get(&url)).await.status, 503);
    assert_eq!(send(client().get(&url)).await.status, 200);
    let verdicts: Vec<Verdict> = mock.requests().iter().map(|r| r.verdict).collect();
    assert_eq!(
        verdicts,
        [Verdict::Rejected(Rejection::InjectedFault), Verdict::Accepted]
    );
}

#[tokio::test]
async fn shutdown_and_drop_free_the_port() {
    let keep_alive = client();
    let mock = MockExchange::builder("gate").unwrap().start().await.unwrap();
    let port = mock.addr().port();
    assert_eq!(
        send(keep_alive.get(format!("{}/api/v4/spot/time", mock.base_url())))
            .await
            .status,
        200
    );
    mock.shutdown().await.unwrap();

    // The same port can be taken again, explicitly.
    let again = MockExchange::builder("gate").unwrap().port(port).start().await.unwrap();
    assert_eq!(again.addr().port(), port);
    let url = format!("{}/api/v4/spot/time", again.base_url());
    assert_eq!(send(keep_alive.get(&url)).await.status, 200);
    drop(again);
    tokio::task::yield_now().await;
    let refused = client().get(&url).send().await;
    assert!(refused.is_err(), "a dropped mock must not answer");
}
