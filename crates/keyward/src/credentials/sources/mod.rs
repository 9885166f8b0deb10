//! Where credentials come from: the environment, a `.env` file, secrets files, a command, or
//! memory, behind one small trait, [`LoadCredentials`].
//!
//! Each source returns the [`Credentials`] and their [`Provenance`]: which source, which
//! variables or paths, the checks it passed and the warnings it raised, for the preflight to
//! print. A source refuses what is unsafe rather than load it:
//!
//! | source | refuses | warns |
//! |---|---|---|
//! | [`EnvSource`] | a missing or empty variable (named) | |
//! | [`DotEnvSource`] | a `.env` that git tracks or does not ignore, one readable by group or others | git could not be asked |
//! | [`SecretFiles`] | a file writable by group or others, an empty file | a file readable by others (orchestrators mount 0444) |
//! | [`CommandSource`] | a failing, hanging or silent command, output of several lines | |
//! | [`InMemory`] | | |
//!
//! Every loaded value goes straight into the zeroizing [`Credentials`], which registers it with
//! the [tripwire](crate::tripwire); intermediate buffers are zeroized too. A value is never part
//! of an error message: errors name the variable, the path or the command, and what is wrong.
//!
//! # Why loading is async
//!
//! A command source waits for a child process (up to its timeout, 10 s by default), and the
//! `.env` source asks git; [`RotatingCredentials`](super::RotatingCredentials) reloads from a
//! tokio task while requests run. A synchronous loader would block a runtime worker for that
//! long. Loading happens at start and at rotation, never per request, so the boxed future
//! ([`LoadFuture`]) costs nothing that matters and keeps the trait usable as `dyn
//! LoadCredentials`.
//!
//! # Example
//!
//! ```
//! use keyward::credentials::sources::{LoadCredentials, SecretFiles, SourceKind};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! # #[cfg(unix)] {
//! # use std::os::unix::fs::PermissionsExt;
//! for (name, value) in [("api_key", "test-only-key-0123456789\n"), ("api_secret", "test-only-secret-doc\n")] {
//!     let path = dir.path().join(name);
//!     std::fs::write(&path, value).unwrap();
//!     std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
//! }
//! let loaded = SecretFiles::in_dir(dir.path()).load().await.unwrap();
//! assert_eq!(loaded.credentials.fingerprint().to_string(), "…6789");
//! assert_eq!(loaded.provenance.kind(), SourceKind::SecretsFile);
//! assert!(loaded.provenance.warnings().is_empty());
//! # }
//! # });
//! ```

mod command;
#[cfg(feature = "dotenv")]
mod dotenv;
mod env;
mod file;
#[cfg(feature = "dotenv")]
mod git;
mod memory;
mod text;

pub use command::{CommandSource, DEFAULT_COMMAND_TIMEOUT, SecretCommand};
#[cfg(feature = "dotenv")]
pub use dotenv::{DEFAULT_GIT_TIMEOUT, DotEnvSource};
pub use env::EnvSource;
pub use file::{DEFAULT_SECRETS_DIR, SecretFiles};
pub use memory::{InMemory, LoadFn, load_fn};
// For `keyward::__private::fuzzing`: parsers of untrusted text with no public entry point of their own.
#[cfg(feature = "dotenv")]
pub(crate) use dotenv::parse as parse_dotenv;
pub(crate) use text::credential_text;

use super::{CredentialError, Credentials};
use std::{fmt, future::Future, pin::Pin, sync::Arc};

/// The future returned by [`LoadCredentials::load`].
pub type LoadFuture<'a> = Pin<Box<dyn Future<Output = Result<Loaded, CredentialError>> + Send + 'a>>;

/// Loads credentials from somewhere: the one trait every source implements.
///
/// Implement it for a secret manager with an SDK; [`load_fn`] turns a closure into one.
///
/// # Example
///
/// ```
/// use keyward::{Credentials, credentials::sources::{LoadCredentials, LoadFuture, Loaded, Provenance, SourceKind}};
///
/// /// Credentials from a vault with an SDK (here: fixed test values).
/// #[derive(Debug)]
/// struct Vault;
///
/// impl LoadCredentials for Vault {
///     fn load(&self) -> LoadFuture<'_> {
///         Box::pin(async {
///             let credentials = Credentials::new("test-only-key-from-vault-0001", "test-only-secret-vault");
///             let provenance = Provenance::new(SourceKind::Custom("vault")).origin("secret/data/binance");
///             Ok(Loaded { credentials, provenance })
///         })
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let loaded = Vault.load().await.unwrap();
/// assert_eq!(loaded.provenance.to_string(), "vault (secret/data/binance)");
/// # });
/// ```
pub trait LoadCredentials: fmt::Debug + Send + Sync + 'static {
    /// Loads the credentials now, with where they came from.
    fn load(&self) -> LoadFuture<'_>;
}

impl<L: LoadCredentials + ?Sized> LoadCredentials for Arc<L> {
    fn load(&self) -> LoadFuture<'_> {
        (**self).load()
    }
}

impl<L: LoadCredentials + ?Sized> LoadCredentials for Box<L> {
    fn load(&self) -> LoadFuture<'_> {
        (**self).load()
    }
}

/// What a source loaded: the credentials and where they came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The credentials.
    pub credentials: Credentials,
    /// Where they came from, and what the source checked.
    pub provenance: Provenance,
}

/// The kind of source credentials came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SourceKind {
    /// Process environment variables.
    Environment,
    /// A `.env` file, read into memory.
    DotEnv,
    /// Secrets files, as Docker and Kubernetes mount them.
    SecretsFile,
    /// The standard output of a command.
    Command,
    /// Values handed over in memory.
    Memory,
    /// A source outside keyward, by its name.
    Custom(&'static str),
}

impl SourceKind {
    /// A short name: `environment`, `.env`, `secrets file`, `command`, `memory`, or the custom name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Environment => "environment",
            Self::DotEnv => ".env",
            Self::SecretsFile => "secrets file",
            Self::Command => "command",
            Self::Memory => "memory",
            Self::Custom(name) => name,
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where credentials came from: the source, the variables, paths or commands read, the checks
/// that passed and the warnings raised. Never holds a credential.
///
/// # Example
///
/// ```
/// use keyward::credentials::sources::{Provenance, SourceKind};
///
/// let provenance = Provenance::new(SourceKind::Environment)
///     .origin("BINANCE_API_KEY")
///     .origin("BINANCE_API_SECRET")
///     .passed("both variables are set and not empty");
/// assert_eq!(provenance.to_string(), "environment (BINANCE_API_KEY, BINANCE_API_SECRET)");
/// assert!(provenance.warnings().is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    kind: SourceKind,
    origins: Vec<String>,
    passed: Vec<String>,
    warnings: Vec<String>,
}

impl Provenance {
    /// The provenance of credentials from a source of `kind`, with nothing read yet.
    pub fn new(kind: SourceKind) -> Self {
        Self {
            kind,
            origins: Vec::new(),
            passed: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Adds a variable name, path or command that was read.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.add_origin(origin);
        self
    }

    /// Adds a check that passed, as a sentence.
    pub fn passed(mut self, check: impl Into<String>) -> Self {
        self.add_passed(check);
        self
    }

    /// Adds a warning, as a sentence that says the fix.
    pub fn warning(mut self, warning: impl Into<String>) -> Self {
        self.add_warning(warning);
        self
    }

    fn add_origin(&mut self, origin: impl Into<String>) {
        self.origins.push(origin.into());
    }

    fn add_passed(&mut self, check: impl Into<String>) {
        self.passed.push(check.into());
    }

    fn add_warning(&mut self, warning: impl Into<String>) {
        self.warnings.push(warning.into());
    }

    /// The kind of source.
    pub fn kind(&self) -> SourceKind {
        self.kind
    }

    /// The variables, paths or commands read, in order.
    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    /// The checks that passed.
    pub fn checks_passed(&self) -> &[String] {
        &self.passed
    }

    /// The warnings raised: the credentials loaded, but something deserves a fix.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.as_str())?;
        if !self.origins.is_empty() {
            write!(f, " ({})", self.origins.join(", "))?;
        }
        Ok(())
    }
}
