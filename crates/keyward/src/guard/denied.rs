//! The error of a refused endpoint.

use super::EndpointRule;
use std::fmt;

/// A request the least-privilege guard refused. Nothing was sent.
///
/// # Example
///
/// ```
/// use keyward::guard::{Denied, EndpointCategory, EndpointRule};
///
/// let denied = Denied::new("kraken", http::Method::POST, "/0/private/Withdraw",
///     EndpointRule::new(None, "/0/private/Withdraw", EndpointCategory::Withdrawal));
/// assert!(denied.to_string().starts_with("refused POST /0/private/Withdraw on kraken: withdrawal endpoint"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    exchange: &'static str,
    method: http::Method,
    path: String,
    rule: EndpointRule,
}

impl Denied {
    /// A refusal of `method path` on `exchange` by `rule`.
    pub fn new(exchange: &'static str, method: http::Method, path: impl Into<String>, rule: EndpointRule) -> Self {
        Self {
            exchange,
            method,
            path: path.into(),
            rule,
        }
    }

    /// The exchange.
    pub fn exchange(&self) -> &'static str {
        self.exchange
    }

    /// The refused method.
    pub fn method(&self) -> &http::Method {
        &self.method
    }

    /// The refused path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The rule that refused it.
    pub fn rule(&self) -> &EndpointRule {
        &self.rule
    }
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "refused {} {} on {}: {} endpoint (rule {}{}); ",
            self.method,
            self.path,
            self.exchange,
            self.rule.category,
            self.rule.method.as_deref().map(|m| format!("{m} ")).unwrap_or_default(),
            self.rule.path
        )?;
        match self.rule.category {
            super::EndpointCategory::Custom => f.write_str("this client's guard policy denies it"),
            _ => f.write_str(
                "keyward denies withdrawals, transfers, sub-account and API-key management by default; \
                 if this bot really needs it, allow it explicitly with GuardPolicy::allow",
            ),
        }
    }
}

impl std::error::Error for Denied {}
