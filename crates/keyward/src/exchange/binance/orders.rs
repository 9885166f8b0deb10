//! Binance's order placement: `POST /api/v3/order` with `newClientOrderId`, in the query or the
//! form body, matching `^[\.A-Z\:/a-z0-9_-]{1,36}$`.
//! See <https://developers.binance.com/docs/binance-spot-api-docs/rest-api/trading-endpoints>.

use crate::exchange::{OrderPlacement, ParamLocation, order::alphanumeric_client_order_id};

/// Where Binance takes spot orders.
pub(crate) const ORDER: OrderPlacement = OrderPlacement {
    method: "POST",
    path: "/api/v3/order",
    client_order_id: "newClientOrderId",
    location: ParamLocation::QueryOrForm,
    new_client_order_id,
};

/// `kw` and 30 letters and digits: 32 characters, under Binance's 36.
fn new_client_order_id() -> String {
    alphanumeric_client_order_id("kw", 30)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_match_binance_format_and_do_not_repeat() {
        let ids: HashSet<String> = (0..2_000).map(|_| (ORDER.new_client_order_id)()).collect();
        assert_eq!(ids.len(), 2_000);
        for id in &ids {
            assert_eq!(id.len(), 32);
            assert!(id.len() <= 36);
            assert!(id.starts_with("kw"));
            assert!(id.bytes().all(|byte| byte.is_ascii_alphanumeric()), "{id}");
        }
    }

    #[test]
    fn the_order_endpoint_is_recognised() {
        assert!(ORDER.matches(&http::Method::POST, "/api/v3/order"));
        assert!(!ORDER.matches(&http::Method::POST, "/api/v3/order/test"));
        assert!(!ORDER.matches(&http::Method::DELETE, "/api/v3/order"));
        assert_eq!(ORDER.client_order_id, "newClientOrderId");
    }
}
