import { describe, expect, test } from 'vitest';
import { PageAllocator } from './page-allocator';
import { Prng } from './prng';

describe('PageAllocator', () => {
  test('contiguous allocations do not overlap and are page aligned', () => {
    const a = new PageAllocator(0x10000, 64 * 4096);
    const x = a.allocContiguous(5000);
    const y = a.allocContiguous(4096);
    expect(x % 4096).toBe(0);
    expect(y).toBe(x + 2 * 4096);
    expect(a.free).toBe(61);
  });

  test('scattered pages are unique, in range, and not mostly adjacent', () => {
    const a = new PageAllocator(0, 4096 * 4096);
    const pages = a.allocScattered(512 * 4096, new Prng(1));
    expect(new Set(pages).size).toBe(512);
    for (const p of pages) expect(p >= 0 && p < 4096 * 4096 && p % 4096 === 0).toBe(true);
    let adjacent = 0;
    for (let i = 1; i < pages.length; i++) if (pages[i] === pages[i - 1]! + 4096) adjacent++;
    expect(adjacent).toBeLessThan(pages.length / 4);
  });

  test('the same seed gives the same layout', () => {
    const run = () => new PageAllocator(0, 1024 * 4096).allocScattered(100 * 4096, new Prng(42));
    expect(run()).toEqual(run());
  });

  test('freed pages are reused; double free and OOM throw', () => {
    const a = new PageAllocator(0, 4 * 4096);
    const x = a.allocContiguous(4 * 4096);
    expect(() => a.allocContiguous(1)).toThrow(RangeError);
    a.freeRange(x, 4096);
    expect(a.allocContiguous(1)).toBe(x);
    a.freeRange(x, 4096);
    expect(() => a.freeRange(x, 4096)).toThrow(/double free/);
    expect(() => a.allocScattered(5 * 4096, new Prng(1))).toThrow(RangeError);
  });
});
