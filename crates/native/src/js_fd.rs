//! #[napi] exports: descriptors, UNIX sockets with SCM_RIGHTS, eventfd, memfd (Linux only).
//! Thin conversions over `plumbing::*`; descriptors cross as JS numbers.

use std::os::fd::{AsRawFd, IntoRawFd, RawFd};
use std::path::Path;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::{Code, NativeError};
use crate::plumbing::{eventfd, fd, unix_socket};



/// A JS number that must be a descriptor (integers only: NaN must not become fd 0).
pub fn js_fd(value: f64) -> std::result::Result<RawFd, NativeError> {
  if value.fract() != 0.0 || !value.is_finite() {
    return Err(NativeError::new("EBADF", format!("{value} is not a file descriptor")));
  }
  fd::check_fd(value as i64)
}

/// What `recvWithFds` returned.
#[napi(object)]
pub struct RecvResult {
  /// Payload bytes read into the buffer (0: the peer closed the connection).
  pub bytes: u32,
  /// Received descriptors (close-on-exec); the caller owns and must close them.
  pub fds: Vec<i32>,
  /// MSG_CTRUNC: more descriptors arrived than allowed; all of them were closed.
  pub truncated: bool,
}

/// Close a descriptor.
#[napi(catch_unwind)]
pub fn close_fd(fd: f64) -> Result<(), Code> {
  fd::close(js_fd(fd)?).map_err(Into::into)
}

/// Duplicate a descriptor (close-on-exec).
#[napi(catch_unwind)]
pub fn dup_fd(fd: f64) -> Result<i32, Code> {
  Ok(fd::dup(js_fd(fd)?)?.into_raw_fd())
}

/// Set or clear O_NONBLOCK.
#[napi(catch_unwind)]
pub fn set_non_blocking(fd: f64, on: bool) -> Result<(), Code> {
  fd::set_nonblocking(js_fd(fd)?, on).map_err(Into::into)
}

/// True when the descriptor is close-on-exec.
#[napi(catch_unwind)]
pub fn is_close_on_exec(fd: f64) -> Result<bool, Code> {
  fd::is_cloexec(js_fd(fd)?).map_err(Into::into)
}

/// Listen on a UNIX socket path (a stale socket file is replaced); returns the listening fd.
#[napi(catch_unwind)]
pub fn listen_unix(path: String, backlog: u32) -> Result<i32, Code> {
  let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
  Ok(unix_socket::listen(Path::new(&path), backlog)?.into_raw_fd())
}

/// Accept a pending connection, or null when none is pending.
#[napi(catch_unwind)]
pub fn accept_unix(listen_fd: f64) -> Result<Option<i32>, Code> {
  Ok(unix_socket::accept(js_fd(listen_fd)?)?.map(IntoRawFd::into_raw_fd))
}

/// Connect to a UNIX socket path; returns the connected (non-blocking) fd.
#[napi(catch_unwind)]
pub fn connect_unix(path: String) -> Result<i32, Code> {
  Ok(unix_socket::connect(Path::new(&path))?.into_raw_fd())
}

/// A connected pair of non-blocking UNIX stream sockets.
#[napi(catch_unwind)]
pub fn socket_pair() -> Result<Vec<i32>, Code> {
  let (a, b) = unix_socket::pair()?;
  Ok(vec![a.into_raw_fd(), b.into_raw_fd()])
}

/// recvmsg into `buf` with up to `maxFds` descriptors; null when nothing is pending (EAGAIN).
#[napi(catch_unwind)]
pub fn recv_with_fds(fd: f64, mut buf: Uint8ArraySlice<'_>, max_fds: u32) -> Result<Option<RecvResult>, Code> {
  let sock = js_fd(fd)?;
  // SAFETY: the view is only written by recvmsg during this call, on the JS thread.
  let bytes = unsafe { buf.as_mut() };
  let Some(r) = unix_socket::recv_with_fds(sock, bytes, max_fds as usize)? else {
    return Ok(None);
  };
  // Converting to raw numbers is the last step: nothing can fail between here and JS owning them.
  let fds = r.fds.into_iter().map(IntoRawFd::into_raw_fd).collect();
  Ok(Some(RecvResult { bytes: r.bytes as u32, fds, truncated: r.truncated }))
}

/// sendmsg `data` with `fds` attached; returns bytes sent, or null when the socket is full.
#[napi(catch_unwind)]
pub fn send_with_fds(fd: f64, data: &[u8], fds: Vec<f64>) -> Result<Option<u32>, Code> {
  let sock = js_fd(fd)?;
  let raw = fds.into_iter().map(js_fd).collect::<std::result::Result<Vec<_>, _>>()?;
  Ok(unix_socket::send_with_fds(sock, data, &raw)?.map(|n| n as u32))
}

/// Create a non-blocking, close-on-exec eventfd.
#[napi(catch_unwind)]
pub fn eventfd_create(initial: u32, semaphore: bool) -> Result<i32, Code> {
  Ok(eventfd::create(initial, semaphore)?.into_raw_fd())
}

/// Read and reset an eventfd's counter; null when it is zero.
#[napi(catch_unwind)]
pub fn eventfd_read(fd: f64) -> Result<Option<BigInt>, Code> {
  Ok(eventfd::read(js_fd(fd)?)?.map(BigInt::from))
}

/// Add to an eventfd's counter.
#[napi(catch_unwind)]
pub fn eventfd_write(fd: f64, value: BigInt) -> Result<(), Code> {
  let (signed, v, lossless) = value.get_u64();
  if signed || !lossless {
    return Err(NativeError::invalid("eventfd value must be a u64").into());
  }
  eventfd::write(js_fd(fd)?, v).map_err(Into::into)
}

/// Create a memfd of `size` bytes (close-on-exec); returns its fd.
#[napi(catch_unwind)]
pub fn memfd_create(name: String, size: f64) -> Result<i32, Code> {
  let size = crate::js_args::safe_u64(size, "size")?;
  let m = fd::memfd_create(&name, size)?;
  debug_assert!(m.as_raw_fd() >= 0);
  Ok(m.into_raw_fd())
}
