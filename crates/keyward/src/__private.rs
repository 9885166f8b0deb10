//! Support for the code `#[audited]` generates. Not public API: it may change in any release.
//!
//! The probes below pick an implementation by the type of a value through autoref-based
//! specialisation: for an expression `(&&&Probe(&x))`, an impl on `&&Probe<T>` wins over one on
//! `&Probe<T>`, which wins over one on `Probe<T>`; an impl whose bounds `T` does not meet is
//! skipped. This is resolved at compile time at each call site, with no runtime cost.

#![allow(missing_docs, missing_debug_implementations, unreachable_pub)]

pub use crate::audit::capture::AuditValue;
pub use tracing;

use crate::{
    audit::{
        AuditUnavailable,
        capture::{KeyText, Native, Sensitive},
    },
    credentials::Fingerprint,
};
use std::{fmt, marker::PhantomData, time::Instant};

/// A borrowed parameter, to be recorded.
pub struct Probe<'a, T: ?Sized>(pub &'a T);

pub trait CaptureSensitive {
    fn kw_capture(&self) -> AuditValue;
}
impl<T: Sensitive + ?Sized> CaptureSensitive for &&Probe<'_, T> {
    #[inline]
    fn kw_capture(&self) -> AuditValue {
        AuditValue::Redacted
    }
}
pub trait CaptureNative {
    fn kw_capture(&self) -> AuditValue;
}
impl<T: Native + ?Sized> CaptureNative for &Probe<'_, T> {
    #[inline]
    fn kw_capture(&self) -> AuditValue {
        self.0.native()
    }
}
pub trait CaptureDebug {
    fn kw_capture(&self) -> AuditValue;
}
impl<T: fmt::Debug + ?Sized> CaptureDebug for Probe<'_, T> {
    fn kw_capture(&self) -> AuditValue {
        AuditValue::Text(format!("{:?}", self.0))
    }
}

pub trait FingerprintSensitive {
    fn kw_fingerprint(&self) -> AuditValue;
}
impl<T: Sensitive + ?Sized> FingerprintSensitive for &&Probe<'_, T> {
    #[inline]
    fn kw_fingerprint(&self) -> AuditValue {
        AuditValue::Redacted
    }
}
pub trait FingerprintKey {
    fn kw_fingerprint(&self) -> AuditValue;
}
impl<T: KeyText + ?Sized> FingerprintKey for &Probe<'_, T> {
    fn kw_fingerprint(&self) -> AuditValue {
        AuditValue::Text(Fingerprint::of(self.0.key_text()).to_string())
    }
}
pub trait FingerprintDebug {
    fn kw_fingerprint(&self) -> AuditValue;
}
impl<T: fmt::Debug + ?Sized> FingerprintDebug for Probe<'_, T> {
    fn kw_fingerprint(&self) -> AuditValue {
        let text = format!("{:?}", self.0);
        let unquoted = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(&text);
        AuditValue::Text(Fingerprint::of(unquoted).to_string())
    }
}

/// A borrowed return value, to be classified.
pub struct OutProbe<'a, T>(pub &'a T);

pub trait OutcomeOfResult {
    fn kw_outcome(&self) -> &'static str;
}
impl<T, E> OutcomeOfResult for OutProbe<'_, Result<T, E>> {
    #[inline]
    fn kw_outcome(&self) -> &'static str {
        if self.0.is_err() { "err" } else { "ok" }
    }
}
pub trait OutcomeOfOther {
    fn kw_outcome(&self) -> &'static str;
}
impl<T> OutcomeOfOther for &OutProbe<'_, T> {
    #[inline]
    fn kw_outcome(&self) -> &'static str {
        "ok"
    }
}

/// An error, shown through its `Display` (or its `Debug` when it has no `Display`).
pub enum ErrorText<'a> {
    Display(&'a dyn fmt::Display),
    Debug(&'a dyn fmt::Debug),
}

impl fmt::Display for ErrorText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Display(error) => error.fmt(f),
            Self::Debug(error) => error.fmt(f),
        }
    }
}

pub trait ErrorDisplay<'a> {
    fn kw_error(&self) -> Option<ErrorText<'a>>;
}
impl<'a, T, E: fmt::Display> ErrorDisplay<'a> for &&OutProbe<'a, Result<T, E>> {
    fn kw_error(&self) -> Option<ErrorText<'a>> {
        self.0.as_ref().err().map(|e| ErrorText::Display(e))
    }
}
pub trait ErrorDebug<'a> {
    fn kw_error(&self) -> Option<ErrorText<'a>>;
}
impl<'a, T, E: fmt::Debug> ErrorDebug<'a> for &OutProbe<'a, Result<T, E>> {
    fn kw_error(&self) -> Option<ErrorText<'a>> {
        self.0.as_ref().err().map(|e| ErrorText::Debug(e))
    }
}
pub trait ErrorNone<'a> {
    fn kw_error(&self) -> Option<ErrorText<'a>>;
}
impl<'a, T> ErrorNone<'a> for OutProbe<'a, T> {
    #[inline]
    fn kw_error(&self) -> Option<ErrorText<'a>> {
        None
    }
}

pub trait OkOfResult<'a, T> {
    fn kw_ok(&self) -> Option<&'a T>;
}
impl<'a, T, E> OkOfResult<'a, T> for &OutProbe<'a, Result<T, E>> {
    fn kw_ok(&self) -> Option<&'a T> {
        self.0.as_ref().ok()
    }
}
pub trait OkOfOther<'a, T> {
    fn kw_ok(&self) -> Option<&'a T>;
}
impl<'a, T> OkOfOther<'a, T> for OutProbe<'a, T> {
    fn kw_ok(&self) -> Option<&'a T> {
        Some(self.0)
    }
}

/// The return type of an audited function, to refuse a call with `AuditUnavailable`.
pub struct ReturnProbe<R>(PhantomData<fn() -> R>);

impl<R> ReturnProbe<R> {
    #[inline]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

pub trait RefuseResult<R> {
    fn kw_refuse(&self, refusal: &AuditUnavailable) -> Option<R>;
}
impl<T, E: From<AuditUnavailable>> RefuseResult<Result<T, E>> for ReturnProbe<Result<T, E>> {
    fn kw_refuse(&self, refusal: &AuditUnavailable) -> Option<Result<T, E>> {
        Some(Err(E::from(refusal.clone())))
    }
}
pub trait RefuseOther<R> {
    fn kw_refuse(&self, refusal: &AuditUnavailable) -> Option<R>;
}
impl<R> RefuseOther<R> for &ReturnProbe<R> {
    #[inline]
    fn kw_refuse(&self, _: &AuditUnavailable) -> Option<R> {
        None
    }
}

pub use crate::audit::refusal as audit_refusal;

/// How a call finished, handed to the generated event.
pub struct Finish<'a> {
    pub outcome: &'static str,
    pub elapsed_us: u64,
    pub error: Option<ErrorText<'a>>,
    pub ret: Option<AuditValue>,
}

/// Emits the call's event exactly once: when the call returns (`finish`), or, if it never does,
/// when the guard is dropped by a panic unwinding (`"panic"`) or a future dropped before it
/// completed (`"cancelled"`).
pub struct CallGuard<F: FnOnce(&tracing::Span, Finish<'_>)> {
    span: tracing::Span,
    start: Instant,
    emit: Option<F>,
}

impl<F: FnOnce(&tracing::Span, Finish<'_>)> CallGuard<F> {
    #[inline]
    pub fn new(span: tracing::Span, emit: F) -> Self {
        Self {
            span,
            start: Instant::now(),
            emit: Some(emit),
        }
    }

    #[inline]
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    fn elapsed_us(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    pub fn finish(mut self, outcome: &'static str, error: Option<ErrorText<'_>>, ret: Option<AuditValue>) {
        let elapsed_us = self.elapsed_us();
        if let Some(emit) = self.emit.take() {
            emit(
                &self.span,
                Finish {
                    outcome,
                    elapsed_us,
                    error,
                    ret,
                },
            );
        }
    }

    pub fn refuse(self, refusal: &AuditUnavailable) {
        self.finish("err", Some(ErrorText::Display(refusal)), None);
    }
}

impl<F: FnOnce(&tracing::Span, Finish<'_>)> Drop for CallGuard<F> {
    fn drop(&mut self) {
        let elapsed_us = self.elapsed_us();
        if let Some(emit) = self.emit.take() {
            let outcome = if std::thread::panicking() { "panic" } else { "cancelled" };
            emit(
                &self.span,
                Finish {
                    outcome,
                    elapsed_us,
                    error: None,
                    ret: None,
                },
            );
        }
    }
}

/// Entry points for the fuzz targets of `keyward-fuzz` into parsers of untrusted input that
/// have no public entry point of their own (the public ones read files and run git first).
pub mod fuzzing {
    use crate::credentials::CredentialError;
    use zeroize::Zeroizing;

    /// What [`DotEnvSource`](crate::credentials::sources::DotEnvSource) makes of a `.env` file's
    /// content: its variables, or the error it reports.
    #[cfg(feature = "dotenv")]
    pub fn parse_dotenv(
        content: &str,
    ) -> Result<std::collections::HashMap<String, Zeroizing<String>>, CredentialError> {
        crate::credentials::sources::parse_dotenv(content, ".env file fuzz.env")
    }

    /// What a secrets file, or a command's output, must look like to be a credential.
    pub fn credential_text(raw: &[u8]) -> Result<Zeroizing<String>, CredentialError> {
        crate::credentials::sources::credential_text(raw, "secrets file fuzz.secret")
    }
}
