import { describe, expect, it } from 'vitest';
import { MAX_SAFE_U64, readU64, u64ToSafe, writeU64 } from './view.js';

describe('64-bit values', () => {
  it('u64ToSafe: exact numbers up to 2^53 - 1, -1 above', () => {
    expect(u64ToSafe(0n)).toBe(0);
    expect(u64ToSafe(0x1_0000_0714n)).toBe(0x1_0000_0714);
    expect(u64ToSafe(MAX_SAFE_U64)).toBe(Number.MAX_SAFE_INTEGER);
    expect(u64ToSafe(MAX_SAFE_U64 + 1n)).toBe(-1);
    expect(u64ToSafe(0xffff_ffff_ffff_ffffn)).toBe(-1);
    expect(u64ToSafe(-1n)).toBe(-1);
  });

  it('readU64/writeU64 round-trip the whole range through the le32 halves', () => {
    const b = new Uint8Array(8);
    for (const v of [0n, 1n, 0xffff_ffffn, 0x1_0000_0000n, 0x8000_0000_0000_0001n, 0xffff_ffff_ffff_ffffn]) {
      writeU64(b, 0, v);
      expect(readU64(b, 0)).toBe(v);
    }
  });

  it('writeU64 refuses values outside 0..2^64-1 (a host bug)', () => {
    const b = new Uint8Array(8);
    expect(() => writeU64(b, 0, -1n)).toThrow(RangeError);
    expect(() => writeU64(b, 0, 1n << 64n)).toThrow(RangeError);
  });
});
