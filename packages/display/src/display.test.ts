import { describe, expect, it, vi } from 'vitest';
import { CURSOR_IMAGE_BYTES } from './cursor.js';
import { Display, type CursorEvent, type FrameEvent, type ScanoutEvent } from './display.js';
import { FakeSource, pixelAt, squareCursor } from './testing/fake-source.js';

function setup(width = 32, height = 24) {
  const source = new FakeSource();
  source.setScanout(0, width, height);
  const display = new Display({ source });
  display.scanoutChanged(0, { resourceId: 1, width, height, r: { x: 0, y: 0, width, height } });
  return { source, display };
}

const info = (width: number, height: number, resourceId = 1) => ({ resourceId, width, height, r: { x: 0, y: 0, width, height } });

describe('Display surfaces', () => {
  it('scanoutChanged -> surface of the scanout size holding the source pixels', () => {
    const { source, display } = setup(32, 24);
    const s = display.surface(0)!;
    expect([s.width, s.height, s.strideBytes, s.resourceId]).toEqual([32, 24, 128, 1]);
    expect(s.data).toEqual(source.fbs.get(0)!.data);
  });

  it('scanoutChanged -> scanout event, then a full frame event', () => {
    const source = new FakeSource();
    source.setScanout(3, 8, 8);
    const display = new Display({ source });
    const events: string[] = [];
    display.on('scanout', (e: ScanoutEvent) => events.push(`scanout ${e.scanoutId} ${e.surface?.width} resized=${e.resized}`));
    display.on('frame', (e: FrameEvent) => events.push(`frame ${e.scanoutId} ${JSON.stringify(e.damage)} seq=${e.seq}`));
    display.scanoutChanged(3, info(8, 8));
    expect(events).toEqual(['scanout 3 8 resized=true', 'frame 3 [{"x":0,"y":0,"width":8,"height":8}] seq=1']);
  });

  it('same size, new resource -> same buffer, not resized', () => {
    const { display } = setup(16, 16);
    const before = display.surface(0)!.data;
    const resized: boolean[] = [];
    display.on('scanout', (e) => resized.push(e.resized));
    display.scanoutChanged(0, info(16, 16, 7));
    expect(display.surface(0)!.data).toBe(before);
    expect(display.surface(0)!.resourceId).toBe(7);
    expect(resized).toEqual([false]);
  });

  it('new size -> new buffer of the new size', () => {
    const { source, display } = setup(16, 16);
    source.setScanout(0, 40, 30);
    display.scanoutChanged(0, info(40, 30));
    const s = display.surface(0)!;
    expect([s.width, s.height, s.data.length]).toEqual([40, 30, 40 * 30 * 4]);
    expect(s.data).toEqual(source.fbs.get(0)!.data);
  });

  it('null info -> surface removed, scanout event with null', () => {
    const { display } = setup();
    const events: (ScanoutEvent | undefined)[] = [];
    display.on('scanout', (e) => events.push(e));
    display.scanoutChanged(0, null);
    expect(display.surface(0)).toBeUndefined();
    expect(display.surfaces()).toEqual([]);
    expect(events).toEqual([{ scanoutId: 0, surface: null, resized: true }]);
  });

  it.each([
    ['zero width', info(0, 10)],
    ['zero height', info(10, 0)],
    ['negative', info(-5, 10)],
    ['fractional', info(10.5, 10)],
    ['huge', info(100000, 100000)],
  ])('%s scanout -> treated as disabled, counted as rejected', (_n, bad) => {
    const { display } = setup();
    expect(() => display.scanoutChanged(0, bad)).not.toThrow();
    expect(display.surface(0)).toBeUndefined();
    expect(display.stats.rejected).toBe(1);
  });

  it('surface over maxSurfaceBytes -> disabled', () => {
    const display = new Display({ source: new FakeSource(), maxSurfaceBytes: 1024 });
    display.scanoutChanged(0, info(32, 32));
    expect(display.surface(0)).toBeUndefined();
  });

  it.each([-1, 16, 1.5, NaN, 2 ** 32, '0' as unknown as number])('scanout id %s -> rejected, no throw', (id) => {
    const { display } = setup();
    expect(() => display.scanoutChanged(id, info(8, 8))).not.toThrow();
    expect(() => display.flushed(id, { x: 0, y: 0, width: 1, height: 1 })).not.toThrow();
    expect(display.stats.rejected).toBe(2);
    expect(display.surface(id)).toBeUndefined();
    expect(display.composite(id)).toBeNull();
    expect(display.takeDamage(id)).toEqual([]);
  });

  it('several scanouts -> surfaces() lists them by id', () => {
    const source = new FakeSource();
    const display = new Display({ source });
    for (const id of [5, 0, 2]) {
      source.setScanout(id, 4 + id, 4);
      display.scanoutChanged(id, info(4 + id, 4));
    }
    expect(display.surfaces().map((s) => [s.scanoutId, s.width])).toEqual([
      [0, 4],
      [2, 6],
      [5, 9],
    ]);
  });
});

describe('Display flushes', () => {
  it('flush -> only the damaged rect is copied', () => {
    const { source, display } = setup(32, 24);
    const before = new Uint8Array(display.surface(0)!.data);
    source.fill(0, { x: 0, y: 0, width: 32, height: 24 }, [1, 2, 3, 255]);
    display.flushed(0, { x: 4, y: 5, width: 6, height: 7 });
    const s = display.surface(0)!;
    for (let y = 0; y < 24; y++) {
      for (let x = 0; x < 32; x++) {
        const inside = x >= 4 && x < 10 && y >= 5 && y < 12;
        expect(pixelAt(s.data, s.strideBytes, x, y)).toEqual(inside ? [1, 2, 3, 255] : pixelAt(before, 128, x, y));
      }
    }
  });

  it('flush -> frame event with the damage and increasing seq', () => {
    const { display } = setup();
    const frames: FrameEvent[] = [];
    display.on('frame', (e) => frames.push(e));
    display.flushed(0, { x: 1, y: 1, width: 2, height: 2 });
    display.flushed(0, { x: 3, y: 3, width: 2, height: 2 });
    expect(frames).toEqual([
      { scanoutId: 0, damage: [{ x: 1, y: 1, width: 2, height: 2 }], seq: 2 },
      { scanoutId: 0, damage: [{ x: 3, y: 3, width: 2, height: 2 }], seq: 3 },
    ]);
  });

  it('flush over the edge -> clipped to the surface', () => {
    const { display } = setup(32, 24);
    const frames: FrameEvent[] = [];
    display.on('frame', (e) => frames.push(e));
    display.flushed(0, { x: 30, y: 20, width: 0xffffffff, height: 0xffffffff });
    expect(frames[0].damage).toEqual([{ x: 30, y: 20, width: 2, height: 4 }]);
  });

  it('flush outside the surface -> no frame', () => {
    const { display } = setup(32, 24);
    const onFrame = vi.fn();
    display.on('frame', onFrame);
    display.flushed(0, { x: 32, y: 0, width: 5, height: 5 });
    expect(onFrame).not.toHaveBeenCalled();
  });

  it.each([
    ['NaN', { x: NaN, y: 0, width: 1, height: 1 }],
    ['negative', { x: -4, y: 0, width: 8, height: 1 }],
    ['null', null],
  ])('flush with %s rect -> rejected, no throw', (_n, rect) => {
    const { display } = setup();
    const onFrame = vi.fn();
    display.on('frame', onFrame);
    expect(() => display.flushed(0, rect as never)).not.toThrow();
    expect(onFrame).not.toHaveBeenCalled();
    expect(display.stats.rejected).toBe(1);
  });

  it('flush to a scanout without surface -> rejected', () => {
    const { display } = setup();
    display.flushed(1, { x: 0, y: 0, width: 1, height: 1 });
    expect(display.stats.rejected).toBe(1);
  });

  it('readScanout false -> surface unchanged, no frame, readFailures counted', () => {
    const { source, display } = setup();
    const before = new Uint8Array(display.surface(0)!.data);
    source.fill(0, { x: 0, y: 0, width: 4, height: 4 }, [9, 9, 9, 255]);
    source.fail = true;
    const onFrame = vi.fn();
    display.on('frame', onFrame);
    display.flushed(0, { x: 0, y: 0, width: 4, height: 4 });
    expect(display.surface(0)!.data).toEqual(before);
    expect(onFrame).not.toHaveBeenCalled();
    expect(display.stats.readFailures).toBe(1);
  });

  it('readScanout throws -> no throw out of flushed', () => {
    const display = new Display({
      source: {
        readScanout: () => {
          throw new Error('host bug');
        },
      },
    });
    expect(() => display.scanoutChanged(0, info(4, 4))).not.toThrow();
    expect(() => display.flushed(0, { x: 0, y: 0, width: 1, height: 1 })).not.toThrow();
    expect(display.stats.readFailures).toBe(2);
  });

  it('no source yet -> flush counted as a read failure; setSource later works', () => {
    const source = new FakeSource();
    source.setScanout(0, 4, 4);
    const display = new Display();
    display.scanoutChanged(0, info(4, 4));
    expect(display.stats.readFailures).toBe(1);
    display.setSource(source);
    display.flushed(0, { x: 0, y: 0, width: 4, height: 4 });
    expect(display.surface(0)!.data).toEqual(source.fbs.get(0)!.data);
  });

  it('source alpha 0 -> surface opaque by default, kept with opaque: false', () => {
    const source = new FakeSource();
    source.setScanout(0, 2, 2);
    source.fill(0, { x: 0, y: 0, width: 2, height: 2 }, [10, 20, 30, 0]);
    const opaque = new Display({ source });
    opaque.scanoutChanged(0, info(2, 2));
    expect(pixelAt(opaque.surface(0)!.data, 8, 1, 1)).toEqual([10, 20, 30, 255]);
    const raw = new Display({ source, opaque: false });
    raw.scanoutChanged(0, info(2, 2));
    expect(pixelAt(raw.surface(0)!.data, 8, 1, 1)).toEqual([10, 20, 30, 0]);
  });

  it('opaque (default) -> the source is asked for opaque pixels, one read a flush; opaque: false -> not', () => {
    const asked: unknown[] = [];
    const source = new FakeSource();
    source.setScanout(0, 4, 4);
    const read = source.readScanout.bind(source);
    source.readScanout = (id, rect, dst, stride, format, opaque) => {
      asked.push(opaque);
      return read(id, rect, dst, stride, format, opaque);
    };
    new Display({ source }).scanoutChanged(0, info(4, 4));
    new Display({ source, opaque: false }).scanoutChanged(0, info(4, 4));
    expect(asked).toEqual([true, false]);
  });

  it('a new surface starts opaque black where the source cannot be read', () => {
    const source = new FakeSource();
    source.setScanout(0, 4, 4);
    source.fail = true;
    const display = new Display({ source });
    display.scanoutChanged(0, info(4, 4));
    expect(pixelAt(display.surface(0)!.data, 16, 3, 3)).toEqual([0, 0, 0, 255]);
  });

  it('takeDamage -> merged damage since the last take', () => {
    const { display } = setup(32, 24);
    display.takeDamage(0); // the full read on scanoutChanged
    display.flushed(0, { x: 0, y: 0, width: 4, height: 4 });
    display.flushed(0, { x: 4, y: 0, width: 4, height: 4 });
    display.flushed(0, { x: 20, y: 20, width: 2, height: 2 });
    expect(display.takeDamage(0)).toEqual([
      { x: 0, y: 0, width: 8, height: 4 },
      { x: 20, y: 20, width: 2, height: 2 },
    ]);
    expect(display.takeDamage(0)).toEqual([]);
  });

  it('many flushes -> takeDamage bounded by maxDamageRects', () => {
    const source = new FakeSource();
    source.setScanout(0, 64, 64);
    const display = new Display({ source, maxDamageRects: 3 });
    display.scanoutChanged(0, info(64, 64));
    display.takeDamage(0);
    for (let i = 0; i < 30; i++) display.flushed(0, { x: (i * 7) % 60, y: (i * 13) % 60, width: 1, height: 1 });
    expect(display.takeDamage(0).length).toBeLessThanOrEqual(3);
  });

  it('throwing listener -> reported, other listeners still run, sink does not throw', () => {
    const errors: unknown[] = [];
    const source = new FakeSource();
    source.setScanout(0, 4, 4);
    const display = new Display({ source, onListenerError: (e) => errors.push(e) });
    const after = vi.fn();
    display.on('frame', () => {
      throw new Error('embedder bug');
    });
    display.on('frame', after);
    expect(() => display.scanoutChanged(0, info(4, 4))).not.toThrow();
    expect(errors).toHaveLength(1);
    expect(after).toHaveBeenCalledOnce();
  });

  it('off / once -> listeners removed', () => {
    const { display } = setup();
    const a = vi.fn();
    const b = vi.fn();
    const off = display.on('frame', a);
    display.once('frame', b);
    display.flushed(0, { x: 0, y: 0, width: 1, height: 1 });
    off();
    display.flushed(0, { x: 0, y: 0, width: 1, height: 1 });
    expect(a).toHaveBeenCalledOnce();
    expect(b).toHaveBeenCalledOnce();
    expect(display.listenerCount('frame')).toBe(0);
  });
});

describe('Display cursor', () => {
  const red = squareCursor(8, [255, 0, 0, 255]);

  it('before any update -> hidden, no image', () => {
    const { display } = setup();
    expect(display.cursor).toMatchObject({ visible: false, image: null, resourceId: 0 });
  });

  it('update with image -> visible, image copied, cursor event with imageChanged', () => {
    const { display } = setup();
    const events: CursorEvent[] = [];
    display.on('cursor', (e) => events.push(e));
    const img = new Uint8Array(red);
    display.cursorChanged({ scanoutId: 0, x: 10, y: 12, hotX: 2, hotY: 3, resourceId: 5, image: img });
    img.fill(0);
    expect(display.cursor).toMatchObject({ scanoutId: 0, x: 10, y: 12, hotX: 2, hotY: 3, resourceId: 5, visible: true });
    expect(display.cursor.image).toEqual(red);
    expect(events.map((e) => e.imageChanged)).toEqual([true]);
  });

  it('move without image -> position changes, image kept', () => {
    const { display } = setup();
    display.cursorChanged({ scanoutId: 0, x: 1, y: 1, hotX: 0, hotY: 0, resourceId: 5, image: red });
    const events: CursorEvent[] = [];
    display.on('cursor', (e) => events.push(e));
    display.cursorChanged({ scanoutId: 0, x: 20, y: 21, hotX: 0, hotY: 0, resourceId: 5 });
    expect(display.cursor).toMatchObject({ x: 20, y: 21, visible: true });
    expect(display.cursor.image).toEqual(red);
    expect(events[0].imageChanged).toBe(false);
  });

  it('resource 0 -> hidden', () => {
    const { display } = setup();
    display.cursorChanged({ scanoutId: 0, x: 1, y: 1, hotX: 0, hotY: 0, resourceId: 5, image: red });
    display.cursorChanged({ scanoutId: 0, x: 1, y: 1, hotX: 0, hotY: 0, resourceId: 0 });
    expect(display.cursor.visible).toBe(false);
  });

  it('image of the wrong size -> rejected, previous image kept', () => {
    const { display } = setup();
    display.cursorChanged({ scanoutId: 0, x: 1, y: 1, hotX: 0, hotY: 0, resourceId: 5, image: red });
    display.cursorChanged({ scanoutId: 0, x: 1, y: 1, hotX: 0, hotY: 0, resourceId: 6, image: new Uint8Array(CURSOR_IMAGE_BYTES - 4) });
    expect(display.cursor.image).toEqual(red);
    expect(display.stats.rejectedCursorImages).toBe(1);
  });

  it('u32-wrapped negative position -> negative; hot spot out of range -> clamped', () => {
    const { display } = setup();
    display.cursorChanged({ scanoutId: 0, x: 0xfffffff0, y: 0xffffffff, hotX: 200, hotY: -3, resourceId: 5, image: red });
    expect(display.cursor).toMatchObject({ x: -16, y: -1, hotX: 63, hotY: 0 });
  });

  it('bad scanout id or junk values -> no throw', () => {
    const { display } = setup();
    expect(() => display.cursorChanged({ scanoutId: 99, x: 0, y: 0, hotX: 0, hotY: 0, resourceId: 1 })).not.toThrow();
    expect(() => display.cursorChanged(null as never)).not.toThrow();
    expect(() => display.cursorChanged({ scanoutId: 0, x: NaN, y: Infinity, hotX: NaN, hotY: 0, resourceId: -1 })).not.toThrow();
    expect(display.cursor).toMatchObject({ x: 0, y: 0, hotX: 0, resourceId: 0, visible: false });
  });
});

describe('Display composite', () => {
  it('opaque cursor -> drawn at (x - hotX, y - hotY); surface untouched', () => {
    const { display } = setup(32, 24);
    const clean = new Uint8Array(display.surface(0)!.data);
    display.cursorChanged({ scanoutId: 0, x: 10, y: 8, hotX: 2, hotY: 1, resourceId: 1, image: squareCursor(4, [0, 255, 0, 255]) });
    const c = display.composite(0)!;
    for (let y = 0; y < 24; y++) {
      for (let x = 0; x < 32; x++) {
        const inCursor = x >= 8 && x < 12 && y >= 7 && y < 11;
        expect(pixelAt(c.data, c.strideBytes, x, y)).toEqual(inCursor ? [0, 255, 0, 255] : pixelAt(clean, 128, x, y));
      }
    }
    expect(display.surface(0)!.data).toEqual(clean);
  });

  it('half-transparent cursor -> source-over blend', () => {
    const source = new FakeSource();
    source.setScanout(0, 4, 4);
    source.fill(0, { x: 0, y: 0, width: 4, height: 4 }, [0, 100, 200, 255]);
    const display = new Display({ source });
    display.scanoutChanged(0, info(4, 4));
    display.cursorChanged({ scanoutId: 0, x: 0, y: 0, hotX: 0, hotY: 0, resourceId: 1, image: squareCursor(1, [255, 0, 0, 128]) });
    const c = display.composite(0)!;
    // 255*128/255 + 0*127/255 = 128; 100*127/255 = 49.8 -> 50; 200*127/255 = 99.6 -> 100
    expect(pixelAt(c.data, 16, 0, 0)).toEqual([128, 50, 100, 255]);
    expect(pixelAt(c.data, 16, 1, 0)).toEqual([0, 100, 200, 255]);
  });

  it.each([
    ['off the top-left', -3, -2, [0, 0, 5, 6]],
    ['off the bottom-right', 30, 22, [30, 22, 2, 2]],
    ['entirely off-screen', 100, 100, null],
    ['far negative', -100000, -100000, null],
  ] as const)('cursor %s -> only the visible part drawn', (_n, x, y, visible) => {
    const { display } = setup(32, 24);
    const clean = new Uint8Array(display.surface(0)!.data);
    display.cursorChanged({ scanoutId: 0, x, y, hotX: 0, hotY: 0, resourceId: 1, image: squareCursor(8, [7, 7, 7, 255]) });
    const c = display.composite(0)!;
    for (let py = 0; py < 24; py++) {
      for (let px = 0; px < 32; px++) {
        const inside = visible !== null && px >= visible[0] && py >= visible[1] && px < visible[0] + visible[2] && py < visible[1] + visible[3];
        expect(pixelAt(c.data, 128, px, py)).toEqual(inside ? [7, 7, 7, 255] : pixelAt(clean, 128, px, py));
      }
    }
  });

  it('composite into a caller buffer -> the same image in that buffer; surface untouched', () => {
    const { display } = setup(32, 24);
    const clean = new Uint8Array(display.surface(0)!.data);
    display.cursorChanged({ scanoutId: 0, x: 5, y: 3, hotX: 0, hotY: 0, resourceId: 1, image: squareCursor(6, [1, 2, 3, 128]) });
    const into = new Uint8Array(32 * 24 * 4).fill(0xee);
    const c = display.composite(0, into)!;
    expect(c.data).toBe(into);
    expect([c.width, c.height, c.strideBytes]).toEqual([32, 24, 128]);
    expect(into).toEqual(display.composite(0)!.data);
    expect(into).not.toEqual(clean);
    expect(display.surface(0)!.data).toEqual(clean);
  });

  it('composite into a buffer of the wrong size -> RangeError, buffer untouched; no scanout -> null', () => {
    const { display } = setup(8, 8);
    const small = new Uint8Array(8 * 8 * 4 - 4).fill(7);
    expect(() => display.composite(0, small)).toThrow(RangeError);
    expect(small.every((v) => v === 7)).toBe(true);
    expect(() => display.composite(0, new Uint8Array(8 * 8 * 4 + 4))).toThrow(RangeError);
    expect(display.composite(1, small)).toBeNull();
  });

  it('cursor on another scanout or hidden -> composite equals the surface', () => {
    const { display } = setup(8, 8);
    display.cursorChanged({ scanoutId: 1, x: 0, y: 0, hotX: 0, hotY: 0, resourceId: 1, image: squareCursor(8, [7, 7, 7, 255]) });
    expect(display.composite(0)!.data).toEqual(display.surface(0)!.data);
    display.cursorChanged({ scanoutId: 0, x: 0, y: 0, hotX: 0, hotY: 0, resourceId: 0 });
    expect(display.composite(0)!.data).toEqual(display.surface(0)!.data);
  });
});
