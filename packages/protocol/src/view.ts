/**
 * Little-endian field access on a Uint8Array, for the codecs, and the project's one rule for
 * 64-bit values (STYLE.md, docs/architecture.md):
 *
 *   A 64-bit value is a `bigint` in every decoded struct, API and snapshot. Its two le32 halves
 *   exist only inside the codecs' byte loops. It becomes a `number` only where it is used as a
 *   host quantity (an offset, size or address), through {@link u64ToSafe}, which refuses anything
 *   above 2^53 - 1.
 *
 * Why not DataView: on V8, `new DataView` costs about as much as decoding a whole small command,
 * and even reading `bytes.buffer` / `bytes.byteOffset` to reuse one is a slow call, while four
 * indexed byte loads are inlined. Every caller checks its bounds once per struct before using
 * these, so they do no checks of their own.
 */

/** Reads a little-endian u32 at `i`. */
export function u32(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

/** Reads a little-endian u64 at `i` as a bigint; zero costs no bigint arithmetic. */
export function readU64(b: Uint8Array, i: number): bigint {
  const lo = u32(b, i);
  const hi = u32(b, i + 4);
  if (hi === 0) return lo === 0 ? 0n : BigInt(lo);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Writes `v` modulo 2^32 as a little-endian u32 at `i`. */
export function w32(b: Uint8Array, i: number, v: number): void {
  b[i] = v;
  b[i + 1] = v >>> 8;
  b[i + 2] = v >>> 16;
  b[i + 3] = v >>> 24;
}

const U64_MAX = (1n << 64n) - 1n;
const U32_LIMIT = 0x1_0000_0000n;

/**
 * Writes a bigint as a little-endian u64. A value outside 0..2^64-1 is a host bug, not guest
 * input, so it throws RangeError rather than being silently wrapped.
 */
export function writeU64(b: Uint8Array, i: number, value: bigint): void {
  if (value === 0n) {
    // The common case (unfenced headers, zero offsets): no bigint arithmetic.
    w32(b, i, 0);
    w32(b, i + 4, 0);
    return;
  }
  if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) {
    throw new RangeError(`u64 field out of range: ${String(value)}`);
  }
  if (value < U32_LIMIT) {
    w32(b, i, Number(value));
    w32(b, i + 4, 0);
  } else {
    w32(b, i, Number(value & 0xffff_ffffn));
    w32(b, i + 4, Number(value >> 32n));
  }
}

/** 2^53 - 1 as a bigint: the largest 64-bit value a `number` holds exactly. */
export const MAX_SAFE_U64 = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A 64-bit value as a `number` for use as a host quantity (an offset, size or address), or -1
 * when it is above 2^53 - 1 and so cannot be one exactly. The one place a guest's u64 becomes a
 * number: callers test `< 0` and answer the command with the error its spec names.
 */
export function u64ToSafe(value: bigint): number {
  return value >= 0n && value <= MAX_SAFE_U64 ? Number(value) : -1;
}
