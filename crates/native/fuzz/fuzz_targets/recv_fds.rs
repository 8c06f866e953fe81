//! `send_with_fds` / `recv_with_fds` over a real socketpair with hostile descriptor counts (0 to
//! past SCM_MAX_FD), receive limits (max_fds 0 to past the maximum), buffer sizes and message
//! sizes, in any interleaving. Checked: counts past MAX_FDS are refused; the bytes come out in
//! the order they went in; no receive returns more descriptors than it allowed, and a truncated
//! one returns none; every received descriptor is open and close-on-exec; and once everything is
//! read and dropped, the process holds exactly the descriptors it held before (no leak, nothing
//! of ours closed).
#![no_main]

#[path = "input.rs"]
mod input;

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::OnceLock;

use input::Input;
use libfuzzer_sys::fuzz_target;
use virtio_gpu_native::plumbing::fd::{is_cloexec, memfd_create};
use virtio_gpu_native::plumbing::unix_socket::{pair, recv_with_fds, send_with_fds, MAX_FDS};

fn open_fds() -> usize {
  std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

struct Fixture {
  a: OwnedFd,
  b: OwnedFd,
  memfd: OwnedFd,
}

fn fixture() -> &'static Fixture {
  static F: OnceLock<Fixture> = OnceLock::new();
  F.get_or_init(|| {
    let (a, b) = pair().unwrap();
    Fixture { a, b, memfd: memfd_create("fuzz-fds", 4096).unwrap() }
  })
}

fuzz_target!(|data: &[u8]| {
  let f = fixture();
  let before = open_fds();
  let mut inp = Input::new(data);
  let mut sent: Vec<u8> = Vec::new();
  let mut received: Vec<u8> = Vec::new();
  let mut ops = 0;
  while !inp.is_empty() && ops < 12 {
    ops += 1;
    let op = inp.u8();
    if op & 1 == 0 {
      let nfds = usize::from(inp.u16() % 300);
      let len = usize::from(inp.u8()) + 1;
      let bytes = inp.bytes(len).to_vec();
      let fds = vec![f.memfd.as_raw_fd(); nfds];
      match send_with_fds(f.a.as_raw_fd(), &bytes, &fds) {
        Ok(Some(n)) => {
          assert!(nfds <= MAX_FDS);
          sent.extend_from_slice(&bytes[..n]);
        }
        Ok(None) => {}
        Err(e) => assert!(nfds > MAX_FDS || e.code.0 != "ERR_INVALID_ARG", "send of {nfds} refused: {e}"),
      }
    } else {
      let max_fds = usize::from(inp.u16() % 300);
      let mut buf = vec![0u8; usize::from(inp.u8()) + 1];
      match recv_with_fds(f.b.as_raw_fd(), &mut buf, max_fds) {
        Ok(Some(r)) => {
          assert!(max_fds <= MAX_FDS);
          assert!(r.fds.len() <= max_fds, "{} descriptors with max_fds {max_fds}", r.fds.len());
          assert!(!r.truncated || r.fds.is_empty());
          for fd in &r.fds {
            assert!(is_cloexec(fd.as_raw_fd()).unwrap());
          }
          received.extend_from_slice(&buf[..r.bytes]);
        }
        Ok(None) => {}
        Err(e) => assert!(max_fds > MAX_FDS, "receive with max_fds {max_fds} failed: {e}"),
      }
    }
  }
  // Drain whatever is left (descriptors riding on it are closed as they are dropped).
  let mut buf = [0u8; 4096];
  while let Ok(Some(r)) = recv_with_fds(f.b.as_raw_fd(), &mut buf, MAX_FDS) {
    if r.bytes == 0 {
      break;
    }
    received.extend_from_slice(&buf[..r.bytes]);
  }
  assert_eq!(received, sent, "the byte stream");
  assert_eq!(open_fds(), before, "descriptors leaked or closed");
});
