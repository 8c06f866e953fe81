/** `n` deterministic pseudo-random bytes (an LCG seeded by `seed`): test pixels with every bit pattern. Tests only. */
export function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/**
 * Asserts that two byte arrays are equal, naming the first byte that differs. Faster than
 * `expect(a).toEqual(b)` on image-sized arrays by orders of magnitude: that walks element by
 * element through vitest's generic equality and, on a loaded machine, blocked a test worker long
 * enough to time out its RPC to the runner.
 */
export function expectSameBytes(got: Uint8Array, want: Uint8Array, what = 'bytes'): void {
  if (got.length !== want.length) throw new Error(`${what}: length ${got.length}, expected ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== want[i]) throw new Error(`${what}: byte ${i} is ${got[i]}, expected ${want[i]}`);
  }
}
