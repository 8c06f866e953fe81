import type { Rect, ScanoutSource } from '../types.js';

/**
 * A ScanoutSource for tests: real RGBA8 framebuffers per scanout, read back the way the device's
 * readScanout does (rect in scanout coordinates, row i of the rect at dst[i * dstStrideBytes]).
 * Not exported from the package.
 */
export class FakeSource implements ScanoutSource {
  readonly fbs = new Map<number, { width: number; height: number; data: Uint8Array }>();
  reads = 0;
  fail = false;

  /** Creates (or replaces) scanout `id` with a deterministic pattern seeded by `seed`. */
  setScanout(id: number, width: number, height: number, seed = id): Uint8Array {
    const data = new Uint8Array(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 4;
        data[i] = (x * 3 + seed * 17) & 255;
        data[i + 1] = (y * 5 + seed * 31) & 255;
        data[i + 2] = ((x ^ y) + seed * 7) & 255;
        data[i + 3] = 255;
      }
    }
    this.fbs.set(id, { width, height, data });
    return data;
  }

  /** Fills `rect` of scanout `id` with one colour. */
  fill(id: number, rect: Rect, rgba: [number, number, number, number]): void {
    const fb = this.fbs.get(id)!;
    for (let y = rect.y; y < rect.y + rect.height; y++) {
      for (let x = rect.x; x < rect.x + rect.width; x++) fb.data.set(rgba, (y * fb.width + x) * 4);
    }
  }

  readScanout(scanoutId: number, rect: Rect, dst: Uint8Array, dstStrideBytes: number, _format?: undefined, opaque = false): boolean {
    this.reads++;
    const fb = this.fbs.get(scanoutId);
    if (this.fail || fb === undefined) return false;
    if (rect.x + rect.width > fb.width || rect.y + rect.height > fb.height) return false;
    for (let row = 0; row < rect.height; row++) {
      const s = ((rect.y + row) * fb.width + rect.x) * 4;
      dst.set(fb.data.subarray(s, s + rect.width * 4), row * dstStrideBytes);
      if (opaque) for (let a = row * dstStrideBytes + 3; a < row * dstStrideBytes + rect.width * 4; a += 4) dst[a] = 255;
    }
    return true;
  }
}

/** Pixel (x, y) of an RGBA8 buffer as [r, g, b, a]. */
export function pixelAt(data: Uint8Array, strideBytes: number, x: number, y: number): number[] {
  const i = y * strideBytes + x * 4;
  return [data[i], data[i + 1], data[i + 2], data[i + 3]];
}

/** A 64x64 RGBA8 cursor image: an opaque `rgba` square in the top-left `size` x `size`, transparent elsewhere. */
export function squareCursor(size: number, rgba: [number, number, number, number]): Uint8Array {
  const img = new Uint8Array(64 * 64 * 4);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) img.set(rgba, (y * 64 + x) * 4);
  return img;
}
