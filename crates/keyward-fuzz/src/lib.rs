//! Fuzz targets for every parser of input that keyward did not write: exchange responses and
//! their headers, audit-trail files, `.env` and secrets files, and `#[audited]`'s arguments.
//!
//! Each target is a plain function `fn(&[u8])` that must not panic on any input, and that
//! asserts the parser's invariants where it has any (a panic is how a target reports a bug).
//! The cargo-fuzz project in `fuzz/` at the workspace root calls them from one-line
//! `fuzz_target!`s; `tests/corpus.rs` replays every seed of `fuzz/corpus/<target>/` (and every
//! crash kept in `fuzz/regressions/<target>/`) through the same functions, so `cargo test` runs
//! them without cargo-fuzz or a nightly toolchain.
//!
//! | target | what it feeds | what it checks |
//! |---|---|---|
//! | [`classify_response`] | a response (exchange, status, headers, body) to every parser of response bodies | classification is total and deterministic, every 4xx/5xx is an error, messages and codes are bounded |
//! | [`response_headers`] | a response's headers to the full stack (retry, rate limit, clock, classify) over a fake exchange | the rate-limit counters name real budgets, nothing is sent during a ban or before a `Retry-After`, every call ends |
//! | [`audit_trail`] | a corrupted audit trail (or checkpoint) to the verifier | a trail verifies only if it is an honest trail or a whole-record prefix of one, as documented |
//! | [`dotenv`] | a `.env` file to the `.env` parser | no unquoted value holds a line break; an error never quotes the file |
//! | [`secret_file`] | a secrets file (or command output) to the credential check | a credential is one line (or a PEM block), without control characters; an error never quotes it |
//! | [`audited_args`] | the arguments of `#[audited(...)]` to its parser | `Ok` or a `syn::Error`, and what it accepts is consistent |
//!
//! Inputs are text where the parser reads text, so that the seed corpus stays readable and can
//! be written from the exchanges' documentation (see [`reply`] for the response format), rather
//! than derived with `arbitrary`.
//!
//! # Example
//!
//! ```
//! // Binance's documented answer to a request over its weight limit.
//! keyward_fuzz::classify_response(b"binance 429\nRetry-After: 17\n\n{\"code\":-1003,\"msg\":\"Too many requests\"}");
//! assert!(keyward_fuzz::TARGETS.iter().any(|(name, _)| *name == "audit_trail"));
//! ```

mod audit_trail;
mod audited_args;
mod classify_response;
mod dotenv;
mod leak;
pub mod reply;
mod response_headers;
mod secret_file;

pub use audit_trail::audit_trail;
pub use audited_args::audited_args;
pub use classify_response::classify_response;
pub use dotenv::dotenv;
pub use response_headers::response_headers;
pub use secret_file::secret_file;

/// A fuzz target: takes any bytes, panics only on a bug.
pub type Target = fn(&[u8]);

/// Every target by name, as `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/` name it.
pub const TARGETS: &[(&str, Target)] = &[
    ("classify_response", classify_response),
    ("response_headers", response_headers),
    ("audit_trail", audit_trail),
    ("dotenv", dotenv),
    ("secret_file", secret_file),
    ("audited_args", audited_args),
];
