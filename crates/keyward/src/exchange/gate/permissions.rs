//! `GET /api/v4/account/detail`: the account's `user_id`, the key's `ip_whitelist` (empty when
//! the key is usable from anywhere), `currency_pairs` and `key.mode`. Gate reports no withdrawal
//! or transfer right and no creation time here, so those stay unknown; the signed request still
//! proves that the key and secret are accepted.
//! See <https://www.gate.io/docs/developers/apiv4/en/#get-account-detail>.

use crate::exchange::{CredentialsProbe, KeyPermissions};
use serde_json::Value;

pub(super) const PROBE: CredentialsProbe = CredentialsProbe {
    method: http::Method::GET,
    path: "/api/v4/account/detail",
    body: "",
    parse,
};

fn parse(body: &[u8], _api_key: &str) -> Option<KeyPermissions> {
    let value: Value = serde_json::from_slice(body).ok()?;
    value.get("user_id")?;
    let ips: Vec<String> = value
        .get("ip_whitelist")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .map(str::trim)
        .filter(|ip| !ip.is_empty())
        .map(str::to_owned)
        .collect();
    Some(KeyPermissions {
        ip_restricted: Some(!ips.is_empty()),
        ips,
        ..KeyPermissions::default()
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_ip_whitelist_and_nothing_more() {
        let body = br#"{"user_id":1667201533,"ip_whitelist":["127.0.0.1"],"currency_pairs":["USDT_BTC"],
            "key":{"mode":1},"tier":2,"copy_trading_role":1}"#;
        let permissions = parse(body, "k").unwrap();
        assert_eq!(permissions.ip_restricted, Some(true));
        assert_eq!(permissions.ips, ["127.0.0.1"]);
        assert_eq!(permissions.withdrawals, None);
        assert_eq!(permissions.transfers, None);

        let open = parse(
            br#"{"user_id":1,"ip_whitelist":[],"currency_pairs":[],"key":{"mode":1}}"#,
            "k",
        )
        .unwrap();
        assert_eq!(open.ip_restricted, Some(false));
        assert!(parse(br#"{"label":"INVALID_SIGNATURE","message":"Signature mismatch"}"#, "k").is_none());
    }
}
