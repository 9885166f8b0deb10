//! Coinbase Exchange endpoints the least-privilege guard denies by default.
//!
//! Withdrawals (to a crypto address, a Coinbase account or a payment method) and the withdrawal
//! address book, transfers between profiles and from a Coinbase account, and creating, renaming
//! or deactivating profiles (Coinbase Exchange's sub-accounts). Coinbase Exchange has no API-key
//! management endpoints. Accounts, orders, fills and fee estimates stay allowed.

use crate::guard::{EndpointCategory::*, EndpointRule};

pub(crate) static DANGEROUS: &[EndpointRule] = &[
    // crypto, coinbase-account, payment-method; the fee estimate is a GET.
    EndpointRule::new(Some("POST"), "/withdrawals/", Withdrawal),
    EndpointRule::new(Some("POST"), "/address-book", Withdrawal),
    EndpointRule::new(Some("DELETE"), "/address-book/*", Withdrawal),
    EndpointRule::new(Some("POST"), "/profiles/transfer", Transfer),
    EndpointRule::new(Some("POST"), "/deposits/coinbase-account", Transfer),
    EndpointRule::new(Some("POST"), "/profiles", SubAccount),
    EndpointRule::new(Some("PUT"), "/profiles/*", SubAccount),
    EndpointRule::new(Some("PUT"), "/profiles/*/deactivate", SubAccount),
];

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn denied(method: Method, path: &str) -> bool {
        DANGEROUS.iter().any(|rule| rule.matches(&method, path))
    }

    #[test]
    fn withdrawals_transfers_and_profiles_are_denied() {
        assert!(denied(Method::POST, "/withdrawals/crypto"));
        assert!(denied(Method::POST, "/withdrawals/coinbase-account"));
        assert!(denied(Method::POST, "/profiles/transfer"));
        assert!(denied(Method::POST, "/profiles"));
        assert!(denied(
            Method::PUT,
            "/profiles/86602c68-306a-4500-ac73-4ce56a91d83c/deactivate"
        ));
        assert!(denied(Method::DELETE, "/address-book/abc"));
    }

    #[test]
    fn trading_and_reads_are_allowed() {
        assert!(!denied(Method::POST, "/orders"));
        assert!(!denied(Method::DELETE, "/orders/abc"));
        assert!(!denied(Method::GET, "/accounts"));
        assert!(!denied(Method::GET, "/profiles"));
        assert!(!denied(Method::GET, "/withdrawals/fee-estimate"));
    }
}
