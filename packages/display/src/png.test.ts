import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Display, toPng } from './display.js';
import { encodePng } from './png.js';
import { writePng } from './write-png.js';
import { decodePng } from './testing/decode-png.js';
import { FakeSource, squareCursor } from './testing/fake-source.js';

function setup() {
  const source = new FakeSource();
  source.setScanout(0, 37, 21);
  const display = new Display({ source });
  display.scanoutChanged(0, { resourceId: 1, width: 37, height: 21, r: { x: 0, y: 0, width: 37, height: 21 } });
  display.cursorChanged({ scanoutId: 0, x: 30, y: 15, hotX: 1, hotY: 1, resourceId: 2, image: squareCursor(16, [255, 255, 0, 200]) });
  return { source, display };
}

describe('PNG', () => {
  it('toPng -> decodes to the surface pixels', () => {
    const { display } = setup();
    const decoded = decodePng(toPng(display, 0));
    expect([decoded.width, decoded.height]).toEqual([37, 21]);
    expect(new Uint8Array(decoded.data)).toEqual(display.surface(0)!.data);
  });

  it('cursor: true -> decodes to the composite', () => {
    const { display } = setup();
    const decoded = decodePng(display.toPng(0, { cursor: true }));
    const composite = display.composite(0)!.data;
    expect(new Uint8Array(decoded.data)).toEqual(composite);
    expect(composite).not.toEqual(display.surface(0)!.data);
  });

  it('same pixels -> same bytes', () => {
    const a = setup().display.toPng(0, { cursor: true });
    const b = setup().display.toPng(0, { cursor: true });
    expect(Buffer.compare(a, b)).toBe(0);
  });

  it('padded stride -> rows packed', () => {
    const data = new Uint8Array(2 * 12);
    data.set([1, 2, 3, 4, 5, 6, 7, 8], 0);
    data.set([9, 10, 11, 12, 13, 14, 15, 16], 12);
    const decoded = decodePng(encodePng({ width: 2, height: 2, strideBytes: 12, data }));
    expect([...decoded.data]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  });

  it('disabled scanout -> RangeError', () => {
    const { display } = setup();
    expect(() => toPng(display, 1)).toThrow(RangeError);
    expect(() => toPng(display, -1)).toThrow(RangeError);
  });

  it('writePng -> file holds the toPng bytes', async () => {
    const { display } = setup();
    const dir = await mkdtemp(join(tmpdir(), 'display-png-'));
    try {
      const path = join(dir, 'shot.png');
      await writePng(path, display, 0, { cursor: true });
      expect(Buffer.compare(await readFile(path), display.toPng(0, { cursor: true }))).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('encodePng (fflate, no Node built-ins)', () => {
  it('random images of random sizes and strides -> an independent decoder reads the same pixels', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer(),
        (width, height, padBytes, kind, seed) => {
          const strideBytes = width * 4 + padBytes;
          const data = new Uint8Array(strideBytes * height);
          let s = seed >>> 0;
          for (let y = 0; y < height; y++) {
            for (let x = 0; x < width * 4; x++) {
              s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
              // Noise, flat colour, gradients, repeated rows: each favours a different filter.
              const v = kind === 0 ? s >>> 24 : kind === 1 ? 77 : kind === 2 ? (x * 3 + y * 5) & 255 : (x * 7) & 255;
              data[y * strideBytes + x] = v;
            }
          }
          const decoded = decodePng(encodePng({ width, height, strideBytes, data }));
          expect([decoded.width, decoded.height]).toEqual([width, height]);
          const packed = new Uint8Array(width * height * 4);
          for (let y = 0; y < height; y++) packed.set(data.subarray(y * strideBytes, y * strideBytes + width * 4), y * width * 4);
          expect(decoded.data).toEqual(packed);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('returns a plain Uint8Array (no Buffer), identical on every call', () => {
    const { display } = setup();
    const a = display.toPng(0);
    expect(Object.getPrototypeOf(a)).toBe(Uint8Array.prototype);
    expect(display.toPng(0)).toEqual(a);
  });

  it('bad geometry -> RangeError', () => {
    const data = new Uint8Array(64);
    expect(() => encodePng({ width: 0, height: 1, strideBytes: 0, data })).toThrow(RangeError);
    expect(() => encodePng({ width: 2, height: 2, strideBytes: 4, data })).toThrow(RangeError);
    expect(() => encodePng({ width: 4, height: 5, strideBytes: 16, data })).toThrow(RangeError);
    expect(() => encodePng({ width: 1.5, height: 1, strideBytes: 8, data })).toThrow(RangeError);
  });
});
