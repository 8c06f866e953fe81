//! One epoll thread that watches many descriptors and hands readiness to a sink (the binding's
//! threadsafe function onto Node's event loop).
//!
//! Watches are one-shot: after an event the descriptor is disarmed until `rearm`, which the
//! binding calls once the JS callback has returned. So a kick eventfd produces one callback per
//! readiness, however long JS takes to read it, and never a storm of queued duplicates.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::error::{NativeError, NativeResult};

/// Interest and event bits (the JS API uses the same numbers).
pub const READABLE: u32 = 1;
/// Writable (only reported when asked for).
pub const WRITABLE: u32 = 2;
/// The peer hung up (EPOLLHUP or EPOLLRDHUP).
pub const HANGUP: u32 = 4;
/// An error condition on the descriptor (EPOLLERR).
pub const ERROR: u32 = 8;

/// epoll data of the internal wake-up eventfd; watch ids start at 1.
const WAKE_ID: u64 = 0;

struct Inner {
  epfd: OwnedFd,
  wake: OwnedFd,
  watches: Mutex<HashMap<u64, (RawFd, u32)>>,
  stop: AtomicBool,
}

impl Inner {
  fn watches(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (RawFd, u32)>> {
    self.watches.lock().unwrap_or_else(|p| p.into_inner())
  }

  fn ctl(&self, op: i32, fd: RawFd, id: u64, interest: u32) -> NativeResult<()> {
    let mut bits = (libc::EPOLLONESHOT | libc::EPOLLRDHUP) as u32;
    if interest & READABLE != 0 {
      bits |= libc::EPOLLIN as u32;
    }
    if interest & WRITABLE != 0 {
      bits |= libc::EPOLLOUT as u32;
    }
    let mut ev = libc::epoll_event { events: bits, u64: id };
    // SAFETY: `ev` is a live epoll_event; epoll_ctl only reads it.
    if unsafe { libc::epoll_ctl(self.epfd.as_raw_fd(), op, fd, &mut ev) } != 0 {
      return Err(NativeError::last_os("epoll_ctl"));
    }
    Ok(())
  }
}

/// The watcher thread and its registrations.
pub struct Poller {
  inner: Arc<Inner>,
  thread: Option<JoinHandle<()>>,
}

fn to_bits(events: u32) -> u32 {
  let mut bits = 0;
  if events & libc::EPOLLIN as u32 != 0 {
    bits |= READABLE;
  }
  if events & libc::EPOLLOUT as u32 != 0 {
    bits |= WRITABLE;
  }
  if events & (libc::EPOLLHUP | libc::EPOLLRDHUP) as u32 != 0 {
    bits |= HANGUP;
  }
  if events & libc::EPOLLERR as u32 != 0 {
    bits |= ERROR;
  }
  bits
}

impl Poller {
  /// Start the thread. `sink(id, events)` runs on it for each readiness; returning false (the
  /// event loop is gone) stops the thread.
  pub fn start<F>(sink: F) -> NativeResult<Poller>
  where
    F: Fn(u64, u32) -> bool + Send + 'static,
  {
    // SAFETY: epoll_create1 takes a flag and returns a new descriptor or -1.
    let raw = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if raw < 0 {
      return Err(NativeError::last_os("epoll_create1"));
    }
    // SAFETY: `raw` was just created and is owned only here.
    let epfd = unsafe { OwnedFd::from_raw_fd(raw) };
    let wake = super::eventfd::create(0, false)?;
    let inner = Arc::new(Inner { epfd, wake, watches: Mutex::new(HashMap::new()), stop: AtomicBool::new(false) });
    let mut ev = libc::epoll_event { events: libc::EPOLLIN as u32, u64: WAKE_ID };
    // SAFETY: as in `ctl`; the wake eventfd stays registered (level triggered) for the thread's life.
    if unsafe { libc::epoll_ctl(inner.epfd.as_raw_fd(), libc::EPOLL_CTL_ADD, inner.wake.as_raw_fd(), &mut ev) } != 0 {
      return Err(NativeError::last_os("epoll_ctl(wake)"));
    }
    let worker = Arc::clone(&inner);
    let thread = std::thread::Builder::new()
      .name("virtio-gpu-poll".into())
      .spawn(move || run(&worker, sink))
      .map_err(|e| NativeError::os("spawn poll thread", e))?;
    Ok(Poller { inner, thread: Some(thread) })
  }

  /// Watch `fd` for `interest` (READABLE and/or WRITABLE; HANGUP and ERROR always) as `id`.
  pub fn add(&self, id: u64, fd: RawFd, interest: u32) -> NativeResult<()> {
    if id == WAKE_ID {
      return Err(NativeError::invalid("watch id 0 is reserved"));
    }
    let mut watches = self.inner.watches();
    if watches.contains_key(&id) {
      return Err(NativeError::new("EEXIST", format!("watch id {id} in use")));
    }
    self.inner.ctl(libc::EPOLL_CTL_ADD, fd, id, interest)?;
    watches.insert(id, (fd, interest));
    Ok(())
  }

  /// Re-enable a one-shot watch after its callback ran; a removed watch is left alone.
  pub fn rearm(&self, id: u64) -> NativeResult<()> {
    let watches = self.inner.watches();
    match watches.get(&id) {
      Some(&(fd, interest)) => self.inner.ctl(libc::EPOLL_CTL_MOD, fd, id, interest),
      None => Ok(()),
    }
  }

  /// Stop watching. Afterwards the thread reports nothing more for `id`.
  pub fn remove(&self, id: u64) {
    let removed = self.inner.watches().remove(&id);
    if let Some((fd, _)) = removed {
      let mut ev = libc::epoll_event { events: 0, u64: 0 };
      // SAFETY: as in `ctl`. ENOENT/EBADF (the fd was closed first) leave nothing registered.
      unsafe { libc::epoll_ctl(self.inner.epfd.as_raw_fd(), libc::EPOLL_CTL_DEL, fd, &mut ev) };
    }
  }

  /// True when `id` is watched.
  pub fn is_watching(&self, id: u64) -> bool {
    self.inner.watches().contains_key(&id)
  }

  /// Stop the thread and wait for it.
  pub fn close(&mut self) {
    self.inner.stop.store(true, Ordering::SeqCst);
    let _ = super::eventfd::write(self.inner.wake.as_raw_fd(), 1);
    if let Some(t) = self.thread.take() {
      let _ = t.join();
    }
  }
}

impl Drop for Poller {
  fn drop(&mut self) {
    self.close();
  }
}

fn run<F: Fn(u64, u32) -> bool>(inner: &Inner, sink: F) {
  const BATCH: usize = 64;
  let mut events = [libc::epoll_event { events: 0, u64: 0 }; BATCH];
  loop {
    // SAFETY: `events` has room for BATCH entries.
    let n = unsafe { libc::epoll_wait(inner.epfd.as_raw_fd(), events.as_mut_ptr(), BATCH as i32, -1) };
    if n < 0 {
      if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
        continue;
      }
      return;
    }
    for ev in &events[..n as usize] {
      let (id, bits) = (ev.u64, ev.events);
      if id == WAKE_ID {
        let _ = super::eventfd::read(inner.wake.as_raw_fd());
        if inner.stop.load(Ordering::SeqCst) {
          return;
        }
        continue;
      }
      // A watch removed after epoll_wait returned reports nothing.
      if !inner.watches().contains_key(&id) {
        continue;
      }
      if !sink(id, to_bits(bits)) {
        return;
      }
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::plumbing::eventfd;
  use std::sync::mpsc;
  use std::time::Duration;

  fn started() -> (Poller, mpsc::Receiver<(u64, u32)>) {
    let (tx, rx) = mpsc::channel();
    let p = Poller::start(move |id, bits| tx.send((id, bits)).is_ok()).unwrap();
    (p, rx)
  }

  #[test]
  fn one_event_per_readiness_until_rearmed() {
    let (p, rx) = started();
    let e = eventfd::create(0, false).unwrap();
    p.add(7, e.as_raw_fd(), READABLE).unwrap();
    eventfd::write(e.as_raw_fd(), 1).unwrap();
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), (7, READABLE));
    // Still readable (nobody read it) but disarmed: silence.
    assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
    p.rearm(7).unwrap();
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), (7, READABLE));
    eventfd::read(e.as_raw_fd()).unwrap();
    p.rearm(7).unwrap();
    assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
  }

  #[test]
  fn removed_watch_reports_nothing() {
    let (p, rx) = started();
    let e = eventfd::create(0, false).unwrap();
    p.add(3, e.as_raw_fd(), READABLE).unwrap();
    p.remove(3);
    assert!(!p.is_watching(3));
    eventfd::write(e.as_raw_fd(), 1).unwrap();
    assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
    p.rearm(3).unwrap();
  }

  #[test]
  fn hangup_is_reported() {
    let (p, rx) = started();
    let (a, b) = crate::plumbing::unix_socket::pair().unwrap();
    p.add(9, b.as_raw_fd(), READABLE).unwrap();
    drop(a);
    let (id, bits) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(id, 9);
    assert_ne!(bits & HANGUP, 0);
  }

  #[test]
  fn duplicate_and_reserved_ids_are_refused() {
    let (p, _rx) = started();
    let e = eventfd::create(0, false).unwrap();
    p.add(1, e.as_raw_fd(), READABLE).unwrap();
    assert_eq!(p.add(1, e.as_raw_fd(), READABLE).unwrap_err().code.0, "EEXIST");
    assert_eq!(p.add(0, e.as_raw_fd(), READABLE).unwrap_err().code.0, "ERR_INVALID_ARG");
  }

  #[test]
  fn close_joins_the_thread() {
    let (mut p, _rx) = started();
    p.close();
    p.close();
  }
}
