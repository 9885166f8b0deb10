//! Credentials from files, as Docker and Kubernetes mount secrets.

use super::{LoadCredentials, LoadFuture, Loaded, Provenance, SourceKind, text};
use crate::credentials::{CredentialError, Credentials};
use std::{
    io::Read,
    path::{Path, PathBuf},
};
use zeroize::Zeroizing;

/// Where Docker (swarm and compose) mounts secrets.
pub const DEFAULT_SECRETS_DIR: &str = "/run/secrets";

/// Credentials from one file each for the key, the secret and the passphrase.
///
/// Either a folder as orchestrators mount it (`/run/secrets/api_key`, `api_secret`,
/// `api_passphrase`; the names can be changed), or explicit paths. Each file holds one value; a
/// trailing line break is removed.
///
/// - A file writable by group or others is refused: whoever can write it can swap in their key.
/// - A file readable by others is refused (`chmod 600`), except in a container's secrets mount
///   (under `/run/secrets` or `/var/run/secrets`, or a folder marked with
///   [`orchestrator_mount`](Self::orchestrator_mount)), where it is a warning: Docker and
///   Kubernetes mount secrets 0444 by default, inside a container whose only user is the bot. A
///   file readable by its group is a warning.
/// - An empty file, or one with several lines (other than a PEM key), is refused.
///
/// Files are small and usually on a tmpfs, so they are read synchronously.
///
/// # Example
///
/// ```
/// use keyward::credentials::{CredentialError, sources::{LoadCredentials, SecretFiles}};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// # use std::os::unix::fs::PermissionsExt;
/// for (name, value) in [("binance_key", "test-only-key-0123456789\n"), ("binance_secret", "")] {
///     let path = dir.path().join(name);
///     std::fs::write(&path, value).unwrap();
///     std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
/// }
///
/// let source = SecretFiles::in_dir_with_names(dir.path(), "binance_key", "binance_secret", "binance_passphrase");
/// let err = source.load().await.unwrap_err();
/// assert!(matches!(err, CredentialError::Empty { .. }));
/// assert!(err.to_string().contains("binance_secret is empty"), "{err}");
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct SecretFiles {
    api_key: PathBuf,
    api_secret: PathBuf,
    api_passphrase: Option<PathBuf>,
    passphrase_required: bool,
    orchestrator_mount: bool,
}

impl SecretFiles {
    /// The files `api_key`, `api_secret` and, if it exists, `api_passphrase` in `dir`.
    pub fn in_dir(dir: impl AsRef<Path>) -> Self {
        Self::in_dir_with_names(dir, "api_key", "api_secret", "api_passphrase")
    }

    /// The files with these names in `dir`; the passphrase file is read if it exists.
    pub fn in_dir_with_names(dir: impl AsRef<Path>, api_key: &str, api_secret: &str, api_passphrase: &str) -> Self {
        let dir = dir.as_ref();
        Self {
            api_key: dir.join(api_key),
            api_secret: dir.join(api_secret),
            api_passphrase: Some(dir.join(api_passphrase)),
            passphrase_required: false,
            orchestrator_mount: false,
        }
    }

    /// The key and the secret from these files, and no passphrase.
    pub fn at(api_key: impl Into<PathBuf>, api_secret: impl Into<PathBuf>) -> Self {
        Self {
            api_key: api_key.into(),
            api_secret: api_secret.into(),
            api_passphrase: None,
            passphrase_required: false,
            orchestrator_mount: false,
        }
    }

    /// The passphrase from this file, which must exist.
    pub fn passphrase_at(mut self, path: impl Into<PathBuf>) -> Self {
        self.api_passphrase = Some(path.into());
        self.passphrase_required = true;
        self
    }

    /// Marks these files as a container's secrets mount, where a world-readable file (0444, as
    /// Docker and Kubernetes mount them) is expected: a warning instead of a refusal. Paths under
    /// `/run/secrets` and `/var/run/secrets` are treated so without it.
    pub fn orchestrator_mount(mut self) -> Self {
        self.orchestrator_mount = true;
        self
    }

    /// Whether a missing passphrase file is an error (for the exchanges whose keys have one).
    pub fn require_passphrase(mut self, required: bool) -> Self {
        self.passphrase_required = required;
        self
    }

    fn load_files(&self) -> Result<Loaded, CredentialError> {
        let mut provenance = Provenance::new(SourceKind::SecretsFile);
        let api_key = read_secret_file(&self.api_key, self.orchestrator_mount, &mut provenance)?;
        let api_secret = read_secret_file(&self.api_secret, self.orchestrator_mount, &mut provenance)?;
        let credentials = Credentials::new(text::into_secret(api_key), text::into_secret(api_secret));
        let passphrase = match &self.api_passphrase {
            // A missing required file is reported by the read, like the key's and the secret's.
            Some(path) if self.passphrase_required || path.exists() => {
                Some(read_secret_file(path, self.orchestrator_mount, &mut provenance)?)
            }
            _ => None,
        };
        let credentials = match passphrase {
            Some(passphrase) => credentials.with_passphrase(text::into_secret(passphrase)),
            None => credentials,
        };
        Ok(Loaded {
            credentials,
            provenance,
        })
    }
}

impl LoadCredentials for SecretFiles {
    fn load(&self) -> LoadFuture<'_> {
        Box::pin(async move { self.load_files() })
    }
}

/// The value in the file at `path`, after its permission checks, noted in `provenance`.
fn read_secret_file(
    path: &Path,
    orchestrator_mount: bool,
    provenance: &mut Provenance,
) -> Result<Zeroizing<String>, CredentialError> {
    let location = path.display().to_string();
    let unreadable = |problem: String| CredentialError::Unreadable {
        location: location.clone(),
        problem,
    };
    let file = std::fs::File::open(path).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => CredentialError::Missing {
            location: location.clone(),
            fix: "mount the secret there, or give the path where it is mounted".to_owned(),
        },
        _ => unreadable(err.to_string()),
    })?;
    // The checks read the opened file, not the path, so a swap between check and read is moot.
    let metadata = file.metadata().map_err(|err| unreadable(err.to_string()))?;
    if !metadata.is_file() {
        return Err(unreadable("it is not a regular file".to_owned()));
    }
    provenance.add_origin(&location);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o022 != 0 {
            return Err(CredentialError::Refused {
                location,
                problem: format!("its mode is {mode:04o}, so other users can replace the credential"),
                fix: format!("chmod go-w {}", path.display()),
            });
        }
        let in_mount =
            orchestrator_mount || path.starts_with(DEFAULT_SECRETS_DIR) || path.starts_with("/var/run/secrets");
        if mode & 0o004 != 0 && !in_mount {
            return Err(CredentialError::Refused {
                location,
                problem: format!("its mode is {mode:04o}, so every user of this host can read the credential"),
                fix: format!(
                    "chmod 600 {} (or, for a container's secrets mount, mark it with SecretFiles::orchestrator_mount)",
                    path.display()
                ),
            });
        }
        if mode & 0o044 != 0 {
            provenance.add_warning(format!(
                "{location} is readable by group or others (mode {mode:04o}): expected for a container's \
                 secrets mount; elsewhere run `chmod 600 {location}`"
            ));
        } else {
            provenance.add_passed(format!("{location}: mode {mode:04o}, only its owner can read it"));
        }
    }
    #[cfg(not(unix))]
    provenance.add_warning(format!(
        "{location}: file permissions are not checked on this platform: make sure only the bot can read it"
    ));
    let capacity = usize::try_from(metadata.len()).unwrap_or(0).min(text::MAX_SECRET_BYTES) + 1;
    let mut raw = Zeroizing::new(Vec::with_capacity(capacity));
    file.take(text::MAX_SECRET_BYTES as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|err| unreadable(err.to_string()))?;
    if raw.len() > text::MAX_SECRET_BYTES {
        return Err(CredentialError::Malformed {
            location,
            problem: format!(
                "it is larger than {} KiB, and a credential file holds one value",
                text::MAX_SECRET_BYTES / 1024
            ),
        });
    }
    text::credential_text(&raw, &location)
}
