//! The SCM_RIGHTS control-message walk (`rights_in`) on hostile control buffers: any bytes,
//! any cmsg_len (shorter than a header, past the end, misaligned), any level and type, and
//! buffers built from well-formed messages whose lengths the input then falsifies.
//! Checked against the libc crate's walk (its CMSG_FIRSTHDR/CMSG_NXTHDR, which mirror glibc's,
//! over an aligned copy, each header's length checked before its data is read or NXTHDR adds it): the same descriptors in the same order,
//! never more than the buffer can hold; and a buffer of honest messages gives exactly the
//! descriptors its SCM_RIGHTS messages carry.
#![no_main]

#[path = "input.rs"]
mod input;

use std::mem;

use input::Input;
use libfuzzer_sys::fuzz_target;
use virtio_gpu_native::plumbing::unix_socket::rights_in;

/// What the libc crate's CMSG macros find in `buf`, reading a header's data only when the header's length
/// lies inside the buffer.
fn libc_walk(buf: &[u8]) -> Vec<i32> {
  let mut aligned = vec![0u64; buf.len().div_ceil(8)];
  // SAFETY: `aligned` holds at least buf.len() bytes.
  unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), aligned.as_mut_ptr().cast::<u8>(), buf.len()) };
  // SAFETY: msghdr is plain old data.
  let mut msg: libc::msghdr = unsafe { mem::zeroed() };
  msg.msg_control = aligned.as_mut_ptr().cast();
  msg.msg_controllen = buf.len() as _;
  let start = aligned.as_ptr() as usize;
  let end = start + buf.len();
  let mut out = Vec::new();
  // SAFETY: the CMSG macros stay inside msg_control/msg_controllen; data is read only after
  // the header's cmsg_len was checked against the end of the buffer.
  unsafe {
    let header = libc::CMSG_LEN(0) as usize;
    let mut c = libc::CMSG_FIRSTHDR(&msg);
    while !c.is_null() {
      let len = (*c).cmsg_len as usize;
      if len < header || len > end - c as usize {
        break;
      }
      if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
        let data = libc::CMSG_DATA(c);
        for i in 0..(len - header) / 4 {
          out.push(std::ptr::read_unaligned(data.cast::<i32>().add(i)));
        }
      }
      c = libc::CMSG_NXTHDR(&msg, c);
    }
  }
  out
}

/// A buffer of messages described by the input; the descriptors honest SCM_RIGHTS ones carry,
/// and whether every length was left honest.
fn built(inp: &mut Input) -> (Vec<u8>, Vec<i32>, bool) {
  // SAFETY (both): pure arithmetic.
  let header = unsafe { libc::CMSG_LEN(0) } as usize;
  let mut buf = Vec::new();
  let mut fds = Vec::new();
  let mut honest = true;
  let count = inp.u8() % 8;
  for _ in 0..count {
    let kind = inp.u8();
    let n = usize::from(inp.u8() % 64);
    let payload = if kind & 4 != 0 { n * 4 } else { n }; // descriptors, or odd byte counts
    let lie = inp.u16() as i16;
    let mut len = header + payload;
    if kind & 8 != 0 && lie != 0 {
      len = (len as i64 + i64::from(lie)).max(0) as usize;
      honest = false;
    }
    let (level, ty) = match kind & 3 {
      0 | 1 => (libc::SOL_SOCKET, libc::SCM_RIGHTS),
      2 => (libc::SOL_SOCKET, libc::SCM_CREDENTIALS),
      _ => (i32::from(inp.u8()), i32::from(inp.u8())),
    };
    // SAFETY: cmsghdr is plain old data.
    let mut h: libc::cmsghdr = unsafe { mem::zeroed() };
    h.cmsg_len = len as _;
    h.cmsg_level = level;
    h.cmsg_type = ty;
    let at = buf.len();
    buf.resize(at + header, 0);
    // SAFETY: `header` bytes at `at` were just added; size_of::<cmsghdr>() <= header.
    unsafe { std::ptr::write_unaligned(buf.as_mut_ptr().add(at).cast::<libc::cmsghdr>(), h) };
    let body = inp.bytes(payload).to_vec();
    buf.extend_from_slice(&body);
    buf.resize(at + header + payload, 0);
    if level == libc::SOL_SOCKET && ty == libc::SCM_RIGHTS {
      fds.extend(buf[at + header..at + header + payload].chunks_exact(4).map(|c| i32::from_ne_bytes([c[0], c[1], c[2], c[3]])));
    }
    // SAFETY: pure arithmetic.
    let space = unsafe { libc::CMSG_SPACE(payload as u32) } as usize;
    buf.resize(at + space, 0);
  }
  (buf, fds, honest)
}

fuzz_target!(|data: &[u8]| {
  let mut inp = Input::new(data);
  let mode = inp.u8();
  let (buf, honest_fds) = if mode & 1 == 0 {
    // Raw bytes, cut at any length (msg_controllen need not be a multiple of anything).
    (inp.bytes(usize::MAX).to_vec(), None)
  } else {
    let (buf, fds, honest) = built(&mut inp);
    let cut = if mode & 2 != 0 { buf.len().saturating_sub(usize::from(inp.u8())) } else { buf.len() };
    (buf[..cut].to_vec(), if honest && cut == buf.len() { Some(fds) } else { None })
  };
  let got = rights_in(&buf);
  assert!(got.len() <= buf.len() / 4, "{} descriptors from {} bytes", got.len(), buf.len());
  assert_eq!(got, libc_walk(&buf), "rights_in and the CMSG macros disagree");
  if let Some(want) = honest_fds {
    assert_eq!(got, want, "honest messages");
  }
});
