//! What the mock reports about a key: its permissions, IP allow-list and creation time, at the
//! endpoints where Binance, Bybit, OKX, KuCoin and BitMEX report them (Gate: the IP allow-list
//! only), in each exchange's own shape; and an IP echo endpoint, `GET /ip`, that answers like
//! api.ipify.org's JSON format. Coinbase Exchange and Kraken report nothing about a key.
//!
//! Every key has [`MockKeyPermissions::default`] (no withdrawals, no transfers, allowed from
//! 127.0.0.1 only) unless [`Builder::key_permissions`] says otherwise.

use crate::{Builder, reply::Reply, state::State, wire::WireRequest};
use serde_json::{Value, json};

/// The permissions the mock reports for one key.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use keyward_mock::{MockCredentials, MockExchange, MockKeyPermissions};
///
/// let risky = MockKeyPermissions { withdrawals: true, ips: Vec::new(), ..MockKeyPermissions::default() };
/// let mock = MockExchange::builder("binance")?
///     .credentials(MockCredentials::new("test-only-key-0001", "test-only-secret"))
///     .key_permissions("test-only-key-0001", risky)
///     .start()
///     .await?;
/// let echo: serde_json::Value = reqwest::get(format!("{}/ip", mock.base_url())).await?.json().await?;
/// assert_eq!(echo["ip"], "127.0.0.1");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockKeyPermissions {
    /// Whether the key may withdraw.
    pub withdrawals: bool,
    /// Whether the key may transfer between accounts (Binance internal transfer, Bybit account
    /// transfer, KuCoin inner transfer; OKX does not report it).
    pub transfers: bool,
    /// The IP addresses the key is restricted to; empty: usable from any IP.
    pub ips: Vec<String>,
    /// When the key was created (Unix milliseconds); `None`: when the mock answers.
    pub created_at_ms: Option<i64>,
}

impl Default for MockKeyPermissions {
    fn default() -> Self {
        Self {
            withdrawals: false,
            transfers: false,
            ips: vec!["127.0.0.1".to_owned()],
            created_at_ms: None,
        }
    }
}

impl Builder {
    /// Reports `permissions` for the key `api_key` at the exchange's key-permission endpoint
    /// (Binance, Bybit, OKX, KuCoin, BitMEX; Gate only its IPs). Keys not named here report the
    /// default.
    pub fn key_permissions(mut self, api_key: impl Into<String>, permissions: MockKeyPermissions) -> Self {
        self.key_permissions.insert(api_key.into(), permissions);
        self
    }
}

/// The IP echo endpoint every mock serves: the caller is always on 127.0.0.1.
pub(crate) fn ip_echo(request: &WireRequest) -> Option<Reply> {
    (request.method == http::Method::GET && request.path == "/ip").then(|| Reply::ok(json!({"ip": "127.0.0.1"})))
}

fn permissions_of(state: &State, api_key: Option<&str>) -> MockKeyPermissions {
    api_key
        .and_then(|key| state.key_permissions.get(key).cloned())
        .unwrap_or_default()
}

fn created_at(state: &State, permissions: &MockKeyPermissions) -> i64 {
    permissions.created_at_ms.unwrap_or_else(|| state.clock.now_ms())
}

/// Binance `GET /sapi/v1/account/apiRestrictions`, for an authenticated request.
pub(crate) fn binance(state: &State, request: &WireRequest) -> Option<Reply> {
    if request.path != "/sapi/v1/account/apiRestrictions" {
        return None;
    }
    let permissions = permissions_of(state, request.header("x-mbx-apikey"));
    Some(Reply::ok(json!({
        "ipRestrict": !permissions.ips.is_empty(),
        "createTime": created_at(state, &permissions),
        "enableReading": true,
        "enableWithdrawals": permissions.withdrawals,
        "enableInternalTransfer": permissions.transfers,
        "enableMargin": false,
        "enableFutures": false,
        "permitsUniversalTransfer": permissions.transfers,
        "enableVanillaOptions": false,
        "enableFixApiTrade": false,
        "enableFixReadOnly": false,
        "enableSpotAndMarginTrading": true,
        "enablePortfolioMarginTrading": false,
    })))
}

/// Bybit `GET /v5/user/query-api`: the `result` of its envelope.
pub(crate) fn bybit(state: &State, request: &WireRequest) -> Option<Value> {
    if request.path != "/v5/user/query-api" {
        return None;
    }
    let permissions = permissions_of(state, request.header("x-bapi-api-key"));
    let mut wallet = Vec::new();
    if permissions.transfers {
        wallet.push("AccountTransfer");
        wallet.push("SubMemberTransfer");
    }
    if permissions.withdrawals {
        wallet.push("Withdraw");
    }
    let ips = if permissions.ips.is_empty() {
        vec!["*".to_owned()]
    } else {
        permissions.ips.clone()
    };
    Some(json!({
        "id": "1",
        "note": "",
        "apiKey": request.header("x-bapi-api-key").unwrap_or_default(),
        "readOnly": 0,
        "secret": "",
        "permissions": {
            "ContractTrade": ["Order", "Position"],
            "Spot": ["SpotTrade"],
            "Wallet": wallet,
            "Options": [],
            "Derivatives": [],
            "Exchange": [],
            "Earn": [],
            "NFT": [],
        },
        "ips": ips,
        "type": 1,
        "deadlineDay": -1,
        "expiredAt": "",
        "createdAt": rfc3339_seconds(created_at(state, &permissions)),
        "unified": 0,
        "uta": 1,
        "userID": 1,
        "inviterID": 0,
        "vipLevel": "No VIP",
        "mktMakerLevel": "0",
        "affiliateID": 0,
        "rsaPublicKey": "",
        "isMaster": true,
        "parentUid": "0",
    }))
}

/// OKX `GET /api/v5/account/config`: the one element of its `data`.
pub(crate) fn okx(state: &State, request: &WireRequest) -> Option<Value> {
    if request.path != "/api/v5/account/config" {
        return None;
    }
    let permissions = permissions_of(state, request.header("ok-access-key"));
    let mut perm = vec!["read_only", "trade"];
    if permissions.withdrawals {
        perm.push("withdraw");
    }
    Some(json!({
        "uid": "44705892343619584",
        "mainUid": "44705892343619584",
        "acctLv": "2",
        "posMode": "long_short_mode",
        "autoLoan": false,
        "greeksType": "PA",
        "level": "Lv1",
        "levelTmp": "",
        "ctIsoMode": "automatic",
        "mgnIsoMode": "automatic",
        "roleType": "0",
        "spotRoleType": "0",
        "opAuth": "0",
        "kycLv": "3",
        "label": "keyward-mock",
        "ip": permissions.ips.join(","),
        "perm": perm.join(","),
    }))
}

/// KuCoin `GET /api/v1/user/api-key`: its `data`.
pub(crate) fn kucoin(state: &State, request: &WireRequest) -> Option<Value> {
    if request.path != "/api/v1/user/api-key" {
        return None;
    }
    let permissions = permissions_of(state, request.header("kc-api-key"));
    let mut permission = vec!["General", "Spot"];
    if permissions.withdrawals {
        permission.push("Withdrawal");
    }
    if permissions.transfers {
        permission.push("InnerTransfer");
    }
    Some(json!({
        "remark": "keyward-mock",
        "apiKey": request.header("kc-api-key").unwrap_or_default(),
        "apiVersion": 3,
        "permission": permission.join(","),
        "ipWhitelist": permissions.ips.join(","),
        "isMaster": true,
        "uid": 1,
        "createdAt": created_at(state, &permissions),
    }))
}

/// BitMEX `GET /api/v1/apiKey`: the keys of the account, here the calling key alone, without its
/// secret. `cidr` is `0.0.0.0/0` for a key usable from anywhere.
pub(crate) fn bitmex(state: &State, request: &WireRequest) -> Option<Value> {
    if request.method != http::Method::GET || request.path != "/api/v1/apiKey" {
        return None;
    }
    let api_key = request.header("api-key").unwrap_or_default();
    let permissions = permissions_of(state, Some(api_key));
    let mut rights = vec!["order", "orderCancel"];
    if permissions.withdrawals {
        rights.push("withdraw");
    }
    let cidrs: Vec<String> = if permissions.ips.is_empty() {
        vec!["0.0.0.0/0".to_owned()]
    } else {
        permissions.ips.iter().map(|ip| format!("{ip}/32")).collect()
    };
    Some(json!([{
        "id": api_key,
        "name": "keyward-mock",
        "nonce": 0,
        "cidr": cidrs[0],
        "cidrs": cidrs,
        "permissions": rights,
        "enabled": true,
        "userId": 1,
        "created": rfc3339_millis(created_at(state, &permissions)),
    }]))
}

/// Gate `GET /api/v4/account/detail`: the account, and the calling key's IP allow-list and mode.
pub(crate) fn gate(state: &State, request: &WireRequest) -> Option<Value> {
    if request.method != http::Method::GET || request.path != "/api/v4/account/detail" {
        return None;
    }
    let permissions = permissions_of(state, request.header("KEY"));
    Some(json!({
        "user_id": 1_667_201_533,
        "ip_whitelist": permissions.ips,
        "currency_pairs": [],
        "key": {"mode": 1},
        "tier": 0,
        "copy_trading_role": 0,
    }))
}

/// `2022-03-06T19:20:03.242Z`, as BitMEX reports `created`.
fn rfc3339_millis(unix_ms: i64) -> String {
    let seconds = rfc3339_seconds(unix_ms);
    let seconds = seconds.trim_end_matches('Z');
    format!("{seconds}.{:03}Z", unix_ms.rem_euclid(1000))
}

/// `2022-12-13T15:08:33Z`, as Bybit reports `createdAt`.
fn rfc3339_seconds(unix_ms: i64) -> String {
    let seconds = unix_ms.div_euclid(1000);
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil conversion.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_bybit_creation_times() {
        assert_eq!(rfc3339_seconds(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_seconds(1_670_944_113_000), "2022-12-13T15:08:33Z");
        assert_eq!(rfc3339_seconds(951_782_400_000), "2000-02-29T00:00:00Z");
    }
}
