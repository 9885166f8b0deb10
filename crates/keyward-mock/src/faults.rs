//! Misbehaviour a test can inject: what a real exchange, or the network in front of it, does to
//! a client on a bad day.
//!
//! Faults wait in a queue and each applies to one request, in arrival order
//! ([`RunningMock::inject`](crate::RunningMock::inject)). When the queue is empty, an optional
//! [`FaultPlan`] draws faults at random from a seed, for longer randomised runs that stay
//! reproducible. Rate limits and bans are not faults: they follow from the exchange's documented
//! budgets (see [`Builder::weight_limit`](crate::Builder::weight_limit)).

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
    time::Duration,
};

use http::StatusCode;

/// One misbehaviour, applied to the next request that arrives.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use keyward_mock::{Fault, MockExchange};
///
/// let mock = MockExchange::builder("binance")?.start().await?;
/// mock.inject(Fault::Status(http::StatusCode::SERVICE_UNAVAILABLE));
/// mock.inject(Fault::ResetBeforeResponse);
///
/// let url = format!("{}/api/v3/time", mock.base_url());
/// assert_eq!(reqwest::get(&url).await?.status(), 503);
/// assert!(reqwest::get(&url).await.is_err(), "the connection was reset");
/// assert_eq!(reqwest::get(&url).await?.status(), 200);
/// assert_eq!(mock.requests()[1].fault, Some(Fault::ResetBeforeResponse));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status and an empty JSON object, without executing anything (a gateway
    /// error in front of the exchange).
    Status(StatusCode),
    /// Wait this long, then handle the request normally.
    Delay(Duration),
    /// Read the whole request, then reset the connection (TCP RST) without answering and without
    /// executing anything. The client cannot tell this from a reset after execution.
    ResetBeforeResponse,
    /// Reset the connection (TCP RST) as soon as the request's head has arrived, before its
    /// body is read, the exchange sees it, or its rate limits count it: the request is lost on
    /// the way in. It is still recorded, with an empty body. The client cannot tell this from a
    /// reset after execution either: it has already written the request.
    ResetOnArrival,
    /// Handle the request normally (an order is executed and recorded), then hold the answer this
    /// long before sending it: longer than the client's timeout, the client sees a timeout for a
    /// request that took effect.
    TimeoutAfterExecute(Duration),
    /// Handle the request normally, then send the status, the headers (with the full
    /// `Content-Length`) and only the first half of the body before closing the connection.
    TruncatedBody,
    /// Handle the request normally, but answer with an HTML error page instead of the exchange's
    /// JSON, as a misconfigured proxy or CDN in front of it would.
    NotJson,
    /// Handle the request normally, but answer with a JSON body padded to this many bytes, as a
    /// misrouted request to a bulk endpoint would get: far larger than any answer expected.
    HugeBody(usize),
    /// Refuse the request, without executing it, with the exchange's own "too many requests"
    /// answer (status, headers and body of its first budget) telling the client to wait this
    /// long: a rate limit spent by another client on the same key or IP. An exchange without
    /// budgets (rate limits lifted) answers a bare `429` with `Retry-After`.
    TooManyRequests(Duration),
}

/// Faults drawn at random, for the requests that find the queue of injected faults empty.
///
/// The draws come from a small deterministic generator seeded by the plan, so a failing random
/// run replays exactly with the same seed.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use keyward_mock::{Fault, FaultPlan, MockExchange};
///
/// let plan = FaultPlan::new(7).with(Fault::Status(http::StatusCode::BAD_GATEWAY), 1.0);
/// let mock = MockExchange::builder("okx")?.fault_plan(plan).start().await?;
/// let url = format!("{}/api/v5/public/time", mock.base_url());
/// assert_eq!(reqwest::get(&url).await?.status(), 502);
/// mock.set_fault_plan(None);
/// assert_eq!(reqwest::get(&url).await?.status(), 200);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FaultPlan {
    seed: u64,
    choices: Vec<(Fault, f64)>,
    key_header: Option<http::HeaderName>,
}

impl FaultPlan {
    /// A plan that injects nothing yet, drawing from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            choices: Vec::new(),
            key_header: None,
        }
    }

    /// Draws the fault of a request carrying the header `name` from the seed, the header's value
    /// and how many requests with that value came before, instead of from the order in which
    /// requests arrive. Concurrent clients reach the exchange in an order the scheduler decides;
    /// a test that tags each call with its own value (the call's number, say) gets the same
    /// faults for the same calls and attempts on every replay of a seed. Requests without the
    /// header (a client's own clock probes, say) are keyed by their path instead: the `n`-th
    /// request to a path gets the same fault on every replay.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use keyward_mock::{Fault, FaultPlan, MockExchange};
    ///
    /// let plan = || FaultPlan::new(7).with(Fault::Status(http::StatusCode::BAD_GATEWAY), 0.5).keyed_by("x-call");
    /// let statuses = |mock: keyward_mock::RunningMock, calls: Vec<u32>| async move {
    ///     let client = reqwest::Client::new();
    ///     let mut statuses = std::collections::BTreeMap::new();
    ///     for call in calls {
    ///         let url = format!("{}/api/v3/time", mock.base_url());
    ///         let status = client.get(&url).header("x-call", call).send().await?.status().as_u16();
    ///         statuses.insert(call, status);
    ///     }
    ///     Ok::<_, reqwest::Error>(statuses)
    /// };
    /// let forwards = statuses(MockExchange::builder("binance")?.fault_plan(plan()).start().await?, (0..32).collect());
    /// let backwards = statuses(MockExchange::builder("binance")?.fault_plan(plan()).start().await?, (0..32).rev().collect());
    /// assert_eq!(forwards.await?, backwards.await?, "the same call gets the same fault, whatever the order");
    /// # Ok(())
    /// # }
    /// ```
    pub fn keyed_by(mut self, name: &str) -> Self {
        self.key_header = http::HeaderName::from_bytes(name.as_bytes()).ok();
        self
    }

    /// Also injects `fault` into each request with this probability, clamped to `0.0..=1.0`
    /// (NaN counts as 0). Probabilities add up in the order given: once they reach 1, later
    /// faults are never drawn.
    pub fn with(mut self, fault: Fault, probability: f64) -> Self {
        let probability = if probability.is_nan() {
            0.0
        } else {
            probability.clamp(0.0, 1.0)
        };
        self.choices.push((fault, probability));
        self
    }
}

/// The faults waiting for the next requests, and the random plan behind them.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    inner: Mutex<Pending>,
}

#[derive(Debug, Default)]
struct Pending {
    /// Faults for the next requests, each for any path or only for one.
    queued: VecDeque<(Option<String>, Fault)>,
    plan: Option<(FaultPlan, SplitMix64)>,
    /// How many requests with each key value a keyed plan has seen.
    seen_keys: HashMap<String, u64>,
}

impl Faults {
    pub(crate) fn new(plan: Option<FaultPlan>) -> Self {
        let faults = Self::default();
        faults.set_plan(plan);
        faults
    }

    pub(crate) fn push(&self, fault: Fault) {
        self.lock().queued.push_back((None, fault));
    }

    pub(crate) fn push_for(&self, path: &str, fault: Fault) {
        self.lock().queued.push_back((Some(path.to_owned()), fault));
    }

    pub(crate) fn set_plan(&self, plan: Option<FaultPlan>) {
        let mut pending = self.lock();
        pending.seen_keys.clear();
        pending.plan = plan.map(|plan| {
            let generator = SplitMix64(plan.seed);
            (plan, generator)
        });
    }

    /// The fault for the request to `path` with `headers` that just arrived, if one is due: the
    /// first queued for any path or for this one, else a draw from the plan.
    pub(crate) fn next(&self, path: &str, headers: &http::HeaderMap) -> Option<Fault> {
        let mut pending = self.lock();
        let due = pending
            .queued
            .iter()
            .position(|(only, _)| only.as_deref().is_none_or(|only| only == path));
        if let Some((_, fault)) = due.and_then(|index| pending.queued.remove(index)) {
            return Some(fault);
        }
        let Pending { plan, seen_keys, .. } = &mut *pending;
        let (plan, generator) = plan.as_mut()?;
        let key = plan
            .key_header
            .as_ref()
            .and_then(|name| headers.get(name))
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
            .or_else(|| plan.key_header.as_ref().map(|_| format!("path {path}")));
        let draw = match key {
            Some(key) => {
                let seen = seen_keys.entry(key.clone()).or_default();
                let draw = keyed_draw(plan.seed, &key, *seen);
                *seen += 1;
                draw
            }
            None => generator.next_unit(),
        };
        let mut cumulative = 0.0;
        for (fault, probability) in &plan.choices {
            cumulative += probability;
            if draw < cumulative {
                return Some(fault.clone());
            }
        }
        None
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // A panic elsewhere cannot leave the queue half-updated: each operation is one call.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A draw in `[0, 1)` that depends only on the seed, the key and how many draws the key had.
fn keyed_draw(seed: u64, key: &str, seen: u64) -> f64 {
    // FNV-1a: stable across runs and platforms, unlike the standard library's hasher.
    let mut hash: u64 = 0xCBF2_9CE4_8422_2325;
    for byte in key.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01B3);
    }
    let mut generator = SplitMix64(seed ^ hash);
    generator.0 = generator.next_u64() ^ seen.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    generator.next_u64();
    generator.next_unit()
}

/// SplitMix64: tiny, fast, and good enough to spread faults over a test run; not for secrets.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`, from the top 53 bits.
    fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_comes_before_the_plan_and_empties_in_order() {
        let faults = Faults::new(Some(FaultPlan::new(1).with(Fault::NotJson, 1.0)));
        faults.push(Fault::TruncatedBody);
        faults.push(Fault::ResetBeforeResponse);
        assert_eq!(faults.next("/", &http::HeaderMap::new()), Some(Fault::TruncatedBody));
        assert_eq!(
            faults.next("/", &http::HeaderMap::new()),
            Some(Fault::ResetBeforeResponse)
        );
        assert_eq!(faults.next("/", &http::HeaderMap::new()), Some(Fault::NotJson));
        faults.set_plan(None);
        assert_eq!(faults.next("/", &http::HeaderMap::new()), None);
    }

    #[test]
    fn a_plan_draws_about_its_probability_and_replays_from_its_seed() {
        let plan = FaultPlan::new(42)
            .with(Fault::NotJson, 0.25)
            .with(Fault::TruncatedBody, f64::NAN);
        let run = |plan: &FaultPlan| {
            let faults = Faults::new(Some(plan.clone()));
            (0..4000)
                .map(|_| faults.next("/", &http::HeaderMap::new()))
                .collect::<Vec<_>>()
        };
        let first = run(&plan);
        assert_eq!(first, run(&plan), "same seed, same faults");
        let hits = first.iter().filter(|fault| fault.is_some()).count();
        assert!((850..1150).contains(&hits), "{hits} of 4000 at p = 0.25");
        assert!(first.iter().all(|fault| fault != &Some(Fault::TruncatedBody)));
        assert_ne!(first, run(&FaultPlan::new(43).with(Fault::NotJson, 0.25)));
    }

    #[test]
    fn a_keyed_plan_draws_per_key_and_attempt_whatever_the_arrival_order() {
        let plan = FaultPlan::new(9).with(Fault::NotJson, 0.5).keyed_by("x-call");
        let tagged = |call: u32| {
            let mut headers = http::HeaderMap::new();
            headers.insert("x-call", http::HeaderValue::from(call));
            headers
        };
        let run = |order: &[u32]| {
            let faults = Faults::new(Some(plan.clone()));
            let mut draws = std::collections::BTreeMap::new();
            for &call in order {
                // Three attempts of each call.
                let attempts: Vec<_> = (0..3).map(|_| faults.next("/", &tagged(call))).collect();
                draws.insert(call, attempts);
            }
            draws
        };
        let forwards: Vec<u32> = (0..200).collect();
        let backwards: Vec<u32> = (0..200).rev().collect();
        let first = run(&forwards);
        assert_eq!(first, run(&backwards));
        let hits = first.values().flatten().filter(|fault| fault.is_some()).count();
        assert!((240..360).contains(&hits), "{hits} of 600 at p = 0.5");
        assert!(
            first.values().any(|attempts| attempts[0] != attempts[1]),
            "attempts of one call draw afresh"
        );
    }
}
