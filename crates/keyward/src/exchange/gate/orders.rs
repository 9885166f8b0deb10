//! Gate's spot order placement: `POST /api/v4/spot/orders` with `text` in the JSON body.
//!
//! A custom `text` must start with `t-`, be at most 28 bytes after it, and hold only letters,
//! digits, `_`, `-` and `.`. keyward sends `t-kw` and 26 letters and digits, the full 28 bytes.
//! See <https://www.gate.io/docs/developers/apiv4/en/#create-an-order>.

use crate::exchange::{OrderPlacement, ParamLocation, order::alphanumeric_client_order_id};

/// Where Gate takes spot orders.
pub(crate) const ORDER: OrderPlacement = OrderPlacement {
    method: "POST",
    path: "/api/v4/spot/orders",
    client_order_id: "text",
    location: ParamLocation::Json,
    new_client_order_id,
};

/// `t-`, then `kw` and 26 letters and digits.
fn new_client_order_id() -> String {
    alphanumeric_client_order_id("t-kw", 26)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_match_gate_text_rules_and_do_not_repeat() {
        let ids: HashSet<String> = (0..2_000).map(|_| (ORDER.new_client_order_id)()).collect();
        assert_eq!(ids.len(), 2_000);
        for id in &ids {
            let custom = id.strip_prefix("t-").unwrap();
            assert_eq!(custom.len(), 28, "{id}");
            assert!(custom.starts_with("kw"));
            assert!(
                custom
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || b"_-.".contains(&byte)),
                "{id}"
            );
        }
    }

    #[test]
    fn the_order_endpoint_is_recognised() {
        assert!(ORDER.matches(&http::Method::POST, "/api/v4/spot/orders"));
        assert!(!ORDER.matches(&http::Method::POST, "/api/v4/futures/usdt/orders"));
        assert_eq!((ORDER.client_order_id, ORDER.location), ("text", ParamLocation::Json));
    }
}
