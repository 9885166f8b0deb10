//! Leak hunting in the quickstart: the example runs as a process at `RUST_LOG=trace`, with
//! `TMPDIR`, `HOME` and its working directory in a fresh sandbox, and everything it prints and
//! writes (its audit trail lives in a temp folder it deletes on exit: the sandbox keeps a hard
//! link to each file while it runs) is scanned for every form of its secret and its full API key
//! (see `keyward_integration::leak`).
//!
//! The example binary: `cargo test` builds a package's examples before it runs the package's
//! tests, into `target/<profile>/examples/`, the sibling of the `deps/` folder this test runs
//! from. `cargo test --workspace --all-features` and `cargo test -p keyward-examples` build it;
//! `cargo test -p keyward-examples --test leaks` alone does not (add `--examples`), and the test
//! then says so rather than run a missing or stale binary.
//!
//! The credentials: the quickstart's own test-only constants `API_KEY` and `API_SECRET`, read
//! from its source here so that the scan follows them if they change.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use keyward_integration::leak::{LeakScan, Needles, Sandbox};
use std::{path::PathBuf, time::Instant};

const SOURCE: &str = include_str!("../quickstart.rs");

/// The value of `const <name>: &str = "...";` in the quickstart's source.
fn constant(name: &str) -> &'static str {
    let start = format!("const {name}: &str = \"");
    let line = SOURCE
        .lines()
        .find(|line| line.starts_with(&start))
        .unwrap_or_else(|| panic!("the quickstart no longer declares {name}: update this test"));
    line[start.len()..].trim_end_matches("\";")
}

/// `target/<profile>/examples/quickstart`, built by cargo before this test, and not older than
/// its source.
fn quickstart_binary() -> PathBuf {
    let test = std::env::current_exe().unwrap();
    let profile_dir = test.parent().and_then(|deps| deps.parent()).unwrap();
    let binary = profile_dir
        .join("examples")
        .join(format!("quickstart{}", std::env::consts::EXE_SUFFIX));
    let how = "cargo builds it with `cargo test -p keyward-examples` or `cargo test --workspace`; with `--test leaks`, \
               add `--examples`";
    let built = std::fs::metadata(&binary)
        .and_then(|m| m.modified())
        .unwrap_or_else(|err| panic!("no quickstart at {} ({err}): {how}", binary.display()));
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/quickstart.rs");
    let edited = std::fs::metadata(source).and_then(|m| m.modified()).unwrap();
    assert!(
        built >= edited,
        "{} is older than quickstart.rs: {how}",
        binary.display()
    );
    binary
}

#[test]
fn the_quickstart_at_trace_leaks_nothing_to_its_output_or_its_files() {
    let (api_key, api_secret) = (constant("API_KEY"), constant("API_SECRET"));
    for value in [api_key, api_secret] {
        assert!(
            value.starts_with("test-only-"),
            "the quickstart must use fixture credentials"
        );
    }
    let binary = quickstart_binary();
    let root = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::new(root.path()).unwrap();

    let started = Instant::now();
    let out = sandbox.run(sandbox.command(&binary)).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(out.code(), 0, "{}\n{}", out.stdout_text(), out.stderr_text());
    assert!(
        out.stdout_text().contains("6. audit trail verified"),
        "{}",
        out.stdout_text()
    );
    assert!(!out.stderr.is_empty(), "RUST_LOG=trace reaches the quickstart's logs");

    // The trail was deleted with the quickstart's temp folder, and kept for the scan.
    let kept = sandbox.kept();
    assert!(
        kept.iter()
            .any(|path| path.starts_with("tmp/") && path.ends_with("/audit.jsonl")),
        "kept: {kept:?}"
    );
    let mut scan = LeakScan::new(
        Needles::new()
            .api_key("quickstart API key", api_key)
            .secret("quickstart secret", api_secret.as_bytes())
            .fragments("quickstart secret", api_secret.as_bytes(), 16),
    );
    out.scan("quickstart", &mut scan);
    let files = sandbox.scan_files(&mut scan).unwrap();
    assert!(files >= 1, "the trail was scanned");
    eprintln!(
        "leak scan, quickstart: {} (ran {:.1} s at RUST_LOG=trace; {} bytes of stdout, {} of stderr; files kept: {kept:?})",
        scan.figures(),
        elapsed.as_secs_f64(),
        out.stdout.len(),
        out.stderr.len(),
    );
    scan.assert_clean();
}
