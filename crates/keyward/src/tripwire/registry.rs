//! The set of registered secrets, and the automaton that finds them in text.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::credentials::ApiKey;

/// What replaces a plain registered secret.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// RFC 3986 leaves these unescaped; most URL and query-string encoders do the same.
const RFC3986_RESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `application/x-www-form-urlencoded` leaves these unescaped (and turns a space into `+`).
const FORM_URLENCODED_RESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'*').remove(b'-').remove(b'.').remove(b'_');

/// A set of secrets to scrub from logs.
///
/// Every registered secret is matched in each form it is likely to reach a log in:
///
/// - raw bytes;
/// - lower- and upper-case hex;
/// - standard and URL-safe base64, padded and unpadded;
/// - standard and URL-safe base64 of a longer text that contains the secret at any of the three
///   alignments of a 3-byte group (for example `key:secret` in a `Basic` credential), for secrets
///   of 8 bytes or more: the characters that only the secret determines are replaced, and the
///   one or two characters at each end that also encode the neighbouring bytes stay;
/// - percent-encoded, as RFC 3986 encoders, `application/x-www-form-urlencoded` encoders and
///   encode-everything encoders write it.
///
/// Hex and percent-encoding map each byte on its own, so they are caught inside longer encoded
/// text too. Other transformations (compression, encryption, a hash of the secret) are not.
///
/// Empty secrets are ignored. Very short secrets (under 8 bytes) are matched too, because a
/// short secret is still a secret, but they will also match ordinary text and redact it: that
/// false positive is the price of never missing them.
///
/// Secrets are kept in buffers that are zeroized when the registry drops them; the compiled
/// automaton keeps its own copy of the patterns, which is not zeroized. Reading (scrubbing) never
/// waits for a registration to finish compiling: it uses the last compiled automaton.
///
/// # Example
///
/// ```
/// use keyward::tripwire::Registry;
///
/// let registry = Registry::new();
/// registry.register(b"test-only-secret-42");
/// assert_eq!(registry.scrub_str("secret=test-only-secret-42"), "secret=[REDACTED]");
/// // Hex: 746573742d6f6e6c792d7365637265742d3432
/// assert_eq!(registry.scrub_str("sig 746573742D6F6E6C792D7365637265742D3432"), "sig [REDACTED]");
/// ```
pub struct Registry {
    /// Every registration, so that the automaton can be rebuilt; also serializes registrations.
    secrets: Mutex<Vec<Registered>>,
    /// Read for the length of one scan, which does no I/O; written only to swap in a new
    /// automaton that was compiled outside the lock. Holding the read lock costs two uncontended
    /// atomic operations; cloning an `Arc` out of it, as before, cost two more per event.
    compiled: RwLock<Compiled>,
}

struct Registered {
    secret: Zeroizing<Vec<u8>>,
    replacement: Replacement,
}

#[derive(Clone, PartialEq, Eq)]
enum Replacement {
    Redacted,
    /// The fingerprint of an API key, so that operators can still tell which key was used.
    Fingerprint(Arc<str>),
}

impl Replacement {
    fn text(&self) -> &str {
        match self {
            Self::Redacted => REDACTED,
            Self::Fingerprint(fingerprint) => fingerprint,
        }
    }
}

enum Compiled {
    Empty,
    Ready {
        automaton: AhoCorasick,
        /// The replacement of each pattern, by pattern index.
        replacements: Vec<Replacement>,
    },
    /// The automaton could not be built (its size limits were exceeded). Scrubbing then hides
    /// everything rather than let a registered secret through.
    Unavailable,
}

/// Written instead of a whole log message when the automaton could not be built.
const UNAVAILABLE: &str = "[REDACTED: keyward tripwire could not compile its secrets]\n";

impl Registry {
    /// An empty registry, independent of the [global](Self::global) one.
    pub fn new() -> Self {
        Self {
            secrets: Mutex::new(Vec::new()),
            compiled: RwLock::new(Compiled::Empty),
        }
    }

    /// The process-wide registry, which [`Credentials`](crate::Credentials) register with and
    /// [`Tripwire::new`](super::Tripwire::new) scrubs with.
    pub fn global() -> &'static Registry {
        static GLOBAL: OnceLock<Registry> = OnceLock::new();
        GLOBAL.get_or_init(Registry::new)
    }

    /// Registers a secret: from now on, each of its forms is replaced by `[REDACTED]`.
    ///
    /// Registering the same secret again changes nothing. An empty secret is ignored.
    pub fn register(&self, secret: &[u8]) {
        self.insert(secret, Replacement::Redacted);
    }

    /// Registers an API key: each of its forms is replaced by its
    /// [fingerprint](ApiKey::fingerprint) (`…Eh8A`), which still tells which key was used.
    ///
    /// If the same bytes are also registered as a plain secret, `[REDACTED]` wins.
    pub fn register_api_key(&self, key: &ApiKey) {
        let fingerprint = key.fingerprint().to_string();
        self.insert(key.expose().as_bytes(), Replacement::Fingerprint(fingerprint.into()));
    }

    /// How many distinct secrets are registered.
    pub fn len(&self) -> usize {
        self.secrets.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether no secret is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `text` with every form of every registered secret replaced.
    ///
    /// Overlapping and adjacent matches are merged and replaced once, so no tail of one secret
    /// survives next to the replacement of another. Borrows `text` when nothing matched.
    pub fn scrub<'t>(&self, text: &'t [u8]) -> Cow<'t, [u8]> {
        let compiled = self.compiled.read().unwrap_or_else(PoisonError::into_inner);
        let (automaton, replacements) = match &*compiled {
            Compiled::Empty => return Cow::Borrowed(text),
            Compiled::Unavailable => return Cow::Owned(UNAVAILABLE.as_bytes().to_vec()),
            Compiled::Ready {
                automaton,
                replacements,
            } => (automaton, replacements),
        };
        let mut scrubbed: Option<Vec<u8>> = None;
        let mut copied_up_to = 0;
        let mut pending: Option<Span<'_>> = None;
        // Overlapping search reports every match of every pattern, so a secret inside or across
        // another is merged into one span instead of leaking its tail.
        let mut spans = Vec::new();
        for found in automaton.find_overlapping_iter(text) {
            spans.push(Span {
                start: found.start(),
                end: found.end(),
                replacement: &replacements[found.pattern().as_usize()],
            });
        }
        spans.sort_unstable_by_key(|span| span.start);
        for span in spans {
            match &mut pending {
                Some(current) if span.start <= current.end => {
                    current.end = current.end.max(span.end);
                    if current.replacement != span.replacement {
                        current.replacement = &MIXED;
                    }
                }
                _ => {
                    if let Some(done) = pending.take() {
                        let out = scrubbed.get_or_insert_with(|| Vec::with_capacity(text.len()));
                        out.extend_from_slice(&text[copied_up_to..done.start]);
                        out.extend_from_slice(done.replacement.text().as_bytes());
                        copied_up_to = done.end;
                    }
                    pending = Some(span);
                }
            }
        }
        if let Some(done) = pending {
            let out = scrubbed.get_or_insert_with(|| Vec::with_capacity(text.len()));
            out.extend_from_slice(&text[copied_up_to..done.start]);
            out.extend_from_slice(done.replacement.text().as_bytes());
            copied_up_to = done.end;
        }
        match scrubbed {
            None => Cow::Borrowed(text),
            Some(mut out) => {
                out.extend_from_slice(&text[copied_up_to..]);
                Cow::Owned(out)
            }
        }
    }

    /// [`scrub`](Self::scrub) for text.
    pub fn scrub_str<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match self.scrub(text.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            // Matches of UTF-8 secrets fall on character boundaries, but a registered byte
            // string may be a piece of a character; lossy conversion keeps this infallible.
            Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
        }
    }

    fn insert(&self, secret: &[u8], replacement: Replacement) {
        if secret.is_empty() {
            return;
        }
        let mut secrets = self.secrets.lock().unwrap_or_else(PoisonError::into_inner);
        let known = secrets
            .iter_mut()
            .find(|known| known.secret.len() == secret.len() && bool::from(known.secret.ct_eq(secret)));
        match known {
            Some(known) if known.replacement == replacement || known.replacement == Replacement::Redacted => return,
            Some(known) => known.replacement = Replacement::Redacted,
            None => secrets.push(Registered {
                secret: Zeroizing::new(secret.to_vec()),
                replacement,
            }),
        }
        let compiled = compile(&secrets);
        let previous = std::mem::replace(
            &mut *self.compiled.write().unwrap_or_else(PoisonError::into_inner),
            compiled,
        );
        // Freed after the lock is released, so that scans wait only for the swap.
        drop(previous);
    }
}

/// The replacement of a span where different replacements meet: the stricter one.
static MIXED: Replacement = Replacement::Redacted;

struct Span<'r> {
    start: usize,
    end: usize,
    replacement: &'r Replacement,
}

fn compile(secrets: &[Registered]) -> Compiled {
    let mut patterns: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    let mut replacements = Vec::new();
    for registered in secrets {
        for form in forms_of(&registered.secret) {
            patterns.push(form);
            replacements.push(registered.replacement.clone());
        }
    }
    if patterns.is_empty() {
        return Compiled::Empty;
    }
    // Standard semantics, because only they allow the overlapping search that `scrub` needs.
    // A contiguous NFA builds an order of magnitude faster than a DFA and searches almost as
    // fast; the automaton is rebuilt on every registration.
    match AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
        .build(patterns.iter().map(|pattern| pattern.as_slice()))
    {
        Ok(automaton) => Compiled::Ready {
            automaton,
            replacements,
        },
        Err(_) => Compiled::Unavailable,
    }
}

/// Every distinct form in which `secret` may be written to a log.
pub(crate) fn forms_of(secret: &[u8]) -> Vec<Zeroizing<Vec<u8>>> {
    let mut forms: Vec<Zeroizing<Vec<u8>>> = Vec::with_capacity(11);
    let mut add = |form: Zeroizing<Vec<u8>>| {
        if !form.is_empty() && !forms.iter().any(|known| **known == *form) {
            forms.push(form);
        }
    };
    add(Zeroizing::new(secret.to_vec()));
    add(Zeroizing::new(hex::encode(secret).into_bytes()));
    add(Zeroizing::new(hex::encode_upper(secret).into_bytes()));
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        add(Zeroizing::new(engine.encode(secret).into_bytes()));
    }
    if secret.len() >= MIN_EMBEDDED_BASE64_SECRET {
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            for offset in 0..3 {
                add(embedded_base64(engine, secret, offset));
            }
        }
    }
    for set in [RFC3986_RESERVED, NON_ALPHANUMERIC] {
        add(Zeroizing::new(
            percent_encoding::percent_encode(secret, set).to_string().into_bytes(),
        ));
    }
    add(Zeroizing::new(form_urlencode(secret)));
    forms
}

/// Secrets shorter than this are not looked for inside longer base64: the characters that only
/// they determine would be too few (under 8) not to turn up in unrelated base64 text.
const MIN_EMBEDDED_BASE64_SECRET: usize = 8;

/// The characters of a base64 encoding that `secret` alone determines when it starts `offset`
/// bytes (0, 1 or 2) into a 3-byte group of a longer encoded text, such as `key:secret` in a
/// `Basic` credential or a secret inside an encoded JSON document.
///
/// Each character encodes 6 bits; the ones that also carry bits of the bytes before or after
/// the secret depend on those bytes, so they are left out. At offset 0 with a length that is a
/// multiple of 3 this is the plain unpadded encoding.
fn embedded_base64(engine: &impl base64::Engine, secret: &[u8], offset: usize) -> Zeroizing<Vec<u8>> {
    let mut shifted = Zeroizing::new(vec![0; offset]);
    shifted.extend_from_slice(secret);
    let encoded = Zeroizing::new(engine.encode(&*shifted).into_bytes());
    let first = (offset * 8).div_ceil(6);
    let end = ((offset + secret.len()) * 8 / 6).min(encoded.len());
    Zeroizing::new(encoded.get(first..end).unwrap_or_default().to_vec())
}

fn form_urlencode(secret: &[u8]) -> Vec<u8> {
    secret
        .split(|&byte| byte == b' ')
        .map(|part| percent_encoding::percent_encode(part, FORM_URLENCODED_RESERVED).to_string())
        .collect::<Vec<_>>()
        .join("+")
        .into_bytes()
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("secrets", &self.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_cover_every_documented_encoding() {
        let forms: Vec<String> = forms_of(b"a b/+?")
            .iter()
            .map(|form| String::from_utf8_lossy(form).into_owned())
            .collect();
        for expected in [
            "a b/+?",
            "6120622f2b3f",
            "6120622F2B3F",
            "YSBiLys/",
            "YSBiLys_",
            "a%20b%2F%2B%3F",
            "a+b%2F%2B%3F",
        ] {
            assert!(
                forms.iter().any(|form| form == expected),
                "{expected} missing from {forms:?}"
            );
        }
    }

    #[test]
    fn padded_and_unpadded_base64_are_both_forms() {
        let forms = forms_of(b"ab");
        assert!(forms.iter().any(|form| form.as_slice() == b"YWI="));
        assert!(forms.iter().any(|form| form.as_slice() == b"YWI"));
    }

    /// Base64 of `before`, the secret and `after` together, in both alphabets.
    fn embedded(before: &[u8], secret: &[u8], after: &[u8]) -> [String; 2] {
        let whole = [before, secret, after].concat();
        [STANDARD.encode(&whole), URL_SAFE_NO_PAD.encode(&whole)]
    }

    #[test]
    fn a_secret_inside_longer_base64_is_caught_at_every_alignment() {
        // `>>?` and `~~~` encode to `+` and `/` in standard base64, `-` and `_` in URL-safe.
        let secret: &[u8] = b"test-only>>?secret~~~embedded";
        let registry = Registry::new();
        registry.register(secret);
        for before in [&b""[..], b"k", b"ke", b"key:", b"{\"api\":\"x\",\"secret\":\""] {
            for after in [&b""[..], b"\"", b"\"}", b":end"] {
                for text in embedded(before, secret, after) {
                    let scrubbed = registry.scrub_str(&text);
                    assert!(scrubbed.contains(REDACTED), "{text} at offset {}", before.len() % 3);
                    // What is left is at most two characters of each neighbour's encoding.
                    let kept = scrubbed.replace(REDACTED, "");
                    let neighbours = embedded(before, b"", after)[0].trim_end_matches('=').len();
                    assert!(kept.len() <= neighbours + 4, "{text} became {scrubbed}");
                }
            }
        }
    }

    #[test]
    fn embedded_base64_keeps_only_the_characters_the_secret_determines() {
        let secret = b"test-only-secret";
        // Offset 0, 16 bytes: 21 characters hold only secret bits, the 22nd also the next byte.
        let core = embedded_base64(&STANDARD_NO_PAD, secret, 0);
        assert_eq!(core.as_slice(), &STANDARD_NO_PAD.encode(secret).as_bytes()[..21]);
        // Offset 1: the first two characters also hold the byte before.
        let core = embedded_base64(&STANDARD_NO_PAD, secret, 1);
        let shifted = STANDARD_NO_PAD.encode([&b"\0"[..], secret].concat());
        assert_eq!(core.as_slice(), &shifted.as_bytes()[2..22]);
        // Offset 2, 16 bytes: 18 bytes end on a character boundary, so the tail is whole.
        let core = embedded_base64(&STANDARD_NO_PAD, secret, 2);
        let shifted = STANDARD_NO_PAD.encode([&b"\0\0"[..], secret].concat());
        assert_eq!(core.as_slice(), &shifted.as_bytes()[3..]);
    }

    #[test]
    fn short_secrets_are_not_looked_for_inside_longer_base64() {
        // Raw (which every percent-encoding leaves alone), hex in both cases, padded and
        // unpadded base64; nothing more for 7 bytes.
        assert_eq!(forms_of(b"pin1234").len(), 5);
        // From 8 bytes on, the embedded forms at the three offsets come in.
        assert_eq!(forms_of(b"pin12345").len(), 5 + 3);
    }

    #[test]
    fn debug_shows_only_a_count() {
        let registry = Registry::new();
        registry.register(b"test-only-secret-debug");
        let shown = format!("{registry:?}");
        assert!(!shown.contains("test-only-secret-debug"), "{shown}");
        assert!(shown.contains("secrets: 1"), "{shown}");
    }
}
