//! Kraken spot REST endpoints the least-privilege guard denies by default.
//!
//! Kraken's private methods are all `POST /0/private/<Method>`; the rules name every method that
//! moves funds off the account, between its wallets or to a sub-account, or creates sub-accounts.
//! Read-only funding methods (`WithdrawMethods`, `WithdrawAddresses`, `WithdrawInfo`,
//! `WithdrawStatus`, deposits) stay allowed.

use crate::guard::{EndpointCategory, EndpointRule};

/// The dangerous Kraken endpoints (from <https://docs.kraken.com/api/docs/rest-api/withdraw-funds>
/// and the neighbouring funding and sub-account pages).
pub(crate) static DANGEROUS: &[EndpointRule] = &[
    EndpointRule::new(None, "/0/private/Withdraw", EndpointCategory::Withdrawal),
    EndpointRule::new(None, "/0/private/WithdrawCancel", EndpointCategory::Withdrawal),
    EndpointRule::new(None, "/0/private/WalletTransfer", EndpointCategory::Transfer),
    EndpointRule::new(None, "/0/private/AccountTransfer", EndpointCategory::Transfer),
    EndpointRule::new(None, "/0/private/CreateSubaccount", EndpointCategory::SubAccount),
];

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn denied(path: &str) -> bool {
        DANGEROUS.iter().any(|rule| rule.matches(&Method::POST, path))
    }

    #[test]
    fn withdrawals_and_transfers_are_denied() {
        assert!(denied("/0/private/Withdraw"));
        assert!(denied("/0/private/withdraw"));
        assert!(denied("/0/private//WithdrawCancel"));
        assert!(denied("/0/private/WalletTransfer"));
        assert!(denied("/0/private/AccountTransfer"));
        assert!(denied("/0/private/CreateSubaccount"));
    }

    #[test]
    fn trading_and_reads_are_allowed() {
        for path in [
            "/0/private/AddOrder",
            "/0/private/CancelOrder",
            "/0/private/Balance",
            "/0/private/OpenOrders",
            "/0/private/WithdrawStatus",
            "/0/private/WithdrawInfo",
            "/0/public/Time",
        ] {
            assert!(!denied(path), "{path}");
        }
    }
}
