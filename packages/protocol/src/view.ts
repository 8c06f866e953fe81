/**
 * Shared DataView access for the codecs.
 *
 * Creating a DataView costs about as much as decoding a small command, so the codecs keep one
 * view over the whole ArrayBuffer of the last input and reuse it while callers keep passing
 * slices of the same buffer (the normal case: one guest-memory buffer, many commands). Reads
 * go at `bytes.byteOffset + offset` and every bound is checked against the Uint8Array, never
 * against the whole buffer.
 */

let lastBuffer: ArrayBufferLike | null = null;
let lastView: DataView = new DataView(new ArrayBuffer(0));

/** A DataView over the whole buffer behind `bytes` (cached for the last buffer seen). */
export function viewOf(bytes: Uint8Array): DataView {
  const buffer = bytes.buffer;
  if (buffer !== lastBuffer) {
    lastView = new DataView(buffer);
    lastBuffer = buffer;
  }
  return lastView;
}

/** Reads a little-endian u64 as bigint, without making a bigint from two halves when it is small. */
export function readU64(v: DataView, at: number): bigint {
  const hi = v.getUint32(at + 4, true);
  if (hi === 0) {
    const lo = v.getUint32(at, true);
    return lo === 0 ? 0n : BigInt(lo);
  }
  return v.getBigUint64(at, true);
}

const U64_MAX = (1n << 64n) - 1n;

/**
 * Writes a bigint as a little-endian u64. A value outside 0..2^64-1 is a host bug, not guest
 * input, so it throws RangeError rather than being silently wrapped.
 */
export function writeU64(v: DataView, at: number, value: bigint): void {
  if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) {
    throw new RangeError(`u64 field out of range: ${String(value)}`);
  }
  v.setBigUint64(at, value, true);
}
