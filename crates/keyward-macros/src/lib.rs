//! The `#[audited]` attribute of [keyward](https://docs.rs/keyward). Use it as `keyward::audited`;
//! its documentation, with examples, is there.
//!
//! Split like `tracing-attributes`: this file is the entry point, `attr` parses the arguments,
//! `expand` generates the code. Every error goes through one funnel (`expand::audited`
//! returns `syn::Result`) and points at the offending token.

mod attr;
mod expand;

use proc_macro::TokenStream;

/// Audits every call of a function: one `keyward::audit` event when it finishes, inside a span
/// that carries its parameters, with secrets redacted by type and by name.
///
/// Its documentation, with examples, is on the re-export `keyward::audited`.
#[proc_macro_attribute]
pub fn audited(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::audited(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
