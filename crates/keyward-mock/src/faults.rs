//! Misbehaviour a test can inject: consulted before a request reaches the exchange.
//!
//! This is the place for what a real exchange does to a client on a bad day. Today it holds a
//! queue of one-shot HTTP errors; rate-limit budgets, bans, delays, connection resets and "time
//! out after executing" belong here too, each as a [`Fault`] variant or a field of [`Faults`],
//! applied in [`Faults::before`] (or, for faults that follow execution, in a matching `after`).

use crate::{record::Rejection, reply::Reply};
use http::StatusCode;
use std::{collections::VecDeque, sync::Mutex};

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
/// // The next request gets a 503 whatever it is; the one after is served normally.
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status and an empty JSON object, without executing anything.
    Status(StatusCode),
}

/// The faults waiting for the next requests, in order.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    queued: Mutex<VecDeque<Fault>>,
}

impl Faults {
    pub(crate) fn push(&self, fault: Fault) {
        self.queued
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push_back(fault);
    }

    /// The reply that replaces the exchange's for this request, if a fault is due.
    pub(crate) fn before(&self) -> Option<Reply> {
        let fault = self
            .queued
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop_front()?;
        match fault {
            Fault::Status(status) => Some(Reply::rejected(Rejection::InjectedFault, status, serde_json::json!({}))),
        }
    }
}
