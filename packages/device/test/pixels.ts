/** Pixel-buffer helpers for readback tests. Tests only. */

/** A copy of RGBA8 `rgba` with the alpha of every pixel of the `width` x `height` block (rows `stride` apart) set to 255. */
export function alphaFilled(rgba: Uint8Array, width: number, height: number, stride: number): Uint8Array {
  const out = rgba.slice();
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * stride + x * 4 + 3] = 255;
  return out;
}

/** Index of the first byte where `a` and `b` differ, -1 when equal (toEqual on 300 KB takes seconds). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}
