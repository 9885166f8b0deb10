//! Gate APIv4 endpoints the least-privilege guard denies by default.
//!
//! Gate separates reads from writes by method ("all `GET` operations are read requests"), and its
//! transfer routes share their path with the transfer-history reads, so those rules name `POST`.
//! Sub-account management, including sub-account API keys, is denied whole.

use crate::guard::{EndpointCategory, EndpointRule};

/// The dangerous Gate endpoints (from <https://www.gate.io/docs/developers/apiv4/en/>, Withdrawal,
/// Wallet and Sub-account sections).
pub(crate) static DANGEROUS: &[EndpointRule] = &[
    // `POST /withdrawals`, the UID transfer `POST /withdrawals/push`, `DELETE /withdrawals/{id}`.
    EndpointRule::new(None, "/api/v4/withdrawals/", EndpointCategory::Withdrawal),
    EndpointRule::new(Some("POST"), "/api/v4/wallet/transfers", EndpointCategory::Transfer),
    EndpointRule::new(
        Some("POST"),
        "/api/v4/wallet/sub_account_transfers",
        EndpointCategory::Transfer,
    ),
    EndpointRule::new(
        None,
        "/api/v4/wallet/sub_account_to_sub_account",
        EndpointCategory::Transfer,
    ),
    EndpointRule::new(None, "/api/v4/sub_accounts/*/keys/", EndpointCategory::ApiKeyManagement),
    EndpointRule::new(None, "/api/v4/sub_accounts/", EndpointCategory::SubAccount),
];

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn denied(method: Method, path: &str) -> bool {
        DANGEROUS.iter().any(|rule| rule.matches(&method, path))
    }

    #[test]
    fn withdrawals_transfers_and_sub_accounts_are_denied() {
        assert!(denied(Method::POST, "/api/v4/withdrawals"));
        assert!(denied(Method::POST, "/api/v4/withdrawals/push"));
        assert!(denied(Method::DELETE, "/api/v4/withdrawals/210496"));
        assert!(denied(Method::POST, "/api/v4/wallet/transfers"));
        assert!(denied(Method::POST, "/api/v4/wallet/sub_account_transfers"));
        assert!(denied(Method::POST, "/api/v4/wallet/sub_account_to_sub_account"));
        assert!(denied(Method::POST, "/api/v4/sub_accounts"));
        assert!(denied(Method::POST, "/api/v4/sub_accounts/10002/keys"));
        assert!(denied(Method::DELETE, "/api/v4/sub_accounts/10002/keys/some-key"));
        assert!(denied(Method::POST, "/api/v4/sub_accounts/10002/lock"));
    }

    #[test]
    fn trading_and_reads_are_allowed() {
        for (method, path) in [
            (Method::POST, "/api/v4/spot/orders"),
            (Method::POST, "/api/v4/futures/usdt/orders"),
            (Method::DELETE, "/api/v4/spot/orders/12345"),
            (Method::GET, "/api/v4/spot/accounts"),
            (Method::GET, "/api/v4/wallet/total_balance"),
            (Method::GET, "/api/v4/wallet/withdrawals"),
            (Method::GET, "/api/v4/wallet/sub_account_transfers"),
            (Method::GET, "/api/v4/spot/time"),
        ] {
            assert!(!denied(method.clone(), path), "{method} {path}");
        }
    }
}
