//! One path for every retired fence: rutabaga's fence handler (called synchronously inside
//! create_fence for 2D and the cross-domain query ring, or from the cross-domain worker thread
//! for the channel ring) appends to this queue; the JS thread drains it in arrival order. A
//! push from another thread wakes JS once (through the binding's threadsafe function) until the
//! next drain; a push on the JS thread itself is drained by the caller right after its call.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

use rutabaga_gfx::{RutabagaFence, RutabagaFenceHandler, RutabagaHandler, RUTABAGA_FLAG_INFO_RING_IDX};

/// A retired fence as the device knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retired {
  pub fence_id: u64,
  pub ctx_id: u32,
  pub ring_idx: u8,
  /// VIRTIO_GPU_FLAG_INFO_RING_IDX was set: the fence is on (ctx_id, ring_idx).
  pub ringed: bool,
}

type Waker = Box<dyn Fn() + Send + Sync>;

/// The queue between fence handlers and the JS thread.
pub struct FenceQueue {
  queue: Mutex<VecDeque<Retired>>,
  wake_pending: AtomicBool,
  waker: Mutex<Option<Waker>>,
  owner: ThreadId,
}

impl FenceQueue {
  /// A queue owned by the calling (JS) thread.
  pub fn new() -> Arc<FenceQueue> {
    Arc::new(FenceQueue {
      queue: Mutex::new(VecDeque::new()),
      wake_pending: AtomicBool::new(false),
      waker: Mutex::new(None),
      owner: std::thread::current().id(),
    })
  }

  /// Install the wake-up for pushes from other threads.
  pub fn set_waker(&self, waker: Waker) {
    *self.waker.lock().unwrap_or_else(|p| p.into_inner()) = Some(waker);
  }

  /// Remove the wake-up (before the thing it calls goes away).
  pub fn clear_waker(&self) {
    *self.waker.lock().unwrap_or_else(|p| p.into_inner()) = None;
  }

  /// The rutabaga fence handler feeding this queue.
  pub fn handler(self: &Arc<Self>) -> RutabagaFenceHandler {
    let q = Arc::clone(self);
    RutabagaHandler::new(move |f: RutabagaFence| q.push(f))
  }

  fn push(&self, f: RutabagaFence) {
    let r = Retired {
      fence_id: f.fence_id,
      ctx_id: f.ctx_id,
      ring_idx: f.ring_idx,
      ringed: f.flags & RUTABAGA_FLAG_INFO_RING_IDX != 0,
    };
    self.queue.lock().unwrap_or_else(|p| p.into_inner()).push_back(r);
    if std::thread::current().id() == self.owner {
      return; // the JS-thread caller drains after its call
    }
    if !self.wake_pending.swap(true, Ordering::AcqRel) {
      if let Some(w) = self.waker.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
        w();
      }
    }
  }

  /// Take everything retired so far, in arrival order.
  pub fn drain(&self) -> Vec<Retired> {
    // Clear the flag first: a push racing with this drain then wakes again (never lost).
    self.wake_pending.store(false, Ordering::Release);
    self.queue.lock().unwrap_or_else(|p| p.into_inner()).drain(..).collect()
  }

  /// Forget everything queued (device reset).
  pub fn clear(&self) {
    self.queue.lock().unwrap_or_else(|p| p.into_inner()).clear();
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use rutabaga_gfx::RUTABAGA_FLAG_FENCE;
  use std::sync::atomic::AtomicUsize;

  fn fence(id: u64, ringed: bool) -> RutabagaFence {
    let flags = RUTABAGA_FLAG_FENCE | if ringed { RUTABAGA_FLAG_INFO_RING_IDX } else { 0 };
    RutabagaFence { flags, fence_id: id, ctx_id: 3, ring_idx: 1 }
  }

  /// A queue whose waker counts its calls.
  fn counting_wakes() -> (Arc<FenceQueue>, Arc<AtomicUsize>) {
    let q = FenceQueue::new();
    let wakes = Arc::new(AtomicUsize::new(0));
    let w = Arc::clone(&wakes);
    q.set_waker(Box::new(move || {
      w.fetch_add(1, Ordering::SeqCst);
    }));
    (q, wakes)
  }

  #[test]
  fn owner_thread_pushes_do_not_wake_and_drain_in_order() {
    let (q, wakes) = counting_wakes();
    let h = q.handler();
    h.call(fence(1, false));
    h.call(fence(2, true));
    assert_eq!(wakes.load(Ordering::SeqCst), 0);
    let got = q.drain();
    assert_eq!(got.iter().map(|r| (r.fence_id, r.ringed)).collect::<Vec<_>>(), vec![(1, false), (2, true)]);
    assert!(q.drain().is_empty());
  }

  #[test]
  fn other_threads_wake_once_until_drained() {
    let (q, wakes) = counting_wakes();
    let h = q.handler();
    std::thread::spawn(move || {
      for i in 0..5 {
        h.call(fence(i, true));
      }
    })
    .join()
    .unwrap();
    assert_eq!(wakes.load(Ordering::SeqCst), 1);
    assert_eq!(q.drain().len(), 5);
    let h = q.handler();
    std::thread::spawn(move || h.call(fence(9, true))).join().unwrap();
    assert_eq!(wakes.load(Ordering::SeqCst), 2);
  }
}
