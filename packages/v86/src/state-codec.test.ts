import { describe, expect, it } from 'vitest';
import { decodeState, encodeState } from './state-codec.js';

describe('state codec', () => {
  it('round-trips bigints, byte arrays, nulls and nesting', () => {
    const v = { a: 1n << 70n, b: new Uint8Array([1, 2, 3]), c: [null, { d: new Uint8Array(0), e: 'x' }], f: -0x1234n };
    expect(decodeState(encodeState(v))).toEqual(v);
  });

  it('bytes that are not a state block -> a clear error', () => {
    expect(() => decodeState(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow('not a virtio-gpu state block');
  });

  it('a truncated block -> an error, never a partial value', () => {
    const b = encodeState({ x: new Uint8Array(100) });
    expect(() => decodeState(b.subarray(0, b.length - 10))).toThrow('truncated');
  });
});
