/**
 * State and checks shared by the split and packed queues: chain recycling, the broken flag,
 * per-buffer validation and the `bytesWritten` clamp.
 */

import { DescriptorChain } from './chain.js';
import { type GuestMemory, isMapped } from './guest-memory.js';
import type { QueueError, QueueErrorKind } from './queue-error.js';

/** Largest total a chain may describe: used `len` is a le32 (§2.7.5.2 "2^32 bytes"). */
const MAX_CHAIN_BYTES = 0xffff_ffff;

/** Names a descriptor in messages; built only on failure to keep walks allocation-free. */
export function where(index: number, indirect: boolean): string {
  return indirect ? `indirect descriptor ${index}` : `descriptor ${index}`;
}

/** Common base of {@link SplitQueue} and {@link PackedQueue}; not exported from the package. */
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

export abstract class QueueCore {
  /** The guest memory the rings and buffers live in. */
  readonly mem: GuestMemory;
  /** Bumped by reset() so chains popped before it are ignored by pushUsed. */
  protected gen = 0;
  /** @internal */ protected brokenErr: QueueError | null = null;
  private readonly free: DescriptorChain[] = [];
  // Per-walk validation state (one walk at a time; no allocation per pop).
  private sawWritable = false;
  private chainBytes = 0;

  protected constructor(mem: GuestMemory) {
    this.mem = mem;
  }

  /** Set on ring corruption; see {@link QueueError}. */
  get broken(): QueueError | null {
    return this.brokenErr;
  }

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
