//! The `#[audited]` attribute. Use it as `keyward::audited`.
use proc_macro::TokenStream;

/// Audits a function. See `keyward::audited`.
#[proc_macro_attribute]
pub fn audited(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
