//! Code generation for `#[audited]`.
//!
//! The shape of the generated code, for `fn f(a: A) -> R { body }`:
//!
//! ```text
//! let audit = if enabled!(keyward::audit, LEVEL) {
//!     capture each recorded parameter          // by reference, redacted by type and name
//!     Some(CallGuard::new(span!(..params..), |span, finish| event!(parent: span, ..)))
//! } else { None };                              // disabled: nothing formatted, nothing allocated
//! refuse the call if a fail-closed trail is failing and R can carry `AuditUnavailable`
//! let out = span.in_scope(move || -> R { body });   // async: `async move { body }.instrument(span).await`
//! audit.finish(outcome(&out), error(&out), ret(&out));   // a panic or a dropped future: the guard's `Drop`
//! out
//! ```

use crate::attr::{AuditedArgs, Level};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::{Block, Expr, FnArg, Ident, ItemFn, LitStr, Pat, ReturnType, Stmt, Type, spanned::Spanned, visit::Visit};

/// Fields every audit event has; a parameter or constant may not take these names.
const RESERVED: &[&str] = &["call", "outcome", "elapsed_us", "error", "ret"];

/// Parameter names that are never recorded, whatever their type (any case, anywhere in the name).
const SECRET_NAMES: &[&str] = &["secret", "password", "passphrase", "token", "signature", "private"];

/// How one parameter is recorded.
enum Treatment {
    Capture,
    Fingerprint,
    Redact,
}

struct Param {
    ident: Ident,
    name: String,
    treatment: Treatment,
}

pub(crate) fn audited(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args: AuditedArgs = syn::parse2(args)?;
    let mut func: ItemFn = syn::parse2(item)?;

    if let Some(constness) = &func.sig.constness {
        return Err(syn::Error::new_spanned(
            constness,
            "#[audited] cannot be used on a `const fn`: auditing reads the clock and emits events at run time",
        ));
    }

    let params = plan_params(&func, &args)?;
    let call_name = match &args.name {
        Some(name) => name.clone(),
        None => LitStr::new(&unraw(&func.sig.ident), func.sig.ident.span()),
    };
    for (key, _) in &args.constants {
        let name = unraw(key);
        if RESERVED.contains(&name.as_str()) || params.iter().any(|p| p.name == name) {
            return Err(syn::Error::new_spanned(
                key,
                format!("constant field `{name}` clashes with a field the audit record already has"),
            ));
        }
    }

    let level = level_tokens(args.level.as_ref().map(|(_, level)| *level));
    let prologue = prologue(&params, &args, &call_name, &level);

    let body = &func.block;
    let new_block: TokenStream = if func.sig.asyncness.is_some() {
        let output = declared_output(&func.sig.output);
        let rest = async_rest(quote!(#body), output.as_ref(), &args);
        quote!({ #prologue #rest })
    } else if let Some((pin_path, inner)) = async_trait_body(body) {
        // `#[async_trait]` already turned `async fn` into `fn -> Pin<Box<dyn Future>>` whose body
        // is `Box::pin(async move { .. })`: audit the future, not the creation of the box, and
        // start auditing at its first poll, as for a native `async fn`.
        let output = future_output(&func.sig.output);
        let inner_block = &inner.block;
        let rest = async_rest(quote!(#inner_block), output.as_ref(), &args);
        quote!({ #pin_path(async move { #prologue #rest }) })
    } else {
        let output = declared_output(&func.sig.output);
        sync_rest(body, output.as_ref(), &args, &prologue)
    };
    *func.block = syn::parse2::<Block>(new_block)?;
    Ok(quote!(#func))
}

fn unraw(ident: &Ident) -> String {
    ident.to_string().trim_start_matches("r#").to_owned()
}

/// Decides, for every named parameter, whether and how it is recorded, and rejects `skip`,
/// `redact` and `show` lists that name no parameter or contradict each other.
fn plan_params(func: &ItemFn, args: &AuditedArgs) -> syn::Result<Vec<Param>> {
    let mut named = Vec::new();
    for input in &func.sig.inputs {
        if let FnArg::Typed(typed) = input {
            if let Pat::Ident(pat) = &*typed.pat {
                named.push(pat.ident.clone());
            }
        }
    }
    for list in [&args.skip, &args.redact, &args.show] {
        for ident in list {
            if !named.iter().any(|p| p == ident) {
                return Err(syn::Error::new_spanned(
                    ident,
                    format!("`{ident}` is not a parameter of `{}`", func.sig.ident),
                ));
            }
        }
    }
    for shown in &args.show {
        if args.redact.iter().any(|r| r == shown) {
            return Err(syn::Error::new_spanned(
                shown,
                format!("`{shown}` is both shown and redacted: keep it in one of `show(..)` and `redact(..)`"),
            ));
        }
        if args.skip.iter().any(|s| s == shown) {
            return Err(syn::Error::new_spanned(
                shown,
                format!("`{shown}` is both shown and skipped: keep it in one of `show(..)` and `skip(..)`"),
            ));
        }
    }

    let mut params = Vec::new();
    for ident in named {
        if args.skip_all.is_some() && !args.show.contains(&ident) && !args.redact.contains(&ident) {
            continue;
        }
        if args.skip.contains(&ident) {
            continue;
        }
        let name = unraw(&ident);
        let lower = name.to_ascii_lowercase();
        let treatment = if args.redact.contains(&ident) {
            Treatment::Redact
        } else if args.show.contains(&ident) {
            Treatment::Capture
        } else if SECRET_NAMES.iter().any(|s| lower.contains(s)) {
            Treatment::Redact
        } else if lower.contains("key") {
            Treatment::Fingerprint
        } else {
            Treatment::Capture
        };
        if RESERVED.contains(&name.as_str()) {
            return Err(syn::Error::new_spanned(
                &ident,
                format!(
                    "parameter `{name}` clashes with the `{name}` field of the audit record: \
                     skip it with `skip({name})` or rename it"
                ),
            ));
        }
        params.push(Param { ident, name, treatment });
    }
    Ok(params)
}

fn level_tokens(level: Option<Level>) -> TokenStream {
    let level = match level.unwrap_or(Level::Info) {
        Level::Trace => quote!(TRACE),
        Level::Debug => quote!(DEBUG),
        Level::Info => quote!(INFO),
        Level::Warn => quote!(WARN),
        Level::Error => quote!(ERROR),
    };
    quote!(::keyward::__private::tracing::Level::#level)
}

/// Captures the parameters and builds the span and the guard that emits the event.
fn prologue(params: &[Param], args: &AuditedArgs, call_name: &LitStr, level: &TokenStream) -> TokenStream {
    let p = quote!(::keyward::__private);
    let vars: Vec<Ident> = (0..params.len()).map(|i| format_ident!("__kw_param_{}", i)).collect();
    let captures = params.iter().zip(&vars).map(|(param, var)| {
        let ident = &param.ident;
        let span = ident.span();
        match param.treatment {
            Treatment::Capture => quote_spanned!(span=> let #var = (&&&#p::Probe(&#ident)).kw_capture();),
            Treatment::Fingerprint => quote_spanned!(span=> let #var = (&&&#p::Probe(&#ident)).kw_fingerprint();),
            Treatment::Redact => quote!(let #var = #p::AuditValue::Redacted;),
        }
    });
    let fields: Vec<TokenStream> = params
        .iter()
        .zip(&vars)
        .map(|(param, var)| {
            let key = LitStr::new(&param.name, param.ident.span());
            quote!(#key = #var.as_value())
        })
        .collect();
    let constants: Vec<TokenStream> = args
        .constants
        .iter()
        .map(|(key, value)| {
            let key = LitStr::new(&unraw(key), key.span());
            quote!(#key = #value)
        })
        .collect();
    let ret_field = args
        .ret
        .map(|_| quote!("ret" = __kw_finish.ret.as_ref().map(#p::AuditValue::as_value),));
    quote! {
        #[allow(unused_imports)]
        use #p::{
            CaptureDebug as _, CaptureNative as _, CaptureSensitive as _, ErrorDebug as _, ErrorDisplay as _,
            ErrorNone as _, FingerprintDebug as _, FingerprintKey as _, FingerprintSensitive as _,
            OkOfOther as _, OkOfResult as _, OutcomeOfOther as _, OutcomeOfResult as _, RefuseOther as _,
            RefuseResult as _,
        };
        let __kw_audit = if #p::tracing::enabled!(target: "keyward::audit", #level) {
            #(#captures)*
            let __kw_span = #p::tracing::span!(target: "keyward::audit", #level, #call_name, #(#fields,)* #(#constants,)*);
            ::core::option::Option::Some(#p::CallGuard::new(
                __kw_span,
                move |__kw_span: &#p::tracing::Span, __kw_finish: #p::Finish<'_>| {
                    #p::tracing::event!(
                        target: "keyward::audit",
                        parent: __kw_span,
                        #level,
                        "call" = #call_name,
                        "outcome" = __kw_finish.outcome,
                        "elapsed_us" = __kw_finish.elapsed_us,
                        "error" = __kw_finish.error.as_ref().map(#p::tracing::field::display),
                        #ret_field
                        #(#fields,)*
                        #(#constants,)*
                    );
                },
            ))
        } else {
            ::core::option::Option::None
        };
    }
}

/// Refuses the call, before it does anything, when a fail-closed audit trail is failing and the
/// return type can carry `AuditUnavailable`.
fn gate(output: Option<&Type>) -> TokenStream {
    let p = quote!(::keyward::__private);
    let Some(output) = output else {
        return TokenStream::new();
    };
    quote! {
        let __kw_audit = match __kw_audit {
            ::core::option::Option::Some(__kw_guard) => match #p::audit_refusal() {
                ::core::option::Option::Some(__kw_refusal) => {
                    match (&#p::ReturnProbe::<#output>::new()).kw_refuse(&__kw_refusal) {
                        ::core::option::Option::Some(__kw_refused) => {
                            __kw_guard.refuse(&__kw_refusal);
                            return __kw_refused;
                        }
                        ::core::option::Option::None => ::core::option::Option::Some(__kw_guard),
                    }
                }
                ::core::option::Option::None => ::core::option::Option::Some(__kw_guard),
            },
            ::core::option::Option::None => ::core::option::Option::None,
        };
    }
}

fn epilogue(args: &AuditedArgs) -> TokenStream {
    let p = quote!(::keyward::__private);
    let ret = if args.ret.is_some() {
        quote!((&&#p::OutProbe(&__kw_out)).kw_ok().map(|__kw_ok| (&&&#p::Probe(__kw_ok)).kw_capture()))
    } else {
        quote!(::core::option::Option::None)
    };
    quote! {
        if let ::core::option::Option::Some(__kw_guard) = __kw_audit {
            let __kw_outcome = (&#p::OutProbe(&__kw_out)).kw_outcome();
            let __kw_error = (&&&#p::OutProbe(&__kw_out)).kw_error();
            let __kw_ret = #ret;
            __kw_guard.finish(__kw_outcome, __kw_error, __kw_ret);
        }
        __kw_out
    }
}

fn sync_rest(body: &Block, output: Option<&Type>, args: &AuditedArgs, prologue: &TokenStream) -> TokenStream {
    let p = quote!(::keyward::__private);
    let gate = gate(output);
    let epilogue = epilogue(args);
    // An `impl Trait` return type cannot be written on a closure; leave it to inference.
    let closure = match output {
        Some(output) => quote_spanned!(output.span()=> move || -> #output #body),
        None => quote!(move || #body),
    };
    quote!({
        #prologue
        #gate
        #[allow(unused_mut)]
        let mut __kw_body = #closure;
        #[allow(clippy::redundant_closure_call)]
        let __kw_out = match &__kw_audit {
            ::core::option::Option::Some(__kw_guard) => #p::tracing::Span::in_scope(__kw_guard.span(), __kw_body),
            ::core::option::Option::None => __kw_body(),
        };
        #epilogue
    })
}

/// The part of an async body after the prologue; `body` is a block whose value is the output.
fn async_rest(body: TokenStream, output: Option<&Type>, args: &AuditedArgs) -> TokenStream {
    let p = quote!(::keyward::__private);
    let gate = gate(output);
    let epilogue = epilogue(args);
    // Pins the async block's output type before its body is checked, so that `?` and `return`
    // inside it resolve against the declared return type (errors stay on the user's signature).
    let fake_return = output.map(|output| {
        quote_spanned! {output.span()=>
            #[allow(unreachable_code, clippy::diverging_sub_expression, clippy::let_unit_value, clippy::empty_loop)]
            if false {
                let __kw_fake_return: #output = loop {};
                return __kw_fake_return;
            }
        }
    });
    quote! {
        #gate
        let __kw_body = async move { #fake_return #body };
        let __kw_span = __kw_audit.as_ref().map(|__kw_guard| ::core::clone::Clone::clone(__kw_guard.span()));
        let __kw_out = match __kw_span {
            ::core::option::Option::Some(__kw_span) => #p::tracing::Instrument::instrument(__kw_body, __kw_span).await,
            ::core::option::Option::None => __kw_body.await,
        };
        #epilogue
    }
}

/// The declared return type, `()` when there is none, or `None` when it cannot be named
/// (it contains `impl Trait`).
fn declared_output(output: &ReturnType) -> Option<Type> {
    match output {
        ReturnType::Default => Some(syn::parse_quote!(())),
        ReturnType::Type(_, ty) if !contains_impl_trait(ty) => Some((**ty).clone()),
        ReturnType::Type(..) => None,
    }
}

fn contains_impl_trait(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    finder.visit_type(ty);
    finder.0
}

/// The `Output` of a `Pin<Box<dyn Future<Output = T> + ..>>` return type.
fn future_output(output: &ReturnType) -> Option<Type> {
    struct Finder(Option<Type>);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_assoc_type(&mut self, assoc: &'ast syn::AssocType) {
            if self.0.is_none() && assoc.ident == "Output" {
                self.0 = Some(assoc.ty.clone());
            }
        }
    }
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let mut finder = Finder(None);
    finder.visit_type(ty);
    finder.0.filter(|ty| !contains_impl_trait(ty))
}

/// Recognises the body `#[async_trait]` generates: a lone `Box::pin(async move { .. })`.
fn async_trait_body(body: &Block) -> Option<(&Expr, &syn::ExprAsync)> {
    let [Stmt::Expr(Expr::Call(call), None)] = body.stmts.as_slice() else {
        return None;
    };
    let Expr::Path(path) = &*call.func else {
        return None;
    };
    let is_pin = path.path.segments.last().is_some_and(|s| s.ident == "pin")
        && path.path.segments.iter().any(|s| s.ident == "Box");
    match (is_pin, call.args.len(), call.args.first()) {
        (true, 1, Some(Expr::Async(inner))) if inner.capture.is_some() => Some((&call.func, inner)),
        _ => None,
    }
}
