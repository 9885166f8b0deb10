//! `cargo xtask bench [--quick]`: runs every criterion benchmark of `keyward-benches` and prints
//! keyward's ratio to each baseline measured in the same run, with the target from issue 6.
//!
//! Ratios, not absolute times: the machine is shared, and a baseline measured seconds apart from
//! keyward on the same machine cancels most of the noise that absolute times carry.
//!
//! `--quick` measures each benchmark for a fraction of a second: a smoke run for CI, so that the
//! benchmarks keep compiling and running; its ratios are rough.
//!
//! Two rows are not criterion's: `keyward call --repeat` against a plain reqwest loop, and its
//! peak memory at two repeat counts; [`loopback`] runs them against the embedded exchange.

mod loopback;

use std::{
    fs,
    path::{Path, PathBuf},
    time::SystemTime,
};

/// How a row's ratio is formed and what it must reach.
#[derive(Clone, Copy)]
enum Target {
    /// keyward's time / the baseline's time must be at most this.
    TimeAtMost(f64),
    /// keyward's time / the baseline's time must be below this.
    TimeBelow(f64),
    /// keyward's time must be at most this fraction of the baseline's (an overhead).
    OverheadAtMost(f64),
    /// keyward's throughput / the baseline's must be at least this (the same work per iteration,
    /// so it is the baseline's time / keyward's time).
    ThroughputAtLeast(f64),
    /// No target: shown for context.
    Informative,
}

/// One line of the table: criterion group, keyward's benchmark, the baseline's, the target.
struct Row {
    label: String,
    group: String,
    keyward: &'static str,
    baseline: &'static str,
    target: Target,
}

const EXCHANGES: [&str; 8] = [
    "binance", "bitmex", "bybit", "coinbase", "gate", "kraken", "kucoin", "okx",
];

fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for exchange in EXCHANGES {
        rows.push(Row {
            label: format!("{exchange} signer vs pre-keyed HMAC (floor)"),
            group: format!("sign-{exchange}"),
            keyward: "keyward",
            baseline: "floor",
            target: Target::TimeAtMost(1.3),
        });
        rows.push(Row {
            label: format!("{exchange} signer vs re-keying HMAC"),
            group: format!("sign-{exchange}"),
            keyward: "keyward",
            baseline: "naive",
            target: Target::TimeBelow(1.0),
        });
    }
    let fixed = [
        (
            "#[audited] disabled vs #[instrument] disabled",
            "audited-disabled",
            "keyward",
            "instrument",
            Target::TimeAtMost(1.0),
        ),
        (
            "#[audited] JSON vs #[instrument] + one event",
            "audited-enabled",
            "keyward",
            "instrument",
            Target::TimeAtMost(1.0),
        ),
        (
            "preset stack vs loopback round trip",
            "preset",
            "keyward",
            "loopback-round-trip",
            Target::OverheadAtMost(0.05),
        ),
        (
            "  (preset stack without any subscriber)",
            "preset",
            "keyward-no-subscriber",
            "loopback-round-trip",
            Target::Informative,
        ),
        (
            "rate-limit decision vs governor check_n",
            "rate-limit",
            "keyward",
            "governor",
            Target::TimeAtMost(1.5),
        ),
        (
            "  (four budgets at once vs governor)",
            "rate-limit",
            "keyward-four-budgets",
            "governor",
            Target::Informative,
        ),
        (
            "  (two threads contending, vs governor contended)",
            "rate-limit-contended",
            "keyward",
            "governor",
            Target::Informative,
        ),
        (
            "audit trail vs JSON file layer (records/s)",
            "trail",
            "keyward",
            "json-file",
            Target::ThroughputAtLeast(0.8),
        ),
        (
            "tripwire, 10 secrets vs plain writer (bytes/s)",
            "tripwire",
            "keyward",
            "plain",
            Target::ThroughputAtLeast(0.5),
        ),
        (
            "  (tripwire over a BufWriter, one write per 8 KiB)",
            "tripwire-buffered",
            "keyward",
            "plain",
            Target::Informative,
        ),
        (
            "  (whole JSON layer, with vs without tripwire)",
            "tripwire-json-layer",
            "keyward",
            "plain",
            Target::Informative,
        ),
    ];
    for (label, group, keyward, baseline, target) in fixed {
        rows.push(Row {
            label: label.to_owned(),
            group: group.to_owned(),
            keyward,
            baseline,
            target,
        });
    }
    rows
}

/// Runs the benchmarks and prints the ratio table.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let quick = match args {
        [] => false,
        [flag] if flag == "--quick" => true,
        _ => return Err("usage: cargo xtask bench [--quick]".to_owned()),
    };
    let started = SystemTime::now();
    let timing: &[&str] = if quick {
        &[
            "--warm-up-time",
            "0.1",
            "--measurement-time",
            "0.2",
            "--sample-size",
            "20",
        ]
    } else {
        &["--warm-up-time", "1", "--measurement-time", "3"]
    };
    let mut cargo_args = vec!["bench", "-p", "keyward-benches", "--benches", "--", "--noplot"];
    cargo_args.extend_from_slice(timing);
    crate::cmd("cargo", &cargo_args, &[])?;

    let loopback = loopback::run(quick);
    let criterion = criterion_dir();
    println!();
    println!("machine: {}", machine());
    println!("mode: {}", if quick { "quick (rough ratios)" } else { "full" });
    println!();
    println!("| keyward vs baseline | keyward | baseline | ratio | target | result |");
    println!("|---|---|---|---|---|---|");
    let mut problems = Vec::new();
    for row in rows() {
        let keyward = median_ns(&criterion, &row.group, row.keyward, started);
        let baseline = median_ns(&criterion, &row.group, row.baseline, started);
        let (keyward, baseline) = match (keyward, baseline) {
            (Ok(keyward), Ok(baseline)) => (keyward, baseline),
            (Err(err), _) | (_, Err(err)) => {
                problems.push(err);
                continue;
            }
        };
        let (ratio, target, pass) = judge(row.target, keyward, baseline);
        println!(
            "| {} | {} | {} | {ratio} | {target} | {pass} |",
            row.label,
            nanos(keyward),
            nanos(baseline)
        );
    }
    match loopback {
        Ok(measured) => print_loopback_rows(&measured),
        Err(err) => problems.push(format!("loopback measurements: {err}")),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "some results are missing or stale:\n  {}",
            problems.join("\n  ")
        ))
    }
}

/// `keyward call --repeat` beside the plain reqwest loop, in requests per second, and its peak
/// memory at the larger repeat count beside the smaller.
fn print_loopback_rows(measured: &loopback::Measured) {
    // Time per request, so that the throughput target reads as for the criterion rows.
    let (ratio, target, pass) = judge(
        Target::ThroughputAtLeast(CALL_THROUGHPUT_TARGET),
        1.0 / measured.keyward_per_s,
        1.0 / measured.reqwest_per_s,
    );
    println!(
        "| `keyward call` vs plain reqwest loop (requests/s, 8 in flight) | {:.0} req/s | {:.0} req/s | {ratio} | {target} | {pass} |",
        measured.keyward_per_s, measured.reqwest_per_s
    );
    let (ratio, _, _) = judge(Target::Informative, measured.keyward_cpu_us, measured.reqwest_cpu_us);
    println!(
        "|   (CPU time per request, whole process) | {:.1} µs | {:.1} µs | {ratio} | - | info |",
        measured.keyward_cpu_us, measured.reqwest_cpu_us
    );
    let [(small, small_kib), (large, large_kib)] = measured.memory;
    let (ratio, target, pass) = judge(
        Target::TimeAtMost(MEMORY_GROWTH_TARGET),
        large_kib as f64,
        small_kib as f64,
    );
    println!(
        "| `keyward call` peak RSS, --repeat {large} vs {small} | {} | {} | {ratio} | {target} | {pass} |",
        mebibytes(large_kib),
        mebibytes(small_kib)
    );
}

/// The share of a plain reqwest loop's requests per second that `keyward call` must reach.
const CALL_THROUGHPUT_TARGET: f64 = 0.8;

/// How much more memory ten times the requests may take: "memory must stay flat".
const MEMORY_GROWTH_TARGET: f64 = 1.2;

fn mebibytes(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn judge(target: Target, keyward: f64, baseline: f64) -> (String, String, &'static str) {
    let time_ratio = keyward / baseline;
    let verdict = |ok: bool| if ok { "pass" } else { "MISS" };
    match target {
        Target::TimeAtMost(max) => (
            format!("{time_ratio:.2}×"),
            format!("≤ {max}×"),
            verdict(time_ratio <= max),
        ),
        Target::TimeBelow(max) => (
            format!("{time_ratio:.2}×"),
            format!("< {max}×"),
            verdict(time_ratio < max),
        ),
        Target::OverheadAtMost(max) => (
            format!("{:.1}%", time_ratio * 100.0),
            format!("≤ {:.0}%", max * 100.0),
            verdict(time_ratio <= max),
        ),
        Target::ThroughputAtLeast(min) => {
            let throughput_ratio = baseline / keyward;
            (
                format!("{throughput_ratio:.2}× throughput"),
                format!("≥ {min}×"),
                verdict(throughput_ratio >= min),
            )
        }
        Target::Informative => (format!("{time_ratio:.3}×"), "-".to_owned(), "info"),
    }
}

/// A duration in nanoseconds, in the unit that reads best.
fn nanos(ns: f64) -> String {
    if ns >= 1_000_000.0 {
        format!("{:.2} ms", ns / 1_000_000.0)
    } else if ns >= 1_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{ns:.1} ns")
    }
}

/// Where cargo builds: `CARGO_TARGET_DIR`, else the workspace's `target/`.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::root().join("target"))
}

fn criterion_dir() -> PathBuf {
    target_dir().join("criterion")
}

/// The median point estimate of one benchmark, in ns, from criterion's `new/estimates.json`;
/// refused when the file predates this run (the benchmark was renamed or did not run).
fn median_ns(criterion: &Path, group: &str, bench: &str, started: SystemTime) -> Result<f64, String> {
    let path = criterion.join(group).join(bench).join("new").join("estimates.json");
    let shown = path.display();
    let modified = fs::metadata(&path)
        .and_then(|metadata| metadata.modified())
        .map_err(|err| format!("{shown}: {err}"))?;
    if modified < started {
        return Err(format!("{shown} is from an earlier run"));
    }
    let text = fs::read_to_string(&path).map_err(|err| format!("{shown}: {err}"))?;
    median_point_estimate(&text).ok_or_else(|| format!("{shown}: no median point estimate"))
}

/// Reads `median.point_estimate` from criterion's estimates JSON without a JSON dependency: the
/// file's shape is fixed (`"median":{"confidence_interval":{..},"point_estimate":N,..}`).
fn median_point_estimate(json: &str) -> Option<f64> {
    let median = &json[json.find("\"median\"")?..];
    let value = &median[median.find("\"point_estimate\"")? + "\"point_estimate\"".len()..];
    let value = value.trim_start().strip_prefix(':')?.trim_start();
    let end = value.find([',', '}']).unwrap_or(value.len());
    value[..end].trim().parse().ok()
}

/// `nproc` and the CPU model, for the record.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let model = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{cores} cores, {model}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_median_not_the_mean() {
        let json = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":3.0},"point_estimate":2.0,"standard_error":0.1},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":4.0,"upper_bound":6.0},"point_estimate":5.5,"standard_error":0.1}}"#;
        assert_eq!(median_point_estimate(json), Some(5.5));
        assert_eq!(median_point_estimate(r#"{"mean":{"point_estimate":2.0}}"#), None);
    }

    #[test]
    fn throughput_targets_invert_the_time_ratio() {
        let (ratio, _, verdict) = judge(Target::ThroughputAtLeast(0.8), 2.0, 1.0);
        assert_eq!((ratio.as_str(), verdict), ("0.50× throughput", "MISS"));
        let (ratio, _, verdict) = judge(Target::OverheadAtMost(0.05), 1.0, 50.0);
        assert_eq!((ratio.as_str(), verdict), ("2.0%", "pass"));
    }
}
