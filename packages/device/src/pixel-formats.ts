/**
 * The eight 2D formats of virtio-gpu (enum virtio_gpu_formats). Their names give the byte order in
 * memory (B8G8R8A8: byte 0 is blue), so the device stores the guest's bytes as-is and converts to
 * RGBA8 only when a scanout or cursor is read back. X formats have no alpha: read back as 255.
 */
import {
  VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM,
  VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM,
  VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM,
  VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
  VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM,
  VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM,
  VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM,
  VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM,
} from '@virtio-gpu/protocol';

/** Where R, G, B and A sit in one pixel's bytes; `a` is -1 for X formats (alpha reads 255). */
export interface PixelLayout {
  readonly bytesPerPixel: 4;
  readonly r: number;
  readonly g: number;
  readonly b: number;
  readonly a: number;
}

const layout = (r: number, g: number, b: number, a: number): PixelLayout =>
  Object.freeze({ bytesPerPixel: 4, r, g, b, a });

/** Byte positions per format, keyed by VIRTIO_GPU_FORMAT_* value. */
export const PIXEL_FORMATS: ReadonlyMap<number, PixelLayout> = new Map([
  [VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, layout(2, 1, 0, 3)],
  [VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, layout(2, 1, 0, -1)],
  [VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, layout(1, 2, 3, 0)],
  [VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, layout(1, 2, 3, -1)],
  [VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, layout(0, 1, 2, 3)],
  [VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, layout(3, 2, 1, -1)],
  [VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, layout(3, 2, 1, 0)],
  [VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, layout(0, 1, 2, -1)],
]);

/** Bytes per pixel of a 2D format, or 0 when the guest named an unknown format. */
export function bytesPerPixel(format: number): number {
  return PIXEL_FORMATS.has(format) ? 4 : 0;
}

/**
 * Convert `pixels` pixels from `src` (format `format`) at `srcOffset` to RGBA8 in `dst` at
 * `dstOffset`. The caller has checked both ranges. R8G8B8A8 is a straight copy.
 */
export function convertRowToRgba(
  format: number,
  src: Uint8Array,
  srcOffset: number,
  dst: Uint8Array,
  dstOffset: number,
  pixels: number,
): void {
  const l = PIXEL_FORMATS.get(format);
  if (!l) return;
  if (format === VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM) {
    dst.set(src.subarray(srcOffset, srcOffset + pixels * 4), dstOffset);
    return;
  }
  const { r, g, b, a } = l;
  let s = srcOffset;
  let d = dstOffset;
  const end = dstOffset + pixels * 4;
  if (a < 0) {
    for (; d < end; d += 4, s += 4) {
      dst[d] = src[s + r];
      dst[d + 1] = src[s + g];
      dst[d + 2] = src[s + b];
      dst[d + 3] = 255;
    }
  } else {
    for (; d < end; d += 4, s += 4) {
      dst[d] = src[s + r];
      dst[d + 1] = src[s + g];
      dst[d + 2] = src[s + b];
      dst[d + 3] = src[s + a];
    }
  }
}

/**
 * Convert `pixels` pixels from `src` (format `srcFormat`) at `srcOffset` into `dst` (format
 * `dstFormat`) at `dstOffset`; the caller checked both ranges. Pixels are copied as they are when
 * the colour bytes sit in the same places and the destination has no alpha (B8G8R8A8 or
 * B8G8R8X8 into B8G8R8X8: its X byte is then whatever the source had); otherwise channels move
 * and an alpha from an X source, or an X destination byte, is 255. False for an unknown format.
 */
export function convertRow(
  srcFormat: number,
  src: Uint8Array,
  srcOffset: number,
  dstFormat: number,
  dst: Uint8Array,
  dstOffset: number,
  pixels: number,
): boolean {
  const s = PIXEL_FORMATS.get(srcFormat);
  const d = PIXEL_FORMATS.get(dstFormat);
  if (!s || !d) return false;
  if (srcFormat === dstFormat || (s.r === d.r && s.g === d.g && s.b === d.b && d.a < 0)) {
    dst.set(src.subarray(srcOffset, srcOffset + pixels * 4), dstOffset);
    return true;
  }
  // The destination's fourth byte: its alpha, or the X byte (the one position r, g, b leave).
  const fourth = d.a >= 0 ? d.a : 6 - d.r - d.g - d.b;
  let si = srcOffset;
  let di = dstOffset;
  const end = dstOffset + pixels * 4;
  for (; di < end; di += 4, si += 4) {
    dst[di + d.r] = src[si + s.r];
    dst[di + d.g] = src[si + s.g];
    dst[di + d.b] = src[si + s.b];
    dst[di + fourth] = d.a >= 0 && s.a >= 0 ? src[si + s.a] : 255;
  }
  return true;
}
