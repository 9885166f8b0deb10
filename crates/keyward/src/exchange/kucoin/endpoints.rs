//! KuCoin REST endpoints the least-privilege guard denies by default.
//!
//! KuCoin versions each route separately (`/api/v1/withdrawals`, `/api/v3/withdrawals`, ...), so the
//! version segment is a `*`. Withdrawal and transfer routes share their path with harmless history
//! reads (`GET /api/v1/withdrawals`), so those rules name the writing method; sub-account and
//! API-key routes are denied whole. The futures host (`api-futures.kucoin.com`) uses the same paths.

use crate::guard::{EndpointCategory, EndpointRule};

/// The dangerous KuCoin endpoints (from <https://www.kucoin.com/docs-new>, Account and Funding,
/// Sub-Account and Broker sections).
pub(crate) static DANGEROUS: &[EndpointRule] = &[
    // Withdrawals, spot and futures hosts.
    EndpointRule::new(Some("POST"), "/api/*/withdrawals", EndpointCategory::Withdrawal),
    EndpointRule::new(Some("DELETE"), "/api/*/withdrawals/*", EndpointCategory::Withdrawal),
    // Transfers between accounts of the user, to other users and between master and sub-accounts.
    EndpointRule::new(
        Some("POST"),
        "/api/*/accounts/inner-transfer",
        EndpointCategory::Transfer,
    ),
    EndpointRule::new(Some("POST"), "/api/*/accounts/sub-transfer", EndpointCategory::Transfer),
    EndpointRule::new(
        Some("POST"),
        "/api/*/accounts/universal-transfer",
        EndpointCategory::Transfer,
    ),
    EndpointRule::new(Some("POST"), "/api/*/transfer-out", EndpointCategory::Transfer),
    EndpointRule::new(Some("POST"), "/api/*/transfer-in", EndpointCategory::Transfer),
    EndpointRule::new(Some("DELETE"), "/api/*/cancel/transfer-out", EndpointCategory::Transfer),
    EndpointRule::new(None, "/api/*/broker/nd/transfer", EndpointCategory::Transfer),
    // Sub-accounts and their API keys (`/sub/user/...`, `/sub/api-key/...`, `/sub-accounts/...`).
    EndpointRule::new(None, "/api/*/sub/api-key/", EndpointCategory::ApiKeyManagement),
    EndpointRule::new(None, "/api/*/sub/", EndpointCategory::SubAccount),
    EndpointRule::new(None, "/api/*/sub-accounts/", EndpointCategory::SubAccount),
    EndpointRule::new(None, "/api/*/broker/nd/account/", EndpointCategory::SubAccount),
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
        assert!(denied(Method::POST, "/api/v1/withdrawals"));
        assert!(denied(Method::POST, "/api/v3/withdrawals"));
        assert!(denied(Method::DELETE, "/api/v1/withdrawals/5bffb63303aa675e8bbe18f9"));
        assert!(denied(Method::POST, "/api/v2/accounts/inner-transfer"));
        assert!(denied(Method::POST, "/api/v3/accounts/universal-transfer"));
        assert!(denied(Method::POST, "/api/v3/transfer-out"));
        assert!(denied(Method::POST, "/api/v1/sub/user/created"));
        assert!(denied(Method::GET, "/api/v2/sub-accounts"));
        assert!(denied(Method::POST, "/api/v1/sub/api-key/update"));
        assert!(denied(Method::DELETE, "/api/v1/sub/api-key"));
    }

    #[test]
    fn trading_and_reads_are_allowed() {
        for (method, path) in [
            (Method::POST, "/api/v1/orders"),
            (Method::POST, "/api/v1/hf/orders"),
            (Method::DELETE, "/api/v1/orders/5bd6e9286d99522a52e458de"),
            (Method::GET, "/api/v1/accounts"),
            (Method::GET, "/api/v1/withdrawals"),
            (Method::GET, "/api/v1/withdrawals/quotas"),
            (Method::GET, "/api/v1/timestamp"),
            (Method::POST, "/api/v1/margin/order"),
        ] {
            assert!(!denied(method.clone(), path), "{method} {path}");
        }
    }
}
