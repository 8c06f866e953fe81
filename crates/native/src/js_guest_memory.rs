//! Guest memory views from JS turned into raw runs rutabaga may keep, plus what keeps that memory
//! alive and in place while it does.
//!
//! Only two kinds of memory qualify, because rutabaga keeps raw pointers (and cross-domain's
//! worker thread writes through them without locks):
//! - a SharedArrayBuffer: it can never be detached, transferred or moved; a strong reference to
//!   the view keeps it alive until the renderer lets go;
//! - an ArrayBuffer over a native mapping of this module (`mapFd`, guest RAM from QEMU): the
//!   mapping is pinned, so `unmap()` is refused (EBUSY) until the renderer lets go.
//!
//! An ordinary ArrayBuffer is refused: JS could detach or transfer it under rutabaga's feet.
//!
//! One keep per distinct buffer, not per run: a reference to one view keeps its whole
//! SharedArrayBuffer, and one pin keeps its whole mapping. A guest's 16384 scattered pages then
//! cost the host a run each in `GuestIovecs` (what the device charges) and a keep or two.

use std::collections::HashSet;

use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;

use crate::error::NativeError;
use crate::renderer::guest_iovecs::GuestIovecs;

#[cfg(target_os = "linux")]
use crate::plumbing::mapping::REGISTRY;

/// One thing that keeps guest memory valid for rutabaga.
pub enum Keep {
  /// A pinned native mapping (registry id).
  #[cfg(target_os = "linux")]
  Pin(u64),
  /// A strong reference to a view of a SharedArrayBuffer.
  Ref(sys::napi_ref),
}

/// Release keeps (JS thread only: deleting references needs the env).
pub(crate) fn release(env: sys::napi_env, keeps: Vec<Keep>) {
  for k in keeps {
    match k {
      #[cfg(target_os = "linux")]
      Keep::Pin(id) => REGISTRY.unpin(id),
      // SAFETY: the reference was created in this env by `resolve` and is deleted exactly once.
      Keep::Ref(r) => unsafe {
        sys::napi_delete_reference(env, r);
      },
    }
  }
}

fn napi_ok(s: sys::napi_status, what: &str) -> std::result::Result<(), NativeError> {
  if s == sys::Status::napi_ok {
    Ok(())
  } else {
    Err(NativeError::new("ERR_INVALID_ARG", format!("{what} (napi status {s})")))
  }
}

#[cfg(target_os = "linux")]
fn pin_mapping(data: *mut u8, len: usize) -> Option<Keep> {
  REGISTRY.pin(data, len).map(|p| Keep::Pin(p.id))
}

#[cfg(not(target_os = "linux"))]
fn pin_mapping(_data: *mut u8, _len: usize) -> Option<Keep> {
  None
}

/// What the keeps of one backing already hold: SharedArrayBuffers by their first byte, mappings
/// by registry id.
#[derive(Default)]
struct Held {
  shared: HashSet<usize>,
  pinned: HashSet<u64>,
}

fn one(env: sys::napi_env, value: sys::napi_value, keeps: &mut Vec<Keep>, held: &mut Held) -> std::result::Result<(*mut u8, usize), NativeError> {
  let mut kind = 0;
  let mut len = 0usize;
  let mut data = ptr::null_mut();
  let mut buffer = ptr::null_mut();
  let mut offset = 0usize;
  // SAFETY: napi validates `value` and fails for anything that is not a typed array.
  let s = unsafe { sys::napi_get_typedarray_info(env, value, &mut kind, &mut len, &mut data, &mut buffer, &mut offset) };
  napi_ok(s, "guest memory views must be Uint8Arrays")?;
  if kind != sys::TypedarrayType::uint8_array {
    return Err(NativeError::invalid("guest memory views must be Uint8Arrays"));
  }
  if len == 0 {
    return Ok((ptr::null_mut(), 0));
  }
  let mut is_ab = false;
  // SAFETY: `buffer` came from napi_get_typedarray_info above.
  napi_ok(unsafe { sys::napi_is_arraybuffer(env, buffer, &mut is_ab) }, "napi_is_arraybuffer")?;
  if is_ab {
    let keep = pin_mapping(data.cast(), len).ok_or_else(|| {
      NativeError::new(
        "ERR_GUEST_MEMORY",
        "guest memory must be a SharedArrayBuffer or memory mapped by @virtio-gpu/native (mapFd); \
         rutabaga keeps raw pointers and an ordinary ArrayBuffer can be detached or transferred",
      )
    })?;
    match keep {
      #[cfg(target_os = "linux")]
      Keep::Pin(id) if !held.pinned.insert(id) => REGISTRY.unpin(id), // already pinned once
      k => keeps.push(k),
    }
  } else {
    // A typed array's buffer is an ArrayBuffer or a SharedArrayBuffer: this is shared memory.
    // Its first byte names it (a SharedArrayBuffer never moves).
    if !held.shared.insert((data as usize).wrapping_sub(offset)) {
      return Ok((data.cast(), len));
    }
    let mut r = ptr::null_mut();
    // SAFETY: `value` is a live typed array; a strong reference keeps it (and its buffer) alive.
    napi_ok(unsafe { sys::napi_create_reference(env, value, 1, &mut r) }, "napi_create_reference")?;
    keeps.push(Keep::Ref(r));
  }
  Ok((data.cast(), len))
}

/// Turn a JS array of Uint8Array views into runs plus their keeps. On failure nothing is kept.
pub fn resolve(env: &Env, views: &Unknown<'_>) -> std::result::Result<(GuestIovecs, Vec<Keep>), NativeError> {
  let (env, arr) = (env.raw(), views.raw());
  let mut is_array = false;
  // SAFETY: plain napi queries on a live value.
  napi_ok(unsafe { sys::napi_is_array(env, arr, &mut is_array) }, "napi_is_array")?;
  if !is_array {
    return Err(NativeError::invalid("backing must be an array of Uint8Array views"));
  }
  let mut n = 0u32;
  // SAFETY: `arr` is an array (checked above).
  napi_ok(unsafe { sys::napi_get_array_length(env, arr, &mut n) }, "napi_get_array_length")?;
  let mut keeps = Vec::new();
  let mut held = Held::default();
  let mut runs = Vec::with_capacity(n as usize);
  for i in 0..n {
    let mut v = ptr::null_mut();
    // SAFETY: index < length of a live array.
    let got = napi_ok(unsafe { sys::napi_get_element(env, arr, i, &mut v) }, "napi_get_element").and_then(|_| one(env, v, &mut keeps, &mut held));
    match got {
      Ok(run) => runs.push(run),
      Err(e) => {
        release(env, keeps);
        return Err(e);
      }
    }
  }
  match GuestIovecs::new(runs) {
    Some(io) => Ok((io, keeps)),
    None => {
      release(env, keeps);
      Err(NativeError::invalid("backing size overflows"))
    }
  }
}
