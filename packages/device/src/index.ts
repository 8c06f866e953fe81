/**
 * @virtio-gpu/device: the virtio-gpu device model in pure TypeScript: command dispatch,
 * resources, backing, contexts, capsets, fences, scanouts, cursor, blobs, config space,
 * snapshots, and the Renderer seam with the default 2D renderer.
 */
export { VirtioGpuDevice, type InterruptCause, type RestoreOptions, type VirtioGpuDeviceOptions } from './device.js';
/** The response header rule (§5.7.6.7) lives in the protocol package; re-exported for embedders. */
export { CURSOR_SIZE, responseHdr } from '@virtio-gpu/protocol';
export type { ChainFor } from './pending-fences.js';
export { SafeSink } from './safe-sink.js';
export {
  IN_PROCESS_RAM_BASE,
  InProcessGpu,
  createInProcessGpu,
  type InProcessGpuOptions,
  type InProcessSnapshot,
  type RestoreInto,
} from './in-process.js';
export type * from './renderer.js';
export { Renderer2D, type Renderer2DSnapshot } from './renderer-2d.js';
export { BACKING_FIXED_HOST_BYTES, Backing, type BackingSpan, RUN_HOST_BYTES } from './backing.js';
export type { HostVisibleRegion } from './blob.js';
export { ConfigSpace } from './config-space.js';
export { featureBit, hasFeature, offeredFeatures } from './features.js';
export { FenceTimelines, MAX_RINGS, timelineKey } from './fences.js';
export { buildEdid, EDID_BLOCK_SIZE, EDID_MANUFACTURER, type EdidInfo } from './edid.js';
export { DEFAULT_LIMITS, resolveLimits, type DeviceLimits } from './limits.js';
export { RateLimitedLog, type LogLevel, type LogSink } from './log.js';
export { PIXEL_FORMATS, bytesPerPixel, convertRow, convertRowToRgba, type PixelLayout } from './pixel-formats.js';
export {
  OK,
  errContextId,
  errOutOfMemory,
  errParameter,
  errResourceId,
  errScanoutId,
  errUnspec,
  fail,
  ok,
  type Failure,
  type RespErrCode,
  type Result,
  type Success,
} from './result.js';
export {
  intersect,
  rectInside,
  type CursorState,
  type ScanoutConfig,
  type ScanoutInfo,
  type ScanoutSink,
  type ScanoutState,
} from './scanouts.js';
export { RESOURCE_HOST_BYTES, type BlobInfo, type ResourceKind } from './resources.js';
export { DEVICE_SNAPSHOT_VERSION, type DeviceSnapshot, type PendingSnapshot, type ResourceSnapshot } from './snapshot.js';
