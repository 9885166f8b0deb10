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
    /// started; the configured budgets stay.
    pub fn reset_limits(&self) {
        self.state.limits.reset();
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
