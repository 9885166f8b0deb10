//! Parsing `#[audited(...)]` arguments.

use proc_macro2::Span;
use syn::{
    Expr, Ident, LitStr, Token,
    parse::{Parse, ParseStream},
    punctuated::Punctuated,
};

mod kw {
    syn::custom_keyword!(skip);
    syn::custom_keyword!(skip_all);
    syn::custom_keyword!(redact);
    syn::custom_keyword!(show);
    syn::custom_keyword!(level);
    syn::custom_keyword!(name);
    syn::custom_keyword!(ret);
}

/// The parsed arguments of one `#[audited(...)]`.
#[derive(Default)]
pub(crate) struct AuditedArgs {
    pub(crate) skip: Vec<Ident>,
    pub(crate) skip_all: Option<Span>,
    pub(crate) redact: Vec<Ident>,
    pub(crate) show: Vec<Ident>,
    pub(crate) level: Option<(LitStr, Level)>,
    pub(crate) name: Option<LitStr>,
    pub(crate) ret: Option<Span>,
    pub(crate) constants: Vec<(Ident, Expr)>,
}

/// The `tracing` level of the span and event.
#[derive(Clone, Copy)]
pub(crate) enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// Fails with "`what` specified more than once" at `span` if `seen` is already set.
fn once<T>(seen: &Option<T>, span: Span, what: &str) -> syn::Result<()> {
    if seen.is_some() {
        return Err(syn::Error::new(span, format!("`{what}` specified more than once")));
    }
    Ok(())
}

fn ident_list(input: ParseStream<'_>) -> syn::Result<Vec<Ident>> {
    let content;
    syn::parenthesized!(content in input);
    let list = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
    Ok(list.into_iter().collect())
}

impl Parse for AuditedArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Self::default();
        let mut seen_lists: [Option<()>; 3] = [None, None, None];
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::skip_all) {
                let token = input.parse::<kw::skip_all>()?;
                once(&args.skip_all, token.span, "skip_all")?;
                args.skip_all = Some(token.span);
            } else if lookahead.peek(kw::skip) && input.peek2(syn::token::Paren) {
                let token = input.parse::<kw::skip>()?;
                once(&seen_lists[0], token.span, "skip")?;
                seen_lists[0] = Some(());
                args.skip = ident_list(input)?;
            } else if lookahead.peek(kw::redact) && input.peek2(syn::token::Paren) {
                let token = input.parse::<kw::redact>()?;
                once(&seen_lists[1], token.span, "redact")?;
                seen_lists[1] = Some(());
                args.redact = ident_list(input)?;
            } else if lookahead.peek(kw::show) && input.peek2(syn::token::Paren) {
                let token = input.parse::<kw::show>()?;
                once(&seen_lists[2], token.span, "show")?;
                seen_lists[2] = Some(());
                args.show = ident_list(input)?;
            } else if lookahead.peek(kw::level) && input.peek2(Token![=]) {
                let token = input.parse::<kw::level>()?;
                once(&args.level, token.span, "level")?;
                input.parse::<Token![=]>()?;
                let lit: LitStr = input.parse()?;
                let level = match lit.value().to_ascii_lowercase().as_str() {
                    "trace" => Level::Trace,
                    "debug" => Level::Debug,
                    "info" => Level::Info,
                    "warn" => Level::Warn,
                    "error" => Level::Error,
                    _ => {
                        return Err(syn::Error::new_spanned(
                            &lit,
                            "unknown level: expected one of \"trace\", \"debug\", \"info\", \"warn\", \"error\"",
                        ));
                    }
                };
                args.level = Some((lit, level));
            } else if lookahead.peek(kw::name) && input.peek2(Token![=]) {
                let token = input.parse::<kw::name>()?;
                once(&args.name, token.span, "name")?;
                input.parse::<Token![=]>()?;
                args.name = Some(input.parse()?);
            } else if lookahead.peek(kw::ret) && !input.peek2(Token![=]) {
                let token = input.parse::<kw::ret>()?;
                once(&args.ret, token.span, "ret")?;
                args.ret = Some(token.span);
            } else if input.peek(Ident) && input.peek2(Token![=]) {
                let key: Ident = input.parse()?;
                input.parse::<Token![=]>()?;
                let value: Expr = input.parse()?;
                if args.constants.iter().any(|(k, _)| k == &key) {
                    return Err(syn::Error::new_spanned(
                        &key,
                        format!("`{key}` specified more than once"),
                    ));
                }
                args.constants.push((key, value));
            } else if input.peek(Ident) {
                let unknown: Ident = input.parse()?;
                return Err(syn::Error::new_spanned(
                    &unknown,
                    format!(
                        "unknown argument `{unknown}`: expected `skip(..)`, `skip_all`, `redact(..)`, `show(..)`, \
                         `level = \"..\"`, `name = \"..\"`, `ret`, or a constant field `key = value`"
                    ),
                ));
            } else {
                return Err(lookahead.error());
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(args)
    }
}
