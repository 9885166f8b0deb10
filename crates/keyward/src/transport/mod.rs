//! Transports: the HTTP clients keyward's stack sends through.
//!
//! keyward's layers work on `http::Request<Bytes>` and `http::Response<Bytes>`: exchange REST
//! bodies are small, and signing and error classification need them whole. A transport adapts
//! a client to that shape, reads the response body up to a limit, and reports failures as
//! [`TransportError`](crate::TransportError)s that say whether the request may have reached the
//! exchange (which decides whether an order may be sent again).
//!
//! - [`ReqwestTransport`] (feature `reqwest`) wraps a `reqwest::Client`.
//! - [`HttpTransport`] wraps any tower service of `http::Request<Full<Bytes>>`, such as a
//!   `hyper-util` client (`HttpTransport::hyper()` with feature `hyper`).
//!
//! Crates exist that turn reqwest into a tower service (tower-reqwest, tower-http-client), but
//! they keep reqwest's body and error types; the adapters here are a few lines each and give
//! the stack the buffered bodies and the "was it sent?" errors it needs.

mod http_service;
#[cfg(feature = "reqwest")]
mod reqwest;

pub use http_service::HttpTransport;
#[cfg(feature = "reqwest")]
pub use reqwest::ReqwestTransport;

/// The default limit on a response body: exchange REST responses are far smaller, so a larger
/// one is a misrouted request or a hostile server.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// The default timeout of one attempt.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
