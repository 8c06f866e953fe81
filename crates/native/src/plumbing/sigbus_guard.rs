//! Survive a peer shrinking a file we have mapped.
//!
//! A vhost-user frontend hands us guest RAM as a file descriptor. When the file allows seals,
//! `map_fd` seals it against shrinking and nothing can go wrong; a file that cannot be sealed
//! (a memfd made without MFD_ALLOW_SEALING, a tmpfs or hugetlbfs file) can be truncated by its
//! owner at any time, and the next access to a page past the new end raises SIGBUS, whose default
//! action kills the whole host process. JS reads mapped memory through ArrayBuffer views, so the
//! access cannot be wrapped in a check: the fault has to be survived where it happens.
//!
//! The technique is the one Wayland compositors use for client shm pools: a SIGBUS handler that,
//! when the faulting address lies in a guarded mapping, maps zero-filled private memory over the
//! whole mapping (MAP_FIXED) and returns, so the faulting instruction runs again and succeeds.
//! The mapping is marked truncated; its owner drops the peer that did it. A SIGBUS anywhere else
//! goes to the handler that was installed before ours, or to the default action.
//!
//! The handler reads a fixed table of atomics only (no locks, no allocation), so it is safe in a
//! signal context. A slot is released before its mapping is unmapped (`Region::drop`), and a
//! mapping is never unmapped while an access to it may be running (the registry's pins and the
//! JS binding's detach-before-unmap), so the handler never maps over memory that is not ours.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Mappings that can be guarded at once. vhost-user frontends use at most a few dozen memory
/// regions (QEMU's limit is 509 slots); a mapping that needs a guard and finds none is refused.
pub const SLOTS: usize = 1024;

struct Slot {
  /// Set while the slot is owned by a [`Guard`].
  claimed: AtomicBool,
  /// Start of the guarded mapping (page aligned).
  start: AtomicUsize,
  /// Length of the guarded mapping; 0 while the slot guards nothing (written last, cleared first).
  len: AtomicUsize,
  /// The handler replaced the mapping after a fault in it.
  truncated: AtomicBool,
}

impl Slot {
  const fn new() -> Self {
    Slot { claimed: AtomicBool::new(false), start: AtomicUsize::new(0), len: AtomicUsize::new(0), truncated: AtomicBool::new(false) }
  }
}

static TABLE: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];

/// The SIGBUS disposition found when ours was installed; `None` if installing failed.
static PREVIOUS: OnceLock<Option<libc::sigaction>> = OnceLock::new();

/// One guarded mapping. Dropping it stops the guard; drop it before unmapping.
#[derive(Debug)]
pub struct Guard {
  slot: usize,
}

impl Guard {
  /// True once a fault in the mapping (the file was shrunk under it) made the handler replace
  /// it with zero-filled private memory: its bytes no longer reach the file.
  pub fn truncated(&self) -> bool {
    TABLE[self.slot].truncated.load(Ordering::Acquire)
  }
}

impl Drop for Guard {
  fn drop(&mut self) {
    let s = &TABLE[self.slot];
    s.len.store(0, Ordering::Release);
    s.start.store(0, Ordering::Relaxed);
    // `truncated` is reset when the slot is claimed again.
    s.claimed.store(false, Ordering::Release);
  }
}

/// Guard the mapping [start, start + len). `None` when every slot is taken or the handler could
/// not be installed.
pub fn guard(start: *mut u8, len: usize) -> Option<Guard> {
  if len == 0 || !installed() {
    return None;
  }
  let slot = TABLE.iter().position(|s| s.claimed.compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed).is_ok())?;
  let s = &TABLE[slot];
  s.truncated.store(false, Ordering::Relaxed);
  s.start.store(start as usize, Ordering::Relaxed);
  s.len.store(len, Ordering::Release);
  Some(Guard { slot })
}

/// Install the handler once per process.
fn installed() -> bool {
  PREVIOUS
    .get_or_init(|| {
      // SAFETY: sigaction structs are plain old data; all-zero is a valid starting value.
      let mut ours: libc::sigaction = unsafe { std::mem::zeroed() };
      ours.sa_sigaction = on_sigbus as *const () as usize;
      // SA_ONSTACK: run on the alternate stack when the thread has one. SA_SIGINFO: si_addr.
      ours.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
      // SAFETY: sa_mask is ours to initialise.
      unsafe { libc::sigemptyset(&mut ours.sa_mask) };
      // SAFETY: as above.
      let mut previous: libc::sigaction = unsafe { std::mem::zeroed() };
      // SAFETY: both pointers are live sigaction structs.
      if unsafe { libc::sigaction(libc::SIGBUS, &ours, &mut previous) } == 0 { Some(previous) } else { None }
    })
    .is_some()
}

extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
  // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers; si_addr is the faulting
  // address for SIGBUS.
  let addr = unsafe { (*info).si_addr() } as usize;
  for s in TABLE.iter() {
    let len = s.len.load(Ordering::Acquire);
    if len == 0 {
      continue;
    }
    let start = s.start.load(Ordering::Relaxed);
    if addr < start || addr - start >= len {
      continue;
    }
    // SAFETY: [start, start + len) is a live mapping of ours (the slot is cleared before its
    // munmap), so replacing it in place touches nothing else. mmap is a plain system call.
    let p = unsafe {
      libc::mmap(
        start as *mut c_void,
        len,
        libc::PROT_READ | libc::PROT_WRITE,
        libc::MAP_FIXED | libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
        -1,
        0,
      )
    };
    if p as usize == start {
      s.truncated.store(true, Ordering::Release);
      return;
    }
    break;
  }
  chain(sig, info, context);
}

/// Hand a SIGBUS that is not ours to whoever handled it before; with no such handler, restore the
/// default action and return: the access faults again and the process ends as it would have.
fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
  let previous = PREVIOUS.get().copied().flatten();
  if let Some(p) = previous {
    let h = p.sa_sigaction;
    if h != libc::SIG_DFL && h != libc::SIG_IGN {
      if p.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: an SA_SIGINFO handler has this signature; it was installed for SIGBUS.
        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut c_void) = unsafe { std::mem::transmute(h) };
        f(sig, info, context);
      } else {
        // SAFETY: a plain handler takes the signal number only.
        let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(h) };
        f(sig);
      }
      return;
    }
  }
  // SAFETY: all-zero sigaction with SIG_DFL (0) is the default disposition.
  let default: libc::sigaction = unsafe { std::mem::zeroed() };
  // SAFETY: a live sigaction struct; sigaction is async-signal-safe.
  unsafe { libc::sigaction(libc::SIGBUS, &default, std::ptr::null_mut()) };
  // A fault repeats when the access runs again; a SIGBUS sent by kill() does not, so send it again.
  // SAFETY: as in on_sigbus; raise is async-signal-safe.
  if unsafe { (*info).si_code } <= 0 {
    // SAFETY: raise only sends a signal.
    unsafe { libc::raise(sig) };
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_slot_is_claimed_and_released() {
    assert!(guard(0x1000 as *mut u8, 0).is_none());
    let g = guard(0x1000 as *mut u8, 4096).unwrap();
    let slot = g.slot;
    assert!(!g.truncated());
    assert_eq!(TABLE[slot].len.load(Ordering::Acquire), 4096);
    drop(g);
    assert_eq!(TABLE[slot].len.load(Ordering::Acquire), 0);
    assert!(!TABLE[slot].claimed.load(Ordering::Acquire));
  }
}
