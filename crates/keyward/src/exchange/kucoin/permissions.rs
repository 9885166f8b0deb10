//! `GET /api/v1/user/api-key`: `permission` (comma-separated: `General`, `Spot`, `Margin`,
//! `Futures`, `InnerTransfer`, `Transfer`, `Withdrawal`, ...), `ipWhitelist` and `createdAt`.
//! KuCoin's `Transfer` right covers deposits and withdrawals, so it counts as both.
//! See <https://www.kucoin.com/docs-new/rest/account-info/account-funding/get-apikey-info>.

use crate::exchange::{KeyPermissions, KeyPermissionsEndpoint};
use serde_json::Value;

pub(super) const ENDPOINT: KeyPermissionsEndpoint = KeyPermissionsEndpoint {
    path: "/api/v1/user/api-key",
    parse,
};

fn parse(body: &[u8]) -> Option<KeyPermissions> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let data = value.get("data")?;
    let rights: Vec<String> = data
        .get("permission")?
        .as_str()?
        .split(',')
        .map(|right| right.trim().to_ascii_lowercase())
        .collect();
    let has = |name: &str| rights.iter().any(|right| right == name);
    // The allow-list comes as a comma-separated string; accept a list too.
    let ips: Vec<String> = match data.get("ipWhitelist") {
        Some(Value::String(text)) => text.split(',').map(str::trim).map(str::to_owned).collect(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    let ips: Vec<String> = ips.into_iter().filter(|ip| !ip.is_empty()).collect();
    Some(KeyPermissions {
        withdrawals: Some(has("withdrawal") || has("transfer")),
        transfers: Some(has("innertransfer") || has("transfer")),
        ip_restricted: Some(!ips.is_empty()),
        ips,
        created_at_unix_ms: data.get("createdAt").and_then(Value::as_u64),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_permission_whitelist_and_creation() {
        let body = br#"{"code":"200000","data":{"remark":"account1","apiKey":"6705f5c311545b000157d3eb",
            "apiVersion":3,"permission":"General,Futures,Spot,Earn,InnerTransfer,Transfer,Margin",
            "ipWhitelist":"203.0.113.7,198.51.100.2","isMaster":true,"createdAt":1728443843000}}"#;
        let permissions = parse(body).unwrap();
        assert_eq!(permissions.withdrawals, Some(true));
        assert_eq!(permissions.transfers, Some(true));
        assert_eq!(permissions.ip_restricted, Some(true));
        assert_eq!(permissions.ips, ["203.0.113.7", "198.51.100.2"]);
        assert_eq!(permissions.created_at_unix_ms, Some(1_728_443_843_000));
    }

    #[test]
    fn a_general_key_without_whitelist_is_unrestricted() {
        let body = br#"{"code":"200000","data":{"permission":"General,Spot","ipWhitelist":"","createdAt":1}}"#;
        let permissions = parse(body).unwrap();
        assert_eq!(permissions.withdrawals, Some(false));
        assert_eq!(permissions.transfers, Some(false));
        assert_eq!(permissions.ip_restricted, Some(false));
        assert!(parse(br#"{"code":"400003","msg":"KC-API-KEY not exists"}"#).is_none());
    }
}
