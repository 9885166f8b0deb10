//! Credentials from process environment variables.

use super::{LoadCredentials, LoadFuture, Loaded, Provenance, SourceKind, text};
use crate::{
    credentials::{CredentialError, Credentials},
    exchange::Exchange,
};
use zeroize::Zeroizing;

/// Credentials from `<PREFIX>_API_KEY`, `<PREFIX>_API_SECRET` and `<PREFIX>_API_PASSPHRASE`.
///
/// The prefix defaults to the exchange's name upper-cased (`BINANCE_API_KEY`). A missing or
/// empty variable is an error that names it. The passphrase is read when set, and required for
/// the exchanges whose keys have one (OKX, Coinbase, KuCoin).
///
/// Credentials are never taken from command-line arguments, where `ps` and shell history show
/// them; a variable is only as private as the process environment (children inherit it): prefer
/// a [secrets file](super::SecretFiles) or a [command](super::CommandSource) where there is one.
///
/// # Example
///
/// ```
/// use keyward::{credentials::sources::{EnvSource, LoadCredentials}, exchange};
///
/// let source = EnvSource::for_exchange(exchange::by_name("okx").unwrap()).prefix("MYBOT_OKX");
/// assert_eq!(source.variable_names(), ["MYBOT_OKX_API_KEY", "MYBOT_OKX_API_SECRET", "MYBOT_OKX_API_PASSPHRASE"]);
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// // Not set in this process:
/// let err = source.load().await.unwrap_err();
/// assert_eq!(err.to_string(), "environment variable MYBOT_OKX_API_KEY is missing: \
///     export it, or load credentials from a secrets file or a command");
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct EnvSource {
    names: VariableNames,
    passphrase_required: bool,
}

impl EnvSource {
    /// The variables of `exchange`: its name upper-cased as the prefix, and a passphrase when its
    /// keys have one.
    pub fn for_exchange(exchange: &dyn Exchange) -> Self {
        Self {
            names: VariableNames::new(&exchange.name().to_ascii_uppercase()),
            passphrase_required: exchange.needs_passphrase(),
        }
    }

    /// The variables `<prefix>_API_KEY`, `<prefix>_API_SECRET` and, if set, `<prefix>_API_PASSPHRASE`.
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            names: VariableNames::new(prefix),
            passphrase_required: false,
        }
    }

    /// Uses `prefix` instead (a trailing `_` is not doubled).
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.names = VariableNames::new(prefix);
        self
    }

    /// Whether a missing passphrase variable is an error.
    pub fn require_passphrase(mut self, required: bool) -> Self {
        self.passphrase_required = required;
        self
    }

    /// The names of the key, secret and passphrase variables.
    pub fn variable_names(&self) -> [&str; 3] {
        [&self.names.api_key, &self.names.api_secret, &self.names.api_passphrase]
    }

    /// Reads the same variables from a `.env` file instead of the process environment.
    #[cfg(feature = "dotenv")]
    pub fn dotenv(self, path: impl Into<std::path::PathBuf>) -> super::DotEnvSource {
        super::DotEnvSource::new(path, self)
    }

    /// The credentials from `variables`, described in errors as `describe(name)`.
    pub(super) fn credentials_from(
        &self,
        variables: &dyn Fn(&str) -> VariableValue,
        describe: &dyn Fn(&str) -> String,
        missing_fix: &str,
    ) -> Result<(Credentials, Vec<String>), CredentialError> {
        let read = |name: &str| -> VariableValue {
            match variables(name)? {
                Some(raw) => text::credential_text(raw.as_bytes(), &describe(name)).map(Some),
                None => Ok(None),
            }
        };
        let require = |name: &str| {
            read(name)?.ok_or_else(|| CredentialError::Missing {
                location: describe(name),
                fix: missing_fix.to_owned(),
            })
        };
        let names = &self.names;
        let credentials = Credentials::new(
            text::into_secret(require(&names.api_key)?),
            text::into_secret(require(&names.api_secret)?),
        );
        let mut used = vec![names.api_key.clone(), names.api_secret.clone()];
        let passphrase = if self.passphrase_required {
            Some(require(&names.api_passphrase)?)
        } else {
            read(&names.api_passphrase)?
        };
        Ok(match passphrase {
            Some(passphrase) => {
                used.push(names.api_passphrase.clone());
                (credentials.with_passphrase(text::into_secret(passphrase)), used)
            }
            None => (credentials, used),
        })
    }
}

impl LoadCredentials for EnvSource {
    fn load(&self) -> LoadFuture<'_> {
        Box::pin(async move {
            let (credentials, used) = self.credentials_from(
                &process_variable,
                &|name| format!("environment variable {name}"),
                "export it, or load credentials from a secrets file or a command",
            )?;
            let provenance = used
                .into_iter()
                .fold(Provenance::new(SourceKind::Environment), Provenance::origin)
                .passed("every variable is set and not empty");
            Ok(Loaded {
                credentials,
                provenance,
            })
        })
    }
}

/// A variable's value, `None` when it is not set.
pub(super) type VariableValue = Result<Option<Zeroizing<String>>, CredentialError>;

fn process_variable(name: &str) -> VariableValue {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(value) => value
            .into_string()
            .map(|value| Some(Zeroizing::new(value)))
            .map_err(|value| {
                // The value may be most of a secret: wipe it before reporting.
                zeroize::Zeroize::zeroize(&mut value.into_encoded_bytes());
                CredentialError::Malformed {
                    location: format!("environment variable {name}"),
                    problem: "it is not UTF-8 text".to_owned(),
                }
            }),
    }
}

/// The three variable names of a prefix.
#[derive(Debug, Clone)]
struct VariableNames {
    api_key: String,
    api_secret: String,
    api_passphrase: String,
}

impl VariableNames {
    fn new(prefix: &str) -> Self {
        let prefix = prefix.trim_end_matches('_');
        Self {
            api_key: format!("{prefix}_API_KEY"),
            api_secret: format!("{prefix}_API_SECRET"),
            api_passphrase: format!("{prefix}_API_PASSPHRASE"),
        }
    }
}
