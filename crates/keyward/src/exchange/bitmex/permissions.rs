//! `GET /api/v1/apiKey` ("Get your API Keys"): every key of the account, each with its `id` (the
//! public key), `permissions` (`order`, `orderCancel`, `withdraw`) and `cidr` (`0.0.0.0/0` when
//! the key is usable from anywhere; newer answers also list `cidrs`). The key in question is the
//! one whose `id` is ours, so the answer is read with the key: hence a [`CredentialsProbe`] rather
//! than a key-permissions endpoint. BitMEX has no transfer right apart from `withdraw`; `created`
//! is an RFC 3339 time, read as Bybit's `createdAt` is.
//! See <https://www.bitmex.com/api/explorer/#!/APIKey/APIKey_get>.

use crate::exchange::{CredentialsProbe, KeyPermissions};
use serde_json::Value;

pub(super) const PROBE: CredentialsProbe = CredentialsProbe {
    method: http::Method::GET,
    path: "/api/v1/apiKey",
    body: "",
    parse,
};

/// CIDRs that let any address through.
const ANYWHERE: [&str; 2] = ["0.0.0.0/0", "::/0"];

fn parse(body: &[u8], api_key: &str) -> Option<KeyPermissions> {
    let keys: Vec<Value> = serde_json::from_slice(body).ok()?;
    let key = keys
        .iter()
        .find(|key| key.get("id").and_then(Value::as_str) == Some(api_key))?;
    let rights = key.get("permissions")?.as_array()?;
    let cidrs: Vec<String> = match key.get("cidrs").and_then(Value::as_array) {
        Some(cidrs) => cidrs.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        None => key
            .get("cidr")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .into_iter()
            .collect(),
    };
    let cidrs: Vec<String> = cidrs.into_iter().filter(|cidr| !cidr.is_empty()).collect();
    let anywhere = cidrs.is_empty() || cidrs.iter().any(|cidr| ANYWHERE.contains(&cidr.as_str()));
    Some(KeyPermissions {
        withdrawals: Some(rights.iter().any(|right| right.as_str() == Some("withdraw"))),
        transfers: None,
        ip_restricted: Some(!anywhere),
        ips: if anywhere { Vec::new() } else { cidrs },
        created_at_unix_ms: key
            .get("created")
            .and_then(Value::as_str)
            .and_then(crate::exchange::bybit::permissions::parse_rfc3339_utc),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const TWO_KEYS: &[u8] = br#"[
        {"id":"test-only-key-aaaa","name":"bot","nonce":0,"cidr":"203.0.113.7/32","permissions":["order","orderCancel"],
         "enabled":true,"userId":1,"created":"2024-03-06T19:20:03.242Z"},
        {"id":"test-only-key-bbbb","name":"ops","nonce":0,"cidr":"0.0.0.0/0","permissions":["order","withdraw"],
         "enabled":true,"userId":1,"created":"2024-03-06T19:20:03.242Z"}]"#;

    #[test]
    fn reads_the_key_in_question_among_the_accounts_keys() {
        let bot = parse(TWO_KEYS, "test-only-key-aaaa").unwrap();
        assert_eq!(bot.withdrawals, Some(false));
        assert_eq!(bot.ip_restricted, Some(true));
        assert_eq!(bot.ips, ["203.0.113.7/32"]);
        assert_eq!(bot.created_at_unix_ms, Some(1_709_752_803_000));

        let ops = parse(TWO_KEYS, "test-only-key-bbbb").unwrap();
        assert_eq!(ops.withdrawals, Some(true));
        assert_eq!(ops.ip_restricted, Some(false));
        assert!(ops.ips.is_empty());
    }

    #[test]
    fn refuses_an_answer_that_does_not_list_the_key() {
        assert!(parse(TWO_KEYS, "test-only-key-cccc").is_none());
        assert!(parse(br#"{"error":{"message":"Invalid API Key.","name":"HTTPError"}}"#, "k").is_none());
    }
}
