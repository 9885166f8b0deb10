//! Asks git whether a file is tracked or ignored, with a timeout.

use std::{path::Path, process::Stdio, time::Duration};

/// What git says about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum GitStatus {
    /// git is not installed.
    NoGit,
    /// The file is not inside a git working tree.
    NotARepository,
    /// git tracks the file.
    Tracked,
    /// The file is inside a working tree, untracked, and not ignored.
    NotIgnored,
    /// The file is inside a working tree, untracked, and ignored.
    Ignored,
    /// git could not answer; why.
    Unknown(String),
}

/// What git says about `path` (a file), each git command given `timeout`.
pub(super) async fn status(path: &Path, timeout: Duration) -> GitStatus {
    let (dir, file) = match (path.parent(), path.file_name()) {
        (Some(dir), Some(file)) if !dir.as_os_str().is_empty() => (dir, Path::new(file)),
        (_, Some(file)) => (Path::new("."), Path::new(file)),
        _ => return GitStatus::Unknown("the path has no file name".to_owned()),
    };
    let inside = match run(dir, &["rev-parse", "--is-inside-work-tree"], None, timeout).await {
        Ok(output) if output.status.success() && output.stdout.trim_ascii() == b"true" => true,
        Ok(output) if output.status.success() => false,
        // 128 is git's "fatal"; the message tells "not a repository" from worse (ownership).
        Ok(output) if String::from_utf8_lossy(&output.stderr).contains("not a git repository") => false,
        Ok(output) => return GitStatus::Unknown(first_line(&output.stderr)),
        Err(Failure::NotInstalled) => return GitStatus::NoGit,
        Err(Failure::Other(why)) => return GitStatus::Unknown(why),
    };
    if !inside {
        return GitStatus::NotARepository;
    }
    match run(dir, &["ls-files", "--error-unmatch", "--"], Some(file), timeout).await {
        Ok(output) if output.status.success() => return GitStatus::Tracked,
        Ok(output) if output.status.code() == Some(1) => {}
        Ok(output) => return GitStatus::Unknown(first_line(&output.stderr)),
        Err(Failure::NotInstalled) => return GitStatus::NoGit,
        Err(Failure::Other(why)) => return GitStatus::Unknown(why),
    }
    match run(dir, &["check-ignore", "-q", "--"], Some(file), timeout).await {
        Ok(output) if output.status.success() => GitStatus::Ignored,
        Ok(output) if output.status.code() == Some(1) => GitStatus::NotIgnored,
        Ok(output) => GitStatus::Unknown(first_line(&output.stderr)),
        Err(Failure::NotInstalled) => GitStatus::NoGit,
        Err(Failure::Other(why)) => GitStatus::Unknown(why),
    }
}

enum Failure {
    NotInstalled,
    Other(String),
}

async fn run(
    dir: &Path,
    args: &[&str],
    file: Option<&Path>,
    timeout: Duration,
) -> Result<std::process::Output, Failure> {
    let mut command = tokio::process::Command::new("git");
    // An untrusted repository's fsmonitor hook would run a program of its choosing.
    command
        .args(["-c", "core.fsmonitor=false", "-C"])
        .arg(dir)
        .args(args)
        .args(file)
        // English messages, so that "not a git repository" can be recognised.
        .env("LC_ALL", "C")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command.spawn().map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => Failure::NotInstalled,
        _ => Failure::Other(format!("git could not be started: {err}")),
    })?;
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(output)) => Ok(output),
        Ok(Err(err)) => Err(Failure::Other(format!("git failed: {err}"))),
        // Dropping the future drops the child, which kills it (`kill_on_drop`).
        Err(_) => Err(Failure::Other(format!(
            "git did not answer within {} ms",
            timeout.as_millis()
        ))),
    }
}

fn first_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().next().unwrap_or("").trim();
    let line: String = line.chars().filter(|c| !c.is_control()).take(200).collect();
    if line.is_empty() { "git failed".to_owned() } else { line }
}
