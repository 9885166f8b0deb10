//! Where an exchange takes order placements, and how it names the client order id.

/// Where a request carries its parameters.
///
/// # Example
///
/// ```
/// use keyward::exchange::ParamLocation;
/// assert_ne!(ParamLocation::Json, ParamLocation::Form);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamLocation {
    /// The query string.
    Query,
    /// A form-encoded body.
    Form,
    /// A JSON object body.
    Json,
    /// The body when the request has one, otherwise the query (Binance accepts either).
    QueryOrForm,
}

/// An exchange's order-placement endpoint and its client-order-id field.
///
/// Order placements always carry a client order id (keyward generates one when the caller gave
/// none), so that an ambiguous failure can be reconciled instead of re-sent.
///
/// # Example
///
/// ```
/// let order = keyward::exchange::by_name("okx").unwrap().order_placement().unwrap();
/// assert_eq!(order.client_order_id, "clOrdId");
/// assert!((order.new_client_order_id)().len() <= 32);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct OrderPlacement {
    /// The method, e.g. `POST`.
    pub method: &'static str,
    /// The path, e.g. `/api/v3/order`.
    pub path: &'static str,
    /// The field that carries the client order id.
    pub client_order_id: &'static str,
    /// Where that field goes.
    pub location: ParamLocation,
    /// A fresh, random client order id in the form the exchange accepts.
    pub new_client_order_id: fn() -> String,
}

impl OrderPlacement {
    /// Whether a request with `method` and `path` places an order.
    pub fn matches(&self, method: &http::Method, path: &str) -> bool {
        method.as_str().eq_ignore_ascii_case(self.method) && path == self.path
    }
}

/// A fresh client order id: `prefix` and then `random_chars` random ASCII letters and digits.
///
/// Letters and digits are the alphabet every integrated exchange accepts in its client order id,
/// and the prefix (`kw`) lets operators recognise keyward's orders. Each integration's
/// `orders.rs` picks the lengths that fit its exchange's documented format.
pub(crate) fn alphanumeric_client_order_id(prefix: &str, random_chars: usize) -> String {
    use rand::{Rng, distributions::Alphanumeric};
    let mut id = String::with_capacity(prefix.len() + random_chars);
    id.push_str(prefix);
    // `Alphanumeric` is this alphabet, uniform, at one cheap draw per character (six bits with
    // rejection), where `gen_range` per character cost more than the rest of the id's handling.
    id.extend(
        rand::thread_rng()
            .sample_iter(Alphanumeric)
            .take(random_chars)
            .map(char::from),
    );
    id
}
