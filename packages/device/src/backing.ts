/**
 * Guest backing resolved once, at attach time. ATTACH_BACKING and CREATE_BLOB hand the device a
 * list of guest-physical (addr, length) entries; each is resolved through guest memory into the
 * ArrayBuffer that holds it and the offset there, so transfers copy whole runs with
 * `Uint8Array.set` and never look guest addresses up again (virtio-gpu: "the device ... uses the
 * pages as backing store").
 *
 * Host memory: a guest may attach 16384 tiny scattered entries to each of 16384 resources, so
 * what one entry costs the host is what bounds it. A run is kept as three float64s (guest
 * address, offset in its buffer, backing offset) and a u16 buffer index in typed arrays sized
 * exactly at attach ({@link RUN_HOST_BYTES}); nothing per entry lives on the JS heap, so the
 * bytes charged against the quota ({@link Backing.hostBytes}) are the bytes kept, and they sit
 * outside the garbage-collected heap, whose growth would otherwise multiply them.
 */
import { type MemEntry, u64ToSafe } from '@virtio-gpu/protocol';
import type { GuestMemory } from '@virtio-gpu/virtqueue';
import { type Result, errParameter, errUnspec, ok } from './result.js';

/** Copies up to this many bytes go byte by byte: below it, making a subarray view costs more. */
const SMALL_COPY = 64;

/** Host bytes one run costs: 3 float64s and a u16 in exactly sized typed arrays. */
export const RUN_HOST_BYTES = 3 * 8 + 2;

/**
 * Host bytes one Backing costs whatever its size: the object, its typed arrays' headers and
 * ArrayBuffers, the buffer list (measured with V8 heap snapshots: under 600 bytes; rounded up).
 */
export const BACKING_FIXED_HOST_BYTES = 1024;

/** Distinct ArrayBuffers of one Backing are numbered in a u16. */
const MAX_BUFFERS = 0xffff;

/**
 * Where a backing offset lies in guest memory, filled by {@link Backing.runFrom}: `bytes` is a
 * view of the whole buffer the run is in (kept by the backing, not made per call), `at` the
 * offset of the byte there, `length` how many bytes run on contiguously from it.
 */
export interface BackingSpan {
  bytes: Uint8Array;
  at: number;
  length: number;
}

/** A backing's storage (see {@link Backing}'s fields). */
interface BackingParts {
  runs: Float64Array;
  bufIndex: Uint16Array;
  buffers: Uint8Array[];
  size: number;
}

/** Growable scratch for resolve, reused across attaches (one attach resolves at a time). */
let scratchRuns = new Float64Array(3 * 1024);
let scratchBufs = new Uint16Array(1024);

/**
 * A resource's backing store: runs of guest memory in backing order. Renderers (including a
 * native one) read and write it with copyOut/copyIn, or take views with {@link Backing.iovecs}.
 */
export class Backing {
  /** Total bytes. */
  readonly size: number;
  /** Number of runs (adjacent pieces of one buffer are merged into one). */
  readonly runCount: number;
  /** Per run i: [3i] guest address, [3i+1] offset in its buffer, [3i+2] backing offset. */
  private readonly runs: Float64Array;
  /** Per run: index into {@link buffers}. */
  private readonly bufIndex: Uint16Array;
  /** Whole-buffer views of the distinct ArrayBuffers the runs lie in (a few: one per region). */
  private readonly buffers: Uint8Array[];

  /**
   * A backing made of these views of guest memory, in order (empty ones dropped, adjacent ones
   * merged): for renderers and tests that build one by hand. The device uses {@link resolve}.
   */
  constructor(views: readonly Uint8Array[]);
  /** @internal What resolve's builder made. */
  constructor(parts: BackingParts);
  constructor(arg: readonly Uint8Array[] | BackingParts) {
    let p: BackingParts;
    if (Array.isArray(arg)) {
      const b = new BackingBuilder();
      for (const v of arg as readonly Uint8Array[]) b.add(-1, v);
      p = b.parts();
    } else {
      p = arg as BackingParts;
    }
    this.runs = p.runs;
    this.bufIndex = p.bufIndex;
    this.buffers = p.buffers;
    this.runCount = p.bufIndex.length;
    this.size = p.size;
  }

  /** Host bytes this backing keeps: what the device charges for it. */
  get hostBytes(): number {
    return Backing.hostBytesFor(this.runCount);
  }

  /** Host bytes a backing of `runs` runs keeps (for checking the quota before resolving). */
  static hostBytesFor(runs: number): number {
    return BACKING_FIXED_HOST_BYTES + runs * RUN_HOST_BYTES;
  }

  /** The runs as views into guest memory, made on each call (the backing keeps none). */
  get iovecs(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = 0; i < this.runCount; i++) out.push(this.view(i));
    return out;
  }

  /** Backing offset of each run's first byte. */
  get starts(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.runCount; i++) out.push(this.runs[3 * i + 2]);
    return out;
  }

  /** The runs as guest (addr, length) entries: what a snapshot stores to resolve them again. */
  entries(): MemEntry[] {
    const out: MemEntry[] = [];
    for (let i = 0; i < this.runCount; i++) out.push({ addr: BigInt(this.runs[3 * i]), length: this.runLength(i) });
    return out;
  }

  private runLength(i: number): number {
    return (i + 1 < this.runCount ? this.runs[3 * i + 5] : this.size) - this.runs[3 * i + 2];
  }

  private view(i: number): Uint8Array {
    const at = this.runs[3 * i + 1];
    return this.buffers[this.bufIndex[i]].subarray(at, at + this.runLength(i));
  }

  /**
   * Resolve mem entries through guest memory. Every entry must be fully mapped; otherwise the
   * whole attach fails (nothing is half attached). Addresses beyond 2^53 are unmapped by definition.
   */
  static resolve(memory: GuestMemory, entries: readonly MemEntry[], maxEntries: number): Result<Backing> {
    if (entries.length > maxEntries) return errParameter(`${entries.length} backing entries > ${maxEntries}`);
    const b = new BackingBuilder();
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (e.length === 0) continue;
      const addr = u64ToSafe(e.addr);
      if (addr < 0) return errUnspec(`backing entry ${i}: address beyond 2^53`);
      // One view in the common case; slices only when the entry crosses into the next region.
      const one = memory.view(addr, e.length);
      if (one) {
        if (!b.add(addr, one)) return errUnspec(`backing entry ${i}: more than ${MAX_BUFFERS} guest memory buffers`);
        continue;
      }
      const pieces = memory.slices(addr, e.length);
      if (!pieces) return errUnspec(`backing entry ${i} (0x${e.addr.toString(16)}+${e.length}) not in guest memory`);
      let gpa = addr;
      for (const p of pieces) {
        if (!b.add(gpa, p)) return errUnspec(`backing entry ${i}: more than ${MAX_BUFFERS} guest memory buffers`);
        gpa += p.byteLength;
      }
    }
    return ok(new Backing(b.parts()));
  }

  /** Index of the run holding backing offset `offset` (caller ensures 0 <= offset < size). */
  private find(offset: number): number {
    const runs = this.runs;
    let lo = 0;
    let hi = this.runCount - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (runs[3 * mid + 2] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * The contiguous run of guest memory behind backing offset `offset`, into `out`, so a reader
   * (a scanout's readback) can convert straight out of guest memory, several rows at once when
   * the guest's pages are adjacent, instead of copying them out first. False (out untouched)
   * when `offset` is not inside the backing.
   */
  runFrom(offset: number, out: BackingSpan): boolean {
    if (!(offset >= 0 && offset < this.size)) return false;
    const i = this.find(offset);
    const within = offset - this.runs[3 * i + 2];
    out.bytes = this.buffers[this.bufIndex[i]];
    out.at = this.runs[3 * i + 1] + within;
    out.length = this.runLength(i) - within;
    return true;
  }

  /**
   * Copy `length` bytes from backing offset `offset` into `dst` at `dstOffset`, whole runs at a
   * time. Returns false (copying nothing) when the range is not inside the backing.
   */
  copyOut(offset: number, dst: Uint8Array, dstOffset: number, length: number): boolean {
    if (!(offset >= 0 && length >= 0 && offset + length <= this.size)) return false;
    if (dstOffset < 0 || dstOffset + length > dst.byteLength) return false;
    if (length === 0) return true;
    const runs = this.runs;
    const bufs = this.buffers;
    const bufIndex = this.bufIndex;
    let i = this.find(offset);
    let within = offset - runs[3 * i + 2];
    let d = dstOffset;
    let left = length;
    while (left > 0) {
      const avail = this.runLength(i) - within;
      const n = avail < left ? avail : left;
      const buf = bufs[bufIndex[i]];
      const at = runs[3 * i + 1] + within;
      if (n <= SMALL_COPY) {
        // A view for a few bytes (a 1x1 transfer, a narrow rect's row) costs more than the copy.
        for (let k = 0; k < n; k++) dst[d + k] = buf[at + k];
      } else {
        dst.set(buf.subarray(at, at + n), d);
      }
      d += n;
      left -= n;
      within = 0;
      i++;
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
    const runs = this.runs;
    let i = this.find(offset);
    let within = offset - runs[3 * i + 2];
    let s = srcOffset;
    let left = length;
    while (left > 0) {
      const n = Math.min(this.runLength(i) - within, left);
      const buf = this.buffers[this.bufIndex[i]];
      const at = runs[3 * i + 1] + within;
      if (n <= SMALL_COPY) {
        for (let k = 0; k < n; k++) buf[at + k] = src[s + k];
      } else {
        buf.set(src.subarray(s, s + n), at);
      }
      s += n;
      left -= n;
      within = 0;
      i++;
    }
    return true;
  }
}

/** Collects runs into the reused scratch, merging adjacent ones, then copies them out exactly sized. */
class BackingBuilder {
  private n = 0;
  private size = 0;
  private readonly buffers: Uint8Array[] = [];
  private readonly bufferOf = new Map<ArrayBufferLike, number>();
  /** End (offset in its buffer) of the last run, to merge the next one onto it. */
  private lastEnd = -1;

  /** Append a view at guest address `gpa` (-1 when it has none); false past MAX_BUFFERS. */
  add(gpa: number, v: Uint8Array): boolean {
    const len = v.byteLength;
    if (len === 0) return true;
    let bi = this.bufferOf.get(v.buffer);
    if (bi === undefined) {
      if (this.buffers.length >= MAX_BUFFERS) return false;
      bi = this.buffers.length;
      this.buffers.push(new Uint8Array(v.buffer));
      this.bufferOf.set(v.buffer, bi);
    }
    const n = this.n;
    // Guests often hand out physically contiguous pages: one run copies faster than many.
    if (n > 0 && scratchBufs[n - 1] === bi && this.lastEnd === v.byteOffset) {
      this.lastEnd += len;
      this.size += len;
      return true;
    }
    if (3 * (n + 1) > scratchRuns.length) {
      const grown = new Float64Array(scratchRuns.length * 2);
      grown.set(scratchRuns);
      scratchRuns = grown;
      const grownBufs = new Uint16Array(scratchBufs.length * 2);
      grownBufs.set(scratchBufs);
      scratchBufs = grownBufs;
    }
    scratchRuns[3 * n] = gpa;
    scratchRuns[3 * n + 1] = v.byteOffset;
    scratchRuns[3 * n + 2] = this.size;
    scratchBufs[n] = bi;
    this.n = n + 1;
    this.lastEnd = v.byteOffset + len;
    this.size += len;
    return true;
  }

  /** The runs copied out of the scratch, exactly sized. */
  parts(): BackingParts {
    return { runs: scratchRuns.slice(0, 3 * this.n), bufIndex: scratchBufs.slice(0, this.n), buffers: this.buffers, size: this.size };
  }
}
