//! Every exchange's preset, over real HTTP on loopback, against the embedded exchange, which
//! verifies signatures with its own reading of each exchange's documentation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use bytes::Bytes;
use keyward::clock::VirtualClock;
use keyward::{
    Error, Preset,
    audit::AttemptAuditLayer,
    classify::ClassifyLayer,
    exchange::{self, ExchangeErrorKind},
    guard::{EndpointCategory, GuardLayer},
    sign::SignLayer,
    transport::ReqwestTransport,
};
use keyward_integration::{Fixture, LogCapture, mock_on};
use keyward_mock::{Rejection, RunningMock, Verdict};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use tower::{ServiceBuilder, ServiceExt, service_fn};
use tracing::instrument::WithSubscriber;

const REQUESTS_PER_EXCHANGE: usize = 24;

/// Characters that break naive canonicalisation: reserved URL characters, spaces, unicode.
const TRICKY: &[&str] = &[
    "a", "Z", "0", "-", "_", ".", "~", " ", "&", "=", "+", "?", "/", "#", "%", ":", "@", "é", "中", "🚀", "'", "\"",
    "\\", ",",
];

fn seed() -> u64 {
    let seed = std::env::var("KEYWARD_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_128);
    eprintln!("seed: {seed} (set KEYWARD_TEST_SEED to replay)");
    seed
}

fn tricky_text(rng: &mut StdRng) -> String {
    (0..rng.gen_range(1..12))
        .map(|_| *TRICKY.choose(rng).unwrap_or(&"a"))
        .collect()
}

fn segment(rng: &mut StdRng) -> String {
    let words = ["probe", "audit", "caf%C3%A9", "list", "x-y", "v_1"];
    (*words.choose(rng).unwrap_or(&"probe")).to_owned()
}

fn encoded_query(rng: &mut StdRng) -> String {
    (0..rng.gen_range(1..5))
        .map(|i| format!("p{i}={}", utf8_percent_encode(&tricky_text(rng), NON_ALPHANUMERIC)))
        .collect::<Vec<_>>()
        .join("&")
}

fn json_body(rng: &mut StdRng) -> String {
    let text = tricky_text(rng).replace('\\', "\\\\").replace('"', "\\\"");
    format!(r#"{{"text":"{text}","n":{}}}"#, rng.gen_range(0..1000))
}

/// A random private request that this exchange's API accepts in shape.
fn random_request(exchange: &str, base: &str, rng: &mut StdRng) -> http::Request<Bytes> {
    let prefix = match exchange {
        "binance" => "/api/v3",
        "bybit" => "/v5",
        "okx" => "/api/v5",
        "coinbase" => "/accounts",
        "kraken" => "/0/private",
        "kucoin" | "bitmex" => "/api/v1",
        _ => "/api/v4",
    };
    let path = format!("{prefix}/{}/{}", segment(rng), segment(rng));
    let form = matches!(exchange, "kraken" | "binance");
    use http::Method;
    // The methods each exchange's private REST API uses.
    let methods: &[Method] = match exchange {
        "kraken" => &[Method::POST],
        "bybit" | "okx" => &[Method::GET, Method::POST],
        "coinbase" | "kucoin" => &[Method::GET, Method::POST, Method::DELETE],
        _ => &[Method::GET, Method::POST, Method::DELETE, Method::PUT],
    };
    let method = methods.choose(rng).cloned().unwrap_or(Method::POST);
    // Bybit and OKX sign a POST by its body alone; Kraken takes everything in the body.
    let body_only = matches!(exchange, "kraken" | "bybit" | "okx") && method == Method::POST;
    let with_query = !body_only && (method != Method::POST || rng.gen_bool(0.3));
    let url = if with_query {
        format!("{base}{path}?{}", encoded_query(rng))
    } else {
        format!("{base}{path}")
    };
    let body = match method {
        http::Method::POST | http::Method::PUT if form => encoded_query(rng),
        http::Method::POST | http::Method::PUT => json_body(rng),
        _ => String::new(),
    };
    let mut builder = http::Request::builder().method(method).uri(url);
    if !body.is_empty() {
        let content_type = if form {
            "application/x-www-form-urlencoded"
        } else {
            "application/json"
        };
        builder = builder.header("content-type", content_type);
    }
    builder
        .body(Bytes::from(body))
        .unwrap_or_else(|err| panic!("test request: {err}"))
}

thread_local! {
    /// One virtual time for the test's embedded exchange and its clients.
    static CLOCK: VirtualClock = VirtualClock::now();
}

fn clock() -> VirtualClock {
    CLOCK.with(VirtualClock::clone)
}

/// The embedded exchange on the test's virtual time, without its rate limits: these tests are
/// about signing; the limits have tests of their own.
async fn start(fixture: &Fixture) -> RunningMock {
    mock_on(fixture, &clock()).without_rate_limits().start().await.unwrap()
}

/// The preset on the same virtual time, so that keyward's own pacing (Kraken's decaying
/// counter) costs no real time.
fn preset(exchange: &str, fixture: &Fixture) -> Preset<std::sync::Arc<keyward::Credentials>> {
    Preset::new(exchange::by_name(exchange).unwrap(), fixture.credentials()).clock(std::sync::Arc::new(clock()))
}

/// What the embedded exchange received, less the public requests the stack makes on its own:
/// the clock layer's server-time probe and the `exchangeInfo` the rate limiter loads Binance's
/// live limits from.
fn private_requests(mock: &RunningMock) -> Vec<keyward_mock::RecordedRequest> {
    let server_time = exchange::by_name(mock.exchange()).unwrap().server_time().path;
    mock.requests()
        .into_iter()
        .filter(|r| r.path != "/api/v3/exchangeInfo" && r.path != server_time)
        .collect()
}

fn expected_kind(rejection: Rejection) -> ExchangeErrorKind {
    match rejection {
        Rejection::BadSignature => ExchangeErrorKind::InvalidSignature,
        Rejection::UnknownKey | Rejection::BadPassphrase | Rejection::MissingAuth => ExchangeErrorKind::Authentication,
        Rejection::TimestampOutsideWindow | Rejection::NonceNotIncreasing => ExchangeErrorKind::TimestampOutsideWindow,
        other => panic!("unexpected rejection {other:?}"),
    }
}

#[tokio::test]
async fn every_preset_is_accepted_for_random_requests() {
    let logs = LogCapture::default();
    let mut rng = StdRng::seed_from_u64(seed());
    for exchange in exchange::names() {
        let fixture = Fixture::new(exchange, 1);
        let mock = start(&fixture).await;
        let client = preset(exchange, &fixture).service(ReqwestTransport::default());
        for _ in 0..REQUESTS_PER_EXCHANGE {
            let request = random_request(exchange, &mock.base_url(), &mut rng);
            let (method, uri, body) = (request.method().clone(), request.uri().clone(), request.body().clone());
            let result = client.clone().oneshot(request).with_subscriber(logs.subscriber()).await;
            let recorded = private_requests(&mock).pop().unwrap();
            assert!(
                result.is_ok() && recorded.verdict == Verdict::Accepted,
                "{exchange}: {method} {uri} body {body:?} was refused: {result:?} / {:?}",
                recorded.verdict
            );
            // What the caller put in the URL and body arrived as it was, in its order.
            assert_eq!(recorded.path, uri.path(), "{exchange}");
            assert!(
                recorded.query.starts_with(uri.query().unwrap_or("")),
                "{exchange}: {} vs {uri}",
                recorded.query
            );
            let sent_body = String::from_utf8_lossy(&recorded.body).into_owned();
            assert!(
                sent_body.contains(std::str::from_utf8(&body).unwrap()),
                "{exchange}: {sent_body} lacks {body:?}"
            );
        }
        let log = logs.text();
        for forbidden in fixture.forbidden_strings() {
            assert!(
                !log.contains(&forbidden),
                "{exchange}: a secret form leaked into the trace log"
            );
        }
    }
    assert!(
        logs.text().contains("http.attempt"),
        "the trace log should hold the per-attempt audit events"
    );
}

#[tokio::test]
async fn a_wrong_secret_is_rejected_and_classified() {
    for exchange in exchange::names() {
        let fixture = Fixture::new(exchange, 2);
        let mock = start(&fixture).await;
        let wrong = fixture.with_wrong_secret();
        let client = preset(exchange, &wrong).service(ReqwestTransport::default());
        let request = random_request(exchange, &mock.base_url(), &mut StdRng::seed_from_u64(7));
        let err = client.oneshot(request).await.unwrap_err();
        let received = private_requests(&mock);
        assert_eq!(received.len(), 1, "{exchange}: {err}");
        let Verdict::Rejected(rejection) = received[0].verdict else {
            panic!("{exchange}: the mock accepted a wrong secret");
        };
        let Error::Exchange(classified) = &err else {
            panic!("{exchange}: {err}")
        };
        assert_eq!(classified.kind, expected_kind(rejection), "{exchange}: {err}");
    }
}

#[tokio::test]
async fn a_request_changed_after_signing_is_rejected_as_a_bad_signature() {
    for exchange in exchange::names() {
        let fixture = Fixture::new(exchange, 3);
        let mock = start(&fixture).await;
        let target = exchange::by_name(exchange).unwrap();
        // Tampers with the signed request on its way to the wire: a price changed in flight.
        let tamper = tower::util::MapRequestLayer::new(|mut request: http::Request<Bytes>| {
            let body = request.body().clone();
            if body.is_empty() {
                let uri = request.uri().to_string();
                let changed = if uri.contains('?') {
                    uri.replacen('?', "?z=1&", 1)
                } else {
                    format!("{uri}?z=1")
                };
                *request.uri_mut() = changed.parse().unwrap();
            } else {
                // Change the last digit: a quantity or price, never the nonce that comes first.
                let mut bytes = body.to_vec();
                if let Some(digit) = bytes.iter_mut().rev().find(|b| b.is_ascii_digit()) {
                    *digit = b'0' + (*digit - b'0' + 1) % 10;
                }
                *request.body_mut() = Bytes::from(bytes);
            }
            request
        });
        let client = ServiceBuilder::new()
            .layer(GuardLayer::new(target))
            .layer(SignLayer::new(target, fixture.credentials()))
            .layer(tamper)
            .layer(AttemptAuditLayer::new(target))
            .layer(ClassifyLayer::new(target))
            .service(ReqwestTransport::default());
        let request = random_request(exchange, &mock.base_url(), &mut StdRng::seed_from_u64(11));
        let err = client.oneshot(request).await.unwrap_err();
        assert_eq!(mock.requests().len(), 1, "{exchange}: {err}");
        assert_eq!(
            mock.requests()[0].verdict,
            Verdict::Rejected(Rejection::BadSignature),
            "{exchange}"
        );
        assert_eq!(
            err.exchange_error().map(|e| e.kind.clone()),
            Some(ExchangeErrorKind::InvalidSignature),
            "{exchange}: {err}"
        );
    }
}

#[tokio::test]
async fn the_guard_denies_every_withdrawal_endpoint_with_nothing_sent() {
    for exchange in exchange::names() {
        let fixture = Fixture::new(exchange, 4);
        let mock = start(&fixture).await;
        let target = exchange::by_name(exchange).unwrap();
        let client = preset(exchange, &fixture).service(ReqwestTransport::default());
        let withdrawals: Vec<_> = target
            .dangerous_endpoints()
            .iter()
            .filter(|rule| rule.category == EndpointCategory::Withdrawal)
            .collect();
        assert!(!withdrawals.is_empty(), "{exchange} lists no withdrawal endpoint");
        for rule in withdrawals {
            let path = rule.path.replace('*', "x");
            let path = if path.ends_with('/') {
                format!("{path}apply")
            } else {
                path
            };
            let method = rule.method.as_deref().unwrap_or("POST");
            let request = http::Request::builder()
                .method(method)
                .uri(format!("{}{path}", mock.base_url()))
                .body(Bytes::from_static(b"amount=1"))
                .unwrap();
            let err = client.clone().oneshot(request).await.unwrap_err();
            assert!(matches!(err, Error::Denied(_)), "{exchange} {method} {path}: {err}");
            assert!(err.to_string().contains("withdrawal"), "{err}");
        }
        assert!(
            private_requests(&mock).is_empty(),
            "{exchange}: the embedded exchange received a denied request"
        );
    }
}

#[tokio::test]
async fn unsignable_credentials_fail_before_sending() {
    for exchange in ["kraken", "coinbase"] {
        let fixture = Fixture::new(exchange, 5);
        let mock = start(&fixture).await;
        let mut bad = fixture.clone();
        bad.secret = "not base64 at all!".into();
        let client = preset(exchange, &bad).service(ReqwestTransport::default());
        let request = random_request(exchange, &mock.base_url(), &mut StdRng::seed_from_u64(5));
        let err = client.oneshot(request).await.unwrap_err();
        assert!(matches!(err, Error::Credentials(_)), "{exchange}: {err}");
        assert!(err.to_string().contains("base64"), "{err}");
        assert!(
            !err.to_string().contains("not base64 at all"),
            "the message must not echo the secret"
        );
        assert!(private_requests(&mock).is_empty());
    }
}

#[tokio::test]
async fn any_tower_service_can_be_the_transport() {
    let fixture = Fixture::new("okx", 6);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorder = seen.clone();
    let transport = service_fn(move |request: http::Request<Bytes>| {
        let recorder = recorder.clone();
        async move {
            // A stand-in for OKX: its server time (the clock layer asks first), then an account.
            if request.uri().path() == "/api/v5/public/time" {
                let now = keyward::clock::Clock::unix_millis(&keyward::clock::SystemClock);
                let body = format!(r#"{{"code":"0","msg":"","data":[{{"ts":"{now}"}}]}}"#);
                return Ok::<_, Error>(http::Response::new(Bytes::from(body)));
            }
            recorder.lock().unwrap().push(request.headers().clone());
            Ok(http::Response::new(Bytes::from_static(
                br#"{"code":"0","msg":"","data":[]}"#,
            )))
        }
    });
    let client = Preset::new(exchange::by_name("okx").unwrap(), fixture.credentials()).service(transport);
    // (The real system clock here: this stand-in answers with real time.)
    let request = http::Request::get("https://www.okx.com/api/v5/account/balance")
        .body(Bytes::new())
        .unwrap();
    client.oneshot(request).await.unwrap();
    let headers = seen.lock().unwrap()[0].clone();
    for name in [
        "OK-ACCESS-KEY",
        "OK-ACCESS-SIGN",
        "OK-ACCESS-TIMESTAMP",
        "OK-ACCESS-PASSPHRASE",
    ] {
        assert!(headers.contains_key(name), "{name}");
    }
}

#[tokio::test]
async fn the_hyper_transport_carries_the_same_stack() {
    let fixture = Fixture::new("bitmex", 7);
    let mock = start(&fixture).await;
    let client = preset("bitmex", &fixture).service(keyward::transport::HttpTransport::hyper());
    let mut rng = StdRng::seed_from_u64(seed());
    for _ in 0..8 {
        let request = random_request("bitmex", &mock.base_url(), &mut rng);
        client.clone().oneshot(request).await.unwrap();
    }
    assert!(mock.requests().iter().all(|r| r.verdict == Verdict::Accepted));
    assert_eq!(private_requests(&mock).len(), 8);
}
