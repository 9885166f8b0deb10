//! Bybit's order placement: `POST /v5/order/create` with `orderLinkId` in the JSON body: up to
//! 36 characters of letters, digits, `-` and `_`.
//! See <https://bybit-exchange.github.io/docs/v5/order/create-order>.

use crate::exchange::{OrderPlacement, ParamLocation, order::alphanumeric_client_order_id};

/// Where Bybit takes orders.
pub(crate) const ORDER: OrderPlacement = OrderPlacement {
    method: "POST",
    path: "/v5/order/create",
    client_order_id: "orderLinkId",
    location: ParamLocation::Json,
    new_client_order_id,
};

/// `kw` and 30 letters and digits: 32 characters, under Bybit's 36.
fn new_client_order_id() -> String {
    alphanumeric_client_order_id("kw", 30)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_match_bybit_format_and_do_not_repeat() {
        let ids: HashSet<String> = (0..2_000).map(|_| (ORDER.new_client_order_id)()).collect();
        assert_eq!(ids.len(), 2_000);
        for id in &ids {
            assert!(id.len() <= 36 && id.len() == 32, "{id}");
            assert!(id.starts_with("kw"));
            assert!(id.bytes().all(|byte| byte.is_ascii_alphanumeric()), "{id}");
        }
    }

    #[test]
    fn the_order_endpoint_is_recognised() {
        assert!(ORDER.matches(&http::Method::POST, "/v5/order/create"));
        assert!(!ORDER.matches(&http::Method::POST, "/v5/order/amend"));
        assert_eq!(
            (ORDER.client_order_id, ORDER.location),
            ("orderLinkId", ParamLocation::Json)
        );
    }
}
