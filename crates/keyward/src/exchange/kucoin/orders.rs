//! KuCoin's order placement: `POST /api/v1/orders` with `clientOid` in the JSON body.
//!
//! KuCoin asks for a unique id "such as a UUID" (the size of a UUID, 128 bits, in its older
//! documentation; at most 40 letters, digits, `_` and `-` in its newer one). keyward sends `kw`
//! and 30 letters and digits: 32 characters, the length of a UUID without hyphens, which fits
//! both. See <https://www.kucoin.com/docs/rest/spot-trading/orders/place-order>.

use crate::exchange::{OrderPlacement, ParamLocation, order::alphanumeric_client_order_id};

/// Where KuCoin takes spot orders.
pub(crate) const ORDER: OrderPlacement = OrderPlacement {
    method: "POST",
    path: "/api/v1/orders",
    client_order_id: "clientOid",
    location: ParamLocation::Json,
    new_client_order_id,
};

/// `kw` and 30 letters and digits.
fn new_client_order_id() -> String {
    alphanumeric_client_order_id("kw", 30)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_match_kucoin_format_and_do_not_repeat() {
        let ids: HashSet<String> = (0..2_000).map(|_| (ORDER.new_client_order_id)()).collect();
        assert_eq!(ids.len(), 2_000);
        for id in &ids {
            assert_eq!(id.len(), 32, "{id}");
            assert!(id.starts_with("kw"));
            assert!(id.bytes().all(|byte| byte.is_ascii_alphanumeric()), "{id}");
        }
    }

    #[test]
    fn the_order_endpoint_is_recognised() {
        assert!(ORDER.matches(&http::Method::POST, "/api/v1/orders"));
        assert!(!ORDER.matches(&http::Method::GET, "/api/v1/orders"));
        assert_eq!(
            (ORDER.client_order_id, ORDER.location),
            ("clientOid", ParamLocation::Json)
        );
    }
}
