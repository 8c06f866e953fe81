import {
  VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
  VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM,
  VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM,
} from '@virtio-gpu/protocol';
import { noise } from '../test/noise.js';
import { firstDifference } from '../test/pixels.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIXEL_FORMATS, convertRectToRgba, convertRowToRgba, setSimdConversion, type PixelLayout } from './pixel-formats.js';
import { simdSwizzle } from './simd-swizzle.js';

/** The definition, one byte at a time: what every fast path must reproduce. */
function reference(l: PixelLayout, src: Uint8Array, s: number, dst: Uint8Array, d: number, pixels: number): void {
  for (let i = 0; i < pixels; i++, s += 4, d += 4) {
    dst[d] = src[s + l.r];
    dst[d + 1] = src[s + l.g];
    dst[d + 2] = src[s + l.b];
    dst[d + 3] = l.a < 0 ? 255 : src[s + l.a];
  }
}


it('WebAssembly SIMD runs here (Node 20+), so the tests below cover both kernels', () => {
  expect(simdSwizzle()).not.toBeNull();
});

describe.each([
  ['WebAssembly SIMD', true],
  ['JavaScript', false],
])('convertRectToRgba, %s kernel', (_kernel, simd) => {
  beforeAll(() => setSimdConversion(simd));
  afterAll(() => setSimdConversion(true));

  // Offsets 0 take the 32-bit path; odd offsets and strides the byte loop. Both must match.
  const cases = [
    { name: 'aligned, contiguous rows', srcOff: 0, dstOff: 0, srcPad: 0, dstPad: 0 },
    { name: 'aligned, padded strides', srcOff: 8, dstOff: 4, srcPad: 12, dstPad: 20 },
    { name: 'unaligned source', srcOff: 1, dstOff: 0, srcPad: 0, dstPad: 0 },
    { name: 'unaligned destination', srcOff: 0, dstOff: 3, srcPad: 4, dstPad: 0 },
    { name: 'odd strides', srcOff: 0, dstOff: 0, srcPad: 2, dstPad: 6 },
  ];
  for (const [format, l] of PIXEL_FORMATS) {
    for (const c of cases) {
      it(`format ${format}, ${c.name} -> the byte-wise definition, bytes outside the rect untouched`, () => {
        // 70 pixels a row: long enough for the wasm kernel (shorter rows take the JavaScript one).
        const width = 70;
        const height = 7;
        const srcStride = width * 4 + c.srcPad;
        const dstStride = width * 4 + c.dstPad;
        const src = noise(c.srcOff + srcStride * height, format * 31 + c.srcOff);
        const got = noise(c.dstOff + dstStride * height + 8, 99);
        const want = got.slice();
        convertRectToRgba(format, src, c.srcOff, srcStride, got, c.dstOff, dstStride, width, height);
        for (let h = 0; h < height; h++) reference(l, src, c.srcOff + h * srcStride, want, c.dstOff + h * dstStride, width);
        expect(firstDifference(got, want)).toBe(-1);
      });
    }
  }

  it('a run longer than the wasm scratch (several chunks, odd pixel count) -> the definition', () => {
    for (const [format, l] of PIXEL_FORMATS) {
      const pixels = 3 * 4096 + 7;
      const src = noise(pixels * 4 + 4, format);
      const got = new Uint8Array(pixels * 4 + 8);
      const want = got.slice();
      convertRectToRgba(format, src, 4, pixels * 4, got, 4, pixels * 4, pixels, 1);
      reference(l, src, 4, want, 4, pixels);
      expect(firstDifference(got, want), `format ${format}`).toBe(-1);
    }
  });

  it('R8G8B8X8 in place (forcing alpha) -> every alpha 255, colours kept, in every chunk', () => {
    const pixels = 3 * 4096 + 5;
    const bytes = noise(pixels * 4, 11);
    const want = bytes.slice();
    for (let i = 3; i < want.length; i += 4) want[i] = 255;
    convertRowToRgba(VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, bytes, 0, bytes, 0, pixels);
    expect(firstDifference(bytes, want)).toBe(-1);
  });

  it('R8G8B8X8 in place on opaque pixels with one exception per chunk position -> only that pixel changes', () => {
    const pixels = 3 * 4096 + 5;
    for (const odd of [0, 4095, 4096, 8191 + 3, pixels - 1]) {
      const bytes = noise(pixels * 4, odd);
      for (let i = 3; i < bytes.length; i += 4) bytes[i] = 255;
      bytes[odd * 4 + 3] = 7;
      const want = bytes.slice();
      want[odd * 4 + 3] = 255;
      convertRowToRgba(VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, bytes, 0, bytes, 0, pixels);
      expect(firstDifference(bytes, want), `odd pixel ${odd}`).toBe(-1);
    }
  });

  it('narrow rows (either kernel by length) -> the byte-wise definition', () => {
    for (const width of [1, 3, 63, 64, 65]) {
      const l = PIXEL_FORMATS.get(VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM)!;
      const src = noise(width * 4 * 5, width);
      const got = new Uint8Array(width * 4 * 5);
      const want = new Uint8Array(width * 4 * 5);
      convertRectToRgba(VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, src, 0, width * 4 + 0, got, 0, width * 4, width, 5);
      for (let h = 0; h < 5; h++) reference(l, src, h * width * 4, want, h * width * 4, width);
      expect(firstDifference(got, want), `width ${width}`).toBe(-1);
    }
  });

  it('views into a larger buffer (non-zero byteOffset) convert like standalone arrays', () => {
    const big = noise(4096, 7);
    const src = big.subarray(16, 16 + 64 * 4);
    const dst = new Uint8Array(new ArrayBuffer(1024), 32, 64 * 4);
    const want = new Uint8Array(64 * 4);
    convertRectToRgba(VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, src, 0, 64 * 4, dst, 0, 64 * 4, 64, 1);
    reference(PIXEL_FORMATS.get(VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM)!, src, 0, want, 0, 64);
    expect(dst).toEqual(want);
  });

  it('two buffers alternating (the view cache) -> each converted from its own bytes', () => {
    const a = noise(256, 1);
    const b = noise(256, 2);
    const out = new Uint8Array(256);
    const want = new Uint8Array(256);
    const l = PIXEL_FORMATS.get(VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM)!;
    for (const src of [a, b, a]) {
      convertRectToRgba(VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, src, 0, 256, out, 0, 256, 64, 1);
      reference(l, src, 0, want, 0, 64);
      expect(out).toEqual(want);
    }
  });

  it('unknown format or empty rect -> nothing written', () => {
    const src = noise(64, 3);
    const dst = new Uint8Array(64);
    convertRectToRgba(0xdead, src, 0, 16, dst, 0, 16, 4, 4);
    convertRectToRgba(VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, src, 0, 16, dst, 0, 16, 0, 4);
    expect(dst).toEqual(new Uint8Array(64));
  });

  it('convertRowToRgba -> one row of the same conversion', () => {
    const src = noise(40, 5);
    const got = new Uint8Array(40);
    const want = new Uint8Array(40);
    convertRowToRgba(VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, src, 0, got, 0, 10);
    reference(PIXEL_FORMATS.get(VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM)!, src, 0, want, 0, 10);
    expect(got).toEqual(want);
  });
});
