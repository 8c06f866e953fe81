//! Errors with a stable `code`, shared by every module. JS sees `err.code` (for example `EAGAIN`,
//! `EBUSY`, `ERR_RUTABAGA`) so callers branch on codes, never on messages.

use std::fmt;
use std::io;

/// A stable, machine-readable error code; it becomes the JS error's `code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Code(pub &'static str);

impl AsRef<str> for Code {
  fn as_ref(&self) -> &str {
    self.0
  }
}

#[cfg(feature = "napi")]
impl From<napi::Status> for Code {
  fn from(status: napi::Status) -> Self {
    // napi's own failures (a wrong argument type from JS) keep napi's status name.
    Code(match status {
      napi::Status::InvalidArg => "ERR_INVALID_ARG",
      napi::Status::ObjectExpected | napi::Status::StringExpected | napi::Status::NumberExpected => {
        "ERR_INVALID_ARG_TYPE"
      }
      napi::Status::FunctionExpected | napi::Status::BooleanExpected | napi::Status::ArrayExpected => {
        "ERR_INVALID_ARG_TYPE"
      }
      napi::Status::BigintExpected => "ERR_INVALID_ARG_TYPE",
      _ => "ERR_NAPI",
    })
  }
}

/// An error of this crate: a code plus a one-line reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeError {
  pub code: Code,
  pub message: String,
}

/// Result alias used by every plain Rust module.
pub type NativeResult<T> = Result<T, NativeError>;

impl NativeError {
  /// Build an error from a code and a reason.
  pub fn new(code: &'static str, message: impl Into<String>) -> Self {
    NativeError { code: Code(code), message: message.into() }
  }

  /// Wrap an OS error, naming the call that failed.
  pub fn os(call: &str, err: io::Error) -> Self {
    let code = err.raw_os_error().map(errno_name).unwrap_or("EIO");
    NativeError { code: Code(code), message: format!("{call}: {err}") }
  }

  /// The last OS error (errno), naming the call that failed.
  pub fn last_os(call: &str) -> Self {
    Self::os(call, io::Error::last_os_error())
  }

  /// ERR_INVALID_ARG with a reason.
  pub fn invalid(message: impl Into<String>) -> Self {
    Self::new("ERR_INVALID_ARG", message)
  }

  /// True when the error is EAGAIN/EWOULDBLOCK (nothing to do now).
  pub fn would_block(&self) -> bool {
    self.code.0 == "EAGAIN"
  }
}

impl fmt::Display for NativeError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "{}: {}", self.code.0, self.message)
  }
}

impl std::error::Error for NativeError {}

#[cfg(feature = "napi")]
impl From<NativeError> for napi::Error<Code> {
  fn from(e: NativeError) -> Self {
    napi::Error::new(e.code, e.message)
  }
}

/// The POSIX name of an errno value (the codes Node itself uses for system errors).
#[cfg(not(unix))]
pub fn errno_name(_errno: i32) -> &'static str {
  // Nothing on other systems reports errno through this crate (the fd plumbing is Linux only).
  "EIO"
}

/// The POSIX name of an errno value (the codes Node itself uses for system errors).
#[cfg(unix)]
pub fn errno_name(errno: i32) -> &'static str {
  match errno {
    libc::EAGAIN => "EAGAIN",
    libc::EBADF => "EBADF",
    libc::EINVAL => "EINVAL",
    libc::ENOENT => "ENOENT",
    libc::EEXIST => "EEXIST",
    libc::EACCES => "EACCES",
    libc::EPERM => "EPERM",
    libc::ENOMEM => "ENOMEM",
    libc::EBUSY => "EBUSY",
    libc::EINTR => "EINTR",
    libc::EPIPE => "EPIPE",
    libc::EMFILE => "EMFILE",
    libc::ENFILE => "ENFILE",
    libc::ENOSPC => "ENOSPC",
    libc::ENOSYS => "ENOSYS",
    libc::ENOTSOCK => "ENOTSOCK",
    libc::ENOTCONN => "ENOTCONN",
    libc::ECONNRESET => "ECONNRESET",
    libc::ECONNREFUSED => "ECONNREFUSED",
    libc::EADDRINUSE => "EADDRINUSE",
    libc::ENAMETOOLONG => "ENAMETOOLONG",
    libc::EOPNOTSUPP => "EOPNOTSUPP",
    libc::EOVERFLOW => "EOVERFLOW",
    libc::ENODEV => "ENODEV",
    libc::EFAULT => "EFAULT",
    _ => "EIO",
  }
}

#[cfg(all(test, unix))]
mod tests {
  use super::*;

  #[test]
  fn os_error_keeps_the_errno_name() {
    let e = NativeError::os("read", io::Error::from_raw_os_error(libc::EAGAIN));
    assert_eq!(e.code, Code("EAGAIN"));
    assert!(e.would_block());
    assert!(e.message.starts_with("read: "));
  }

  #[test]
  fn unknown_errno_is_eio() {
    assert_eq!(errno_name(99_999), "EIO");
  }
}
