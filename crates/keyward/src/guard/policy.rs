//! Which endpoints a client may call.

use super::{Denied, EndpointRule, rule::NormalizedPath};
use crate::exchange::Exchange;

/// The guard's policy for one client.
///
/// Evaluated in this order: the client's own denylist; then, in allow-only mode, anything not on
/// the allowlist is denied; then the allowlist lets a request through; then the exchange's
/// dangerous endpoints are denied; anything else is allowed.
///
/// # Example
///
/// ```
/// use keyward::{exchange, guard::{EndpointRule, GuardPolicy}};
///
/// let binance = exchange::by_name("binance").unwrap();
/// let policy = GuardPolicy::default()
///     .deny(EndpointRule::custom(Some("DELETE".into()), "/api/v3/openOrders".into()));
/// assert!(policy.check(binance, &http::Method::DELETE, "/api/v3/openOrders").is_err());
/// assert!(policy.check(binance, &http::Method::POST, "/sapi/v1/capital/withdraw/apply").is_err());
/// assert!(policy.check(binance, &http::Method::POST, "/api/v3/order").is_ok());
///
/// let strict = GuardPolicy::allow_only([EndpointRule::custom(None, "/api/v3/".into())]);
/// assert!(strict.check(binance, &http::Method::GET, "/sapi/v1/account/status").is_err());
/// ```
#[derive(Debug, Clone, Default)]
pub struct GuardPolicy {
    allow: Vec<EndpointRule>,
    deny: Vec<EndpointRule>,
    allow_only: bool,
}

impl GuardPolicy {
    /// A policy that denies everything except `rules`.
    pub fn allow_only(rules: impl IntoIterator<Item = EndpointRule>) -> Self {
        Self {
            allow: rules.into_iter().collect(),
            deny: Vec::new(),
            allow_only: true,
        }
    }

    /// Lets `rule` through, even if it is one of the exchange's dangerous endpoints.
    pub fn allow(mut self, rule: EndpointRule) -> Self {
        self.allow.push(rule);
        self
    }

    /// Denies `rule` as well.
    pub fn deny(mut self, rule: EndpointRule) -> Self {
        self.deny.push(rule);
        self
    }

    /// Checks `method path` against this policy for `exchange`.
    pub fn check(&self, exchange: &'static dyn Exchange, method: &http::Method, path: &str) -> Result<(), Denied> {
        let refuse = |rule: &EndpointRule| Err(Denied::new(exchange.name(), method.clone(), path, rule.clone()));
        // Decoded and normalised once, not once per rule: the checks run on every request.
        let normalized = NormalizedPath::new(path);
        let matches = |rule: &&EndpointRule| rule.matches_normalized(method, &normalized);
        if let Some(rule) = self.deny.iter().find(matches) {
            return refuse(rule);
        }
        let allowed = self.allow.iter().any(|rule| matches(&rule));
        if self.allow_only && !allowed {
            return refuse(&EndpointRule::custom(None, "(not on the allow-only list)".into()));
        }
        if allowed {
            return Ok(());
        }
        match exchange.dangerous_endpoints().iter().find(matches) {
            Some(rule) => refuse(rule),
            None => Ok(()),
        }
    }
}
