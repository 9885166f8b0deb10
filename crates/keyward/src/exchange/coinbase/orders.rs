//! Coinbase Exchange's order placement: `POST /orders` with `client_oid` in the JSON body, which
//! must be a UUID. A UUID leaves no room for the `kw` prefix, so keyward sends a random
//! (version 4) UUID. See <https://docs.cdp.coinbase.com/exchange/reference/exchangerestapi_postorders>.

use crate::exchange::{OrderPlacement, ParamLocation};
use rand::Rng;

/// Where Coinbase Exchange takes orders.
pub(crate) const ORDER: OrderPlacement = OrderPlacement {
    method: "POST",
    path: "/orders",
    client_order_id: "client_oid",
    location: ParamLocation::Json,
    new_client_order_id,
};

/// A random UUID (RFC 9562 version 4), lower-case and hyphenated.
fn new_client_order_id() -> String {
    let mut bytes: [u8; 16] = rand::thread_rng().r#gen();
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // the RFC variant
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_version_4_uuids_and_do_not_repeat() {
        let ids: HashSet<String> = (0..2_000).map(|_| (ORDER.new_client_order_id)()).collect();
        assert_eq!(ids.len(), 2_000);
        for id in &ids {
            let groups: Vec<&str> = id.split('-').collect();
            assert_eq!(
                groups.iter().map(|group| group.len()).collect::<Vec<_>>(),
                [8, 4, 4, 4, 12],
                "{id}"
            );
            assert!(
                groups
                    .iter()
                    .all(|group| group.bytes().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f')))
            );
            assert!(groups[2].starts_with('4'), "version 4: {id}");
            assert!(
                matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
                "RFC variant: {id}"
            );
        }
    }

    #[test]
    fn the_order_endpoint_is_recognised() {
        assert!(ORDER.matches(&http::Method::POST, "/orders"));
        assert!(!ORDER.matches(&http::Method::GET, "/orders"));
        assert_eq!(
            (ORDER.client_order_id, ORDER.location),
            ("client_oid", ParamLocation::Json)
        );
    }
}
