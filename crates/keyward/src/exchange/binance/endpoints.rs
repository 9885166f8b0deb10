//! Binance endpoints the least-privilege guard denies by default.
//!
//! Withdrawals and the endpoints that change withdrawal behaviour, every transfer between
//! wallets or accounts, the sub-account, managed sub-account and broker families (which create
//! sub-accounts, move funds between them and manage their API keys), and gift cards (a code that
//! carries funds out of the account). Reads of balances, deposit addresses and withdrawal history,
//! and order placement, stay allowed.

use crate::guard::{EndpointCategory::*, EndpointRule};

pub(crate) static DANGEROUS: &[EndpointRule] = &[
    // Withdrawals.
    EndpointRule::new(Some("POST"), "/sapi/v1/capital/withdraw/apply", Withdrawal),
    EndpointRule::new(Some("POST"), "/sapi/v1/localentity/withdraw/apply", Withdrawal),
    EndpointRule::new(Some("POST"), "/sapi/v1/localentity/broker/withdraw/apply", Withdrawal),
    EndpointRule::new(Some("POST"), "/sapi/v1/account/enableFastWithdrawSwitch", Withdrawal),
    EndpointRule::new(Some("POST"), "/sapi/v1/account/disableFastWithdrawSwitch", Withdrawal),
    EndpointRule::new(Some("POST"), "/sapi/v1/giftcard/createCode", Withdrawal),
    EndpointRule::new(Some("POST"), "/sapi/v1/giftcard/buyCode", Withdrawal),
    // Transfers between the account's own wallets.
    EndpointRule::new(Some("POST"), "/sapi/v1/asset/transfer", Transfer),
    EndpointRule::new(Some("POST"), "/sapi/v1/futures/transfer", Transfer),
    EndpointRule::new(Some("POST"), "/sapi/v1/margin/transfer", Transfer),
    EndpointRule::new(Some("POST"), "/sapi/v1/margin/isolated/transfer", Transfer),
    EndpointRule::new(Some("POST"), "/sapi/v1/portfolio/auto-collection", Transfer),
    EndpointRule::new(Some("POST"), "/sapi/v1/portfolio/asset-collection", Transfer),
    EndpointRule::new(Some("POST"), "/sapi/v1/portfolio/bnb-transfer", Transfer),
    EndpointRule::new(Some("POST"), "/papi/v1/auto-collection", Transfer),
    EndpointRule::new(Some("POST"), "/papi/v1/asset-collection", Transfer),
    EndpointRule::new(Some("POST"), "/papi/v1/bnb-transfer", Transfer),
    // Sub-accounts: creation, transfers to and from them, their API keys and IP lists.
    EndpointRule::new(None, "/sapi/v1/sub-account/", SubAccount),
    EndpointRule::new(None, "/sapi/v2/sub-account/", SubAccount),
    EndpointRule::new(None, "/sapi/v3/sub-account/", SubAccount),
    EndpointRule::new(None, "/sapi/v4/sub-account/", SubAccount),
    EndpointRule::new(None, "/sapi/v1/managed-subaccount/", SubAccount),
    // Broker accounts create sub-accounts and their API keys, and move funds between them.
    EndpointRule::new(None, "/sapi/v1/broker/", ApiKeyManagement),
    EndpointRule::new(None, "/sapi/v2/broker/", ApiKeyManagement),
    EndpointRule::new(None, "/sapi/v3/broker/", ApiKeyManagement),
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
        assert!(denied(Method::POST, "/sapi/v1/capital/withdraw/apply"));
        assert!(denied(Method::POST, "/SAPI//v1/capital/withdraw/apply"));
        assert!(denied(Method::POST, "/sapi/v1/asset/transfer"));
        assert!(denied(Method::POST, "/sapi/v1/sub-account/universalTransfer"));
        assert!(denied(Method::POST, "/sapi/v2/sub-account/subAccountApi/ipRestriction"));
        assert!(denied(Method::POST, "/sapi/v1/giftcard/createCode"));
    }

    #[test]
    fn trading_and_balance_reads_are_allowed() {
        assert!(!denied(Method::POST, "/api/v3/order"));
        assert!(!denied(Method::DELETE, "/api/v3/order"));
        assert!(!denied(Method::GET, "/api/v3/account"));
        assert!(!denied(Method::POST, "/fapi/v1/order"));
        assert!(!denied(Method::GET, "/sapi/v1/capital/config/getall"));
        assert!(!denied(Method::GET, "/sapi/v1/asset/transfer"));
        assert!(!denied(Method::GET, "/sapi/v1/capital/withdraw/history"));
    }
}
