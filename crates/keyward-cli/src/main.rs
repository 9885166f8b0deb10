//! `keyward`: the command line of the keyward crate.
//!
//! Each subcommand is one module under `commands/` with a clap `Args` or `Subcommand` type that
//! has a `run(self) -> ExitCode` method; adding one is that module, a variant of [`Command`] and
//! its arm in [`Command::run`].
//!
//! Exit codes: 0 success, 1 the check failed (for example a tampered trail), 2 usage errors and
//! files that cannot be read.

mod commands;
mod env;
mod logging;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Safe, audited, least-privilege authenticated calls for crypto-exchange clients.
#[derive(Debug, Parser)]
#[command(name = "keyward", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Work with audit trails.
    #[command(subcommand)]
    Audit(commands::audit::Audit),
    /// Print a request exactly as it would be sent, signed for an exchange.
    ///
    /// Credentials come from <EXCHANGE>_API_KEY, <EXCHANGE>_API_SECRET and
    /// <EXCHANGE>_API_PASSPHRASE, in the environment or a .env file in the working directory;
    /// never from the command line.
    Sign(commands::sign::Sign),
    /// Send a request through the exchange's full stack (guard, retries, rate limits, clock
    /// correction, signing, audit) and print the response body.
    ///
    /// Credentials as for `keyward sign`. With --repeat, ends with one JSON summary line and
    /// exits non-zero if any request failed.
    Call(commands::call::Call),
    /// Run the embedded exchange in the foreground; prints its address on the first line.
    ///
    /// It accepts the credentials found as for `keyward sign`.
    Mock(commands::mock::Mock),
    /// Preflight: clock offset, key permissions, IP restriction, key age, egress IP and
    /// credential hygiene, one line each with the fix; exits 1 if any check fails.
    ///
    /// Credentials as for `keyward sign`.
    Check(commands::check::CheckArgs),
}

impl Command {
    fn run(self) -> ExitCode {
        match self {
            Self::Audit(audit) => audit.run(),
            Self::Sign(sign) => sign.run(),
            Self::Call(call) => call.run(),
            Self::Mock(mock) => mock.run(),
            Self::Check(check) => check.run(),
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    // `call` installs its own subscriber, with the audit trail when asked for.
    if !matches!(cli.command, Command::Call(_)) {
        logging::init();
    }
    cli.command.run()
}

/// Reports a usage error as clap does (exit 2; exit 0 for `--help` and `--version`), except that
/// a stray argument is never repeated.
///
/// clap quotes the argument it did not expect, and a stray argument is exactly what a secret
/// pasted onto the command line by mistake looks like (`keyward sign binance GET URL <secret>`).
/// It is already in the shell's history by then; keyward does not also print it to a terminal,
/// a CI log or a screen share.
fn usage_error(error: clap::Error) -> ExitCode {
    use clap::{CommandFactory, error::ErrorKind};
    use std::io::Write;
    if !matches!(error.kind(), ErrorKind::UnknownArgument | ErrorKind::InvalidSubcommand) {
        error.exit()
    }
    let usage = Cli::command().render_usage();
    let _ = writeln!(
        std::io::stderr(),
        "error: unexpected argument (not repeated here, in case it is a secret: credentials are read from \
         environment variables or a .env file, never from the command line)\n\n{usage}\n\nFor more information, \
         try '--help'."
    );
    ExitCode::from(2)
}
