//! `GET /api/v5/account/config`: `perm` (`read_only,trade,withdraw`) and `ip` (the bound IPs,
//! comma-separated, empty when the key is not bound). OKX reports no creation time, and no
//! transfer right apart from `withdraw`.
//! See <https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-account-configuration>.

use crate::exchange::{KeyPermissions, KeyPermissionsEndpoint};
use serde_json::Value;

pub(super) const ENDPOINT: KeyPermissionsEndpoint = KeyPermissionsEndpoint {
    path: "/api/v5/account/config",
    parse,
};

fn parse(body: &[u8]) -> Option<KeyPermissions> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let config = value.get("data")?.as_array()?.first()?;
    let perm = config.get("perm")?.as_str()?;
    let ips: Vec<String> = config
        .get("ip")?
        .as_str()?
        .split(',')
        .map(str::trim)
        .filter(|ip| !ip.is_empty())
        .map(str::to_owned)
        .collect();
    Some(KeyPermissions {
        withdrawals: Some(perm.split(',').any(|p| p.trim() == "withdraw")),
        transfers: None,
        ip_restricted: Some(!ips.is_empty()),
        ips,
        created_at_unix_ms: None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_perm_and_ip() {
        let body = br#"{"code":"0","msg":"","data":[{"uid":"44705892343619584","acctLv":"2",
            "perm":"read_only,withdraw,trade","ip":"","label":"v5 test"}]}"#;
        let permissions = parse(body).unwrap();
        assert_eq!(permissions.withdrawals, Some(true));
        assert_eq!(permissions.transfers, None);
        assert_eq!(permissions.ip_restricted, Some(false));

        let body = br#"{"code":"0","data":[{"perm":"read_only,trade","ip":"203.0.113.7, 198.51.100.2"}]}"#;
        let permissions = parse(body).unwrap();
        assert_eq!(permissions.withdrawals, Some(false));
        assert_eq!(permissions.ips, ["203.0.113.7", "198.51.100.2"]);
        assert!(parse(br#"{"code":"50111","msg":"Invalid OK-ACCESS-KEY","data":[]}"#).is_none());
    }
}
