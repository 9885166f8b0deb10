//! Rate limits over loopback: keyward's limiter against the embedded exchange's own
//! enforcement, on one virtual time (no real waiting).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use keyward::{
    Error, Preset,
    clock::{Clock, VirtualClock},
    exchange,
    transport::ReqwestTransport,
};
use keyward_integration::{Fixture, mock_on};
use keyward_mock::{Rejection, RunningMock, Verdict};
use std::{sync::Arc, time::Duration};
use tower::ServiceExt;

const WINDOW: Duration = Duration::from_secs(60);
/// Binance's `GET /api/v3/account` weighs 20.
const ACCOUNT_WEIGHT: u64 = 20;
/// A tight budget: 60 account reads a minute.
const WEIGHT_LIMIT: u64 = 1200;

/// A virtual clock at the start of a minute, and Binance on it with a tight weight budget.
async fn binance() -> (VirtualClock, Fixture, RunningMock) {
    let start = 1_800_000_000_000; // a whole minute
    let clock = VirtualClock::at_unix_millis(start);
    let fixture = Fixture::new("binance", 1);
    let mock = mock_on(&fixture, &clock)
        .weight_limit(WEIGHT_LIMIT, WINDOW)
        .start()
        .await
        .unwrap();
    (clock, fixture, mock)
}

fn client(
    clock: &VirtualClock,
    fixture: &Fixture,
) -> (
    Preset<Arc<keyward::Credentials>>,
    keyward::preset::PresetService<ReqwestTransport, Arc<keyward::Credentials>>,
) {
    let preset =
        Preset::new(exchange::by_name("binance").unwrap(), fixture.credentials()).clock(Arc::new(clock.clone()));
    let service = preset.service(ReqwestTransport::default());
    (preset, service)
}

fn account(mock: &RunningMock) -> http::Request<Bytes> {
    http::Request::get(format!("{}/api/v3/account", mock.base_url()))
        .body(Bytes::new())
        .unwrap()
}

fn rejections(mock: &RunningMock, kind: Rejection) -> usize {
    mock.requests()
        .iter()
        .filter(|r| r.verdict == Verdict::Rejected(kind))
        .count()
}

#[tokio::test]
async fn sixteen_concurrent_clients_spend_the_budget_to_the_last_unit_without_a_429() {
    let (clock, fixture, mock) = binance().await;
    let (preset, service) = client(&clock, &fixture);
    let started = clock.unix_millis();
    // 357 account reads and the stack's own requests (exchangeInfo, two clock probes: one at
    // start, one at the five-minute resync) fill six windows to within a read.
    let requests = 357;
    let mut tasks = tokio::task::JoinSet::new();
    let permits = Arc::new(tokio::sync::Semaphore::new(16));
    for _ in 0..requests {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let (service, request) = (service.clone(), account(&mock));
        tasks.spawn(async move {
            let result = service.oneshot(request).await;
            drop(permit);
            result
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap().unwrap();
    }
    let elapsed = clock.unix_millis() - started;

    assert_eq!(rejections(&mock, Rejection::RateLimited), 0, "no request got a 429");
    assert_eq!(rejections(&mock, Rejection::Banned), 0);
    // The live limit came from exchangeInfo, not from Binance's documented default of 6000.
    assert_eq!(preset.limiter().limit(0), Some(WEIGHT_LIMIT));
    // Utilisation: weight spent (as the exchange counts it) over the weight of every window the
    // run touched; and no window more than the weight needed.
    let windows = elapsed / 60_000 + 1;
    let spent: u64 = mock
        .requests()
        .iter()
        .map(|r| match r.path.as_str() {
            "/api/v3/time" => 1,
            _ => ACCOUNT_WEIGHT, // account and exchangeInfo
        })
        .sum();
    let utilisation = spent as f64 / (WEIGHT_LIMIT * windows) as f64;
    assert!(
        utilisation >= 0.9,
        "used {utilisation:.3} of the budget over {windows} windows"
    );
    assert_eq!(
        windows,
        spent.div_ceil(WEIGHT_LIMIT),
        "not one window more than the weight needs"
    );
    assert!(
        preset.stats().waited >= Duration::from_secs(180),
        "the limiter waited: {:?}",
        preset.stats()
    );
}

/// Spends weight on the embedded exchange behind keyward's back, as another bot on the same IP
/// would: unsigned requests still weigh.
async fn spend_behind_its_back(mock: &RunningMock, requests: usize) {
    let other_bot = reqwest::Client::new();
    for _ in 0..requests {
        other_bot
            .get(format!("{}/api/v3/account", mock.base_url()))
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_429_holds_every_request_until_retry_after_then_succeeds() {
    let (clock, fixture, mock) = binance().await;
    let (preset, service) = client(&clock, &fixture);
    service.clone().oneshot(account(&mock)).await.unwrap();
    // exchangeInfo 20 + server time 1 + account 20 + 57 * 20 = 1181: the next account (20) is over.
    spend_behind_its_back(&mock, 57).await;
    let before = clock.unix_millis();

    service.clone().oneshot(account(&mock)).await.unwrap();

    assert_eq!(
        rejections(&mock, Rejection::RateLimited),
        1,
        "keyward's first try, and nothing more"
    );
    assert_eq!(
        rejections(&mock, Rejection::Banned),
        0,
        "keyward waited instead of insisting"
    );
    assert_eq!(preset.stats().rate_limited, 1);
    assert!(
        clock.unix_millis() - before >= 50_000,
        "it waited for the next window (Retry-After)"
    );
    assert_eq!(preset.stats().retries, 1);
}

#[tokio::test]
async fn after_a_418_nothing_is_sent_until_the_ban_lifts() {
    let (clock, fixture, mock) = binance().await;
    let (preset, service) = client(&clock, &fixture);
    service.clone().oneshot(account(&mock)).await.unwrap();
    // The other bot gets a 429, and keeps sending two seconds later: the IP is banned.
    spend_behind_its_back(&mock, 59).await;
    clock.advance(Duration::from_secs(2));
    spend_behind_its_back(&mock, 1).await;
    let banned_until = mock.banned_until_ms().expect("the IP is banned");

    let err = service.clone().oneshot(account(&mock)).await.unwrap_err();
    assert!(err.exchange_error().is_some_and(|e| e.status == 418), "{err}");
    let received = mock.requests().len();
    for _ in 0..5 {
        let err = service.clone().oneshot(account(&mock)).await.unwrap_err();
        assert!(matches!(err, Error::Banned(_)), "{err}");
        assert!(err.to_string().contains("nothing is sent until the ban lifts"));
    }
    assert_eq!(mock.requests().len(), received, "nothing was sent during the ban");
    assert_eq!(preset.stats().bans, 1);

    clock.advance(Duration::from_millis(
        u64::try_from(banned_until).unwrap() - clock.unix_millis() + 1,
    ));
    service.clone().oneshot(account(&mock)).await.unwrap();
}
