/**
 * Device side of a split virtqueue (virtio 1.3 §2.7).
 */

import type { DescriptorChain } from './chain.js';
import { type GuestMemory, gpaFromParts } from './guest-memory.js';
import { QueueCore, type RingArea, checkIndirectBound, checkRingAreas, where } from './queue-core.js';
import { RingView } from './ring-view.js';
import {
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_MAX_SIZE,
  VIRTQ_USED_F_NO_NOTIFY,
  VirtqAvail,
  VirtqDesc,
  VirtqUsed,
  VirtqUsedElem,
} from './virtio-ring.js';
import type { Virtqueue } from './virtqueue.js';

/** Where the driver put a split ring (the transport's queue_desc/driver/device registers). */
export interface SplitQueueConfig {
  /** Queue size: a power of 2 in [1, 32768] (§2.7). */
  size: number;
  /** Descriptor table gpa, 16-byte aligned, 16*size bytes. */
  descAddr: number;
  /** Available ring gpa, 2-byte aligned, 6 + 2*size bytes. */
  availAddr: number;
  /** Used ring gpa, 4-byte aligned, 6 + 8*size bytes. */
  usedAddr: number;
  /** VIRTIO_F_EVENT_IDX negotiated: use used_event / avail_event. */
  eventIdx: boolean;
  /**
   * Most entries an indirect table may have. The spec leaves the limit to the device
   * ("longer than allowed by the device", §2.7.5.3.1); the default is the queue size, as for a
   * direct chain. Range [1, 32768].
   */
  maxIndirectEntries?: number;
}

/** `true` for an integer power of two in [1, 32768]. */
function isQueueSize(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= VIRTQ_MAX_SIZE && (n & (n - 1)) === 0;
}

/**
 * Device side of a split virtqueue.
 *
 * Ring areas must each lie contiguously in one guest-memory region; they are resolved once at
 * construction, which throws a `RangeError` for a bad configuration (see {@link SplitQueue.check}
 * to validate without throwing; the transport then sets DEVICE_NEEDS_RESET). After that nothing
 * the guest writes into memory makes `pop`/`pushUsed` throw: corruption sets {@link broken}.
 *
 * Device-side notification suppression (§2.7.10): {@link disableNotifications} /
 * {@link enableNotifications} write used.flags, or avail_event with EVENT_IDX.
 */
export class SplitQueue extends QueueCore implements Virtqueue<DescriptorChain> {
  private readonly desc: RingView;
  private readonly avail: RingView;
  private readonly used: RingView;
  private readonly usedEventOff: number;
  private readonly availEventOff: number;
  private lastAvail = 0;
  private nextUsed = 0;
  /** Used entries published since the last shouldNotify(). */
  private unsignalled = 0;
  private notifyEnabled = true;

  /**
   * Why `cfg` cannot describe a split ring in `mem`, or null when it can. Checks size, the
   * alignments of §2.7 (table 16, avail 2, used 4) and that each area is mapped in one region.
   */
  static check(mem: GuestMemory, cfg: SplitQueueConfig): string | null {
    const { size } = cfg;
    if (!isQueueSize(size)) return `queue size ${size} is not a power of 2 in [1, ${VIRTQ_MAX_SIZE}]`;
    const badBound = checkIndirectBound(cfg, VIRTQ_MAX_SIZE);
    if (badBound !== null) return badBound;
    const areas: RingArea[] = [
      ['descriptor table', cfg.descAddr, VirtqDesc.ALIGN, VirtqDesc.SIZE * size],
      ['available ring', cfg.availAddr, VirtqAvail.ALIGN, VirtqAvail.size(size)],
      ['used ring', cfg.usedAddr, VirtqUsed.ALIGN, VirtqUsed.size(size)],
    ];
    return checkRingAreas(mem, areas);
  }

  /** @throws RangeError when {@link SplitQueue.check} reports a problem. */
  constructor(mem: GuestMemory, cfg: SplitQueueConfig) {
    super(mem, cfg, SplitQueue.check(mem, cfg), 'SplitQueue');
    // Non-null: check() just resolved the same ranges.
    this.desc = new RingView(mem.view(cfg.descAddr, VirtqDesc.SIZE * cfg.size)!);
    this.avail = new RingView(mem.view(cfg.availAddr, VirtqAvail.size(cfg.size))!);
    this.used = new RingView(mem.view(cfg.usedAddr, VirtqUsed.size(cfg.size))!);
    this.usedEventOff = VirtqAvail.usedEvent(cfg.size);
    this.availEventOff = VirtqUsed.availEvent(cfg.size);
  }

  /** The device's next avail index (free-running mod 2^16); for snapshots. */
  get lastAvailIdx(): number {
    return this.lastAvail;
  }

  /** The used idx the device last published; for snapshots. */
  get usedIdx(): number {
    return this.nextUsed;
  }

  /** Restores indexes saved from {@link lastAvailIdx} / {@link usedIdx} (after a reset). */
  restoreIndexes(lastAvailIdx: number, usedIdx: number): void {
    this.lastAvail = lastAvailIdx & 0xffff;
    this.nextUsed = usedIdx & 0xffff;
  }

  /**
   * Rebuilds the chain that starts at descriptor `head` from the descriptor table, without
   * touching the available ring or the indexes. For restoring a device snapshot: a chain the old
   * device popped but had not used yet (a command waiting on a fence) is still owned by the device
   * (§2.7.13.3: the driver leaves it alone until it appears in the used ring), so the restored
   * device may walk it again and later push it used. Never throws: null when `head` is not a
   * descriptor index, or when the chain is malformed (which marks the queue broken, as pop would).
   */
  rebuildChain(head: number): DescriptorChain | null {
    if (this.brokenErr !== null) return null;
    if (!Number.isInteger(head) || head < 0 || head >= this.size) return null;
    try {
      const chain = this.takeChain();
      if (!this.walk(chain, head)) {
        this.recycle(chain);
        return null;
      }
      chain._head = head;
      return this.publish(chain);
    } catch (e) {
      return this.fail('internal', `rebuildChain: ${String(e)}`);
    }
  }

  protected popChain(): DescriptorChain | null {
    // Acquire: ring entries and descriptors are read after the idx that published them (§2.7.13).
    const availIdx = this.avail.loadU16(VirtqAvail.idx);
    const pending = (availIdx - this.lastAvail) & 0xffff;
    if (pending === 0) return null;
    if (pending > this.size) {
      return this.fail('avail-index', `avail idx ${availIdx} is ${pending} ahead of ${this.lastAvail} (size ${this.size})`);
    }
    const slot = this.lastAvail & (this.size - 1);
    const head = this.avail.u16At(VirtqAvail.ring + 2 * slot);
    if (head >= this.size) return this.fail('head-index', `avail ring[${slot}] = ${head} >= size ${this.size}`);
    const chain = this.takeChain();
    if (!this.walk(chain, head)) {
      this.recycle(chain);
      return null;
    }
    chain._head = head;
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    // Ask for a kick once the driver adds the entry after the ones we have seen (§2.7.10).
    if (this.eventIdx && this.notifyEnabled) this.used.storeU16(this.availEventOff, this.lastAvail);
    return this.publish(chain);
  }

  /**
   * Follows NEXT links from `head`, switching once into an indirect table (§2.7.5.3). Each
   * table is walked at most as many steps as it has entries, so a loop is caught there.
   */
  private walk(chain: DescriptorChain, head: number): boolean {
    let table = this.desc;
    let entries = this.size;
    let indirect = false;
    let idx = head;
    let steps = 0;
    for (;;) {
      if (steps === entries) {
        return this.reject('chain-loop', `chain from head ${head} visits more than ${entries} descriptors`);
      }
      steps++;
      const at = idx * VirtqDesc.SIZE;
      const lo = table.u32At(at + VirtqDesc.addr);
      const hi = table.u32At(at + VirtqDesc.addr + 4);
      const len = table.u32At(at + VirtqDesc.len);
      const flags = table.u16At(at + VirtqDesc.flags);
      if ((flags & VIRTQ_DESC_F_INDIRECT) !== 0) {
        // §2.7.5.3.1: one table per descriptor, never with NEXT; the WRITE flag is ignored.
        if (indirect) return this.reject('nested-indirect', `${where(idx, true)}: indirect flag inside an indirect table`);
        const t = this.indirectTable(where(idx, false), flags, lo, hi, len);
        if (t === null) return false;
        table = t;
        entries = len / VirtqDesc.SIZE;
        indirect = true;
        idx = 0;
        steps = 0;
        continue;
      }
      const writable = (flags & VIRTQ_DESC_F_WRITE) !== 0;
      if (!this.addBuffer(chain, gpaFromParts(lo, hi), len, writable, idx, indirect)) return false;
      if ((flags & VIRTQ_DESC_F_NEXT) === 0) return true;
      const next = table.u16At(at + VirtqDesc.next);
      if (next >= entries) {
        return this.reject('next-index', `${where(idx, indirect)}: next ${next} >= table size ${entries}`);
      }
      idx = next;
    }
  }

  /** See {@link Virtqueue.pushUsed}: writes the used element, then publishes used idx. */
  pushUsed(chain: DescriptorChain, bytesWritten: number): void {
    const len = this.acceptPush(chain, bytesWritten);
    if (len < 0) return;
    const at = VirtqUsed.ring + (this.nextUsed & (this.size - 1)) * VirtqUsedElem.SIZE;
    this.used.setU32(at + VirtqUsedElem.id, chain._head);
    this.used.setU32(at + VirtqUsedElem.len, len);
    this.nextUsed = (this.nextUsed + 1) & 0xffff;
    // Release: the element is visible before the idx that publishes it (§2.7.13).
    this.used.storeU16(VirtqUsed.idx, this.nextUsed);
    this.unsignalled++;
    this.recycle(chain);
  }

  /**
   * Whether to interrupt the driver for the used entries published since the last call
   * (§2.7.10): never for an empty batch; with EVENT_IDX when the batch passed used_event
   * (vring_need_event); otherwise unless avail.flags has VIRTQ_AVAIL_F_NO_INTERRUPT.
   */
  shouldNotify(): boolean {
    const batch = this.unsignalled;
    this.unsignalled = 0;
    if (batch === 0) return false;
    if (this.eventIdx) {
      if (batch > 0xffff) return true;
      // The used idx store above was sequentially consistent, so this read sees a used_event
      // the driver wrote before checking our idx (the §2.7.13 barrier).
      const usedEvent = this.avail.loadU16(this.usedEventOff);
      return ((this.nextUsed - usedEvent - 1) & 0xffff) < batch;
    }
    return (this.avail.loadU16(VirtqAvail.flags) & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
  }

  /**
   * Asks the driver not to kick (§2.7.10): sets VIRTQ_USED_F_NO_NOTIFY, or with EVENT_IDX stops
   * advancing avail_event (the driver then kicks at most once more).
   */
  disableNotifications(): void {
    this.notifyEnabled = false;
    if (!this.eventIdx) {
      this.used.storeU16(VirtqUsed.flags, this.used.u16At(VirtqUsed.flags) | VIRTQ_USED_F_NO_NOTIFY);
    }
  }

  /**
   * Asks the driver to kick again and returns whether buffers arrived meanwhile: a driver that
   * added them while kicks were off did not kick, so the device must pop them itself.
   */
  enableNotifications(): boolean {
    this.notifyEnabled = true;
    if (this.eventIdx) {
      this.used.storeU16(this.availEventOff, this.lastAvail);
    } else {
      this.used.storeU16(VirtqUsed.flags, this.used.u16At(VirtqUsed.flags) & ~VIRTQ_USED_F_NO_NOTIFY);
    }
    // Store-then-load ordering of the Atomics pair closes the race window (§2.7.13).
    return this.avail.loadU16(VirtqAvail.idx) !== this.lastAvail;
  }

  /** See {@link Virtqueue.reset}. Guest memory is not touched; chains popped before are dropped. */
  reset(): void {
    this.resetCore();
    this.lastAvail = 0;
    this.nextUsed = 0;
    this.unsignalled = 0;
    this.notifyEnabled = true;
  }
}
