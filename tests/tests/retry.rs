//! The retry layer over real HTTP on loopback, against the embedded exchange, with a virtual
//! clock so that backoff costs no real time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use keyward::{
    Credentials, Error, TransportErrorKind,
    audit::{Attempt, AttemptAuditLayer},
    classify::ClassifyLayer,
    clock::VirtualClock,
    credentials::CredentialError,
    exchange::{
        self, Exchange, ExchangeError, ExchangeErrorKind, OrderPlacement, ParamLocation, ServerTime, binance::Binance,
    },
    guard::EndpointRule,
    rate_limit::RateLimitSpec,
    retry::{RetryBudget, RetryLayer},
    sign::{SignLayer, Signer},
    transport::ReqwestTransport,
};
use keyward_integration::{Fixture, adversary::placement_request};
use keyward_mock::{Fault, MockExchange, RunningMock, Verdict};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};
use tower::{Layer, Service, ServiceBuilder, ServiceExt, service_fn, util::MapRequestLayer};

const BASE: Duration = Duration::from_millis(100);
const MAX: Duration = Duration::from_secs(2);

/// Binance with an order placement the test defines, so that the layer's order handling is
/// tested whatever the exchange data says. Everything else is Binance's.
#[derive(Debug)]
struct BinanceWithOrders;

fn test_client_order_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("kwtest{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

impl Exchange for BinanceWithOrders {
    fn name(&self) -> &'static str {
        Binance.name()
    }
    fn default_base_url(&self) -> &'static str {
        Binance.default_base_url()
    }
    fn signer(&self, credentials: &Credentials) -> Result<Arc<dyn Signer>, CredentialError> {
        Binance.signer(credentials)
    }
    fn classify(&self, status: http::StatusCode, headers: &http::HeaderMap, body: &[u8]) -> Option<ExchangeError> {
        Binance.classify(status, headers, body)
    }
    fn dangerous_endpoints(&self) -> &'static [EndpointRule] {
        Binance.dangerous_endpoints()
    }
    fn server_time(&self) -> ServerTime {
        Binance.server_time()
    }
    fn signing_params(&self) -> &'static [&'static str] {
        Binance.signing_params()
    }
    fn rate_limits(&self) -> &'static RateLimitSpec {
        Binance.rate_limits()
    }
    fn order_placement(&self) -> Option<OrderPlacement> {
        Some(OrderPlacement {
            method: "POST",
            path: "/api/v3/order",
            client_order_id: "newClientOrderId",
            location: ParamLocation::QueryOrForm,
            new_client_order_id: test_client_order_id,
        })
    }
}

/// Every exchange whose data names its order placement, and the test's own Binance placement.
fn exchanges_with_order_placement() -> Vec<&'static dyn Exchange> {
    let mut exchanges: Vec<&'static dyn Exchange> = exchange::ALL
        .iter()
        .copied()
        .filter(|exchange| exchange.order_placement().is_some())
        .collect();
    exchanges.push(&BinanceWithOrders);
    exchanges
}

async fn start(exchange: &str) -> (RunningMock, Fixture) {
    let fixture = Fixture::new(keyward::exchange::by_name(exchange).unwrap().name(), 1);
    let mock = MockExchange::builder(exchange)
        .unwrap()
        .credentials(fixture.mock())
        .start()
        .await
        .unwrap();
    (mock, fixture)
}

/// The attempt numbers the layers below the retry layer saw, in order.
#[derive(Debug, Clone, Default)]
struct SeenAttempts(Arc<Mutex<Vec<u32>>>);

impl SeenAttempts {
    fn take(&self) -> Vec<u32> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// The retry layer for `exchange` over the signing, audit and classify layers of the real
/// exchange of the same name, and a reqwest transport.
fn client(
    retry: RetryLayer,
    exchange: &'static dyn Exchange,
    fixture: &Fixture,
    transport: ReqwestTransport,
    seen: &SeenAttempts,
) -> impl Service<http::Request<Bytes>, Response = http::Response<Bytes>, Error = Error, Future: Send> + Clone + use<> {
    let real = exchange::by_name(exchange.name()).unwrap();
    let seen = seen.clone();
    ServiceBuilder::new()
        .layer(retry)
        .layer(MapRequestLayer::new(move |request: http::Request<Bytes>| {
            let Attempt(attempt) = *request
                .extensions()
                .get::<Attempt>()
                .expect("the retry layer numbers attempts");
            seen.0.lock().unwrap().push(attempt);
            request
        }))
        .layer(SignLayer::new(real, fixture.credentials()))
        .layer(AttemptAuditLayer::new(real))
        .layer(ClassifyLayer::new(real))
        .service(transport)
}

fn retry_layer(exchange: &'static dyn Exchange, clock: &VirtualClock) -> RetryLayer {
    RetryLayer::new(exchange)
        .clock(Arc::new(clock.clone()))
        .max_attempts(3)
        .backoff(BASE, MAX)
}

/// An order for `placement` in the shape its location asks for, with `client_order_id` if given.
fn order_request(base_url: &str, placement: &OrderPlacement, client_order_id: Option<&str>) -> http::Request<Bytes> {
    let mut params = vec![
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "MARKET"),
        ("quantity", "1"),
    ];
    if let Some(id) = client_order_id {
        params.push((placement.client_order_id, id));
    }
    placement_request(base_url, placement, &params)
}

/// Whether the request as received carries `id` (as it is or percent-encoded).
fn carries(recorded: &keyward_mock::RecordedRequest, id: &str) -> bool {
    let encoded = utf8_percent_encode(id, NON_ALPHANUMERIC).to_string();
    [recorded.body_text(), recorded.query.clone()]
        .iter()
        .any(|text| text.contains(id) || text.contains(&encoded))
}

fn service_unavailable() -> Fault {
    Fault::Status(http::StatusCode::SERVICE_UNAVAILABLE)
}

#[tokio::test]
async fn a_read_that_gets_503_twice_is_retried_and_succeeds_with_jittered_waits() {
    let (mock, fixture) = start("binance").await;
    let clock = VirtualClock::now();
    let retry = retry_layer(exchange::by_name("binance").unwrap(), &clock);
    let stats = retry.stats();
    let seen = SeenAttempts::default();
    let client = client(retry, &BinanceWithOrders, &fixture, ReqwestTransport::default(), &seen);

    let mut waits = Vec::new();
    for round in 0..5 {
        mock.clear_requests();
        mock.inject(service_unavailable());
        mock.inject(service_unavailable());
        let before = clock.slept();
        let request = http::Request::get(format!("{}/api/v3/account", mock.base_url()))
            .body(Bytes::new())
            .unwrap();
        let response = client.clone().oneshot(request).await;
        assert!(response.is_ok(), "round {round}: {response:?}");
        assert_eq!(seen.take(), [1, 2, 3], "round {round}");
        let verdicts: Vec<_> = mock.requests().iter().map(|r| r.verdict.is_accepted()).collect();
        assert_eq!(verdicts, [false, false, true], "round {round}");
        let waited = clock.slept() - before;
        // Full jitter: at most the first ceiling (base) plus the second (2 * base).
        assert!(waited <= BASE * 3, "round {round}: waited {waited:?}");
        waits.push(waited);
    }
    assert!(
        waits.iter().any(|wait| *wait != waits[0]),
        "the waits are jittered: {waits:?}"
    );
    assert_eq!(
        (
            stats.attempts(),
            stats.retries(),
            stats.budget_refusals(),
            stats.ambiguous()
        ),
        (15, 10, 0, 0),
        "the default budget allows these retries"
    );
}

#[tokio::test]
async fn an_order_that_gets_503_is_ambiguous_carries_its_generated_id_and_is_sent_once() {
    for target in exchanges_with_order_placement() {
        let name = target.name();
        let placement = target.order_placement().unwrap();
        let (mock, fixture) = start(name).await;
        let clock = VirtualClock::now();
        let retry = retry_layer(target, &clock);
        let stats = retry.stats();
        let client = client(
            retry,
            target,
            &fixture,
            ReqwestTransport::default(),
            &SeenAttempts::default(),
        );

        mock.inject(service_unavailable());
        let err = client
            .oneshot(order_request(&mock.base_url(), &placement, None))
            .await
            .unwrap_err();
        let Error::Ambiguous(ambiguous) = &err else {
            panic!("{name}: {err}")
        };
        let id = ambiguous
            .client_order_id
            .clone()
            .unwrap_or_else(|| panic!("{name}: no id in {err}"));
        assert!(
            matches!(&*ambiguous.cause, Error::Exchange(cause) if cause.status == 503),
            "{name}: {err}"
        );
        assert!(err.to_string().contains(&id), "{name}: {err}");
        let requests = mock.requests();
        assert_eq!(requests.len(), 1, "{name}: sent again");
        assert!(carries(&requests[0], &id), "{name}: {:?} lacks {id}", requests[0]);
        assert!(mock.orders().is_empty(), "{name}: a 503 fault executes nothing");
        assert_eq!((stats.attempts(), stats.ambiguous()), (1, 1), "{name}");
        assert_eq!(clock.slept(), Duration::ZERO, "{name}");
    }
}

#[tokio::test]
async fn an_order_that_times_out_after_executing_is_ambiguous_and_executed_once() {
    let (mock, fixture) = start("binance").await;
    let clock = VirtualClock::now();
    let retry = retry_layer(&BinanceWithOrders, &clock);
    // A short real timeout: the per-attempt timeout runs on tokio's time, not on the clock.
    let transport = ReqwestTransport::default().timeout(Duration::from_millis(300));
    let client = client(retry, &BinanceWithOrders, &fixture, transport, &SeenAttempts::default());
    let placement = BinanceWithOrders.order_placement().unwrap();

    mock.inject(Fault::TimeoutAfterExecute(Duration::from_secs(30)));
    let err = client
        .oneshot(order_request(&mock.base_url(), &placement, None))
        .await
        .unwrap_err();
    let Error::Ambiguous(ambiguous) = &err else {
        panic!("{err}")
    };
    assert!(
        matches!(&*ambiguous.cause, Error::Transport(cause) if cause.kind() == TransportErrorKind::Timeout),
        "{err}"
    );
    let orders = mock.orders();
    assert_eq!(orders.len(), 1, "executed exactly once");
    assert_eq!(
        orders[0].client_order_id, ambiguous.client_order_id,
        "reconcilable by its id"
    );
    assert_eq!(mock.requests().len(), 1, "not sent again");
}

#[tokio::test]
async fn a_reset_order_is_ambiguous_and_a_reset_read_is_retried() {
    let (mock, fixture) = start("binance").await;
    let clock = VirtualClock::now();
    let retry = retry_layer(&BinanceWithOrders, &clock);
    let stats = retry.stats();
    let client = client(
        retry,
        &BinanceWithOrders,
        &fixture,
        ReqwestTransport::default(),
        &SeenAttempts::default(),
    );
    let placement = BinanceWithOrders.order_placement().unwrap();

    mock.inject(Fault::ResetBeforeResponse);
    let err = client
        .clone()
        .oneshot(order_request(&mock.base_url(), &placement, None))
        .await
        .unwrap_err();
    let Error::Ambiguous(ambiguous) = &err else {
        panic!("{err}")
    };
    assert!(ambiguous.cause.to_string().contains("transport"), "{err}");
    assert_eq!(mock.requests().len(), 1, "not sent again");

    mock.inject(Fault::ResetBeforeResponse);
    let read = http::Request::get(format!("{}/api/v3/openOrders", mock.base_url()))
        .body(Bytes::new())
        .unwrap();
    client.oneshot(read).await.unwrap();
    assert_eq!(mock.requests().len(), 3);
    assert_eq!((stats.attempts(), stats.retries(), stats.ambiguous()), (3, 1, 1));
}

#[tokio::test]
async fn a_client_order_id_is_injected_when_missing_and_kept_when_given() {
    for target in exchanges_with_order_placement() {
        let name = target.name();
        let placement = target.order_placement().unwrap();
        let field = placement.client_order_id;
        let (mock, fixture) = start(name).await;
        let clock = VirtualClock::now();
        let client = client(
            retry_layer(target, &clock),
            target,
            &fixture,
            ReqwestTransport::default(),
            &SeenAttempts::default(),
        );

        let response = client
            .clone()
            .oneshot(order_request(&mock.base_url(), &placement, None))
            .await;
        assert!(response.is_ok(), "{name}: {response:?}");
        let injected = mock.orders()[0]
            .param(field)
            .unwrap_or_else(|| panic!("{name}: no {field} in {:?}", mock.orders()[0]));
        assert!(!injected.is_empty(), "{name}");

        let given = (placement.new_client_order_id)();
        let response = client
            .oneshot(order_request(&mock.base_url(), &placement, Some(&given)))
            .await;
        assert!(response.is_ok(), "{name}: {response:?}");
        let orders = mock.orders();
        assert_eq!(orders.len(), 2, "{name}");
        assert_eq!(orders[1].param(field).as_deref(), Some(given.as_str()), "{name}");
        let sent = mock.requests().pop().unwrap();
        let occurrences = format!("{}&{}", sent.query, sent.body_text()).matches(field).count();
        assert_eq!(occurrences, 1, "{name}: {field} added beside the caller's: {sent:?}");
    }
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_an_order() {
    let (_mock, fixture) = start("binance").await;
    // A port that was just free: nothing listens there, so connecting is refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);

    let clock = VirtualClock::now();
    let retry = retry_layer(&BinanceWithOrders, &clock);
    let stats = retry.stats();
    let seen = SeenAttempts::default();
    let client = client(retry, &BinanceWithOrders, &fixture, ReqwestTransport::default(), &seen);
    let placement = BinanceWithOrders.order_placement().unwrap();

    let err = client
        .oneshot(order_request(&base_url, &placement, None))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Transport(cause) if cause.kind() == TransportErrorKind::Connect),
        "the last error, not ambiguous: {err}"
    );
    assert_eq!(seen.take(), [1, 2, 3]);
    assert_eq!((stats.attempts(), stats.retries(), stats.ambiguous()), (3, 2, 0));
    assert!(
        clock.slept() > Duration::ZERO && clock.slept() <= BASE * 3,
        "{:?}",
        clock.slept()
    );
}

#[tokio::test]
async fn the_budget_stops_a_retry_storm() {
    const REQUESTS: u64 = 20;
    let (mock, fixture) = start("binance").await;
    for _ in 0..REQUESTS * 3 {
        mock.inject(service_unavailable());
    }
    let clock = VirtualClock::now();
    // No floor, and one retry for every ten requests.
    let retry =
        retry_layer(&BinanceWithOrders, &clock).budget(RetryBudget::new(Duration::from_secs(10), 0, 0.1).unwrap());
    let stats = retry.stats();
    let client = client(
        retry,
        &BinanceWithOrders,
        &fixture,
        ReqwestTransport::default(),
        &SeenAttempts::default(),
    );

    for _ in 0..REQUESTS {
        let request = http::Request::get(format!("{}/api/v3/account", mock.base_url()))
            .body(Bytes::new())
            .unwrap();
        let err = client.clone().oneshot(request).await.unwrap_err();
        assert_eq!(err.exchange_error().map(|e| e.status), Some(503), "{err}");
    }
    // Without a budget, 3 attempts each: 60 requests to an exchange that is down.
    assert!(stats.retries() <= REQUESTS / 10, "{} retries", stats.retries());
    assert!(stats.retries() >= 1, "the budget grants a share");
    assert_eq!(stats.attempts(), REQUESTS + stats.retries());
    assert_eq!(mock.requests().len() as u64, stats.attempts());
    assert!(
        stats.budget_refusals() >= REQUESTS - stats.retries(),
        "{}",
        stats.budget_refusals()
    );
}

#[tokio::test]
async fn definite_rejections_are_not_retried() {
    let (mock, fixture) = start("binance").await;
    let wrong = fixture.with_wrong_secret();
    let clock = VirtualClock::now();
    let retry = retry_layer(&BinanceWithOrders, &clock);
    let stats = retry.stats();
    let client = client(
        retry,
        &BinanceWithOrders,
        &wrong,
        ReqwestTransport::default(),
        &SeenAttempts::default(),
    );
    let request = http::Request::get(format!("{}/api/v3/account", mock.base_url()))
        .body(Bytes::new())
        .unwrap();
    let err = client.oneshot(request).await.unwrap_err();
    assert_eq!(
        err.exchange_error().map(|e| e.kind.clone()),
        Some(ExchangeErrorKind::InvalidSignature)
    );
    assert_eq!(mock.requests().len(), 1);
    assert!(matches!(mock.requests()[0].verdict, Verdict::Rejected(_)));
    assert_eq!(stats.attempts(), 1);
}

#[tokio::test]
async fn a_rate_limited_attempt_waits_at_least_its_retry_after() {
    let rate_limited = || {
        Error::Exchange(ExchangeError::new(
            ExchangeErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(1)),
            },
            429,
            Some("-1003".into()),
            "Too many requests.",
        ))
    };
    let calls = Arc::new(AtomicU64::new(0));
    let exchange = service_fn({
        let calls = calls.clone();
        move |_: http::Request<Bytes>| {
            let call = calls.fetch_add(1, Ordering::Relaxed);
            let error = rate_limited();
            async move {
                match call {
                    0 => Err(error),
                    _ => Ok(http::Response::new(Bytes::new())),
                }
            }
        }
    });
    let clock = VirtualClock::now();
    let client = retry_layer(&BinanceWithOrders, &clock).layer(exchange);
    let order = order_request(
        "https://api.binance.com",
        &BinanceWithOrders.order_placement().unwrap(),
        None,
    );
    client.clone().oneshot(order).await.unwrap();
    assert!(clock.slept() >= Duration::from_secs(1), "{:?}", clock.slept());
    assert_eq!(
        calls.load(Ordering::Relaxed),
        2,
        "a rate-limited order was not executed: retried"
    );

    // A Retry-After beyond the backoff's max is waited for all the same: it is what the
    // exchange asked for.
    let long = Error::Exchange(ExchangeError::new(
        ExchangeErrorKind::RateLimited {
            retry_after: Some(MAX * 10),
        },
        429,
        None,
        "Too many requests.",
    ));
    let long = Arc::new(Mutex::new(Some(long)));
    let refusing = service_fn(move |_: http::Request<Bytes>| {
        let error = long.lock().unwrap().take();
        async move { Err::<http::Response<Bytes>, _>(error.unwrap_or_else(rate_limited)) }
    });
    let before = clock.slept();
    let err = retry_layer(&BinanceWithOrders, &clock)
        .layer(refusing)
        .oneshot(
            http::Request::get("https://api.binance.com/api/v3/account")
                .body(Bytes::new())
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err.exchange_error().map(|e| &e.kind),
        Some(ExchangeErrorKind::RateLimited { .. })
    ));
    assert!(
        clock.slept() - before >= MAX * 10,
        "waited for the long Retry-After: {:?}",
        clock.slept() - before
    );
}
