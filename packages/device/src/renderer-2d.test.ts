import { VIRTIO_GPU_BLOB_MEM_GUEST, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM } from '@virtio-gpu/protocol';
import { ArrayGuestMemory } from '@virtio-gpu/virtqueue';
import { noise } from '../test/noise.js';
import { alphaFilled, firstDifference } from '../test/pixels.js';
import { afterEach, describe, expect, it } from 'vitest';
import { Backing } from './backing.js';
import { PIXEL_FORMATS, setSimdConversion } from './pixel-formats.js';
import { Renderer2D } from './renderer-2d.js';
import { MAX_PIXEL_STORES, PIXEL_STORE_MIN_BYTES, createPixelStore, type PixelStore } from './simd-swizzle.js';

/** RGBA8 of pixel i of `bytes` (format `format`), one byte at a time from PIXEL_FORMATS. */
function referenceRgba(format: number, bytes: Uint8Array, width: number, r: { x: number; y: number; width: number; height: number }): Uint8Array {
  const l = PIXEL_FORMATS.get(format)!;
  const out = new Uint8Array(r.width * r.height * 4);
  for (let y = 0; y < r.height; y++) {
    for (let x = 0; x < r.width; x++) {
      const s = ((r.y + y) * width + r.x + x) * 4;
      const d = (y * r.width + x) * 4;
      out.set([bytes[s + l.r]!, bytes[s + l.g]!, bytes[s + l.b]!, l.a < 0 ? 255 : bytes[s + l.a]!], d);
    }
  }
  return out;
}

const created: Renderer2D[] = [];

/** A Renderer2D whose image `id` holds `bytes` (written through the snapshot/restore path, which takes pixels as-is). */
function rendererWith(format: number, width: number, height: number, bytes: Uint8Array): Renderer2D {
  const r = new Renderer2D();
  created.push(r);
  expect(r.restore({ kind: 'renderer-2d', resources: [{ id: 1, kind: '2d', format, width, height, pixels: bytes }] }).ok).toBe(true);
  return r;
}


describe('Renderer2D readback of a scanout-sized image (its pixels in a wasm PixelStore)', () => {
  afterEach(() => {
    setSimdConversion(true);
    // Release the stores now rather than at garbage collection: the later tests count them.
    for (const r of created.splice(0)) r.reset();
  });
  const width = 400;
  const height = 200; // 320 000 bytes: above PIXEL_STORE_MIN_BYTES
  const rects = [
    { name: 'whole image', r: { x: 0, y: 0, width, height } },
    { name: 'a sub-rect (rows apart on both sides)', r: { x: 37, y: 11, width: 203, height: 97 } },
    { name: 'one pixel', r: { x: 399, y: 199, width: 1, height: 1 } },
  ];
  for (const [format] of PIXEL_FORMATS) {
    for (const { name, r } of rects) {
      it(`format ${format}, ${name} -> the byte-wise definition, same as the JavaScript kernel`, () => {
        expect(width * height * 4).toBeGreaterThanOrEqual(PIXEL_STORE_MIN_BYTES);
        const bytes = noise(width * height * 4, format + r.x);
        const renderer = rendererWith(format, width, height, bytes);
        const got = new Uint8Array(r.width * r.height * 4);
        expect(renderer.readback(1, r, got, r.width * 4)).toBe(true);
        // firstDifference, not toEqual: toEqual of 320 KB takes seconds and timed out on a loaded machine.
        expect(firstDifference(got, referenceRgba(format, bytes, width, r))).toBe(-1);
        setSimdConversion(false);
        const js = new Uint8Array(got.length);
        expect(renderer.readback(1, r, js, r.width * 4)).toBe(true);
        expect(firstDifference(js, got)).toBe(-1);
      });
    }
  }

  it('snapshot of a store-backed image -> its exact bytes; destroy and reset release the stores', () => {
    const bytes = noise(width * height * 4, 5);
    const renderer = rendererWith(VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, width, height, bytes);
    const snap = renderer.snapshot();
    expect(snap.resources[0]).toMatchObject({ id: 1, kind: '2d' });
    expect(firstDifference((snap.resources[0] as { pixels: Uint8Array }).pixels, bytes)).toBe(-1);
    // Create and destroy many more large images than there are stores: none may leak a store.
    for (let i = 0; i < MAX_PIXEL_STORES * 3; i++) {
      expect(renderer.createResource2d(100 + i, { format: VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, width, height }).ok).toBe(true);
      renderer.destroyResource(100 + i);
    }
    renderer.reset();
    const held: PixelStore[] = [];
    try {
      for (let i = 0; i < MAX_PIXEL_STORES; i++) {
        const s = createPixelStore(PIXEL_STORE_MIN_BYTES);
        expect(s, `store ${i}`).not.toBeNull();
        held.push(s!);
      }
    } finally {
      for (const s of held) s.release();
    }
  });
});

describe.each([
  ['WebAssembly SIMD', true],
  ['JavaScript', false],
])('Renderer2D.readback opaque, %s kernel', (_kernel, simd) => {
  afterEach(() => {
    setSimdConversion(true);
    for (const r of created.splice(0)) r.reset();
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

describe('Renderer2D readback of a guest blob scanout (straight out of the guest pages)', () => {
  afterEach(() => setSimdConversion(true));
  const width = 100;
  const height = 40;
  const stride = 512; // 128 pixels: padding after each row, rows not page-aligned
  const size = stride * height;
  /**
   * A backing over `pieces` (lengths in backing order) placed apart in one guest buffer, in
   * reverse address order: some runs hold several rows, some split a row, some less than a row.
   */
  function blobOver(pieces: number[]): { r: Renderer2D; flat: Uint8Array } {
    const ram = noise(2 * size + 4096 * pieces.length, pieces.length);
    const mem = new ArrayGuestMemory([{ gpa: 0, bytes: ram }]);
    const entries = [];
    let gpa = ram.length;
    for (const n of pieces) {
      gpa -= n + 64; // a gap: no two pieces merge
      entries.push({ addr: BigInt(gpa), length: n });
    }
    const b = Backing.resolve(mem, entries, 1024);
    if (!b.ok) throw new Error(b.why);
    const flat = new Uint8Array(size);
    expect(b.value.copyOut(0, flat, 0, size)).toBe(true);
    const r = new Renderer2D();
    expect(r.createBlob(1, { ctxId: 0, blobMem: VIRTIO_GPU_BLOB_MEM_GUEST, blobFlags: 0, blobId: 0n, size, backing: b.value }).ok).toBe(true);
    return { r, flat };
  }
  const layouts = [
    { name: 'runs of several rows, one split row', pieces: [5 * stride + 100, 20 * stride - 100, size - 25 * stride] },
    { name: 'runs shorter than a row', pieces: Array.from({ length: size / 300 + 1 }, (_, i) => (i < size / 300 ? 300 : size % 300)).filter((n) => n > 0) },
    { name: 'one run', pieces: [size] },
  ];
  const rects = [
    { x: 0, y: 0, width, height },
    { x: 13, y: 7, width: 61, height: 29 },
  ];
  for (const { name, pieces } of layouts) {
    for (const rect of rects) {
      it(`${name}, rect ${rect.x},${rect.y} ${rect.width}x${rect.height} -> the bytes of the flat image, RGBA8 and B8G8R8X8, SIMD or not`, () => {
        const { r, flat } = blobOver(pieces);
        const layout = { format: VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, width, height, strideBytes: stride, offsetBytes: 0 };
        const want = referenceRgba(VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, stridedToPacked(flat, stride, width, height), width, rect);
        for (const simd of [true, false]) {
          setSimdConversion(simd);
          const got = new Uint8Array(rect.width * rect.height * 4);
          expect(r.readback(1, rect, got, rect.width * 4, layout)).toBe(true);
          expect(got).toEqual(want);
          const same = new Uint8Array(rect.width * rect.height * 4);
          expect(r.readback(1, rect, same, rect.width * 4, layout, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM)).toBe(true);
          expect(same).toEqual(referenceBytes(stridedToPacked(flat, stride, width, height), width, rect));
        }
      });
    }
  }
  it('a layout reaching past the blob -> false', () => {
    const { r } = blobOver([size]);
    const layout = { format: VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, width, height: height + 1, strideBytes: stride, offsetBytes: 0 };
    const got = new Uint8Array(width * (height + 1) * 4);
    expect(r.readback(1, { x: 0, y: 0, width, height: height + 1 }, got, width * 4, layout)).toBe(false);
    expect(r.readback(1, { x: 0, y: 0, width, height }, got, width * 4, layout)).toBe(true);
  });
});

/** Rows of `width` pixels taken from a `stride`-byte-per-row image. */
function stridedToPacked(img: Uint8Array, stride: number, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) out.set(img.subarray(y * stride, y * stride + width * 4), y * width * 4);
  return out;
}

/** The rect's bytes unchanged (readback into the source's own format). */
function referenceBytes(packed: Uint8Array, width: number, r: { x: number; y: number; width: number; height: number }): Uint8Array {
  const out = new Uint8Array(r.width * r.height * 4);
  for (let y = 0; y < r.height; y++) out.set(packed.subarray(((r.y + y) * width + r.x) * 4, ((r.y + y) * width + r.x + r.width) * 4), y * r.width * 4);
  return out;
}

describe('createPixelStore', () => {
  it('below the size threshold -> null (a plain buffer serves)', () => {
    expect(createPixelStore(PIXEL_STORE_MIN_BYTES - 4)).toBeNull();
  });

  it('zeroed pixels of the exact size; at most MAX_PIXEL_STORES alive; release (once) frees a place', () => {
    const held: PixelStore[] = [];
    try {
      for (let i = 0; i < MAX_PIXEL_STORES; i++) held.push(createPixelStore(PIXEL_STORE_MIN_BYTES + 4 * i)!);
      expect(held.every((s) => s !== null)).toBe(true);
      expect(held[3]!.pixels.byteLength).toBe(PIXEL_STORE_MIN_BYTES + 12);
      expect(held[3]!.pixels.every((b) => b === 0)).toBe(true);
      expect(held[3]!.scratchBase).toBeGreaterThanOrEqual(held[3]!.pixels.byteLength);
      expect(createPixelStore(PIXEL_STORE_MIN_BYTES)).toBeNull();
      held[0]!.release();
      held[0]!.release();
      const again = createPixelStore(PIXEL_STORE_MIN_BYTES);
      expect(again).not.toBeNull();
      expect(createPixelStore(PIXEL_STORE_MIN_BYTES)).toBeNull();
      held[0] = again!;
    } finally {
      for (const s of held) s.release();
    }
  });
});
