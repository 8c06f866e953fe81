//! `map_fd` with hostile offsets and lengths over a memfd whose size the input also picks and a
//! hostile peer may change later (ftruncate), plus the mapping registry's pins and unmaps. The
//! memfd is sealable (map_fd seals it against shrinking) or, as a hostile frontend may hand over,
//! not (the peer can shrink it under live mappings).
//! Checked: a mapping is granted exactly when the bytes lie inside the file; every page of every
//! live mapping can be read after every operation (an access past the end of the file would raise
//! SIGBUS, which libFuzzer reports as a crash); a shrink under a mapping succeeds only for the
//! unsealable file, and a mapping is marked truncated exactly when a read reached a page wholly
//! past the new end; written bytes reach the file unless the mapping was truncated; a pin is
//! granted exactly when its range lies inside one mapping; a pinned mapping refuses to unmap.
#![no_main]

#[path = "input.rs"]
mod input;

use std::os::fd::AsRawFd;

use input::Input;
use libfuzzer_sys::fuzz_target;
use virtio_gpu_native::plumbing::fd::{memfd_create, memfd_create_unsealable};
use virtio_gpu_native::plumbing::mapping::{map_fd, Registry};

const PAGE: u64 = 4096;
/// Files stay small (up to 4 pages and a bit) so every mapped byte can be checked.
const MAX_FILE: u64 = 4 * PAGE + 100;

fn file_size(fd: i32) -> u64 {
  // SAFETY: fstat into a zeroed stat of our own.
  let mut st: libc::stat = unsafe { std::mem::zeroed() };
  // SAFETY: as above.
  assert_eq!(unsafe { libc::fstat(fd, &mut st) }, 0);
  st.st_size as u64
}

/// Whether reading a mapping of file bytes [off, off+n) touches a page wholly past `size` (the
/// reads of `touch` reach its last byte, and a page that holds the file's end is still backed).
fn reaches_past_end(off: u64, n: usize, size: u64) -> bool {
  off + n as u64 > size.div_ceil(PAGE) * PAGE
}

/// Read every page and the last byte of a mapping (volatile: the reads must happen).
fn touch(ptr: *mut u8, len: usize) {
  let mut at = 0;
  while at < len {
    // SAFETY: `at < len` and [ptr, ptr+len) is a live mapping the registry holds.
    unsafe { std::ptr::read_volatile(ptr.add(at)) };
    at += PAGE as usize;
  }
  // SAFETY: len >= 1 (map_fd refuses 0).
  unsafe { std::ptr::read_volatile(ptr.add(len - 1)) };
}

fuzz_target!(|data: &[u8]| {
  let mut inp = Input::new(data);
  // The top bit picks the unsealable file, so seeds written before it keep their meaning.
  let first = inp.u16();
  let unsealable = first & 0x8000 != 0;
  let size0 = u64::from(first & 0x7fff) % (MAX_FILE + 1);
  let fd = if unsealable { memfd_create_unsealable("fuzz-map", size0) } else { memfd_create("fuzz-map", size0) }.unwrap();
  let raw = fd.as_raw_fd();
  let reg = Registry::new();
  // (id, ptr, len, file offset, read-only, pins)
  let mut live: Vec<(u64, *mut u8, usize, u64, bool, u32)> = Vec::new();
  // Ids of mappings a shrink cut off (what `reg.truncated` must say).
  let mut truncated: Vec<u64> = Vec::new();
  let mut ops = 0;
  while !inp.is_empty() && ops < 16 {
    ops += 1;
    let op = inp.u8();
    match op % 5 {
      0 | 1 => {
        let (offset, len) = (inp.size(op & 0x10 != 0), inp.size(op & 0x20 != 0));
        let read_only = op & 0x40 != 0;
        let size = file_size(raw);
        let fits = len > 0 && offset.checked_add(len).is_some_and(|end| end <= size);
        match map_fd(raw, offset, len, read_only) {
          Ok(region) => {
            assert!(fits, "mapped {offset}+{len} of a {size}-byte file");
            assert_eq!(region.len() as u64, len);
            let (id, ptr, n) = reg.insert(region);
            touch(ptr, n);
            live.push((id, ptr, n, offset, read_only, 0));
          }
          Err(e) => assert!(!fits, "refused {offset}+{len} of a {size}-byte file: {e}"),
        }
      }
      2 => {
        // The peer resizes the file: growing is harmless, shrinking under a mapping must fail.
        let want = u64::from(inp.u16()) % (MAX_FILE + 1);
        // SAFETY: ftruncate on our own memfd.
        let shrunk = unsafe { libc::ftruncate(raw, want as libc::off_t) } == 0;
        let size = file_size(raw);
        for &(id, ptr, n, off, _, _) in &live {
          if !unsealable {
            assert!(!shrunk || off + n as u64 <= size, "a sealed file shrank to {size} under a mapping of {off}+{n}");
          }
          // Without the guard, a read past the new end raises SIGBUS here.
          touch(ptr, n);
          if reaches_past_end(off, n, size) && !truncated.contains(&id) {
            truncated.push(id);
          }
          assert_eq!(reg.truncated(id), Some(truncated.contains(&id)), "truncated flag of {off}+{n} in a {size}-byte file");
        }
      }
      3 => {
        if live.is_empty() {
          continue;
        }
        let k = inp.u8() as usize % live.len();
        let (at, len) = (inp.size(op & 0x10 != 0) as usize, inp.size(op & 0x20 != 0) as usize);
        let (id, ptr, n, off, ro, _) = live[k];
        let inside = at.checked_add(len).is_some_and(|e| e <= n);
        let pin = reg.pin(ptr.wrapping_add(at), len);
        if inside {
          let p = pin.expect("a range inside a mapping must pin");
          // Another live mapping may hold the same range (two mappings of one page); any
          // mapping that contains it is a right answer, ours is the usual one.
          if p.id == id {
            assert_eq!(p.offset, at);
            live[k].5 += 1;
          } else {
            reg.unpin(p.id);
          }
          if !ro && len > 0 && !truncated.contains(&id) {
            let byte = inp.u8();
            // SAFETY: [at, at+len) is inside the live, writable mapping k.
            unsafe { std::ptr::write_volatile(ptr.add(at), byte) };
            // A byte past the file's end in its last page is backed but belongs to no file byte.
            if off + (at as u64) < file_size(raw) {
              let mut back = [0u8; 1];
              // SAFETY: pread into a 1-byte buffer of ours.
              let got = unsafe { libc::pread(raw, back.as_mut_ptr().cast(), 1, (off + at as u64) as libc::off_t) };
              assert_eq!((got, back[0]), (1, byte), "a write through the mapping reaches the file");
            }
          }
        } else if let Some(p) = pin {
          // Outside mapping k, the range may still lie inside another live mapping.
          let addr = (ptr as usize).wrapping_add(at);
          let other = live.iter().any(|&(oid, optr, on, ..)| oid == p.id && addr.wrapping_sub(optr as usize).checked_add(len).is_some_and(|e| e <= on));
          assert!(other, "pinned {at}+{len} outside every mapping");
          reg.unpin(p.id);
        }
      }
      _ => {
        if live.is_empty() {
          continue;
        }
        let k = inp.u8() as usize % live.len();
        let (id, _, _, _, _, pins) = live[k];
        if pins > 0 {
          assert_eq!(reg.unmap(id).unwrap_err().code.0, "EBUSY");
          for _ in 0..pins {
            reg.unpin(id);
          }
          live[k].5 = 0;
        } else {
          reg.unmap(id).unwrap();
          live.swap_remove(k);
        }
      }
    }
  }
  for &(_, ptr, n, ..) in &live {
    touch(ptr, n);
  }
  assert_eq!(reg.len(), live.len());
});
