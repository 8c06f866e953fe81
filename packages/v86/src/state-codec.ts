/**
 * Serialises snapshots (plain data with bigints and byte arrays, as the device and transport
 * produce them) to one Uint8Array for v86's state file, and back. Layout: "VGS1", le32 JSON
 * length, UTF-8 JSON (bigints as {"$n":"123"}, byte arrays as {"$b":index}), then each byte
 * array as le32 length + bytes.
 */

const MAGIC = 0x3153_4756; // "VGS1" little-endian

/** Encodes `value` (JSON-like, plus bigint and Uint8Array). */
export function encodeState(value: unknown): Uint8Array {
  const blobs: Uint8Array[] = [];
  const json = JSON.stringify(value, function (this: unknown, _k, v: unknown) {
    if (typeof v === 'bigint') return { $n: v.toString() };
    if (v instanceof Uint8Array) return { $b: blobs.push(v) - 1 };
    return v;
  });
  const text = new TextEncoder().encode(json);
  let size = 8 + text.length;
  for (const b of blobs) size += 4 + b.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, text.length, true);
  out.set(text, 8);
  let at = 8 + text.length;
  for (const b of blobs) {
    dv.setUint32(at, b.length, true);
    out.set(b, at + 4);
    at += 4 + b.length;
  }
  return out;
}

/** Decodes {@link encodeState}'s bytes; throws on anything else (a host-side state file). */
export function decodeState(bytes: Uint8Array): unknown {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || dv.getUint32(0, true) !== MAGIC) throw new Error('not a virtio-gpu state block');
  const n = dv.getUint32(4, true);
  if (8 + n > bytes.length) throw new Error('virtio-gpu state block truncated');
  const blobs: Uint8Array[] = [];
  let at = 8 + n;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) throw new Error('virtio-gpu state block truncated');
    const len = dv.getUint32(at, true);
    if (at + 4 + len > bytes.length) throw new Error('virtio-gpu state block truncated');
    blobs.push(bytes.slice(at + 4, at + 4 + len));
    at += 4 + len;
  }
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  return JSON.parse(text, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o.$n === 'string' && Object.keys(o).length === 1) return BigInt(o.$n);
      if (typeof o.$b === 'number' && Object.keys(o).length === 1) {
        const b = blobs[o.$b];
        if (!b) throw new Error('virtio-gpu state block: missing byte array');
        return b;
      }
    }
    return v;
  });
}
