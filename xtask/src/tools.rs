//! The system tools the tests need: installed here when missing, so that a fresh machine of
//! this kind passes `cargo xtask ci` with nothing done by hand.
//!
//! - `pass` and `gpg` (Debian packages `pass`, `gnupg`): the credential-source tests load a
//!   secret from a real `pass` store with a throwaway GPG key.

use crate::cmd;
use std::process::Command;

/// A tool the tests run, and the Debian package that provides it.
const TOOLS: &[(&str, &str)] = &[("pass", "pass"), ("gpg", "gnupg")];

fn installed(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|out| out.status.success())
}

/// Installs the missing tools with apt-get (as CI and developers run as root on this kind of
/// machine); elsewhere, says what to install.
pub(crate) fn ensure() -> Result<(), String> {
    let missing: Vec<&str> = TOOLS
        .iter()
        .filter(|(program, _)| !installed(program))
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: the tests need {}; installing with apt-get", missing.join(" "));
    if !installed("apt-get") {
        return Err(format!(
            "install {} with your package manager, then run again",
            missing.join(" ")
        ));
    }
    cmd("apt-get", &["update", "-qq"], &[("DEBIAN_FRONTEND", "noninteractive")])?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(&missing);
    cmd("apt-get", &args, &[("DEBIAN_FRONTEND", "noninteractive")])
}
