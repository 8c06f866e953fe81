/**
 * Opaque readback (Renderer.readback's `opaque`, the device's readScanout): RGBA8 with every alpha
 * 255, written in the conversion's one pass. It must equal the plain readback followed by an
 * alpha fill, for every format, both kernels, store-backed and plain images, and blob scanouts.
 */
import * as P from '@virtio-gpu/protocol';
import { noise } from '../test/noise.js';
import { C, rect } from '../test/cmd.js';
import { Rig } from '../test/rig.js';
import { afterEach, describe, expect, it } from 'vitest';
import { PIXEL_FORMATS, convertRow, setSimdConversion } from './pixel-formats.js';
import { Renderer2D } from './renderer-2d.js';

/** `rgba` with every fourth byte (the alpha of each pixel in a `width`-pixel row `stride` apart) set to 255. */
function alphaFilled(rgba: Uint8Array, width: number, height: number, stride: number): Uint8Array {
  const out = rgba.slice();
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * stride + x * 4 + 3] = 255;
  return out;
}

/** Index of the first byte where `a` and `b` differ, -1 when equal (toEqual on 300 KB takes seconds). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const renderers: Renderer2D[] = [];

/** A Renderer2D whose image 1 holds `bytes` as-is (the restore path takes pixels unchanged). */
function rendererWith(format: number, width: number, height: number, bytes: Uint8Array): Renderer2D {
  const r = new Renderer2D();
  renderers.push(r);
  expect(r.restore({ kind: 'renderer-2d', resources: [{ id: 1, kind: '2d', format, width, height, pixels: bytes }] }).ok).toBe(true);
  return r;
}

describe.each([
  ['WebAssembly SIMD', true],
  ['JavaScript', false],
])('Renderer2D.readback opaque, %s kernel', (_kernel, simd) => {
  afterEach(() => {
    setSimdConversion(true);
    for (const r of renderers.splice(0)) r.reset();
  });
  const images = [
    // 320 000 bytes: its pixels live in a PixelStore, read in place by the wasm kernel.
    { name: 'scanout-sized image', width: 400, height: 200, r: { x: 37, y: 11, width: 203, height: 97 } },
    { name: 'scanout-sized image, whole', width: 400, height: 200, r: { x: 0, y: 0, width: 400, height: 200 } },
    { name: 'small image (plain buffer)', width: 70, height: 5, r: { x: 0, y: 1, width: 70, height: 3 } },
  ];
  for (const [format] of PIXEL_FORMATS) {
    for (const { name, width, height, r } of images) {
      it(`format ${format}, ${name} -> the RGBA8 readback with alpha 255, bytes past each row untouched`, () => {
        setSimdConversion(simd);
        const renderer = rendererWith(format, width, height, noise(width * height * 4, format * 7 + width));
        // A padded destination stride: the bytes between rows must stay as they were.
        const stride = r.width * 4 + 12;
        const plain = noise(stride * r.height, 5);
        const opaque = plain.slice();
        expect(renderer.readback(1, r, plain, stride)).toBe(true);
        expect(renderer.readback(1, r, opaque, stride, undefined, undefined, true)).toBe(true);
        expect(firstDifference(opaque, alphaFilled(plain, r.width, r.height, stride))).toBe(-1);
      });
    }
  }
});

describe('Renderer2D.readback opaque into another format', () => {
  afterEach(() => {
    for (const r of renderers.splice(0)) r.reset();
  });
  it('B8G8R8A8 into B8G8R8X8 -> colour bytes copied, X is 255 (not the source alpha)', () => {
    const renderer = rendererWith(P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 2, 1, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    const dst = new Uint8Array(8);
    expect(renderer.readback(1, rect(0, 0, 2, 1), dst, 8, undefined, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, true)).toBe(true);
    expect([...dst]).toEqual([1, 2, 3, 255, 5, 6, 7, 255]);
  });

  it('every source format into A8B8G8R8 -> the plain conversion with alpha 255', () => {
    for (const [format] of PIXEL_FORMATS) {
      const src = noise(16 * 4, format);
      const plain = new Uint8Array(src.length);
      const opaque = new Uint8Array(src.length);
      expect(convertRow(format, src, 0, P.VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, plain, 0, 16)).toBe(true);
      expect(convertRow(format, src, 0, P.VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, opaque, 0, 16, true)).toBe(true);
      // A8B8G8R8 keeps alpha in byte 0.
      for (let i = 0; i < 16; i++) plain[i * 4] = 255;
      expect(opaque).toEqual(plain);
    }
  });
});

describe('readScanout opaque', () => {
  it('2D scanout: the device passes opaque to the renderer', () => {
    const rig = new Rig({ scanouts: [{ width: 4, height: 2 }] });
    const gpas = rig.resource2d(1, 4, 2, P.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, false);
    rig.at(gpas[0], 32).set(noise(32, 3));
    rig.send(C.transfer2d(1, rect(0, 0, 4, 2), 0n));
    rig.send(C.setScanout(0, 1, rect(0, 0, 4, 2)));
    const plain = new Uint8Array(32);
    const opaque = new Uint8Array(32);
    expect(rig.device.readScanout(0, rect(0, 0, 4, 2), plain, 16)).toBe(true);
    expect(rig.device.readScanout(0, rect(0, 0, 4, 2), opaque, 16, undefined, true)).toBe(true);
    expect(plain.some((v, i) => i % 4 === 3 && v !== 255)).toBe(true);
    expect(opaque).toEqual(alphaFilled(plain, 4, 2, 16));
  });

  it('guest blob scanout, every format: the RGBA8 readback with alpha 255', () => {
    for (const [format] of PIXEL_FORMATS) {
      const rig = new Rig();
      const gpas = rig.pages(1);
      expect(rig.send(C.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_GUEST, 0, 4096n, Rig.entries(gpas)))?.type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
      rig.writeBacking(gpas, 0, noise(4096, format));
      // 8x4 framebuffer at offset 256, stride 64 bytes.
      expect(rig.send(C.setScanoutBlob(0, 1, rect(0, 0, 8, 4), 8, 4, format, 64, 256))?.type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
      const plain = new Uint8Array(8 * 4 * 4);
      const opaque = new Uint8Array(8 * 4 * 4);
      expect(rig.device.readScanout(0, rect(1, 1, 6, 3), plain, 32)).toBe(true);
      expect(rig.device.readScanout(0, rect(1, 1, 6, 3), opaque, 32, undefined, true)).toBe(true);
      expect(opaque).toEqual(alphaFilled(plain, 6, 3, 32));
    }
  });
});
