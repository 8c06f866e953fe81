/**
 * Device feature bits (virtio-gpu §5.7.3). The device offers what its renderer can back and keeps
 * the negotiated set; handlers check it where the spec gates a command on a feature. Transport
 * bits (VIRTIO_F_VERSION_1, ring features) are the transport's to add.
 */
import {
  VIRTIO_GPU_F_CONTEXT_INIT,
  VIRTIO_GPU_F_EDID,
  VIRTIO_GPU_F_RESOURCE_BLOB,
  VIRTIO_GPU_F_RESOURCE_UUID,
  VIRTIO_GPU_F_VIRGL,
} from '@virtio-gpu/protocol';
import type { RendererCapabilities } from './renderer.js';

/** `1n << bit` for a feature bit number. */
export function featureBit(bit: number): bigint {
  return 1n << BigInt(bit);
}

/**
 * The device-specific features to offer for a renderer: EDID, RESOURCE_UUID and RESOURCE_BLOB
 * (guest blobs work with any renderer) always; VIRGL with 3D; CONTEXT_INIT when the renderer
 * creates contexts per capset.
 */
export function offeredFeatures(caps: RendererCapabilities): bigint {
  let f = featureBit(VIRTIO_GPU_F_EDID) | featureBit(VIRTIO_GPU_F_RESOURCE_UUID) | featureBit(VIRTIO_GPU_F_RESOURCE_BLOB);
  if (caps.threeD) f |= featureBit(VIRTIO_GPU_F_VIRGL);
  if (caps.contextInit) f |= featureBit(VIRTIO_GPU_F_CONTEXT_INIT);
  return f;
}

/** Whether feature `bit` is in `features`. */
export function hasFeature(features: bigint, bit: number): boolean {
  return (features & featureBit(bit)) !== 0n;
}
