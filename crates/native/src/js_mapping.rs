//! #[napi] exports: shared mappings of an fd as external ArrayBuffers (Linux only).
//!
//! The binding creates exactly one ArrayBuffer per mapping, at map time. `unmapBuffer` detaches
//! that ArrayBuffer first (every view of it then reads length 0 and reaches nothing) and only then
//! unmaps; the ArrayBuffer's finaliser unmaps as a fallback when JS dropped it without unmapping.

use std::ffi::c_void;
use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use crate::error::{Code, NativeError};
use crate::js_args::safe_u64 as js_u64;
use crate::js_fd::js_fd;
use crate::plumbing::mapping::{self, REGISTRY};



unsafe extern "C" fn finalize_mapping(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
  // The hint carries the mapping id (never a pointer), so a recycled address cannot be confused.
  REGISTRY.finalize(hint as usize as u64);
}

fn status(call: &str, s: sys::napi_status) -> std::result::Result<(), NativeError> {
  if s == sys::Status::napi_ok {
    Ok(())
  } else if s == sys::Status::napi_no_external_buffers_allowed {
    Err(NativeError::new("ENOTSUP", "this runtime forbids external ArrayBuffers; shared mappings cannot be exposed"))
  } else {
    Err(NativeError::new("ERR_NAPI", format!("{call} failed with napi status {s}")))
  }
}

/// Wrap a registered mapping in an external ArrayBuffer whose finaliser releases it.
///
/// # Safety
/// `ptr`/`len` must be the live registry region `id`, not exposed through any other ArrayBuffer.
pub unsafe fn external_buffer(env: &Env, id: u64, ptr: *mut u8, len: usize) -> std::result::Result<Object<'_>, NativeError> {
  let mut ab = ptr::null_mut();
  // SAFETY: the caller guarantees ptr/len is live until the finaliser (or an explicit unmap,
  // which detaches this ArrayBuffer first) releases it.
  let s = unsafe {
    sys::napi_create_external_arraybuffer(env.raw(), ptr.cast(), len, Some(finalize_mapping), id as usize as *mut c_void, &mut ab)
  };
  if let Err(e) = status("napi_create_external_arraybuffer", s) {
    REGISTRY.finalize(id);
    return Err(e);
  }
  let mut obj = Object::new(env).map_err(|e| NativeError::new("ERR_NAPI", e.reason))?;
  obj.set("id", id as f64).map_err(|e| NativeError::new("ERR_NAPI", e.reason))?;
  // SAFETY: `ab` is a valid napi_value created above in this env.
  let value = unsafe { Unknown::from_raw_unchecked(env.raw(), ab) };
  obj.set("buffer", value).map_err(|e| NativeError::new("ERR_NAPI", e.reason))?;
  Ok(obj)
}

/// Map `size` bytes of `fd` from `offset` (shared); returns `{ id, buffer }`.
#[napi(catch_unwind, ts_return_type = "{ id: number; buffer: ArrayBuffer }")]
pub fn map_fd(env: &Env, fd: f64, offset: f64, size: f64, read_only: bool) -> Result<Object<'_>, Code> {
  let fd = js_fd(fd)?;
  let offset = js_u64(offset, "offset")?;
  let size = js_u64(size, "size")?;
  let region = mapping::map_fd(fd, offset, size, read_only)?;
  let (id, ptr, len) = REGISTRY.insert(region);
  // SAFETY: the region was just registered and has no other ArrayBuffer.
  Ok(unsafe { external_buffer(env, id, ptr, len) }?)
}

/// Detach `buffer` (the ArrayBuffer of mapping `id`), then unmap. EBUSY while the renderer holds
/// the memory; nothing is detached then.
#[napi(catch_unwind)]
pub fn unmap_buffer(env: &Env, id: f64, buffer: Unknown<'_>) -> Result<(), Code> {
  let id = js_u64(id, "mapping id")?;
  REGISTRY.check_unmap(id)?;
  let (ptr, len) = REGISTRY.span(id).ok_or_else(|| NativeError::new("ERR_NOT_MAPPED", "not mapped"))?;
  let mut data = ptr::null_mut();
  let mut byte_length = 0usize;
  // SAFETY: napi validates that `buffer` is an ArrayBuffer and fails otherwise.
  let s = unsafe { sys::napi_get_arraybuffer_info(env.raw(), buffer.raw(), &mut data, &mut byte_length) };
  status("napi_get_arraybuffer_info", s)?;
  if data.cast::<u8>() != ptr || byte_length != len {
    return Err(NativeError::invalid(format!("that ArrayBuffer is not mapping {id}")).into());
  }
  // SAFETY: detaching an ArrayBuffer we created; V8 zeroes its length and every view's.
  let s = unsafe { sys::napi_detach_arraybuffer(env.raw(), buffer.raw()) };
  status("napi_detach_arraybuffer", s)?;
  REGISTRY.unmap(id).map_err(Into::into)
}

/// Whether mapping `id` lost its file to a peer that shrank it (an access past the new end was
/// turned into zero-filled memory instead of SIGBUS). ERR_NOT_MAPPED when `id` is not mapped.
#[napi(catch_unwind)]
pub fn mapping_truncated(id: f64) -> Result<bool, Code> {
  let id = js_u64(id, "mapping id")?;
  REGISTRY.truncated(id).ok_or_else(|| NativeError::new("ERR_NOT_MAPPED", format!("mapping {id} is not mapped")).into())
}

/// Number of live mappings in this process (leak checks).
#[napi(catch_unwind)]
pub fn mapping_count() -> u32 {
  REGISTRY.len() as u32
}
