//! The clock-correction layer and its settings.

use super::{
    Clock, ClockOffset, SystemClock,
    service::{ClockCorrection, Shared},
};
use crate::exchange::Exchange;
use std::{fmt, sync::Arc, time::Duration};
use tower_layer::Layer;

/// The default largest offset accepted before requests fail with [`ClockSkew`](super::ClockSkew).
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(60);

/// The default age after which the offset is measured again.
pub const DEFAULT_RESYNC_EVERY: Duration = Duration::from_secs(5 * 60);

/// Stamps every request with the exchange's time, corrected for the local clock's offset. See
/// the [module docs](super).
///
/// Clones, and every service built from it, share one estimate and one nonce sequence.
#[derive(Clone)]
pub struct ClockLayer {
    exchange: &'static dyn Exchange,
    clock: Arc<dyn Clock>,
    tolerance: Duration,
    resync_every: Duration,
    offset: ClockOffset,
}

impl ClockLayer {
    /// Corrects for `exchange`'s clock, measured at its [server-time
    /// endpoint](Exchange::server_time), with the default settings.
    pub fn new(exchange: &'static dyn Exchange) -> Self {
        Self {
            exchange,
            clock: Arc::new(SystemClock),
            tolerance: DEFAULT_TOLERANCE,
            resync_every: DEFAULT_RESYNC_EVERY,
            offset: ClockOffset { state: Arc::default() },
        }
    }

    /// Reads local time from `clock` instead of [`SystemClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The largest offset, either way, at which requests are still sent (default 60 s). A
    /// larger one means a broken host clock: correcting it silently would hide the problem
    /// from everything else on the host that signs or logs time.
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// How old the estimate may grow before the next request measures again (default 5 min):
    /// host clocks drift, and NTP steps them.
    pub fn resync_every(mut self, resync_every: Duration) -> Self {
        self.resync_every = resync_every;
        self
    }

    /// A handle on the estimate that this layer's services keep up to date.
    pub fn offset_handle(&self) -> ClockOffset {
        self.offset.clone()
    }
}

impl fmt::Debug for ClockLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClockLayer")
            .field("exchange", &self.exchange.name())
            .field("clock", &self.clock)
            .field("tolerance", &self.tolerance)
            .field("resync_every", &self.resync_every)
            .field("offset", &self.offset)
            .finish()
    }
}

impl<S> Layer<S> for ClockLayer {
    type Service = ClockCorrection<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClockCorrection::new(
            inner,
            Arc::new(Shared {
                exchange: self.exchange,
                clock: Arc::clone(&self.clock),
                tolerance: self.tolerance,
                resync_every: self.resync_every,
                in_nonce_order: self.exchange.nonce_must_increase(),
                state: Arc::clone(&self.offset.state),
            }),
        )
    }
}
