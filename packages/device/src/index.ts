/**
 * @virtio-gpu/device: the virtio-gpu device model in pure TypeScript: command dispatch,
 * resources, backing, contexts, capsets, fences, scanouts, cursor, blobs, config space,
 * snapshots, and the Renderer seam with the default 2D renderer.
 */
export { VirtioGpuDevice, responseHdr, type InterruptCause, type RestoreOptions, type VirtioGpuDeviceOptions } from './device.js';
export type {
  BlobArgs,
  BlobMapping,
  CapsetInfo,
  Fence,
  FenceHandler,
  FenceTimeline,
  Renderer,
  RendererCapabilities,
  Resource2dArgs,
  Resource3dArgs,
  ScanoutLayout,
  Transfer3d,
} from './renderer.js';
export { Renderer2D, type Renderer2DSnapshot } from './renderer-2d.js';
export { Backing } from './backing.js';
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
  CURSOR_SIZE,
  intersect,
  rectInside,
  type CursorState,
  type ScanoutConfig,
  type ScanoutInfo,
  type ScanoutSink,
  type ScanoutState,
} from './scanouts.js';
export type { BlobInfo, ResourceKind } from './resources.js';
export { DEVICE_SNAPSHOT_VERSION, type DeviceSnapshot, type PendingSnapshot, type ResourceSnapshot } from './snapshot.js';
