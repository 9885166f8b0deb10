//! Leak hunting: every form a secret can take in output, a scan of streams and folders for those
//! forms, and a sandbox that runs a process so that everything it writes can be scanned.
//!
//! A [`Needles`] set holds, for each secret (a secret, a passphrase, the bytes a base64 secret
//! decodes to), the forms it is likely to reach an output in: raw; lower- and upper-case hex;
//! standard and URL-safe base64, padded and unpadded, alone and inside other encoded bytes (at
//! each of the three byte alignments); and percent-encoded as RFC 3986 encoders, form encoders
//! and encode-everything encoders write it. The full API key is a needle in its raw and
//! percent-encoded forms only: its fingerprint (`…cdef`) is meant to be shown, and a hex dump of
//! a key is not a way it escapes. [`Needles::fragments`] adds every 16-byte piece of a secret,
//! for a secret cut short by an excerpt.
//!
//! A [`LeakScan`] searches bytes, files and whole folders (recursively, every regular file,
//! hidden ones too) for every needle, and keeps figures: streams, files, bytes, hits. A hit
//! names where it was found and which form, with a [`fingerprint`] of the needle: a failure
//! message never prints the secret itself.
//!
//! A [`Sandbox`] runs a process with `RUST_LOG=trace`, an empty environment of its own and
//! `HOME`, `TMPDIR` and the working directory inside one folder, and while the process runs it
//! hard-links every file that appears there into a folder of its own: a program that deletes its
//! temporary files before exiting (the quickstart removes its audit trail with its temp folder)
//! still leaves their final content to scan.
//!
//! Hand-written rather than `aho-corasick`: the haystacks are at most a few MiB of test output,
//! and a two-byte index over the needles keeps this crate's dependencies as they are. The
//! keyward tripwire is deliberately not reused to produce the forms: a scanner that shares the
//! scrubber's code would share its blind spots.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};
use std::{
    collections::{HashMap, HashSet},
    fmt,
    hash::{DefaultHasher, Hash, Hasher},
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    thread::JoinHandle,
    time::Duration,
};

use crate::Fixture;

/// RFC 3986 encoders leave the unreserved characters as they are.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
/// `application/x-www-form-urlencoded` encoders leave these as they are.
const FORM_URLENCODED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'*').remove(b'-').remove(b'.').remove(b'_');

/// Needles shorter than this would match ordinary text; every fixture secret is longer.
const MIN_NEEDLE_BYTES: usize = 8;

/// A short, stable fingerprint of `bytes` (SipHash with fixed keys), to tell needles apart in
/// a failure message without printing them.
pub fn fingerprint(bytes: &[u8]) -> String {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    format!("{:08x}", hasher.finish() >> 32)
}

/// Each encoding of `secret` that the scan looks for, named, duplicates removed (for a secret
/// of unreserved characters, every percent-encoding is the raw text).
pub fn forms_of(secret: &[u8]) -> Vec<(String, Vec<u8>)> {
    let percent_lower = percent_encode(secret, RFC3986).to_string();
    let percent_lower = lowercase_escapes(&percent_lower);
    let mut forms: Vec<(String, Vec<u8>)> = vec![
        ("raw".into(), secret.to_vec()),
        ("hex".into(), hex::encode(secret).into_bytes()),
        ("HEX".into(), hex::encode_upper(secret).into_bytes()),
        ("base64".into(), STANDARD.encode(secret).into_bytes()),
        ("base64 unpadded".into(), STANDARD_NO_PAD.encode(secret).into_bytes()),
        ("base64url".into(), URL_SAFE.encode(secret).into_bytes()),
        ("base64url unpadded".into(), URL_SAFE_NO_PAD.encode(secret).into_bytes()),
        (
            "percent-encoded (RFC 3986)".into(),
            percent_encode(secret, RFC3986).to_string().into_bytes(),
        ),
        (
            "percent-encoded (RFC 3986, lower-case escapes)".into(),
            percent_lower.into_bytes(),
        ),
        (
            "percent-encoded (form)".into(),
            percent_encode(secret, FORM_URLENCODED)
                .to_string()
                .replace("%20", "+")
                .into_bytes(),
        ),
        (
            "percent-encoded (every byte)".into(),
            secret.iter().flat_map(|b| format!("%{b:02X}").into_bytes()).collect(),
        ),
    ];
    for offset in 0..3 {
        for (alphabet, engine) in [("base64", &STANDARD), ("base64url", &URL_SAFE)] {
            if let Some(inner) = embedded_base64(engine, secret, offset) {
                forms.push((format!("{alphabet} inside other bytes (alignment {offset})"), inner));
            }
        }
    }
    let mut seen = HashSet::new();
    forms.retain(|(_, bytes)| seen.insert(bytes.clone()));
    forms
}

fn lowercase_escapes(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut escape_digits = 0;
    for c in encoded.chars() {
        if c == '%' {
            escape_digits = 2;
            out.push(c);
        } else if escape_digits > 0 {
            escape_digits -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The characters of the base64 of `offset` other bytes, then `secret`, then more bytes, that
/// depend on the secret alone: what `base64("key:" + secret)` and the like contain whatever
/// surrounds the secret.
fn embedded_base64(engine: &base64::engine::GeneralPurpose, secret: &[u8], offset: usize) -> Option<Vec<u8>> {
    let mut padded = vec![0u8; offset];
    padded.extend_from_slice(secret);
    let encoded = engine.encode(&padded).into_bytes();
    let first_group = offset.div_ceil(3);
    let last_group = (offset + secret.len()) / 3;
    (last_group > first_group).then(|| encoded[first_group * 4..last_group * 4].to_vec())
}

/// One form of one secret.
#[derive(Clone)]
struct Needle {
    /// What it is, e.g. `okx secret: base64url unpadded`; never the secret itself. When
    /// several secrets share a form (the fixtures of OKX and Coinbase share a passphrase), each
    /// name, joined by ` = `.
    form: String,
    fingerprint: String,
    bytes: Vec<u8>,
}

impl fmt::Debug for Needle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Needle({} {})", self.form, self.fingerprint)
    }
}

/// The strings a scan must not find: every form of every secret, and the full API keys.
#[derive(Debug, Clone, Default)]
pub struct Needles {
    needles: Vec<Needle>,
    secrets: usize,
    /// The API keys added, which [`Needles::fragments`] leaves out.
    api_keys: Vec<Vec<u8>>,
    /// Needles by their first two bytes, for a single pass over a haystack.
    index: HashMap<[u8; 2], Vec<usize>>,
}

impl Needles {
    /// No needles yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds every form of a secret, named `label` in reports (e.g. `okx secret`).
    ///
    /// # Panics
    /// If the secret is shorter than 8 bytes: it would match ordinary text.
    pub fn secret(mut self, label: &str, secret: &[u8]) -> Self {
        assert!(
            secret.len() >= MIN_NEEDLE_BYTES,
            "{label}: a fixture secret of under {MIN_NEEDLE_BYTES} bytes would match ordinary text"
        );
        self.secrets += 1;
        for (form, bytes) in forms_of(secret) {
            self.push(format!("{label}: {form}"), bytes);
        }
        self
    }

    /// Adds a full API key, raw and percent-encoded, named `label` in reports.
    pub fn api_key(mut self, label: &str, key: &str) -> Self {
        assert!(key.len() >= MIN_NEEDLE_BYTES, "{label}: too short to scan for");
        self.secrets += 1;
        self.api_keys.push(key.as_bytes().to_vec());
        self.push(format!("{label}: raw"), key.as_bytes().to_vec());
        let encoded = percent_encode(key.as_bytes(), RFC3986).to_string();
        if encoded != key {
            self.push(format!("{label}: percent-encoded"), encoded.into_bytes());
        }
        self
    }

    /// Adds a fixture's full API key, secret and passphrase, and, for a secret issued in base64
    /// (Kraken, Coinbase), the key bytes it decodes to.
    pub fn fixture(self, fixture: &Fixture) -> Self {
        let exchange = fixture.exchange;
        let mut needles = self
            .api_key(&format!("{exchange} API key"), &fixture.api_key)
            .secret(&format!("{exchange} secret"), fixture.secret.as_bytes());
        if let Some(passphrase) = &fixture.passphrase {
            needles = needles.secret(&format!("{exchange} passphrase"), passphrase.as_bytes());
        }
        match STANDARD.decode(fixture.secret.as_bytes()) {
            Ok(decoded) if decoded.len() >= MIN_NEEDLE_BYTES => {
                needles.secret(&format!("{exchange} secret (base64-decoded)"), &decoded)
            }
            _ => needles,
        }
    }

    /// Adds every `window`-byte piece of a secret's raw form, to catch a secret cut short by a
    /// message excerpt or a fixed-width column. Kept apart from [`Needles::secret`] because a
    /// piece of a value some output shows on purpose (a passphrase header) is a hit there too.
    /// Pieces that are also part of an API key added before (fixtures share a prefix such as
    /// `test-only-okx-`) are left out: finding them proves nothing.
    ///
    /// # Panics
    /// If `window` is under 8 bytes: a piece that short would match ordinary text.
    pub fn fragments(mut self, label: &str, secret: &[u8], window: usize) -> Self {
        assert!(
            window >= MIN_NEEDLE_BYTES,
            "{label}: fragments of under {MIN_NEEDLE_BYTES} bytes"
        );
        for (at, piece) in secret.windows(window).enumerate() {
            let in_a_key = self.api_keys.iter().any(|key| key.windows(window).any(|w| w == piece));
            if in_a_key {
                continue;
            }
            self.push(format!("{label}: {window} bytes from byte {at}"), piece.to_vec());
        }
        self
    }

    fn push(&mut self, form: String, bytes: Vec<u8>) {
        if let Some(same) = self.needles.iter_mut().find(|needle| needle.bytes == bytes) {
            same.form = format!("{} = {form}", same.form);
            return;
        }
        let key = [bytes[0], bytes[1]];
        self.index.entry(key).or_default().push(self.needles.len());
        self.needles.push(Needle {
            form,
            fingerprint: fingerprint(&bytes),
            bytes,
        });
    }

    /// How many secrets and keys were added.
    pub fn secrets(&self) -> usize {
        self.secrets
    }

    /// How many distinct forms are searched for.
    pub fn forms(&self) -> usize {
        self.needles.len()
    }

    /// Every form as a string (lossy for bytes that are not UTF-8), for tests that check a
    /// string of their own.
    pub fn strings(&self) -> Vec<String> {
        self.needles
            .iter()
            .map(|needle| String::from_utf8_lossy(&needle.bytes).into_owned())
            .collect()
    }

    /// Every needle found in `haystack`: its form, fingerprint, first offset and count.
    fn find(&self, haystack: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut found: HashMap<usize, (usize, usize)> = HashMap::new();
        for start in 0..haystack.len().saturating_sub(1) {
            let Some(candidates) = self.index.get(&[haystack[start], haystack[start + 1]]) else {
                continue;
            };
            for &needle in candidates {
                if haystack[start..].starts_with(&self.needles[needle].bytes) {
                    found.entry(needle).or_insert((start, 0)).1 += 1;
                }
            }
        }
        let mut found: Vec<_> = found.into_iter().map(|(n, (at, count))| (n, at, count)).collect();
        found.sort_unstable();
        found
    }
}

/// One form of one secret found somewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The stream or file, e.g. `sign okx: stderr` or `work/audit.jsonl`.
    pub source: String,
    /// The secret and the form, e.g. `okx secret: HEX` (names joined by ` = ` when several
    /// secrets share the form).
    pub form: String,
    /// The needle's [`fingerprint`].
    pub fingerprint: String,
    /// The byte offset of the first occurrence.
    pub offset: usize,
    /// How many times it occurs.
    pub count: usize,
}

impl fmt::Display for Hit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (fingerprint {}) at byte {}, {} time(s)",
            self.source, self.form, self.fingerprint, self.offset, self.count
        )
    }
}

/// What a scan covered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// Processes run (counted by the caller through [`LeakScan::process`]).
    pub processes: usize,
    /// Streams scanned (stdout and stderr of each process, and other captured text).
    pub streams: usize,
    /// Files scanned.
    pub files: usize,
    /// Bytes scanned, streams and files together.
    pub bytes: u64,
    /// Secrets and keys searched for.
    pub secrets: usize,
    /// Distinct forms searched for.
    pub forms: usize,
    /// Forms found where they may not be.
    pub hits: usize,
    /// Forms found where they are meant to be (see [`LeakScan::allow`]).
    pub allowed: usize,
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} processes, {} streams and {} files scanned ({} bytes) for {} forms of {} secrets and keys: \
             {} leaks, {} allowed by design",
            self.processes, self.streams, self.files, self.bytes, self.forms, self.secrets, self.hits, self.allowed
        )
    }
}

/// A form that may appear in one source, a known number of times, because the output exists
/// to show it.
#[derive(Debug, Clone)]
struct Allowance {
    source: String,
    form: String,
    at_most: usize,
}

/// A scan for leaks across streams, files and folders, with its figures.
#[derive(Debug, Default)]
pub struct LeakScan {
    needles: Needles,
    hits: Vec<Hit>,
    allowances: Vec<Allowance>,
    allowed: Vec<Hit>,
    figures: Figures,
}

impl LeakScan {
    /// A scan for `needles`.
    pub fn new(needles: Needles) -> Self {
        let figures = Figures {
            secrets: needles.secrets(),
            forms: needles.forms(),
            ..Figures::default()
        };
        Self {
            needles,
            figures,
            ..Self::default()
        }
    }

    /// Allows the exact form `form` (as named in hits, e.g. `okx API key: raw`) up to `at_most`
    /// times in the source named `source`, and nowhere else: `keyward sign` prints the API key
    /// header because the exchange requires it. One more occurrence is a leak.
    pub fn allow(&mut self, source: &str, form: &str, at_most: usize) {
        self.allowances.push(Allowance {
            source: source.to_owned(),
            form: form.to_owned(),
            at_most,
        });
    }

    /// Counts one process run.
    pub fn process(&mut self) {
        self.figures.processes += 1;
    }

    /// Scans a stream (or any captured text) named `source`.
    pub fn stream(&mut self, source: &str, bytes: &[u8]) {
        self.figures.streams += 1;
        self.search(source, bytes);
    }

    /// Scans the whole file at `path`, named `source` in hits.
    pub fn file(&mut self, source: &str, path: &Path) -> std::io::Result<()> {
        let bytes = std::fs::read(path)?;
        self.figures.files += 1;
        self.search(source, &bytes);
        Ok(())
    }

    /// Scans every regular file under `root`, recursively, hidden ones too, once per file (hard
    /// links are one file), except those at the paths in `skip` (the inputs a test wrote, such as
    /// a `.env`). Files are named by their path relative to `root`, or by `names` when a hard
    /// link stands in for a file that is gone. Returns the number of files scanned.
    pub fn dir(&mut self, root: &Path, skip: &[PathBuf], names: &HashMap<PathBuf, String>) -> std::io::Result<usize> {
        let mut seen = HashSet::new();
        let mut pending = vec![root.to_owned()];
        let mut scanned = 0;
        while let Some(dir) = pending.pop() {
            let mut entries: Vec<_> = std::fs::read_dir(&dir)?.collect::<Result<_, _>>()?;
            entries.sort_by_key(std::fs::DirEntry::path);
            for entry in entries {
                let path = entry.path();
                let kind = entry.file_type()?;
                if kind.is_dir() {
                    pending.push(path);
                } else if kind.is_file() && !skip.contains(&path) && seen.insert(file_identity(&path)?) {
                    let relative = path.strip_prefix(root).unwrap_or(&path);
                    let name = names
                        .get(&path)
                        .cloned()
                        .unwrap_or_else(|| relative.display().to_string());
                    self.file(&name, &path)?;
                    scanned += 1;
                }
            }
        }
        Ok(scanned)
    }

    fn search(&mut self, source: &str, bytes: &[u8]) {
        self.figures.bytes += bytes.len() as u64;
        for (needle, offset, count) in self.needles.find(bytes) {
            let needle = &self.needles.needles[needle];
            let hit = Hit {
                source: source.to_owned(),
                form: needle.form.clone(),
                fingerprint: needle.fingerprint.clone(),
                offset,
                count,
            };
            let allowed = self.allowances.iter().any(|allowance| {
                allowance.source == hit.source
                    && hit.count <= allowance.at_most
                    && hit.form.split(" = ").any(|f| f == allowance.form)
            });
            if allowed {
                self.figures.allowed += 1;
                self.allowed.push(hit);
            } else {
                self.figures.hits += 1;
                self.hits.push(hit);
            }
        }
    }

    /// The leaks found so far.
    pub fn hits(&self) -> &[Hit] {
        &self.hits
    }

    /// The allowed forms found so far (a test can check that the allowance was needed).
    pub fn allowed(&self) -> &[Hit] {
        &self.allowed
    }

    /// What was scanned, and what was found.
    pub fn figures(&self) -> Figures {
        self.figures
    }

    /// Panics with every leak (its source, form and fingerprint, never the secret) if any
    /// was found.
    pub fn assert_clean(&self) {
        if !self.hits.is_empty() {
            let list: Vec<String> = self.hits.iter().map(|hit| format!("  {hit}")).collect();
            panic!(
                "{} secret form(s) leaked ({}):\n{}",
                self.hits.len(),
                self.figures,
                list.join("\n")
            );
        }
    }
}

#[cfg(unix)]
fn file_identity(path: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::metadata(path)?;
    Ok((metadata.dev(), metadata.ino()))
}

#[cfg(not(unix))]
fn file_identity(path: &Path) -> std::io::Result<(u64, u64)> {
    let mut hasher = DefaultHasher::new();
    path.hash(&mut hasher);
    Ok((0, hasher.finish()))
}

/// A folder to run processes in: `work/` (the working directory), `tmp/` (`TMPDIR`), `home/`
/// (`HOME`), and `kept/`, where the sandbox hard-links each file that appears while a process
/// runs, so that files the process deletes before it exits are still scanned.
#[derive(Debug)]
pub struct Sandbox {
    root: PathBuf,
    inputs: Vec<PathBuf>,
    kept: Arc<Mutex<HashMap<PathBuf, String>>>,
}

impl Sandbox {
    /// A sandbox in `root`, an empty folder the caller owns (and removes).
    pub fn new(root: &Path) -> std::io::Result<Self> {
        for dir in ["work", "tmp", "home", "kept"] {
            std::fs::create_dir_all(root.join(dir))?;
        }
        Ok(Self {
            root: root.to_owned(),
            inputs: Vec::new(),
            kept: Arc::default(),
        })
    }

    /// The working directory of the processes.
    pub fn work(&self) -> PathBuf {
        self.root.join("work")
    }

    /// The `TMPDIR` of the processes.
    pub fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Writes an input file (a `.env`, a trail to verify) at `relative` under `work/`, with
    /// the unix `mode`; it is not scanned, since it holds the secrets on purpose.
    pub fn input(&mut self, relative: &str, contents: &[u8], mode: u32) -> std::io::Result<PathBuf> {
        let path = self.work().join(relative);
        std::fs::write(&path, contents)?;
        set_mode(&path, mode)?;
        self.inputs.push(path.clone());
        Ok(path)
    }

    /// Marks a path under `work/` as an input not to scan (a folder named `.env`, say).
    pub fn exclude(&mut self, path: PathBuf) {
        self.inputs.push(path);
    }

    /// `program` with an empty environment but `PATH`, `HOME` and `TMPDIR` in the sandbox,
    /// `RUST_LOG=trace`, and `work/` as its working directory.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(self.work())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.root.join("home"))
            .env("TMPDIR", self.tmp())
            .env("RUST_LOG", "trace");
        command
    }

    /// Starts `command` with its output captured, keeping the files it writes.
    pub fn spawn(&self, mut command: Command) -> std::io::Result<Running> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let (lines, first_lines) = mpsc::channel();
        let stdout = child.stdout.take().map(|out| {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(out);
                let mut all = Vec::new();
                let mut line = Vec::new();
                while reader.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
                    let _ = lines.send(String::from_utf8_lossy(&line).into_owned());
                    all.append(&mut line);
                }
                all
            })
        });
        let stderr = child.stderr.take().map(|mut err| {
            std::thread::spawn(move || {
                let mut all = Vec::new();
                let _ = err.read_to_end(&mut all);
                all
            })
        });
        let stop = Arc::new(AtomicBool::new(false));
        let keeper = {
            let (stop, kept) = (Arc::clone(&stop), Arc::clone(&self.kept));
            let (root, inputs) = (self.root.clone(), self.inputs.clone());
            std::thread::spawn(move || {
                let mut keeper = Keeper::new(root, inputs, kept);
                while !stop.load(Ordering::Relaxed) {
                    keeper.pass();
                    std::thread::sleep(Duration::from_millis(5));
                }
                keeper.pass();
            })
        };
        Ok(Running {
            child,
            stdout,
            stderr,
            first_lines,
            stop,
            keeper: Some(keeper),
        })
    }

    /// Runs `command` to the end; see [`Sandbox::spawn`].
    pub fn run(&self, command: Command) -> std::io::Result<Finished> {
        self.spawn(command)?.wait()
    }

    /// The paths (relative to the sandbox) of the files kept while processes ran, sorted:
    /// whether a deleted file was kept can be checked.
    pub fn kept(&self) -> Vec<String> {
        let mut kept: Vec<String> = self
            .kept
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        kept.sort();
        kept
    }

    /// Scans everything under the sandbox except the inputs: what the processes left, and
    /// the kept links to what they deleted. Returns the number of files scanned.
    pub fn scan_files(&self, scan: &mut LeakScan) -> std::io::Result<usize> {
        let names = self.kept.lock().unwrap_or_else(|p| p.into_inner()).clone();
        scan.dir(&self.root, &self.inputs, &names)
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

/// Hard-links each new file under the sandbox into `kept/`, once per file.
struct Keeper {
    root: PathBuf,
    inputs: Vec<PathBuf>,
    kept: Arc<Mutex<HashMap<PathBuf, String>>>,
    seen: HashSet<(u64, u64)>,
}

impl Keeper {
    fn new(root: PathBuf, inputs: Vec<PathBuf>, kept: Arc<Mutex<HashMap<PathBuf, String>>>) -> Self {
        Self {
            root,
            inputs,
            kept,
            seen: HashSet::new(),
        }
    }

    /// One walk; files vanish under it, so every error just skips the entry.
    fn pass(&mut self) {
        let kept_dir = self.root.join("kept");
        let mut pending = vec![self.root.clone()];
        while let Some(dir) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(kind) = entry.file_type() else { continue };
                if kind.is_dir() && path != kept_dir {
                    pending.push(path);
                } else if kind.is_file() && !self.inputs.contains(&path) {
                    let Ok(identity) = file_identity(&path) else { continue };
                    if !self.seen.insert(identity) {
                        continue;
                    }
                    let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
                    let link = kept_dir.join(kept.len().to_string());
                    if std::fs::hard_link(&path, &link).is_ok() {
                        let relative = path.strip_prefix(&self.root).unwrap_or(&path);
                        kept.insert(link, relative.display().to_string());
                    }
                }
            }
        }
    }
}

/// How long a process may run before [`Running::wait`] gives up on it: far above any command's
/// run time (the quickstart takes about 20 s), so only a hang reaches it.
pub const HUNG_AFTER: Duration = Duration::from_secs(180);

/// A process started by [`Sandbox::spawn`].
#[derive(Debug)]
pub struct Running {
    child: Child,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
    first_lines: mpsc::Receiver<String>,
    stop: Arc<AtomicBool>,
    keeper: Option<JoinHandle<()>>,
}

impl Running {
    /// The next line of its stdout, waiting up to `timeout`.
    pub fn next_line(&self, timeout: Duration) -> Option<String> {
        self.first_lines.recv_timeout(timeout).ok()
    }

    /// Its process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Sends it SIGINT (Ctrl-C) through `kill`, so that it shuts down as it would in a terminal.
    pub fn interrupt(&self) -> std::io::Result<()> {
        let status = Command::new("kill").arg("-INT").arg(self.id().to_string()).status()?;
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("kill -INT exited with {status}")))
        }
    }

    /// Waits for it to exit, then for its output and the last pass of the file keeper. A
    /// process still running after [`HUNG_AFTER`] is killed and reported as an error.
    pub fn wait(mut self) -> std::io::Result<Finished> {
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait()? {
                break status;
            }
            if started.elapsed() > HUNG_AFTER {
                return Err(std::io::Error::other(format!(
                    "still running after {HUNG_AFTER:?}: killed"
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let join = |handle: Option<JoinHandle<Vec<u8>>>| handle.and_then(|h| h.join().ok()).unwrap_or_default();
        let stdout = join(self.stdout.take());
        let stderr = join(self.stderr.take());
        self.stop.store(true, Ordering::Relaxed);
        if let Some(keeper) = self.keeper.take() {
            let _ = keeper.join();
        }
        Ok(Finished { status, stdout, stderr })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A test that panics mid-run must not leave the process behind.
        if self.keeper.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
            self.stop.store(true, Ordering::Relaxed);
        }
    }
}

/// A process that has exited, with everything it printed.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status.
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
}

impl Finished {
    /// Its exit code, -1 when a signal ended it.
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or(-1)
    }

    /// Its stdout as text.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Its stderr as text.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// Scans its stdout and stderr as `<name>: stdout` and `<name>: stderr`, and counts it.
    pub fn scan(&self, name: &str, scan: &mut LeakScan) {
        scan.process();
        scan.stream(&format!("{name}: stdout"), &self.stdout);
        scan.stream(&format!("{name}: stderr"), &self.stderr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "test-only-leak-secret-0123456789+/=?&";

    fn scan_of(text: &[u8]) -> LeakScan {
        let mut scan = LeakScan::new(Needles::new().secret("fixture secret", SECRET.as_bytes()));
        scan.stream("stream", text);
        scan
    }

    fn forms_found(text: &[u8]) -> Vec<String> {
        scan_of(text).hits().iter().map(|hit| hit.form.clone()).collect()
    }

    #[test]
    fn each_form_is_found_inside_other_text() {
        let secret = SECRET.as_bytes();
        let cases = [
            ("raw", SECRET.to_owned()),
            ("hex", hex::encode(secret)),
            ("HEX", hex::encode_upper(secret)),
            ("base64", STANDARD.encode(secret)),
            ("base64 unpadded", STANDARD_NO_PAD.encode(secret)),
            ("base64url", URL_SAFE.encode(secret)),
            ("base64url unpadded", URL_SAFE_NO_PAD.encode(secret)),
            // Written out by hand, not with the encoder under test.
            (
                "percent-encoded (RFC 3986)",
                "test-only-leak-secret-0123456789%2B%2F%3D%3F%26".to_owned(),
            ),
            (
                "percent-encoded (RFC 3986, lower-case escapes)",
                "test-only-leak-secret-0123456789%2b%2f%3d%3f%26".to_owned(),
            ),
            (
                "percent-encoded (every byte)",
                "%74%65%73%74%2D".to_owned() + &every_byte_tail(),
            ),
        ];
        for (form, encoded) in cases {
            let text = format!("2026-01-01T00:00:00Z TRACE value={encoded} done\n");
            let found = forms_found(text.as_bytes());
            assert!(
                found.contains(&format!("fixture secret: {form}")),
                "{form} not detected; found {found:?}"
            );
        }
    }

    fn every_byte_tail() -> String {
        SECRET.as_bytes()[5..].iter().map(|b| format!("%{b:02X}")).collect()
    }

    #[test]
    fn form_and_rfc_3986_encodings_are_both_found() {
        // Form encoders write a space as `+` and leave `*` alone; RFC 3986 ones escape both.
        let needles = Needles::new().secret("spaced", b"test only*secret");
        let mut scan = LeakScan::new(needles);
        scan.stream("form", b"a=1&s=test+only*secret&b=2");
        scan.stream("rfc", b"s=test%20only%2Asecret");
        let forms: Vec<_> = scan.hits().iter().map(|hit| hit.form.as_str()).collect();
        assert_eq!(
            forms,
            ["spaced: percent-encoded (form)", "spaced: percent-encoded (RFC 3986)"]
        );
    }

    #[test]
    fn a_secret_base64_encoded_with_other_bytes_is_found_at_every_alignment() {
        let mut url_safe_forms = 0;
        for prefix in ["", "k", "ke", "key:", "api-key:x"] {
            let encoded = STANDARD.encode(format!("{prefix}{SECRET}:suffix"));
            let found = forms_found(encoded.as_bytes());
            assert!(
                found
                    .iter()
                    .any(|form| form.starts_with("fixture secret: base64 inside other bytes")),
                "prefix {prefix:?}: {found:?}"
            );
            let encoded = URL_SAFE_NO_PAD.encode(format!("{prefix}{SECRET}"));
            let found = forms_found(encoded.as_bytes());
            // Where no `+` or `/` occurs, the URL-safe form is the standard one, named so.
            assert!(
                found.iter().any(|form| form.starts_with("fixture secret: base64")),
                "url-safe, prefix {prefix:?}: {found:?}"
            );
            url_safe_forms += found.iter().filter(|form| form.contains("base64url")).count();
        }
        assert!(
            url_safe_forms > 0,
            "the secret's `?` and `/` make URL-safe forms differ"
        );
    }

    #[test]
    fn clean_text_and_near_misses_are_not_hits() {
        let almost = &SECRET[..SECRET.len() - 1];
        let text = format!("fingerprint …6789, [REDACTED], {almost}, {}", hex::encode(&SECRET[1..]));
        let scan = scan_of(text.as_bytes());
        assert_eq!(scan.hits(), &[] as &[Hit]);
        scan.assert_clean();
        assert_eq!(scan.figures().bytes, text.len() as u64);
        assert_eq!(scan.figures().streams, 1);
    }

    #[test]
    fn a_hit_names_source_form_and_fingerprint_never_the_secret() {
        let scan = scan_of(format!("xx{}yy{}", hex::encode(SECRET), hex::encode(SECRET)).as_bytes());
        let hit = &scan.hits()[0];
        assert_eq!(hit.source, "stream");
        assert_eq!(hit.form, "fixture secret: hex");
        assert_eq!(hit.offset, 2);
        assert_eq!(hit.count, 2);
        assert_eq!(hit.fingerprint, fingerprint(hex::encode(SECRET).as_bytes()));
        let message = std::panic::catch_unwind(|| scan.assert_clean())
            .err()
            .and_then(|panic| panic.downcast_ref::<String>().cloned())
            .unwrap();
        assert!(
            message.contains("stream: fixture secret: hex (fingerprint "),
            "{message}"
        );
        assert!(
            !message.contains(&hex::encode(SECRET)) && !message.contains(SECRET),
            "{message}"
        );
    }

    #[test]
    fn the_api_key_is_found_raw_and_its_fingerprint_is_not_a_hit() {
        let fixture = Fixture::new("okx", 1);
        let mut scan = LeakScan::new(Needles::new().fixture(&fixture));
        scan.stream("log", b"key \xe2\x80\xa6cdef accepted");
        assert!(scan.hits().is_empty());
        scan.stream("log", format!("key {}", fixture.api_key).as_bytes());
        assert_eq!(scan.hits()[0].form, "okx API key: raw");
        scan.stream("header", fixture.passphrase.as_deref().unwrap().as_bytes());
        assert_eq!(scan.hits()[1].form, "okx passphrase: raw");
    }

    #[test]
    fn a_base64_secret_is_also_searched_for_as_the_bytes_it_decodes_to() {
        let fixture = Fixture::new("kraken", 1);
        let decoded = STANDARD.decode(&fixture.secret).unwrap();
        let mut scan = LeakScan::new(Needles::new().fixture(&fixture));
        scan.stream("log", &[b"hmac key ".as_slice(), &decoded].concat());
        scan.stream("log", hex::encode(&decoded).as_bytes());
        let forms: Vec<_> = scan.hits().iter().map(|hit| hit.form.as_str()).collect();
        assert_eq!(
            forms,
            [
                "kraken secret (base64-decoded): raw",
                "kraken secret (base64-decoded): hex"
            ]
        );
    }

    #[test]
    fn a_form_shared_by_two_secrets_carries_both_names_and_either_allowance() {
        let (okx, coinbase) = (Fixture::new("okx", 1), Fixture::new("coinbase", 1));
        assert_eq!(okx.passphrase, coinbase.passphrase, "the fixtures share a passphrase");
        let mut scan = LeakScan::new(Needles::new().fixture(&coinbase).fixture(&okx));
        scan.allow("sign okx: stdout", "okx passphrase: raw", 1);
        let passphrase = okx.passphrase.as_deref().unwrap().as_bytes();
        scan.stream("sign okx: stdout", passphrase);
        scan.stream("sign okx: stderr", passphrase);
        assert_eq!(scan.allowed().len(), 1);
        assert_eq!(scan.hits().len(), 1);
        assert_eq!(scan.hits()[0].form, "coinbase passphrase: raw = okx passphrase: raw");
    }

    #[test]
    fn a_secret_cut_short_is_found_by_its_fragments() {
        let needles = Needles::new().fragments("fixture secret", SECRET.as_bytes(), 16);
        assert_eq!(needles.forms(), SECRET.len() - 15);
        let beside_a_key = Needles::new()
            .api_key("key", "test-only-leak-se-key-0123456789abcdef")
            .fragments("fixture secret", SECRET.as_bytes(), 16);
        assert_eq!(
            beside_a_key.forms(),
            1 + SECRET.len() - 15 - 2,
            "the 17 shared bytes `test-only-leak-se` hold two pieces"
        );
        let mut scan = LeakScan::new(needles);
        scan.stream("excerpt", format!("error: {}…", &SECRET[..20]).as_bytes());
        scan.stream("column", format!("|{}|", &SECRET[11..27]).as_bytes());
        scan.stream("too short", format!("|{}|", &SECRET[11..26]).as_bytes());
        let found: Vec<_> = scan
            .hits()
            .iter()
            .map(|hit| (hit.source.as_str(), hit.form.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("excerpt", "fixture secret: 16 bytes from byte 0"),
                ("excerpt", "fixture secret: 16 bytes from byte 1"),
                ("excerpt", "fixture secret: 16 bytes from byte 2"),
                ("excerpt", "fixture secret: 16 bytes from byte 3"),
                ("excerpt", "fixture secret: 16 bytes from byte 4"),
                ("column", "fixture secret: 16 bytes from byte 11"),
            ]
        );
    }

    #[test]
    fn allowances_cover_one_form_in_one_source_only() {
        let fixture = Fixture::new("binance", 1);
        let mut scan = LeakScan::new(Needles::new().fixture(&fixture));
        scan.allow("sign: stdout", "binance API key: raw", 1);
        scan.stream("sign: stdout", fixture.api_key.as_bytes());
        assert!(scan.hits().is_empty());
        assert_eq!(scan.allowed().len(), 1);
        scan.stream("sign: stderr", fixture.api_key.as_bytes());
        scan.stream("sign: stdout", fixture.secret.as_bytes());
        let twice = format!("{0} {0}", fixture.api_key);
        scan.stream("sign: stdout", twice.as_bytes());
        let leaks: Vec<_> = scan.hits().iter().map(|hit| (hit.source.as_str(), hit.count)).collect();
        assert_eq!(leaks, [("sign: stderr", 1), ("sign: stdout", 1), ("sign: stdout", 2)]);
    }

    #[test]
    fn a_folder_is_walked_recursively_hidden_files_and_skips_included() {
        let root = std::env::temp_dir().join(format!("keyward-leak-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("a/.b/c")).unwrap();
        std::fs::write(root.join("a/.b/c/.trace"), format!("x{}", STANDARD.encode(SECRET))).unwrap();
        std::fs::write(root.join("clean.log"), "nothing here").unwrap();
        std::fs::write(root.join(".env"), SECRET).unwrap();
        std::fs::hard_link(root.join("a/.b/c/.trace"), root.join("same-file")).unwrap();
        let mut scan = LeakScan::new(Needles::new().secret("fixture secret", SECRET.as_bytes()));
        let scanned = scan.dir(&root, &[root.join(".env")], &HashMap::new()).unwrap();
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(scanned, 2, "the hard link is the same file; .env is skipped");
        let sources: HashSet<_> = scan.hits().iter().map(|hit| hit.source.as_str()).collect();
        assert!(
            sources == HashSet::from(["a/.b/c/.trace"]) || sources == HashSet::from(["same-file"]),
            "{sources:?}"
        );
        assert!(scan.hits().iter().any(|hit| hit.form == "fixture secret: base64"));
    }

    #[cfg(unix)]
    #[test]
    fn the_sandbox_keeps_files_a_process_deletes_before_it_exits() {
        let root = std::env::temp_dir().join(format!("keyward-leak-sandbox-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let sandbox = Sandbox::new(&root).unwrap();
        let mut command = sandbox.command("sh");
        let script = format!(
            "mkdir \"$TMPDIR/t\"; printf '%s' '{}' > \"$TMPDIR/t/trail\"; sleep 0.1; printf more >> \"$TMPDIR/t/trail\"; \
             rm -r \"$TMPDIR/t\"; echo done; echo oops >&2",
            hex::encode(SECRET)
        );
        command.arg("-c").arg(script);
        let finished = sandbox.run(command).unwrap();
        let mut scan = LeakScan::new(Needles::new().secret("fixture secret", SECRET.as_bytes()));
        finished.scan("sh", &mut scan);
        let files = sandbox.scan_files(&mut scan).unwrap();
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(finished.stdout_text(), "done\n");
        assert_eq!(finished.stderr_text(), "oops\n");
        assert_eq!(files, 1);
        assert_eq!(scan.hits().len(), 1, "{:?}", scan.hits());
        assert_eq!(scan.hits()[0].source, "tmp/t/trail");
        assert_eq!(scan.figures().processes, 1);
    }
}
