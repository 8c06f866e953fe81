import { describe, expect, it } from 'vitest';
import {
  ArrayGuestMemory,
  gpaFromParts,
  isMapped,
  readU16,
  readU32,
  readU64,
  writeU16,
  writeU32,
  writeU64,
  type GuestMemory,
} from './guest-memory.js';

/** Two adjacent regions [0x1000, 0x1010) and [0x1010, 0x1020), and one at 0x2000. */
function twoAdjacent(): ArrayGuestMemory {
  const a = new Uint8Array(16).map((_, i) => i);
  const b = new Uint8Array(16).map((_, i) => 16 + i);
  const c = new Uint8Array(new SharedArrayBuffer(8));
  return new ArrayGuestMemory([
    { gpa: 0x1010, bytes: b },
    { gpa: 0x1000, bytes: a },
    { gpa: 0x2000, bytes: c },
  ]);
}

describe('ArrayGuestMemory construction', () => {
  it('overlapping regions -> RangeError', () => {
    expect(() => new ArrayGuestMemory([{ gpa: 0, bytes: new Uint8Array(16) }, { gpa: 15, bytes: new Uint8Array(4) }])).toThrow(RangeError);
  });
  it('negative region gpa -> RangeError', () => {
    expect(() => new ArrayGuestMemory([{ gpa: -16, bytes: new Uint8Array(16) }])).toThrow(RangeError);
  });
  it('region ending beyond MAX_SAFE_INTEGER -> RangeError', () => {
    expect(() => new ArrayGuestMemory([{ gpa: Number.MAX_SAFE_INTEGER - 2, bytes: new Uint8Array(16) }])).toThrow(RangeError);
  });
  it('adjacent regions are accepted', () => {
    expect(twoAdjacent().regions.map((r) => r.gpa)).toEqual([0x1000, 0x1010, 0x2000]);
  });
});

describe('view', () => {
  const mem = twoAdjacent();
  it('range inside one region -> view of its bytes (no copy)', () => {
    const v = mem.view(0x1002, 3)!;
    expect([...v]).toEqual([2, 3, 4]);
    v[0] = 99;
    expect(mem.view(0x1002, 1)![0]).toBe(99);
    v[0] = 2;
  });
  it('range crossing into the adjacent region -> null', () => {
    expect(mem.view(0x100e, 4)).toBeNull();
  });
  it('range past the last region -> null', () => {
    expect(mem.view(0x2004, 5)).toBeNull();
  });
  it('unmapped gpa -> null', () => {
    expect(mem.view(0x500, 1)).toBeNull();
  });
  it.each([-1, 0.5, NaN, Infinity, Number.MAX_SAFE_INTEGER + 2])('gpa %s -> null', (gpa) => {
    expect(mem.view(gpa, 1)).toBeNull();
  });
  it.each([-1, 1.5, NaN])('length %s -> null', (len) => {
    expect(mem.view(0x1000, len)).toBeNull();
  });
  it('zero length inside a region -> empty view', () => {
    expect(mem.view(0x1005, 0)!.length).toBe(0);
  });
  it('zero length at a region end -> empty view', () => {
    expect(mem.view(0x2008, 0)!.length).toBe(0);
  });
  it('zero length outside every region -> null', () => {
    expect(mem.view(0x3000, 0)).toBeNull();
  });
  it('views over a SharedArrayBuffer region work', () => {
    expect(mem.view(0x2000, 8)!.buffer).toBeInstanceOf(SharedArrayBuffer);
  });
  it('view cache: thousands of repeated and colliding ranges each give the right bytes', () => {
    const bytes = new Uint8Array(1 << 16);
    const big = new ArrayGuestMemory([{ gpa: 0x4000_0000, bytes }]);
    let seed = 7;
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    // Few distinct keys, many lookups: far more ranges than cache slots, and many repeats.
    const keys = Array.from({ length: 600 }, () => [rnd(bytes.length - 64), 1 + rnd(64)] as const);
    for (let i = 0; i < 5000; i++) {
      const [off, len] = keys[rnd(keys.length)];
      const v = big.view(0x4000_0000 + off, len)!;
      expect(v.byteOffset).toBe(off);
      expect(v.length).toBe(len);
      expect(v.buffer).toBe(bytes.buffer);
    }
  });
  it('view cache: a cached range is still refused once it is asked for past the region', () => {
    expect(mem.view(0x2000, 8)).not.toBeNull();
    expect(mem.view(0x2000, 9)).toBeNull();
    expect(mem.view(0x2000, 8)!.length).toBe(8);
  });
});

describe('slices', () => {
  const mem = twoAdjacent();
  it('range across adjacent regions -> pieces in order', () => {
    const s = mem.slices(0x100e, 4)!;
    expect(s.map((p) => [...p])).toEqual([
      [14, 15],
      [16, 17],
    ]);
  });
  it('range across a gap -> null', () => {
    expect(mem.slices(0x101e, 4)).toBeNull();
  });
  it('range wrapping past MAX_SAFE_INTEGER -> null', () => {
    expect(mem.slices(0x1000, Number.MAX_SAFE_INTEGER)).toBeNull();
  });
  it('zero length at a mapped gpa -> empty array', () => {
    expect(mem.slices(0x1010, 0)).toEqual([]);
  });
  it('zero length unmapped -> null', () => {
    expect(mem.slices(0x10, 0)).toBeNull();
  });
  it('isMapped agrees with slices', () => {
    for (const [gpa, len] of [
      [0x100e, 4],
      [0x101e, 4],
      [0x1000, 32],
      [0x1000, 33],
      [0x2000, 8],
      [0x2000, 0],
    ]) {
      expect(mem.isMapped(gpa, len)).toBe(mem.slices(gpa, len) !== null);
    }
  });
  it('isMapped helper falls back to slices for memories without isMapped', () => {
    const bare: GuestMemory = { view: (g, l) => mem.view(g, l), slices: (g, l) => mem.slices(g, l) };
    expect(isMapped(bare, 0x100e, 4)).toBe(true);
    expect(isMapped(bare, 0x101e, 4)).toBe(false);
  });
});

describe('LE helpers', () => {
  it('u16/u32/u64 round-trip across a region boundary', () => {
    const mem = twoAdjacent();
    expect(writeU16(mem, 0x100f, 0xbeef)).toBe(true);
    expect(readU16(mem, 0x100f)).toBe(0xbeef);
    expect(writeU32(mem, 0x100e, 0xdeadbeef)).toBe(true);
    expect(readU32(mem, 0x100e)).toBe(0xdeadbeef);
    expect(writeU64(mem, 0x100c, 0x01234567_89abcdefn)).toBe(true);
    expect(readU64(mem, 0x100c)).toBe(0x01234567_89abcdefn);
    expect(mem.view(0x100c, 1)![0]).toBe(0xef);
  });
  it('unmapped reads -> -1 / null, writes -> false', () => {
    const mem = twoAdjacent();
    expect(readU16(mem, 0x101f)).toBe(-1);
    expect(readU32(mem, 0)).toBe(-1);
    expect(readU64(mem, 0x2004)).toBeNull();
    expect(writeU32(mem, 0x2006, 1)).toBe(false);
  });
});

describe('gpaFromParts', () => {
  it('combines lo and hi words', () => {
    expect(gpaFromParts(0x1234, 0x1)).toBe(0x1_0000_1234);
  });
  it('largest safe address is kept', () => {
    expect(gpaFromParts(0xffff_ffff, 0x1f_ffff)).toBe(Number.MAX_SAFE_INTEGER);
  });
  it('address beyond MAX_SAFE_INTEGER -> -1', () => {
    expect(gpaFromParts(0, 0x20_0000)).toBe(-1);
    expect(gpaFromParts(0, 0xffff_ffff)).toBe(-1);
  });
});
