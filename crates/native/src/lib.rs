//! virtio-gpu's native core: rutabaga_gfx as a renderer, plus the fd and memory plumbing
//! transports need (mmap, SCM_RIGHTS, eventfd, epoll readiness). `js_*` modules hold only the
//! #[napi] exports; everything they call lives in plain Rust modules that `cargo test` covers.
//! The exports sit behind the default `napi` feature, so the plain modules build without Node
//! (the `cargo fuzz` targets in fuzz/ use them that way).
#![deny(clippy::undocumented_unsafe_blocks)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod error;

#[cfg(target_os = "linux")]
pub mod plumbing;

pub mod renderer;

#[cfg(feature = "napi")]
pub mod js_args;
#[cfg(feature = "napi")]
pub mod js_guest_memory;
#[cfg(feature = "napi")]
pub mod js_renderer;
#[cfg(feature = "napi")]
pub mod js_renderer_hot;
#[cfg(feature = "napi")]
pub mod js_support;
#[cfg(all(feature = "napi", target_os = "linux"))]
pub mod js_fd;
#[cfg(all(feature = "napi", target_os = "linux"))]
pub mod js_mapping;
#[cfg(all(feature = "napi", target_os = "linux"))]
pub mod js_poller;
