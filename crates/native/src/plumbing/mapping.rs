//! Shared-memory mappings (QEMU's guest RAM memfds, cross-domain blobs) and the registry that
//! decides when one may be unmapped.
//!
//! A mapping is exposed to JS as an external ArrayBuffer. It is freed (munmap) in exactly one of
//! two ways: an explicit unmap, which the binding does only after detaching that ArrayBuffer (so
//! no JS view can reach the memory), or the ArrayBuffer's GC finaliser (no JS view exists any
//! more). Native users (rutabaga holds raw pointers into guest RAM) pin the region: a pinned
//! region refuses explicit unmap (EBUSY), and a finalised pinned region is freed at the last unpin.

use std::collections::BTreeMap;
use std::os::fd::RawFd;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::error::{NativeError, NativeResult};
use crate::plumbing::sigbus_guard::{self, Guard};

/// One live mmap. Dropping it unmaps.
#[derive(Debug)]
pub struct Region {
  /// Start of the mmap (page aligned).
  base: NonNull<u8>,
  /// Length of the mmap.
  map_len: usize,
  /// Offset of the caller's first byte within the mmap (the unaligned part of the file offset).
  delta: usize,
  /// Bytes the caller asked for.
  len: usize,
  /// Turns a SIGBUS from a shrunk file into zero-filled memory (`sigbus_guard`).
  guard: Option<Guard>,
}

// SAFETY: a Region is an address range; every access goes through raw pointers whose users
// synchronise themselves (JS thread, rutabaga's own locking). Moving the owner between threads
// is sound because munmap may run on any thread.
unsafe impl Send for Region {}

impl Region {
  /// First byte the caller asked for.
  pub fn ptr(&self) -> *mut u8 {
    // SAFETY: delta < map_len by construction, so the result stays inside the mapping.
    unsafe { self.base.as_ptr().add(self.delta) }
  }

  /// Bytes the caller asked for.
  pub fn len(&self) -> usize {
    self.len
  }

  /// True for an empty region (never constructed: map refuses size 0).
  pub fn is_empty(&self) -> bool {
    self.len == 0
  }

  /// True once the file was shrunk under the mapping and an access faulted: the mapping was
  /// replaced with zero-filled private memory and no longer reaches the file.
  pub fn truncated(&self) -> bool {
    self.guard.as_ref().is_some_and(Guard::truncated)
  }

  fn contains(&self, ptr: usize, len: usize) -> bool {
    let start = self.ptr() as usize;
    ptr >= start && len <= self.len && ptr - start <= self.len - len
  }
}

impl Drop for Region {
  fn drop(&mut self) {
    // The guard goes first: its handler must never map over an address we gave back.
    drop(self.guard.take());
    // SAFETY: base/map_len are exactly what mmap returned; nothing else unmaps this range.
    unsafe { libc::munmap(self.base.as_ptr().cast(), self.map_len) };
  }
}

fn page_size() -> u64 {
  // SAFETY: sysconf has no memory effects.
  let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
  if p > 0 { p as u64 } else { 4096 }
}

/// The size of the regular file behind `fd` (memfd, shm, hugetlbfs): what may be mapped of it.
fn file_size(fd: RawFd) -> NativeResult<u64> {
  // SAFETY: stat is plain old data; all-zero is valid, and fstat fills it or fails.
  let mut st: libc::stat = unsafe { std::mem::zeroed() };
  // SAFETY: `st` is a live, writable stat.
  if unsafe { libc::fstat(fd, &mut st) } != 0 {
    return Err(NativeError::last_os("fstat"));
  }
  if st.st_mode & libc::S_IFMT != libc::S_IFREG {
    return Err(NativeError::invalid("only regular files (memfd, shm, hugetlbfs) can be mapped"));
  }
  Ok(u64::try_from(st.st_size).unwrap_or(0))
}

/// Keep the file from shrinking under the mapping (F_SEAL_SHRINK), when it can be sealed; true
/// when it is sealed. A shrunk file turns every access to the lost pages into SIGBUS. A memfd
/// created without MFD_ALLOW_SEALING, or a file outside memfd, cannot be sealed: its mapping
/// needs the SIGBUS guard instead (docs/hostile.md).
fn seal_against_shrinking(fd: RawFd) -> bool {
  // SAFETY: fcntl with plain integer arguments; failure changes nothing.
  let seals = unsafe { libc::fcntl(fd, libc::F_GET_SEALS) };
  if seals < 0 {
    return false;
  }
  // SAFETY: as above.
  seals & libc::F_SEAL_SHRINK != 0 || unsafe { libc::fcntl(fd, libc::F_ADD_SEALS, libc::F_SEAL_SHRINK) } == 0
}

/// Map `len` bytes of `fd` from file offset `offset` shared (read-write unless `read_only`).
/// The offset need not be page aligned (vhost-user's mmap_offset is not): the mapping starts at
/// the page below and the region points at the requested byte. Bytes past the end of the file
/// are refused: mmap would accept them and the first access would raise SIGBUS.
pub fn map_fd(fd: RawFd, offset: u64, len: u64, read_only: bool) -> NativeResult<Region> {
  if len == 0 {
    return Err(NativeError::invalid("cannot map 0 bytes"));
  }
  let end = offset.checked_add(len).ok_or_else(|| NativeError::invalid("offset + size overflows"))?;
  let file = file_size(fd)?;
  if end > file {
    return Err(NativeError::invalid(format!("bytes {offset}..{end} pass the end of the file ({file} bytes)")));
  }
  let page = page_size();
  let aligned = offset - offset % page;
  let delta = offset - aligned;
  let map_len = delta + len; // <= end, which did not overflow
  let map_len = usize::try_from(map_len).map_err(|_| NativeError::invalid("size does not fit the address space"))?;
  let file_off = libc::off_t::try_from(aligned).map_err(|_| NativeError::invalid("offset too large"))?;
  if isize::try_from(map_len).is_err() {
    return Err(NativeError::invalid("size does not fit the address space"));
  }
  let sealed = seal_against_shrinking(fd);
  let prot = if read_only { libc::PROT_READ } else { libc::PROT_READ | libc::PROT_WRITE };
  // SAFETY: a fresh mapping at a kernel-chosen address; it aliases nothing of ours.
  let p = unsafe { libc::mmap(std::ptr::null_mut(), map_len, prot, libc::MAP_SHARED, fd, file_off) };
  if p == libc::MAP_FAILED {
    return Err(NativeError::last_os("mmap"));
  }
  let base = NonNull::new(p.cast::<u8>()).ok_or_else(|| NativeError::new("ENOMEM", "mmap returned null"))?;
  // Sealed mappings are guarded too while slots last (a hole punched in a hugetlbfs file can
  // still fault); an unsealed one must be.
  let guard = sigbus_guard::guard(base.as_ptr(), map_len);
  let region = Region { base, map_len, delta: delta as usize, len: len as usize, guard };
  if region.guard.is_none() && !sealed {
    return Err(NativeError::new(
      "ENOMEM",
      format!("the file cannot be sealed against shrinking and all {} SIGBUS guards are in use", sigbus_guard::SLOTS),
    ));
  }
  Ok(region)
}

struct Entry {
  region: Region,
  pins: u32,
  /// The JS ArrayBuffer was collected while pinned: free at the last unpin.
  orphaned: bool,
}

/// The process's mappings by id. Ids are never reused, so a stale id cannot name a new mapping.
pub struct Registry {
  entries: Mutex<BTreeMap<u64, Entry>>,
  next: AtomicU64,
}

/// The process-wide registry every binding uses.
pub static REGISTRY: Registry = Registry::new();

/// What a successful pin found: the region's id and the pinned range's offset within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pin {
  pub id: u64,
  pub offset: usize,
}

impl Default for Registry {
  fn default() -> Self {
    Self::new()
  }
}

impl Registry {
  /// An empty registry.
  pub const fn new() -> Self {
    Registry { entries: Mutex::new(BTreeMap::new()), next: AtomicU64::new(1) }
  }

  fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Entry>> {
    // A panic while holding the lock cannot leave the map inconsistent (single inserts and
    // removes), so a poisoned lock is still usable.
    self.entries.lock().unwrap_or_else(|p| p.into_inner())
  }

  /// Take ownership of a mapping; returns its id and (pointer, length) for the ArrayBuffer.
  pub fn insert(&self, region: Region) -> (u64, *mut u8, usize) {
    let id = self.next.fetch_add(1, Ordering::Relaxed);
    let (ptr, len) = (region.ptr(), region.len());
    self.lock().insert(id, Entry { region, pins: 0, orphaned: false });
    (id, ptr, len)
  }

  /// Where region `id` starts and how long it is, if it is still mapped.
  pub fn span(&self, id: u64) -> Option<(*mut u8, usize)> {
    self.lock().get(&id).map(|e| (e.region.ptr(), e.region.len()))
  }

  /// Whether region `id` lost its file to a shrinking peer (see [`Region::truncated`]); `None`
  /// when it is not mapped.
  pub fn truncated(&self, id: u64) -> Option<bool> {
    self.lock().get(&id).map(|e| e.region.truncated())
  }

  /// Check that `id` may be unmapped now: it exists and nothing native holds it.
  pub fn check_unmap(&self, id: u64) -> NativeResult<()> {
    match self.lock().get(&id) {
      None => Err(NativeError::new("ERR_NOT_MAPPED", format!("mapping {id} is not mapped"))),
      Some(e) if e.pins > 0 => Err(NativeError::new(
        "EBUSY",
        format!("mapping {id} is in use by the renderer ({} attached ranges); detach or reset first", e.pins),
      )),
      Some(_) => Ok(()),
    }
  }

  /// Unmap `id` (the caller has already made every JS view unusable). Refused while pinned.
  pub fn unmap(&self, id: u64) -> NativeResult<()> {
    self.check_unmap(id)?;
    let entry = self.lock().remove(&id);
    drop(entry); // munmap outside the lock
    Ok(())
  }

  /// The ArrayBuffer of `id` was garbage collected: free now, or at the last unpin.
  pub fn finalize(&self, id: u64) {
    let removed = {
      let mut map = self.lock();
      match map.get_mut(&id) {
        Some(e) if e.pins > 0 => {
          e.orphaned = true;
          None
        }
        Some(_) => map.remove(&id),
        None => None,
      }
    };
    drop(removed);
  }

  /// Pin the mapping that holds all of [ptr, ptr+len), if any.
  pub fn pin(&self, ptr: *const u8, len: usize) -> Option<Pin> {
    let addr = ptr as usize;
    let mut map = self.lock();
    let (id, e) = map.iter_mut().find(|(_, e)| e.region.contains(addr, len))?;
    e.pins += 1;
    Some(Pin { id: *id, offset: addr - e.region.ptr() as usize })
  }

  /// Undo one [`Registry::pin`]; frees an orphaned mapping at its last unpin.
  pub fn unpin(&self, id: u64) {
    let removed = {
      let mut map = self.lock();
      match map.get_mut(&id) {
        Some(e) => {
          e.pins = e.pins.saturating_sub(1);
          if e.pins == 0 && e.orphaned { map.remove(&id) } else { None }
        }
        None => None,
      }
    };
    drop(removed);
  }

  /// Number of live mappings (tests and leak checks).
  pub fn len(&self) -> usize {
    self.lock().len()
  }

  /// True when nothing is mapped.
  pub fn is_empty(&self) -> bool {
    self.len() == 0
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::plumbing::fd::{memfd_create, memfd_create_unsealable};
  use std::os::fd::AsRawFd;

  fn memfd(size: u64) -> std::os::fd::OwnedFd {
    memfd_create("map-test", size).unwrap()
  }

  #[test]
  fn two_mappings_of_one_memfd_share_bytes() {
    let m = memfd(8192);
    let a = map_fd(m.as_raw_fd(), 0, 8192, false).unwrap();
    let b = map_fd(m.as_raw_fd(), 4096, 4096, false).unwrap();
    // SAFETY: both regions are live and 8192/4096 bytes long.
    unsafe {
      *a.ptr().add(4096 + 7) = 0x5a;
      assert_eq!(*b.ptr().add(7), 0x5a);
    }
  }

  #[test]
  fn unaligned_offset_points_at_the_requested_byte() {
    let m = memfd(8192);
    let whole = map_fd(m.as_raw_fd(), 0, 8192, false).unwrap();
    // SAFETY: in range of an 8192-byte mapping.
    unsafe { *whole.ptr().add(100) = 9 };
    let part = map_fd(m.as_raw_fd(), 100, 10, true).unwrap();
    assert_eq!(part.len(), 10);
    // SAFETY: part is 10 bytes long.
    assert_eq!(unsafe { *part.ptr() }, 9);
  }

  #[test]
  fn zero_size_and_bad_fd_are_refused() {
    let m = memfd(4096);
    assert_eq!(map_fd(m.as_raw_fd(), 0, 0, false).unwrap_err().code.0, "ERR_INVALID_ARG");
    assert_eq!(map_fd(-1, 0, 4096, false).unwrap_err().code.0, "EBADF");
    assert_eq!(map_fd(m.as_raw_fd(), u64::MAX - 10, 4096, false).unwrap_err().code.0, "ERR_INVALID_ARG");
  }

  #[test]
  fn bytes_past_the_end_of_the_file_are_refused() {
    let m = memfd(8192);
    assert!(map_fd(m.as_raw_fd(), 4096, 4096, false).is_ok());
    assert_eq!(map_fd(m.as_raw_fd(), 4097, 4096, false).unwrap_err().code.0, "ERR_INVALID_ARG");
    assert_eq!(map_fd(m.as_raw_fd(), 0, 8193, false).unwrap_err().code.0, "ERR_INVALID_ARG");
    assert_eq!(map_fd(m.as_raw_fd(), 8192, 1, true).unwrap_err().code.0, "ERR_INVALID_ARG");
  }

  #[test]
  fn a_mapped_memfd_can_no_longer_shrink() {
    let m = memfd(8192);
    let r = map_fd(m.as_raw_fd(), 0, 8192, false).unwrap();
    // SAFETY: ftruncate on our own memfd.
    assert_ne!(unsafe { libc::ftruncate(m.as_raw_fd(), 4096) }, 0);
    // SAFETY: the last byte of a live 8192-byte mapping whose file still has 8192 bytes.
    unsafe { *r.ptr().add(8191) = 1 };
  }

  #[test]
  fn a_file_shrunk_under_an_unsealable_mapping_faults_into_zeros_not_sigbus() {
    let m = memfd_create_unsealable("unsealable", 3 * 4096).unwrap();
    let reg = Registry::new();
    let (id, ptr, len) = reg.insert(map_fd(m.as_raw_fd(), 0, 3 * 4096, false).unwrap());
    // SAFETY: inside a live 3-page mapping whose file is 3 pages long.
    unsafe { *ptr.add(5) = 7 };
    assert_eq!(reg.truncated(id), Some(false));
    // The peer shrinks the file: the sealing attempt must have failed for this test to mean anything.
    // SAFETY: ftruncate on our own memfd.
    assert_eq!(unsafe { libc::ftruncate(m.as_raw_fd(), 4096) }, 0);
    // SAFETY: the mapping is still ours; its last page is past the new end of the file, so
    // without the guard this read raises SIGBUS and the test process dies.
    let last = unsafe { std::ptr::read_volatile(ptr.add(len - 1)) };
    assert_eq!(last, 0);
    assert_eq!(reg.truncated(id), Some(true));
    // The whole mapping is private zeros now: writes land there, not in the file.
    // SAFETY: as above; the replacement mapping has the same range.
    unsafe {
      assert_eq!(std::ptr::read_volatile(ptr.add(5)), 0);
      *ptr.add(5) = 9;
    }
    let mut b = [0u8; 1];
    // SAFETY: pread into a 1-byte buffer.
    assert_eq!(unsafe { libc::pread(m.as_raw_fd(), b.as_mut_ptr().cast(), 1, 5) }, 1);
    assert_eq!(b[0], 7);
    reg.unmap(id).unwrap();
    assert_eq!(reg.truncated(id), None);
  }

  #[test]
  fn a_sealable_file_is_sealed_and_never_truncated() {
    let m = memfd(8192);
    let reg = Registry::new();
    let (id, _, _) = reg.insert(map_fd(m.as_raw_fd(), 0, 8192, false).unwrap());
    // SAFETY: ftruncate on our own memfd; the seal refuses it.
    assert_ne!(unsafe { libc::ftruncate(m.as_raw_fd(), 0) }, 0);
    assert_eq!(reg.truncated(id), Some(false));
    reg.unmap(id).unwrap();
  }

  #[test]
  fn only_regular_files_are_mapped() {
    let (a, _b) = crate::plumbing::unix_socket::pair().unwrap();
    assert_eq!(map_fd(a.as_raw_fd(), 0, 4096, false).unwrap_err().code.0, "ERR_INVALID_ARG");
  }

  #[test]
  fn pinned_region_refuses_unmap_until_unpinned() {
    let reg = Registry::new();
    let m = memfd(4096);
    let (id, ptr, _) = reg.insert(map_fd(m.as_raw_fd(), 0, 4096, false).unwrap());
    // SAFETY: 16 bytes into a 4096-byte mapping.
    let pin = reg.pin(unsafe { ptr.add(16) }, 64).unwrap();
    assert_eq!(pin, Pin { id, offset: 16 });
    assert_eq!(reg.unmap(id).unwrap_err().code.0, "EBUSY");
    reg.unpin(id);
    reg.unmap(id).unwrap();
    assert_eq!(reg.unmap(id).unwrap_err().code.0, "ERR_NOT_MAPPED");
    assert!(reg.is_empty());
  }

  #[test]
  fn pin_needs_the_whole_range_inside_one_region() {
    let reg = Registry::new();
    let m = memfd(4096);
    let (_, ptr, _) = reg.insert(map_fd(m.as_raw_fd(), 0, 4096, false).unwrap());
    // SAFETY: pointer arithmetic only; nothing is dereferenced.
    assert!(reg.pin(unsafe { ptr.add(4000) }, 200).is_none());
    assert!(reg.pin(std::ptr::null(), 1).is_none());
  }

  #[test]
  fn finalized_pinned_region_lives_until_last_unpin() {
    let reg = Registry::new();
    let m = memfd(4096);
    let (id, ptr, _) = reg.insert(map_fd(m.as_raw_fd(), 0, 4096, false).unwrap());
    reg.pin(ptr, 4096).unwrap();
    reg.finalize(id);
    assert_eq!(reg.len(), 1);
    reg.unpin(id);
    assert!(reg.is_empty());
  }
}
