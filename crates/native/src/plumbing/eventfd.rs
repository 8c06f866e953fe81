//! eventfd: the kick and call notifiers of vhost-user. Always non-blocking and close-on-exec, so a
//! read on the JS thread never stalls the event loop.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use crate::error::{NativeError, NativeResult};

/// Create an eventfd with an initial counter; `semaphore` reads 1 at a time.
pub fn create(initial: u32, semaphore: bool) -> NativeResult<OwnedFd> {
  let mut flags = libc::EFD_NONBLOCK | libc::EFD_CLOEXEC;
  if semaphore {
    flags |= libc::EFD_SEMAPHORE;
  }
  // SAFETY: eventfd takes plain integers and returns a new descriptor or -1.
  let raw = unsafe { libc::eventfd(initial, flags) };
  if raw < 0 {
    return Err(NativeError::last_os("eventfd"));
  }
  // SAFETY: `raw` is a descriptor we just received and own exclusively.
  Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Read the counter (resetting it), or None when it is zero (EAGAIN).
pub fn read(fd: RawFd) -> NativeResult<Option<u64>> {
  let mut value = 0u64;
  // SAFETY: reads exactly 8 bytes into a live, properly aligned u64.
  let n = unsafe { libc::read(fd, (&mut value as *mut u64).cast(), 8) };
  if n == 8 {
    return Ok(Some(value));
  }
  if n < 0 {
    let e = NativeError::last_os("eventfd read");
    return if e.would_block() { Ok(None) } else { Err(e) };
  }
  Err(NativeError::new("EINVAL", format!("eventfd read returned {n} bytes (not an eventfd?)")))
}

/// Add `value` to the counter. EAGAIN means the counter would overflow; it is reported.
pub fn write(fd: RawFd, value: u64) -> NativeResult<()> {
  if value == u64::MAX {
    return Err(NativeError::invalid("eventfd value 2^64-1 is reserved"));
  }
  // SAFETY: writes exactly 8 bytes from a live u64.
  let n = unsafe { libc::write(fd, (&value as *const u64).cast(), 8) };
  if n == 8 {
    return Ok(());
  }
  if n < 0 {
    return Err(NativeError::last_os("eventfd write"));
  }
  Err(NativeError::new("EINVAL", format!("eventfd write wrote {n} bytes")))
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::os::fd::AsRawFd;

  #[test]
  fn empty_reads_nothing_then_counts_writes() {
    let e = create(0, false).unwrap();
    assert_eq!(read(e.as_raw_fd()).unwrap(), None);
    write(e.as_raw_fd(), 2).unwrap();
    write(e.as_raw_fd(), 3).unwrap();
    assert_eq!(read(e.as_raw_fd()).unwrap(), Some(5));
    assert_eq!(read(e.as_raw_fd()).unwrap(), None);
  }

  #[test]
  fn semaphore_reads_one_at_a_time() {
    let e = create(2, true).unwrap();
    assert_eq!(read(e.as_raw_fd()).unwrap(), Some(1));
    assert_eq!(read(e.as_raw_fd()).unwrap(), Some(1));
    assert_eq!(read(e.as_raw_fd()).unwrap(), None);
  }

  #[test]
  fn reserved_value_is_refused() {
    let e = create(0, false).unwrap();
    assert_eq!(write(e.as_raw_fd(), u64::MAX).unwrap_err().code.0, "ERR_INVALID_ARG");
  }
}
