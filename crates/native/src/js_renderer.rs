//! #[napi] exports: `RutabagaCore`, the renderer core for the JS `RutabagaRenderer`.
//!
//! Besides argument conversion this class owns the two lifetimes rutabaga cannot see:
//! - the guest memory each resource's backing points into (kept alive and pinned until rutabaga
//!   no longer references it: detach, destroy, reset or finalisation);
//! - the ArrayBuffer exposing each host-blob mapping, detached before rutabaga unmaps (unmap,
//!   destroy, reset, finalisation), so no JS view can reach an unmapped blob.

use std::collections::HashMap;
use std::path::PathBuf;
use std::ptr;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::sys;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::error::{Code, NativeError};
use crate::js_guest_memory::{self, Keep};
use crate::renderer::{BlobArgs, BlobLayout, Options, Rect, Renderer};

type Wake = ThreadsafeFunction<(), Unknown<'static>, (), Status, false, true>;

/// Options of the renderer core.
#[napi(object)]
pub struct CoreOptions {
  /// Add rutabaga's cross-domain component (Linux): contexts (capset 5), host blobs.
  pub cross_domain: bool,
  /// Wayland socket path for cross-domain channels.
  pub wayland_socket: Option<String>,
}

/// One capset (GET_CAPSET_INFO).
#[napi(object)]
pub struct CoreCapset {
  pub id: u32,
  pub max_version: u32,
  pub max_size: u32,
}

/// A retired fence.
#[napi(object)]
pub struct CoreFence {
  pub fence_id: BigInt,
  pub ctx_id: u32,
  pub ring_idx: u32,
  pub ringed: bool,
}

/// Blob layout on a scanout.
#[napi(object)]
pub struct CoreLayout {
  pub format: u32,
  pub width: u32,
  pub height: u32,
  pub stride_bytes: u32,
  pub offset_bytes: u32,
}

/// rutabaga through napi; see the module comment.
#[napi(custom_finalize)]
pub struct RutabagaCore {
  inner: Option<Renderer>,
  keeps: HashMap<u32, Vec<Keep>>,
  maps: HashMap<u32, sys::napi_ref>,
  wake: Option<Arc<Wake>>,
}

fn gone() -> NativeError {
  NativeError::new("ERR_GPU_UNSPEC", "renderer was finalised")
}

impl RutabagaCore {
  fn r(&mut self) -> std::result::Result<&mut Renderer, NativeError> {
    self.inner.as_mut().ok_or_else(gone)
  }

  /// Detach the ArrayBuffer exposing resource `id`'s mapping, if any (before rutabaga unmaps).
  fn revoke(&mut self, env: sys::napi_env, id: u32) {
    let Some(r) = self.maps.remove(&id) else { return };
    let mut ab = ptr::null_mut();
    // SAFETY: `r` is a weak reference created in this env by map_blob; deleted exactly once.
    unsafe {
      if sys::napi_get_reference_value(env, r, &mut ab) == sys::Status::napi_ok && !ab.is_null() {
        sys::napi_detach_arraybuffer(env, ab);
      }
      sys::napi_delete_reference(env, r);
    }
  }

  fn release(&mut self, env: sys::napi_env, id: u32) {
    if let Some(k) = self.keeps.remove(&id) {
      js_guest_memory::release(env, k);
    }
  }

  /// Release everything of resources rutabaga no longer has (after reset).
  fn release_all(&mut self, env: sys::napi_env) {
    let maps: Vec<u32> = self.maps.keys().copied().collect();
    for id in maps {
      self.revoke(env, id);
    }
    for (_, k) in self.keeps.drain() {
      js_guest_memory::release(env, k);
    }
  }
}

impl ObjectFinalize for RutabagaCore {
  fn finalize(mut self, env: Env) -> napi::Result<()> {
    if let Some(r) = &self.inner {
      r.fences().clear_waker();
    }
    let maps: Vec<u32> = self.maps.keys().copied().collect();
    for id in maps {
      self.revoke(env.raw(), id);
    }
    // rutabaga first (joins cross-domain workers), then the memory it pointed into.
    drop(self.inner.take());
    for (_, k) in self.keeps.drain() {
      js_guest_memory::release(env.raw(), k);
    }
    Ok(())
  }
}

#[napi]
impl RutabagaCore {
  /// Build the core; `onFences()` runs on the JS thread when fences retired on another thread.
  #[napi(constructor, catch_unwind)]
  pub fn new(options: CoreOptions, on_fences: Function<'_, (), Unknown<'static>>) -> Result<Self, Code> {
    let opts = Options { cross_domain: options.cross_domain, wayland_socket: options.wayland_socket.map(PathBuf::from) };
    let inner = Renderer::new(opts)?;
    let wake: Wake = on_fences
      .build_threadsafe_function::<()>()
      .weak::<true>()
      .callee_handled::<false>()
      .build()
      .map_err(|e| NativeError::new("ERR_NAPI", e.reason))?;
    let wake = Arc::new(wake);
    let w = Arc::clone(&wake);
    inner.fences().set_waker(Box::new(move || {
      w.call((), ThreadsafeFunctionCallMode::NonBlocking);
    }));
    Ok(RutabagaCore { inner: Some(inner), keeps: HashMap::new(), maps: HashMap::new(), wake: Some(wake) })
  }

  /// Capsets in GET_CAPSET_INFO order.
  #[napi(catch_unwind)]
  pub fn capsets(&mut self) -> Result<Vec<CoreCapset>, Code> {
    let caps = self.r()?.capsets();
    Ok(caps.into_iter().map(|(id, max_version, max_size)| CoreCapset { id, max_version, max_size }).collect())
  }

  /// GET_CAPSET payload.
  #[napi(catch_unwind)]
  pub fn capset(&mut self, id: u32, version: u32) -> Result<Uint8Array, Code> {
    Ok(Uint8Array::new(self.r()?.capset(id, version)?))
  }

  /// RESOURCE_CREATE_2D.
  #[napi(catch_unwind)]
  pub fn create_resource_2d(&mut self, id: u32, format: u32, width: u32, height: u32) -> Result<(), Code> {
    self.r()?.create_2d(id, format, width, height).map_err(Into::into)
  }

  /// RESOURCE_CREATE_BLOB; `backing` (views of guest memory) for guest blobs.
  #[napi(catch_unwind)]
  #[allow(clippy::too_many_arguments)]
  pub fn create_blob(
    &mut self,
    env: &Env,
    id: u32,
    ctx_id: u32,
    blob_mem: u32,
    blob_flags: u32,
    blob_id: BigInt,
    size: f64,
    backing: Option<Unknown<'_>>,
  ) -> Result<(), Code> {
    let size = crate::js_args::safe_u64(size, "blob size")?;
    let (_, blob_id, _) = blob_id.get_u64();
    let resolved = match &backing {
      Some(views) => Some(js_guest_memory::resolve(env, views)?),
      None => None,
    };
    let (iovecs, keeps) = match resolved {
      Some((io, k)) => (Some(io), k),
      None => (None, Vec::new()),
    };
    let args = BlobArgs { ctx_id, blob_mem, blob_flags, blob_id, size };
    match self.r().and_then(|r| r.create_blob(id, args, iovecs)) {
      Ok(()) => {
        self.keeps.insert(id, keeps);
        Ok(())
      }
      Err(e) => {
        js_guest_memory::release(env.raw(), keeps);
        Err(e.into())
      }
    }
  }

  /// Free a resource; its mapping view is detached and its guest memory released afterwards.
  #[napi(catch_unwind)]
  pub fn destroy_resource(&mut self, env: &Env, id: u32) {
    self.revoke(env.raw(), id);
    if let Some(r) = self.inner.as_mut() {
      r.destroy_resource(id);
    }
    self.release(env.raw(), id);
  }

  /// RESOURCE_ATTACH_BACKING with views of guest memory (SharedArrayBuffer or native mapping).
  #[napi(catch_unwind)]
  pub fn attach_backing(&mut self, env: &Env, id: u32, backing: Unknown<'_>) -> Result<(), Code> {
    let (iovecs, keeps) = js_guest_memory::resolve(env, &backing)?;
    match self.r().and_then(|r| r.attach_backing(id, iovecs)) {
      Ok(()) => {
        self.keeps.insert(id, keeps);
        Ok(())
      }
      Err(e) => {
        js_guest_memory::release(env.raw(), keeps);
        Err(e.into())
      }
    }
  }

  /// RESOURCE_DETACH_BACKING; the guest memory is released once rutabaga dropped its pointers.
  #[napi(catch_unwind)]
  pub fn detach_backing(&mut self, env: &Env, id: u32) {
    if let Some(r) = self.inner.as_mut() {
      r.detach_backing(id);
    }
    self.release(env.raw(), id);
  }

  /// TRANSFER_TO_HOST_2D (offset as Linux sends it: the rect's first byte in the backing).
  #[napi(catch_unwind)]
  pub fn transfer_to_host_2d(&mut self, id: u32, x: u32, y: u32, width: u32, height: u32, offset: f64) -> Result<(), Code> {
    let offset = crate::js_args::safe_u64(offset, "offset")?;
    self.r()?.transfer_to_host_2d(id, Rect { x, y, w: width, h: height }, offset).map_err(Into::into)
  }

  /// Read a rect as RGBA8 into `dst` (rows `dstStride` apart); false when it cannot be read.
  #[napi(catch_unwind)]
  #[allow(clippy::too_many_arguments)]
  pub fn readback(
    &mut self,
    id: u32,
    x: u32,
    y: u32,
    width: u32,
    height: u32,
    mut dst: Uint8ArraySlice<'_>,
    dst_stride: u32,
    layout: Option<CoreLayout>,
  ) -> bool {
    let layout = layout.map(|l| BlobLayout { format: l.format, width: l.width, height: l.height, stride: l.stride_bytes, offset: l.offset_bytes });
    let Some(r) = self.inner.as_mut() else { return false };
    // SAFETY: `dst` is written only during this call, on the JS thread.
    let out = unsafe { dst.as_mut() };
    r.readback(id, Rect { x, y, w: width, h: height }, out, dst_stride as usize, layout)
  }

  /// Map a host blob: `{ buffer, mapInfo }`, the buffer being rutabaga's mapping (no copy).
  #[napi(catch_unwind, ts_return_type = "{ buffer: ArrayBuffer; mapInfo: number }")]
  pub fn map_blob<'e>(&mut self, env: &'e Env, id: u32) -> Result<Object<'e>, Code> {
    if self.maps.contains_key(&id) {
      return Err(NativeError::new("ERR_GPU_INVALID_PARAMETER", format!("resource {id} is already mapped")).into());
    }
    let m = self.r()?.map_blob(id)?;
    let mut ab = ptr::null_mut();
    // SAFETY: rutabaga's mapping stays until `unmap_blob`/destroy/reset, each of which detaches
    // this ArrayBuffer first (revoke), so no view outlives the memory.
    let s = unsafe { sys::napi_create_external_arraybuffer(env.raw(), m.ptr.cast(), m.len, None, ptr::null_mut(), &mut ab) };
    let mut weak = ptr::null_mut();
    // SAFETY: a weak reference (count 0) lets revoke find the buffer if it is still alive.
    let s2 = if s == sys::Status::napi_ok { unsafe { sys::napi_create_reference(env.raw(), ab, 0, &mut weak) } } else { s };
    if s2 != sys::Status::napi_ok {
      if let Some(r) = self.inner.as_mut() {
        r.unmap_blob(id);
      }
      return Err(NativeError::new("ERR_GPU_UNSPEC", "cannot expose the blob mapping (external ArrayBuffers unavailable?)").into());
    }
    self.maps.insert(id, weak);
    let mut obj = Object::new(env).map_err(|e| NativeError::new("ERR_NAPI", e.reason))?;
    // SAFETY: `ab` is a live value of this env.
    let buffer = unsafe { Unknown::from_raw_unchecked(env.raw(), ab) };
    obj.set("buffer", buffer).map_err(|e| NativeError::new("ERR_NAPI", e.reason))?;
    obj.set("mapInfo", m.map_info).map_err(|e| NativeError::new("ERR_NAPI", e.reason))?;
    Ok(obj)
  }

  /// Release a host blob's mapping: its ArrayBuffer is detached first, then rutabaga unmaps.
  #[napi(catch_unwind)]
  pub fn unmap_blob(&mut self, env: &Env, id: u32) {
    self.revoke(env.raw(), id);
    if let Some(r) = self.inner.as_mut() {
      r.unmap_blob(id);
    }
  }

  /// CTX_CREATE.
  #[napi(catch_unwind)]
  pub fn create_context(&mut self, ctx_id: u32, capset_id: u32, name: String) -> Result<(), Code> {
    self.r()?.create_context(ctx_id, capset_id, &name).map_err(Into::into)
  }

  /// CTX_DESTROY.
  #[napi(catch_unwind)]
  pub fn destroy_context(&mut self, ctx_id: u32) {
    if let Some(r) = self.inner.as_mut() {
      r.destroy_context(ctx_id);
    }
  }

  /// CTX_ATTACH_RESOURCE.
  #[napi(catch_unwind)]
  pub fn context_attach_resource(&mut self, ctx_id: u32, id: u32) -> Result<(), Code> {
    self.r()?.context_attach(ctx_id, id).map_err(Into::into)
  }

  /// CTX_DETACH_RESOURCE.
  #[napi(catch_unwind)]
  pub fn context_detach_resource(&mut self, ctx_id: u32, id: u32) -> Result<(), Code> {
    self.r()?.context_detach(ctx_id, id).map_err(Into::into)
  }

  /// SUBMIT_3D (the stream is copied before rutabaga parses it).
  #[napi(catch_unwind)]
  pub fn submit(&mut self, ctx_id: u32, commands: &[u8]) -> Result<(), Code> {
    self.r()?.submit(ctx_id, commands).map_err(Into::into)
  }

  /// Start a fence; retirement comes through takeFences.
  #[napi(catch_unwind)]
  pub fn create_fence(&mut self, fence_id: BigInt, ctx_id: u32, ring_idx: u32, ringed: bool) -> Result<(), Code> {
    let (_, fence_id, _) = fence_id.get_u64();
    let ring = u8::try_from(ring_idx).map_err(|_| NativeError::new("ERR_GPU_INVALID_PARAMETER", "ring index > 255"))?;
    self.r()?.create_fence(fence_id, ctx_id, ring, ringed).map_err(Into::into)
  }

  /// Every fence retired so far, in arrival order.
  #[napi(catch_unwind)]
  pub fn take_fences(&mut self) -> Vec<CoreFence> {
    let Some(r) = self.inner.as_ref() else { return Vec::new() };
    r.take_fences()
      .into_iter()
      .map(|f| CoreFence { fence_id: BigInt::from(f.fence_id), ctx_id: f.ctx_id, ring_idx: u32::from(f.ring_idx), ringed: f.ringed })
      .collect()
  }

  /// The whole image of a 2D resource (snapshots).
  #[napi(catch_unwind)]
  pub fn pixels(&mut self, id: u32) -> Result<Uint8Array, Code> {
    Ok(Uint8Array::new(self.r()?.pixels(id)?))
  }

  /// Replace the whole image of a 2D resource (restore).
  #[napi(catch_unwind)]
  pub fn write_pixels(&mut self, id: u32, bytes: &[u8]) -> Result<(), Code> {
    self.r()?.write_pixels(id, bytes).map_err(Into::into)
  }

  /// Device reset: every resource, context, mapping and fence goes.
  #[napi(catch_unwind)]
  pub fn reset(&mut self, env: &Env) -> Result<(), Code> {
    let maps: Vec<u32> = self.maps.keys().copied().collect();
    for id in maps {
      self.revoke(env.raw(), id);
    }
    let result = self.r().and_then(Renderer::reset);
    self.release_all(env.raw());
    result.map_err(Into::into)
  }

  /// Guest-memory keeps held (tests: detach/destroy/reset release them).
  #[napi(catch_unwind)]
  pub fn held_backings(&self) -> u32 {
    self.keeps.values().map(|k| k.len() as u32).sum()
  }

  /// Drop the fence wake-up's hold early (the JS side is shutting the renderer down).
  #[napi(catch_unwind)]
  pub fn close_wake(&mut self) {
    if let Some(r) = &self.inner {
      r.fences().clear_waker();
    }
    self.wake = None;
  }
}
