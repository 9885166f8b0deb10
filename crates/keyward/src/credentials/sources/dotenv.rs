//! Credentials from a `.env` file, read into memory.

use super::{
    EnvSource, LoadCredentials, LoadFuture, Loaded, Provenance, SourceKind,
    git::{self, GitStatus},
    text::MAX_SECRET_BYTES,
};
use crate::credentials::CredentialError;
use std::{
    collections::HashMap,
    io::Read,
    path::{Path, PathBuf},
    time::Duration,
};
use zeroize::Zeroizing;

/// How long each git command may take before the check gives up (with a warning).
pub const DEFAULT_GIT_TIMEOUT: Duration = Duration::from_secs(5);

/// Credentials from a `.env` file, with the variable names of an [`EnvSource`].
///
/// The file is parsed by `dotenvy` into memory, never into the process environment, so child
/// processes do not inherit the secrets. It is refused, with the fix, when:
///
/// - it is readable or writable by group or others (unix mode `& 0o077`): `chmod 600 .env`;
/// - git tracks it: the secrets are in the repository's history;
/// - it is inside a git working tree and not ignored: the next `git add .` commits it.
///
/// Without git, or outside a repository, the git checks do not refuse; when git cannot answer
/// (a timeout, a repository of another owner) the file loads with a warning. A parse error
/// names the line, never its content.
///
/// # Example
///
/// ```
/// use keyward::credentials::{CredentialError, sources::{EnvSource, LoadCredentials}};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join(".env");
/// std::fs::write(&path, "BINANCE_API_KEY=test-only-key-0123456789\nBINANCE_API_SECRET=test-only-secret\n").unwrap();
/// # #[cfg(unix)] {
/// use std::os::unix::fs::PermissionsExt;
/// std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
///
/// let source = EnvSource::with_prefix("BINANCE").dotenv(&path);
/// let err = source.load().await.unwrap_err();
/// assert!(err.to_string().contains("chmod 600"), "{err}");
///
/// std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
/// let loaded = source.load().await.unwrap();
/// assert_eq!(loaded.credentials.fingerprint().to_string(), "…6789");
/// # }
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct DotEnvSource {
    path: PathBuf,
    variables: EnvSource,
    git_timeout: Duration,
}

impl DotEnvSource {
    /// The variables of `variables` from the file at `path` (usually `.env`).
    pub fn new(path: impl Into<PathBuf>, variables: EnvSource) -> Self {
        Self {
            path: path.into(),
            variables,
            git_timeout: DEFAULT_GIT_TIMEOUT,
        }
    }

    /// How long each git command may take ([`DEFAULT_GIT_TIMEOUT`] by default).
    pub fn git_timeout(mut self, timeout: Duration) -> Self {
        self.git_timeout = timeout;
        self
    }

    /// The file read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn location(&self) -> String {
        format!(".env file {}", self.path.display())
    }

    async fn load_checked(&self) -> Result<Loaded, CredentialError> {
        let location = self.location();
        let provenance = Provenance::new(SourceKind::DotEnv).origin(self.path.display().to_string());
        let (content, provenance) = self.read_private_file(provenance)?;
        let provenance = self.check_git(provenance).await?;
        let variables = parse(&content, &location)?;
        let describe = |name: &str| format!("{name} in {location}");
        let lookup = |name: &str| Ok(variables.get(name).cloned());
        let (credentials, used) =
            self.variables
                .credentials_from(&lookup, &describe, "add it to the file, or export it instead")?;
        let provenance = used.into_iter().fold(provenance, Provenance::origin);
        Ok(Loaded {
            credentials,
            provenance,
        })
    }

    /// The file's content, after checking that only its owner can read it.
    fn read_private_file(&self, provenance: Provenance) -> Result<(Zeroizing<String>, Provenance), CredentialError> {
        let location = self.location();
        let file = std::fs::File::open(&self.path).map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound => CredentialError::Missing {
                location: location.clone(),
                fix: "create it (mode 600, listed in .gitignore), or export the variables instead".to_owned(),
            },
            _ => CredentialError::Unreadable {
                location: location.clone(),
                problem: err.to_string(),
            },
        })?;
        let metadata = file.metadata().map_err(|err| CredentialError::Unreadable {
            location: location.clone(),
            problem: err.to_string(),
        })?;
        if !metadata.is_file() {
            return Err(CredentialError::Unreadable {
                location,
                problem: "it is not a regular file".to_owned(),
            });
        }
        #[cfg(unix)]
        let provenance = {
            use std::os::unix::fs::PermissionsExt;
            let mode = metadata.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(CredentialError::Refused {
                    location,
                    problem: format!("its mode is {mode:04o}, so other users of this machine can read the secrets"),
                    fix: format!("chmod 600 {}", self.path.display()),
                });
            }
            provenance.passed(format!("mode {mode:04o}: only its owner can read it"))
        };
        #[cfg(not(unix))]
        let provenance =
            provenance.warning("file permissions are not checked on this platform: make sure only you can read it");
        let mut content = Zeroizing::new(String::with_capacity(capacity(&metadata)));
        let read = file
            .take(MAX_DOTENV_BYTES + 1)
            .read_to_string(&mut content)
            .map_err(|err| CredentialError::Unreadable {
                location: location.clone(),
                problem: format!("{} (a .env file must be UTF-8 text)", err.kind()),
            })?;
        if read as u64 > MAX_DOTENV_BYTES {
            return Err(CredentialError::Malformed {
                location,
                problem: format!("it is larger than {} KiB", MAX_DOTENV_BYTES / 1024),
            });
        }
        Ok((content, provenance))
    }

    async fn check_git(&self, provenance: Provenance) -> Result<Provenance, CredentialError> {
        let file = self
            .path
            .file_name()
            .map_or_else(|| ".env".into(), |f| f.to_string_lossy());
        match git::status(&self.path, self.git_timeout).await {
            GitStatus::Tracked => Err(CredentialError::Refused {
                location: self.location(),
                problem: "git tracks it, so its secrets are in the repository and its history".to_owned(),
                fix: format!(
                    "run `git rm --cached {file}`, add `{file}` to .gitignore, and rotate the keys on the \
                     exchange: anyone with a clone has them"
                ),
            }),
            GitStatus::NotIgnored => Err(CredentialError::Refused {
                location: self.location(),
                problem: "it is inside a git repository and not ignored, so the next `git add .` commits it".to_owned(),
                fix: format!("add `{file}` to .gitignore"),
            }),
            GitStatus::Ignored => Ok(provenance.passed("git ignores it and does not track it")),
            GitStatus::NotARepository => Ok(provenance.passed("it is not inside a git repository")),
            GitStatus::NoGit => Ok(
                provenance.warning("git is not installed, so whether a repository tracks this file was not checked")
            ),
            GitStatus::Unknown(why) => Ok(provenance.warning(format!(
                "git could not tell whether it tracks or ignores this file ({why}): check it is in .gitignore"
            ))),
        }
    }
}

/// A `.env` holding more than this is not a credentials file.
const MAX_DOTENV_BYTES: u64 = 4 * MAX_SECRET_BYTES as u64;

fn capacity(metadata: &std::fs::Metadata) -> usize {
    // Reserving the whole file up front avoids reallocations, which would leave copies of the
    // secrets in freed memory that `Zeroizing` never sees.
    usize::try_from(metadata.len().min(MAX_DOTENV_BYTES) + 1).unwrap_or(0)
}

impl LoadCredentials for DotEnvSource {
    fn load(&self) -> LoadFuture<'_> {
        Box::pin(self.load_checked())
    }
}

/// The variables of a `.env` file's content, values zeroized on drop.
pub(crate) fn parse(content: &str, location: &str) -> Result<HashMap<String, Zeroizing<String>>, CredentialError> {
    let mut variables = HashMap::new();
    for item in dotenvy::from_read_iter(content.as_bytes()) {
        match item {
            Ok((name, value)) => {
                variables.insert(name, Zeroizing::new(value));
            }
            // dotenvy's message quotes the offending line, which may hold a secret: report only
            // which line it is.
            Err(dotenvy::Error::LineParse(line, index)) => {
                let line = Zeroizing::new(line);
                let number = line_number(content, &line);
                return Err(CredentialError::Malformed {
                    location: match number {
                        Some(number) => format!("{location}, line {number},"),
                        None => location.to_owned(),
                    },
                    problem: format!(
                        "it cannot be parsed (at character {index} of the entry): check its quoting; the \
                         line is not shown because it may hold a secret"
                    ),
                });
            }
            Err(dotenvy::Error::EnvVar(_)) => {
                return Err(CredentialError::Malformed {
                    location: location.to_owned(),
                    problem: "a variable substitution cannot be resolved".to_owned(),
                });
            }
            Err(err) => {
                return Err(CredentialError::Unreadable {
                    location: location.to_owned(),
                    problem: match err {
                        dotenvy::Error::Io(err) => err.kind().to_string(),
                        _ => "it cannot be parsed".to_owned(),
                    },
                });
            }
        }
    }
    Ok(variables)
}

/// The 1-based number of the line where `entry` starts in `content`.
fn line_number(content: &str, entry: &str) -> Option<usize> {
    let first_line = entry.lines().next().filter(|line| !line.trim().is_empty())?;
    let offset = content.find(first_line)?;
    Some(content[..offset].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_error_names_the_line_not_its_content() {
        let content = "A=1\nBINANCE_API_SECRET=\"test-only-secret-unterminated\nB=2\n";
        let err = parse(content, ".env file x").unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(!err.contains("test-only-secret-unterminated"), "{err}");
    }
}
