//! The offset estimate shared by every clone of a clock-correction service, and the handle that
//! lets other code read it.

use super::ClockSkew;
use std::{
    fmt,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// The current estimate of the exchange's clock offset, shared by a [`ClockLayer`] and every
/// service it built; cheap to clone.
///
/// Read it to show the offset (the quickstart prints it, `keyward check` reports it) or to
/// correct timestamps that do not go through the layer. It is empty until the first request
/// has measured the offset.
///
/// [`ClockLayer`]: super::ClockLayer
///
/// # Example
///
/// ```
/// use keyward::{clock::ClockLayer, exchange};
///
/// let layer = ClockLayer::new(exchange::by_name("kraken").unwrap());
/// let offset = layer.offset_handle();
/// assert_eq!(offset.offset_millis(), None); // nothing measured yet
/// assert!(offset.round_trip().is_none());
/// ```
#[derive(Clone)]
pub struct ClockOffset {
    pub(super) state: Arc<SyncState>,
}

impl ClockOffset {
    /// The exchange's time minus local time, in milliseconds, as last measured.
    pub fn offset_millis(&self) -> Option<i64> {
        self.state.estimate().map(|estimate| estimate.offset_millis)
    }

    /// When the estimate was measured, by the local clock (the round trip's midpoint).
    pub fn measured_at(&self) -> Option<SystemTime> {
        self.state
            .estimate()
            .map(|estimate| UNIX_EPOCH + Duration::from_millis(estimate.measured_at_unix_millis))
    }

    /// How long the server-time request took: the estimate is exact to within half of it.
    pub fn round_trip(&self) -> Option<Duration> {
        self.state.estimate().map(|estimate| estimate.round_trip)
    }
}

impl fmt::Debug for ClockOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let estimate = self.state.estimate();
        f.debug_struct("ClockOffset")
            .field("offset_millis", &estimate.map(|e| e.offset_millis))
            .field("round_trip", &estimate.map(|e| e.round_trip))
            .finish()
    }
}

/// One measurement of the offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Estimate {
    pub(super) offset_millis: i64,
    pub(super) measured_at_unix_millis: u64,
    /// On the layer's clock, to tell the estimate's age.
    pub(super) measured_at_monotonic: Duration,
    pub(super) round_trip: Duration,
    /// Which probe produced it: a rejection or a disagreeing `Date` marks only the estimate a
    /// request was stamped with as stale, not a newer one measured in the meantime.
    pub(super) generation: u64,
}

/// What the layer knows about the exchange's clock. The std mutex guards plain data and is never
/// held across an await; waiting for a probe is done on the tokio mutex.
#[derive(Debug, Default)]
pub(super) struct SyncState {
    known: Mutex<Known>,
    /// Held while a probe is in flight, so that concurrent requests wait for its result instead
    /// of each sending their own.
    pub(super) probing: tokio::sync::Mutex<()>,
    /// Held from stamping until the response, for exchanges that reject a nonce that arrives
    /// after a larger one.
    pub(super) in_nonce_order: tokio::sync::Mutex<()>,
    last_nonce: AtomicU64,
}

#[derive(Debug, Default)]
struct Known {
    current: Option<Estimate>,
    stale: bool,
    /// Probes finished so far, successful or not.
    probes: u64,
    /// Why the latest probe failed, if it did: shared with the requests that waited for it.
    last_failure: Option<ClockSkew>,
}

/// The answer to "may I stamp with the current estimate?".
#[derive(Debug)]
pub(super) enum Freshness {
    /// Yes, with this one.
    Fresh(Estimate),
    /// No: a probe is needed. `probes` is how many had finished when asked.
    Needed { probes: u64 },
}

impl SyncState {
    fn known(&self) -> MutexGuard<'_, Known> {
        // The guarded data is a few plain values, each written whole: a panic elsewhere cannot
        // leave it half-updated.
        self.known.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn estimate(&self) -> Option<Estimate> {
        self.known().current
    }

    /// Whether the current estimate may be used at `now` (monotonic) given `resync_every`.
    pub(super) fn freshness(&self, now: Duration, resync_every: Duration) -> Freshness {
        let known = self.known();
        match known.current {
            Some(estimate) if !known.stale && now.saturating_sub(estimate.measured_at_monotonic) < resync_every => {
                Freshness::Fresh(estimate)
            }
            _ => Freshness::Needed { probes: known.probes },
        }
    }

    /// The failure of a probe that finished after `probes_seen`, if the latest one failed.
    pub(super) fn failure_since(&self, probes_seen: u64) -> Option<ClockSkew> {
        let known = self.known();
        if known.probes == probes_seen {
            return None;
        }
        known.last_failure.clone()
    }

    /// Records a probe's outcome; a success becomes the current estimate.
    pub(super) fn record_probe(&self, outcome: Result<Estimate, ClockSkew>) -> Result<Estimate, ClockSkew> {
        let mut known = self.known();
        known.probes += 1;
        match outcome {
            Ok(mut estimate) => {
                estimate.generation = known.probes;
                known.current = Some(estimate);
                known.stale = false;
                known.last_failure = None;
                Ok(estimate)
            }
            Err(failure) => {
                known.last_failure = Some(failure.clone());
                Err(failure)
            }
        }
    }

    /// Makes the next request measure again, unless a newer estimate replaced `generation`.
    pub(super) fn mark_stale(&self, generation: u64) {
        let mut known = self.known();
        if known.current.is_some_and(|estimate| estimate.generation == generation) {
            known.stale = true;
        }
    }

    /// `max(corrected_micros, last + 1)`: strictly increasing across every clone and every
    /// concurrent request, even when the estimate moves the corrected clock backwards.
    pub(super) fn next_nonce(&self, corrected_micros: u64) -> u64 {
        let next = |last: u64| corrected_micros.max(last.saturating_add(1));
        match self
            .last_nonce
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |last| Some(next(last)))
        {
            Ok(last) | Err(last) => next(last),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimate(offset_millis: i64, at: Duration) -> Estimate {
        Estimate {
            offset_millis,
            measured_at_unix_millis: 1_700_000_000_000,
            measured_at_monotonic: at,
            round_trip: Duration::from_millis(4),
            generation: 0,
        }
    }

    #[test]
    fn an_estimate_ages_out_and_a_stale_mark_hits_only_its_generation() {
        let state = SyncState::default();
        let every = Duration::from_secs(300);
        assert!(matches!(
            state.freshness(Duration::ZERO, every),
            Freshness::Needed { probes: 0 }
        ));
        let first = state.record_probe(Ok(estimate(1500, Duration::ZERO))).unwrap();
        assert!(matches!(state.freshness(Duration::from_secs(299), every), Freshness::Fresh(e) if e == first));
        assert!(matches!(
            state.freshness(Duration::from_secs(300), every),
            Freshness::Needed { probes: 1 }
        ));

        let second = state.record_probe(Ok(estimate(1600, Duration::ZERO))).unwrap();
        state.mark_stale(first.generation);
        assert!(matches!(state.freshness(Duration::ZERO, every), Freshness::Fresh(e) if e == second));
        state.mark_stale(second.generation);
        assert!(matches!(
            state.freshness(Duration::ZERO, every),
            Freshness::Needed { probes: 2 }
        ));
    }

    #[test]
    fn a_failed_probe_is_shared_with_those_that_waited_for_it() {
        let state = SyncState::default();
        let skew = ClockSkew::new(None, Duration::from_secs(60));
        assert!(state.record_probe(Err(skew.clone())).is_err());
        assert_eq!(state.failure_since(0), Some(skew));
        assert_eq!(state.failure_since(1), None);
        state.record_probe(Ok(estimate(0, Duration::ZERO))).unwrap();
        assert_eq!(state.failure_since(0), None);
    }

    #[test]
    fn nonces_strictly_increase_even_when_the_clock_does_not() {
        let state = SyncState::default();
        assert_eq!(state.next_nonce(1_000), 1_000);
        assert_eq!(state.next_nonce(1_000), 1_001);
        assert_eq!(state.next_nonce(900), 1_002);
        assert_eq!(state.next_nonce(5_000), 5_000);
    }
}
