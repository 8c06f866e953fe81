/**
 * Structural types shared by the display package.
 *
 * These mirror the `ScanoutSink` contract of `@virtio-gpu/device` (docs/architecture.md) without
 * importing the device, so display builds and tests on its own; the real device fits them by
 * structural typing.
 */

/** A rectangle in scanout coordinates (same shape as the protocol's `Rect`). */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What the device reports when a scanout is (re)configured: SET_SCANOUT / SET_SCANOUT_BLOB. */
export interface ScanoutInfo {
  /** The resource shown on the scanout. */
  resourceId: number;
  /** Scanout width in pixels: the size of the display surface. */
  width: number;
  /** Scanout height in pixels. */
  height: number;
  /** The rectangle of the resource shown on the scanout. */
  r: Rect;
}

/**
 * Cursor state as the device reports it (UPDATE_CURSOR / MOVE_CURSOR on the cursor queue).
 * `image`, a 64x64 RGBA8 bitmap, is present only when the image changed.
 */
export interface CursorState {
  scanoutId: number;
  x: number;
  y: number;
  hotX: number;
  hotY: number;
  /** 0 hides the cursor (virtio spec 5.7.6.10: a resource id of 0 disables the cursor). */
  resourceId: number;
  image?: Uint8Array;
}

/** The callbacks the device drives; `Display` implements this. */
export interface ScanoutSink {
  scanoutChanged(scanoutId: number, info: ScanoutInfo | null): void;
  flushed(scanoutId: number, damage: Rect): void;
  cursorChanged(cursor: CursorState): void;
}

/**
 * Where display reads pixels from: `VirtioGpuDevice.readScanout`.
 * Writes the pixels of `rect` (scanout coordinates) as RGBA8 into `dst`, row `i` starting at
 * `i * dstStrideBytes`; returns false when the scanout has nothing to read.
 */
export interface ScanoutSource {
  readScanout(scanoutId: number, rect: Rect, dst: Uint8Array, dstStrideBytes: number): boolean;
}
