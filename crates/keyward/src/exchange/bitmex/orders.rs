//! BitMEX's order placement: `POST /api/v1/order` with `clOrdID` in the JSON body.
//!
//! BitMEX documents no format for `clOrdID` beyond a string that comes back on the order and its
//! executions; keyward keeps to letters and digits and to the 32 characters of BitMEX's own
//! signing example (`mm_bitmex_1a/oemUeQ4CAJZgP3fjHsA`), well under the 36 of a UUID.
//! See <https://www.bitmex.com/api/explorer/#!/Order/Order_new>.

use crate::exchange::{OrderPlacement, ParamLocation, order::alphanumeric_client_order_id};

/// Where BitMEX takes orders.
pub(crate) const ORDER: OrderPlacement = OrderPlacement {
    method: "POST",
    path: "/api/v1/order",
    client_order_id: "clOrdID",
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
    fn ids_are_32_letters_and_digits_and_do_not_repeat() {
        let ids: HashSet<String> = (0..2_000).map(|_| (ORDER.new_client_order_id)()).collect();
        assert_eq!(ids.len(), 2_000);
        for id in &ids {
            assert_eq!(id.len(), "mm_bitmex_1a/oemUeQ4CAJZgP3fjHsA".len(), "{id}");
            assert!(id.starts_with("kw"));
            assert!(id.bytes().all(|byte| byte.is_ascii_alphanumeric()), "{id}");
        }
    }

    #[test]
    fn the_order_endpoint_is_recognised() {
        assert!(ORDER.matches(&http::Method::POST, "/api/v1/order"));
        assert!(!ORDER.matches(&http::Method::PUT, "/api/v1/order"));
        assert_eq!(
            (ORDER.client_order_id, ORDER.location),
            ("clOrdID", ParamLocation::Json)
        );
    }
}
