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
