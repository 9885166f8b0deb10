//! Bybit v5 endpoints the least-privilege guard denies by default.
//!
//! Every write under `/v5/asset/withdraw/` and `/v5/asset/transfer/`, the deposit-routing
//! setting that sends deposits to another account, and every write under `/v5/user/`, which
//! creates, freezes and deletes sub-accounts and creates, changes and deletes API keys. Reads
//! (balances, withdrawal records, the key's own permissions) stay allowed: all of these are `GET`.

use crate::guard::{EndpointCategory::*, EndpointRule};

pub(crate) static DANGEROUS: &[EndpointRule] = &[
    // `create` and `cancel`; withdrawal reads are GETs.
    EndpointRule::new(Some("POST"), "/v5/asset/withdraw/", Withdrawal),
    // inter-transfer, universal-transfer, save-transfer-sub-member.
    EndpointRule::new(Some("POST"), "/v5/asset/transfer/", Transfer),
    EndpointRule::new(Some("POST"), "/v5/asset/deposit/deposit-to-account", Transfer),
    EndpointRule::new(Some("POST"), "/v5/user/create-sub-member", SubAccount),
    EndpointRule::new(Some("POST"), "/v5/user/frozen-sub-member", SubAccount),
    EndpointRule::new(Some("POST"), "/v5/user/del-submember", SubAccount),
    EndpointRule::new(Some("POST"), "/v5/user/create-sub-api", ApiKeyManagement),
    EndpointRule::new(Some("POST"), "/v5/user/update-sub-api", ApiKeyManagement),
    EndpointRule::new(Some("POST"), "/v5/user/delete-sub-api", ApiKeyManagement),
    EndpointRule::new(Some("POST"), "/v5/user/update-api", ApiKeyManagement),
    EndpointRule::new(Some("POST"), "/v5/user/delete-api", ApiKeyManagement),
    // Any other write in the user family (new sub-account or key endpoints) is denied too.
    EndpointRule::new(Some("POST"), "/v5/user/", ApiKeyManagement),
];

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn denied(method: Method, path: &str) -> Option<crate::guard::EndpointCategory> {
        DANGEROUS
            .iter()
            .find(|rule| rule.matches(&method, path))
            .map(|rule| rule.category)
    }

    #[test]
    fn withdrawals_transfers_sub_accounts_and_keys_are_denied() {
        assert_eq!(denied(Method::POST, "/v5/asset/withdraw/create"), Some(Withdrawal));
        assert_eq!(
            denied(Method::POST, "/v5/asset/transfer/universal-transfer"),
            Some(Transfer)
        );
        assert_eq!(denied(Method::POST, "/v5/user/create-sub-member"), Some(SubAccount));
        assert_eq!(denied(Method::POST, "/v5/user/create-sub-api"), Some(ApiKeyManagement));
        assert_eq!(denied(Method::POST, "/V5//user/update-api"), Some(ApiKeyManagement));
    }

    #[test]
    fn trading_and_reads_are_allowed() {
        assert_eq!(denied(Method::POST, "/v5/order/create"), None);
        assert_eq!(denied(Method::POST, "/v5/order/cancel"), None);
        assert_eq!(denied(Method::GET, "/v5/account/wallet-balance"), None);
        assert_eq!(denied(Method::GET, "/v5/asset/withdraw/query-record"), None);
        assert_eq!(denied(Method::GET, "/v5/user/query-api"), None);
    }
}
