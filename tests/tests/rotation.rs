//! Key rotation in the full stack, over loopback against the embedded exchange: a hot rotation
//! under a steady load of 16 concurrent workers, and a reload after the exchange rejects a key
//! the operator revoked.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use keyward::{
    Credentials, Preset,
    audit::trail::{self, AuditTrail},
    clock::VirtualClock,
    credentials::{
        CredentialError, Fingerprint, RotatingCredentials, Rotation,
        sources::{LoadCredentials, Loaded, Provenance, SourceKind, load_fn},
    },
    exchange,
    transport::ReqwestTransport,
};
use keyward_integration::{Fixture, mock_on};
use keyward_mock::{Rejection, RunningMock, Verdict};
use std::{
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};
use tower::{Layer, ServiceExt, util::MapRequestLayer};
use tracing::instrument::WithSubscriber;
use tracing_subscriber::layer::SubscriberExt;

const WORKERS: usize = 16;
/// Requests completed in each phase of the load test before it moves to the next.
const REQUESTS_PER_PHASE: usize = 120;
/// How long any wait of the test may take before it counts as hung.
const HUNG: Duration = Duration::from_secs(30);

/// A test fixture for `exchange` whose API key ends in `tail`, so that the old and new keys have
/// distinct fingerprints.
fn fixture(exchange: &'static str, variant: u8, tail: &str) -> Fixture {
    let mut fixture = Fixture::new(exchange, variant);
    fixture.api_key = format!("test-only-{exchange}-rotation-key-{tail}");
    fixture
}

/// The secret store the operator puts keys in: it holds one fixture at a time and counts how
/// often keyward loads from it.
#[derive(Clone)]
struct SecretStore {
    holds: Arc<Mutex<Fixture>>,
    loads: Arc<AtomicUsize>,
}

impl SecretStore {
    fn holding(fixture: &Fixture) -> Self {
        Self {
            holds: Arc::new(Mutex::new(fixture.clone())),
            loads: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn put(&self, fixture: &Fixture) {
        *self.holds.lock().unwrap() = fixture.clone();
    }

    fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }

    fn loader(&self) -> impl LoadCredentials {
        let store = self.clone();
        load_fn(move || {
            store.loads.fetch_add(1, Ordering::SeqCst);
            let credentials: Credentials = (*store.holds.lock().unwrap().credentials()).clone();
            async move {
                Ok::<_, CredentialError>(Loaded {
                    credentials,
                    provenance: Provenance::new(SourceKind::Custom("test-secret-store")),
                })
            }
        })
    }
}

/// A private read each exchange's API (and the embedded exchange) accepts.
fn private_read(exchange: &str, base: &str, worker: usize) -> http::Request<Bytes> {
    let (method, path, body) = match exchange {
        "binance" => ("GET", "/api/v3/account".to_owned(), ""),
        // Bybit budgets each endpoint on its own: one per worker spreads the load.
        "bybit" => (
            "GET",
            format!("/v5/account/wallet-balance-{worker}?accountType=UNIFIED"),
            "",
        ),
        "okx" => ("GET", "/api/v5/account/balance".to_owned(), ""),
        "coinbase" => ("GET", "/accounts".to_owned(), ""),
        "kraken" => ("POST", "/0/private/Balance".to_owned(), "asset=XBT"),
        "kucoin" => ("GET", "/api/v1/accounts".to_owned(), ""),
        "bitmex" => ("GET", "/api/v1/user/wallet".to_owned(), ""),
        _ => ("GET", "/api/v4/spot/accounts".to_owned(), ""),
    };
    let mut builder = http::Request::builder().method(method).uri(format!("{base}{path}"));
    if !body.is_empty() {
        builder = builder.header("content-type", "application/x-www-form-urlencoded");
    }
    builder.body(Bytes::from(body)).unwrap()
}

/// The header each exchange carries the API key in.
fn key_header(exchange: &str) -> &'static str {
    match exchange {
        "binance" => "X-MBX-APIKEY",
        "bybit" => "X-BAPI-API-KEY",
        "okx" => "OK-ACCESS-KEY",
        "coinbase" => "CB-ACCESS-KEY",
        "kraken" => "API-Key",
        "kucoin" => "KC-API-KEY",
        "bitmex" => "api-key",
        _ => "KEY",
    }
}

/// Private requests the embedded exchange received, with the key each carried.
fn keys_received(mock: &RunningMock) -> Vec<(String, Verdict)> {
    let header = key_header(mock.exchange());
    mock.requests()
        .into_iter()
        .filter_map(|request| Some((request.header(header)?.to_owned(), request.verdict)))
        .collect()
}

fn temp_trail(test: &str) -> PathBuf {
    let unique = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::env::temp_dir().join(format!("keyward-{test}-{}-{unique}.jsonl", std::process::id()))
}

/// Where the load test stands. Workers read it before sending, and the transport reads it again
/// after signing, so that each request is known to have been signed after (or before) a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
enum Step {
    /// Only the old key exists.
    OldKeyOnly = 0,
    /// The exchange accepts both keys, the store holds the new one, and `rotate_now` runs.
    Rotating = 1,
    /// `rotate_now` returned: the new key signs.
    Rotated = 2,
    /// The old key's requests drained and the exchange revoked it.
    OldKeyRevoked = 3,
}

impl Step {
    fn from_u8(step: u8) -> Self {
        [Self::OldKeyOnly, Self::Rotating, Self::Rotated, Self::OldKeyRevoked][usize::from(step)]
    }
}

/// The step a worker read before sending: travels with the request down to the transport.
#[derive(Debug, Clone, Copy)]
struct SentDuring(Step);

/// A signed request as it left for the exchange.
#[derive(Debug)]
struct Sent {
    /// The step before the request entered the stack: it was signed no earlier than this.
    before: Step,
    /// The step when the signed request reached the transport: it was signed no later.
    at_transport: Step,
    api_key: String,
}

/// Waits (in small real steps: the workers run on real threads) until `done` holds.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < HUNG, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keys_rotate_under_load_at_concurrency_16_without_a_failed_request() {
    let old = fixture("bybit", 1, "0LD1");
    let new = fixture("bybit", 2, "NEW2");
    let (old_fp, new_fp) = (Fingerprint::of(&old.api_key), Fingerprint::of(&new.api_key));

    let trail_path = temp_trail("rotation-under-load");
    let audit = keyward_integration::scoped_dispatch(
        tracing_subscriber::registry().with(AuditTrail::builder(&trail_path).build().unwrap()),
    );

    // The exchange and the stack share one virtual time, so that the client's own pacing to
    // Bybit's per-endpoint budgets costs no real time.
    let clock = VirtualClock::now();
    let mock = mock_on(&old, &clock).without_rate_limits().start().await.unwrap();
    let store = SecretStore::holding(&old);
    let rotating = RotatingCredentials::load(store.loader())
        .with_subscriber(audit.clone())
        .await
        .unwrap();
    let preset = Preset::new(exchange::by_name("bybit").unwrap(), rotating.clone())
        .clock(Arc::new(clock.clone()))
        .reload_on_rejection();

    let step = Arc::new(AtomicU8::new(Step::OldKeyOnly as u8));
    let sent = Arc::new(Mutex::new(Vec::<Sent>::new()));
    let recorder = {
        let (step, sent) = (Arc::clone(&step), Arc::clone(&sent));
        MapRequestLayer::new(move |request: http::Request<Bytes>| {
            if let (Some(SentDuring(before)), Some(key)) = (
                request.extensions().get::<SentDuring>().copied(),
                request.headers().get("X-BAPI-API-KEY"),
            ) {
                sent.lock().unwrap().push(Sent {
                    before,
                    at_transport: Step::from_u8(step.load(Ordering::SeqCst)),
                    api_key: key.to_str().unwrap().to_owned(),
                });
            }
            request
        })
    };
    let client = preset.service(recorder.layer(ReqwestTransport::default()));

    // Requests that entered the stack before the rotation finished and have not completed: the
    // only ones that can still carry the old key.
    let old_in_flight = Arc::new(AtomicUsize::new(0));
    let completed = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..WORKERS {
        let (client, base) = (client.clone(), mock.base_url());
        let (step, old_in_flight, completed) = (Arc::clone(&step), Arc::clone(&old_in_flight), Arc::clone(&completed));
        let (stop, failures) = (Arc::clone(&stop), Arc::clone(&failures));
        workers.spawn(
            async move {
                while !stop.load(Ordering::SeqCst) {
                    // Counted before the step is read: a request that could sign with the old
                    // key is counted before the rotation could finish.
                    old_in_flight.fetch_add(1, Ordering::SeqCst);
                    let before = Step::from_u8(step.load(Ordering::SeqCst));
                    let counted = before < Step::Rotated;
                    if !counted {
                        old_in_flight.fetch_sub(1, Ordering::SeqCst);
                    }
                    let mut request = private_read("bybit", &base, worker);
                    request.extensions_mut().insert(SentDuring(before));
                    let result = client.clone().oneshot(request).await;
                    if counted {
                        old_in_flight.fetch_sub(1, Ordering::SeqCst);
                    }
                    if let Err(err) = result {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("worker {worker} ({before:?}): {err}"));
                    }
                    completed.fetch_add(1, Ordering::SeqCst);
                }
            }
            .with_subscriber(audit.clone()),
        );
    }

    let progress = |from: usize| {
        let completed = Arc::clone(&completed);
        move || completed.load(Ordering::SeqCst) >= from + REQUESTS_PER_PHASE
    };
    wait_until("the old key signed a steady stream", progress(0)).await;

    // The operator creates the new key on the exchange (handover: both accepted), puts it in
    // the secret store, and tells the bot to rotate.
    mock.add_credentials(new.mock()).unwrap();
    store.put(&new);
    step.store(Step::Rotating as u8, Ordering::SeqCst);
    let rotation = rotating.rotate_now().with_subscriber(audit.clone()).await.unwrap();
    step.store(Step::Rotated as u8, Ordering::SeqCst);
    assert_eq!(
        rotation,
        Rotation::Rotated {
            old: old_fp,
            new: new_fp
        }
    );
    let rotated_at = completed.load(Ordering::SeqCst);

    wait_until("the requests signed with the old key drained", || {
        old_in_flight.load(Ordering::SeqCst) == 0
    })
    .await;
    wait_until("the new key signed a steady stream", progress(rotated_at)).await;
    assert!(mock.revoke(&old.api_key));
    step.store(Step::OldKeyRevoked as u8, Ordering::SeqCst);
    let revoked_at = completed.load(Ordering::SeqCst);
    wait_until("the new key signed alone", progress(revoked_at)).await;

    stop.store(true, Ordering::SeqCst);
    while let Some(joined) = workers.join_next().await {
        joined.unwrap();
    }

    // No request failed, and the exchange accepted every request it received.
    assert_eq!(*failures.lock().unwrap(), Vec::<String>::new());
    let received = mock.requests();
    let refused: Vec<_> = received.iter().filter(|r| !r.verdict.is_accepted()).collect();
    assert!(refused.is_empty(), "the exchange refused {refused:#?}");

    // Each request was signed by the key current when it was signed: the old key up to the
    // rotation, the new one from then on, and the switch happened once, during `rotate_now`.
    let sent = std::mem::take(&mut *sent.lock().unwrap());
    for request in &sent {
        let key = &request.api_key;
        if request.at_transport < Step::Rotating {
            assert_eq!(
                key,
                &old.api_key,
                "signed before the rotation with {}",
                Fingerprint::of(key)
            );
        }
        if request.before >= Step::Rotated {
            assert_eq!(
                key,
                &new.api_key,
                "signed after the rotation with {}",
                Fingerprint::of(key)
            );
        }
        assert!(key == &old.api_key || key == &new.api_key);
    }
    let count = |key: &str, from: Step| {
        sent.iter()
            .filter(|request| request.api_key == key && request.before >= from)
            .count()
    };
    assert!(count(&old.api_key, Step::OldKeyOnly) >= REQUESTS_PER_PHASE);
    assert!(count(&new.api_key, Step::OldKeyRevoked) >= REQUESTS_PER_PHASE);
    assert_eq!(count(&old.api_key, Step::Rotated), 0);
    // Nothing was re-sent: every signed request reached the exchange once, with the key the
    // transport saw.
    let received_keys = keys_received(&mock);
    assert_eq!(received_keys.len(), sent.len());
    for key in [&old.api_key, &new.api_key] {
        assert_eq!(
            received_keys.iter().filter(|(received, _)| received == key).count(),
            count(key, Step::OldKeyOnly),
            "{}",
            Fingerprint::of(key)
        );
    }
    // One load at start, one for the rotation: the layer never reloaded after a rejection.
    assert_eq!(store.loads(), 2);

    // The audit trail holds, records the rotation with both fingerprints, and no key.
    drop(audit);
    let report = trail::verify(&trail_path, None).unwrap();
    let text = std::fs::read_to_string(&trail_path).unwrap();
    std::fs::remove_file(&trail_path).unwrap();
    assert!(
        report.records > 2 * REQUESTS_PER_PHASE as u64,
        "{} records",
        report.records
    );
    let rotated: Vec<&str> = text
        .lines()
        .filter(|line| line.contains(r#""event":"credentials.rotated""#))
        .collect();
    assert_eq!(rotated.len(), 1, "{rotated:#?}");
    assert!(
        rotated[0].contains(&format!(r#""old_api_key":"{old_fp}""#)),
        "{}",
        rotated[0]
    );
    assert!(
        rotated[0].contains(&format!(r#""new_api_key":"{new_fp}""#)),
        "{}",
        rotated[0]
    );
    assert!(rotated[0].contains(r#""trigger":"on_demand""#), "{}", rotated[0]);
    for forbidden in old.forbidden_strings().into_iter().chain(new.forbidden_strings()) {
        assert!(!text.contains(&forbidden), "a key or secret is in the audit trail");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_before_the_source_knows_is_reloaded_once_and_the_request_re_sent() {
    for name in exchange::names() {
        let exchange = exchange::by_name(name).unwrap();
        let old = fixture(exchange.name(), 1, "0LD1");
        let new = fixture(exchange.name(), 2, "NEW2");
        let trail_path = temp_trail("rotation-after-rejection");
        let audit = keyward_integration::scoped_dispatch(
            tracing_subscriber::registry().with(AuditTrail::builder(&trail_path).build().unwrap()),
        );

        let clock = VirtualClock::now();
        let mock = mock_on(&old, &clock).without_rate_limits().start().await.unwrap();
        let store = SecretStore::holding(&old);
        let rotating = RotatingCredentials::load(store.loader())
            .with_subscriber(audit.clone())
            .await
            .unwrap();
        let client = Preset::new(exchange, rotating.clone())
            .clock(Arc::new(clock.clone()))
            .reload_on_rejection()
            .service(ReqwestTransport::default());

        // The operator created a new key, put it in the secret store and revoked the old one,
        // before the bot reloaded.
        mock.add_credentials(new.mock()).unwrap();
        store.put(&new);
        assert!(mock.revoke(&old.api_key));

        let response = client
            .clone()
            .oneshot(private_read(name, &mock.base_url(), 0))
            .with_subscriber(audit.clone())
            .await;
        assert!(response.is_ok(), "{name}: {response:?}");
        assert_eq!(
            keys_received(&mock),
            [
                (old.api_key.clone(), Verdict::Rejected(Rejection::UnknownKey)),
                (new.api_key.clone(), Verdict::Accepted)
            ],
            "{name}"
        );
        assert_eq!(store.loads(), 2, "{name}: one load at start, exactly one reload");
        assert_eq!(rotating.fingerprint(), Fingerprint::of(&new.api_key), "{name}");

        // A later request goes out with the new key at once, and nothing reloads again.
        mock.clear_requests();
        client.oneshot(private_read(name, &mock.base_url(), 0)).await.unwrap();
        assert_eq!(
            keys_received(&mock),
            [(new.api_key.clone(), Verdict::Accepted)],
            "{name}"
        );
        assert_eq!(store.loads(), 2, "{name}");

        drop(audit);
        trail::verify(&trail_path, None).unwrap();
        let text = std::fs::read_to_string(&trail_path).unwrap();
        std::fs::remove_file(&trail_path).unwrap();
        let rotated: Vec<&str> = text
            .lines()
            .filter(|line| line.contains(r#""event":"credentials.rotated""#))
            .collect();
        assert_eq!(rotated.len(), 1, "{name}: {rotated:#?}");
        assert!(rotated[0].contains(r#""trigger":"rejected""#), "{name}: {}", rotated[0]);
        assert!(rotated[0].contains(&format!(r#""new_api_key":"{}""#, Fingerprint::of(&new.api_key))));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_rejected_requests_reloads_once() {
    let old = fixture("okx", 1, "0LD1");
    let new = fixture("okx", 2, "NEW2");
    let clock = VirtualClock::now();
    let mock = mock_on(&old, &clock).without_rate_limits().start().await.unwrap();
    let store = SecretStore::holding(&old);
    let rotating = RotatingCredentials::load(store.loader()).await.unwrap();
    let client = Preset::new(exchange::by_name("okx").unwrap(), rotating)
        .clock(Arc::new(clock.clone()))
        .reload_on_rejection()
        .service(ReqwestTransport::default());
    mock.add_credentials(new.mock()).unwrap();
    store.put(&new);
    assert!(mock.revoke(&old.api_key));

    let mut requests = tokio::task::JoinSet::new();
    for worker in 0..WORKERS {
        let request = private_read("okx", &mock.base_url(), worker);
        requests.spawn(client.clone().oneshot(request));
    }
    while let Some(result) = requests.join_next().await {
        result.unwrap().unwrap();
    }
    assert_eq!(store.loads(), 2, "one load at start, exactly one reload");
    let received = keys_received(&mock);
    let accepted = received.iter().filter(|(_, verdict)| verdict.is_accepted()).count();
    assert_eq!(accepted, WORKERS);
    // Each request was rejected at most once: with the old key, then re-sent with the new one.
    for (key, verdict) in &received {
        assert_eq!(
            key == &new.api_key,
            verdict.is_accepted(),
            "{}: {verdict:?}",
            Fingerprint::of(key)
        );
    }
    assert!(received.len() <= 2 * WORKERS);
}
