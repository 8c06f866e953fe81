//! #[napi] exports: what this build supports, and the no-op calls the crossing benchmarks time.

use napi_derive::napi;

/// What this build of the native module can do on this platform.
#[napi(object)]
pub struct NativeSupport {
  /// Target triple the module was built for.
  pub target: String,
  /// UNIX sockets with SCM_RIGHTS, eventfd, memfd, mmap of fds, epoll readiness (Linux only).
  pub fd_plumbing: bool,
  /// rutabaga_gfx's 2D component (every platform).
  pub rutabaga_2d: bool,
  /// rutabaga_gfx's cross-domain component with working shared memory and sockets (Linux only).
  pub cross_domain: bool,
  /// Optional rutabaga components compiled in (cargo features).
  pub features: Vec<String>,
}

/// Report what this build supports; the JS loader turns the gaps into clear messages.
#[napi(catch_unwind)]
pub fn native_support() -> NativeSupport {
  let mut features = Vec::new();
  if cfg!(feature = "virgl_renderer") {
    features.push("virgl_renderer".to_string());
  }
  if cfg!(feature = "gfxstream") {
    features.push("gfxstream".to_string());
  }
  if cfg!(feature = "gbm") {
    features.push("gbm".to_string());
  }
  NativeSupport {
    target: env!("VIRTIO_GPU_NATIVE_TARGET").to_string(),
    fd_plumbing: cfg!(target_os = "linux"),
    rutabaga_2d: true,
    cross_domain: cfg!(target_os = "linux"),
    features,
  }
}

/// Does nothing: measures the cost of one call across the napi boundary.
#[napi]
pub fn noop() {}

/// Takes the seven numbers a 2D transfer takes and does nothing: the crossing cost of
/// `rutabagaTransferToHost2D` without the transfer.
#[napi]
#[allow(clippy::too_many_arguments)]
pub fn noop_transfer_args(handle: u32, id: u32, x: u32, y: u32, width: u32, height: u32, offset: f64) -> u32 {
  handle ^ id ^ x ^ y ^ width ^ height ^ (offset as u32)
}

/// Sum of a byte view's first and last bytes: one call carrying a Uint8Array argument.
#[napi]
pub fn touch_bytes(bytes: &[u8]) -> u32 {
  match (bytes.first(), bytes.last()) {
    (Some(a), Some(b)) => u32::from(*a) + u32::from(*b),
    _ => 0,
  }
}
