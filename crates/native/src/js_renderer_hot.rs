//! The renderer's per-frame calls as plain #[napi] functions taking the core's `handle`, and the
//! per-thread table of core states behind them.
//!
//! Why functions and not class methods: napi-rs 3 registers every class-method receiver in a
//! process-wide borrow table (a global mutex and a hash map per call), which measured ~350 ns of
//! a ~400 ns method call here; a plain function with numeric arguments costs ~40 ns. Transfers,
//! readback and fences run per command, so they take this path.

use std::cell::RefCell;
use std::rc::Rc;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::{Code, NativeError};
use crate::js_renderer::{CoreFence, CoreLayout, CoreState};
use crate::renderer::{BlobLayout, Rect};

thread_local! {
  // Slot = handle. A JS thread's cores live here; another thread (a worker) has its own table.
  static CORES: RefCell<Vec<Option<Rc<RefCell<CoreState>>>>> = const { RefCell::new(Vec::new()) };
}

/// Store a core's state; returns its handle.
pub fn insert(state: CoreState) -> u32 {
  CORES.with(|c| {
    let mut c = c.borrow_mut();
    let cell = Some(Rc::new(RefCell::new(state)));
    match c.iter().position(Option::is_none) {
      Some(i) => {
        c[i] = cell;
        i as u32
      }
      None => {
        c.push(cell);
        (c.len() - 1) as u32
      }
    }
  })
}

/// Take a core's state out (finalisation); its handle may be reused afterwards.
pub fn remove(handle: u32) -> Option<CoreState> {
  let rc = CORES.with(|c| c.borrow_mut().get_mut(handle as usize).and_then(Option::take))?;
  Rc::try_unwrap(rc).ok().map(RefCell::into_inner)
}

/// Run `f` on core `handle`'s state.
pub fn with<T>(handle: u32, f: impl FnOnce(&mut CoreState) -> std::result::Result<T, NativeError>) -> std::result::Result<T, NativeError> {
  // Clone the cell out so the table is not borrowed while `f` runs (a finaliser of another core
  // may need the table meanwhile).
  let cell = CORES.with(|c| c.borrow().get(handle as usize).cloned().flatten());
  let cell = cell.ok_or_else(|| NativeError::new("ERR_GPU_UNSPEC", format!("no renderer core {handle}")))?;
  let mut state = cell.try_borrow_mut().map_err(|_| NativeError::new("ERR_GPU_UNSPEC", "renderer core re-entered"))?;
  f(&mut state)
}

/// TRANSFER_TO_HOST_2D (offset as Linux sends it: the rect's first byte in the backing).
#[napi(catch_unwind)]
#[allow(clippy::too_many_arguments)]
pub fn rutabaga_transfer_to_host_2d(handle: u32, id: u32, x: u32, y: u32, width: u32, height: u32, offset: f64) -> Result<(), Code> {
  let offset = crate::js_args::safe_u64(offset, "offset")?;
  with(handle, |s| s.r()?.transfer_to_host_2d(id, Rect { x, y, w: width, h: height }, offset)).map_err(Into::into)
}

/// Read a rect as RGBA8 into `dst` (rows `dstStride` apart), every alpha 255 with `opaque`;
/// false when it cannot be read.
#[napi(catch_unwind)]
#[allow(clippy::too_many_arguments)]
pub fn rutabaga_readback(
  handle: u32,
  id: u32,
  x: u32,
  y: u32,
  width: u32,
  height: u32,
  mut dst: Uint8ArraySlice<'_>,
  dst_stride: u32,
  layout: Option<CoreLayout>,
  opaque: Option<bool>,
) -> bool {
  let layout = layout.map(|l| BlobLayout { format: l.format, width: l.width, height: l.height, stride: l.stride_bytes, offset: l.offset_bytes });
  // SAFETY: `dst` is written only during this call, on the JS thread.
  let out = unsafe { dst.as_mut() };
  with(handle, |s| Ok(s.r()?.readback(id, Rect { x, y, w: width, h: height }, out, dst_stride as usize, layout, opaque.unwrap_or(false)))).unwrap_or(false)
}

/// Start a fence; retirement comes through rutabagaTakeFences.
#[napi(catch_unwind)]
pub fn rutabaga_create_fence(handle: u32, fence_id: BigInt, ctx_id: u32, ring_idx: u32, ringed: bool) -> Result<(), Code> {
  let (_, fence_id, _) = fence_id.get_u64();
  let ring = u8::try_from(ring_idx).map_err(|_| NativeError::new("ERR_GPU_INVALID_PARAMETER", "ring index > 255"))?;
  with(handle, |s| s.r()?.create_fence(fence_id, ctx_id, ring, ringed)).map_err(Into::into)
}

/// Every fence retired so far, in arrival order.
#[napi(catch_unwind)]
pub fn rutabaga_take_fences(handle: u32) -> Vec<CoreFence> {
  with(handle, |s| Ok(s.r()?.take_fences()))
    .unwrap_or_default()
    .into_iter()
    .map(|f| CoreFence { fence_id: BigInt::from(f.fence_id), ctx_id: f.ctx_id, ring_idx: u32::from(f.ring_idx), ringed: f.ringed })
    .collect()
}
