//! `cargo xtask <command>`: project automation in Rust, so it runs the same everywhere.
//!
//! - `cargo xtask ci`: exactly what CI runs (`.ci/run` calls it): formatting, clippy with
//!   warnings denied, every test (unit, integration, doctests, UI tests), and the docs with
//!   warnings denied. It first installs the system tools the tests need (`pass`, `gnupg`)
//!   when they are missing.
//! - `cargo xtask bench [--quick]`: the criterion benchmarks and their ratio table (BENCHMARKS.md).
//! - `cargo xtask fuzz <TARGET>|all [--seconds N]`: the fuzz targets in `fuzz/` (see `fuzz.rs`).
//!
//! One file per command, a log line before every external command (matklad's cargo-xtask).

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod ci;
mod fuzz;
mod tools;

use std::{
    path::{Path, PathBuf},
    process::{Command, ExitCode},
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask ci | bench [--quick] | fuzz <TARGET>|all [--seconds N] | fuzz --list");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of this crate's folder).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Runs the command `program args..` in the workspace root with `envs`, logging it first.
fn cmd(program: &str, args: &[&str], envs: &[(&str, &str)]) -> Result<(), String> {
    let shown_env: String = envs.iter().map(|(k, v)| format!("{k}={v} ")).collect();
    eprintln!("$ {shown_env}{program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(root())
        .status()
        .map_err(|err| format!("cannot run {program}: {err}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed with {status}", args.join(" ")))
    }
}
