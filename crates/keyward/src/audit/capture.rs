//! Turning a call's parameters into audit values, with redaction decided by type.
//!
//! `#[audited]` cannot see types through aliases or generics, so it does not decide by reading
//! the type's name. Instead it asks the compiler, at each call site, which of three traits the
//! parameter's type implements, in this order (autoref-based specialisation, the technique
//! `anyhow!` and `tracing`'s `format_args` support use):
//! 1. [`Sensitive`]: recorded as `"[REDACTED]"` without being looked at;
//! 2. a plain number, `bool`, `char` or string: recorded as that JSON type;
//! 3. anything else that is `Debug`: recorded as its `Debug` text.
//!
//! The probes work on references only, so nothing is cloned or moved.

use crate::Credentials;
use secrecy::SecretBox;
use std::{fmt, rc::Rc, sync::Arc};
use zeroize::Zeroize;

/// A type whose values are never recorded by `#[audited]`, whatever the parameter's name.
///
/// Implemented for `secrecy`'s secret wrappers, keyward's [`Credentials`], and through `&`,
/// `&mut`, `Box`, `Rc`, `Arc` and `Option`. Implement it for your own types that hold secrets.
///
/// # Example
///
/// ```
/// use keyward::audit::Sensitive;
///
/// #[derive(Debug)]
/// struct WalletSeed(String);
/// impl Sensitive for WalletSeed {}
///
/// #[keyward::audited]
/// fn restore(seed: &WalletSeed) -> usize { seed.0.len() }   // `seed` is recorded as "[REDACTED]"
/// # assert_eq!(restore(&WalletSeed("twelve words".into())), 12);
/// ```
pub trait Sensitive {}

impl<S: Zeroize + ?Sized> Sensitive for SecretBox<S> {}
impl Sensitive for Credentials {}
impl<T: Sensitive + ?Sized> Sensitive for &T {}
impl<T: Sensitive + ?Sized> Sensitive for &mut T {}
impl<T: Sensitive + ?Sized> Sensitive for Box<T> {}
impl<T: Sensitive + ?Sized> Sensitive for Rc<T> {}
impl<T: Sensitive + ?Sized> Sensitive for Arc<T> {}
impl<T: Sensitive> Sensitive for Option<T> {}

/// What an audit record holds for one parameter or return value.
///
/// # Example
///
/// ```
/// use keyward::audit::AuditValue;
///
/// assert_eq!(AuditValue::Redacted.to_string(), "[REDACTED]");
/// assert_eq!(AuditValue::Text("BTCUSDT".into()).to_string(), "BTCUSDT");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AuditValue {
    /// A secret, not recorded.
    Redacted,
    /// A text value (strings, and the `Debug` text of other types).
    Text(String),
    /// An unsigned integer.
    Unsigned(u64),
    /// A signed integer.
    Signed(i64),
    /// A floating-point number.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

/// The text recorded in place of a secret.
pub const REDACTED: &str = "[REDACTED]";

impl AuditValue {
    /// The value as a `tracing` field value, recorded with its natural JSON type.
    pub fn as_value(&self) -> &dyn tracing::Value {
        match self {
            Self::Redacted => &REDACTED,
            Self::Text(text) => text,
            Self::Unsigned(n) => n,
            Self::Signed(n) => n,
            Self::Float(n) => n,
            Self::Bool(b) => b,
        }
    }
}

impl fmt::Display for AuditValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Redacted => f.write_str(REDACTED),
            Self::Text(text) => f.write_str(text),
            Self::Unsigned(n) => fmt::Display::fmt(n, f),
            Self::Signed(n) => fmt::Display::fmt(n, f),
            Self::Float(n) => fmt::Display::fmt(n, f),
            Self::Bool(b) => fmt::Display::fmt(b, f),
        }
    }
}

/// Values recorded as their own JSON type rather than as `Debug` text.
pub trait Native {
    /// The audit value.
    fn native(&self) -> AuditValue;
}

macro_rules! native {
    ($variant:ident as $wide:ty: $($ty:ty),*) => {$(
        impl Native for $ty {
            #[inline]
            fn native(&self) -> AuditValue {
                AuditValue::$variant(<$wide>::from(*self))
            }
        }
    )*};
}
native!(Unsigned as u64: u8, u16, u32, u64);
native!(Signed as i64: i8, i16, i32, i64);
native!(Float as f64: f32, f64);
native!(Bool as bool: bool);

impl Native for usize {
    fn native(&self) -> AuditValue {
        u64::try_from(*self).map_or_else(|_| AuditValue::Text(self.to_string()), AuditValue::Unsigned)
    }
}
impl Native for isize {
    fn native(&self) -> AuditValue {
        i64::try_from(*self).map_or_else(|_| AuditValue::Text(self.to_string()), AuditValue::Signed)
    }
}
impl Native for char {
    fn native(&self) -> AuditValue {
        AuditValue::Text(self.to_string())
    }
}
impl Native for str {
    fn native(&self) -> AuditValue {
        AuditValue::Text(self.to_owned())
    }
}
impl Native for String {
    fn native(&self) -> AuditValue {
        AuditValue::Text(self.clone())
    }
}
impl<T: Native + ?Sized> Native for &T {
    fn native(&self) -> AuditValue {
        (**self).native()
    }
}
impl<T: Native + ?Sized> Native for &mut T {
    fn native(&self) -> AuditValue {
        (**self).native()
    }
}
impl<T: Native + ?Sized> Native for Box<T> {
    fn native(&self) -> AuditValue {
        (**self).native()
    }
}
impl<T: Native + ?Sized> Native for Arc<T> {
    fn native(&self) -> AuditValue {
        (**self).native()
    }
}

/// Values that a key-named parameter can be fingerprinted from directly.
pub trait KeyText {
    /// The full key text.
    fn key_text(&self) -> &str;
}
impl KeyText for str {
    fn key_text(&self) -> &str {
        self
    }
}
impl KeyText for String {
    fn key_text(&self) -> &str {
        self
    }
}
impl KeyText for crate::credentials::ApiKey {
    fn key_text(&self) -> &str {
        self.expose()
    }
}
impl<T: KeyText + ?Sized> KeyText for &T {
    fn key_text(&self) -> &str {
        (**self).key_text()
    }
}
impl<T: KeyText + ?Sized> KeyText for Box<T> {
    fn key_text(&self) -> &str {
        (**self).key_text()
    }
}
impl<T: KeyText + ?Sized> KeyText for Arc<T> {
    fn key_text(&self) -> &str {
        (**self).key_text()
    }
}
