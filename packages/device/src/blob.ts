/**
 * The host-visible memory region (virtio shared memory region VIRTIO_GPU_SHM_ID_HOST_VISIBLE)
 * into which RESOURCE_MAP_BLOB places blobs. The transport or embedder provides it: vhost-user
 * maps fds into the VMM's BAR, a browser embedder might expose views.
 *
 * Ordering rule (a use-after-free QEMU's reviewers found): the renderer's mapping is released only
 * after the region confirmed `unmap`, because until then the guest may still reach the memory
 * through the region. The device therefore answers UNMAP_BLOB, frees an UNREF'd mapped blob and
 * finishes a reset's cleanup only after confirmation, and it pauses the control queue meanwhile.
 */
import type { BlobMapping } from './renderer.js';

/** The shared memory region blobs are mapped into. */
export interface HostVisibleRegion {
  /** Region size in bytes. */
  readonly size: bigint;
  /**
   * Make `mapping` visible at `offset` (the device checked offset + size <= region size and that
   * no other mapping overlaps). Return false when it cannot be done; nothing is then mapped.
   */
  map(offset: bigint, mapping: BlobMapping, resourceId: number): boolean;
  /**
   * Remove the mapping at `offset`. Return nothing when it is gone on return, or a promise that
   * resolves once the guest can no longer reach the memory.
   */
  unmap(offset: bigint): void | PromiseLike<void>;
}
