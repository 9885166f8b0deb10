//! A mock exchange that is serving.

use crate::{
    credentials::MockCredentials,
    faults::{Fault, FaultPlan},
    record::{RecordedOrder, RecordedRequest},
    state::State,
};
use std::{io, net::SocketAddr, sync::Arc};
use tokio::{sync::oneshot, task::JoinHandle};

/// A mock exchange serving on 127.0.0.1. Stops when [shut down](Self::shutdown) or dropped.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use keyward_mock::MockExchange;
///
/// let mock = MockExchange::builder("binance")?.clock_offset_ms(60_000).start().await?;
/// let url = format!("{}/api/v3/time", mock.base_url());
/// let server_time: serde_json::Value = reqwest::get(&url).await?.json().await?;
/// assert!(server_time["serverTime"].as_i64().unwrap() > 0);
/// assert_eq!(mock.requests().len(), 1);
/// assert!(mock.requests()[0].verdict.is_accepted());
/// mock.shutdown().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct RunningMock {
    addr: SocketAddr,
    state: Arc<State>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl RunningMock {
    pub(crate) fn new(
        addr: SocketAddr,
        state: Arc<State>,
        stop: oneshot::Sender<()>,
        task: JoinHandle<io::Result<()>>,
    ) -> Self {
        Self {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The exchange it stands in for (`binance`, `okx`, ...).
    pub fn exchange(&self) -> &'static str {
        self.state.exchange.name()
    }

    /// Every request received since the start or the last [`clear_requests`](Self::clear_requests),
    /// in the order they were answered.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests()
    }

    /// Forgets the recorded requests (not the orders, nor Kraken's nonces).
    pub fn clear_requests(&self) {
        self.state.clear_requests();
    }

    /// Every order executed, in order.
    pub fn orders(&self) -> Vec<RecordedOrder> {
        self.state.orders()
    }

    /// The exchange's time, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.state.clock.now_ms()
    }

    /// Moves the exchange's clock: from now on it runs `offset_ms` ahead of the local clock.
    pub fn set_clock_offset_ms(&self, offset_ms: i64) {
        self.state.clock.set_offset_ms(offset_ms);
    }

    /// Queues a fault for the next request that arrives (see [`Fault`]); several queue in order,
    /// one per request.
    pub fn inject(&self, fault: Fault) {
        self.state.faults.push(fault);
    }

    /// Accepts `credentials` too, from now on (a rotated key during its handover). Fails, with
    /// a message that never contains the secret, for credentials the exchange could not issue.
    pub fn add_credentials(&self, credentials: MockCredentials) -> Result<(), String> {
        let key = self.state.exchange.prepare_key(credentials)?;
        self.state.add_key(key);
        Ok(())
    }

    /// Stops accepting the key with `api_key` (revoked, or rotated out); whether it was accepted.
    pub fn revoke(&self, api_key: &str) -> bool {
        self.state.revoke_key(api_key)
    }

    /// Injects `fault` into the next request to `path` only (other requests pass it by): to hit
    /// a client's call rather than, say, the clock probe it sends first.
    pub fn inject_for(&self, path: &str, fault: Fault) {
        self.state.faults.push_for(path, fault);
    }

    /// Replaces the plan of random faults (`None`: no random faults). Queued faults come first.
    pub fn set_fault_plan(&self, plan: Option<FaultPlan>) {
        self.state.faults.set_plan(plan);
    }

    /// The end of the current ban in exchange time (Unix milliseconds), if the client is banned.
    /// Only Binance bans.
    pub fn banned_until_ms(&self) -> Option<i64> {
        self.state.limits.banned_until_ms(self.state.clock.now_ms())
    }

    /// Forgets every rate-limit counter, ban and past offence, as if the exchange had just
    /// started; the configured budgets stay, and so does the log of past [`bans`](Self::bans).
    pub fn reset_limits(&self) {
        self.state.limits.reset(self.state.clock.now_ms());
    }

    /// Bans the client from now, for `duration` of exchange time, whatever it did: an IP ban in
    /// the middle of a burst (caused by another bot on the same IP, say). Every request is refused
    /// with the exchange's ban answer (Binance: `418`) until it ends; the ban counts as an offence,
    /// so a later earned ban is longer. Returns the ban, `start..end` in exchange time.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mock = keyward_mock::MockExchange::builder("binance")?.start().await?;
    /// let ban = mock.ban_for(std::time::Duration::from_secs(120));
    /// assert_eq!(ban.end - ban.start, 120_000);
    /// let url = format!("{}/api/v3/time", mock.base_url());
    /// assert_eq!(reqwest::get(&url).await?.status(), 418);
    /// assert_eq!(mock.bans()[0].window_ms, ban);
    /// assert!(mock.bans()[0].covers(&mock.requests()[0]));
    /// # Ok(())
    /// # }
    /// ```
    pub fn ban_for(&self, duration: std::time::Duration) -> std::ops::Range<i64> {
        let duration_ms = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        self.state.limits.ban(self.state.clock.now_ms(), duration_ms)
    }

    /// Every ban so far, earned or [forced](Self::ban_for), in the order they began: to check
    /// that nothing was sent during one ([`Ban::covers`](crate::Ban::covers)).
    pub fn bans(&self) -> Vec<crate::record::Ban> {
        self.state.limits.bans()
    }

    /// How many requests arrived and are not [recorded](Self::requests) yet: held by a
    /// [`Fault::Delay`], or being handled. A test waits for 0 before it compares the exchange's
    /// record with what its client saw.
    pub fn requests_in_progress(&self) -> u64 {
        self.state.in_progress()
    }

    /// Stops accepting connections, lets requests in flight finish, and waits for the server.
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningMock {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Graceful shutdown waits for idle keep-alive connections a test may still hold; on drop
        // nobody waits, so the server is stopped outright.
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
