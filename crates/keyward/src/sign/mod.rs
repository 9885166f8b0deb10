//! Request signing: one [`Signer`] per exchange scheme.
//!
//! A signer turns a request that is ready to go (method, URL, headers and body exactly as they
//! will be sent) into a signed one: it adds the exchange's API-key header, timestamp, nonce or
//! expiry, and signature, in the places that exchange expects them. It never reorders or
//! re-encodes what the caller already put in the URL or body, because exchanges sign the bytes
//! as sent.
//!
//! A signer holds key material prepared once per credential (a pre-keyed MAC state in a
//! [`KeyedMac`], a decoded secret, a parsed Ed25519 key), so signing costs one MAC and no
//! re-keying. Signers are built by [`Exchange::signer`](crate::exchange::Exchange::signer) from
//! [`Credentials`](crate::Credentials).
//!
//! Most exchanges sign the same way, an HMAC of a few request parts sent in headers: they are
//! configurations of the one signer in [`prehash_hmac`]. The others (Binance, Bybit, Kraken) are
//! written out with the same building blocks: [`prehash::Prehash`] feeds the string-to-sign to
//! the MAC in place, [`TimestampText`] and [`EncodedSignature`] write text on the stack.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use keyward::{Credentials, exchange, sign::{NoTrace, SigningContext}};
//!
//! let creds = Credentials::new("vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
//!     "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"); // Binance's documented example key
//! let signer = exchange::by_name("binance").unwrap().signer(&creds)?;
//! let mut request = http::Request::get("https://api.binance.com/api/v3/account").body(Bytes::new())?;
//! signer.sign(&mut request, &SigningContext::at_millis(1_578_963_600_000), &mut NoTrace)?;
//! assert!(request.uri().query().unwrap().ends_with(
//!     "timestamp=1578963600000&signature=d84e6641b1e328e7b418fff030caed655c266299c9355e36ce801ed14631eed4"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod context;
mod error;
mod keyed_mac;
mod layer;
mod material;
pub mod prehash;
pub mod prehash_hmac;
mod signature;
mod trace;

pub use context::{SigningContext, TimestampFormat, TimestampText};
pub use error::SignError;
pub use keyed_mac::KeyedMac;
pub use layer::{Public, Sign, SignLayer, SignedWith};
pub use material::{Material, Whitespace, sensitive_header};
pub use signature::{EncodedSignature, SignatureEncoding};
pub use trace::{Explanation, NoTrace, SignTrace};

use bytes::Bytes;
use std::fmt;

/// Signs requests for one exchange with one set of prepared credentials.
///
/// Implementations must be cheap to call: prepare key material in the constructor, not here.
/// `Debug` must show at most the API key's [fingerprint](crate::credentials::Fingerprint).
///
/// # Example
///
/// A toy scheme that puts an HMAC of the path in a header:
///
/// ```
/// use bytes::Bytes;
/// use hmac::{Hmac, Mac};
/// use keyward::sign::{SignError, SignTrace, Signer, SigningContext};
///
/// #[derive(Debug)]
/// struct PathSigner { mac: Hmac<sha2::Sha256> }
///
/// impl Signer for PathSigner {
///     fn sign(&self, request: &mut http::Request<Bytes>, context: &SigningContext, trace: &mut dyn SignTrace)
///         -> Result<(), SignError>
///     {
///         let path = request.uri().path().as_bytes().to_vec();
///         trace.part("path", &path);
///         trace.string_to_sign(&path);
///         let mut mac = self.mac.clone();
///         mac.update(&path);
///         let signature = hex::encode(mac.finalize().into_bytes());
///         request.headers_mut().insert("x-sign", signature.parse().map_err(SignError::header)?);
///         Ok(())
///     }
/// }
///
/// let signer = PathSigner { mac: Hmac::new_from_slice(b"test-only-secret").unwrap() };
/// let mut request = http::Request::get("/v1/orders").body(Bytes::new()).unwrap();
/// signer.sign(&mut request, &SigningContext::at_millis(0), &mut keyward::sign::NoTrace).unwrap();
/// assert!(request.headers().contains_key("x-sign"));
/// ```
pub trait Signer: fmt::Debug + Send + Sync {
    /// Signs `request` in place for the moment and nonce in `context`.
    ///
    /// `trace` receives each part of the string-to-sign (for `keyward sign --explain`); the
    /// secret must never be passed to it.
    fn sign(
        &self,
        request: &mut http::Request<Bytes>,
        context: &SigningContext,
        trace: &mut dyn SignTrace,
    ) -> Result<(), SignError>;
}
