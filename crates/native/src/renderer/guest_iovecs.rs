//! Guest memory handed to rutabaga: raw (pointer, length) runs in backing order. The binding
//! guarantees the memory stays mapped and unmoved while rutabaga may use it (SharedArrayBuffer
//! kept referenced, or a pinned native mapping); this module only does the bookkeeping and
//! bounds-checked copies for readback of guest blobs.

use rutabaga_gfx::RutabagaIovec;

/// A resource's backing runs.
pub struct GuestIovecs {
  iovecs: Vec<RutabagaIovec>,
  starts: Vec<usize>,
  size: usize,
}

// SAFETY: the runs point at shared guest memory that outlives this value (the binding's
// guarantee); moving the list between threads does not touch the memory.
unsafe impl Send for GuestIovecs {}

impl GuestIovecs {
  /// Build from runs; empty runs are dropped. None when the total overflows.
  pub fn new(runs: impl IntoIterator<Item = (*mut u8, usize)>) -> Option<GuestIovecs> {
    let mut iovecs = Vec::new();
    let mut starts = Vec::new();
    let mut size = 0usize;
    for (base, len) in runs {
      if len == 0 {
        continue;
      }
      starts.push(size);
      iovecs.push(RutabagaIovec { base: base.cast(), len });
      size = size.checked_add(len)?;
    }
    Some(GuestIovecs { iovecs, starts, size })
  }

  /// Total bytes.
  pub fn size(&self) -> usize {
    self.size
  }

  /// A copy of the runs for rutabaga (which keeps them until detach).
  pub fn to_rutabaga(&self) -> Vec<RutabagaIovec> {
    self.iovecs.clone()
  }

  /// The runs covering backing bytes [start, end), the first and last trimmed, after a prefix
  /// run of `prefix.len()` bytes (memory rutabaga skips and never reads). See
  /// `Renderer::transfer_to_host_2d` for why. The caller checked `start <= end <= size`.
  pub fn window(&self, start: usize, end: usize, prefix: &[u8]) -> Vec<RutabagaIovec> {
    let mut v = Vec::new();
    if !prefix.is_empty() {
      v.push(RutabagaIovec { base: prefix.as_ptr() as *mut _, len: prefix.len() });
    }
    if start >= end || end > self.size {
      return v;
    }
    let mut i = match self.starts.binary_search(&start) {
      Ok(i) => i,
      Err(i) => i - 1,
    };
    let mut at = start;
    while at < end {
      let run = self.iovecs[i];
      let within = at - self.starts[i];
      let n = (run.len - within).min(end - at);
      // SAFETY: `within + n <= run.len`: a sub-range of a live run (pointer arithmetic only).
      let base = unsafe { run.base.cast::<u8>().add(within) };
      v.push(RutabagaIovec { base: base.cast(), len: n });
      at += n;
      i += 1;
    }
    v
  }

  /// Copy `dst.len()` bytes from backing offset `offset`. False (nothing copied) when out of range.
  pub fn copy_out(&self, offset: usize, dst: &mut [u8]) -> bool {
    let Some(end) = offset.checked_add(dst.len()) else { return false };
    if end > self.size {
      return false;
    }
    if dst.is_empty() {
      return true;
    }
    let mut i = match self.starts.binary_search(&offset) {
      Ok(i) => i,
      Err(i) => i - 1,
    };
    let mut within = offset - self.starts[i];
    let mut done = 0;
    while done < dst.len() {
      let run = self.iovecs[i];
      let n = (run.len - within).min(dst.len() - done);
      // SAFETY: `within + n <= run.len`, and the run is live guest memory (module comment).
      // Guest memory may change under us (it is shared); copying bytes is still sound.
      unsafe { std::ptr::copy_nonoverlapping(run.base.cast::<u8>().add(within), dst[done..].as_mut_ptr(), n) };
      done += n;
      within = 0;
      i += 1;
    }
    true
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn copy_out_spans_runs_and_checks_bounds() {
    let mut a = vec![1u8, 2, 3];
    let mut b = vec![4u8, 5];
    let io = GuestIovecs::new([(a.as_mut_ptr(), 3), (std::ptr::null_mut(), 0), (b.as_mut_ptr(), 2)]).unwrap();
    assert_eq!(io.size(), 5);
    let mut out = [0u8; 3];
    assert!(io.copy_out(2, &mut out));
    assert_eq!(out, [3, 4, 5]);
    assert!(!io.copy_out(3, &mut out));
    assert!(!io.copy_out(usize::MAX, &mut out));
    assert!(io.copy_out(5, &mut []));
  }

  #[test]
  fn window_trims_runs_and_puts_the_prefix_first() {
    let mut a = vec![1u8, 2, 3, 4];
    let mut b = vec![5u8, 6, 7, 8];
    let io = GuestIovecs::new([(a.as_mut_ptr(), 4), (b.as_mut_ptr(), 4)]).unwrap();
    let prefix = vec![0u8; 8];
    let v = io.window(2, 7, &prefix);
    assert_eq!(v.iter().map(|r| r.len).collect::<Vec<_>>(), vec![8, 2, 3]);
    // SAFETY: reading the test's own vectors through the window.
    unsafe {
      assert_eq!(*v[1].base.cast::<u8>(), 3);
      assert_eq!(*v[2].base.cast::<u8>().add(2), 7);
    }
    assert_eq!(io.window(0, 8, &[]).len(), 2);
  }
}
