//! Which endpoints a client may call.

use super::{
    Denied, EndpointRule,
    rule::{CompiledRule, NormalizedPath},
};
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

/// A policy and an exchange's dangerous endpoints with every rule compiled once, for the guard
/// layer: it gives the same answers as [`GuardPolicy::check`] without splitting a rule's pattern
/// on every request.
#[derive(Debug)]
pub(crate) struct CompiledPolicy {
    exchange: &'static dyn Exchange,
    deny: Vec<CompiledRule>,
    allow: Vec<CompiledRule>,
    allow_only: bool,
    dangerous: Vec<CompiledRule>,
}

impl CompiledPolicy {
    pub(crate) fn new(policy: &GuardPolicy, exchange: &'static dyn Exchange) -> Self {
        let compile = |rules: &[EndpointRule]| rules.iter().map(CompiledRule::new).collect();
        Self {
            exchange,
            deny: compile(&policy.deny),
            allow: compile(&policy.allow),
            allow_only: policy.allow_only,
            dangerous: compile(exchange.dangerous_endpoints()),
        }
    }

    /// [`GuardPolicy::check`] for this policy's exchange, in the same order of evaluation.
    pub(crate) fn check(&self, method: &http::Method, path: &str) -> Result<(), Denied> {
        let exchange = self.exchange;
        let refuse = |rule: &EndpointRule| Err(Denied::new(exchange.name(), method.clone(), path, rule.clone()));
        let normalized = NormalizedPath::new(path);
        let matches = |rule: &&CompiledRule| rule.matches(method, &normalized);
        if let Some(rule) = self.deny.iter().find(matches) {
            return refuse(rule.rule());
        }
        let allowed = self.allow.iter().any(|rule| matches(&rule));
        if self.allow_only && !allowed {
            return refuse(&EndpointRule::custom(None, "(not on the allow-only list)".into()));
        }
        if allowed {
            return Ok(());
        }
        match self.dangerous.iter().find(matches) {
            Some(rule) => refuse(rule.rule()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange;

    /// The layer's compiled policy must refuse exactly what the public check refuses.
    #[test]
    fn the_compiled_policy_agrees_with_the_check() {
        let custom = GuardPolicy::default()
            .deny(EndpointRule::custom(Some("DELETE".into()), "/api/v3/openOrders".into()))
            .allow(EndpointRule::custom(
                Some("POST".into()),
                "/sapi/v1/asset/transfer".into(),
            ));
        let strict = GuardPolicy::allow_only([EndpointRule::custom(None, "/api/*/order/".into())]);
        let methods = [http::Method::GET, http::Method::POST, http::Method::DELETE];
        for exchange in exchange::ALL.iter().copied() {
            let mut paths: Vec<String> = exchange
                .dangerous_endpoints()
                .iter()
                .flat_map(|rule| {
                    let path = rule.path.replace('*', "x");
                    [
                        path.clone(),
                        format!("{path}/more"),
                        path.to_uppercase(),
                        path.replacen('/', "//", 2),
                        format!("/x/..{path}"),
                        path.replacen('a', "%61", 1),
                        path.trim_end_matches('/').to_owned(),
                    ]
                })
                .collect();
            paths.extend(
                [
                    "/",
                    "",
                    "/api/v3/order",
                    "/API/v5/Order/",
                    "/api/v3/openOrders",
                    "/%zz/%C3%28",
                    "/./a/../",
                ]
                .map(String::from),
            );
            let mut refused = 0;
            for policy in [&GuardPolicy::default(), &custom, &strict] {
                let compiled = CompiledPolicy::new(policy, exchange);
                for method in &methods {
                    for path in &paths {
                        let answer = compiled.check(method, path);
                        refused += usize::from(answer.is_err());
                        assert_eq!(
                            answer,
                            policy.check(exchange, method, path),
                            "{} {method} {path}",
                            exchange.name()
                        );
                    }
                }
            }
            // Both answers occur, so that the comparison means something.
            assert!(
                refused > 0 && refused < 3 * methods.len() * paths.len(),
                "{}",
                exchange.name()
            );
        }
    }
}
