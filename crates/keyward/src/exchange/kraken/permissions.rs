//! Kraken documents no endpoint that reports a key's permissions or IP allow-list, so the
//! preflight only proves that the key and secret are accepted, with a cheap private read:
//! `POST /0/private/BalanceEx` (one unit of the call counter, like `Balance`, and the same
//! "Query Funds" permission a trading key has), answered
//! `{"error":[],"result":{"ZUSD":{"balance":"..","hold_trade":".."},..}}`; a refusal is
//! `{"error":["EAPI:Invalid key"]}`. `BalanceEx` rather than `Balance`: the same cost and
//! permission, and keyward's embedded exchange keeps answering `Balance` with the echo that its
//! signing tests read.
//! See <https://docs.kraken.com/api/docs/rest-api/get-extended-balance>.

use crate::exchange::{CredentialsProbe, KeyPermissions};
use serde_json::Value;

pub(super) const PROBE: CredentialsProbe = CredentialsProbe {
    method: http::Method::POST,
    path: "/0/private/BalanceEx",
    body: "",
    parse,
};

fn parse(body: &[u8], _api_key: &str) -> Option<KeyPermissions> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let no_errors = value.get("error")?.as_array()?.is_empty();
    (no_errors && value.get("result")?.is_object()).then(KeyPermissions::default)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_balance_reports_nothing_but_acceptance() {
        let body = br#"{"error":[],"result":{"ZUSD":{"balance":"25435.21","hold_trade":"8249.76"},
            "XXBT":{"balance":"1.2435","hold_trade":"0.8423"}}}"#;
        assert_eq!(parse(body, "k").unwrap(), KeyPermissions::default());
        assert!(parse(br#"{"error":["EAPI:Invalid key"]}"#, "k").is_none());
    }
}
