//! napi-rs link setup (with the `napi` feature), plus the target triple for `nativeSupport()`.
fn main() {
  #[cfg(feature = "napi")]
  napi_build::setup();
  let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
  println!("cargo:rustc-env=VIRTIO_GPU_NATIVE_TARGET={target}");
}
