//! Coinbase Exchange documents no endpoint that reports a key's permissions (View, Trade,
//! Transfer) or its IP allow-list: Advanced Trade's `GET /api/v3/brokerage/key_permissions`
//! belongs to another API, on another host, authenticated with CDP JWTs, not with the
//! `CB-ACCESS-*` HMAC keys this integration signs for. So the preflight only proves that the key,
//! secret and passphrase are accepted, with a cheap private read: `GET /profiles?active=true`,
//! which any key with the View permission may call and which answers a JSON array of profiles
//! (`id`, `user_id`, `name`, `active`, `is_default`, `created_at`, ...).
//! See <https://docs.cdp.coinbase.com/exchange/reference/exchangerestapi_getprofiles>.

use crate::exchange::{CredentialsProbe, KeyPermissions};
use serde_json::Value;

pub(super) const PROBE: CredentialsProbe = CredentialsProbe {
    method: http::Method::GET,
    path: "/profiles?active=true",
    body: "",
    parse,
};

fn parse(body: &[u8], _api_key: &str) -> Option<KeyPermissions> {
    serde_json::from_slice::<Value>(body)
        .ok()?
        .as_array()
        .map(|_| KeyPermissions::default())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_list_reports_nothing_but_acceptance() {
        let body = br#"[{"id":"86602c68-306a-4500-ac73-4ce56a91d83c","user_id":"5cf6e115aaf44503db300f1e",
            "name":"default","active":true,"is_default":true,"created_at":"2019-11-18T15:08:40.236309Z"}]"#;
        assert_eq!(parse(body, "k").unwrap(), KeyPermissions::default());
        assert!(parse(br#"{"message":"invalid signature"}"#, "k").is_none());
    }
}
