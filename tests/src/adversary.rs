//! The adversary: keyward's whole stack against the embedded exchange on a bad day, and the
//! checks that keyward's promises held afterwards, from the exchange's own record.
//!
//! An [`Arena`] is one exchange on one virtual time: the mock, the full [`Preset`] stack over a
//! reqwest transport (with [`RotatingCredentials`], so that keys can rotate mid-run), a
//! hash-chained [`AuditTrail`] and a [`LogCapture`] at `trace` level. [`Arena::run`] sends a mix
//! of calls ([`Call`]: reads, order placements, cancels) from concurrent tasks, each bounded by
//! [`HUNG`]; [`Arena::check`] then asserts, whatever the faults were:
//! - no order executed twice, by client order id, from [`RunningMock::orders`];
//! - every call reported as a success executed, every [`Ambiguous`](keyward::retry::Ambiguous)
//!   order was looked up in the record, and every other failed order did not execute;
//! - no call used more attempts than the retry layer allows;
//! - nothing was sent during a ban (beyond what was already in flight), nor inside a
//!   `Retry-After` (beyond the exchange's grace for stragglers);
//! - the audit trail verifies and holds exactly one attempt record per request sent.
//!
//! Each call carries its number in [`CALL_HEADER`], which a [`FaultPlan::keyed_by`] plan reads,
//! so that a seed replays the same faults for the same calls whatever the scheduling.

use crate::{Fixture, LogCapture, mock_on};
use bytes::Bytes;
use keyward::{
    Credentials, Error, Preset,
    audit::{Attempt, trail::AuditTrail},
    clock::VirtualClock,
    credentials::{
        CredentialError, RotatingCredentials,
        sources::{Loaded, Provenance, SourceKind, load_fn},
    },
    exchange::{self, Exchange, OrderPlacement, ParamLocation},
    transport::ReqwestTransport,
};
use keyward_mock::{Fault, FaultPlan, Rejection, RunningMock, Verdict};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use std::{
    collections::{BTreeMap, HashMap},
    fmt,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};
use tower::{ServiceBuilder, ServiceExt, util::BoxCloneSyncService};
use tracing::instrument::WithSubscriber;
use tracing_subscriber::{Layer, filter::LevelFilter, layer::SubscriberExt};

/// The header each call carries its number in: what keyed fault plans draw by.
pub const CALL_HEADER: &str = "x-adversary-call";
/// How long any call may take, in real time, before it counts as hung.
pub const HUNG: Duration = Duration::from_secs(30);
/// The transport's timeout per attempt (real time: reqwest's timer).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(300);
/// The largest answer the transport reads.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;
/// The retry layer's attempts per call (keyward's default).
pub const MAX_ATTEMPTS: u32 = 3;
/// How far a request may arrive after a `429` without counting as sent inside its
/// `Retry-After`: Binance's grace for requests already in flight (the mock's, too).
pub const STRAGGLER_GRACE_MS: i64 = 1_000;

/// The client: the preset's stack as one cloneable service.
pub type Client = BoxCloneSyncService<http::Request<Bytes>, http::Response<Bytes>, Error>;

/// What a call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CallKind {
    /// A private read (`GET`, or Kraken's `POST`).
    Read,
    /// An order placement with its own client order id.
    Order,
    /// A cancellation by client order id.
    Cancel,
}

/// One call of a run.
#[derive(Debug, Clone)]
pub struct Call {
    /// Its number in the run, sent in [`CALL_HEADER`].
    pub index: u64,
    /// What it does.
    pub kind: CallKind,
    /// The client order id of an order placement.
    pub client_order_id: Option<String>,
}

/// How a call ended.
#[derive(Debug)]
pub struct Finished {
    /// The call.
    pub call: Call,
    /// Its result: the HTTP status of a success, or keyward's error.
    pub result: Result<u16, Error>,
}

/// The calls `first..first + count` of a run, drawn from `seed`: mostly reads, a third orders,
/// a tenth cancels.
pub fn mixed_calls(exchange: &'static dyn Exchange, seed: u64, first: u64, count: u64) -> Vec<Call> {
    let placement = exchange.order_placement();
    (first..first + count)
        .map(|index| {
            let draw = mix(seed, index) % 100;
            let kind = match draw {
                0..=54 => CallKind::Read,
                55..=89 if placement.is_some() => CallKind::Order,
                _ => CallKind::Cancel,
            };
            let client_order_id = match (kind, &placement) {
                (CallKind::Order, Some(placement)) => Some((placement.new_client_order_id)()),
                _ => None,
            };
            Call {
                index,
                kind,
                client_order_id,
            }
        })
        .collect()
}

/// `count` calls of one kind, numbered from `first`.
pub fn calls_of(exchange: &'static dyn Exchange, kind: CallKind, first: u64, count: u64) -> Vec<Call> {
    (first..first + count)
        .map(|index| Call {
            index,
            kind,
            client_order_id: (kind == CallKind::Order)
                .then(|| {
                    exchange
                        .order_placement()
                        .map(|placement| (placement.new_client_order_id)())
                })
                .flatten(),
        })
        .collect()
}

/// A mixed plan of every fault a bad day brings, about a quarter of requests faulted, keyed
/// by [`CALL_HEADER`].
pub fn mixed_faults(seed: u64) -> FaultPlan {
    FaultPlan::new(seed)
        .with(Fault::Status(http::StatusCode::SERVICE_UNAVAILABLE), 0.04)
        .with(Fault::Status(http::StatusCode::INTERNAL_SERVER_ERROR), 0.02)
        .with(Fault::Status(http::StatusCode::BAD_GATEWAY), 0.02)
        .with(Fault::Delay(Duration::from_millis(20)), 0.03)
        // Longer than the attempt timeout: the client gives up before the exchange executes.
        .with(Fault::Delay(ATTEMPT_TIMEOUT * 2), 0.01)
        .with(Fault::TimeoutAfterExecute(Duration::from_secs(5)), 0.01)
        .with(Fault::ResetOnArrival, 0.02)
        .with(Fault::ResetBeforeResponse, 0.02)
        .with(Fault::TruncatedBody, 0.02)
        .with(Fault::NotJson, 0.02)
        .with(Fault::HugeBody(MAX_RESPONSE_BYTES * 2), 0.01)
        .with(Fault::TooManyRequests(Duration::from_secs(2)), 0.02)
        .keyed_by(CALL_HEADER)
}

/// SplitMix64 of `seed` and `index`: the test's own draws.
pub fn mix(seed: u64, index: u64) -> u64 {
    let mut z = seed
        .wrapping_add(index.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seeds of a randomised run: `KEYWARD_SEED` alone when set, else `fixed` and one derived
/// from the time.
pub fn seeds(fixed: &[u64]) -> Vec<u64> {
    if let Some(seed) = std::env::var("KEYWARD_SEED")
        .ok()
        .and_then(|seed| seed.trim().parse().ok())
    {
        return vec![seed];
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64);
    let mut seeds = fixed.to_vec();
    seeds.push(mix(now, 0) % 1_000_000);
    seeds
}

/// The secret store keys are loaded from: one fixture at a time.
#[derive(Clone, Debug)]
pub struct SecretStore(Arc<Mutex<Fixture>>);

impl SecretStore {
    /// Puts `fixture` in the store: the next load returns it.
    pub fn put(&self, fixture: &Fixture) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = fixture.clone();
    }
}

/// One request as it reached the transport: the call's number (none for the stack's own
/// requests: clock probes, Binance's `exchangeInfo`) and the retry layer's attempt number.
pub type Sent = (Option<u64>, u32);

/// Requests as they reached the transport.
#[derive(Clone, Debug, Default)]
pub struct SentLog(Arc<Mutex<Vec<Sent>>>);

impl SentLog {
    /// Everything sent so far.
    pub fn all(&self) -> Vec<Sent> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// One exchange, its stack and its records. See the [module docs](self).
pub struct Arena {
    /// The exchange keyward talks to.
    pub exchange: &'static dyn Exchange,
    /// The one virtual time of the stack and the exchange.
    pub clock: VirtualClock,
    /// The key in use at the start.
    pub fixture: Fixture,
    /// The embedded exchange.
    pub mock: RunningMock,
    /// Where the key is loaded from.
    pub store: SecretStore,
    /// The credentials the stack signs with.
    pub credentials: RotatingCredentials,
    /// The stack's settings and counters.
    pub preset: Preset<RotatingCredentials>,
    /// The stack.
    pub client: Client,
    /// What reached the transport.
    pub sent: SentLog,
    /// The audit trail's file.
    pub trail_path: PathBuf,
    /// The audit trail and the log capture: every call runs inside it.
    pub dispatch: tracing::Dispatch,
    /// Everything logged, at `trace`.
    pub log: LogCapture,
    /// Bans the test forced ([`RunningMock::ban_for`]): not keyward's doing.
    pub forced_bans: AtomicUsize,
}

impl fmt::Debug for Arena {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Arena")
            .field("exchange", &self.exchange.name())
            .field("mock", &self.mock)
            .finish_non_exhaustive()
    }
}

impl Arena {
    /// `exchange` with `fixture`'s key, on a fresh virtual clock; `configure` adjusts the mock
    /// before it starts (a fault plan, budgets).
    pub async fn start(
        exchange: &'static str,
        fixture: Fixture,
        configure: impl FnOnce(keyward_mock::Builder) -> keyward_mock::Builder,
    ) -> Self {
        let exchange = exchange::by_name(exchange).unwrap_or_else(|| panic!("no exchange {exchange}"));
        // A whole minute: Binance's windows are aligned on minutes.
        let clock = VirtualClock::at_unix_millis(1_800_000_000_000);
        let mock = configure(mock_on(&fixture, &clock))
            .start()
            .await
            .unwrap_or_else(|err| panic!("{err}"));

        let unique = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        let trail_path = std::env::temp_dir().join(format!(
            "keyward-adversary-{}-{}-{unique}.jsonl",
            exchange.name(),
            std::process::id()
        ));
        let log = LogCapture::default();
        let capture = log.clone();
        let logged = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(move || capture.clone())
            .with_filter(LevelFilter::TRACE);
        let trail = AuditTrail::builder(&trail_path)
            .build()
            .unwrap_or_else(|err| panic!("{err}"));
        let dispatch = crate::scoped_dispatch(tracing_subscriber::registry().with(trail).with(logged));

        let store = SecretStore(Arc::new(Mutex::new(fixture.clone())));
        let loading = store.clone();
        let loader = load_fn(move || {
            let credentials: Credentials = (*loading.0.lock().unwrap_or_else(|p| p.into_inner()).credentials()).clone();
            async move {
                Ok::<_, CredentialError>(Loaded {
                    credentials,
                    provenance: Provenance::new(SourceKind::Custom("adversary-secret-store")),
                })
            }
        });
        let credentials = RotatingCredentials::load(loader)
            .with_subscriber(dispatch.clone())
            .await
            .unwrap_or_else(|err| panic!("{err}"));
        let preset = Preset::new(exchange, credentials.clone())
            .clock(Arc::new(clock.clone()))
            // Jumps of 60 s are corrected, not refused.
            .tolerance(Duration::from_secs(90))
            .reload_on_rejection();
        let sent = SentLog::default();
        let logging = sent.clone();
        let transport = ReqwestTransport::default()
            .timeout(ATTEMPT_TIMEOUT)
            .max_response_bytes(MAX_RESPONSE_BYTES);
        let counted = ServiceBuilder::new()
            .map_request(move |request: http::Request<Bytes>| {
                let call = request
                    .headers()
                    .get(CALL_HEADER)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.parse().ok());
                let attempt = request.extensions().get::<Attempt>().map_or(1, |attempt| attempt.0);
                logging
                    .0
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((call, attempt));
                request
            })
            .service(transport);
        let client = BoxCloneSyncService::new(preset.service(counted));
        Self {
            exchange,
            clock,
            fixture,
            mock,
            store,
            credentials,
            preset,
            client,
            sent,
            trail_path,
            dispatch,
            log,
            forced_bans: AtomicUsize::new(0),
        }
    }

    /// The request of `call`, tagged with its number.
    pub fn request(&self, call: &Call) -> http::Request<Bytes> {
        let base = self.mock.base_url();
        let mut request = match call.kind {
            CallKind::Read => read_request(self.exchange.name(), &base, call.index),
            CallKind::Order => order_request(self.exchange, &base, call.client_order_id.as_deref().unwrap_or("")),
            CallKind::Cancel => cancel_request(self.exchange.name(), &base, call.index),
        };
        request
            .headers_mut()
            .insert(CALL_HEADER, http::HeaderValue::from(call.index));
        request
    }

    /// Sends `calls` from `concurrency` tasks; `before(call)` runs just before each call is sent
    /// (to ban, jump the clock or revoke a key in the middle of a burst). Panics if a call hangs.
    pub async fn run(
        self: &Arc<Self>,
        calls: Vec<Call>,
        concurrency: usize,
        before: impl Fn(&Arena, &Call) + Send + Sync + 'static,
    ) -> Vec<Finished> {
        let before = Arc::new(before);
        let queue = Arc::new(Mutex::new(calls.into_iter().collect::<std::collections::VecDeque<_>>()));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..concurrency {
            let (arena, queue, before) = (Arc::clone(self), Arc::clone(&queue), Arc::clone(&before));
            let dispatch = self.dispatch.clone();
            tasks.spawn(
                async move {
                    let mut finished = Vec::new();
                    loop {
                        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                        let Some(call) = next else { break };
                        before(&arena, &call);
                        let request = arena.request(&call);
                        let result = tokio::time::timeout(HUNG, arena.client.clone().oneshot(request))
                            .await
                            .unwrap_or_else(|_| panic!("call {} ({:?}) hung", call.index, call.kind));
                        finished.push(Finished {
                            call,
                            result: result.map(|response| response.status().as_u16()),
                        });
                    }
                    finished
                }
                .with_subscriber(dispatch),
            );
        }
        let mut all = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            all.extend(joined.unwrap_or_else(|err| std::panic::resume_unwind(err.into_panic())));
        }
        all.sort_by_key(|finished| finished.call.index);
        all
    }

    /// Bans the client on the exchange now, for `duration`, as the test's doing.
    pub fn force_ban(&self, duration: Duration) {
        self.forced_bans.fetch_add(1, Ordering::SeqCst);
        self.mock.ban_for(duration);
    }

    /// Waits (in small real steps) until the exchange recorded every request that reached it.
    pub async fn settle(&self) {
        let started = Instant::now();
        while self.mock.requests_in_progress() > 0 {
            assert!(started.elapsed() < HUNG, "the exchange never finished its requests");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Asserts every promise over `finished` (see the [module docs](self)) and returns the
    /// figures. `in_flight` bounds the requests that may arrive during a ban or a `Retry-After`
    /// because they were sent before it began (the run's concurrency); `sends_per_attempt`
    /// bounds the sends of one attempt (a clock re-send, a reload re-send).
    pub async fn check(&self, finished: &[Finished], in_flight: usize, sends_per_attempt: usize) -> Figures {
        self.settle().await;
        let name = self.exchange.name();
        let requests = self.mock.requests();
        let orders = self.mock.orders();

        // No order executed twice, from the exchange's own record.
        let mut executed: HashMap<String, usize> = HashMap::new();
        for order in &orders {
            let id = order
                .client_order_id
                .clone()
                .unwrap_or_else(|| panic!("{name}: an order without a client order id: {order:?}"));
            *executed.entry(id).or_default() += 1;
        }
        let duplicates: usize = executed.values().map(|count| count - 1).sum();
        assert_eq!(duplicates, 0, "{name}: orders executed twice: {executed:?}");

        let mut figures = Figures {
            runs: 1,
            calls: finished.len() as u64,
            ..Figures::default()
        };
        for done in finished {
            let call = &done.call;
            if let Err(err) = &done.result {
                *figures.errors.entry(err.kind()).or_default() += 1;
            } else {
                figures.succeeded += 1;
            }
            if call.kind != CallKind::Order {
                // Kraken's private reads are `POST`s, which keyward cannot tell from changes.
                assert!(
                    !matches!(done.result, Err(Error::Ambiguous(_)))
                        || call.kind == CallKind::Cancel
                        || name == "kraken",
                    "{name}: a read was ambiguous: {:?}",
                    done.result
                );
                continue;
            }
            figures.orders += 1;
            let id = call.client_order_id.clone().unwrap_or_default();
            let times = executed.get(&id).copied().unwrap_or(0);
            match &done.result {
                Ok(_) => {
                    assert_eq!(
                        times, 1,
                        "{name}: call {} succeeded but executed {times} times",
                        call.index
                    );
                    figures.orders_executed += 1;
                }
                Err(Error::Ambiguous(ambiguous)) => {
                    assert_eq!(
                        ambiguous.client_order_id.as_deref(),
                        Some(id.as_str()),
                        "{name}: the ambiguous order names its id"
                    );
                    figures.ambiguous += 1;
                    figures.ambiguous_checked += 1;
                    if times == 1 {
                        figures.ambiguous_executed += 1;
                        figures.orders_executed += 1;
                    }
                }
                Err(err) => assert_eq!(
                    times, 0,
                    "{name}: call {} failed with `{err}` (not ambiguous) yet executed",
                    call.index
                ),
            }
        }
        let ours: std::collections::HashSet<_> = finished
            .iter()
            .filter_map(|done| done.call.client_order_id.clone())
            .collect();
        assert!(
            executed.keys().all(|id| ours.contains(id)),
            "{name}: the exchange executed an order nobody placed"
        );

        // Attempts within the retry layer's bound, per call.
        let sent = self.sent.all();
        let mut per_attempt: BTreeMap<(u64, u32), usize> = BTreeMap::new();
        for (call, attempt) in &sent {
            if let Some(call) = call {
                assert!(*attempt <= MAX_ATTEMPTS, "{name}: call {call} made attempt {attempt}");
                *per_attempt.entry((*call, *attempt)).or_default() += 1;
            }
        }
        for ((call, attempt), sends) in &per_attempt {
            assert!(
                *sends <= sends_per_attempt,
                "{name}: call {call} sent attempt {attempt} {sends} times"
            );
        }
        figures.attempts = sent.len() as u64;
        figures.retries = self.preset.stats().retries;
        figures.rate_limited = requests
            .iter()
            .filter(|request| request.verdict == Verdict::Rejected(Rejection::RateLimited))
            .count() as u64;
        figures.faults = requests.iter().filter(|request| request.fault.is_some()).count() as u64;
        figures.rate_limited_by_budget = requests
            .iter()
            .filter(|request| request.fault.is_none() && request.verdict == Verdict::Rejected(Rejection::RateLimited))
            .count() as u64;

        // The exchange saw exactly what the transport sent.
        assert_eq!(
            requests.len(),
            sent.len(),
            "{name}: the exchange recorded {} requests, the transport sent {}",
            requests.len(),
            sent.len()
        );

        // Nothing sent during a ban, beyond what was in flight when it began.
        let bans = self.mock.bans();
        for ban in &bans {
            let during: Vec<_> = requests
                .iter()
                .filter(|request| ban.covers(request) && request.received_at_ms > ban.window_ms.start)
                .collect();
            figures.sent_during_bans += during.len() as u64;
            assert!(
                during.len() <= in_flight,
                "{name}: {} requests arrived during the ban {ban:?}, more than the {in_flight} in flight: {:#?}",
                during.len(),
                during
                    .iter()
                    .map(|request| (
                        request.header(CALL_HEADER),
                        request.path.as_str(),
                        request.received_at_ms,
                        request.verdict,
                        request.fault.clone()
                    ))
                    .collect::<Vec<_>>()
            );
        }
        figures.bans = bans.len() as u64;
        let forced = self.forced_bans.load(Ordering::SeqCst);
        assert_eq!(bans.len(), forced, "{name}: keyward got itself banned: {bans:?}");

        // Nothing sent inside a Retry-After, beyond the grace for stragglers and what had already
        // passed the limiter when the 429 came (on virtual time, another task's wait can move
        // the clock past the grace while a request is on its way), where the answer says how
        // long to wait (the others' 429s name no wait).
        let says_how_long = matches!(name, "binance" | "bitmex");
        for throttled in requests
            .iter()
            .filter(|request| says_how_long && request.verdict == Verdict::Rejected(Rejection::RateLimited))
        {
            let Some(Fault::TooManyRequests(wait)) = &throttled.fault else {
                continue;
            };
            let until = throttled.received_at_ms + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
            let early: Vec<_> = requests
                .iter()
                .filter(|request| {
                    request.arrival > throttled.arrival
                        && throttled.received_at_ms + STRAGGLER_GRACE_MS < request.received_at_ms
                        && request.received_at_ms < until
                })
                .collect();
            figures.sent_inside_retry_after += early.len() as u64;
            assert!(
                early.len() <= in_flight,
                "{name}: sent inside the Retry-After of {throttled:?}: {early:#?}"
            );
        }

        // The audit trail verifies and holds one attempt record per request sent.
        let report = keyward::audit::trail::verify(&self.trail_path, None)
            .unwrap_or_else(|err| panic!("{name}: the audit trail does not verify: {err}"));
        let text = std::fs::read_to_string(&self.trail_path).unwrap_or_default();
        let attempt_records = text
            .lines()
            .filter(|line| line.contains(r#""event":"http.attempt""#))
            .count();
        assert_eq!(
            attempt_records,
            sent.len(),
            "{name}: {attempt_records} attempt records for {} requests sent",
            sent.len()
        );
        figures.trail_records = report.records;
        figures
    }

    /// Every form of every secret of `fixtures` found in the log capture or the audit trail: the
    /// leaks (must be none).
    pub fn leaks(&self, fixtures: &[&Fixture]) -> Vec<String> {
        let logged = self.log.text();
        let trail = std::fs::read_to_string(&self.trail_path).unwrap_or_default();
        let mut leaks = Vec::new();
        for fixture in fixtures {
            for forbidden in forbidden_forms(fixture) {
                for (place, text) in [("log", &logged), ("trail", &trail)] {
                    if text.contains(&forbidden) {
                        // Name the place and the key's fingerprint, never the secret itself.
                        leaks.push(format!(
                            "{} {place}: a secret of {}",
                            self.exchange.name(),
                            keyward::credentials::Fingerprint::of(&fixture.api_key)
                        ));
                    }
                }
            }
        }
        leaks
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.trail_path);
    }
}

/// `fixture`'s forbidden strings, plus each secret part URL-encoded.
pub fn forbidden_forms(fixture: &Fixture) -> Vec<String> {
    let mut forms = fixture.forbidden_strings();
    for part in std::iter::once(&fixture.secret).chain(fixture.passphrase.as_ref()) {
        forms.push(utf8_percent_encode(part, NON_ALPHANUMERIC).to_string());
    }
    forms.sort();
    forms.dedup();
    forms
}

/// What a run did, summed over runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    /// Runs checked.
    pub runs: u64,
    /// Calls made.
    pub calls: u64,
    /// Calls that succeeded.
    pub succeeded: u64,
    /// Failed calls by error kind.
    pub errors: BTreeMap<&'static str, u64>,
    /// Order placements.
    pub orders: u64,
    /// Orders the exchange executed.
    pub orders_executed: u64,
    /// Orders that ended ambiguous.
    pub ambiguous: u64,
    /// Ambiguous orders looked up in the exchange's record.
    pub ambiguous_checked: u64,
    /// Ambiguous orders that had executed.
    pub ambiguous_executed: u64,
    /// Requests that reached the transport.
    pub attempts: u64,
    /// Retries the retry layer made.
    pub retries: u64,
    /// Requests the exchange received with a fault.
    pub faults: u64,
    /// `429`s the exchange answered.
    pub rate_limited: u64,
    /// Of those, the ones its own budgets decided (not injected): budget keyward overspent.
    pub rate_limited_by_budget: u64,
    /// Bans.
    pub bans: u64,
    /// Requests that arrived during a ban (in flight when it began).
    pub sent_during_bans: u64,
    /// Requests that arrived inside a `Retry-After`, after the grace (in flight when it began).
    pub sent_inside_retry_after: u64,
    /// Records in the audit trail.
    pub trail_records: u64,
}

impl std::ops::AddAssign for Figures {
    fn add_assign(&mut self, other: Self) {
        self.runs += other.runs;
        self.calls += other.calls;
        self.succeeded += other.succeeded;
        for (kind, count) in other.errors {
            *self.errors.entry(kind).or_default() += count;
        }
        self.orders += other.orders;
        self.orders_executed += other.orders_executed;
        self.ambiguous += other.ambiguous;
        self.ambiguous_checked += other.ambiguous_checked;
        self.ambiguous_executed += other.ambiguous_executed;
        self.attempts += other.attempts;
        self.retries += other.retries;
        self.faults += other.faults;
        self.rate_limited += other.rate_limited;
        self.rate_limited_by_budget += other.rate_limited_by_budget;
        self.bans += other.bans;
        self.sent_during_bans += other.sent_during_bans;
        self.sent_inside_retry_after += other.sent_inside_retry_after;
        self.trail_records += other.trail_records;
    }
}

/// A private read each exchange (and the embedded one) accepts. Bybit budgets each endpoint
/// apart: the call's number spreads reads over a few.
pub fn read_request(exchange: &str, base: &str, index: u64) -> http::Request<Bytes> {
    let (method, path, body) = match exchange {
        "binance" => ("GET", "/api/v3/account".to_owned(), ""),
        "bybit" => (
            "GET",
            format!("/v5/account/wallet-balance-{}?accountType=UNIFIED", index % 8),
            "",
        ),
        "okx" => ("GET", "/api/v5/account/balance".to_owned(), ""),
        "coinbase" => ("GET", "/accounts".to_owned(), ""),
        "kraken" => ("POST", "/0/private/Balance".to_owned(), "asset=XBT"),
        "kucoin" => ("GET", "/api/v1/accounts".to_owned(), ""),
        "bitmex" => ("GET", "/api/v1/user/wallet".to_owned(), ""),
        _ => ("GET", "/api/v4/spot/accounts".to_owned(), ""),
    };
    request(method, &format!("{base}{path}"), body)
}

/// A cancellation each exchange documents, of an order that may not exist (the exchange's
/// answer does not matter, only that keyward sends it at most as often as is safe).
pub fn cancel_request(exchange: &str, base: &str, index: u64) -> http::Request<Bytes> {
    let (method, path, body) = match exchange {
        "binance" => (
            "DELETE",
            format!("/api/v3/order?symbol=BTCUSDT&orderId={index}"),
            String::new(),
        ),
        "bybit" => (
            "POST",
            "/v5/order/cancel".to_owned(),
            format!(r#"{{"category":"spot","symbol":"BTCUSDT","orderId":"{index}"}}"#),
        ),
        "okx" => (
            "POST",
            "/api/v5/trade/cancel-order".to_owned(),
            format!(r#"{{"instId":"BTC-USDT","ordId":"{index}"}}"#),
        ),
        "coinbase" => ("DELETE", format!("/orders/{index}"), String::new()),
        "kraken" => ("POST", "/0/private/CancelOrder".to_owned(), format!("txid=O{index}")),
        "kucoin" => ("DELETE", format!("/api/v1/orders/{index}"), String::new()),
        "bitmex" => ("DELETE", format!("/api/v1/order?orderID={index}"), String::new()),
        _ => (
            "DELETE",
            format!("/api/v4/spot/orders/{index}?currency_pair=BTC_USDT"),
            String::new(),
        ),
    };
    request(method, &format!("{base}{path}"), &body)
}

/// An order placement in the shape `exchange` takes it, with `client_order_id`.
pub fn order_request(exchange: &'static dyn Exchange, base: &str, client_order_id: &str) -> http::Request<Bytes> {
    let Some(placement) = exchange.order_placement() else {
        panic!("{} places no orders", exchange.name())
    };
    let params = [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("quantity", "1"),
        ("price", "1000"),
        (placement.client_order_id, client_order_id),
    ];
    placement_request(base, &placement, &params)
}

/// A request to `placement`'s endpoint carrying `params` where the exchange takes them: a JSON
/// object, a form body, or the query. Names and values are plain ASCII in the JSON case.
pub fn placement_request(base: &str, placement: &OrderPlacement, params: &[(&str, &str)]) -> http::Request<Bytes> {
    let url = format!("{base}{}", placement.path);
    let form = params
        .iter()
        .map(|(name, value)| format!("{name}={}", utf8_percent_encode(value, NON_ALPHANUMERIC)))
        .collect::<Vec<_>>()
        .join("&");
    let builder = http::Request::builder().method(placement.method);
    let built = match placement.location {
        ParamLocation::Json => {
            let members: Vec<_> = params
                .iter()
                .map(|(name, value)| format!(r#""{name}":"{value}""#))
                .collect();
            builder
                .uri(url)
                .header("content-type", "application/json")
                .body(Bytes::from(format!("{{{}}}", members.join(","))))
        }
        ParamLocation::Form | ParamLocation::QueryOrForm => builder
            .uri(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Bytes::from(form)),
        ParamLocation::Query => builder.uri(format!("{url}?{form}")).body(Bytes::new()),
    };
    built.unwrap_or_else(|err| panic!("{err}"))
}

fn request(method: &str, url: &str, body: &str) -> http::Request<Bytes> {
    let mut builder = http::Request::builder().method(method).uri(url);
    if !body.is_empty() {
        let content_type = if body.starts_with('{') {
            "application/json"
        } else {
            "application/x-www-form-urlencoded"
        };
        builder = builder.header("content-type", content_type);
    }
    builder
        .body(Bytes::from(body.to_owned()))
        .unwrap_or_else(|err| panic!("{err}"))
}
