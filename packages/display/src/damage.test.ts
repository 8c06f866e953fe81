import { describe, expect, it } from 'vitest';
import { DamageAccumulator } from './damage.js';
import { clipRect, isValidRect } from './rect.js';
import type { Rect } from './types.js';

/** Deterministic PRNG so the randomized test is reproducible. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function covers(rects: Rect[], x: number, y: number): boolean {
  return rects.some((r) => x >= r.x && y >= r.y && x < r.x + r.width && y < r.y + r.height);
}

describe('rect validation', () => {
  it('isValidRect: integers in the u32 range -> true', () => {
    expect(isValidRect({ x: 0, y: 0, width: 0xffffffff, height: 1 })).toBe(true);
  });

  it.each([
    ['negative', { x: -1, y: 0, width: 1, height: 1 }],
    ['fraction', { x: 0.5, y: 0, width: 1, height: 1 }],
    ['NaN', { x: 0, y: NaN, width: 1, height: 1 }],
    ['Infinity', { x: 0, y: 0, width: Infinity, height: 1 }],
    ['beyond u32', { x: 2 ** 32, y: 0, width: 1, height: 1 }],
    ['string', { x: '1', y: 0, width: 1, height: 1 }],
    ['null', null],
    ['missing field', { x: 0, y: 0, width: 1 }],
  ])('isValidRect: %s -> false', (_name, r) => {
    expect(isValidRect(r)).toBe(false);
  });

  it('clipRect: rect over the edge -> the part inside', () => {
    expect(clipRect({ x: 90, y: 40, width: 20, height: 20 }, 100, 50)).toEqual({ x: 90, y: 40, width: 10, height: 10 });
  });

  it('clipRect: rect outside or empty -> null', () => {
    expect(clipRect({ x: 100, y: 0, width: 5, height: 5 }, 100, 50)).toBeNull();
    expect(clipRect({ x: 0, y: 0, width: 0, height: 5 }, 100, 50)).toBeNull();
    expect(clipRect({ x: 0xffffffff, y: 0xffffffff, width: 0xffffffff, height: 0xffffffff }, 100, 50)).toBeNull();
  });
});

describe('DamageAccumulator', () => {
  it('side-by-side rects of equal height -> one rect', () => {
    const acc = new DamageAccumulator();
    acc.add({ x: 0, y: 0, width: 10, height: 10 });
    acc.add({ x: 10, y: 0, width: 5, height: 10 });
    expect(acc.take()).toEqual([{ x: 0, y: 0, width: 15, height: 10 }]);
  });

  it('rect inside a pending rect -> ignored', () => {
    const acc = new DamageAccumulator();
    acc.add({ x: 0, y: 0, width: 10, height: 10 });
    acc.add({ x: 2, y: 2, width: 3, height: 3 });
    expect(acc.take()).toEqual([{ x: 0, y: 0, width: 10, height: 10 }]);
  });

  it('rect covering pending rects -> replaces them', () => {
    const acc = new DamageAccumulator();
    acc.add({ x: 1, y: 1, width: 2, height: 2 });
    acc.add({ x: 50, y: 50, width: 2, height: 2 });
    acc.add({ x: 0, y: 0, width: 100, height: 100 });
    expect(acc.take()).toEqual([{ x: 0, y: 0, width: 100, height: 100 }]);
  });

  it('far-apart rects -> kept separate', () => {
    const acc = new DamageAccumulator();
    acc.add({ x: 0, y: 0, width: 2, height: 2 });
    acc.add({ x: 100, y: 100, width: 2, height: 2 });
    expect(acc.count).toBe(2);
  });

  it('take -> empties; empty rects -> ignored', () => {
    const acc = new DamageAccumulator();
    acc.add({ x: 0, y: 0, width: 0, height: 5 });
    expect(acc.isEmpty).toBe(true);
    acc.add({ x: 0, y: 0, width: 1, height: 1 });
    expect(acc.take()).toHaveLength(1);
    expect(acc.take()).toEqual([]);
  });

  it('more rects than the cap -> at most maxRects, every damaged pixel still covered', () => {
    const rnd = lcg(42);
    const acc = new DamageAccumulator(4);
    const added: Rect[] = [];
    for (let i = 0; i < 200; i++) {
      const r = { x: Math.floor(rnd() * 60), y: Math.floor(rnd() * 60), width: 1 + Math.floor(rnd() * 6), height: 1 + Math.floor(rnd() * 6) };
      added.push(r);
      acc.add(r);
      expect(acc.count).toBeLessThanOrEqual(4);
    }
    const out = acc.take();
    for (const r of added) {
      for (let y = r.y; y < r.y + r.height; y++) for (let x = r.x; x < r.x + r.width; x++) expect(covers(out, x, y)).toBe(true);
    }
  });

  it('maxRects below 1 -> RangeError', () => {
    expect(() => new DamageAccumulator(0)).toThrow(RangeError);
  });
});
