//! Where keyward's layers read the time and wait: an injected [`Clock`].
//!
//! tokio's paused time does not move `SystemTime`, and a signature needs wall-clock time, so
//! the layers that stamp, wait or back off read both through this trait (governor's approach).
//! [`SystemClock`] is the real one; [`VirtualClock`] lets tests spend minutes of budget windows,
//! `Retry-After`s and bans in microseconds.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// A sleep returned by [`Clock::sleep`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Wall-clock time, monotonic time, and waiting.
///
/// # Example
///
/// ```
/// use keyward::clock::{Clock, VirtualClock};
/// use std::time::Duration;
///
/// let clock = VirtualClock::at_unix_millis(1_700_000_000_000);
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// clock.sleep(Duration::from_secs(60)).await; // returns at once, a minute later
/// # });
/// assert_eq!(clock.unix_millis(), 1_700_000_060_000);
/// ```
pub trait Clock: fmt::Debug + Send + Sync + 'static {
    /// Milliseconds since the Unix epoch, as the local clock says.
    fn unix_millis(&self) -> u64;

    /// Microseconds since the Unix epoch, as the local clock says: for nonces that must keep
    /// increasing across a process restart. The default has millisecond resolution.
    fn unix_micros(&self) -> u64 {
        self.unix_millis().saturating_mul(1000)
    }

    /// Time since an arbitrary origin that never goes backwards: for durations and deadlines.
    fn monotonic(&self) -> Duration;

    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn unix_millis(&self) -> u64 {
        (**self).unix_millis()
    }
    fn unix_micros(&self) -> u64 {
        (**self).unix_micros()
    }
    fn monotonic(&self) -> Duration {
        (**self).monotonic()
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        (**self).sleep(duration)
    }
}

/// The real clock: `SystemTime` for wall time, tokio's clock for monotonic time and sleeping.
///
/// # Example
///
/// ```
/// use keyward::clock::{Clock, SystemClock};
/// assert!(SystemClock.unix_millis() > 1_600_000_000_000);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn unix_millis(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    fn unix_micros(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    }

    fn monotonic(&self) -> Duration {
        static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
        ORIGIN.get_or_init(std::time::Instant::now).elapsed()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// How much real time a [`VirtualClock`] sleep lets pass before it moves virtual time.
const SETTLE: Duration = Duration::from_millis(2);

/// A clock for tests: time moves only when someone sleeps or calls [`advance`](Self::advance).
///
/// A sleep of `d` started at virtual time `t` moves the clock to at least `t + d` and returns
/// after 2 ms of real time (which lets requests in flight land first); concurrent sleepers that
/// started at the same time and sleep the same duration move it once, not once each, as in real
/// time. Clones share the same time. Sleeping needs a tokio runtime with its time driver enabled
/// (`#[tokio::test]` and `#[tokio::main]` enable it).
///
/// # Example
///
/// ```
/// use keyward::clock::{Clock, VirtualClock};
/// use std::time::Duration;
///
/// let clock = VirtualClock::at_unix_millis(0);
/// clock.advance(Duration::from_millis(1500));
/// assert_eq!(clock.unix_millis(), 1500);
/// assert_eq!(clock.slept(), Duration::ZERO);
/// ```
#[derive(Debug, Clone)]
pub struct VirtualClock {
    inner: Arc<VirtualInner>,
}

#[derive(Debug)]
struct VirtualInner {
    start_unix_millis: u64,
    elapsed_micros: AtomicU64,
    slept_micros: AtomicU64,
}

impl VirtualClock {
    /// A clock that starts at `unix_millis`.
    pub fn at_unix_millis(unix_millis: u64) -> Self {
        Self {
            inner: Arc::new(VirtualInner {
                start_unix_millis: unix_millis,
                elapsed_micros: AtomicU64::new(0),
                slept_micros: AtomicU64::new(0),
            }),
        }
    }

    /// A clock that starts at the real time now.
    pub fn now() -> Self {
        Self::at_unix_millis(SystemClock.unix_millis())
    }

    /// Moves time forward by `duration`.
    pub fn advance(&self, duration: Duration) {
        self.inner.elapsed_micros.fetch_add(micros(duration), Ordering::AcqRel);
    }

    /// The total of every duration slept on this clock (what the layers waited).
    pub fn slept(&self) -> Duration {
        Duration::from_micros(self.inner.slept_micros.load(Ordering::Acquire))
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

impl Clock for VirtualClock {
    fn unix_millis(&self) -> u64 {
        self.inner.start_unix_millis + self.inner.elapsed_micros.load(Ordering::Acquire) / 1000
    }

    fn unix_micros(&self) -> u64 {
        self.inner
            .start_unix_millis
            .saturating_mul(1000)
            .saturating_add(self.inner.elapsed_micros.load(Ordering::Acquire))
    }

    fn monotonic(&self) -> Duration {
        Duration::from_micros(self.inner.elapsed_micros.load(Ordering::Acquire))
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let inner = Arc::clone(&self.inner);
        let deadline = inner
            .elapsed_micros
            .load(Ordering::Acquire)
            .saturating_add(micros(duration));
        inner.slept_micros.fetch_add(micros(duration), Ordering::AcqRel);
        Box::pin(async move {
            // A moment of real time first, so that requests already in flight reach their server
            // (which may read this same clock) at the time they were sent, as they would in real
            // time; then the jump.
            tokio::time::sleep(SETTLE).await;
            inner.elapsed_micros.fetch_max(deadline, Ordering::AcqRel);
        })
    }
}
