import { describe, expect, it } from 'vitest';
import type { GuestRegion } from './guest-memory.js';
import { ReplaceableGuestMemory } from './replaceable-guest-memory.js';

/** The host side: what VhostMemory and V86GuestMemory do when their regions change. */
class Host extends ReplaceableGuestMemory {
  swap(regions: GuestRegion[]): void {
    this.replaceRegions(regions);
  }
}

describe('ReplaceableGuestMemory', () => {
  it('starts empty: nothing is mapped', () => {
    const m = new Host();
    expect(m.view(0, 1)).toBeNull();
    expect(m.isMapped(0, 1)).toBe(false);
  });

  it('after replaceRegions every lookup sees the new regions, none the old (no stale cached view)', () => {
    const a = new Uint8Array(64).fill(1);
    const b = new Uint8Array(64).fill(2);
    const m = new Host([{ gpa: 0x1000, bytes: a }]);
    expect(m.view(0x1000, 16)![0]).toBe(1);
    m.swap([{ gpa: 0x1000, bytes: b }]);
    expect(m.view(0x1000, 16)![0]).toBe(2);
    const dst = new Uint8Array(4);
    expect(m.readInto(0x1010, dst)).toBe(true);
    expect([...dst]).toEqual([2, 2, 2, 2]);
    expect(m.writeFrom(0x1000, new Uint8Array([9]))).toBe(true);
    expect(b[0]).toBe(9);
    expect(a[0]).toBe(1);
    m.swap([{ gpa: 0x8000, bytes: a }]);
    expect(m.view(0x1000, 16)).toBeNull();
    expect(m.slices(0x8000, 64)).toHaveLength(1);
  });

  it('bad regions throw and leave the previous ones in place', () => {
    const m = new Host([{ gpa: 0, bytes: new Uint8Array(8) }]);
    expect(() => m.swap([{ gpa: 0, bytes: new Uint8Array(8) }, { gpa: 4, bytes: new Uint8Array(8) }])).toThrow(RangeError);
    expect(m.isMapped(0, 8)).toBe(true);
  });
});
