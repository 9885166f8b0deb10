//! OKX v5 endpoints the least-privilege guard denies by default.
//!
//! On-chain, lightning and fiat withdrawals, funding transfers (between the account's own
//! accounts and to and from sub-accounts), every sub-account endpoint (creation, transfer-out
//! permission, their API keys, loan allocation) and the ND-broker family, which creates
//! sub-accounts and their API keys. Balances, bills and order endpoints stay allowed.

use crate::guard::{EndpointCategory::*, EndpointRule};

pub(crate) static DANGEROUS: &[EndpointRule] = &[
    EndpointRule::new(Some("POST"), "/api/v5/asset/withdrawal", Withdrawal),
    EndpointRule::new(Some("POST"), "/api/v5/asset/withdrawal-lightning", Withdrawal),
    EndpointRule::new(Some("POST"), "/api/v5/fiat/create-withdrawal", Withdrawal),
    EndpointRule::new(Some("POST"), "/api/v5/asset/transfer", Transfer),
    EndpointRule::new(Some("POST"), "/api/v5/asset/subaccount/transfer", Transfer),
    EndpointRule::new(None, "/api/v5/users/subaccount/", SubAccount),
    EndpointRule::new(Some("POST"), "/api/v5/account/subaccount/", SubAccount),
    EndpointRule::new(None, "/api/v5/broker/nd/", ApiKeyManagement),
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
        assert!(denied(Method::POST, "/api/v5/asset/withdrawal"));
        assert!(denied(Method::POST, "/api/v5/asset/transfer"));
        assert!(denied(Method::POST, "/api/v5/asset/subaccount/transfer"));
        assert!(denied(Method::POST, "/api/v5/users/subaccount/apikey"));
        assert!(denied(Method::POST, "/api/v5/users/subaccount/create-subaccount"));
        assert!(denied(Method::POST, "/api/v5/broker/nd/subaccount/apikey"));
    }

    #[test]
    fn trading_and_reads_are_allowed() {
        assert!(!denied(Method::POST, "/api/v5/trade/order"));
        assert!(!denied(Method::POST, "/api/v5/trade/batch-orders"));
        assert!(!denied(Method::GET, "/api/v5/account/balance"));
        assert!(!denied(Method::GET, "/api/v5/asset/balances"));
        assert!(!denied(Method::GET, "/api/v5/asset/withdrawal-history"));
    }
}
