//! The full preset stack (guard, retry, rate limit, clock, sign, attempt audit, classify) for
//! Binance around a no-op inner service, beside a keep-alive HTTP/1.1 round trip on loopback
//! (a hyper-util client to a tiny hyper server), in the same run and on the same one-thread
//! runtime, as a trading client and the exchange's edge on one vCPU would be.
//!
//! The stack's audit events go to a JSON `tracing-subscriber` layer writing into a sink that
//! counts and drops the bytes; time is a `VirtualClock` moved on by one second per order, so the
//! limiter never has to wait (one order per second is far inside Binance's budgets) and the clock
//! layer resyncs every five virtual minutes, as it would in production.
//!
//! # Profiling one layer at a time
//!
//! Timing on a shared machine is noisy, so the per-layer breakdown is taken in instructions:
//! `KEYWARD_PRESET_PROFILE=<layers>:<orders>` skips criterion and sends `<orders>` orders through
//! the innermost `<layers>` layers of the stack (0: the no-op transport alone; 1: + classify;
//! 2: + attempt audit; 3: + sign; 4: + clock; 5: + rate limit; 6: + retry; 7: + guard, that is
//! the preset's layers built one by one; 8: `Preset::service` itself), with the same JSON
//! subscriber. Each stack is boxed the same way, so the box cancels out of the differences. Run
//! it twice under `valgrind --tool=callgrind` with two order counts: the difference of the
//! totals divided by the difference of the counts is the cost of one order, without the set-up.

#![allow(clippy::unwrap_used, missing_docs)]

use bytes::Bytes;
use criterion::{Criterion, criterion_group};
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::Client,
    rt::{TokioExecutor, TokioIo},
};
use keyward::{
    Credentials, Preset,
    audit::AttemptAuditLayer,
    classify::ClassifyLayer,
    clock::{Clock, ClockLayer, VirtualClock},
    exchange,
    guard::GuardLayer,
    rate_limit::{RateLimitLayer, RateLimiter},
    retry::RetryLayer,
    sign::SignLayer,
};
use keyward_benches::CountingSink;
use std::{
    convert::Infallible,
    sync::Arc,
    time::{Duration, Instant},
};
use tower::{Service, ServiceBuilder, ServiceExt, service_fn, util::BoxCloneService};
use tracing_subscriber::layer::SubscriberExt;

const ORDER: &str =
    "https://api.binance.com/api/v3/order?symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1";

fn order() -> http::Request<Bytes> {
    http::Request::post(ORDER).body(Bytes::new()).unwrap()
}

/// A server that answers every request at once with Binance's server-time body.
async fn serve_loopback() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|_request: http::Request<hyper::body::Incoming>| async {
                    Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(
                        br#"{"serverTime":1700000000000}"#,
                    ))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    address
}

fn bench_preset(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sink = CountingSink::default();
    let subscriber =
        tracing_subscriber::registry().with(tracing_subscriber::fmt::layer().json().with_writer(sink.clone()));
    let _guard = tracing::subscriber::set_default(subscriber);

    let clock = VirtualClock::now();
    let inner_clock = clock.clone();
    let transport = service_fn(move |request: http::Request<Bytes>| {
        let now = inner_clock.unix_millis();
        async move {
            let body = if request.uri().path() == "/api/v3/time" {
                Bytes::from(format!(r#"{{"serverTime":{now}}}"#))
            } else {
                Bytes::from_static(b"{}")
            };
            Ok::<_, keyward::Error>(http::Response::new(body))
        }
    });
    let credentials = Arc::new(Credentials::new(
        "test-only-key-0123456789abcdef",
        "test-only-secret-0123456789abcdef0123456789",
    ));
    let preset = Preset::new(exchange::by_name("binance").unwrap(), credentials).clock(Arc::new(clock.clone()));
    let stack = preset.service(transport);

    let address = runtime.block_on(serve_loopback());
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let loopback_url = format!("http://{address}/api/v3/time");

    let mut group = c.benchmark_group("preset");
    group.bench_function("keyward", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    clock.advance(Duration::from_secs(1));
                    let mut service = stack.clone();
                    let response = service.ready().await.unwrap().call(order()).await.unwrap();
                    std::hint::black_box(response);
                }
                start.elapsed()
            })
        })
    });
    // Informative: the same stack with no subscriber at all, to show what the JSON audit costs.
    group.bench_function("keyward-no-subscriber", |b| {
        b.iter_custom(|iters| {
            tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
                runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        clock.advance(Duration::from_secs(1));
                        let mut service = stack.clone();
                        let response = service.ready().await.unwrap().call(order()).await.unwrap();
                        std::hint::black_box(response);
                    }
                    start.elapsed()
                })
            })
        })
    });
    group.bench_function("loopback-round-trip", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let request = http::Request::get(loopback_url.as_str())
                        .body(Full::new(Bytes::new()))
                        .unwrap();
                    let response = client.request(request).await.unwrap();
                    let body = response.into_body().collect().await.unwrap().to_bytes();
                    std::hint::black_box(body);
                }
                start.elapsed()
            })
        })
    });
    group.finish();
    assert!(
        sink.bytes() > 0,
        "the stack wrote no audit event: the comparison would be void"
    );
    assert_eq!(
        preset.stats().waited,
        Duration::ZERO,
        "the limiter waited: the stack was not measured alone"
    );
}

type Boxed = BoxCloneService<http::Request<Bytes>, http::Response<Bytes>, keyward::Error>;

/// The innermost `layers` layers of the Binance preset around `transport`, boxed.
fn partial_stack<T>(layers: u32, clock: &VirtualClock, credentials: Arc<Credentials>, transport: T) -> Boxed
where
    T: Service<http::Request<Bytes>, Response = http::Response<Bytes>, Error = keyward::Error> + Clone + Send + 'static,
    T::Future: Send + 'static,
{
    let binance = exchange::by_name("binance").unwrap();
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let clock_layer = ClockLayer::new(binance).clock(Arc::clone(&shared));
    let offset = clock_layer.offset_handle();
    let limiter = RateLimiter::new(binance)
        .clock(Arc::clone(&shared))
        .exchange_offset(move || offset.offset_millis());
    let classify = ServiceBuilder::new().layer(ClassifyLayer::new(binance));
    let audit = classify.clone().layer(AttemptAuditLayer::new(binance));
    let sign = |audit| {
        ServiceBuilder::new()
            .layer(SignLayer::new(binance, Arc::clone(&credentials)))
            .layer(audit)
    };
    let guard = GuardLayer::new(binance);
    let retry = RetryLayer::new(binance).clock(Arc::clone(&shared));
    let limit = RateLimitLayer::with_limiter(limiter);
    match layers {
        0 => BoxCloneService::new(transport),
        1 => BoxCloneService::new(classify.service(transport)),
        2 => BoxCloneService::new(audit.service(transport)),
        3 => BoxCloneService::new(sign(audit).service(transport)),
        4 => BoxCloneService::new(
            ServiceBuilder::new()
                .layer(clock_layer)
                .layer(sign(audit))
                .service(transport),
        ),
        5 => BoxCloneService::new(
            ServiceBuilder::new()
                .layer(limit)
                .layer(clock_layer)
                .layer(sign(audit))
                .service(transport),
        ),
        6 => BoxCloneService::new(
            ServiceBuilder::new()
                .layer(retry)
                .layer(limit)
                .layer(clock_layer)
                .layer(sign(audit))
                .service(transport),
        ),
        7 => BoxCloneService::new(
            ServiceBuilder::new()
                .layer(guard)
                .layer(retry)
                .layer(limit)
                .layer(clock_layer)
                .layer(sign(audit))
                .service(transport),
        ),
        _ => BoxCloneService::new(Preset::new(binance, credentials).clock(shared).service(transport)),
    }
}

/// `KEYWARD_PRESET_PROFILE=<layers>:<orders>`: see the module docs.
fn profile(layers: u32, orders: u64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sink = CountingSink::default();
    let subscriber =
        tracing_subscriber::registry().with(tracing_subscriber::fmt::layer().json().with_writer(sink.clone()));
    let _guard = tracing::subscriber::set_default(subscriber);
    let clock = VirtualClock::now();
    let inner_clock = clock.clone();
    let transport = service_fn(move |request: http::Request<Bytes>| {
        let now = inner_clock.unix_millis();
        async move {
            let body = if request.uri().path() == "/api/v3/time" {
                Bytes::from(format!(r#"{{"serverTime":{now}}}"#))
            } else {
                Bytes::from_static(b"{}")
            };
            Ok::<_, keyward::Error>(http::Response::new(body))
        }
    });
    let credentials = Arc::new(Credentials::new(
        "test-only-key-0123456789abcdef",
        "test-only-secret-0123456789abcdef0123456789",
    ));
    let stack = partial_stack(layers, &clock, credentials, transport);
    runtime.block_on(async {
        for _ in 0..orders {
            clock.advance(Duration::from_secs(1));
            let mut service = stack.clone();
            let response = service.ready().await.unwrap().call(order()).await.unwrap();
            std::hint::black_box(response);
        }
    });
    assert!(orders == 0 || layers < 2 || sink.bytes() > 0, "no audit event written");
}

criterion_group!(benches, bench_preset);

fn main() {
    if let Ok(request) = std::env::var("KEYWARD_PRESET_PROFILE") {
        let (layers, orders) = request
            .split_once(':')
            .unwrap_or_else(|| panic!("KEYWARD_PRESET_PROFILE=<layers>:<orders>"));
        profile(layers.parse().unwrap(), orders.parse().unwrap());
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
