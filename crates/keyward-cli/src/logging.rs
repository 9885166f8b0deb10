//! Logs on stderr, filtered by `RUST_LOG`, always through the leak tripwire.

use keyward::tripwire::Tripwire;
use tracing_subscriber::EnvFilter;

/// Installs the subscriber: nothing is logged unless `RUST_LOG` asks for it, and every line
/// passes the tripwire, which scrubs the credentials loaded by this process (they register
/// themselves), including what reqwest and hyper print at `trace`.
pub(crate) fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("off"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Tripwire::new(std::io::stderr))
        .try_init();
}
