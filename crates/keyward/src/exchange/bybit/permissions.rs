//! `GET /v5/user/query-api`: the key's permissions, bound IPs and creation day.
//! See <https://bybit-exchange.github.io/docs/v5/user/apikey-info>.

use crate::exchange::{KeyPermissions, KeyPermissionsEndpoint};
use serde_json::Value;

pub(super) const ENDPOINT: KeyPermissionsEndpoint = KeyPermissionsEndpoint {
    path: "/v5/user/query-api",
    parse,
};

/// The `Wallet` permissions that move funds between accounts.
const TRANSFER_PERMISSIONS: &[&str] = &["AccountTransfer", "SubMemberTransfer", "SubMemberTransferList"];

/// Reads `{"retCode":0,"result":{"permissions":{"Wallet":["AccountTransfer","Withdraw"],...},
/// "ips":["*"],"createdAt":"2022-12-13T15:08:33Z",...}}`; `ips` of `["*"]` means any IP.
fn parse(body: &[u8]) -> Option<KeyPermissions> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let result = value.get("result")?;
    let wallet: Vec<&str> = result
        .get("permissions")?
        .get("Wallet")
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let ips: Vec<String> = result
        .get("ips")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .map(str::trim)
        .filter(|ip| !ip.is_empty() && *ip != "*")
        .map(str::to_owned)
        .collect();
    Some(KeyPermissions {
        withdrawals: Some(wallet.contains(&"Withdraw")),
        transfers: Some(
            wallet
                .iter()
                .any(|permission| TRANSFER_PERMISSIONS.contains(permission)),
        ),
        ip_restricted: Some(!ips.is_empty()),
        ips,
        created_at_unix_ms: result
            .get("createdAt")
            .and_then(Value::as_str)
            .and_then(parse_rfc3339_utc),
    })
}

/// `2022-12-13T15:08:33Z` (optionally with a fraction) to Unix milliseconds.
pub(in crate::exchange) fn parse_rfc3339_utc(text: &str) -> Option<u64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut date_parts = date.splitn(3, '-').map(|part| part.parse::<i64>().ok());
    let (year, month, day) = (date_parts.next()??, date_parts.next()??, date_parts.next()??);
    let time = time.split_once('.').map_or(time, |(whole, _)| whole);
    let mut time_parts = time.splitn(3, ':').map(|part| part.parse::<i64>().ok());
    let (hour, minute, second) = (time_parts.next()??, time_parts.next()??, time_parts.next()??);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Howard Hinnant's days-from-civil conversion.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    u64::try_from(seconds).ok()?.checked_mul(1000)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_unrestricted_key_with_wallet_rights() {
        let body = br#"{"retCode":0,"retMsg":"","result":{"id":"13770661","note":"example",
            "apiKey":"XXXXXX","readOnly":0,"secret":"","permissions":{"ContractTrade":["Order","Position"],
            "Spot":["SpotTrade"],"Wallet":["AccountTransfer","SubMemberTransfer","Withdraw"]},
            "ips":["*"],"type":1,"deadlineDay":83,"expiredAt":"2023-03-07T03:32:10Z",
            "createdAt":"2022-12-13T15:08:33Z"},"retExtInfo":{},"time":1670941950341}"#;
        let permissions = parse(body).unwrap();
        assert_eq!(permissions.withdrawals, Some(true));
        assert_eq!(permissions.transfers, Some(true));
        assert_eq!(permissions.ip_restricted, Some(false));
        assert!(permissions.ips.is_empty());
        assert_eq!(permissions.created_at_unix_ms, Some(1_670_944_113_000));
    }

    #[test]
    fn reads_a_restricted_trading_key() {
        let body =
            br#"{"retCode":0,"result":{"permissions":{"Spot":["SpotTrade"],"Wallet":[]},"ips":["203.0.113.7"]}}"#;
        let permissions = parse(body).unwrap();
        assert_eq!(permissions.withdrawals, Some(false));
        assert_eq!(permissions.transfers, Some(false));
        assert_eq!(permissions.ip_restricted, Some(true));
        assert_eq!(permissions.ips, ["203.0.113.7"]);
    }

    #[test]
    fn reads_dates_strictly() {
        assert_eq!(parse_rfc3339_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339_utc("2000-03-01T00:00:00.5Z"), Some(951_868_800_000));
        assert_eq!(parse_rfc3339_utc("2000-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339_utc("2000-01-01 00:00:00"), None);
        assert!(parse(br#"{"retCode":10003,"retMsg":"API key is invalid.","result":{}}"#).is_none());
    }
}
