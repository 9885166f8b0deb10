//! Kraken's order placement: `POST /0/private/AddOrder` with `cl_ord_id` in the form body.
//!
//! Kraken accepts three forms of `cl_ord_id`: a long UUID (36 characters with hyphens), a short
//! UUID (32 hex digits), or free ASCII text of up to 18 characters. Only free text can carry the
//! `kw` prefix, so keyward sends `kw` and 16 letters and digits (95 random bits): unique among a
//! client's open orders, which is where Kraken enforces uniqueness.
//! See <https://docs.kraken.com/api/docs/guides/spot-clordid>.

use crate::exchange::{OrderPlacement, ParamLocation, order::alphanumeric_client_order_id};

/// Where Kraken takes orders.
pub(crate) const ORDER: OrderPlacement = OrderPlacement {
    method: "POST",
    path: "/0/private/AddOrder",
    client_order_id: "cl_ord_id",
    location: ParamLocation::Form,
    new_client_order_id,
};

/// `kw` and 16 letters and digits: Kraken's full 18 characters of free text.
fn new_client_order_id() -> String {
    alphanumeric_client_order_id("kw", 16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_free_text_of_at_most_18_characters_and_do_not_repeat() {
        let ids: HashSet<String> = (0..2_000).map(|_| (ORDER.new_client_order_id)()).collect();
        assert_eq!(ids.len(), 2_000);
        for id in &ids {
            assert_eq!(id.len(), 18, "{id}");
            assert!(id.starts_with("kw"));
            assert!(id.bytes().all(|byte| byte.is_ascii_alphanumeric()), "{id}");
        }
    }

    #[test]
    fn the_order_endpoint_is_recognised() {
        assert!(ORDER.matches(&http::Method::POST, "/0/private/AddOrder"));
        assert!(!ORDER.matches(&http::Method::POST, "/0/private/AddOrderBatch"));
        assert_eq!(
            (ORDER.client_order_id, ORDER.location),
            ("cl_ord_id", ParamLocation::Form)
        );
    }
}
