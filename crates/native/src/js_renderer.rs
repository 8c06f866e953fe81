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
use crate::js_renderer_hot as hot;
use crate::renderer::{BlobArgs, Options, Renderer};

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

/// rutabaga through napi; see the module comment. The state lives in a per-thread table (see
/// js_renderer_hot.rs) so the hot calls can be plain functions taking `handle`.
#[napi(custom_finalize)]
pub struct RutabagaCore {
  handle: u32,
}

/// One core's state.
pub struct CoreState {
  inner: Option<Renderer>,
  keeps: HashMap<u32, Vec<Keep>>,
  maps: HashMap<u32, sys::napi_ref>,
}

fn gone() -> NativeError {
  NativeError::new("ERR_GPU_UNSPEC", "renderer was finalised")
}

impl CoreState {
  /// The renderer, unless finalised.
  pub fn r(&mut self) -> std::result::Result<&mut Renderer, NativeError> {
    self.inner.as_mut().ok_or_else(gone)
  }

  /// Detach the ArrayBuffer exposing resource `id`'s mapping, if any (before rutabaga unmaps).
  pub(crate) fn revoke(&mut self, env: sys::napi_env, id: u32) {
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

  /// After rutabaga took (`Ok`) or refused a backing: keep its memory alive, or let it go.
  fn adopt(&mut self, env: sys::napi_env, id: u32, keeps: Vec<Keep>, taken: std::result::Result<(), NativeError>) -> std::result::Result<(), NativeError> {
    match taken {
      Ok(()) => {
        self.keeps.entry(id).or_default().extend(keeps);
        Ok(())
      }
      Err(e) => {
        js_guest_memory::release(env, keeps);
        Err(e)
      }
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
  fn finalize(self, env: Env) -> napi::Result<()> {
    if let Some(state) = hot::remove(self.handle) {
      state.finalize(env);
    }
    Ok(())
  }
}

impl CoreState {
  fn finalize(mut self, env: Env) {
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
    let w = Arc::new(wake);
    inner.fences().set_waker(Box::new(move || {
      w.call((), ThreadsafeFunctionCallMode::NonBlocking);
    }));
    // The waker owns the threadsafe function; clearing it (finalisation) releases it.
    let state = CoreState { inner: Some(inner), keeps: HashMap::new(), maps: HashMap::new() };
    Ok(RutabagaCore { handle: hot::insert(state) })
  }

  /// The handle the hot-path functions (`rutabagaTransferToHost2D`, ...) take.
  #[napi(getter)]
  pub fn handle(&self) -> u32 {
    self.handle
  }

  /// Host bytes kept per backing run (`RendererCapabilities.hostBytesPerBackingRun`).
  #[napi(catch_unwind)]
  pub fn host_bytes_per_backing_run(&self) -> Result<u32, Code> {
    Ok(hot::with(self.handle, |s| Ok(s.r()?.host_bytes_per_backing_run()))? as u32)
  }

  /// Capsets in GET_CAPSET_INFO order.
  #[napi(catch_unwind)]
  pub fn capsets(&self) -> Result<Vec<CoreCapset>, Code> {
    let caps = hot::with(self.handle, |s| Ok(s.r()?.capsets()))?;
    Ok(caps.into_iter().map(|(id, max_version, max_size)| CoreCapset { id, max_version, max_size }).collect())
  }

  /// GET_CAPSET payload.
  #[napi(catch_unwind)]
  pub fn capset(&self, id: u32, version: u32) -> Result<Uint8Array, Code> {
    Ok(Uint8Array::new(hot::with(self.handle, |s| s.r()?.capset(id, version))?))
  }

  /// RESOURCE_CREATE_2D.
  #[napi(catch_unwind)]
  pub fn create_resource_2d(&self, id: u32, format: u32, width: u32, height: u32) -> Result<(), Code> {
    hot::with(self.handle, |s| s.r()?.create_2d(id, format, width, height)).map_err(Into::into)
  }

  /// RESOURCE_CREATE_BLOB; `backing` (views of guest memory) for guest blobs.
  #[napi(catch_unwind)]
  #[allow(clippy::too_many_arguments)]
  pub fn create_blob(
    &self,
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
    let (iovecs, keeps) = match &backing {
      Some(views) => {
        let (io, k) = js_guest_memory::resolve(env, views)?;
        (Some(io), k)
      }
      None => (None, Vec::new()),
    };
    let args = BlobArgs { ctx_id, blob_mem, blob_flags, blob_id, size };
    let raw = env.raw();
    hot::with(self.handle, move |s| {
      let made = s.r().and_then(|r| r.create_blob(id, args, iovecs));
      s.adopt(raw, id, keeps, made)
    })
    .map_err(Into::into)
  }

  /// Free a resource; its mapping view is detached and its guest memory released afterwards.
  #[napi(catch_unwind)]
  pub fn destroy_resource(&self, env: &Env, id: u32) {
    let _ = hot::with(self.handle, |s| {
      s.revoke(env.raw(), id);
      if let Some(r) = s.inner.as_mut() {
        r.destroy_resource(id);
      }
      s.release(env.raw(), id);
      Ok(())
    });
  }

  /// RESOURCE_ATTACH_BACKING with views of guest memory (SharedArrayBuffer or native mapping).
  #[napi(catch_unwind)]
  pub fn attach_backing(&self, env: &Env, id: u32, backing: Unknown<'_>) -> Result<(), Code> {
    let (iovecs, keeps) = js_guest_memory::resolve(env, &backing)?;
    let raw = env.raw();
    hot::with(self.handle, move |s| {
      let attached = s.r().and_then(|r| r.attach_backing(id, iovecs));
      s.adopt(raw, id, keeps, attached)
    })
    .map_err(Into::into)
  }

  /// RESOURCE_DETACH_BACKING; the guest memory is released once rutabaga dropped its pointers.
  #[napi(catch_unwind)]
  pub fn detach_backing(&self, env: &Env, id: u32) {
    let _ = hot::with(self.handle, |s| {
      if let Some(r) = s.inner.as_mut() {
        r.detach_backing(id);
      }
      s.release(env.raw(), id);
      Ok(())
    });
  }

  /// Map a host blob: `{ buffer, mapInfo }`, the buffer being rutabaga's mapping (no copy).
  #[napi(catch_unwind, ts_return_type = "{ buffer: ArrayBuffer; mapInfo: number }")]
  pub fn map_blob<'e>(&self, env: &'e Env, id: u32) -> Result<Object<'e>, Code> {
    let (ab, map_info) = hot::with(self.handle, |s| s.map_blob(env, id))?;
    let mut obj = Object::new(env).map_err(|e| NativeError::new("ERR_NAPI", e.reason))?;
    // SAFETY: `ab` is a live value of this env, created by map_blob just now.
    let buffer = unsafe { Unknown::from_raw_unchecked(env.raw(), ab) };
    obj.set("buffer", buffer).map_err(|e| NativeError::new("ERR_NAPI", e.reason))?;
    obj.set("mapInfo", map_info).map_err(|e| NativeError::new("ERR_NAPI", e.reason))?;
    Ok(obj)
  }

  /// Release a host blob's mapping: its ArrayBuffer is detached first, then rutabaga unmaps.
  #[napi(catch_unwind)]
  pub fn unmap_blob(&self, env: &Env, id: u32) {
    let _ = hot::with(self.handle, |s| {
      s.revoke(env.raw(), id);
      if let Some(r) = s.inner.as_mut() {
        r.unmap_blob(id);
      }
      Ok(())
    });
  }

  /// CTX_CREATE.
  #[napi(catch_unwind)]
  pub fn create_context(&self, ctx_id: u32, capset_id: u32, name: String) -> Result<(), Code> {
    hot::with(self.handle, |s| s.r()?.create_context(ctx_id, capset_id, &name)).map_err(Into::into)
  }

  /// CTX_DESTROY.
  #[napi(catch_unwind)]
  pub fn destroy_context(&self, ctx_id: u32) {
    let _ = hot::with(self.handle, |s| {
      s.r()?.destroy_context(ctx_id);
      Ok(())
    });
  }

  /// CTX_ATTACH_RESOURCE.
  #[napi(catch_unwind)]
  pub fn context_attach_resource(&self, ctx_id: u32, id: u32) -> Result<(), Code> {
    hot::with(self.handle, |s| s.r()?.context_attach(ctx_id, id)).map_err(Into::into)
  }

  /// CTX_DETACH_RESOURCE.
  #[napi(catch_unwind)]
  pub fn context_detach_resource(&self, ctx_id: u32, id: u32) -> Result<(), Code> {
    hot::with(self.handle, |s| s.r()?.context_detach(ctx_id, id)).map_err(Into::into)
  }

  /// SUBMIT_3D (the stream is copied before rutabaga parses it).
  #[napi(catch_unwind)]
  pub fn submit(&self, ctx_id: u32, commands: &[u8]) -> Result<(), Code> {
    hot::with(self.handle, |s| s.r()?.submit(ctx_id, commands)).map_err(Into::into)
  }

  /// The whole image of a 2D resource (snapshots).
  #[napi(catch_unwind)]
  pub fn pixels(&self, id: u32) -> Result<Uint8Array, Code> {
    Ok(Uint8Array::new(hot::with(self.handle, |s| s.r()?.pixels(id))?))
  }

  /// Replace the whole image of a 2D resource (restore).
  #[napi(catch_unwind)]
  pub fn write_pixels(&self, id: u32, bytes: &[u8]) -> Result<(), Code> {
    hot::with(self.handle, |s| s.r()?.write_pixels(id, bytes)).map_err(Into::into)
  }

  /// Device reset: every resource, context, mapping and fence goes.
  #[napi(catch_unwind)]
  pub fn reset(&self, env: &Env) -> Result<(), Code> {
    hot::with(self.handle, |s| {
      let maps: Vec<u32> = s.maps.keys().copied().collect();
      for id in maps {
        s.revoke(env.raw(), id);
      }
      let result = s.r().and_then(Renderer::reset);
      s.release_all(env.raw());
      result
    })
    .map_err(Into::into)
  }

  /// Guest-memory keeps held (tests: detach/destroy/reset release them).
  #[napi(catch_unwind)]
  pub fn held_backings(&self) -> u32 {
    hot::with(self.handle, |s| Ok(s.keeps.values().map(|k| k.len() as u32).sum())).unwrap_or(0)
  }
}

impl CoreState {
  /// Expose a host blob's mapping as an external ArrayBuffer, tracked (weakly) for revoke.
  fn map_blob(&mut self, env: &Env, id: u32) -> std::result::Result<(sys::napi_value, u32), NativeError> {
    if self.maps.contains_key(&id) {
      return Err(NativeError::new("ERR_GPU_INVALID_PARAMETER", format!("resource {id} is already mapped")));
    }
    let m = self.r()?.map_blob(id)?;
    let mut ab = ptr::null_mut();
    // SAFETY: rutabaga's mapping stays until unmap_blob/destroy/reset, each of which detaches
    // this ArrayBuffer first (revoke), so no view outlives the memory.
    let s = unsafe { sys::napi_create_external_arraybuffer(env.raw(), m.ptr.cast(), m.len, None, ptr::null_mut(), &mut ab) };
    let mut weak = ptr::null_mut();
    // SAFETY: a weak reference (count 0) lets revoke find the buffer if it is still alive.
    let s2 = if s == sys::Status::napi_ok { unsafe { sys::napi_create_reference(env.raw(), ab, 0, &mut weak) } } else { s };
    if s2 != sys::Status::napi_ok {
      if let Some(r) = self.inner.as_mut() {
        r.unmap_blob(id);
      }
      return Err(NativeError::new("ERR_GPU_UNSPEC", "cannot expose the blob mapping (external ArrayBuffers unavailable?)"));
    }
    self.maps.insert(id, weak);
    Ok((ab, m.map_info))
  }
}
