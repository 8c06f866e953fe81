/**
 * Codecs of the structs that commands and responses share: the ctrl header, rects, boxes, mem
 * entries, debug names; plus the text helpers describe and JSON use. The command and response
 * tables (commands.ts, responses.ts) are written with these.
 */
import { CTX_DEBUG_NAME_MAX, VIRTIO_GPU_FLAG_FENCE, VIRTIO_GPU_FLAG_INFO_RING_IDX, formatName } from './constants.js';
import { type Box, CtrlHdr, MemEntry, type Rect } from './layouts.js';
import { readU64, u32, w32, writeU64 } from './view.js';

/** A zeroed header. */
export function newHdr(): CtrlHdr {
  return { type: 0, flags: 0, fenceId: 0n, ctxId: 0, ringIdx: 0 };
}

/** A zeroed rect. */
export function newRect(): Rect {
  return { x: 0, y: 0, width: 0, height: 0 };
}

/** A zeroed box. */
export function newBox(): Box {
  return { x: 0, y: 0, z: 0, w: 0, h: 0, d: 0 };
}

// fillHdr and fillRect spell their le32 loads out instead of calling u32: they run for nearly
// every command, and V8's inlining budget ran out before their u32 calls, which then stayed
// real calls (4% of a command in profiles).

/** Fills `h` from the ctrl header at `at` (the caller checked 24 bytes are there). */
export function fillHdr(h: CtrlHdr, b: Uint8Array, at: number): void {
  h.type = (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
  h.flags = (b[at + 4] | (b[at + 5] << 8) | (b[at + 6] << 16) | (b[at + 7] << 24)) >>> 0;
  const lo = (b[at + 8] | (b[at + 9] << 8) | (b[at + 10] << 16) | (b[at + 11] << 24)) >>> 0;
  const hi = (b[at + 12] | (b[at + 13] << 8) | (b[at + 14] << 16) | (b[at + 15] << 24)) >>> 0;
  h.fenceId = hi === 0 ? (lo === 0 ? 0n : BigInt(lo)) : (BigInt(hi) << 32n) | BigInt(lo);
  h.ctxId = (b[at + 16] | (b[at + 17] << 8) | (b[at + 18] << 16) | (b[at + 19] << 24)) >>> 0;
  h.ringIdx = b[at + CtrlHdr.ringIdx];
}

/** The ctrl header at `at` as a new object (the caller checked 24 bytes are there). */
export function readHdr(b: Uint8Array, at: number): CtrlHdr {
  const h = newHdr();
  fillHdr(h, b, at);
  return h;
}

/** Writes struct virtio_gpu_ctrl_hdr at `at`: `type`, then `hdr`'s other fields, zero padding. */
export function writeHdr(out: Uint8Array, at: number, type: number, hdr: CtrlHdr): void {
  w32(out, at, type);
  w32(out, at + CtrlHdr.flags, hdr.flags);
  writeU64(out, at + CtrlHdr.fenceId, hdr.fenceId);
  w32(out, at + CtrlHdr.ctxId, hdr.ctxId);
  out[at + CtrlHdr.ringIdx] = hdr.ringIdx;
  out[at + CtrlHdr.padding] = 0;
  out[at + CtrlHdr.padding + 1] = 0;
  out[at + CtrlHdr.padding + 2] = 0;
}

/**
 * Writes the header of the response to a command whose header is `cmdHdr` (virtio-gpu §5.7.6.7):
 * `type`; when the command asked for a fence, VIRTIO_GPU_FLAG_FENCE, its fence_id and ctx_id,
 * and with INFO_RING_IDX that flag and its ring_idx; zeros otherwise.
 */
export function writeResponseHdr(out: Uint8Array, at: number, type: number, cmdHdr: CtrlHdr): void {
  w32(out, at, type);
  const flags = cmdHdr.flags;
  if ((flags & VIRTIO_GPU_FLAG_FENCE) === 0) {
    w32(out, at + CtrlHdr.flags, 0);
    w32(out, at + CtrlHdr.fenceId, 0);
    w32(out, at + CtrlHdr.fenceId + 4, 0);
    w32(out, at + CtrlHdr.ctxId, 0);
    w32(out, at + CtrlHdr.ringIdx, 0); // ring_idx and padding[3]
    return;
  }
  const ringed = (flags & VIRTIO_GPU_FLAG_INFO_RING_IDX) !== 0;
  w32(out, at + CtrlHdr.flags, VIRTIO_GPU_FLAG_FENCE | (ringed ? VIRTIO_GPU_FLAG_INFO_RING_IDX : 0));
  writeU64(out, at + CtrlHdr.fenceId, cmdHdr.fenceId);
  w32(out, at + CtrlHdr.ctxId, cmdHdr.ctxId);
  w32(out, at + CtrlHdr.ringIdx, ringed ? cmdHdr.ringIdx : 0);
}

/** Fills `r` from the rect at `at`. */
export function fillRect(r: Rect, b: Uint8Array, at: number): void {
  r.x = (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
  r.y = (b[at + 4] | (b[at + 5] << 8) | (b[at + 6] << 16) | (b[at + 7] << 24)) >>> 0;
  r.width = (b[at + 8] | (b[at + 9] << 8) | (b[at + 10] << 16) | (b[at + 11] << 24)) >>> 0;
  r.height = (b[at + 12] | (b[at + 13] << 8) | (b[at + 14] << 16) | (b[at + 15] << 24)) >>> 0;
}

/** Writes a rect at `at`. */
export function writeRect(out: Uint8Array, at: number, r: Rect): void {
  w32(out, at, r.x);
  w32(out, at + 4, r.y);
  w32(out, at + 8, r.width);
  w32(out, at + 12, r.height);
}

/** Fills `box` from the box at `at`. */
export function fillBox(box: Box, b: Uint8Array, at: number): void {
  box.x = u32(b, at);
  box.y = u32(b, at + 4);
  box.z = u32(b, at + 8);
  box.w = u32(b, at + 12);
  box.h = u32(b, at + 16);
  box.d = u32(b, at + 20);
}

/** Writes a box at `at`. */
export function writeBox(out: Uint8Array, at: number, box: Box): void {
  w32(out, at, box.x);
  w32(out, at + 4, box.y);
  w32(out, at + 8, box.z);
  w32(out, at + 12, box.w);
  w32(out, at + 16, box.h);
  w32(out, at + 20, box.d);
}

/**
 * Why `n` mem entries do not fit in the `len - structSize` bytes after a struct, or null
 * (spec §5.7.6.8: nr_entries virtio_gpu_mem_entry follow; never trust the count past the bytes).
 */
export function entriesMismatch(n: number, len: number, structSize: number): string | null {
  const room = (len - structSize) / MemEntry.SIZE;
  return n > room ? `nr_entries ${n} but room for ${Math.floor(room)}` : null;
}

/**
 * Reads `n` mem entries at `at` into `entries`, reusing the entry objects it already holds and
 * adding new ones past its length; its length becomes `n`.
 */
export function fillEntries(entries: MemEntry[], b: Uint8Array, at: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const p = at + i * MemEntry.SIZE;
    const addr = readU64(b, p);
    const length = u32(b, p + MemEntry.length);
    if (i < entries.length) {
      entries[i].addr = addr;
      entries[i].length = length;
    } else {
      entries.push({ addr, length });
    }
  }
  entries.length = n;
}

/** Writes `entries` as mem entries at `at`. */
export function writeEntries(out: Uint8Array, at: number, entries: readonly MemEntry[]): void {
  for (let i = 0; i < entries.length; i++) {
    const p = at + i * MemEntry.SIZE;
    writeU64(out, p, entries[i].addr);
    w32(out, p + MemEntry.length, entries[i].length);
    w32(out, p + MemEntry.padding, 0);
  }
}

/** Writes 4 le32 values (SET_SCANOUT_BLOB strides, offsets); throws unless there are 4. */
export function writeU32x4(out: Uint8Array, at: number, values: readonly number[], what: string): void {
  if (values.length !== 4) throw new RangeError(`${what} needs 4 values, got ${values.length}`);
  for (let i = 0; i < 4; i++) w32(out, at + i * 4, values[i]);
}

let utf8Decoder: TextDecoder | undefined;
let utf8Encoder: TextEncoder | undefined;

/** debug_name bytes as text: ASCII directly, anything else as UTF-8 with replacement characters. */
export function readName(b: Uint8Array, start: number, n: number): string {
  let ascii = true;
  for (let i = 0; i < n; i++) if (b[start + i] > 0x7f) ascii = false;
  if (ascii) {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(b[start + i]);
    return s;
  }
  utf8Decoder ??= new TextDecoder('utf-8', { fatal: false });
  return utf8Decoder.decode(b.subarray(start, start + n));
}

/** A debug name as UTF-8; throws when it is longer than debug_name holds. */
export function nameBytes(name: string): Uint8Array {
  utf8Encoder ??= new TextEncoder();
  const b = utf8Encoder.encode(name);
  if (b.length > CTX_DEBUG_NAME_MAX) throw new RangeError(`debug name is ${b.length} bytes, at most ${CTX_DEBUG_NAME_MAX}`);
  return b;
}

// ---- text, for describe() and the JSON renderings ----

/** `WxH+X+Y`. */
export function rectText(r: Rect): string {
  return `${r.width}x${r.height}+${r.x}+${r.y}`;
}

/** A format's C name without VIRTIO_GPU_FORMAT_, or its number. */
export function formatText(format: number): string {
  const n = formatName(format);
  return n ? n.slice('VIRTIO_GPU_FORMAT_'.length) : String(format);
}

/** A rect with C field names. */
export function rectJson(r: Rect): Record<string, number> {
  return { x: r.x, y: r.y, width: r.width, height: r.height };
}

/** Mem entries as JSON: addresses as decimal strings. */
export function entriesJson(entries: readonly MemEntry[]): { addr: string; length: number }[] {
  return entries.map((e) => ({ addr: String(e.addr), length: e.length }));
}

/** Bytes as lowercase hex. */
export function hex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return s;
}

/**
 * The header of the response to a command whose header is `cmdHdr`, as an object: the rule of
 * {@link writeResponseHdr}, for code that builds responses as values (drivers, tests, tools).
 */
export function responseHdr(cmdHdr: CtrlHdr, type: number): CtrlHdr {
  if ((cmdHdr.flags & VIRTIO_GPU_FLAG_FENCE) === 0) return { type, flags: 0, fenceId: 0n, ctxId: 0, ringIdx: 0 };
  const ringed = (cmdHdr.flags & VIRTIO_GPU_FLAG_INFO_RING_IDX) !== 0;
  return {
    type,
    flags: VIRTIO_GPU_FLAG_FENCE | (ringed ? VIRTIO_GPU_FLAG_INFO_RING_IDX : 0),
    fenceId: cmdHdr.fenceId,
    ctxId: cmdHdr.ctxId,
    ringIdx: ringed ? cmdHdr.ringIdx : 0,
  };
}
