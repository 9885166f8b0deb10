//! The whole stack for one exchange, in the right order, in one call.
//!
//! From the outside in:
//! 1. [`Guard`]: refuses dangerous endpoints before anything else happens;
//! 2. [`Sign`]: signs each attempt afresh with the credentials current at that moment;
//! 3. [`AttemptAudit`]: records each attempt as sent (signing parameters masked);
//! 4. [`Classify`]: turns exchange error responses into typed errors;
//! 5. the transport you give it.
//!
//! # Example
//!
//! ```no_run
//! use bytes::Bytes;
//! use keyward::{Credentials, Preset, exchange, transport::ReqwestTransport};
//! use std::sync::Arc;
//! use tower::ServiceExt;
//!
//! # async fn run() -> Result<(), keyward::Error> {
//! let credentials = Arc::new(Credentials::new("key-from-your-secret-store", "secret-from-your-secret-store"));
//! let client = Preset::new(exchange::by_name("binance").unwrap(), credentials)
//!     .service(ReqwestTransport::default());
//! let request = http::Request::get("https://api.binance.com/api/v3/account").body(Bytes::new()).unwrap();
//! let response = client.oneshot(request).await?;
//! # let _ = response; Ok(()) }
//! ```

use crate::{
    audit::{AttemptAudit, AttemptAuditLayer},
    classify::{Classify, ClassifyLayer},
    credentials::CredentialSource,
    exchange::Exchange,
    guard::{Guard, GuardLayer, GuardPolicy},
    sign::{Sign, SignLayer},
};
use std::fmt;
use tower::ServiceBuilder;
use tower_layer::Layer;

/// The service a [`Preset`] builds around a transport `T`.
pub type PresetService<T, C> = Guard<Sign<AttemptAudit<Classify<T>>, C>>;

/// Builds keyward's stack for one exchange. See the [module docs](self).
pub struct Preset<C> {
    exchange: &'static dyn Exchange,
    credentials: C,
    policy: GuardPolicy,
}

impl<C: CredentialSource + Clone> Preset<C> {
    /// The stack for `exchange`, signing with `credentials`, with the default guard policy.
    pub fn new(exchange: &'static dyn Exchange, credentials: C) -> Self {
        Self {
            exchange,
            credentials,
            policy: GuardPolicy::default(),
        }
    }

    /// Replaces the guard policy.
    pub fn guard(mut self, policy: GuardPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The exchange this preset is for.
    pub fn exchange(&self) -> &'static dyn Exchange {
        self.exchange
    }

    /// Wraps `transport` in the stack.
    pub fn service<T>(&self, transport: T) -> PresetService<T, C> {
        self.layer(transport)
    }
}

impl<C> fmt::Debug for Preset<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Preset")
            .field("exchange", &self.exchange.name())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<T, C: CredentialSource + Clone> Layer<T> for Preset<C> {
    type Service = PresetService<T, C>;

    fn layer(&self, transport: T) -> Self::Service {
        ServiceBuilder::new()
            .layer(GuardLayer::with_policy(self.exchange, self.policy.clone()))
            .layer(SignLayer::new(self.exchange, self.credentials.clone()))
            .layer(AttemptAuditLayer::new(self.exchange))
            .layer(ClassifyLayer::new(self.exchange))
            .service(transport)
    }
}
