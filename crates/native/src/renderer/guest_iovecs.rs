//! Guest memory handed to rutabaga: raw (pointer, length) runs in backing order. The binding
//! guarantees the memory stays mapped and unmoved while rutabaga may use it (SharedArrayBuffer
//! kept referenced, or a pinned native mapping); this module only does the bookkeeping and
//! bounds-checked copies: transfer windows and readback of guest blobs.
//!
//! Host memory: a guest may attach 16384 one-byte entries to each of thousands of resources, so
//! a run costs exactly [`RUN_HOST_BYTES`] here (a pointer and its backing offset, in a boxed
//! slice sized at attach; the length is the distance to the next run's offset). The device
//! charges it per run (`RendererCapabilities.hostBytesPerBackingRun`), together with rutabaga's
//! own copy where rutabaga keeps one (cross-domain blobs, see `Renderer::create_blob`).

use rutabaga_gfx::RutabagaIovec;

/// One run: where it starts in guest memory and in the backing.
#[derive(Clone, Copy)]
struct Run {
  base: *mut u8,
  start: usize,
}

/// Host bytes one run of a [`GuestIovecs`] keeps.
pub const RUN_HOST_BYTES: usize = std::mem::size_of::<Run>();

/// Host bytes one run keeps in rutabaga when it is handed the backing (a `RutabagaIovec`).
pub const RUTABAGA_RUN_HOST_BYTES: usize = std::mem::size_of::<RutabagaIovec>();

/// A resource's backing runs.
pub struct GuestIovecs {
  runs: Box<[Run]>,
  size: usize,
}

// SAFETY: the runs point at shared guest memory that outlives this value (the binding's
// guarantee); moving the list between threads does not touch the memory.
unsafe impl Send for GuestIovecs {}

impl GuestIovecs {
  /// Build from runs; empty runs are dropped. None when the total overflows.
  pub fn new(runs: impl IntoIterator<Item = (*mut u8, usize)>) -> Option<GuestIovecs> {
    let runs = runs.into_iter();
    let mut table = Vec::with_capacity(runs.size_hint().0);
    let mut size = 0usize;
    for (base, len) in runs {
      if len == 0 {
        continue;
      }
      table.push(Run { base, start: size });
      size = size.checked_add(len)?;
    }
    Some(GuestIovecs { runs: table.into_boxed_slice(), size })
  }

  /// Total bytes.
  pub fn size(&self) -> usize {
    self.size
  }

  /// Number of runs (empty ones were dropped).
  pub fn run_count(&self) -> usize {
    self.runs.len()
  }

  fn len_of(&self, i: usize) -> usize {
    self.runs.get(i + 1).map_or(self.size, |next| next.start) - self.runs[i].start
  }

  /// Index of the run holding backing byte `offset` (the caller checked `offset < size`).
  fn run_at(&self, offset: usize) -> usize {
    self.runs.partition_point(|r| r.start <= offset) - 1
  }

  /// The runs as rutabaga takes them (it keeps the vector until detach), sized exactly.
  pub fn to_rutabaga(&self) -> Vec<RutabagaIovec> {
    let mut v = Vec::with_capacity(self.runs.len());
    v.extend((0..self.runs.len()).map(|i| RutabagaIovec { base: self.runs[i].base.cast(), len: self.len_of(i) }));
    v
  }

  /// The runs covering backing bytes [start, end), the first and last trimmed, after a prefix
  /// run of `prefix.len()` bytes (memory rutabaga skips and never reads). See
  /// `Renderer::transfer_to_host_2d` for why. An empty or out-of-range window is the prefix alone.
  pub fn window(&self, start: usize, end: usize, prefix: &[u8]) -> Vec<RutabagaIovec> {
    let mut v = Vec::new();
    if !prefix.is_empty() {
      v.push(RutabagaIovec { base: prefix.as_ptr() as *mut _, len: prefix.len() });
    }
    if start >= end || end > self.size {
      return v;
    }
    let mut i = self.run_at(start);
    let mut at = start;
    while at < end {
      let within = at - self.runs[i].start;
      let n = (self.len_of(i) - within).min(end - at);
      // SAFETY: `within + n <= len_of(i)`: a sub-range of a live run (pointer arithmetic only).
      let base = unsafe { self.runs[i].base.add(within) };
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
    let mut i = self.run_at(offset);
    let mut within = offset - self.runs[i].start;
    let mut done = 0;
    while done < dst.len() {
      let n = (self.len_of(i) - within).min(dst.len() - done);
      // SAFETY: `within + n <= len_of(i)`, and the run is live guest memory (module comment).
      // Guest memory may change under us (it is shared); copying bytes is still sound.
      unsafe { std::ptr::copy_nonoverlapping(self.runs[i].base.add(within), dst[done..].as_mut_ptr(), n) };
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

  #[test]
  fn a_run_keeps_sixteen_bytes_and_the_table_is_sized_exactly() {
    let mut a = [0u8; 64];
    let io = GuestIovecs::new((0..64).map(|i| (a[i..].as_mut_ptr(), 1))).unwrap();
    assert_eq!(RUN_HOST_BYTES, 16);
    assert_eq!(io.run_count(), 64);
    assert_eq!(std::mem::size_of_val(&*io.runs), 64 * RUN_HOST_BYTES);
    let r = io.to_rutabaga();
    assert_eq!((r.len(), r.capacity()), (64, 64));
    assert!(r.iter().all(|v| v.len == 1));
  }
}
