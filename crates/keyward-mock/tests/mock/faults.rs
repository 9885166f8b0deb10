//! Injected faults over loopback, as a real client (reqwest) experiences them.

use crate::support::*;
use keyward_mock::{Fault, MockCredentials, MockExchange, Rejection, RunningMock, Verdict};
use std::{
    error::Error as _,
    io,
    time::{Duration, Instant},
};

async fn binance() -> RunningMock {
    MockExchange::builder("binance")
        .unwrap()
        .credentials(MockCredentials::new(KEY, SECRET))
        .start()
        .await
        .unwrap()
}

fn order(client: &reqwest::Client, mock: &RunningMock, client_order_id: &str) -> reqwest::RequestBuilder {
    let query = format!(
        "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=1&newClientOrderId={client_order_id}&timestamp={}",
        mock.now_ms()
    );
    let signature = hex::encode(hmac_sha256(SECRET.as_bytes(), query.as_bytes()));
    client
        .post(format!(
            "{}/api/v3/order?{query}&signature={signature}",
            mock.base_url()
        ))
        .header("X-MBX-APIKEY", KEY)
}

fn time_url(mock: &RunningMock) -> String {
    format!("{}/api/v3/time", mock.base_url())
}

/// Whether an I/O error of this kind is somewhere in the error's chain of causes.
fn caused_by(error: &reqwest::Error, kind: io::ErrorKind) -> bool {
    let mut cause = error.source();
    while let Some(error) = cause {
        if error.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == kind) {
            return true;
        }
        cause = error.source();
    }
    false
}

#[tokio::test]
async fn a_delay_answers_normally_after_it() {
    let mock = binance().await;
    mock.inject(Fault::Delay(Duration::from_millis(150)));
    let started = Instant::now();
    let delayed = send(client().get(time_url(&mock))).await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(delayed.status, 200);
    assert!(delayed.json["serverTime"].is_i64());

    let started = Instant::now();
    assert_eq!(send(client().get(time_url(&mock))).await.status, 200);
    assert!(
        started.elapsed() < Duration::from_millis(150),
        "only the next request is delayed"
    );
    let recorded = mock.requests();
    assert_eq!(recorded[0].fault, Some(Fault::Delay(Duration::from_millis(150))));
    assert_eq!(recorded[0].verdict, Verdict::Accepted);
    assert_eq!(recorded[1].fault, None);
}

#[tokio::test]
async fn a_reset_is_a_connection_error_after_the_request_was_sent_and_executes_nothing() {
    let mock = binance().await;
    let client = client();
    mock.inject(Fault::ResetBeforeResponse);
    let error = order(&client, &mock, "kw-reset").send().await.unwrap_err();
    assert!(!error.is_timeout(), "{error:?}");
    assert!(caused_by(&error, io::ErrorKind::ConnectionReset), "{error:?}");

    let recorded = mock.requests();
    assert_eq!(recorded.len(), 1, "the whole request was read");
    assert!(recorded[0].query.contains("newClientOrderId=kw-reset"));
    assert_eq!(recorded[0].verdict, Verdict::Rejected(Rejection::InjectedFault));
    assert_eq!(recorded[0].fault, Some(Fault::ResetBeforeResponse));
    assert!(mock.orders().is_empty());

    // The same client carries on over a new connection.
    assert_eq!(send(client.get(time_url(&mock))).await.status, 200);
}

#[tokio::test]
async fn a_timeout_after_execute_executes_the_order_exactly_once() {
    let mock = binance().await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    mock.inject(Fault::TimeoutAfterExecute(Duration::from_secs(30)));
    let error = order(&impatient, &mock, "kw-timeout").send().await.unwrap_err();
    assert!(error.is_timeout(), "{error:?}");

    let orders = mock.orders();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].client_order_id.as_deref(), Some("kw-timeout"));
    let recorded = mock.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].verdict, Verdict::Accepted);
    assert_eq!(
        recorded[0].fault,
        Some(Fault::TimeoutAfterExecute(Duration::from_secs(30)))
    );

    // The held answer does not hold up a shutdown.
    tokio::time::timeout(Duration::from_secs(5), mock.shutdown())
        .await
        .expect("shutdown ends the hold")
        .unwrap();
}

#[tokio::test]
async fn a_truncated_body_announces_its_whole_length_and_stops_halfway() {
    let mock = binance().await;
    mock.inject(Fault::TruncatedBody);
    let response = client().get(time_url(&mock)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let announced: usize = response.headers()["content-length"].to_str().unwrap().parse().unwrap();
    assert_eq!(announced, format!(r#"{{"serverTime":{}}}"#, mock.now_ms()).len());
    let error = response.bytes().await.unwrap_err();
    assert!(error.is_body() || error.is_decode(), "{error:?}");

    let recorded = mock.requests();
    assert_eq!(recorded[0].verdict, Verdict::Accepted);
    assert_eq!(recorded[0].fault, Some(Fault::TruncatedBody));
    assert_eq!(send(client().get(time_url(&mock))).await.status, 200);
}

#[tokio::test]
async fn a_non_json_answer_still_executes_the_order() {
    let mock = binance().await;
    mock.inject(Fault::NotJson);
    let response = order(&client(), &mock, "kw-html").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/html");
    let text = response.text().await.unwrap();
    assert!(text.starts_with("<html>"), "{text}");
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_err());

    assert_eq!(mock.orders().len(), 1);
    assert_eq!(mock.requests()[0].fault, Some(Fault::NotJson));
}

#[tokio::test]
async fn queued_faults_apply_one_per_request_in_order() {
    let mock = binance().await;
    mock.inject(Fault::Status(http::StatusCode::BAD_GATEWAY));
    mock.inject(Fault::NotJson);
    let client = client();
    assert_eq!(client.get(time_url(&mock)).send().await.unwrap().status(), 502);
    let second = client.get(time_url(&mock)).send().await.unwrap();
    assert_eq!(second.headers()["content-type"], "text/html");
    assert_eq!(send(client.get(time_url(&mock))).await.status, 200);
    let faults: Vec<Option<Fault>> = mock.requests().into_iter().map(|request| request.fault).collect();
    assert_eq!(
        faults,
        [
            Some(Fault::Status(http::StatusCode::BAD_GATEWAY)),
            Some(Fault::NotJson),
            None
        ]
    );
}
