//! BitMEX REST endpoints the least-privilege guard denies by default.

use crate::guard::{EndpointCategory, EndpointRule};

/// The dangerous BitMEX endpoints (from the API explorer at <https://www.bitmex.com/api/explorer/>:
/// User, Address and APIKey sections). Reading the address book (`GET /address`) stays allowed.
pub(crate) static DANGEROUS: &[EndpointRule] = &[
    EndpointRule::new(None, "/api/v1/user/requestWithdrawal", EndpointCategory::Withdrawal),
    EndpointRule::new(None, "/api/v1/user/confirmWithdrawal", EndpointCategory::Withdrawal),
    EndpointRule::new(None, "/api/v1/user/cancelWithdrawal", EndpointCategory::Withdrawal),
    // Adding a withdrawal address is the first step of moving funds out.
    EndpointRule::new(Some("POST"), "/api/v1/address", EndpointCategory::Withdrawal),
    EndpointRule::new(None, "/api/v1/user/walletTransfer", EndpointCategory::Transfer),
    EndpointRule::new(None, "/api/v1/user/addSubaccount", EndpointCategory::SubAccount),
    EndpointRule::new(None, "/api/v1/user/updateSubaccount", EndpointCategory::SubAccount),
    EndpointRule::new(None, "/api/v1/apiKey/", EndpointCategory::ApiKeyManagement),
];

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn denied(method: Method, path: &str) -> bool {
        DANGEROUS.iter().any(|rule| rule.matches(&method, path))
    }

    #[test]
    fn withdrawals_transfers_sub_accounts_and_keys_are_denied() {
        assert!(denied(Method::POST, "/api/v1/user/requestWithdrawal"));
        assert!(denied(Method::POST, "/api/v1/user/requestwithdrawal"));
        assert!(denied(Method::POST, "/api/v1/user/confirmWithdrawal"));
        assert!(denied(Method::POST, "/api/v1/address"));
        assert!(denied(Method::POST, "/api/v1/user/walletTransfer"));
        assert!(denied(Method::POST, "/api/v1/user/addSubaccount"));
        assert!(denied(Method::POST, "/api/v1/apiKey/disable"));
        assert!(denied(Method::DELETE, "/api/v1/apiKey"));
    }

    #[test]
    fn trading_and_reads_are_allowed() {
        for (method, path) in [
            (Method::POST, "/api/v1/order"),
            (Method::PUT, "/api/v1/order"),
            (Method::DELETE, "/api/v1/order/all"),
            (Method::POST, "/api/v1/position/leverage"),
            (Method::GET, "/api/v1/user/wallet"),
            (Method::GET, "/api/v1/user/margin"),
            (Method::GET, "/api/v1/address"),
        ] {
            assert!(!denied(method.clone(), path), "{method} {path}");
        }
    }
}
