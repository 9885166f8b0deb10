//! The clock-correction layer over real HTTP on loopback, against the embedded exchange running
//! its clock ahead of or behind the local one: ClockLayer -> SignLayer -> ClassifyLayer ->
//! ReqwestTransport.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use keyward::{
    Error,
    classify::ClassifyLayer,
    clock::{Clock, ClockCorrection, ClockLayer, ClockOffset, ClockSkew, VirtualClock},
    exchange::{self, ExchangeErrorKind},
    sign::{Sign, SignLayer},
    transport::ReqwestTransport,
};
use keyward_integration::Fixture;
use keyward_mock::{Fault, MockExchange, RecordedRequest, Rejection, RunningMock, Verdict};
use std::{sync::Arc, time::Duration};
use tower::{Service, ServiceBuilder, ServiceExt};

type Client = ClockCorrection<Sign<keyward::classify::Classify<ReqwestTransport>, Arc<keyward::Credentials>>>;

/// Exchanges whose time window is narrower than 40 s, so that an uncorrected clock 40 s off
/// is refused. (Gate allows 60 s, BitMEX signs an expiry 60 s ahead, Kraken checks only nonces.)
const NARROW_WINDOW: [&str; 5] = ["binance", "bybit", "coinbase", "kucoin", "okx"];

/// A private request each exchange accepts in shape.
fn private_request(exchange: &str, base: &str) -> http::Request<Bytes> {
    let (method, path, body) = match exchange {
        "binance" => ("GET", "/api/v3/account?omitZeroBalances=true", ""),
        "bybit" => ("GET", "/v5/account/wallet-balance?accountType=UNIFIED", ""),
        "okx" => ("GET", "/api/v5/account/balance?ccy=BTC", ""),
        "coinbase" => ("GET", "/accounts", ""),
        "kraken" => ("POST", "/0/private/Balance", "asset=XBT"),
        "kucoin" => ("GET", "/api/v1/accounts?currency=BTC", ""),
        "bitmex" => ("GET", "/api/v1/user/wallet?currency=XBt", ""),
        "gate" => ("GET", "/api/v4/spot/accounts?currency=BTC", ""),
        other => panic!("no request for {other}"),
    };
    let mut builder = http::Request::builder().method(method).uri(format!("{base}{path}"));
    if !body.is_empty() {
        builder = builder.header("content-type", "application/x-www-form-urlencoded");
    }
    builder.body(Bytes::from_static(body.as_bytes())).unwrap()
}

async fn start(fixture: &Fixture, offset_ms: i64) -> RunningMock {
    MockExchange::builder(fixture.exchange)
        .unwrap()
        .credentials(fixture.mock())
        .clock_offset_ms(offset_ms)
        .start()
        .await
        .unwrap()
}

fn client(fixture: &Fixture, layer: ClockLayer) -> Client {
    let target = exchange::by_name(fixture.exchange).unwrap();
    ServiceBuilder::new()
        .layer(layer)
        .layer(SignLayer::new(target, fixture.credentials()))
        .layer(ClassifyLayer::new(target))
        .service(ReqwestTransport::default())
}

fn time_path(exchange: &str) -> &'static str {
    exchange::by_name(exchange).unwrap().server_time().path
}

/// The recorded requests as `(path, verdict)`, with probes named `"probe"`.
fn trail(exchange: &str, requests: &[RecordedRequest]) -> Vec<(&'static str, Verdict)> {
    requests
        .iter()
        .map(|r| {
            let what = if r.path == time_path(exchange) {
                "probe"
            } else {
                "private"
            };
            (what, r.verdict)
        })
        .collect()
}

const PROBE_OK: (&str, Verdict) = ("probe", Verdict::Accepted);
const PRIVATE_OK: (&str, Verdict) = ("private", Verdict::Accepted);

/// The measured offset is within half the round trip of the true one (plus rounding), and,
/// for Kraken, whose server time has whole seconds, up to a second below it.
fn assert_measured(exchange: &str, handle: &ClockOffset, true_offset: i64) {
    let measured = handle.offset_millis().unwrap();
    let half_round_trip = i64::try_from(handle.round_trip().unwrap().as_millis() / 2).unwrap();
    let floor_error = if exchange == "kraken" { 1000 } else { 0 };
    let error = measured - true_offset;
    assert!(
        -half_round_trip - 2 - floor_error <= error && error <= half_round_trip + 2,
        "{exchange}: measured {measured} ms for a true offset of {true_offset} ms (round trip {:?})",
        handle.round_trip()
    );
}

#[tokio::test]
async fn every_exchange_is_corrected_within_the_tolerance_and_refused_beyond_it() {
    for exchange in exchange::names() {
        let fixture = Fixture::new(exchange, 1);
        for offset in [3_000, -3_000, 40_000, -40_000] {
            // A fresh exchange each time: Kraken would rightly refuse the nonces of a client
            // whose exchange clock jumped 6 s back since the last one.
            let mock = start(&fixture, offset).await;
            let layer = ClockLayer::new(exchange::by_name(exchange).unwrap());
            let handle = layer.offset_handle();
            let service = client(&fixture, layer);
            for _ in 0..2 {
                let result = service
                    .clone()
                    .oneshot(private_request(exchange, &mock.base_url()))
                    .await;
                assert!(result.is_ok(), "{exchange} at {offset} ms: {:?}", result.err());
            }
            // Measured once, then both requests accepted at the first attempt.
            assert_eq!(
                trail(exchange, &mock.requests()),
                [PROBE_OK, PRIVATE_OK, PRIVATE_OK],
                "{exchange} at {offset} ms"
            );
            assert_measured(exchange, &handle, offset);
        }

        let mock = start(&fixture, 90_000).await;
        let service = client(&fixture, ClockLayer::new(exchange::by_name(exchange).unwrap()));
        let err = service
            .oneshot(private_request(exchange, &mock.base_url()))
            .await
            .unwrap_err();
        let Error::ClockSkew(ClockSkew {
            offset: Some(measured),
            tolerance,
            ..
        }) = err
        else {
            panic!("{exchange}: expected a clock skew, got {err}");
        };
        assert!((88_900..=90_100).contains(&measured), "{exchange}: {measured}");
        assert_eq!(tolerance, Duration::from_secs(60));
        assert_eq!(trail(exchange, &mock.requests()), [PROBE_OK], "{exchange}");
    }
}

/// The control for the test above: without the layer, the same requests are refused.
#[tokio::test]
async fn without_the_layer_a_clock_40_s_off_is_refused() {
    for exchange in NARROW_WINDOW {
        let fixture = Fixture::new(exchange, 2);
        let mock = start(&fixture, 40_000).await;
        let target = exchange::by_name(exchange).unwrap();
        let service = ServiceBuilder::new()
            .layer(SignLayer::new(target, fixture.credentials()))
            .layer(ClassifyLayer::new(target))
            .service(ReqwestTransport::default());
        let err = service
            .oneshot(private_request(exchange, &mock.base_url()))
            .await
            .unwrap_err();
        assert_eq!(
            err.exchange_error().map(|e| e.kind.clone()),
            Some(ExchangeErrorKind::TimestampOutsideWindow),
            "{exchange}: {err}"
        );
    }
}

#[tokio::test]
async fn a_clock_moved_mid_run_costs_one_rejection_a_resync_and_a_retry() {
    for exchange in NARROW_WINDOW {
        let fixture = Fixture::new(exchange, 3);
        let mock = start(&fixture, 0).await;
        let layer = ClockLayer::new(exchange::by_name(exchange).unwrap());
        let handle = layer.offset_handle();
        let service = client(&fixture, layer);
        service
            .clone()
            .oneshot(private_request(exchange, &mock.base_url()))
            .await
            .unwrap();

        // More than every narrow window, less than the tolerance.
        mock.set_clock_offset_ms(45_000);
        service
            .clone()
            .oneshot(private_request(exchange, &mock.base_url()))
            .await
            .unwrap_or_else(|err| panic!("{exchange}: {err}"));
        assert_eq!(
            trail(exchange, &mock.requests()),
            [
                PROBE_OK,
                PRIVATE_OK,
                ("private", Verdict::Rejected(Rejection::TimestampOutsideWindow)),
                PROBE_OK,
                PRIVATE_OK
            ],
            "{exchange}"
        );
        assert_measured(exchange, &handle, 45_000);
    }
}

#[tokio::test]
async fn a_date_header_that_disagrees_makes_the_next_request_measure_again() {
    // Gate's 60 s window accepts a request 20 s off, so only `Date` can tell.
    let fixture = Fixture::new("gate", 4);
    let mock = start(&fixture, 0).await;
    let layer = ClockLayer::new(exchange::by_name("gate").unwrap());
    let handle = layer.offset_handle();
    let service = client(&fixture, layer);
    let send = || service.clone().oneshot(private_request("gate", &mock.base_url()));
    send().await.unwrap();
    send().await.unwrap();
    mock.set_clock_offset_ms(20_000);
    send().await.unwrap();
    send().await.unwrap();
    assert_eq!(
        trail("gate", &mock.requests()),
        [PROBE_OK, PRIVATE_OK, PRIVATE_OK, PRIVATE_OK, PROBE_OK, PRIVATE_OK]
    );
    assert_measured("gate", &handle, 20_000);
}

#[tokio::test]
async fn the_offset_is_measured_again_when_older_than_resync_every() {
    // One virtual time for the local clock and the exchange's, so that minutes pass at once.
    let local = VirtualClock::now();
    let source = local.clone();
    let fixture = Fixture::new("binance", 5);
    let mock = MockExchange::builder("binance")
        .unwrap()
        .credentials(fixture.mock())
        .time_source(Arc::new(move || i64::try_from(source.unix_millis()).unwrap()))
        .clock_offset_ms(2_000)
        .start()
        .await
        .unwrap();
    let layer = ClockLayer::new(exchange::by_name("binance").unwrap())
        .clock(Arc::new(local.clone()))
        .resync_every(Duration::from_secs(30));
    let handle = layer.offset_handle();
    let service = client(&fixture, layer);
    let send = || service.clone().oneshot(private_request("binance", &mock.base_url()));
    send().await.unwrap();
    local.advance(Duration::from_secs(29));
    send().await.unwrap();
    assert_eq!(trail("binance", &mock.requests()), [PROBE_OK, PRIVATE_OK, PRIVATE_OK]);
    assert_eq!(handle.offset_millis(), Some(2_000));

    // The exchange's clock drifts by less than its window: only the estimate's age tells.
    mock.set_clock_offset_ms(3_500);
    local.advance(Duration::from_secs(2));
    send().await.unwrap();
    assert_eq!(
        trail("binance", &mock.requests()),
        [PROBE_OK, PRIVATE_OK, PRIVATE_OK, PROBE_OK, PRIVATE_OK]
    );
    assert_eq!(handle.offset_millis(), Some(3_500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kraken_accepts_16_concurrent_requests_with_one_probe() {
    let fixture = Fixture::new("kraken", 6);
    // Kraken's starter tier allows a burst of 15 calls; rate limits are another layer's
    // business, so this key gets room for 16.
    let mock = MockExchange::builder("kraken")
        .unwrap()
        .credentials(fixture.mock())
        .clock_offset_ms(3_000)
        .weight_limit(1_000, Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let service = client(&fixture, ClockLayer::new(exchange::by_name("kraken").unwrap()));
    let requests = (0..16).map(|_| {
        let mut service = service.clone();
        let request = private_request("kraken", &mock.base_url());
        tokio::spawn(async move { service.ready().await?.call(request).await })
    });
    let requests: Vec<_> = requests.collect();
    for request in requests {
        request.await.unwrap().unwrap();
    }
    let recorded = mock.requests();
    let mut expected = vec![PROBE_OK];
    expected.extend([PRIVATE_OK; 16]);
    assert_eq!(trail("kraken", &recorded), expected);
    let nonces: Vec<u64> = recorded[1..]
        .iter()
        .map(|r| {
            let body = r.body_text();
            let nonce = body.split('&').find_map(|pair| pair.strip_prefix("nonce=")).unwrap();
            nonce.parse().unwrap()
        })
        .collect();
    assert!(nonces.windows(2).all(|pair| pair[0] < pair[1]), "{nonces:?}");
    // Microseconds of corrected time: above the millisecond nonces of a client without the layer.
    assert!(nonces[0] > 1_000_000_000_000_000, "{}", nonces[0]);
}

#[tokio::test]
async fn an_unreachable_server_time_endpoint_gives_a_skew_without_offset() {
    // A port nobody listens on any more.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let fixture = Fixture::new("bybit", 7);
    let layer = ClockLayer::new(exchange::by_name("bybit").unwrap());
    let handle = layer.offset_handle();
    let err = client(&fixture, layer)
        .oneshot(private_request("bybit", &base))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ClockSkew(ClockSkew { offset: None, .. })), "{err}");
    assert!(err.not_sent());
    assert_eq!(handle.offset_millis(), None);
}

#[tokio::test]
async fn a_failing_server_time_endpoint_sends_nothing_else() {
    let fixture = Fixture::new("okx", 8);
    let mock = start(&fixture, 0).await;
    let service = client(&fixture, ClockLayer::new(exchange::by_name("okx").unwrap()));
    mock.inject(Fault::Status(http::StatusCode::SERVICE_UNAVAILABLE));
    let err = service
        .clone()
        .oneshot(private_request("okx", &mock.base_url()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ClockSkew(ClockSkew { offset: None, .. })), "{err}");
    assert_eq!(
        trail("okx", &mock.requests()),
        [("probe", Verdict::Rejected(Rejection::InjectedFault))]
    );
    // Once the endpoint answers again, so does the layer.
    service.oneshot(private_request("okx", &mock.base_url())).await.unwrap();
}
