//! OKX's order placement: `POST /api/v5/trade/order` with `clOrdId` in the JSON body: up to 32
//! case-sensitive letters and digits.
//! See <https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-order>.

use crate::exchange::{OrderPlacement, ParamLocation, order::alphanumeric_client_order_id};

/// Where OKX takes orders.
pub(crate) const ORDER: OrderPlacement = OrderPlacement {
    method: "POST",
    path: "/api/v5/trade/order",
    client_order_id: "clOrdId",
    location: ParamLocation::Json,
    new_client_order_id,
};

/// `kw` and 30 letters and digits: OKX's full 32 characters.
fn new_client_order_id() -> String {
    alphanumeric_client_order_id("kw", 30)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_match_okx_format_and_do_not_repeat() {
        let ids: HashSet<String> = (0..2_000).map(|_| (ORDER.new_client_order_id)()).collect();
        assert_eq!(ids.len(), 2_000);
        for id in &ids {
            assert_eq!(id.len(), 32, "{id}");
            assert!(id.starts_with("kw"));
            assert!(id.bytes().all(|byte| byte.is_ascii_alphanumeric()), "{id}");
        }
        // OKX ids are case-sensitive: the whole alphabet is used, for the most randomness.
        let random: Vec<u8> = ids.iter().flat_map(|id| id.bytes().skip(2)).collect();
        assert!(random.iter().any(u8::is_ascii_uppercase));
        assert!(random.iter().any(u8::is_ascii_lowercase));
        assert!(random.iter().any(u8::is_ascii_digit));
    }

    #[test]
    fn the_order_endpoint_is_recognised() {
        assert!(ORDER.matches(&http::Method::POST, "/api/v5/trade/order"));
        assert!(!ORDER.matches(&http::Method::GET, "/api/v5/trade/order"));
        assert_eq!(
            (ORDER.client_order_id, ORDER.location),
            ("clOrdId", ParamLocation::Json)
        );
    }
}
