//! Credential sources against real files, real git repositories and real processes.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keyward::{
    Credentials,
    credentials::{
        CredentialError, ExposeSecret,
        sources::{CommandSource, EnvSource, LoadCredentials, SecretCommand, SecretFiles, SourceKind},
    },
    exchange,
};
use std::{
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const KEY: &str = "test-only-key-0123456789";
const SECRET: &str = "test-only-secret-sources";

fn write_with_mode(path: &Path, content: &str, mode: u32) {
    fs::write(path, content).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// Asserts that neither the error's message nor its `Debug` shows `secret`.
fn assert_hides(err: &CredentialError, secret: &str) {
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(secret), "{shown}");
}

// ---------------------------------------------------------------------------------------------
// Environment

#[tokio::test]
async fn env_missing_variable_is_named() {
    let err = EnvSource::with_prefix("KEYWARD_TEST_ABSENT").load().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "environment variable KEYWARD_TEST_ABSENT_API_KEY is missing: export it, or load credentials from a \
         secrets file or a command"
    );
}

#[test]
fn env_default_prefix_is_the_exchange_name() {
    let binance = EnvSource::for_exchange(exchange::by_name("binance").unwrap());
    assert_eq!(
        binance.variable_names(),
        ["BINANCE_API_KEY", "BINANCE_API_SECRET", "BINANCE_API_PASSPHRASE"]
    );
    let trailing = EnvSource::with_prefix("MYBOT_");
    assert_eq!(trailing.variable_names()[0], "MYBOT_API_KEY");
}

/// `std::env::set_var` is `unsafe` (and `unsafe` is forbidden here), so the checks that need
/// variables run in a child: this test binary, with the variables set, running one ignored test.
#[test]
fn env_set_empty_and_required_variables() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "env_checks_in_child", "--ignored", "--test-threads=1"])
        .env("KEYWARD_TEST_EMPTY_API_KEY", KEY)
        .env("KEYWARD_TEST_EMPTY_API_SECRET", "")
        .env("KEYWARD_TEST_FULL_API_KEY", KEY)
        .env("KEYWARD_TEST_FULL_API_SECRET", format!("{SECRET}\n"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
#[ignore = "run with its variables by env_set_empty_and_required_variables"]
async fn env_checks_in_child() {
    let err = EnvSource::with_prefix("KEYWARD_TEST_EMPTY").load().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "environment variable KEYWARD_TEST_EMPTY_API_SECRET is empty: set it to the value the exchange issued"
    );

    let loaded = EnvSource::with_prefix("KEYWARD_TEST_FULL").load().await.unwrap();
    assert_eq!(
        loaded.credentials.secret().expose_secret(),
        SECRET,
        "trailing newline trimmed"
    );
    assert!(loaded.credentials.passphrase().is_none());
    assert_eq!(loaded.provenance.kind(), SourceKind::Environment);
    assert_eq!(
        loaded.provenance.origins(),
        ["KEYWARD_TEST_FULL_API_KEY", "KEYWARD_TEST_FULL_API_SECRET"]
    );

    let okx = EnvSource::for_exchange(exchange::by_name("okx").unwrap()).prefix("KEYWARD_TEST_FULL");
    let err = okx.load().await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("environment variable KEYWARD_TEST_FULL_API_PASSPHRASE is missing"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// .env

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("git is needed for these tests: apt-get install git");
    assert!(status.success(), "git {args:?}");
}

fn dotenv_in(dir: &Path, mode: u32) -> PathBuf {
    let path = dir.join(".env");
    write_with_mode(
        &path,
        &format!("# test fixture\nKEYWARD_API_KEY={KEY}\nKEYWARD_API_SECRET=\"{SECRET}\"\n"),
        mode,
    );
    path
}

fn dotenv_source(path: &Path) -> keyward::credentials::sources::DotEnvSource {
    EnvSource::with_prefix("KEYWARD").dotenv(path)
}

#[tokio::test]
async fn dotenv_outside_a_repository_loads_into_memory_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dotenv_in(dir.path(), 0o600);
    let loaded = dotenv_source(&path).load().await.unwrap();
    assert_eq!(loaded.credentials.api_key().expose(), KEY);
    assert_eq!(loaded.credentials.secret().expose_secret(), SECRET);
    assert_eq!(loaded.provenance.kind(), SourceKind::DotEnv);
    assert_eq!(
        loaded.provenance.checks_passed(),
        [
            "mode 0600: only its owner can read it",
            "it is not inside a git repository"
        ]
    );
    assert!(loaded.provenance.warnings().is_empty());
    assert!(
        std::env::var_os("KEYWARD_API_SECRET").is_none(),
        "never put into the environment"
    );
}

#[tokio::test]
async fn dotenv_readable_by_others_is_refused_with_chmod() {
    let dir = tempfile::tempdir().unwrap();
    let path = dotenv_in(dir.path(), 0o644);
    let err = dotenv_source(&path).load().await.unwrap_err();
    assert!(matches!(err, CredentialError::Refused { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "refusing to load credentials from .env file {0}: its mode is 0644, so other users of this machine \
             can read the secrets; fix: chmod 600 {0}",
            path.display()
        )
    );
    assert_hides(&err, SECRET);

    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    assert!(
        dotenv_source(&path)
            .load()
            .await
            .unwrap_err()
            .to_string()
            .contains("chmod 600")
    );
}

#[tokio::test]
async fn dotenv_tracked_by_git_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    let path = dotenv_in(dir.path(), 0o600);
    git(dir.path(), &["add", ".env"]);
    // Ignoring a tracked file does not untrack it: still refused.
    fs::write(dir.path().join(".gitignore"), ".env\n").unwrap();

    let err = dotenv_source(&path).load().await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("git tracks it"), "{message}");
    assert!(message.contains("git rm --cached .env"), "{message}");
    assert_hides(&err, SECRET);
}

#[tokio::test]
async fn dotenv_not_ignored_in_a_repository_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    fs::create_dir(dir.path().join("bot")).unwrap();
    let path = dotenv_in(&dir.path().join("bot"), 0o600);

    let err = dotenv_source(&path).load().await.unwrap_err();
    assert!(
        err.to_string().ends_with(
            "inside a git repository and not ignored, so the next `git add .` commits it; fix: add `.env` to .gitignore"
        ),
        "{err}"
    );

    // Ignored from the repository's root, the file in a subfolder loads.
    fs::write(dir.path().join(".gitignore"), ".env\n").unwrap();
    let loaded = dotenv_source(&path).load().await.unwrap();
    assert!(
        loaded
            .provenance
            .checks_passed()
            .contains(&"git ignores it and does not track it".to_owned())
    );
}

#[tokio::test]
async fn dotenv_parse_error_names_the_line_not_its_content() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    write_with_mode(
        &path,
        &format!("KEYWARD_API_KEY={KEY}\nKEYWARD_API_SECRET='{SECRET}\n"),
        0o600,
    );
    let err = dotenv_source(&path).load().await.unwrap_err();
    assert!(err.to_string().contains("line 2"), "{err}");
    assert_hides(&err, SECRET);
}

#[tokio::test]
async fn dotenv_missing_or_empty_variable_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    write_with_mode(&path, &format!("KEYWARD_API_KEY={KEY}\nKEYWARD_API_SECRET=\n"), 0o600);
    let err = dotenv_source(&path).load().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "KEYWARD_API_SECRET in .env file {} is empty: set it to the value the exchange issued",
            path.display()
        )
    );

    let err = EnvSource::with_prefix("OTHER").dotenv(&path).load().await.unwrap_err();
    assert!(err.to_string().starts_with("OTHER_API_KEY in .env file"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Secrets files

fn secrets_dir(mode: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_with_mode(&dir.path().join("api_key"), &format!("{KEY}\n"), mode);
    write_with_mode(&dir.path().join("api_secret"), &format!("{SECRET}\n"), mode);
    dir
}

#[tokio::test]
async fn a_world_readable_secrets_file_outside_a_container_mount_is_refused() {
    let dir = secrets_dir(0o444);
    let err = SecretFiles::in_dir(dir.path()).load().await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("every user of this host can read"), "{message}");
    assert!(message.contains("chmod 600"), "{message}");
    assert!(!message.contains(SECRET) && !message.contains(KEY), "{message}");
}

#[tokio::test]
async fn secrets_mounted_0444_load_with_a_warning() {
    let dir = secrets_dir(0o444);
    let loaded = SecretFiles::in_dir(dir.path())
        .orchestrator_mount()
        .load()
        .await
        .unwrap();
    assert_eq!(loaded.credentials.api_key().expose(), KEY);
    assert_eq!(loaded.credentials.secret().expose_secret(), SECRET);
    assert!(loaded.credentials.passphrase().is_none());
    let warnings = loaded.provenance.warnings();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[1].contains("api_secret is readable by group or others (mode 0444)"),
        "{warnings:?}"
    );
    assert!(warnings[1].contains("chmod 600"), "{warnings:?}");
}

#[tokio::test]
async fn secrets_private_files_load_without_warnings() {
    let dir = secrets_dir(0o400);
    write_with_mode(&dir.path().join("api_passphrase"), "test-only-passphrase\n", 0o600);
    let loaded = SecretFiles::in_dir(dir.path()).load().await.unwrap();
    assert!(loaded.provenance.warnings().is_empty());
    assert_eq!(loaded.provenance.origins().len(), 3);
    assert_eq!(
        loaded.credentials.passphrase().unwrap().expose_secret(),
        "test-only-passphrase"
    );
}

#[tokio::test]
async fn secrets_writable_by_others_are_refused() {
    let dir = secrets_dir(0o666);
    let err = SecretFiles::in_dir(dir.path()).load().await.unwrap_err();
    let key = dir.path().join("api_key");
    assert_eq!(
        err.to_string(),
        format!(
            "refusing to load credentials from {0}: its mode is 0666, so other users can replace the \
             credential; fix: chmod go-w {0}",
            key.display()
        )
    );
}

#[tokio::test]
async fn secrets_empty_missing_and_multiline_files_are_refused() {
    let dir = secrets_dir(0o400);
    let passphrase = dir.path().join("pass");
    write_with_mode(&passphrase, "\n", 0o400);
    let source = SecretFiles::at(dir.path().join("api_key"), dir.path().join("api_secret")).passphrase_at(&passphrase);
    let err = source.load().await.unwrap_err();
    assert_eq!(
        err,
        CredentialError::Empty {
            location: passphrase.display().to_string()
        }
    );

    let err = SecretFiles::in_dir(dir.path())
        .require_passphrase(true)
        .load()
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("{} is missing", dir.path().join("api_passphrase").display())),
        "{err}"
    );

    let garbage = dir.path().join("garbage");
    write_with_mode(&garbage, &format!("{SECRET}\n{SECRET}\n"), 0o400);
    let err = SecretFiles::at(dir.path().join("api_key"), &garbage)
        .load()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("it has 2 lines"), "{err}");
    assert_hides(&err, SECRET);
}

// ---------------------------------------------------------------------------------------------
// Commands

fn sh(script: &str) -> SecretCommand {
    SecretCommand::new("sh").args(["-c", script])
}

#[tokio::test]
async fn command_output_is_the_secret() {
    // The values reach the scripts through their environment: never through arguments, which
    // the errors (and `ps`) show.
    let source = CommandSource::new(
        sh(r#"echo "$VALUE""#).env("VALUE", KEY),
        sh(r#"printf '%s\n' "$VALUE""#).env("VALUE", SECRET),
    )
    .passphrase(sh("printf 'test-only-passphrase\\nurl: https://example.invalid\\n'").first_line_only());
    let loaded = source.load().await.unwrap();
    assert_eq!(loaded.credentials.api_key().expose(), KEY);
    assert_eq!(loaded.credentials.secret().expose_secret(), SECRET);
    assert_eq!(
        loaded.credentials.passphrase().unwrap().expose_secret(),
        "test-only-passphrase"
    );
    assert_eq!(loaded.provenance.kind(), SourceKind::Command);
    assert_eq!(loaded.provenance.origins()[0], r#"`sh -c echo "$VALUE"`"#);
}

#[tokio::test]
async fn failing_command_reports_stderr_never_stdout() {
    let command = sh(r#"echo "$VALUE"; echo "vault: permission denied for $VALUE" >&2; exit 3"#)
        .env("VALUE", "test-only-secret-on-stdout");
    let err = command.read_secret().await.unwrap_err();
    let CredentialError::CommandFailed { status, stderr, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(status, "exit status: 3");
    assert_eq!(stderr, "vault: permission denied for [REDACTED]");
    assert_hides(&err, "test-only-secret-on-stdout");
}

#[tokio::test]
async fn failing_command_stderr_is_scrubbed_of_registered_secrets_and_truncated() {
    let registered = "test-only-secret-registered-3f9a";
    let _credentials = Credentials::new("test-only-key-registered-0001", registered);
    let err = sh(r#"echo "token $VALUE rejected" >&2; head -c 1000 /dev/zero | tr '\0' x >&2; exit 1"#)
        .env("VALUE", registered)
        .read_secret()
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("token [REDACTED] rejected | xxx"), "{message}");
    assert!(message.ends_with('…'), "{message}");
    assert!(message.len() < 500, "{message}");
    assert_hides(&err, registered);
}

#[tokio::test]
async fn hanging_command_is_killed_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let command = sh(&format!("echo $$ > {}; exec sleep 30", pid_file.display())).timeout(Duration::from_millis(300));
    let started = Instant::now();
    let err = command.read_secret().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(matches!(err, CredentialError::CommandTimedOut { .. }), "{err:?}");
    assert!(
        err.to_string().contains("did not finish within 300 ms and was killed"),
        "{err}"
    );

    let pid = fs::read_to_string(&pid_file).unwrap();
    let proc = PathBuf::from(format!("/proc/{}", pid.trim()));
    assert!(!proc.exists(), "the command still runs as {}", proc.display());
}

#[tokio::test]
async fn silent_garbage_and_missing_commands_are_errors() {
    let err = SecretCommand::new("true").read_secret().await.unwrap_err();
    assert_eq!(
        err,
        CredentialError::Empty {
            location: "the output of `true`".to_owned()
        }
    );

    let err = sh(r#"echo "$VALUE"; echo "$VALUE"; echo more"#)
        .env("VALUE", SECRET)
        .read_secret()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("it has 3 lines"), "{err}");
    assert_hides(&err, SECRET);

    let err = sh("printf 'abc\\001def'").read_secret().await.unwrap_err();
    assert!(err.to_string().contains("control characters"), "{err}");

    let err = SecretCommand::new("keyward-no-such-program")
        .read_secret()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the credential command `keyward-no-such-program` could not be started: the program was not found: \
         install it, or give its full path"
    );
}

// ---------------------------------------------------------------------------------------------
// A real `pass` store

fn require_tool(program: &str) {
    let found = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        found,
        "`{program}` is missing: this test needs a real pass store; install it with `apt-get install pass gnupg`"
    );
}

fn run(command: &mut Command, stdin: Option<&str>) {
    use std::io::Write as _;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(input) = stdin {
        pipe.write_all(input.as_bytes()).unwrap();
    }
    drop(pipe);
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Stops the throwaway gpg-agent, whatever the test's outcome.
struct GpgAgent<'a>(&'a Path);

impl Drop for GpgAgent<'_> {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", self.0)
            .status();
    }
}

#[tokio::test]
async fn real_pass_store_through_the_command_source() {
    require_tool("pass");
    require_tool("gpg");
    let home = tempfile::tempdir().unwrap();
    let gnupg = home.path().join("gnupg");
    let store = home.path().join("store");
    fs::create_dir(&gnupg).unwrap();
    fs::set_permissions(&gnupg, fs::Permissions::from_mode(0o700)).unwrap();
    let _agent = GpgAgent(&gnupg);
    let tool = |program: &str| {
        let mut command = Command::new(program);
        command.env("GNUPGHOME", &gnupg).env("PASSWORD_STORE_DIR", &store);
        command
    };
    let identity = "keyward test <keyward-test@example.invalid>";
    run(
        tool("gpg").args([
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--quick-gen-key",
            identity,
            "default",
            "default",
            "never",
        ]),
        None,
    );
    run(tool("pass").args(["init", "keyward-test@example.invalid"]), None);
    run(
        tool("pass").args(["insert", "-m", "exchange/okx/key"]),
        Some(&format!("{KEY}\n")),
    );
    run(
        tool("pass").args(["insert", "-m", "exchange/okx/secret"]),
        Some(&format!("{SECRET}\n")),
    );
    run(
        tool("pass").args(["insert", "-m", "exchange/okx/passphrase"]),
        Some("test-only-passphrase\nnote: created for the keyward test\n"),
    );

    let pass = |entry: &str| {
        SecretCommand::new("pass")
            .args(["show", entry])
            .env("GNUPGHOME", &gnupg)
            .env("PASSWORD_STORE_DIR", &store)
    };
    let source = CommandSource::new(pass("exchange/okx/key"), pass("exchange/okx/secret"))
        .passphrase(pass("exchange/okx/passphrase").first_line_only());
    let loaded = source.load().await.unwrap();
    assert_eq!(loaded.credentials.api_key().expose(), KEY);
    assert_eq!(loaded.credentials.secret().expose_secret(), SECRET);
    assert_eq!(
        loaded.credentials.passphrase().unwrap().expose_secret(),
        "test-only-passphrase"
    );

    // A missing entry: pass's own message, and no secret.
    let err = pass("exchange/okx/absent").read_secret().await.unwrap_err();
    assert!(err.to_string().contains("is not in the password store"), "{err}");
    assert_hides(&err, SECRET);
}
