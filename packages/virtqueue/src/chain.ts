/**
 * A popped descriptor chain and its scatter-gather cursors.
 *
 * The chain stores each descriptor's (gpa, length) in typed arrays rather than one object per
 * descriptor, and queues recycle chains after `pushUsed`, so steady-state pop/answer allocates
 * only the views handed to the caller. A chain is therefore valid only until it is pushed.
 */

import type { GuestMemory } from './guest-memory.js';
import { gatherParts, scatterParts } from './parts.js';
import type { Chain, ChainReader, ChainWriter } from './virtqueue.js';

const INITIAL_CAPACITY = 4;

/** One chain made available by the driver, from `Virtqueue.pop()` until `pushUsed()`. */
export class DescriptorChain implements Chain {
  /** Cursor over the device-readable descriptors, in chain order. */
  readonly reader: Reader;
  /** Cursor over the device-writable descriptors, in chain order. */
  readonly writer: Writer;
  /** The guest memory the descriptors point into. */
  readonly mem: GuestMemory;

  // Internal state shared with Reader, Writer and the queues (not part of the API).
  /** @internal */ _head = 0;
  /** @internal */ _gpas: Float64Array = new Float64Array(INITIAL_CAPACITY);
  /** @internal */ _lens: Float64Array = new Float64Array(INITIAL_CAPACITY);
  /** @internal */ _count = 0;
  /** @internal number of readable descriptors; they precede the writable ones */
  _readCount = 0;
  /** @internal */ _readTotal = 0;
  /** @internal */ _writeTotal = 0;
  /** @internal packed ring: ring slots the chain occupied (used index advances by this) */
  _ringSlots = 0;
  /** @internal queue that handed the chain out */
  _owner: object | null = null;
  /** @internal queue generation (bumped by reset) when popped */
  _gen = 0;
  /** @internal popped and not yet pushed */
  _live = false;

  /** @internal chains are made by queues */
  constructor(mem: GuestMemory) {
    this.mem = mem;
    this.reader = new Reader(this);
    this.writer = new Writer(this);
  }

  /**
   * The id to report in the used ring: the head descriptor index for split queues, the buffer
   * id of the chain's last descriptor for packed queues.
   */
  get head(): number {
    return this._head;
  }

  /** Number of buffer descriptors (indirect tables flattened; table descriptors not counted). */
  get descriptorCount(): number {
    return this._count;
  }

  /** Total bytes in device-readable descriptors. */
  get readableBytes(): number {
    return this._readTotal;
  }

  /** Total bytes in device-writable descriptors. */
  get writableBytes(): number {
    return this._writeTotal;
  }

  /** Guest address of buffer descriptor `i` (0-based, chain order), or -1 when out of range. */
  descriptorGpa(i: number): number {
    return i >= 0 && i < this._count ? this._gpas[i] : -1;
  }

  /** Length of buffer descriptor `i`, or -1 when out of range. */
  descriptorLength(i: number): number {
    return i >= 0 && i < this._count ? this._lens[i] : -1;
  }

  /** Whether buffer descriptor `i` is device-writable. */
  descriptorWritable(i: number): boolean {
    return i >= this._readCount && i < this._count;
  }

  /** @internal empties the chain for reuse */
  _clear(): void {
    this._count = 0;
    this._readCount = 0;
    this._readTotal = 0;
    this._writeTotal = 0;
    this._ringSlots = 0;
  }

  /** @internal appends one buffer; the queue has validated ordering, mapping and totals */
  _add(gpa: number, len: number, writable: boolean): void {
    if (this._count === this._gpas.length) {
      const gpas = new Float64Array(this._count * 2);
      gpas.set(this._gpas);
      this._gpas = gpas;
      const lens = new Float64Array(this._count * 2);
      lens.set(this._lens);
      this._lens = lens;
    }
    this._gpas[this._count] = gpa;
    this._lens[this._count] = len;
    this._count++;
    if (writable) {
      this._writeTotal += len;
    } else {
      this._readCount++;
      this._readTotal += len;
    }
  }

  /** @internal rewinds both cursors; called once the chain is complete */
  _rewind(): void {
    this.reader._rewind();
    this.writer._rewind();
  }
}

/** Copies guest bytes [gpa, gpa+dst.length) into dst (zeros if memory vanished since pop). */
function copyOut(mem: GuestMemory, gpa: number, dst: Uint8Array): void {
  if (mem.readInto !== undefined) {
    if (!mem.readInto(gpa, dst)) dst.fill(0);
    return;
  }
  const v = mem.view(gpa, dst.length);
  if (v !== null) {
    dst.set(v);
    return;
  }
  if (!gatherParts(mem.slices(gpa, dst.length), dst)) dst.fill(0);
}

/** Copies src into guest bytes at gpa (dropped if memory vanished since pop). */
function copyIn(mem: GuestMemory, gpa: number, src: Uint8Array): void {
  if (mem.writeFrom !== undefined) {
    mem.writeFrom(gpa, src);
    return;
  }
  const v = mem.view(gpa, src.length);
  if (v !== null) {
    v.set(src);
    return;
  }
  scatterParts(mem.slices(gpa, src.length), src);
}

/** Sequential reader over a chain's device-readable buffers (scatter-gather). */
export class Reader implements ChainReader {
  private readonly chain: DescriptorChain;
  private idx = 0;
  private off = 0;
  private left = 0;

  /** @internal made by DescriptorChain */
  constructor(chain: DescriptorChain) {
    this.chain = chain;
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.left;
  }

  /** @internal */
  _rewind(): void {
    this.idx = 0;
    this.off = 0;
    this.left = this.chain._readTotal;
  }

  /** Moves the cursor forward by n ≤ remaining bytes. */
  private advance(n: number): void {
    const lens = this.chain._lens;
    this.left -= n;
    let off = this.off + n;
    while (this.idx < this.chain._readCount && off >= lens[this.idx] && off > 0) {
      off -= lens[this.idx];
      this.idx++;
    }
    this.off = off;
  }

  /** Copies up to `dst.length` bytes into dst; returns the count copied (less at the end). */
  read(dst: Uint8Array): number {
    const total = Math.min(dst.length, this.left);
    const c = this.chain;
    let done = 0;
    while (done < total) {
      const take = Math.min(total - done, c._lens[this.idx] - this.off);
      const piece = take === dst.length ? dst : dst.subarray(done, done + take);
      copyOut(c.mem, c._gpas[this.idx] + this.off, piece);
      done += take;
      this.advance(take);
    }
    return total;
  }

  /**
   * The next n bytes, or `null` when fewer remain (nothing consumed then). A view into guest
   * memory when they lie in one descriptor and one region (zero-copy: the guest may change it),
   * otherwise a fresh copy.
   */
  readBytes(n: number): Uint8Array | null {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.left) return null;
    const c = this.chain;
    if (n > 0 && c._lens[this.idx] - this.off >= n) {
      const v = c.mem.view(c._gpas[this.idx] + this.off, n);
      if (v !== null) {
        this.advance(n);
        return v;
      }
    }
    const out = new Uint8Array(n);
    this.read(out);
    return out;
  }

  /** Skips n bytes; false (and nothing skipped) when fewer than n remain. */
  skip(n: number): boolean {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.left) return false;
    this.advance(n);
    return true;
  }
}

/** Sequential writer over a chain's device-writable buffers (scatter-gather). */
export class Writer implements ChainWriter {
  private readonly chain: DescriptorChain;
  private idx = 0;
  private off = 0;
  private left = 0;
  private done = 0;

  /** @internal made by DescriptorChain */
  constructor(chain: DescriptorChain) {
    this.chain = chain;
  }

  /** Writable bytes left. */
  get remaining(): number {
    return this.left;
  }

  /** Bytes written so far: the usual `bytesWritten` for `pushUsed`. */
  get written(): number {
    return this.done;
  }

  /** @internal */
  _rewind(): void {
    this.idx = this.chain._readCount;
    this.off = 0;
    this.left = this.chain._writeTotal;
    this.done = 0;
  }

  /**
   * The next n writable bytes as a view into guest memory, counted as written (the caller fills
   * them before pushing the chain); `null`, with nothing consumed, when fewer than n remain or
   * they span descriptors or regions (use {@link write} then). Lets a device build a small reply
   * in place instead of in a scratch buffer it then copies. Mirrors {@link Reader.readBytes}.
   */
  claim(n: number): Uint8Array | null {
    if (!Number.isSafeInteger(n) || n <= 0 || n > this.left) return null;
    const c = this.chain;
    const lens = c._lens;
    if (lens[this.idx] - this.off < n) return null;
    const v = c.mem.view(c._gpas[this.idx] + this.off, n);
    if (v === null) return null;
    this.off += n;
    if (this.off === lens[this.idx]) {
      this.idx++;
      this.off = 0;
    }
    this.left -= n;
    this.done += n;
    return v;
  }

  /** Copies as much of src as fits into the guest buffers; returns the count written. */
  write(src: Uint8Array): number {
    const total = Math.min(src.length, this.left);
    const c = this.chain;
    const lens = c._lens;
    let done = 0;
    while (done < total) {
      const take = Math.min(total - done, lens[this.idx] - this.off);
      const piece = take === src.length ? src : src.subarray(done, done + take);
      copyIn(c.mem, c._gpas[this.idx] + this.off, piece);
      done += take;
      this.off += take;
      if (this.off === lens[this.idx]) {
        this.idx++;
        this.off = 0;
      }
    }
    this.left -= total;
    this.done += total;
    return total;
  }
}
