//! `GET /sapi/v1/account/apiRestrictions` (USER_DATA): what the key may do.
//! See <https://developers.binance.com/docs/wallet/account/api-key-permission>.

use crate::exchange::{KeyPermissions, KeyPermissionsEndpoint};
use serde_json::Value;

pub(super) const ENDPOINT: KeyPermissionsEndpoint = KeyPermissionsEndpoint {
    path: "/sapi/v1/account/apiRestrictions",
    parse,
};

/// Reads `{"ipRestrict":false,"createTime":1698645219000,"enableWithdrawals":false,
/// "enableInternalTransfer":false,"permitsUniversalTransfer":false,...}`. Binance does not list
/// the allowed IPs here.
fn parse(body: &[u8]) -> Option<KeyPermissions> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let flag = |name: &str| value.get(name).and_then(Value::as_bool);
    let ip_restricted = flag("ipRestrict")?;
    // Either switch lets the key move funds between accounts.
    let transfers = match (flag("enableInternalTransfer"), flag("permitsUniversalTransfer")) {
        (None, None) => None,
        (internal, universal) => Some(internal.unwrap_or(false) || universal.unwrap_or(false)),
    };
    Some(KeyPermissions {
        withdrawals: flag("enableWithdrawals"),
        transfers,
        ip_restricted: Some(ip_restricted),
        ips: Vec::new(),
        created_at_unix_ms: value.get("createTime").and_then(Value::as_u64),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_example() {
        let body = br#"{"ipRestrict":false,"createTime":1698645219000,"enableReading":true,
            "enableWithdrawals":false,"enableInternalTransfer":false,"enableMargin":false,
            "enableFutures":false,"permitsUniversalTransfer":false,"enableVanillaOptions":false,
            "enableFixApiTrade":false,"enableFixReadOnly":true,"enableSpotAndMarginTrading":false,
            "enablePortfolioMarginTrading":true}"#;
        let permissions = parse(body).unwrap();
        assert_eq!(permissions.ip_restricted, Some(false));
        assert_eq!(permissions.withdrawals, Some(false));
        assert_eq!(permissions.transfers, Some(false));
        assert_eq!(permissions.created_at_unix_ms, Some(1_698_645_219_000));
    }

    #[test]
    fn universal_transfer_counts_as_a_transfer_permission() {
        let body = br#"{"ipRestrict":true,"enableWithdrawals":true,"enableInternalTransfer":false,"permitsUniversalTransfer":true}"#;
        let permissions = parse(body).unwrap();
        assert_eq!(permissions.withdrawals, Some(true));
        assert_eq!(permissions.transfers, Some(true));
        assert_eq!(permissions.created_at_unix_ms, None);
    }

    #[test]
    fn refuses_an_answer_without_the_restriction_flag() {
        assert!(parse(br#"{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}"#).is_none());
        assert!(parse(b"<html>").is_none());
    }
}
