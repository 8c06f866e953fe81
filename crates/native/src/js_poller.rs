//! #[napi] exports: the readiness watcher (Linux only). One epoll thread per `FdPoller`; events
//! reach JS through one weak threadsafe function (it keeps the event loop alive only while the
//! JS side holds a ref), and the JS dispatcher re-arms the one-shot watch after the callback.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::sys;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::error::{Code, NativeError};
use crate::js_fd::js_fd;
use crate::plumbing::poller::Poller;


/// The dispatcher gets one number, `id * 16 + events`: no array allocated per readiness.
type Dispatch = ThreadsafeFunction<f64, Unknown<'static>, f64, Status, false, true>;

/// The epoll watcher; `dispatch(id * 16 + events)` runs on the JS thread for each readiness.
#[napi]
pub struct FdPoller {
  poller: Poller,
  tsfn: Arc<Dispatch>,
  referenced: bool,
}

#[napi]
impl FdPoller {
  /// Start the watcher thread; `dispatch(id * 16 + events)` receives every readiness.
  #[napi(constructor, catch_unwind)]
  pub fn new(dispatch: Function<'_, f64, Unknown<'static>>) -> Result<Self, Code> {
    let tsfn: Dispatch = dispatch
      .build_threadsafe_function::<f64>()
      .weak::<true>()
      .callee_handled::<false>()
      .build()
      .map_err(|e| NativeError::new("ERR_NAPI", e.reason))?;
    let tsfn = Arc::new(tsfn);
    let sender = Arc::clone(&tsfn);
    let poller = Poller::start(move |id, bits| {
      // Ids are allocated by JS below 2^31, so id * 16 + bits is exact in a double. A closing
      // event loop stops the thread.
      let packed = (id as f64) * 16.0 + f64::from(bits & 15);
      sender.call(packed, ThreadsafeFunctionCallMode::NonBlocking) == Status::Ok
    })?;
    Ok(FdPoller { poller, tsfn, referenced: false })
  }

  /// Watch `fd` as `id` for `interest` (1 readable, 2 writable; hang-up and error always).
  #[napi(catch_unwind)]
  pub fn add(&self, id: u32, fd: f64, interest: u32) -> Result<(), Code> {
    self.poller.add(u64::from(id), js_fd(fd)?, interest).map_err(Into::into)
  }

  /// Re-arm a one-shot watch (after its callback returned); no-op for a removed watch.
  #[napi(catch_unwind)]
  pub fn rearm(&self, id: u32) -> Result<(), Code> {
    self.poller.rearm(u64::from(id)).map_err(Into::into)
  }

  /// Stop watching `id`.
  #[napi(catch_unwind)]
  pub fn remove(&self, id: u32) {
    self.poller.remove(u64::from(id));
  }

  /// Keep (true) or stop keeping (false) the event loop alive for this watcher.
  #[napi(catch_unwind)]
  pub fn set_ref(&mut self, env: &Env, keep_alive: bool) -> Result<(), Code> {
    if keep_alive == self.referenced {
      return Ok(());
    }
    let raw = self.tsfn.raw();
    // SAFETY: called on the JS thread that owns the tsfn, which is alive (we hold it).
    let s = unsafe {
      if keep_alive {
        sys::napi_ref_threadsafe_function(env.raw(), raw)
      } else {
        sys::napi_unref_threadsafe_function(env.raw(), raw)
      }
    };
    if s != sys::Status::napi_ok {
      return Err(NativeError::new("ERR_NAPI", format!("tsfn ref/unref failed: {s}")).into());
    }
    self.referenced = keep_alive;
    Ok(())
  }

  /// Stop the thread (watches are dropped).
  #[napi(catch_unwind)]
  pub fn close(&mut self) {
    self.poller.close();
  }
}
