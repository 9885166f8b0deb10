//! The leak tripwire: scrubs every registered secret from everything your logs write.
//!
//! [`Credentials`](crate::Credentials) register their secret, passphrase and API key with the
//! [global registry](Registry::global) when they are built. A [`Tripwire`] wraps the writer of a
//! `tracing_subscriber::fmt` subscriber (stdout, stderr, a file, a test buffer) and replaces each
//! registered secret, in any of the forms listed on [`Registry`], with `[REDACTED]` (an API key
//! with its fingerprint, `…Eh8A`) before a byte reaches that writer.
//!
//! Turning it on is one line:
//!
//! ```no_run
//! tracing_subscriber::fmt().with_writer(keyward::tripwire::Tripwire::new(std::io::stderr)).init();
//! ```
//!
//! Each event is buffered whole and scrubbed as a whole, so a secret that a formatter writes in
//! several pieces is still caught. The tripwire is a last line of defence for mistakes (a
//! `{:?}` of the wrong struct, an error that echoes a request): redact deliberately first.
//!
//! # Example
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use keyward::tripwire::{Registry, Tripwire};
//!
//! #[derive(Clone, Default)]
//! struct Captured(Arc<Mutex<Vec<u8>>>);
//! impl std::io::Write for Captured {
//!     fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
//!         self.0.lock().unwrap().extend_from_slice(bytes);
//!         Ok(bytes.len())
//!     }
//!     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
//! }
//!
//! let registry = Arc::new(Registry::new());
//! registry.register(b"test-only-secret-1234");
//! let captured = Captured::default();
//! let sink = captured.clone();
//! let subscriber = tracing_subscriber::fmt()
//!     .with_writer(Tripwire::with_registry(move || sink.clone(), registry))
//!     .without_time()
//!     .finish();
//! tracing::subscriber::with_default(subscriber, || {
//!     tracing::info!(body = "secret=test-only-secret-1234", "sending");
//! });
//! let logged = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
//! assert!(logged.contains("secret=[REDACTED]"));
//! assert!(!logged.contains("test-only-secret-1234"));
//! ```

mod registry;
mod writer;

pub use registry::Registry;
pub use writer::{ScrubbingWriter, Tripwire};
