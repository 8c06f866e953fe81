/**
 * The Renderer seam: everything that touches pixels or GPU state. The device owns policy (ids,
 * validation, limits, scanouts, fences' bookkeeping, responses); a renderer owns host images and
 * GPU work. `Renderer2D` is the pure-TypeScript default; a native rutabaga renderer implements the
 * same interface (type-only import of this package) with asynchronous fences, host blobs, capsets
 * and contexts.
 *
 * Contract for implementers:
 * - Never throw for anything the guest controls; return a {@link Result} failure with the error
 *   code the guest should see. (A throw is treated as a host bug: logged, answered ERR_UNSPEC.)
 * - The device validates ids, existence and rectangles against its own records before calling;
 *   renderers should still check bounds on anything they index with.
 * - Fences: `createFence` may retire at once (call the handler synchronously) or later; a later
 *   retirement must be delivered on the embedder's event loop (not from another thread). Retiring
 *   fence N on a timeline retires every earlier fence of that timeline.
 * - Arguments (rects, boxes, the SUBMIT_3D stream) are valid only during the call: the device
 *   decodes every command into reused objects, and byte views alias guest memory. Copy what you
 *   keep past the call.
 * - `unmapBlob` is only called after the host-visible region confirmed the unmap, so the renderer
 *   may free the memory behind the mapping at once.
 */
import type { Box, Rect } from '@virtio-gpu/protocol';
import type { Backing } from './backing.js';
import type { Result } from './result.js';

/** One capability set the renderer can describe (GET_CAPSET_INFO). */
export interface CapsetInfo {
  /** VIRTIO_GPU_CAPSET_* id. */
  readonly id: number;
  /** Highest version GET_CAPSET may ask for. */
  readonly maxVersion: number;
  /** Largest capset payload in bytes. */
  readonly maxSize: number;
}

/** What a renderer can do; the device derives its offered features and num_capsets from this. */
export interface RendererCapabilities {
  /** Capsets, in GET_CAPSET_INFO index order; num_capsets is exactly their count. */
  readonly capsets: readonly CapsetInfo[];
  /** 3D: contexts, RESOURCE_CREATE_3D, TRANSFER_*_3D, SUBMIT_3D (offers VIRTIO_GPU_F_VIRGL). */
  readonly threeD: boolean;
  /** BLOB_MEM_HOST3D and BLOB_MEM_HOST3D_GUEST blobs. */
  readonly hostBlobs: boolean;
  /** Contexts created with a capset id in context_init (offers VIRTIO_GPU_F_CONTEXT_INIT). */
  readonly contextInit: boolean;
  /**
   * Host bytes the renderer itself keeps per backing run (adjacent guest pages merged) while a
   * backing is attached: the device charges them on top of its own {@link Backing.hostBytes},
   * so a guest cannot grow the renderer's bookkeeping past the quota. 0 when absent (a renderer
   * that keeps nothing per run, like the TypeScript 2D renderer, which reads the Backing).
   */
  readonly hostBytesPerBackingRun?: number;
}

/** A fence timeline: the global one (`ringed` false) or ring `ringIdx` of context `ctxId`. */
export interface FenceTimeline {
  readonly ctxId: number;
  readonly ringIdx: number;
  /** true: VIRTIO_GPU_FLAG_INFO_RING_IDX was set, the fence belongs to (ctxId, ringIdx). */
  readonly ringed: boolean;
}

/** A fence on a timeline. */
export interface Fence extends FenceTimeline {
  readonly fenceId: bigint;
}

/** Called by a renderer when a fence (and so every earlier one on its timeline) retired. */
export type FenceHandler = (fence: Fence) => void;

/** RESOURCE_CREATE_2D arguments (validated by the device: known format, sizes within limits). */
export interface Resource2dArgs {
  readonly format: number;
  readonly width: number;
  readonly height: number;
}

/** RESOURCE_CREATE_3D arguments, as the guest sent them (gallium target/format/bind). */
export interface Resource3dArgs {
  readonly target: number;
  readonly format: number;
  readonly bind: number;
  readonly width: number;
  readonly height: number;
  readonly depth: number;
  readonly arraySize: number;
  readonly lastLevel: number;
  readonly nrSamples: number;
  readonly flags: number;
}

/** RESOURCE_CREATE_BLOB arguments. */
export interface BlobArgs {
  /** hdr.ctx_id (0 for guest blobs of 2D drivers). */
  readonly ctxId: number;
  /** VIRTIO_GPU_BLOB_MEM_*. */
  readonly blobMem: number;
  /** VIRTIO_GPU_BLOB_FLAG_* bits. */
  readonly blobFlags: number;
  readonly blobId: bigint;
  /** Blob size in bytes (validated <= 2^53 and against the quota). */
  readonly size: number;
  /** Guest pages for BLOB_MEM_GUEST / HOST3D_GUEST, already resolved; null for HOST3D. */
  readonly backing: Backing | null;
}

/** TRANSFER_TO_HOST_3D / TRANSFER_FROM_HOST_3D arguments. */
export interface Transfer3d {
  readonly ctxId: number;
  readonly box: Box;
  /** Byte offset into the backing (validated <= 2^53). */
  readonly offset: number;
  readonly level: number;
  readonly stride: number;
  readonly layerStride: number;
}

/** How a blob is laid out when shown on a scanout (SET_SCANOUT_BLOB, plane 0). */
export interface ScanoutLayout {
  /** VIRTIO_GPU_FORMAT_* (one of the eight 2D formats). */
  readonly format: number;
  readonly width: number;
  readonly height: number;
  readonly strideBytes: number;
  readonly offsetBytes: number;
}

/** A renderer's mapping of a blob, handed to the host-visible region to expose to the guest. */
export interface BlobMapping {
  /** Bytes mapped (the blob size). */
  readonly size: number;
  /** VIRTIO_GPU_MAP_CACHE_* for RESP_OK_MAP_INFO. */
  readonly mapInfo: number;
  /** The blob's bytes as host views, when the renderer has them in JS memory. */
  readonly iovecs?: readonly Uint8Array[];
  /** Opaque renderer handle (for example a native fd or pointer) for the transport. */
  readonly handle?: unknown;
}

/** The renderer seam. See the module comment for the contract. */
export interface Renderer {
  /** What this renderer supports; must not change after the device is built. */
  readonly capabilities: RendererCapabilities;

  /** Install the device's fence handler (called once, by the device constructor). */
  setFenceHandler(handler: FenceHandler): void;

  /** Create a 2D image resource. */
  createResource2d(resourceId: number, args: Resource2dArgs): Result;
  /** Create a 3D resource (renderers without 3D return ERR_UNSPEC). */
  createResource3d(resourceId: number, args: Resource3dArgs): Result;
  /** Create a blob resource. */
  createBlob(resourceId: number, args: BlobArgs): Result;
  /** Free a resource and everything of it (its mapping has been released before). */
  destroyResource(resourceId: number): void;

  /** Give a resource its guest backing (resolved host views). */
  attachBacking(resourceId: number, backing: Backing): Result;
  /** Take the backing away; later transfers fail until a new attach. */
  detachBacking(resourceId: number): void;

  /** TRANSFER_TO_HOST_2D: copy `r` from the backing at `offset` (rows `stride` apart) into the image. */
  transferToHost2d(resourceId: number, r: Rect, offset: number): Result;
  /** TRANSFER_TO_HOST_3D. */
  transferToHost3d(resourceId: number, t: Transfer3d): Result;
  /** TRANSFER_FROM_HOST_3D. */
  transferFromHost3d(resourceId: number, t: Transfer3d): Result;

  /**
   * Read `r` (resource coordinates, or blob coordinates under `layout`) into `dst`, rows
   * `dstStrideBytes` apart: RGBA8, or the VIRTIO_GPU_FORMAT_* `dstFormat` when given (X channels
   * written as 255). With `opaque`, every pixel's alpha (or X) byte is written as 255 in the same
   * pass, whatever the resource holds: what a display shows, without a second pass over it.
   * False when the resource cannot be read (the caller checked bounds) or the renderer cannot
   * produce `dstFormat`.
   */
  readback(
    resourceId: number,
    r: Rect,
    dst: Uint8Array,
    dstStrideBytes: number,
    layout?: ScanoutLayout,
    dstFormat?: number,
    opaque?: boolean,
  ): boolean;

  /** Map a blob for the host-visible region. */
  mapBlob(resourceId: number): Result<BlobMapping>;
  /** Release the blob's mapping; only called once the region no longer references it. */
  unmapBlob(resourceId: number): void;

  /** Create a context for a capset (0: the renderer's default). */
  createContext(ctxId: number, capsetId: number, debugName: string): Result;
  /** Destroy a context. */
  destroyContext(ctxId: number): void;
  /** Make a resource usable from a context. */
  contextAttachResource(ctxId: number, resourceId: number): Result;
  /** Undo {@link Renderer.contextAttachResource}. */
  contextDetachResource(ctxId: number, resourceId: number): Result;
  /** SUBMIT_3D: run a command stream in a context (`ringIdx` when the command named one). */
  submit(ctxId: number, commands: Uint8Array, ringIdx: number | null): Result;

  /** Start a fence; report its retirement through the fence handler (now or later). */
  createFence(fence: Fence): Result;

  /** GET_CAPSET payload for (id, version); the device checked both against `capabilities`. */
  getCapset(capsetId: number, version: number): Result<Uint8Array>;

  /**
   * Renderer state as structured-clone-able data (pixels included). Backings are not part of
   * it: the device re-resolves them and calls attachBacking/createBlob after `restore`.
   */
  snapshot(): unknown;
  /** Replace all state with a snapshot taken by the same renderer type. */
  restore(state: unknown): Result;
  /** Drop every resource, context and pending fence (device reset). */
  reset(): void;
}

/** A 2D image in a renderer's snapshot: the guest's bytes as stored, rows `width * 4` apart, copied. */
export interface Image2dSnapshot {
  readonly id: number;
  readonly kind: '2d';
  readonly format: number;
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8Array;
}

/**
 * The shape renderers' snapshots share: which renderer took it (`kind`, checked by `restore`)
 * and its resources, 2D images with their pixels or the renderer's `Other` kinds (blobs, whose
 * backing the device re-attaches).
 */
export interface RendererSnapshot<Kind extends string, Other> {
  readonly kind: Kind;
  readonly resources: ReadonlyArray<Image2dSnapshot | Other>;
}
