//! Misbehaviour a test can inject: what a real exchange, or the network in front of it, does to
//! a client on a bad day.
//!
//! Faults wait in a queue and each applies to one request, in arrival order
//! ([`RunningMock::inject`](crate::RunningMock::inject)). When the queue is empty, an optional
//! [`FaultPlan`] draws faults at random from a seed, for longer randomised runs that stay
//! reproducible. Rate limits and bans are not faults: they follow from the exchange's documented
//! budgets (see [`Builder::weight_limit`](crate::Builder::weight_limit)).

use std::{collections::VecDeque, sync::Mutex, time::Duration};

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
}

impl FaultPlan {
    /// A plan that injects nothing yet, drawing from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            choices: Vec::new(),
        }
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
        self.lock().plan = plan.map(|plan| {
            let generator = SplitMix64(plan.seed);
            (plan, generator)
        });
    }

    /// The fault for the request to `path` that just arrived, if one is due: the first queued
    /// for any path or for this one, else a draw from the plan.
    pub(crate) fn next(&self, path: &str) -> Option<Fault> {
        let mut pending = self.lock();
        let due = pending
            .queued
            .iter()
            .position(|(only, _)| only.as_deref().is_none_or(|only| only == path));
        if let Some((_, fault)) = due.and_then(|index| pending.queued.remove(index)) {
            return Some(fault);
        }
        let (plan, generator) = pending.plan.as_mut()?;
        let draw = generator.next_unit();
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
        assert_eq!(faults.next("/"), Some(Fault::TruncatedBody));
        assert_eq!(faults.next("/"), Some(Fault::ResetBeforeResponse));
        assert_eq!(faults.next("/"), Some(Fault::NotJson));
        faults.set_plan(None);
        assert_eq!(faults.next("/"), None);
    }

    #[test]
    fn a_plan_draws_about_its_probability_and_replays_from_its_seed() {
        let plan = FaultPlan::new(42)
            .with(Fault::NotJson, 0.25)
            .with(Fault::TruncatedBody, f64::NAN);
        let run = |plan: &FaultPlan| {
            let faults = Faults::new(Some(plan.clone()));
            (0..4000).map(|_| faults.next("/")).collect::<Vec<_>>()
        };
        let first = run(&plan);
        assert_eq!(first, run(&plan), "same seed, same faults");
        let hits = first.iter().filter(|fault| fault.is_some()).count();
        assert!((850..1150).contains(&hits), "{hits} of 4000 at p = 0.25");
        assert!(first.iter().all(|fault| fault != &Some(Fault::TruncatedBody)));
        assert_ne!(first, run(&FaultPlan::new(43).with(Fault::NotJson, 0.25)));
    }
}
