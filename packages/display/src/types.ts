/**
 * Types the display shares with the device. The sink callbacks and what they carry are the
 * device's own (`@virtio-gpu/device`, docs/architecture.md), re-exported so a display user needs
 * one import; only `ScanoutSource`, the read side the display needs of the device, is defined here.
 */
import type { Rect } from '@virtio-gpu/protocol';

export type { Rect } from '@virtio-gpu/protocol';
export type { CursorState, ScanoutInfo, ScanoutSink } from '@virtio-gpu/device';

/**
 * Where display reads pixels from: `VirtioGpuDevice.readScanout`.
 * Writes the pixels of `rect` (scanout coordinates) as RGBA8 into `dst`, row `i` starting at
 * `i * dstStrideBytes`; returns false when the scanout has nothing to read. `format` is always
 * undefined here (RGBA8). With `opaque` every alpha byte must be written as 255: an opaque
 * display (the default) asks for that and makes no second pass over the pixels, so a source
 * that cannot force alpha returns false rather than ignore it.
 */
export interface ScanoutSource {
  readScanout(scanoutId: number, rect: Rect, dst: Uint8Array, dstStrideBytes: number, format?: undefined, opaque?: boolean): boolean;
}

/** A standalone RGBA8 image (straight alpha), row `y` at `y * strideBytes`; e.g. from `Display.composite()`. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly strideBytes: number;
  readonly data: Uint8Array;
}
