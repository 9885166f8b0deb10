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

/// Installs the subscriber with, when `trail` is given, the hash-chained audit trail at that path.
pub(crate) fn init_with_trail(trail: Option<&std::path::Path>) -> Result<(), String> {
    use tracing_subscriber::prelude::*;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("off"));
    let logs = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(Tripwire::new(std::io::stderr))
        .with_filter(filter);
    let trail = match trail {
        Some(path) => Some(
            keyward::audit::trail::AuditTrail::builder(path)
                .build()
                .map_err(|err| err.to_string())?,
        ),
        None => None,
    };
    let _ = tracing_subscriber::registry().with(logs).with(trail).try_init();
    Ok(())
}
