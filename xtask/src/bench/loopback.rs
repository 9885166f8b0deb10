//! The rows measured over loopback against the embedded exchange rather than by criterion:
//!
//! - requests per second of `keyward call binance GET /api/v3/account --repeat N
//!   --concurrency 8` beside `plain_reqwest_loop` (package `keyward-benches`), which sends the
//!   same signed GET, pre-signed, from a plain `reqwest::Client` with 8 in flight;
//! - the peak resident memory of `keyward call --repeat 10000` beside `--repeat 1000`, measured
//!   by `peak_rss` (package `keyward-benches`) with `getrusage(RUSAGE_CHILDREN)`;
//! - for context, the CPU time per request of both processes (from the same `getrusage`): on a
//!   shared machine it moves less than requests per second, which also wait for the mock and
//!   for other processes.
//!
//! Every run gets a fresh `keyward mock binance` whose weight budget is far above what a run
//! spends, so the exchange's rate limits never cap the figure (keyward loads the mock's limits
//! from `exchangeInfo`, as it does Binance's). Both sides use release builds and the same
//! throwaway credentials, passed in the environment as `keyward` reads them, never on the
//! command line. Each side reports the time of its own request loop, so start-up (and the
//! baseline's signing) is not counted; keyward's loop includes its signing, which is its job.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
};

/// Throwaway credentials that the mock accepts and both clients sign with.
const CREDENTIALS: [(&str, &str); 2] = [
    ("BINANCE_API_KEY", "test-only-bench-api-key-000000000000000000000000"),
    ("BINANCE_API_SECRET", "test-only-bench-secret-0000000000000000000000000"),
];

/// A signed (`USER_DATA`) GET with no parameters of its own: both sides send the same shape,
/// `recvWindow`, `timestamp`, `signature` and the key header.
const PATH: &str = "/api/v3/account";

/// The widest window Binance accepts; the baseline signs all its requests before it starts.
const RECV_WINDOW: &str = "recvWindow=60000";

const CONCURRENCY: &str = "8";

/// How many requests each measurement sends.
pub(super) struct Sizes {
    /// Requests per throughput run.
    throughput: u64,
    /// Throughput runs of each side, alternated; the median is reported.
    rounds: usize,
    /// The two `--repeat` counts whose peak memory is compared.
    memory: (u64, u64),
}

impl Sizes {
    pub(super) fn new(quick: bool) -> Self {
        if quick {
            Self {
                throughput: 300,
                rounds: 1,
                memory: (300, 3_000),
            }
        } else {
            Self {
                throughput: 10_000,
                rounds: 3,
                memory: (1_000, 10_000),
            }
        }
    }
}

/// What the loopback runs measured.
pub(super) struct Measured {
    pub(super) keyward_per_s: f64,
    pub(super) reqwest_per_s: f64,
    /// CPU time (user and system) per request of the whole process, in µs: start-up, and the
    /// baseline's signing, included.
    pub(super) keyward_cpu_us: f64,
    pub(super) reqwest_cpu_us: f64,
    /// `--repeat` count and peak RSS in KiB, the smaller run first.
    pub(super) memory: [(u64, u64); 2],
}

/// Builds the three programs in release mode and runs every measurement.
pub(super) fn run(quick: bool) -> Result<Measured, String> {
    let sizes = Sizes::new(quick);
    // Two builds rather than one: built together, the two packages would unify keyward's
    // features into a set of their own, and `keyward` would not be the binary that
    // `cargo build --release -p keyward-cli` makes.
    crate::cmd(
        "cargo",
        &["build", "--release", "-p", "keyward-cli", "--bin", "keyward"],
        &[],
    )?;
    crate::cmd("cargo", &["build", "--release", "-p", "keyward-benches", "--bins"], &[])?;
    let release = super::target_dir().join("release");
    let keyward = release.join("keyward");
    let baseline = release.join("plain_reqwest_loop");
    let peak_rss = release.join("peak_rss");

    let (mut keyward_runs, mut keyward_cpu) = (Vec::new(), Vec::new());
    let (mut reqwest_runs, mut reqwest_cpu) = (Vec::new(), Vec::new());
    let count = sizes.throughput.to_string();
    let requests = sizes.throughput as f64;
    for _ in 0..sizes.rounds {
        let mock = Mock::start(&keyward)?;
        let run = measured(&peak_rss, &keyward, &call_args(&mock.base_url, &count))?;
        keyward_runs.push(per_second(&run.stdout, sizes.throughput, "elapsed_ms", 1e3)?);
        keyward_cpu.push(run.cpu_us / requests);
        drop(mock);

        let mock = Mock::start(&keyward)?;
        let run = measured(
            &peak_rss,
            &baseline,
            &[mock.base_url.as_str(), PATH, &count, CONCURRENCY],
        )?;
        reqwest_runs.push(per_second(&run.stdout, sizes.throughput, "elapsed_us", 1e6)?);
        reqwest_cpu.push(run.cpu_us / requests);
    }

    let mut memory = [(0, 0); 2];
    for (slot, repeat) in memory.iter_mut().zip([sizes.memory.0, sizes.memory.1]) {
        let mock = Mock::start(&keyward)?;
        let repeat_text = repeat.to_string();
        let run = measured(&peak_rss, &keyward, &call_args(&mock.base_url, &repeat_text))?;
        per_second(&run.stdout, repeat, "elapsed_ms", 1e3)?;
        *slot = (repeat, run.peak_kib);
    }
    Ok(Measured {
        keyward_per_s: median(&mut keyward_runs),
        reqwest_per_s: median(&mut reqwest_runs),
        keyward_cpu_us: median(&mut keyward_cpu),
        reqwest_cpu_us: median(&mut reqwest_cpu),
        memory,
    })
}

/// One program's run under `peak_rss`.
struct Run {
    stdout: String,
    peak_kib: u64,
    /// User and system time of the whole process.
    cpu_us: f64,
}

fn measured(peak_rss: &Path, program: &Path, args: &[&str]) -> Result<Run, String> {
    let output = run_output(Command::new(peak_rss).arg(program).args(args))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let read = |name: &str| {
        stderr
            .lines()
            .rev()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|value| value.trim().parse::<u64>().ok())
            .ok_or_else(|| format!("peak_rss printed no `{name}`: {stderr}"))
    };
    Ok(Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        peak_kib: read("peak_rss_kib=")?,
        cpu_us: read("cpu_us=")? as f64,
    })
}

fn call_args<'a>(base_url: &'a str, repeat: &'a str) -> [&'a str; 12] {
    [
        "call",
        "binance",
        "GET",
        PATH,
        "--base-url",
        base_url,
        "--query",
        RECV_WINDOW,
        "--repeat",
        repeat,
        "--concurrency",
        CONCURRENCY,
    ]
}

/// Sets the credentials and a quiet log on `command`, and logs it with the credentials' names
/// only.
fn prepared(command: &mut Command) -> &mut Command {
    let shown: Vec<String> = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    let names: String = CREDENTIALS
        .iter()
        .map(|(name, _)| format!("{name}=<test fixture> "))
        .collect();
    eprintln!("$ {names}{}", shown.join(" "));
    command
        .envs(CREDENTIALS)
        .env_remove("RUST_LOG")
        .current_dir(crate::root())
        .stdin(Stdio::null())
}

fn run_output(command: &mut Command) -> Result<std::process::Output, String> {
    let output = prepared(command)
        .stderr(Stdio::piped())
        .output()
        .map_err(|err| format!("cannot run {}: {err}", command.get_program().to_string_lossy()))?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(format!(
            "{} failed with {}: {}{}",
            command.get_program().to_string_lossy(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Requests per second from the JSON summary line that ends `stdout`, after checking that all
/// `count` requests were sent and succeeded. `field` holds the loop's time in `1/unit_per_s`.
fn per_second(stdout: &str, count: u64, field: &str, unit_per_s: f64) -> Result<f64, String> {
    let line = stdout.lines().last().unwrap_or_default();
    let read = |name: &str| json_number(line, name).ok_or_else(|| format!("no `{name}` in the summary `{line}`"));
    let (sent, ok, elapsed) = (read("sent")?, read("ok")?, read(field)?);
    if sent != count as f64 || ok != sent {
        return Err(format!("expected {count} successful requests: `{line}`"));
    }
    if elapsed <= 0.0 {
        return Err(format!("no time measured: `{line}`"));
    }
    Ok(sent / (elapsed / unit_per_s))
}

/// The number after `"name":` in a flat JSON line (the summaries have no nesting before it).
fn json_number(line: &str, name: &str) -> Option<f64> {
    let key = format!("\"{name}\":");
    let value = &line[line.find(&key)? + key.len()..];
    let end = value.find([',', '}']).unwrap_or(value.len());
    value[..end].trim().parse().ok()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// A running `keyward mock binance`, stopped when dropped.
struct Mock {
    child: Child,
    base_url: String,
}

impl Mock {
    fn start(keyward: &Path) -> Result<Self, String> {
        let mut command = Command::new(keyward);
        // A budget no run comes near: 10^9 weight per minute (a request costs 20).
        command.args([
            "mock",
            "binance",
            "--weight-limit",
            "1000000000",
            "--weight-window-s",
            "60",
        ]);
        let mut child = prepared(&mut command)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", keyward.display()))?;
        let mut first_line = String::new();
        let read = child
            .stdout
            .take()
            .map(|stdout| BufReader::new(stdout).read_line(&mut first_line));
        let base_url = first_line.trim().to_owned();
        let mock = Self { child, base_url };
        match read {
            Some(Ok(_)) if mock.base_url.starts_with("http://") => Ok(mock),
            _ => Err(format!("keyward mock printed no base URL (got `{}`)", mock.base_url)),
        }
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        // The mock runs until it is stopped; this process started it and ends it by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_requests_per_second_from_either_summary() {
        let keyward = r#"{"elapsed_ms":2000.0,"errors":{},"failed":0,"ok":300,"retries":0,"sent":300,"waited_ms":0}"#;
        assert_eq!(per_second(keyward, 300, "elapsed_ms", 1e3), Ok(150.0));
        let baseline = "{\"sent\":300,\"ok\":300,\"failed\":0,\"elapsed_us\":1000000}";
        assert_eq!(per_second(baseline, 300, "elapsed_us", 1e6), Ok(300.0));
    }

    #[test]
    fn a_run_with_failures_or_missing_requests_is_refused() {
        let failed = r#"{"elapsed_ms":5.0,"failed":1,"ok":299,"sent":300}"#;
        assert!(per_second(failed, 300, "elapsed_ms", 1e3).is_err());
        let short = r#"{"elapsed_ms":5.0,"failed":0,"ok":30,"sent":30}"#;
        assert!(per_second(short, 300, "elapsed_ms", 1e3).is_err());
        assert!(per_second("", 300, "elapsed_ms", 1e3).is_err());
    }

    #[test]
    fn the_median_of_three_ignores_one_outlier() {
        assert_eq!(median(&mut [5.0, 1_000.0, 4.0]), 5.0);
    }
}
