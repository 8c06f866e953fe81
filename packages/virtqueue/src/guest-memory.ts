/**
 * Guest-physical memory as seen by the device.
 *
 * Guest-physical addresses (gpa) are JS numbers. A 64-bit address beyond
 * `Number.MAX_SAFE_INTEGER` cannot be represented exactly and is therefore unmapped by
 * definition (docs/architecture.md). Every lookup here treats its arguments as hostile: a
 * negative, fractional, NaN or unsafe address or length yields `null`, never an exception.
 */

import { gatherParts, scatterParts } from './parts.js';

/** Device view of guest memory (docs/architecture.md). */
export interface GuestMemory {
  /**
   * One contiguous view of `length` bytes at `gpa`, or `null` when any byte is unmapped or
   * the range crosses from one region into another (use {@link GuestMemory.slices} then).
   */
  view(gpa: number, length: number): Uint8Array | null;
  /**
   * The bytes of `[gpa, gpa + length)` as views in address order, split where one region ends
   * and the next adjacent one begins; `null` if any byte is unmapped or the range wraps.
   */
  slices(gpa: number, length: number): Uint8Array[] | null;
  /**
   * Optional allocation-free form of `slices(gpa, length) !== null`. Queues call it once per
   * descriptor, so implementations on hot paths should provide it; {@link isMapped} falls back
   * to `slices` when it is missing.
   */
  isMapped?(gpa: number, length: number): boolean;
  /**
   * Optional allocation-free copy of guest bytes `[gpa, gpa + dst.length)` into `dst`; false
   * (dst untouched) when any byte is unmapped. Readers use it instead of `view` + `set`.
   */
  readInto?(gpa: number, dst: Uint8Array): boolean;
  /** Optional allocation-free copy of `src` to guest bytes at `gpa`; false when unmapped. */
  writeFrom?(gpa: number, src: Uint8Array): boolean;
}

/** One guest-physical region backed by host bytes (over an ArrayBuffer or SharedArrayBuffer). */
export interface GuestRegion {
  /** Guest-physical address of `bytes[0]`. */
  gpa: number;
  /** The region's contents; the memory keeps this exact view (no copy). */
  bytes: Uint8Array;
}

/**
 * Entries in ArrayGuestMemory's view cache: 2048 sets of 2 ways. A full 256-entry split ring has
 * 128 request/response pairs, 256 views; with 512 sets about a tenth of them landed in a set
 * holding three or more and were evicted every batch (a fresh view each time). 2048 sets leave
 * none colliding for 256 views and about 2% for a 1024-entry ring. Cost: 64 KiB of keys.
 */
const VIEW_CACHE_SETS_LOG2 = 11;
const VIEW_CACHE_SIZE = 2 << VIEW_CACHE_SETS_LOG2;

/**
 * First slot of the cache set of (gpa, length): a multiplicative hash, because buffers a driver
 * allocates in fixed-size slots share their low address bits. Any number works (non-integers and
 * values past 2^32 just hash less well); the set is only a hint checked against the stored key.
 */
function viewSet(gpa: number, length: number): number {
  return (Math.imul((gpa >>> 3) ^ (gpa / 0x1_0000_0000) ^ Math.imul(length, 0x27d4eb2d), 0x9e3779b1) >>> (32 - VIEW_CACHE_SETS_LOG2)) << 1;
}

/** `true` when `n` is an integer in `[0, MAX_SAFE_INTEGER]`. */
function isSafeNonNegative(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/**
 * {@link GuestMemory} over a fixed set of non-overlapping regions.
 *
 * Zero-length ranges: `view(gpa, 0)` returns an empty view and `slices(gpa, 0)` an empty array
 * when `gpa` lies inside a region or equals a region's end address (one past its last byte), and
 * `null` otherwise, so an empty buffer still has to point somewhere the guest owns.
 *
 * Regions are host configuration, so bad ones (overlapping, unsafe addresses) throw a
 * `RangeError` at construction.
 */
export class ArrayGuestMemory implements GuestMemory {
  /** Regions sorted by guest address. */
  readonly regions: readonly GuestRegion[];
  /** `starts[i]`/`ends[i]`: gpa of the first byte of region i / one past its last byte. */
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  private readonly bytes: Uint8Array[];
  /** Index of the region the last lookup hit: most accesses cluster in one region. */
  private last = 0;
  /**
   * Direct-mapped cache of views handed out by {@link view}, keyed by (gpa, length). Creating a
   * typed-array view costs about as much as decoding a small command, and drivers keep reusing
   * the same request/response buffers (Linux recycles its vbufs from a kmem_cache), so the queue
   * path asks for the same few views again and again. Safe because regions never change: a view
   * of [gpa, gpa+length) is the same bytes every time (the guest may still change their contents,
   * exactly as with a fresh view).
   */
  private readonly viewGpa = new Float64Array(VIEW_CACHE_SIZE).fill(-1);
  private readonly viewLen = new Float64Array(VIEW_CACHE_SIZE);
  private readonly viewCache: (Uint8Array | null)[] = new Array<Uint8Array | null>(VIEW_CACHE_SIZE).fill(null);

  /** @throws RangeError for overlapping regions or addresses that are not safe integers. */
  constructor(regions: readonly GuestRegion[]) {
    const sorted = [...regions].sort((a, b) => a.gpa - b.gpa);
    for (const r of sorted) {
      if (!isSafeNonNegative(r.gpa)) throw new RangeError(`region gpa ${r.gpa} is not a safe non-negative integer`);
      if (!(r.bytes instanceof Uint8Array)) throw new RangeError('region bytes must be a Uint8Array');
      if (r.gpa + r.bytes.length > Number.MAX_SAFE_INTEGER) {
        throw new RangeError(`region at ${r.gpa} ends beyond Number.MAX_SAFE_INTEGER`);
      }
    }
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1];
      if (prev.gpa + prev.bytes.length > sorted[i].gpa) {
        throw new RangeError(`regions at ${prev.gpa} and ${sorted[i].gpa} overlap`);
      }
    }
    // Empty regions map nothing; dropping them keeps adjacency checks simple.
    const kept = sorted.filter((r) => r.bytes.length > 0);
    this.regions = kept.map((r) => ({ gpa: r.gpa, bytes: r.bytes }));
    this.starts = Float64Array.from(kept, (r) => r.gpa);
    this.ends = Float64Array.from(kept, (r) => r.gpa + r.bytes.length);
    this.bytes = kept.map((r) => r.bytes);
  }

  /**
   * Index of the region holding byte `gpa` (or, when `allowEnd`, whose end equals `gpa`), or -1.
   */
  private find(gpa: number, allowEnd: boolean): number {
    const starts = this.starts;
    const ends = this.ends;
    const l = this.last;
    if (l < starts.length && gpa >= starts[l] && (gpa < ends[l] || (allowEnd && gpa === ends[l]))) return l;
    // Binary search for the last region starting at or below gpa.
    let lo = 0;
    let hi = starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid] <= gpa) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) return -1;
    if (gpa < ends[found] || (allowEnd && gpa === ends[found])) {
      this.last = found;
      return found;
    }
    return -1;
  }

  /** See {@link GuestMemory.view}; zero-length ranges are described on the class. */
  view(gpa: number, length: number): Uint8Array | null {
    // A hit is a range that was mapped and in one region before, so it still is. Two ways per
    // set: way 0 holds the newest entry, way 1 the one it displaced.
    const k = viewSet(gpa, length);
    const vg = this.viewGpa;
    const vl = this.viewLen;
    if (vg[k] === gpa && vl[k] === length) return this.viewCache[k];
    if (vg[k + 1] === gpa && vl[k + 1] === length) return this.viewCache[k + 1];
    if (!isSafeNonNegative(gpa) || !isSafeNonNegative(length) || gpa + length > Number.MAX_SAFE_INTEGER) return null;
    const i = this.find(gpa, length === 0);
    if (i < 0) return null;
    if (gpa + length > this.ends[i]) return null;
    const off = gpa - this.starts[i];
    const v = this.bytes[i].subarray(off, off + length);
    vg[k + 1] = vg[k];
    vl[k + 1] = vl[k];
    this.viewCache[k + 1] = this.viewCache[k];
    vg[k] = gpa;
    vl[k] = length;
    this.viewCache[k] = v;
    return v;
  }

  /** See {@link GuestMemory.readInto}; crosses adjacent regions when needed. */
  readInto(gpa: number, dst: Uint8Array): boolean {
    const n = dst.length;
    if (!isSafeNonNegative(gpa) || gpa + n > Number.MAX_SAFE_INTEGER) return false;
    const i = this.find(gpa, n === 0);
    if (i < 0) return false;
    if (gpa + n <= this.ends[i]) {
      const b = this.bytes[i];
      const off = gpa - this.starts[i];
      if (n <= 32) {
        // Small copies: a byte loop beats creating a view for TypedArray.set.
        for (let k = 0; k < n; k++) dst[k] = b[off + k];
      } else {
        dst.set(b.subarray(off, off + n));
      }
      return true;
    }
    return gatherParts(this.slices(gpa, n), dst);
  }

  /** See {@link GuestMemory.writeFrom}; crosses adjacent regions when needed. */
  writeFrom(gpa: number, src: Uint8Array): boolean {
    const n = src.length;
    if (!isSafeNonNegative(gpa) || gpa + n > Number.MAX_SAFE_INTEGER) return false;
    const i = this.find(gpa, n === 0);
    if (i < 0) return false;
    if (gpa + n <= this.ends[i]) {
      this.bytes[i].set(src, gpa - this.starts[i]);
      return true;
    }
    return scatterParts(this.slices(gpa, n), src);
  }

  /** See {@link GuestMemory.slices}; zero-length ranges are described on the class. */
  slices(gpa: number, length: number): Uint8Array[] | null {
    if (!isSafeNonNegative(gpa) || !isSafeNonNegative(length) || gpa + length > Number.MAX_SAFE_INTEGER) return null;
    let i = this.find(gpa, length === 0);
    if (i < 0) return null;
    if (length === 0) return [];
    const out: Uint8Array[] = [];
    let at = gpa;
    let left = length;
    for (;;) {
      const off = at - this.starts[i];
      const take = Math.min(left, this.ends[i] - at);
      out.push(this.bytes[i].subarray(off, off + take));
      left -= take;
      at += take;
      if (left === 0) return out;
      // The next byte must begin the very next region; a gap is unmapped.
      i++;
      if (i >= this.starts.length || this.starts[i] !== at) return null;
    }
  }

  /** Allocation-free `slices(gpa, length) !== null`. */
  isMapped(gpa: number, length: number): boolean {
    if (!isSafeNonNegative(gpa) || !isSafeNonNegative(length) || gpa + length > Number.MAX_SAFE_INTEGER) return false;
    let i = this.find(gpa, length === 0);
    if (i < 0) return false;
    const end = gpa + length;
    while (end > this.ends[i]) {
      const at = this.ends[i];
      i++;
      if (i >= this.starts.length || this.starts[i] !== at) return false;
    }
    return true;
  }
}

/** Largest `hi` word for which `hi * 2^32 + lo` stays a safe integer for every `lo`. */
const MAX_SAFE_HI = 0x1f_ffff;

/**
 * The guest address `hi * 2^32 + lo` from the two little-endian halves of an le64, or -1 when
 * it exceeds `Number.MAX_SAFE_INTEGER` (such an address is unmapped by definition). -1 is itself
 * rejected by every {@link GuestMemory} lookup, so the result can be passed on unchecked.
 */
export function gpaFromParts(lo: number, hi: number): number {
  if (hi > MAX_SAFE_HI || hi < 0 || lo < 0 || lo > 0xffff_ffff) return -1;
  return hi * 0x1_0000_0000 + lo;
}

/** `slices(gpa, length) !== null` through `mem.isMapped` when the memory provides it. */
export function isMapped(mem: GuestMemory, gpa: number, length: number): boolean {
  if (mem.isMapped !== undefined) return mem.isMapped(gpa, length);
  return mem.slices(gpa, length) !== null;
}

/** Reads `n` (≤ 8) bytes at gpa into `scratch`, crossing regions if needed; false if unmapped. */
function gather(mem: GuestMemory, gpa: number, n: number, scratch: Uint8Array): boolean {
  const v = mem.view(gpa, n);
  if (v !== null) {
    scratch.set(v);
    return true;
  }
  return gatherParts(mem.slices(gpa, n), scratch);
}

/** Writes the first `n` bytes of `src` at gpa, crossing regions if needed; false if unmapped. */
function scatter(mem: GuestMemory, gpa: number, src: Uint8Array): boolean {
  return scatterParts(mem.slices(gpa, src.length), src);
}

const scratch8 = new Uint8Array(8);
const scratchView = new DataView(scratch8.buffer);

/** Little-endian u16 at gpa, or -1 when any byte is unmapped. */
export function readU16(mem: GuestMemory, gpa: number): number {
  return gather(mem, gpa, 2, scratch8) ? scratchView.getUint16(0, true) : -1;
}

/** Little-endian u32 at gpa, or -1 when any byte is unmapped. */
export function readU32(mem: GuestMemory, gpa: number): number {
  return gather(mem, gpa, 4, scratch8) ? scratchView.getUint32(0, true) : -1;
}

/** Little-endian u64 at gpa (a bigint, STYLE.md's 64-bit rule), or `null` when any byte is unmapped. */
export function readU64(mem: GuestMemory, gpa: number): bigint | null {
  if (!gather(mem, gpa, 8, scratch8)) return null;
  return scratchView.getBigUint64(0, true);
}

/** Writes a little-endian u16 (value taken mod 2^16) at gpa; false when unmapped. */
export function writeU16(mem: GuestMemory, gpa: number, value: number): boolean {
  scratchView.setUint16(0, value, true);
  return scatter(mem, gpa, scratch8.subarray(0, 2));
}

/** Writes a little-endian u32 (value taken mod 2^32) at gpa; false when unmapped. */
export function writeU32(mem: GuestMemory, gpa: number, value: number): boolean {
  scratchView.setUint32(0, value, true);
  return scatter(mem, gpa, scratch8.subarray(0, 4));
}

/** Writes a little-endian u64 (value taken mod 2^64) at gpa; false when unmapped. */
export function writeU64(mem: GuestMemory, gpa: number, value: bigint): boolean {
  scratchView.setBigUint64(0, BigInt.asUintN(64, value), true);
  return scatter(mem, gpa, scratch8);
}
