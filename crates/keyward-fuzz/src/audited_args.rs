//! Target `audited_args`: the argument parser of `#[audited(...)]`.
//!
//! A proc-macro crate can export nothing but its macros, so keyward-macros' `attr.rs` is
//! compiled here a second time, as a module of this crate (`#[path]`): the fuzzer exercises
//! the very source the macro is built from, with no copy to drift and no change to
//! keyward-macros. proc-macro2 runs outside a compiler by its own fallback implementation, which
//! tokenizes the input as rustc would.

#[path = "../../keyward-macros/src/attr.rs"]
mod attr;

use attr::{AuditedArgs, Level};
use proc_macro2::{Delimiter, TokenTree};
use quote::ToTokens;
use std::str::FromStr;

/// Parses `data` as the arguments of `#[audited(...)]`.
///
/// Checks that the parser returns its arguments or a `syn::Error` (never panics), and that what
/// it accepts is consistent: a known level, each constant field once, and every argument and
/// listed name kept where it belongs.
pub fn audited_args(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(tokens) = proc_macro2::TokenStream::from_str(text) else {
        // rustc would not have tokenized it either.
        return;
    };
    match syn::parse2::<AuditedArgs>(tokens.clone()) {
        Ok(args) => check(&args, tokens),
        Err(err) => {
            let _ = err.to_compile_error();
            assert!(!err.to_string().is_empty(), "an error without a message");
        }
    }
}

fn check(args: &AuditedArgs, tokens: proc_macro2::TokenStream) {
    if let Some((literal, level)) = &args.level {
        let named = match level {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        assert!(
            literal.value().eq_ignore_ascii_case(named),
            "level {:?} parsed as {named}",
            literal.value()
        );
    }
    for (index, (key, _value)) in args.constants.iter().enumerate() {
        assert!(
            !args.constants[..index].iter().any(|(earlier, _)| earlier == key),
            "constant field `{key}` accepted twice"
        );
    }
    // Nothing written is dropped: every argument lands somewhere, every listed name in its list.
    // Counted by splitting at commas outside brackets, which a constant's value may also hold
    // (`|a, b| a`, `f::<A, B>()`): such input is left to the checks above.
    let commas_in_values = args.constants.iter().any(|(_, value)| {
        value
            .to_token_stream()
            .into_iter()
            .any(|token| matches!(token, TokenTree::Punct(punct) if punct.as_char() == ','))
    });
    if commas_in_values {
        return;
    }
    let mut expected = Parsed::default();
    for argument in arguments(tokens) {
        let keyword = match argument.first() {
            Some(TokenTree::Ident(ident)) => ident.to_string(),
            _ => panic!("an argument that does not start with a name was accepted"),
        };
        let list = match argument.get(1) {
            Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Parenthesis => Some(
                group
                    .stream()
                    .into_iter()
                    .filter(|token| matches!(token, TokenTree::Ident(_)))
                    .count(),
            ),
            _ => None,
        };
        let assigned = matches!(argument.get(1), Some(TokenTree::Punct(punct)) if punct.as_char() == '=');
        match (keyword.as_str(), list) {
            ("skip", Some(names)) => expected.skip += names,
            ("redact", Some(names)) => expected.redact += names,
            ("show", Some(names)) => expected.show += names,
            ("skip_all", _) => expected.flags += 1,
            ("ret", _) if !assigned => expected.flags += 1,
            ("level" | "name", _) => expected.flags += 1,
            _ => expected.constants += 1,
        }
    }
    let found = Parsed {
        skip: args.skip.len(),
        redact: args.redact.len(),
        show: args.show.len(),
        flags: usize::from(args.skip_all.is_some())
            + usize::from(args.ret.is_some())
            + usize::from(args.level.is_some())
            + usize::from(args.name.is_some()),
        constants: args.constants.len(),
    };
    assert_eq!(found, expected, "the arguments were not all kept where they belong");
}

/// How many names each list holds, and how many other arguments there are.
#[derive(Debug, Default, PartialEq, Eq)]
struct Parsed {
    skip: usize,
    redact: usize,
    show: usize,
    flags: usize,
    constants: usize,
}

/// The top-level comma-separated arguments of `tokens`.
fn arguments(tokens: proc_macro2::TokenStream) -> Vec<Vec<TokenTree>> {
    let mut arguments = vec![Vec::new()];
    for token in tokens {
        match &token {
            TokenTree::Punct(punct) if punct.as_char() == ',' => arguments.push(Vec::new()),
            _ => arguments
                .last_mut()
                .into_iter()
                .for_each(|argument| argument.push(token.clone())),
        }
    }
    arguments.retain(|argument| !argument.is_empty());
    arguments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parses(text: &str) -> bool {
        syn::parse2::<AuditedArgs>(proc_macro2::TokenStream::from_str(text).unwrap()).is_ok()
    }

    #[test]
    fn the_ui_tests_arguments_parse_or_fail_as_they_do_there() {
        assert!(parses(
            r#"exchange = "binance", level = "DEBUG", skip(a, b), ret, name = "client.order""#
        ));
        assert!(parses("show(token_count), redact(note), skip(ignored)"));
        assert!(!parses(r#"level = "loud""#));
        assert!(!parses(r#"level = "info", level = "debug""#));
        assert!(!parses(r#"exchange = "binance", exchange = "okx""#));
        assert!(!parses("fields(a)"));
        audited_args(br#"exchange = "kraken", name = "client.nonce""#);
    }
}
