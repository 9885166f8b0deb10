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
    // `cargo xtask bench --quick`: every benchmark for a fraction of a second, and `keyward call
    // --repeat` against the embedded exchange beside its reqwest baseline, so that none rots
    // between full `cargo xtask bench` runs. (It replaces running the benches in criterion's
    // test mode, which built them a second time, in another profile, for no extra coverage.)
    crate::bench::run(&["--quick".to_owned()])?;
    cmd(
        "cargo",
        &["doc", "--workspace", "--no-deps", "--all-features"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    eprintln!("xtask ci: all checks passed");
    Ok(())
}
