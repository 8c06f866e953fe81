import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { Display } from './display.js';
import { encodePng, toPng, writePng } from './png.js';
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
    const decoded = PNG.sync.read(toPng(display, 0));
    expect([decoded.width, decoded.height]).toEqual([37, 21]);
    expect(new Uint8Array(decoded.data)).toEqual(display.surface(0)!.data);
  });

  it('cursor: true -> decodes to the composite', () => {
    const { display } = setup();
    const decoded = PNG.sync.read(display.toPng(0, { cursor: true }));
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
    const decoded = PNG.sync.read(encodePng({ width: 2, height: 2, strideBytes: 12, data }));
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
