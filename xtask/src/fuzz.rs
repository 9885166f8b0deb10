//! `cargo xtask fuzz <TARGET>|all [--seconds N]` and `cargo xtask fuzz --list`: runs the
//! cargo-fuzz project in `fuzz/` for N seconds per target (60 by default) and prints how many
//! inputs each one executed.
//!
//! - cargo-fuzz is installed with `cargo install cargo-fuzz --locked` when missing.
//! - It runs on the stable toolchain. cargo-fuzz's defaults need a nightly only for the address
//!   sanitizer (`-Zsanitizer=address`); `--sanitizer none` leaves libFuzzer's coverage
//!   instrumentation (`-Cpasses=sancov-module` and `-Cllvm-args`, all stable flags) and `--cfg
//!   fuzzing`, and keyward has no `unsafe` for a sanitizer to watch. `RUSTC_BOOTSTRAP=1` is set
//!   anyway, so that a cargo-fuzz that passes another `-Z` flag still builds. Debug assertions
//!   and overflow checks are on (cargo-fuzz's default without `-O`): an overflow is a crash.
//! - New inputs libFuzzer finds go to `fuzz/target/corpus/<TARGET>/` (ignored by git); the
//!   committed seeds in `fuzz/corpus/<TARGET>/` are read, never written.
//! - A crash is written to `fuzz/artifacts/<TARGET>/`: copy it to
//!   `fuzz/regressions/<TARGET>/` with a name that says what it broke, and `cargo test -p
//!   keyward-fuzz` replays it from then on.

use crate::root;
use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

const DEFAULT_SECONDS: u64 = 60;
/// An input that runs longer than this is reported as a hang (libFuzzer's default is 20 min).
const TIMEOUT_SECONDS: u64 = 10;

const USAGE: &str = "usage: cargo xtask fuzz <TARGET>|all [--seconds N] | --list";

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let targets = targets()?;
    let mut chosen = None;
    let mut seconds = DEFAULT_SECONDS;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--list" => {
                for target in &targets {
                    println!("{target}");
                }
                return Ok(());
            }
            "--seconds" => {
                seconds = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("--seconds takes a positive number of seconds\n{USAGE}"))?;
            }
            name if chosen.is_none() && !name.starts_with('-') => chosen = Some(name.to_owned()),
            other => return Err(format!("unexpected argument `{other}`\n{USAGE}")),
        }
    }
    let chosen = chosen.ok_or_else(|| USAGE.to_owned())?;
    let to_run: Vec<&String> = match chosen.as_str() {
        "all" => targets.iter().collect(),
        name => vec![
            targets
                .iter()
                .find(|target| *target == name)
                .ok_or_else(|| format!("no fuzz target `{name}`; the targets are: {}", targets.join(" ")))?,
        ],
    };
    ensure_cargo_fuzz()?;
    let mut results = Vec::new();
    for target in to_run {
        results.push((target, fuzz(target, seconds)?));
    }
    eprintln!("\n{:<20} {:>14} {:>8}  result", "target", "executions", "seconds");
    let mut crashed = Vec::new();
    for (target, run) in &results {
        eprintln!(
            "{target:<20} {:>14} {:>8}  {}",
            run.executions.map_or_else(|| "?".to_owned(), |n| n.to_string()),
            run.seconds.map_or_else(|| "?".to_owned(), |n| n.to_string()),
            if run.passed {
                "ok"
            } else {
                "CRASH (see fuzz/artifacts/)"
            }
        );
        if !run.passed {
            crashed.push(target.as_str());
        }
    }
    if crashed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "crashes found in: {} (copy each to fuzz/regressions/<target>/ and fix it)",
            crashed.join(" ")
        ))
    }
}

/// The targets: the files of `fuzz/fuzz_targets/`.
fn targets() -> Result<Vec<String>, String> {
    let dir = root().join("fuzz").join("fuzz_targets");
    let entries = std::fs::read_dir(&dir).map_err(|err| format!("cannot list {}: {err}", dir.display()))?;
    let mut targets: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let path = entry.path();
            (path.extension()? == "rs").then(|| path.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    targets.sort();
    Ok(targets)
}

fn ensure_cargo_fuzz() -> Result<(), String> {
    let installed = Command::new("cargo")
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if installed {
        return Ok(());
    }
    eprintln!("xtask: cargo-fuzz is missing; installing it");
    crate::cmd("cargo", &["install", "cargo-fuzz", "--locked"], &[])
}

/// What one run reported.
struct FuzzRun {
    passed: bool,
    /// libFuzzer's `stat::number_of_executed_units`.
    executions: Option<u64>,
    /// libFuzzer's `Done N runs in S second(s)`.
    seconds: Option<u64>,
}

fn fuzz(target: &str, seconds: u64) -> Result<FuzzRun, String> {
    let fuzz_dir = root().join("fuzz");
    let work_corpus = fuzz_dir.join("target").join("corpus").join(target);
    let seeds = fuzz_dir.join("corpus").join(target);
    std::fs::create_dir_all(&work_corpus).map_err(|err| format!("cannot create {}: {err}", work_corpus.display()))?;
    let args = [
        "fuzz".to_owned(),
        "run".to_owned(),
        "--fuzz-dir".to_owned(),
        fuzz_dir.display().to_string(),
        "--sanitizer".to_owned(),
        "none".to_owned(),
        target.to_owned(),
        work_corpus.display().to_string(),
        seeds.display().to_string(),
        "--".to_owned(),
        format!("-max_total_time={seconds}"),
        format!("-timeout={TIMEOUT_SECONDS}"),
        "-print_final_stats=1".to_owned(),
    ];
    eprintln!("$ RUSTC_BOOTSTRAP=1 cargo {}", args.join(" "));
    let mut child = Command::new("cargo")
        .args(&args)
        .env("RUSTC_BOOTSTRAP", "1")
        .current_dir(root())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("cannot run cargo fuzz: {err}"))?;
    let mut run = FuzzRun {
        passed: false,
        executions: None,
        seconds: None,
    };
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
            if let Some(count) = line.strip_prefix("stat::number_of_executed_units:") {
                run.executions = count.trim().parse().ok();
            }
            // "Done 123456 runs in 61 second(s)"
            if let Some(done) = line.strip_prefix("Done ") {
                let words: Vec<&str> = done.split_whitespace().collect();
                if let [runs, "runs", "in", secs, ..] = words.as_slice() {
                    run.executions = run.executions.or_else(|| runs.parse().ok());
                    run.seconds = secs.parse().ok();
                }
            }
        }
    }
    let status = child.wait().map_err(|err| format!("cargo fuzz: {err}"))?;
    run.passed = status.success();
    Ok(run)
}
