import { describe, expect, test } from 'vitest';
import { GuestRam } from './guest-ram';

describe('GuestRam', () => {
  test('scattered backing covers exactly the requested bytes', () => {
    const ram = new GuestRam({ regions: [{ gpa: 0x100000, bytes: 16 << 20 }] });
    const entries = ram.allocScattered(1_000_000, false);
    expect(entries.reduce((n, e) => n + e.length, 0)).toBe(1_000_000);
    expect(entries.length).toBe(Math.ceil(1_000_000 / 4096));
  });

  test('writeEntries/readEntries round trip across scattered pages and regions', () => {
    const ram = new GuestRam({ regions: [{ gpa: 0x100000, bytes: 1 << 20 }, { gpa: 0x800000, bytes: 1 << 20 }], seed: 7 });
    const entries = ram.allocScattered(300_000);
    const src = new Uint8Array(300_000).map((_, i) => (i * 31) & 0xff);
    ram.writeEntries(entries, 0, src);
    expect(ram.readEntries(entries, 0, src.length)).toEqual(src);
    expect(ram.readEntries(entries, 12345, 100)).toEqual(src.subarray(12345, 12445));
    expect(() => ram.readEntries(entries, 299_999, 2)).toThrow(/backing too small/);
  });

  test('the device view sees what the driver wrote', () => {
    const ram = new GuestRam();
    const at = ram.alloc(4096);
    ram.write(at, new Uint8Array([1, 2, 3]));
    expect(Array.from(ram.memory.view(at, 3)!)).toEqual([1, 2, 3]);
  });
});
