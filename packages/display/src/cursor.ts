import { CURSOR_SIZE } from '@virtio-gpu/protocol';
import type { CursorState } from './types.js';

/** Bytes in one RGBA8 cursor image (protocol's CURSOR_SIZE squared, 4 bytes a pixel). */
export const CURSOR_IMAGE_BYTES = CURSOR_SIZE * CURSOR_SIZE * 4;

/**
 * The cursor as display keeps it: always well-formed, whatever the guest sent.
 * Frontends that draw their own cursor read this and place `image` at (x - hotX, y - hotY).
 */
export interface CursorInfo {
  /** The scanout the cursor is on. */
  readonly scanoutId: number;
  /** Pointer position in scanout coordinates; may be negative or past the edge (partly off-screen). */
  readonly x: number;
  readonly y: number;
  /** Hot spot inside the image, 0..63. */
  readonly hotX: number;
  readonly hotY: number;
  /** The guest resource backing the cursor; 0 when hidden. */
  readonly resourceId: number;
  /** True when there is something to draw: a non-zero resource and a known image. */
  readonly visible: boolean;
  /** 64x64 RGBA8, straight (not premultiplied) alpha; null until the guest sends one. */
  readonly image: Uint8Array | null;
}

/** The cursor before the guest sets one. */
export const HIDDEN_CURSOR: CursorInfo = Object.freeze({
  scanoutId: 0,
  x: 0,
  y: 0,
  hotX: 0,
  hotY: 0,
  resourceId: 0,
  visible: false,
  image: null,
});

/**
 * Position fields are le32 on the wire, but Linux fills them from a signed plane position, so a
 * cursor half off the left edge arrives as 0xffffffe0. Reinterpret as int32; anything that is not
 * a finite number becomes 0.
 */
export function toInt32(v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return 0;
  return Math.trunc(v) | 0;
}

/** Clamps a hot-spot coordinate into the image; a hot spot outside 0..63 has no meaning. */
export function clampHot(v: unknown): number {
  const n = toInt32(v);
  return n < 0 ? 0 : n >= CURSOR_SIZE ? CURSOR_SIZE - 1 : n;
}

/**
 * Folds a device cursor report into the previous state. Never throws: a malformed image is
 * ignored (the previous image stays), bad numbers become 0 or clamp.
 * Returns the new state and whether the image changed.
 */
export function applyCursorState(prev: CursorInfo, next: CursorState): { cursor: CursorInfo; imageChanged: boolean; imageRejected: boolean } {
  let image = prev.image;
  let imageChanged = false;
  let imageRejected = false;
  if (next.image !== undefined) {
    if (next.image instanceof Uint8Array && next.image.length === CURSOR_IMAGE_BYTES) {
      // Copy: the device may reuse its buffer for the next update.
      image = new Uint8Array(next.image);
      imageChanged = true;
    } else {
      imageRejected = true;
    }
  }
  const resourceId = typeof next.resourceId === 'number' && Number.isInteger(next.resourceId) && next.resourceId > 0 ? next.resourceId >>> 0 : 0;
  const scanoutId = typeof next.scanoutId === 'number' && Number.isInteger(next.scanoutId) && next.scanoutId >= 0 ? next.scanoutId : prev.scanoutId;
  const cursor: CursorInfo = Object.freeze({
    scanoutId,
    x: toInt32(next.x),
    y: toInt32(next.y),
    hotX: clampHot(next.hotX),
    hotY: clampHot(next.hotY),
    resourceId,
    visible: resourceId !== 0 && image !== null,
    image,
  });
  return { cursor, imageChanged, imageRejected };
}

/**
 * Alpha-blends the cursor image over `dst` (RGBA8, `width` x `height`, `strideBytes` per row)
 * with its top-left at (left, top); the parts off the surface are skipped. Source-over with
 * straight alpha: out = src * a + dst * (1 - a), rounded; destination alpha grows the same way.
 */
export function blendCursor(
  dst: Uint8Array,
  width: number,
  height: number,
  strideBytes: number,
  image: Uint8Array,
  left: number,
  top: number,
): void {
  const x0 = Math.max(0, left);
  const y0 = Math.max(0, top);
  const x1 = Math.min(width, left + CURSOR_SIZE);
  const y1 = Math.min(height, top + CURSOR_SIZE);
  for (let y = y0; y < y1; y++) {
    let s = ((y - top) * CURSOR_SIZE + (x0 - left)) * 4;
    let d = y * strideBytes + x0 * 4;
    for (let x = x0; x < x1; x++, s += 4, d += 4) {
      const a = image[s + 3];
      if (a === 0) continue;
      if (a === 255) {
        dst[d] = image[s];
        dst[d + 1] = image[s + 1];
        dst[d + 2] = image[s + 2];
        dst[d + 3] = 255;
        continue;
      }
      const ia = 255 - a;
      dst[d] = div255(image[s] * a + dst[d] * ia);
      dst[d + 1] = div255(image[s + 1] * a + dst[d + 1] * ia);
      dst[d + 2] = div255(image[s + 2] * a + dst[d + 2] * ia);
      dst[d + 3] = div255(a * 255 + dst[d + 3] * ia);
    }
  }
}

/** Rounded division by 255 for v in 0..65025. */
function div255(v: number): number {
  return ((v + 127) / 255) | 0;
}
