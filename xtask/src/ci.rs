//! `cargo xtask ci`: what CI runs, in the order that fails fastest.

use crate::cmd;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(unknown) = args.first() {
        return Err(format!("`cargo xtask ci` takes no arguments (got `{unknown}`)"));
    }
    crate::tools::ensure()?;
    cmd("cargo", &["fmt", "--all", "--", "--check"], &[])?;
    cmd(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    // Unit, integration, UI (trybuild) and doc tests of every crate.
    cmd("cargo", &["test", "--workspace", "--all-features"], &[])?;
    // Every benchmark once, in test mode (criterion's `--test`), so that none rots between
    // `cargo xtask bench` runs; the measurements themselves are `cargo xtask bench`'s.
    cmd("cargo", &["test", "-p", "keyward-benches", "--benches"], &[])?;
    // `cargo xtask bench --quick`: also runs `keyward call --repeat` against the embedded
    // exchange beside its reqwest baseline, which no test covers.
    crate::bench::run(&["--quick".to_owned()])?;
    cmd(
        "cargo",
        &["doc", "--workspace", "--no-deps", "--all-features"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    eprintln!("xtask ci: all checks passed");
    Ok(())
}
