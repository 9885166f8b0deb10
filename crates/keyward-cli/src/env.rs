//! Credentials for the command line: from the environment, else from a `.env` file in the
//! working directory, through keyward's credential sources.
//!
//! `<EXCHANGE>_API_KEY`, `<EXCHANGE>_API_SECRET` and `<EXCHANGE>_API_PASSPHRASE` (the exchange's
//! name upper-cased, e.g. `OKX_API_PASSPHRASE`). When `<EXCHANGE>_API_KEY` is set in the
//! environment, all three come from the environment; otherwise from `.env`, which is refused
//! when git tracks it or does not ignore it, or when others can read it. The `.env` file is read
//! into memory, never into the process environment, so child processes do not inherit the
//! secrets. Credentials are never taken from the command line, where `ps` and shell history
//! would show them.

use keyward::{
    Credentials,
    credentials::sources::{EnvSource, LoadCredentials, Loaded},
    exchange::Exchange,
};
use std::{fmt, path::Path};

/// Credentials that cannot be loaded; the message names the variable or file and the fix.
#[derive(Debug)]
pub(crate) struct EnvError(String);

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Loads the credentials for `exchange`, with where they came from.
pub(crate) async fn load(exchange: &dyn Exchange) -> Result<Loaded, EnvError> {
    let variables = EnvSource::for_exchange(exchange);
    let [key_variable, ..] = variables.variable_names();
    let from_environment = std::env::var_os(key_variable).is_some();
    let result = if from_environment || !Path::new(".env").exists() {
        variables.load().await
    } else {
        variables.dotenv(".env").load().await
    };
    result.map_err(|err| {
        let hint = if from_environment || Path::new(".env").exists() {
            String::new()
        } else {
            "; or put them in a .env file in the working directory (never on the command line)".to_owned()
        };
        EnvError(format!("{err}{hint}"))
    })
}

/// The credentials for `exchange`, for commands that run no async runtime of their own.
pub(crate) fn credentials(exchange: &dyn Exchange) -> Result<Credentials, EnvError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| EnvError(format!("cannot start the async runtime: {err}")))?;
    runtime.block_on(load(exchange)).map(|loaded| loaded.credentials)
}
