/**
 * State and checks shared by the split and packed queues: chain recycling, the broken flag,
 * per-buffer validation and the `bytesWritten` clamp.
 */

import { DescriptorChain } from './chain.js';
import { type GuestMemory, gpaFromParts, isMapped } from './guest-memory.js';
import type { QueueError, QueueErrorKind } from './queue-error.js';
import { RingView } from './ring-view.js';
import { VIRTQ_DESC_F_NEXT } from './virtio-ring.js';

/** Bytes of one descriptor, split (struct virtq_desc) and packed (struct pvirtq_desc) alike. */
const DESC_SIZE = 16;

/** Largest total a chain may describe: used `len` is a le32 (§2.7.5.2 "2^32 bytes"). */
const MAX_CHAIN_BYTES = 0xffff_ffff;

/** Names a descriptor in messages; built only on failure to keep walks allocation-free. */
export function where(index: number, indirect: boolean): string {
  return indirect ? `indirect descriptor ${index}` : `descriptor ${index}`;
}

/** A ring part a transport configured: name (for the message), guest address, alignment, bytes. */
export type RingArea = [name: string, gpa: number, align: number, length: number];

/**
 * Why a ring configuration is unusable, or null: each area must be a safe guest address, aligned
 * as its ring type requires (virtio 1.3 §2.7 and §2.8 alignment tables), and lie in one region
 * (the queues keep one view per area).
 */
export function checkRingAreas(mem: GuestMemory, areas: readonly RingArea[]): string | null {
  for (const [name, gpa, align, len] of areas) {
    if (!Number.isSafeInteger(gpa) || gpa < 0) return `${name} address ${gpa} is not a valid gpa`;
    if (gpa % align !== 0) return `${name} address ${gpa} is not ${align}-byte aligned`;
    if (mem.view(gpa, len) === null) return `${name} [${gpa}, +${len}) is not in one guest-memory region`;
  }
  return null;
}

/** What split and packed configurations share. */
export interface QueueShape {
  size: number;
  eventIdx: boolean;
  maxIndirectEntries?: number;
}

/** Why `cfg`'s indirect-table bound is unusable, or null ([1, 32768]; default the queue size). */
export function checkIndirectBound(cfg: QueueShape, max: number): string | null {
  const maxInd = cfg.maxIndirectEntries ?? cfg.size;
  if (!Number.isInteger(maxInd) || maxInd < 1 || maxInd > max) return `maxIndirectEntries ${maxInd} not in [1, ${max}]`;
  return null;
}

/** Common base of {@link SplitQueue} and {@link PackedQueue}; not exported from the package. */
export abstract class QueueCore {
  /** The guest memory the rings and buffers live in. */
  readonly mem: GuestMemory;
  /** Queue size. */
  readonly size: number;
  /** Whether VIRTIO_F_EVENT_IDX is in use. */
  readonly eventIdx: boolean;
  /** Bound on indirect table entries. */
  readonly maxIndirectEntries: number;
  /** Bumped by reset() so chains popped before it are ignored by pushUsed. */
  protected gen = 0;
  /** @internal */ protected brokenErr: QueueError | null = null;
  private readonly free: DescriptorChain[] = [];
  // Per-walk validation state (one walk at a time; no allocation per pop).
  private sawWritable = false;
  private chainBytes = 0;

  /** @throws RangeError `${kind}: ${problem}` when the subclass's check found a problem. */
  protected constructor(mem: GuestMemory, cfg: QueueShape, problem: string | null, kind: string) {
    if (problem !== null) throw new RangeError(`${kind}: ${problem}`);
    this.mem = mem;
    this.size = cfg.size;
    this.eventIdx = cfg.eventIdx;
    this.maxIndirectEntries = cfg.maxIndirectEntries ?? cfg.size;
  }

  /** Set on ring corruption; see {@link QueueError}. */
  get broken(): QueueError | null {
    return this.brokenErr;
  }

  /** See {@link Virtqueue.pop}. Never throws: a host bug in a walk breaks the queue instead. */
  pop(): DescriptorChain | null {
    if (this.brokenErr !== null) return null;
    try {
      return this.popChain();
    } catch (e) {
      return this.fail('internal', `pop: ${String(e)}`);
    }
  }

  /** The next available chain, walked and validated, or null (none, or the queue broke). */
  protected abstract popChain(): DescriptorChain | null;

  /** Marks the queue broken and returns null so callers can `return this.fail(...)`. */
  protected fail(kind: QueueErrorKind, message: string): null {
    if (this.brokenErr === null) this.brokenErr = { kind, message };
    return null;
  }

  /** Like {@link fail} for walks that return a boolean. */
  protected reject(kind: QueueErrorKind, message: string): false {
    this.fail(kind, message);
    return false;
  }

  /** A cleared chain owned by this queue, recycled when possible. */
  protected takeChain(): DescriptorChain {
    const c = this.free.pop() ?? new DescriptorChain(this.mem);
    c._clear();
    c._owner = this;
    this.sawWritable = false;
    this.chainBytes = 0;
    return c;
  }

  /** Hands a chain back to the pool. */
  protected recycle(c: DescriptorChain): void {
    c._live = false;
    // Bounded pool: a device that pops a burst keeps at most this many spares.
    if (this.free.length < 1024) this.free.push(c);
  }

  /** Marks a fully walked chain as handed out. */
  protected publish(c: DescriptorChain): DescriptorChain {
    c._rewind();
    c._gen = this.gen;
    c._live = true;
    return c;
  }

  /**
   * Validates one buffer descriptor and appends it; false (queue broken) on a zero length,
   * unmapped range, readable-after-writable order or a chain total over 2^32 - 1.
   */
  protected addBuffer(
    c: DescriptorChain,
    gpa: number,
    len: number,
    writable: boolean,
    index: number,
    indirect: boolean,
  ): boolean {
    if (len === 0) return this.reject('zero-length', `${where(index, indirect)}: zero-length buffer`);
    if (writable) {
      this.sawWritable = true;
    } else if (this.sawWritable) {
      return this.reject('read-after-write', `${where(index, indirect)}: device-readable buffer after a writable one`);
    }
    const total = this.chainBytes + len;
    if (total > MAX_CHAIN_BYTES) return this.reject('chain-too-long', `${where(index, indirect)}: chain exceeds 2^32 - 1 bytes`);
    if (gpa < 0 || !isMapped(this.mem, gpa, len)) {
      return this.reject('unmapped', `${where(index, indirect)}: buffer [${gpa < 0 ? '>2^53' : gpa}, +${len}) not in guest memory`);
    }
    this.chainBytes = total;
    c._add(gpa, len, writable);
    return true;
  }

  /**
   * The indirect table a descriptor names (§2.7.5.3.1, §2.8.8): never together with NEXT, a
   * non-zero multiple of 16 bytes of at most maxIndirectEntries descriptors, in one region.
   * Otherwise the queue is broken and the result null. `name` names the descriptor in messages.
   */
  protected indirectTable(name: string, flags: number, lo: number, hi: number, len: number): RingView | null {
    if ((flags & VIRTQ_DESC_F_NEXT) !== 0) return this.fail('indirect-next', `${name}: indirect flag together with next`);
    if (len === 0 || len % DESC_SIZE !== 0 || len / DESC_SIZE > this.maxIndirectEntries) {
      return this.fail('indirect-length', `${name}: indirect table length ${len} (multiple of 16, at most ${this.maxIndirectEntries} entries)`);
    }
    const gpa = gpaFromParts(lo, hi);
    const bytes = this.mem.view(gpa, len);
    if (bytes === null) return this.fail('unmapped', `${name}: indirect table at ${gpa} (+${len}) not in one region`);
    return new RingView(bytes);
  }

  /**
   * Checks that `chain` may be pushed now and returns the used length to report, or -1 when the
   * push must be ignored (chain popped before a reset, or already pushed).
   * @throws TypeError when the chain came from another queue (a host bug, not guest input).
   */
  protected acceptPush(chain: DescriptorChain, bytesWritten: number): number {
    if (chain._owner !== this) throw new TypeError('pushUsed: chain was not popped from this queue');
    if (!chain._live || chain._gen !== this.gen) return -1;
    // The used length is what the device wrote: never more than the chain can hold (§2.7.8.1).
    let len = Math.floor(bytesWritten);
    if (!(len > 0)) len = 0;
    if (len > chain._writeTotal) len = chain._writeTotal;
    return len;
  }

  /** Common part of reset(). */
  protected resetCore(): void {
    this.gen++;
    this.brokenErr = null;
  }
}
