//! Plain file-descriptor operations: close, dup, O_NONBLOCK, memfd. Descriptors cross into JS as
//! numbers; inside Rust they are `OwnedFd` so an early return closes them instead of leaking.

use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use crate::error::{NativeError, NativeResult};

/// Check that a JS number names a plausible descriptor before any syscall sees it.
pub fn check_fd(fd: i64) -> NativeResult<RawFd> {
  if !(0..=i64::from(i32::MAX)).contains(&fd) {
    return Err(NativeError::new("EBADF", format!("{fd} is not a file descriptor")));
  }
  Ok(fd as RawFd)
}

/// Close a descriptor. EINTR still closes on Linux, so it is not retried.
pub fn close(fd: RawFd) -> NativeResult<()> {
  // SAFETY: closing a number has no memory effects; a wrong fd is the caller's EBADF.
  if unsafe { libc::close(fd) } != 0 {
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() != Some(libc::EINTR) {
      return Err(NativeError::os("close", err));
    }
  }
  Ok(())
}

/// Duplicate a descriptor (close-on-exec set on the copy).
pub fn dup(fd: RawFd) -> NativeResult<OwnedFd> {
  // SAFETY: F_DUPFD_CLOEXEC takes an int argument and returns a new descriptor or -1.
  let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
  if new < 0 {
    return Err(NativeError::last_os("dup"));
  }
  // SAFETY: `new` is a descriptor we just received and own exclusively.
  Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// Set or clear O_NONBLOCK.
pub fn set_nonblocking(fd: RawFd, on: bool) -> NativeResult<()> {
  // SAFETY: F_GETFL/F_SETFL read and write the descriptor's status flags only.
  let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
  if flags < 0 {
    return Err(NativeError::last_os("fcntl(F_GETFL)"));
  }
  let want = if on { flags | libc::O_NONBLOCK } else { flags & !libc::O_NONBLOCK };
  // SAFETY: as above.
  if want != flags && unsafe { libc::fcntl(fd, libc::F_SETFL, want) } < 0 {
    return Err(NativeError::last_os("fcntl(F_SETFL)"));
  }
  Ok(())
}

/// True when the descriptor has FD_CLOEXEC (used by tests and by `received fds are CLOEXEC`).
pub fn is_cloexec(fd: RawFd) -> NativeResult<bool> {
  // SAFETY: F_GETFD reads descriptor flags only.
  let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
  if flags < 0 {
    return Err(NativeError::last_os("fcntl(F_GETFD)"));
  }
  Ok(flags & libc::FD_CLOEXEC != 0)
}

/// Create an anonymous shared-memory file of `size` bytes (what QEMU hands out as guest RAM).
pub fn memfd_create(name: &str, size: u64) -> NativeResult<OwnedFd> {
  memfd_with(name, size, libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING)
}

/// A memfd that cannot be sealed, as a hostile peer that means to shrink it under our mappings
/// would make it (tests and fuzz targets; `mapFd` then relies on its SIGBUS guard).
pub fn memfd_create_unsealable(name: &str, size: u64) -> NativeResult<OwnedFd> {
  memfd_with(name, size, libc::MFD_CLOEXEC)
}

fn memfd_with(name: &str, size: u64, flags: libc::c_uint) -> NativeResult<OwnedFd> {
  let cname = CString::new(name).map_err(|_| NativeError::invalid("memfd name contains NUL"))?;
  let len = libc::off_t::try_from(size).map_err(|_| NativeError::invalid("memfd size too large"))?;
  // SAFETY: `cname` is a valid NUL-terminated string for the duration of the call.
  let raw = unsafe { libc::memfd_create(cname.as_ptr(), flags) };
  if raw < 0 {
    return Err(NativeError::last_os("memfd_create"));
  }
  // SAFETY: `raw` is a descriptor we just received and own exclusively.
  let fd = unsafe { OwnedFd::from_raw_fd(raw) };
  // SAFETY: ftruncate on our own descriptor; no memory is touched.
  if unsafe { libc::ftruncate(raw, len) } != 0 {
    return Err(NativeError::last_os("ftruncate"));
  }
  Ok(fd)
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::os::fd::{AsRawFd, IntoRawFd};

  #[test]
  fn dup_is_cloexec_and_close_works() {
    let m = memfd_create("t", 4096).unwrap();
    let d = dup(m.as_raw_fd()).unwrap();
    assert!(is_cloexec(d.as_raw_fd()).unwrap());
    let raw = d.into_raw_fd();
    close(raw).unwrap();
    assert_eq!(close(raw).unwrap_err().code.0, "EBADF");
  }

  #[test]
  fn check_fd_refuses_negative_and_huge() {
    assert!(check_fd(-1).is_err());
    assert!(check_fd(1 << 40).is_err());
    assert_eq!(check_fd(3).unwrap(), 3);
  }

  #[test]
  fn nonblocking_round_trips() {
    let m = memfd_create("t", 0).unwrap();
    set_nonblocking(m.as_raw_fd(), true).unwrap();
    // SAFETY: reading flags of our own fd.
    let flags = unsafe { libc::fcntl(m.as_raw_fd(), libc::F_GETFL) };
    assert_ne!(flags & libc::O_NONBLOCK, 0);
    set_nonblocking(m.as_raw_fd(), false).unwrap();
  }

  #[test]
  fn memfd_has_the_requested_size() {
    let m = memfd_create("sized", 12_288).unwrap();
    let meta = std::fs::File::from(m).metadata().unwrap();
    assert_eq!(meta.len(), 12_288);
  }
}
