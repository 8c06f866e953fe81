//! UNIX stream sockets with descriptor passing (SCM_RIGHTS), as vhost-user uses them: a 12-byte
//! header plus payload per message, with any fds riding on the recvmsg that reads the header.
//! Every socket is non-blocking and close-on-exec; received descriptors are close-on-exec too.

use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::error::{NativeError, NativeResult};

/// Most descriptors one message may carry (Linux's SCM_MAX_FD is 253).
pub const MAX_FDS: usize = 253;

/// What one recvmsg returned.
#[derive(Debug)]
pub struct Received {
  /// Bytes of payload read (0: the peer closed the connection).
  pub bytes: usize,
  /// Descriptors received, in order; empty when the control data was truncated.
  pub fds: Vec<OwnedFd>,
  /// The peer sent more descriptors than `max_fds`; every descriptor of the message has been
  /// closed (the kernel drops the ones that did not fit, we close the ones that did).
  pub truncated: bool,
}

fn sockaddr_for(path: &Path) -> NativeResult<(libc::sockaddr_un, libc::socklen_t)> {
  // SAFETY: sockaddr_un is plain old data; all-zero is a valid value.
  let mut addr: libc::sockaddr_un = unsafe { mem::zeroed() };
  addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
  let bytes = path.as_os_str().as_bytes();
  if bytes.is_empty() || bytes.contains(&0) {
    return Err(NativeError::invalid("socket path is empty or contains NUL"));
  }
  if bytes.len() >= addr.sun_path.len() {
    return Err(NativeError::new("ENAMETOOLONG", format!("socket path longer than {} bytes", addr.sun_path.len() - 1)));
  }
  for (dst, src) in addr.sun_path.iter_mut().zip(bytes) {
    *dst = *src as libc::c_char;
  }
  let len = mem::size_of::<libc::sa_family_t>() + bytes.len() + 1;
  Ok((addr, len as libc::socklen_t))
}

fn new_socket() -> NativeResult<OwnedFd> {
  // SAFETY: socket takes plain integers and returns a new descriptor or -1.
  let raw = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
  if raw < 0 {
    return Err(NativeError::last_os("socket"));
  }
  // SAFETY: `raw` is a descriptor we just received and own exclusively.
  Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Listen on `path`, replacing a stale socket file left by a previous run (but never another
/// kind of file). The listening socket is non-blocking: accept under readiness.
pub fn listen(path: &Path, backlog: i32) -> NativeResult<OwnedFd> {
  let (addr, len) = sockaddr_for(path)?;
  if let Ok(meta) = std::fs::symlink_metadata(path) {
    use std::os::unix::fs::FileTypeExt;
    if !meta.file_type().is_socket() {
      return Err(NativeError::new("EEXIST", format!("{} exists and is not a socket", path.display())));
    }
    std::fs::remove_file(path).map_err(|e| NativeError::os("unlink stale socket", e))?;
  }
  let sock = new_socket()?;
  // SAFETY: `addr` is a valid sockaddr_un of `len` bytes.
  if unsafe { libc::bind(sock.as_raw_fd(), (&addr as *const libc::sockaddr_un).cast(), len) } != 0 {
    return Err(NativeError::last_os("bind"));
  }
  // SAFETY: plain integers.
  if unsafe { libc::listen(sock.as_raw_fd(), backlog) } != 0 {
    return Err(NativeError::last_os("listen"));
  }
  super::fd::set_nonblocking(sock.as_raw_fd(), true)?;
  Ok(sock)
}

/// Accept one connection (non-blocking, close-on-exec), or None when none is pending.
pub fn accept(listener: RawFd) -> NativeResult<Option<OwnedFd>> {
  // SAFETY: null address pointers are allowed; flags are plain integers.
  let raw = unsafe {
    libc::accept4(listener, std::ptr::null_mut(), std::ptr::null_mut(), libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
  };
  if raw < 0 {
    let e = NativeError::last_os("accept");
    return if e.would_block() { Ok(None) } else { Err(e) };
  }
  // SAFETY: `raw` is a descriptor we just received and own exclusively.
  Ok(Some(unsafe { OwnedFd::from_raw_fd(raw) }))
}

/// Connect to a listening socket; the connected socket is non-blocking afterwards.
pub fn connect(path: &Path) -> NativeResult<OwnedFd> {
  let (addr, len) = sockaddr_for(path)?;
  let sock = new_socket()?;
  // SAFETY: `addr` is a valid sockaddr_un of `len` bytes.
  if unsafe { libc::connect(sock.as_raw_fd(), (&addr as *const libc::sockaddr_un).cast(), len) } != 0 {
    return Err(NativeError::last_os("connect"));
  }
  super::fd::set_nonblocking(sock.as_raw_fd(), true)?;
  Ok(sock)
}

/// A connected pair (tests, and in-process transports).
pub fn pair() -> NativeResult<(OwnedFd, OwnedFd)> {
  let mut fds = [0 as RawFd; 2];
  let kind = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
  // SAFETY: `fds` has room for the two descriptors socketpair writes.
  if unsafe { libc::socketpair(libc::AF_UNIX, kind, 0, fds.as_mut_ptr()) } != 0 {
    return Err(NativeError::last_os("socketpair"));
  }
  // SAFETY: both descriptors were just created and are owned only here.
  Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Control buffer for up to `n` descriptors, u64-aligned as cmsghdr requires.
fn control_buffer(n: usize) -> Vec<u64> {
  // SAFETY: CMSG_SPACE is pure arithmetic.
  let bytes = unsafe { libc::CMSG_SPACE((n * mem::size_of::<RawFd>()) as u32) } as usize;
  vec![0u64; bytes.div_ceil(8)]
}

/// The descriptors of every SCM_RIGHTS message in `control`, in order: the bytes of a control
/// buffer recvmsg filled (msg_controllen of them). The walk trusts no length in the buffer: a
/// header shorter than itself or longer than what is left ends it (glibc's CMSG_NXTHDR does the
/// same), so it never reads outside `control` and takes at most `control.len() / 4` descriptors.
pub fn rights_in(control: &[u8]) -> Vec<RawFd> {
  // SAFETY: CMSG_LEN is pure arithmetic.
  let header = unsafe { libc::CMSG_LEN(0) } as usize;
  // SAFETY: CMSG_SPACE is pure arithmetic.
  let space0 = unsafe { libc::CMSG_SPACE(0) } as usize;
  let mut fds = Vec::new();
  let mut at = 0usize;
  while control.len() - at >= header {
    // SAFETY: `header` bytes from `at` are inside `control` (loop condition); an unaligned read
    // of a plain-old-data struct.
    let h: libc::cmsghdr = unsafe { std::ptr::read_unaligned(control.as_ptr().add(at).cast()) };
    let len = h.cmsg_len as usize;
    if len < header || len > control.len() - at {
      break;
    }
    if h.cmsg_level == libc::SOL_SOCKET && h.cmsg_type == libc::SCM_RIGHTS {
      let data = &control[at + header..at + len];
      fds.extend(data.chunks_exact(mem::size_of::<RawFd>()).map(|c| RawFd::from_ne_bytes([c[0], c[1], c[2], c[3]])));
    }
    // The next header starts at the aligned end of this one (CMSG_ALIGN(len)); `len` fits u32
    // because it is at most control.len().
    // SAFETY: pure arithmetic.
    let step = unsafe { libc::CMSG_SPACE(len as u32) } as usize - space0;
    match at.checked_add(step) {
      Some(next) if next <= control.len() => at = next,
      _ => break,
    }
  }
  fds
}

/// recvmsg into `buf`, accepting up to `max_fds` descriptors. None: nothing to read (EAGAIN).
pub fn recv_with_fds(sock: RawFd, buf: &mut [u8], max_fds: usize) -> NativeResult<Option<Received>> {
  if max_fds > MAX_FDS {
    return Err(NativeError::invalid(format!("max_fds {max_fds} > {MAX_FDS}")));
  }
  let mut control = control_buffer(max_fds.max(1));
  let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
  // SAFETY: msghdr is plain old data; all-zero is valid before we fill it in.
  let mut msg: libc::msghdr = unsafe { mem::zeroed() };
  msg.msg_iov = &mut iov;
  msg.msg_iovlen = 1;
  if max_fds > 0 {
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = (control.len() * 8) as _;
  }
  let n = loop {
    // SAFETY: msg points at live buffers (`buf`, `control`) that outlive the call.
    let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n >= 0 {
      break n as usize;
    }
    let e = NativeError::last_os("recvmsg");
    match e.code.0 {
      "EINTR" => continue,
      "EAGAIN" => return Ok(None),
      _ => return Err(e),
    }
  };
  // Take ownership of every descriptor first, so any early return below closes them.
  let filled = (msg.msg_controllen as usize).min(control.len() * 8);
  // SAFETY: `control` is a live Vec<u64> of control.len() * 8 bytes; `filled` is within it.
  let bytes = unsafe { std::slice::from_raw_parts(control.as_ptr().cast::<u8>(), filled) };
  // SAFETY: recvmsg installed these descriptors in this process for us; nothing else owns them.
  let mut fds: Vec<OwnedFd> = rights_in(bytes).into_iter().map(|raw| unsafe { OwnedFd::from_raw_fd(raw) }).collect();
  // The control buffer is rounded up to 8 bytes, so for an odd `max_fds` the kernel fits one
  // descriptor more than asked for without setting MSG_CTRUNC: more than `max_fds` is truncation
  // too (found by the native-recv-fds fuzz target).
  let truncated = msg.msg_flags & libc::MSG_CTRUNC != 0 || fds.len() > max_fds;
  if truncated {
    // A partial set of a message's descriptors is unusable: close them all (drop) and report.
    fds.clear();
  }
  Ok(Some(Received { bytes: n, fds, truncated }))
}

/// sendmsg `data` with `fds` attached (they arrive with the first byte). Returns bytes sent, or
/// None when the socket buffer is full (EAGAIN; nothing was sent).
pub fn send_with_fds(sock: RawFd, data: &[u8], fds: &[RawFd]) -> NativeResult<Option<usize>> {
  if fds.len() > MAX_FDS {
    return Err(NativeError::invalid(format!("{} fds > {MAX_FDS}", fds.len())));
  }
  let mut control = control_buffer(fds.len().max(1));
  let mut iov = libc::iovec { iov_base: data.as_ptr() as *mut libc::c_void, iov_len: data.len() };
  // SAFETY: msghdr is plain old data; all-zero is valid before we fill it in.
  let mut msg: libc::msghdr = unsafe { mem::zeroed() };
  msg.msg_iov = &mut iov;
  msg.msg_iovlen = 1;
  if !fds.is_empty() {
    let payload = mem::size_of_val(fds) as u32;
    msg.msg_control = control.as_mut_ptr().cast();
    // SAFETY: CMSG_SPACE is pure arithmetic.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(payload) } as _;
    // SAFETY: the control buffer holds CMSG_SPACE(payload) bytes, so one header plus the fds fit.
    unsafe {
      let cmsg = libc::CMSG_FIRSTHDR(&msg);
      (*cmsg).cmsg_level = libc::SOL_SOCKET;
      (*cmsg).cmsg_type = libc::SCM_RIGHTS;
      (*cmsg).cmsg_len = libc::CMSG_LEN(payload) as _;
      let dst = libc::CMSG_DATA(cmsg).cast::<RawFd>();
      for (i, fd) in fds.iter().enumerate() {
        std::ptr::write_unaligned(dst.add(i), *fd);
      }
    }
  }
  loop {
    // SAFETY: msg points at live buffers that outlive the call; MSG_NOSIGNAL avoids SIGPIPE.
    let n = unsafe { libc::sendmsg(sock, &msg, libc::MSG_NOSIGNAL) };
    if n >= 0 {
      return Ok(Some(n as usize));
    }
    let e = NativeError::last_os("sendmsg");
    match e.code.0 {
      "EINTR" => continue,
      "EAGAIN" => return Ok(None),
      _ => return Err(e),
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::plumbing::fd::{is_cloexec, memfd_create};

  fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
  }

  #[test]
  fn bytes_and_fds_cross_a_pair() {
    let (a, b) = pair().unwrap();
    let m1 = memfd_create("one", 4096).unwrap();
    let m2 = memfd_create("two", 8192).unwrap();
    let sent = send_with_fds(a.as_raw_fd(), b"hello", &[m1.as_raw_fd(), m2.as_raw_fd()]).unwrap();
    assert_eq!(sent, Some(5));
    let mut buf = [0u8; 16];
    let r = recv_with_fds(b.as_raw_fd(), &mut buf, 8).unwrap().unwrap();
    assert_eq!(&buf[..r.bytes], b"hello");
    assert!(!r.truncated);
    assert_eq!(r.fds.len(), 2);
    for fd in &r.fds {
      assert!(is_cloexec(fd.as_raw_fd()).unwrap());
    }
    let size = std::fs::File::from(r.fds.into_iter().nth(1).unwrap()).metadata().unwrap().len();
    assert_eq!(size, 8192);
  }

  #[test]
  fn too_many_fds_is_truncated_and_nothing_leaks() {
    let (a, b) = pair().unwrap();
    let mems: Vec<OwnedFd> = (0..4).map(|i| memfd_create(&format!("m{i}"), 0).unwrap()).collect();
    let raws: Vec<RawFd> = mems.iter().map(|m| m.as_raw_fd()).collect();
    send_with_fds(a.as_raw_fd(), b"x", &raws).unwrap();
    drop(mems);
    let before = fd_count();
    let mut buf = [0u8; 4];
    let r = recv_with_fds(b.as_raw_fd(), &mut buf, 2).unwrap().unwrap();
    assert!(r.truncated);
    assert!(r.fds.is_empty());
    assert_eq!(fd_count(), before);
  }

  #[test]
  fn one_more_fd_than_an_odd_max_fds_is_truncated_too() {
    // The control buffer for 1 descriptor has room for 2 (8-byte rounding): the kernel delivers
    // both without MSG_CTRUNC. Regression of the native-recv-fds fuzz finding
    // (test/fuzz/regressions/native-recv-fds/odd-max-fds-receives-one-more).
    let (a, b) = pair().unwrap();
    let m = memfd_create("m", 0).unwrap();
    let before = fd_count();
    send_with_fds(a.as_raw_fd(), b"x", &[m.as_raw_fd(), m.as_raw_fd()]).unwrap();
    let mut buf = [0u8; 4];
    let r = recv_with_fds(b.as_raw_fd(), &mut buf, 1).unwrap().unwrap();
    assert!(r.truncated);
    assert!(r.fds.is_empty());
    assert_eq!(fd_count(), before);
    send_with_fds(a.as_raw_fd(), b"y", &[m.as_raw_fd(); 3]).unwrap();
    let r = recv_with_fds(b.as_raw_fd(), &mut buf, 3).unwrap().unwrap();
    assert_eq!((r.truncated, r.fds.len()), (false, 3));
  }

  #[test]
  fn control_messages_with_lying_lengths_give_no_descriptor_past_the_buffer() {
    // cmsg_len past the end, shorter than a header, and an honest SCM_RIGHTS message first.
    let mut honest = Vec::new();
    honest.extend_from_slice(&(20usize).to_ne_bytes());
    honest.extend_from_slice(&libc::SOL_SOCKET.to_ne_bytes());
    honest.extend_from_slice(&libc::SCM_RIGHTS.to_ne_bytes());
    honest.extend_from_slice(&7i32.to_ne_bytes());
    honest.extend_from_slice(&[0; 4]);
    assert_eq!(rights_in(&honest), vec![7]);
    let mut long = honest.clone();
    long[..8].copy_from_slice(&(4096usize).to_ne_bytes());
    assert!(rights_in(&long).is_empty());
    let mut short = honest.clone();
    short[..8].copy_from_slice(&(3usize).to_ne_bytes());
    assert!(rights_in(&short).is_empty());
    let mut two = honest.clone();
    two.extend_from_slice(&long);
    assert_eq!(rights_in(&two), vec![7]);
    assert!(rights_in(&honest[..19]).is_empty());
  }

  #[test]
  fn empty_socket_would_block_and_closed_peer_reads_zero() {
    let (a, b) = pair().unwrap();
    let mut buf = [0u8; 4];
    assert!(recv_with_fds(b.as_raw_fd(), &mut buf, 4).unwrap().is_none());
    drop(a);
    assert_eq!(recv_with_fds(b.as_raw_fd(), &mut buf, 4).unwrap().unwrap().bytes, 0);
  }

  #[test]
  fn listen_replaces_a_stale_socket_but_not_a_file() {
    let dir = std::env::temp_dir().join(format!("vgn-sock-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s");
    drop(listen(&path, 4).unwrap());
    let l = listen(&path, 4).unwrap();
    assert!(accept(l.as_raw_fd()).unwrap().is_none());
    let c = connect(&path).unwrap();
    let s = accept(l.as_raw_fd()).unwrap().unwrap();
    send_with_fds(c.as_raw_fd(), b"ping", &[]).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(recv_with_fds(s.as_raw_fd(), &mut buf, 0).unwrap().unwrap().bytes, 4);
    let file = dir.join("f");
    std::fs::write(&file, b"keep").unwrap();
    assert_eq!(listen(&file, 4).unwrap_err().code.0, "EEXIST");
    std::fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn overlong_path_is_refused() {
    let long = Path::new("/tmp").join("x".repeat(200));
    assert_eq!(listen(&long, 1).unwrap_err().code.0, "ENAMETOOLONG");
  }
}
