//! Credentials from the environment and a `.env` file in the working directory.
//!
//! `<EXCHANGE>_API_KEY`, `<EXCHANGE>_API_SECRET` and `<EXCHANGE>_API_PASSPHRASE` (the exchange's
//! name upper-cased, e.g. `OKX_API_PASSPHRASE`). A variable set in the environment wins over the
//! same one in `.env`. The `.env` file is read into memory, never into the process environment,
//! so child processes do not inherit the secrets. Credentials are never taken from the command
//! line, where `ps` and shell history would show them.

use keyward::{Credentials, exchange::Exchange};
use std::{collections::HashMap, fmt};

/// A variable that is missing or unusable; the message names it and the fix.
#[derive(Debug)]
pub(crate) struct EnvError(String);

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The variables of `.env` in the working directory, if there is one.
fn dotenv() -> Result<HashMap<String, String>, EnvError> {
    match dotenvy::from_filename_iter(".env") {
        Ok(iter) => iter
            .map(|item| {
                // dotenvy's parse errors quote the offending line, which may hold a secret:
                // report only where it is.
                item.map_err(|err| match err {
                    dotenvy::Error::LineParse(_, index) => {
                        EnvError(format!(".env cannot be parsed near byte {index}: fix that line"))
                    }
                    _ => EnvError(".env cannot be read: check its permissions and encoding".to_owned()),
                })
            })
            .collect(),
        Err(err) if err.not_found() => Ok(HashMap::new()),
        Err(_) => Err(EnvError(
            ".env exists but cannot be read: check its permissions".to_owned(),
        )),
    }
}

fn lookup(name: &str, file: &HashMap<String, String>) -> Result<Option<String>, EnvError> {
    let value = match std::env::var(name) {
        Ok(value) => Some(value),
        Err(std::env::VarError::NotPresent) => file.get(name).cloned(),
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(EnvError(format!(
                "{name} is not valid UTF-8: set it to the value the exchange issued"
            )));
        }
    };
    match value {
        Some(value) if value.trim().is_empty() => Err(EnvError(format!(
            "{name} is set but empty: set it to the value the exchange issued"
        ))),
        other => Ok(other),
    }
}

/// The credentials for `exchange` from the environment or `.env`.
pub(crate) fn credentials(exchange: &dyn Exchange) -> Result<Credentials, EnvError> {
    let file = dotenv()?;
    let prefix = exchange.name().to_ascii_uppercase();
    let require = |suffix: &str| -> Result<String, EnvError> {
        let name = format!("{prefix}_{suffix}");
        lookup(&name, &file)?.ok_or_else(|| {
            EnvError(format!(
                "{name} is not set: export it, or put it in a .env file in the working directory \
                 (credentials are never accepted as command-line arguments)"
            ))
        })
    };
    let credentials = Credentials::new(require("API_KEY")?, require("API_SECRET")?);
    let passphrase_name = format!("{prefix}_API_PASSPHRASE");
    Ok(match lookup(&passphrase_name, &file)? {
        Some(passphrase) => credentials.with_passphrase(passphrase),
        None if exchange.needs_passphrase() => {
            return Err(EnvError(format!(
                "{passphrase_name} is not set: {} keys come with a passphrase, chosen when the key was created",
                exchange.name()
            )));
        }
        None => credentials,
    })
}
