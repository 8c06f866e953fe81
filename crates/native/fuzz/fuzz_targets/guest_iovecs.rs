//! `GuestIovecs` over hostile run lists: empty runs, runs that overlap or repeat, lengths whose
//! sum overflows, and copies and transfer windows at any offset and length.
//! Checked against a flat copy of the backing: copy_out gives exactly the bytes there (or
//! refuses, touching nothing, exactly when the range passes the end); a window after a prefix
//! gives the prefix, then exactly the bytes of [start, end), with no empty run; to_rutabaga gives
//! the runs as built. Lengths that overflow make `new` refuse.
#![no_main]

#[path = "input.rs"]
mod input;

use input::Input;
use libfuzzer_sys::fuzz_target;
use virtio_gpu_native::renderer::guest_iovecs::GuestIovecs;

const ARENA: usize = 1024;

fuzz_target!(|data: &[u8]| {
  let mut inp = Input::new(data);
  let mode = inp.u8();
  let count = usize::from(inp.u8() % 64);
  if mode & 0x80 != 0 {
    // Lengths near usize::MAX on a null base: only the bookkeeping may look at them.
    let lens: Vec<usize> = (0..count).map(|_| inp.u64() as usize).collect();
    let sum = lens.iter().try_fold(0usize, |s, &l| s.checked_add(l));
    match GuestIovecs::new(lens.iter().map(|&l| (std::ptr::null_mut(), l))) {
      Some(io) => assert_eq!(Some(io.size()), sum),
      None => assert!(sum.is_none(), "refused a backing of {sum:?} bytes"),
    }
    return;
  }
  let mut arena: Vec<u8> = (0..ARENA).map(|i| (i * 7 + 3) as u8).collect();
  let base = arena.as_mut_ptr();
  let mut runs = Vec::new();
  let mut flat = Vec::new();
  for _ in 0..count {
    let at = usize::from(inp.u16()) % ARENA;
    let len = usize::from(inp.u16()) % (ARENA - at + 1);
    // SAFETY: at <= ARENA (pointer arithmetic only; the runs stay inside `arena`).
    runs.push((unsafe { base.add(at) }, len));
    flat.extend_from_slice(&arena[at..at + len]);
  }
  let io = GuestIovecs::new(runs.iter().copied()).expect("no overflow in 64 KiB");
  assert_eq!(io.size(), flat.len());
  assert_eq!(io.run_count(), runs.iter().filter(|r| r.1 > 0).count());
  let whole = io.to_rutabaga();
  let built: Vec<(usize, usize)> = runs.iter().filter(|r| r.1 > 0).map(|&(p, n)| (p as usize, n)).collect();
  assert_eq!(whole.iter().map(|v| (v.base as usize, v.len)).collect::<Vec<_>>(), built);
  let prefix = vec![0u8; usize::from(inp.u8())];
  let mut ops = 0;
  while !inp.is_empty() && ops < 16 {
    ops += 1;
    let op = inp.u8();
    let wide = op & 0x10 != 0;
    let (a, b) = (inp.size(wide) as usize, inp.size(wide) as usize);
    if op & 1 == 0 {
      let mut dst = vec![0xa5u8; b.min(4 * ARENA)];
      let fits = a.checked_add(dst.len()).is_some_and(|e| e <= flat.len());
      let ok = io.copy_out(a, &mut dst);
      assert_eq!(ok, fits, "copy_out({a}, {}) of {} bytes", dst.len(), flat.len());
      if ok {
        assert_eq!(dst, flat[a..a + dst.len()]);
      } else {
        assert!(dst.iter().all(|&x| x == 0xa5), "a refused copy wrote");
      }
    } else {
      let w = io.window(a, b, &prefix);
      let mut got = Vec::new();
      for (i, v) in w.iter().enumerate() {
        assert!(v.len > 0, "an empty run at {i} of a window");
        // SAFETY: every window run lies in `arena` or `prefix`, both live.
        got.extend_from_slice(unsafe { std::slice::from_raw_parts(v.base as *const u8, v.len) });
      }
      let mut want = prefix.clone();
      if a < b && b <= flat.len() {
        want.extend_from_slice(&flat[a..b]);
      }
      assert_eq!(got, want, "window({a}, {b}) of {} bytes", flat.len());
    }
  }
});
