//! `peak_rss <program> [args…]`: runs the program, then prints its peak resident set size and
//! the CPU time it used.
//!
//! `cargo xtask bench` compares the peak memory of `keyward call --repeat 10000` with that of
//! `--repeat 1000` (issue 6). `getrusage(RUSAGE_CHILDREN)` reports the largest peak among the
//! children a process has waited for, so it must be asked by a process whose only child is the
//! one measured: `xtask` itself has waited for cargo and rustc. This wrapper is that process.
//! `/usr/bin/time -v` would do the same, but is not installed everywhere.
//!
//! The program inherits this process's environment, standard input and standard error; its
//! standard output is passed through. The last two lines on standard error are
//! `peak_rss_kib=<N>` (Linux reports `ru_maxrss` in KiB) and `cpu_us=<N>` (user and system time
//! together, in microseconds). The exit code is the program's.

#![allow(clippy::print_stderr)]

use nix::sys::{
    resource::{UsageWho, getrusage},
    time::TimeValLike as _,
};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(program) = args.next() else {
        eprintln!("usage: peak_rss <program> [args…]");
        return ExitCode::from(2);
    };
    let status = match Command::new(&program).args(args).status() {
        Ok(status) => status,
        Err(err) => {
            eprintln!("peak_rss: cannot run {}: {err}", program.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    match getrusage(UsageWho::RUSAGE_CHILDREN) {
        Ok(usage) => {
            eprintln!("peak_rss_kib={}", usage.max_rss());
            eprintln!(
                "cpu_us={}",
                usage.user_time().num_microseconds() + usage.system_time().num_microseconds()
            );
        }
        Err(err) => {
            eprintln!("peak_rss: getrusage: {err}");
            return ExitCode::from(2);
        }
    }
    match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    }
}
