//! The error of a request whose effect is unknown.

use crate::Error;
use std::fmt;

/// A request that changes state (an order placement) failed in a way that leaves its effect
/// unknown: a timeout, a connection reset after sending, a 5xx. It was not sent again, since
/// that could execute it twice; reconcile with the exchange by its client order id.
///
/// # Example
///
/// ```
/// use keyward::{Error, TransportError, TransportErrorKind, retry::Ambiguous};
///
/// let cause = Error::Transport(TransportError::new(TransportErrorKind::Timeout, "no response within 10 s"));
/// let ambiguous = Ambiguous::new(Some("kw-1f2e3d".into()), cause);
/// assert!(ambiguous.to_string().contains("kw-1f2e3d"));
/// ```
#[derive(Debug)]
pub struct Ambiguous {
    /// The client order id the request carried, to look the order up.
    pub client_order_id: Option<String>,
    /// What happened.
    pub cause: Box<Error>,
}

impl Ambiguous {
    /// An ambiguous outcome of the request with `client_order_id`.
    pub fn new(client_order_id: Option<String>, cause: Error) -> Self {
        Self {
            client_order_id,
            cause: Box::new(cause),
        }
    }
}

impl fmt::Display for Ambiguous {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "outcome unknown, not re-sent ({}): ", self.cause)?;
        match &self.client_order_id {
            Some(id) => write!(f, "query the order with client order id {id} before placing it again"),
            None => f.write_str("check the exchange's state before sending it again"),
        }
    }
}

impl std::error::Error for Ambiguous {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.cause)
    }
}
