//! Credentials from the standard output of commands: `pass`, `op read`, `vault kv get`.

use super::{LoadCredentials, LoadFuture, Loaded, Provenance, SourceKind, text};
use crate::credentials::{CredentialError, Credentials, SecretString};
use std::{ffi::OsString, fmt, process::Stdio, time::Duration};
use tokio::io::{AsyncRead, AsyncReadExt};
use zeroize::Zeroizing;

/// How long a command may run before it is killed.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of a failing command's standard error goes into the error.
const MAX_STDERR_CHARS: usize = 300;

/// How much standard error is read and kept for scrubbing; the rest is read and dropped, so the
/// command never blocks on a full pipe.
const MAX_STDERR_BYTES: usize = 4096;

/// A program and its arguments whose standard output is one credential.
///
/// The program is started directly, not through a shell, so nothing in the arguments is
/// interpreted. **Credentials must never appear in the arguments**: every user of the machine
/// can read them in `ps` and `/proc/<pid>/cmdline`. Arguments name where the secret is
/// (`exchange/binance/secret`, `op://vault/item/field`), and errors show them.
///
/// - The command gets no standard input and [`DEFAULT_COMMAND_TIMEOUT`] to finish; after that it
///   is killed (its own children are not: give a program that waits for them).
/// - A non-zero exit is an error carrying the start of its standard error, scrubbed of every
///   secret registered with the tripwire and of whatever it printed on standard output. Its
///   standard output is never part of an error.
/// - Output that is empty, not UTF-8, or of several lines (other than a PEM key) is an error;
///   one trailing line break is expected and removed. For `pass` entries whose first line is the
///   password and the rest notes, use [`first_line_only`](Self::first_line_only).
///
/// # Example
///
/// ```
/// use keyward::credentials::{ExposeSecret, sources::SecretCommand};
///
/// # #[cfg(unix)]
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// // Stands in for `pass show exchange/binance/secret`.
/// let command = SecretCommand::new("echo").arg("test-only-secret-from-echo");
/// assert_eq!(command.read_secret().await.unwrap().expose_secret(), "test-only-secret-from-echo");
///
/// let err = SecretCommand::new("false").read_secret().await.unwrap_err();
/// assert_eq!(err.to_string(), "the credential command `false` failed (exit status: 1) with no error output");
/// # });
/// ```
#[derive(Clone)]
pub struct SecretCommand {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    timeout: Duration,
    first_line_only: bool,
}

impl SecretCommand {
    /// Runs `program` (looked up in `PATH` unless it is a path).
    pub fn new(program: impl Into<OsString>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            envs: Vec::new(),
            timeout: DEFAULT_COMMAND_TIMEOUT,
            first_line_only: false,
        }
    }

    /// Adds an argument. Never a credential: see the [type docs](Self).
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments. Never credentials: see the [type docs](Self).
    pub fn args<I: IntoIterator<Item = A>, A: Into<OsString>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for the command only (`PASSWORD_STORE_DIR`, `VAULT_ADDR`).
    pub fn env(mut self, name: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.envs.push((name.into(), value.into()));
        self
    }

    /// How long the command may run before it is killed ([`DEFAULT_COMMAND_TIMEOUT`] by default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Keeps only the first line of the output: `pass`'s convention for entries with notes.
    pub fn first_line_only(mut self) -> Self {
        self.first_line_only = true;
        self
    }

    /// Runs the command and returns its output as a secret.
    ///
    /// The secret is not registered with the tripwire: [`Credentials`] register what goes into
    /// them.
    pub async fn read_secret(&self) -> Result<SecretString, CredentialError> {
        self.run()
            .await
            .map(|value| SecretString::from(text::into_secret(value)))
    }

    async fn run(&self) -> Result<Zeroizing<String>, CredentialError> {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(&self.args)
            .envs(self.envs.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|err| CredentialError::CommandNotStarted {
            command: self.to_string(),
            problem: match err.kind() {
                std::io::ErrorKind::NotFound => {
                    "the program was not found: install it, or give its full path".to_owned()
                }
                std::io::ErrorKind::PermissionDenied => "the program is not executable".to_owned(),
                _ => err.to_string(),
            },
        })?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let finished = tokio::time::timeout(self.timeout, async {
            tokio::join!(
                read_capped(stdout, text::MAX_SECRET_BYTES),
                read_capped(stderr, MAX_STDERR_BYTES),
                child.wait()
            )
        })
        .await;
        let Ok((stdout, stderr, status)) = finished else {
            // Waits for the kill, so that no child outlives the error.
            let _ = child.kill().await;
            return Err(CredentialError::CommandTimedOut {
                command: self.to_string(),
                timeout: self.timeout,
            });
        };
        let status = status.map_err(|err| CredentialError::CommandNotStarted {
            command: self.to_string(),
            problem: err.to_string(),
        })?;
        if !status.success() {
            return Err(CredentialError::CommandFailed {
                command: self.to_string(),
                status: status.to_string(),
                stderr: scrubbed(&stderr.bytes, &stdout.bytes),
            });
        }
        let location = format!("the output of `{self}`");
        if stdout.overflowed {
            return Err(CredentialError::Malformed {
                location,
                problem: format!(
                    "it is longer than {} KiB, and a credential is one value",
                    text::MAX_SECRET_BYTES / 1024
                ),
            });
        }
        let output: &[u8] = if self.first_line_only {
            stdout.bytes.split(|&b| b == b'\n').next().unwrap_or_default()
        } else {
            &stdout.bytes
        };
        text::credential_text(output, &location)
    }
}

impl fmt::Display for SecretCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.program.to_string_lossy())?;
        for arg in &self.args {
            write!(f, " {}", arg.to_string_lossy())?;
        }
        Ok(())
    }
}

impl fmt::Debug for SecretCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Environment values are left out: a user may have put a token there.
        let env_names: Vec<_> = self.envs.iter().map(|(name, _)| name).collect();
        f.debug_struct("SecretCommand")
            .field("command", &format_args!("{self}"))
            .field("env", &env_names)
            .field("timeout", &self.timeout)
            .field("first_line_only", &self.first_line_only)
            .finish()
    }
}

/// What was read from a pipe: the first `cap` bytes, zeroized on drop.
struct Captured {
    bytes: Zeroizing<Vec<u8>>,
    overflowed: bool,
}

async fn read_capped(pipe: Option<impl AsyncRead + Unpin>, cap: usize) -> Captured {
    let mut captured = Captured {
        bytes: Zeroizing::new(Vec::with_capacity(cap.min(8192))),
        overflowed: false,
    };
    let Some(mut pipe) = pipe else {
        return captured;
    };
    let mut chunk = Zeroizing::new([0u8; 4096]);
    loop {
        match pipe.read(&mut chunk[..]).await {
            Ok(0) | Err(_) => return captured,
            Ok(read) => {
                let room = cap - captured.bytes.len();
                if read > room {
                    captured.overflowed = true;
                }
                let keep = read.min(room);
                if captured.bytes.capacity() - captured.bytes.len() < keep {
                    // Grow by hand into a fresh zeroizing buffer: a plain reallocation would leave
                    // a copy of the output in freed memory.
                    let mut grown = Zeroizing::new(Vec::with_capacity(cap));
                    grown.extend_from_slice(&captured.bytes);
                    captured.bytes = grown;
                }
                captured.bytes.extend_from_slice(&chunk[..keep]);
            }
        }
    }
}

/// The start of `stderr` as one line, without registered secrets nor anything printed on
/// `stdout` (not registered yet, and possibly a secret the command echoed).
fn scrubbed(stderr: &[u8], stdout: &[u8]) -> String {
    let mut text = Zeroizing::new(String::from_utf8_lossy(stderr).into_owned());
    let stdout = Zeroizing::new(String::from_utf8_lossy(stdout).into_owned());
    for line in stdout.lines().map(str::trim).filter(|line| line.len() >= 4) {
        *text = text.replace(line, "[REDACTED]");
    }
    #[cfg(feature = "tripwire")]
    {
        let registry = crate::tripwire::Registry::global();
        *text = registry.scrub_str(&text).into_owned();
    }
    let one_line = text
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" | ");
    let mut shown: String = one_line
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_STDERR_CHARS)
        .collect();
    if one_line.chars().count() > MAX_STDERR_CHARS {
        shown.push('…');
    }
    shown
}

/// Credentials from one command each for the key, the secret and, optionally, the passphrase.
///
/// The commands run one after the other, so that a tool which prompts (a GPG pinentry, a
/// 1Password unlock) prompts once and then serves the rest from its agent.
///
/// # Example
///
/// ```
/// use keyward::credentials::sources::{CommandSource, LoadCredentials, SecretCommand};
///
/// let source = CommandSource::new(
///     SecretCommand::new("pass").args(["show", "exchange/okx/key"]),
///     SecretCommand::new("pass").args(["show", "exchange/okx/secret"]),
/// )
/// .passphrase(SecretCommand::new("op").args(["read", "op://trading/okx/passphrase"]));
/// assert_eq!(
///     source.to_string(),
///     "`pass show exchange/okx/key`, `pass show exchange/okx/secret`, `op read op://trading/okx/passphrase`"
/// );
/// ```
#[derive(Debug, Clone)]
pub struct CommandSource {
    api_key: SecretCommand,
    api_secret: SecretCommand,
    api_passphrase: Option<SecretCommand>,
}

impl CommandSource {
    /// The key from the output of `api_key`, the secret from that of `api_secret`.
    pub fn new(api_key: SecretCommand, api_secret: SecretCommand) -> Self {
        Self {
            api_key,
            api_secret,
            api_passphrase: None,
        }
    }

    /// The passphrase from the output of `command`.
    pub fn passphrase(mut self, command: SecretCommand) -> Self {
        self.api_passphrase = Some(command);
        self
    }

    async fn load_all(&self) -> Result<Loaded, CredentialError> {
        let api_key = self.api_key.run().await?;
        let api_secret = self.api_secret.run().await?;
        let credentials = Credentials::new(text::into_secret(api_key), text::into_secret(api_secret));
        let credentials = match &self.api_passphrase {
            Some(command) => credentials.with_passphrase(text::into_secret(command.run().await?)),
            None => credentials,
        };
        let provenance = self
            .commands()
            .fold(Provenance::new(SourceKind::Command), |provenance, command| {
                provenance.origin(format!("`{command}`"))
            })
            .passed("every command succeeded within its timeout and printed one value");
        Ok(Loaded {
            credentials,
            provenance,
        })
    }

    fn commands(&self) -> impl Iterator<Item = &SecretCommand> {
        [&self.api_key, &self.api_secret]
            .into_iter()
            .chain(&self.api_passphrase)
    }
}

impl fmt::Display for CommandSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, command) in self.commands().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            write!(f, "`{command}`")?;
        }
        Ok(())
    }
}

impl LoadCredentials for CommandSource {
    fn load(&self) -> LoadFuture<'_> {
        Box::pin(self.load_all())
    }
}
