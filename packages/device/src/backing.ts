/**
 * Guest backing resolved into host views. ATTACH_BACKING and CREATE_BLOB hand the device a list
 * of guest-physical (addr, length) entries; they are resolved once, at attach time, into
 * `Uint8Array` views of guest memory, so transfers copy whole runs with `Uint8Array.set` and never
 * look guest addresses up again (virtio-gpu: "the device ... uses the pages as backing store").
 */
import { type MemEntry, u64ToSafe } from '@virtio-gpu/protocol';
import type { GuestMemory } from '@virtio-gpu/virtqueue';
import { type Result, errParameter, errUnspec, ok } from './result.js';

/** Copies up to this many bytes go byte by byte: below it, making a subarray view costs more. */
const SMALL_COPY = 64;

/**
 * A resource's backing store: the guest pages as host views in order, with their start offsets.
 * Renderers (including a native one) read and write through these views.
 */
export class Backing {
  /** The runs, in backing order; adjacent pieces of one buffer are merged. */
  readonly iovecs: readonly Uint8Array[];
  /** `starts[i]` is the backing offset of `iovecs[i][0]`. */
  readonly starts: readonly number[];
  /** Total bytes. */
  readonly size: number;

  /** Build from already resolved runs (empty runs are dropped). */
  constructor(runs: readonly Uint8Array[]) {
    const iovecs: Uint8Array[] = [];
    const starts: number[] = [];
    let size = 0;
    for (const run of runs) {
      if (run.byteLength === 0) continue;
      const prev = iovecs[iovecs.length - 1];
      // Guests often hand out physically contiguous pages: one run copies faster than many.
      if (prev && prev.buffer === run.buffer && prev.byteOffset + prev.byteLength === run.byteOffset) {
        iovecs[iovecs.length - 1] = new Uint8Array(prev.buffer, prev.byteOffset, prev.byteLength + run.byteLength);
      } else {
        iovecs.push(run);
        starts.push(size);
      }
      size += run.byteLength;
    }
    this.iovecs = iovecs;
    this.starts = starts;
    this.size = size;
  }

  /**
   * Resolve mem entries through guest memory. Every entry must be fully mapped; otherwise the
   * whole attach fails (nothing is half attached). Addresses beyond 2^53 are unmapped by definition.
   */
  static resolve(memory: GuestMemory, entries: readonly MemEntry[], maxEntries: number): Result<Backing> {
    if (entries.length > maxEntries) return errParameter(`${entries.length} backing entries > ${maxEntries}`);
    const runs: Uint8Array[] = [];
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (e.length === 0) continue;
      const addr = u64ToSafe(e.addr);
      if (addr < 0) return errUnspec(`backing entry ${i}: address beyond 2^53`);
      const pieces = memory.slices(addr, e.length);
      if (!pieces) return errUnspec(`backing entry ${i} (0x${e.addr.toString(16)}+${e.length}) not in guest memory`);
      for (const p of pieces) runs.push(p);
    }
    return ok(new Backing(runs));
  }

  /** Index of the run holding backing offset `offset` (caller ensures 0 <= offset < size). */
  private find(offset: number): number {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Copy `length` bytes from backing offset `offset` into `dst` at `dstOffset`, whole runs at a
   * time. Returns false (copying nothing) when the range is not inside the backing.
   */
  copyOut(offset: number, dst: Uint8Array, dstOffset: number, length: number): boolean {
    if (!(offset >= 0 && length >= 0 && offset + length <= this.size)) return false;
    if (dstOffset < 0 || dstOffset + length > dst.byteLength) return false;
    if (length === 0) return true;
    const iovecs = this.iovecs;
    let i = this.find(offset);
    let within = offset - this.starts[i];
    let d = dstOffset;
    let left = length;
    while (left > 0) {
      const run = iovecs[i++];
      const avail = run.byteLength - within;
      if (within === 0 && avail <= left) {
        dst.set(run, d);
        d += avail;
        left -= avail;
      } else {
        const n = avail < left ? avail : left;
        if (n <= SMALL_COPY) {
          // A view for a few bytes (a 1x1 transfer, a narrow rect's row) costs more than the copy.
          for (let k = 0; k < n; k++) dst[d + k] = run[within + k];
        } else {
          dst.set(run.subarray(within, within + n), d);
        }
        d += n;
        left -= n;
      }
      within = 0;
    }
    return true;
  }

  /**
   * Copy `length` bytes of `src` from `srcOffset` into the backing at `offset` (readback to the
   * guest, TRANSFER_FROM_HOST). Returns false (copying nothing) when out of range.
   */
  copyIn(offset: number, src: Uint8Array, srcOffset: number, length: number): boolean {
    if (!(offset >= 0 && length >= 0 && offset + length <= this.size)) return false;
    if (srcOffset < 0 || srcOffset + length > src.byteLength) return false;
    if (length === 0) return true;
    let i = this.find(offset);
    let within = offset - this.starts[i];
    let s = srcOffset;
    let left = length;
    while (left > 0) {
      const run = this.iovecs[i++];
      const n = Math.min(run.byteLength - within, left);
      if (n <= SMALL_COPY) {
        for (let k = 0; k < n; k++) run[within + k] = src[s + k];
      } else {
        run.set(src.subarray(s, s + n), within);
      }
      s += n;
      left -= n;
      within = 0;
    }
    return true;
  }
}
