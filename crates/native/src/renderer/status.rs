//! Renderer errors as the guest sees them: every failure carries the VIRTIO_GPU_RESP_ERR_* it
//! should be answered with, spelled as a stable code (`ERR_GPU_INVALID_PARAMETER`, ...) that the
//! JS renderer maps back to the number.

use rutabaga_gfx::RutabagaError;

use crate::error::NativeError;

/// VIRTIO_GPU_RESP_ERR_UNSPEC
pub const UNSPEC: &str = "ERR_GPU_UNSPEC";
/// VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY
pub const OUT_OF_MEMORY: &str = "ERR_GPU_OUT_OF_MEMORY";
/// VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID
pub const INVALID_RESOURCE_ID: &str = "ERR_GPU_INVALID_RESOURCE_ID";
/// VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID
pub const INVALID_CONTEXT_ID: &str = "ERR_GPU_INVALID_CONTEXT_ID";
/// VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER
pub const INVALID_PARAMETER: &str = "ERR_GPU_INVALID_PARAMETER";

/// A guest-visible failure with a reason.
pub fn gpu(code: &'static str, why: impl Into<String>) -> NativeError {
  NativeError::new(code, why)
}

/// Map a rutabaga error to the response the guest gets (what QEMU's and crosvm's devices answer).
pub fn from_rutabaga(what: &str, e: RutabagaError) -> NativeError {
  let code = match &e {
    RutabagaError::InvalidResourceId => INVALID_RESOURCE_ID,
    RutabagaError::InvalidContextId => INVALID_CONTEXT_ID,
    RutabagaError::InvalidCapset
    | RutabagaError::InvalidIovec
    | RutabagaError::InvalidCommandBuffer
    | RutabagaError::InvalidCommandSize(_)
    | RutabagaError::CheckedArithmetic { .. }
    | RutabagaError::CheckedRange { .. }
    | RutabagaError::Invalid2DInfo
    | RutabagaError::InvalidCrossDomainChannel
    | RutabagaError::InvalidCrossDomainInternalSocketUuid
    | RutabagaError::InvalidCrossDomainItemId
    | RutabagaError::InvalidCrossDomainItemType
    | RutabagaError::InvalidCrossDomainState
    | RutabagaError::InvalidCrossDomainWriteLength
    | RutabagaError::InvalidGrallocDimensions
    | RutabagaError::InvalidGrallocDrmFormat
    | RutabagaError::InvalidGrallocNumberOfPlanes => INVALID_PARAMETER,
    _ => UNSPEC,
  };
  NativeError::new(code, format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn rutabaga_errors_map_to_guest_codes() {
    assert_eq!(from_rutabaga("x", RutabagaError::InvalidResourceId).code.0, INVALID_RESOURCE_ID);
    assert_eq!(from_rutabaga("x", RutabagaError::InvalidContextId).code.0, INVALID_CONTEXT_ID);
    assert_eq!(from_rutabaga("x", RutabagaError::InvalidCommandSize(3)).code.0, INVALID_PARAMETER);
    assert_eq!(from_rutabaga("x", RutabagaError::InvalidComponent).code.0, UNSPEC);
  }
}
