/**
 * Device side of a packed virtqueue (virtio 1.3 §2.8, VIRTIO_F_RING_PACKED).
 */

import type { DescriptorChain } from './chain.js';
import { type GuestMemory, gpaFromParts } from './guest-memory.js';
import { QueueCore, type RingArea, checkIndirectBound, checkRingAreas, where } from './queue-core.js';
import { RingView } from './ring-view.js';
import {
  PvirtqDesc,
  PvirtqEventSuppress,
  RING_EVENT_FLAGS_DESC,
  RING_EVENT_FLAGS_DISABLE,
  RING_EVENT_FLAGS_ENABLE,
  VIRTQ_DESC_F_AVAIL,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_USED,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_MAX_SIZE,
} from './virtio-ring.js';
import type { Virtqueue } from './virtqueue.js';

/** Where the driver put a packed ring (queue_desc / queue_driver / queue_device registers). */
export interface PackedQueueConfig {
  /** Queue size: any integer in [1, 32768]; packed rings need no power of 2 (§2.8). */
  size: number;
  /** Descriptor ring gpa, 16-byte aligned, 16*size bytes. */
  descAddr: number;
  /** Driver Event Suppression structure gpa (read by the device), 4-byte aligned. */
  driverAddr: number;
  /** Device Event Suppression structure gpa (written by the device), 4-byte aligned. */
  deviceAddr: number;
  /** VIRTIO_F_EVENT_IDX negotiated: RING_EVENT_FLAGS_DESC is allowed. */
  eventIdx: boolean;
  /** Most entries an indirect table may have, [1, 32768]; default the queue size. */
  maxIndirectEntries?: number;
}

/** Is a descriptor with `flags` available in the lap whose wrap counter is `wrap` (§2.8.1)? */
function isAvailable(flags: number, wrap: boolean): boolean {
  return ((flags & VIRTQ_DESC_F_AVAIL) !== 0) === wrap && ((flags & VIRTQ_DESC_F_USED) !== 0) !== wrap;
}

/**
 * Device side of a packed virtqueue, implementing the same {@link Virtqueue} contract as
 * {@link SplitQueue}.
 *
 * Choices where the spec leaves room, all in the direction of refusing hostile rings:
 * - an indirect descriptor must be alone in its chain (head, no NEXT), like QEMU; otherwise
 *   `indirect-position` / `indirect-next`;
 * - inside an indirect table only VIRTQ_DESC_F_WRITE is read; other flags and ids are reserved
 *   and ignored (§2.8.19), so tables cannot nest or chain;
 * - the AVAIL/USED bits of non-head chain descriptors are not checked (the head publishes the
 *   chain, §2.8.21);
 * - a chain may span at most `size` ring slots (`chain-loop` beyond).
 * Construction throws `RangeError` for a bad configuration ({@link PackedQueue.check}).
 */
export class PackedQueue extends QueueCore implements Virtqueue<DescriptorChain> {
  private readonly ring: RingView;
  private readonly driverEvent: RingView;
  private readonly deviceEvent: RingView;
  private nextAvail = 0;
  private availWrap = true;
  private nextUsed = 0;
  private usedWrap = true;
  /** Used chains / ring slots published since the last shouldNotify(). */
  private unsignalled = 0;
  private unsignalledSlots = 0;
  private notifyEnabled = true;

  /** Why `cfg` cannot describe a packed ring in `mem`, or null when it can. */
  static check(mem: GuestMemory, cfg: PackedQueueConfig): string | null {
    const { size } = cfg;
    if (!Number.isInteger(size) || size < 1 || size > VIRTQ_MAX_SIZE) return `queue size ${size} not in [1, ${VIRTQ_MAX_SIZE}]`;
    const badBound = checkIndirectBound(cfg, VIRTQ_MAX_SIZE);
    if (badBound !== null) return badBound;
    const areas: RingArea[] = [
      ['descriptor ring', cfg.descAddr, PvirtqDesc.ALIGN, PvirtqDesc.SIZE * size],
      ['driver event suppression', cfg.driverAddr, PvirtqEventSuppress.ALIGN, PvirtqEventSuppress.SIZE],
      ['device event suppression', cfg.deviceAddr, PvirtqEventSuppress.ALIGN, PvirtqEventSuppress.SIZE],
    ];
    return checkRingAreas(mem, areas);
  }

  /** @throws RangeError when {@link PackedQueue.check} reports a problem. */
  constructor(mem: GuestMemory, cfg: PackedQueueConfig) {
    super(mem, cfg, PackedQueue.check(mem, cfg), 'PackedQueue');
    this.ring = new RingView(mem.view(cfg.descAddr, PvirtqDesc.SIZE * cfg.size)!);
    this.driverEvent = new RingView(mem.view(cfg.driverAddr, PvirtqEventSuppress.SIZE)!);
    this.deviceEvent = new RingView(mem.view(cfg.deviceAddr, PvirtqEventSuppress.SIZE)!);
  }

  /** Next ring slot the device reads and its wrap counter; for snapshots. */
  get availState(): { index: number; wrap: boolean } {
    return { index: this.nextAvail, wrap: this.availWrap };
  }

  /** Next ring slot the device writes a used descriptor to and its wrap counter; for snapshots. */
  get usedState(): { index: number; wrap: boolean } {
    return { index: this.nextUsed, wrap: this.usedWrap };
  }

  /** Restores positions saved from {@link availState} / {@link usedState} (after a reset). */
  restoreState(avail: { index: number; wrap: boolean }, used: { index: number; wrap: boolean }): void {
    this.nextAvail = Math.min(Math.max(0, avail.index | 0), this.size - 1);
    this.availWrap = avail.wrap;
    this.nextUsed = Math.min(Math.max(0, used.index | 0), this.size - 1);
    this.usedWrap = used.wrap;
  }

  protected popChain(): DescriptorChain | null {
    const ring = this.ring;
    const size = this.size;
    let pos = this.nextAvail;
    let wrap = this.availWrap;
    // Acquire: the head's flags publish the whole chain (§2.8.21).
    let flags = ring.loadU16(pos * PvirtqDesc.SIZE + PvirtqDesc.flags);
    if (!isAvailable(flags, wrap)) return null;
    const chain = this.takeChain();
    let slots = 0;
    let id = 0;
    for (;;) {
      if (slots === size) {
        this.recycle(chain);
        return this.fail('chain-loop', `chain at slot ${this.nextAvail} spans more than ${size} descriptors`);
      }
      const at = pos * PvirtqDesc.SIZE;
      if (slots > 0) flags = ring.u16At(at + PvirtqDesc.flags);
      const lo = ring.u32At(at + PvirtqDesc.addr);
      const hi = ring.u32At(at + PvirtqDesc.addr + 4);
      const len = ring.u32At(at + PvirtqDesc.len);
      id = ring.u16At(at + PvirtqDesc.id);
      const slot = pos;
      slots++;
      pos++;
      if (pos === size) {
        pos = 0;
        wrap = !wrap;
      }
      if ((flags & VIRTQ_DESC_F_INDIRECT) !== 0) {
        if (!this.walkIndirect(chain, slot, slots, flags, lo, hi, len)) {
          this.recycle(chain);
          return null;
        }
        break;
      }
      if (!this.addBuffer(chain, gpaFromParts(lo, hi), len, (flags & VIRTQ_DESC_F_WRITE) !== 0, slot, false)) {
        this.recycle(chain);
        return null;
      }
      // The buffer id is in the chain's last descriptor (§2.8.6).
      if ((flags & VIRTQ_DESC_F_NEXT) === 0) break;
    }
    chain._head = id;
    chain._ringSlots = slots;
    this.nextAvail = pos;
    this.availWrap = wrap;
    if (this.eventIdx && this.notifyEnabled) this.writeDeviceEventDesc();
    return this.publish(chain);
  }

  /** Flattens the indirect table described by ring slot `slot` into `chain` (§2.8.19). */
  private walkIndirect(
    chain: DescriptorChain,
    slot: number,
    slots: number,
    flags: number,
    lo: number,
    hi: number,
    len: number,
  ): boolean {
    if (slots !== 1) return this.reject('indirect-position', `${where(slot, false)}: indirect descriptor inside a chain`);
    const table = this.indirectTable(where(slot, false), flags, lo, hi, len);
    if (table === null) return false;
    const entries = len / PvirtqDesc.SIZE;
    for (let i = 0; i < entries; i++) {
      const at = i * PvirtqDesc.SIZE;
      const bufGpa = gpaFromParts(table.u32At(at + PvirtqDesc.addr), table.u32At(at + PvirtqDesc.addr + 4));
      const bufLen = table.u32At(at + PvirtqDesc.len);
      const writable = (table.u16At(at + PvirtqDesc.flags) & VIRTQ_DESC_F_WRITE) !== 0;
      if (!this.addBuffer(chain, bufGpa, bufLen, writable, i, true)) return false;
    }
    return true;
  }

  /** Device event suppression `desc`: notify when the slot we will read next is made available. */
  private writeDeviceEventDesc(): void {
    this.deviceEvent.storeU16(PvirtqEventSuppress.desc, this.nextAvail | (this.availWrap ? 0x8000 : 0));
  }

  /**
   * See {@link Virtqueue.pushUsed}: writes id and len into the next used slot, then its flags
   * (AVAIL = USED = used wrap counter, WRITE when the chain had writable buffers) last, and
   * moves the used position past every slot the chain occupied (§2.8.7, §2.8.9).
   */
  pushUsed(chain: DescriptorChain, bytesWritten: number): void {
    const len = this.acceptPush(chain, bytesWritten);
    if (len < 0) return;
    const at = this.nextUsed * PvirtqDesc.SIZE;
    this.ring.setU32(at + PvirtqDesc.len, len);
    this.ring.setU16(at + PvirtqDesc.id, chain._head);
    let flags = this.usedWrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0;
    if (chain._writeTotal > 0) flags |= VIRTQ_DESC_F_WRITE;
    // Release: id and len are visible before the flags that publish them (§2.8.21).
    this.ring.storeU16(at + PvirtqDesc.flags, flags);
    this.nextUsed += chain._ringSlots;
    if (this.nextUsed >= this.size) {
      this.nextUsed -= this.size;
      this.usedWrap = !this.usedWrap;
    }
    this.unsignalled++;
    this.unsignalledSlots += chain._ringSlots;
    this.recycle(chain);
  }

  /**
   * Whether to interrupt for the used descriptors written since the last call (§2.8.10):
   * never for an empty batch; RING_EVENT_FLAGS_DISABLE -> no; RING_EVENT_FLAGS_DESC with
   * EVENT_IDX -> when the batch wrote the slot named by `desc` (wrap counter included);
   * otherwise (ENABLE, or reserved values) -> yes.
   */
  shouldNotify(): boolean {
    const batch = this.unsignalled;
    const slots = this.unsignalledSlots;
    this.unsignalled = 0;
    this.unsignalledSlots = 0;
    if (batch === 0) return false;
    const mode = this.driverEvent.loadU16(PvirtqEventSuppress.flags) & 3;
    if (mode === RING_EVENT_FLAGS_DISABLE) return false;
    if (mode === RING_EVENT_FLAGS_DESC && this.eventIdx) {
      if (slots >= this.size) return true;
      const offWrap = this.driverEvent.loadU16(PvirtqEventSuppress.desc);
      let event = offWrap & 0x7fff;
      // An offset from the previous lap sits `size` slots behind this lap's positions.
      if ((offWrap & 0x8000) !== 0 !== this.usedWrap) event -= this.size;
      return ((this.nextUsed - event - 1) & 0xffff) < slots;
    }
    return true;
  }

  /** Asks the driver not to kick: device event flags = RING_EVENT_FLAGS_DISABLE. */
  disableNotifications(): void {
    this.notifyEnabled = false;
    this.deviceEvent.storeU16(PvirtqEventSuppress.flags, RING_EVENT_FLAGS_DISABLE);
  }

  /**
   * Asks the driver to kick again (RING_EVENT_FLAGS_DESC at the next slot with EVENT_IDX, else
   * ENABLE) and returns whether a chain became available meanwhile.
   */
  enableNotifications(): boolean {
    this.notifyEnabled = true;
    if (this.eventIdx) {
      this.writeDeviceEventDesc();
      this.deviceEvent.storeU16(PvirtqEventSuppress.flags, RING_EVENT_FLAGS_DESC);
    } else {
      this.deviceEvent.storeU16(PvirtqEventSuppress.flags, RING_EVENT_FLAGS_ENABLE);
    }
    const flags = this.ring.loadU16(this.nextAvail * PvirtqDesc.SIZE + PvirtqDesc.flags);
    return isAvailable(flags, this.availWrap);
  }

  /** See {@link Virtqueue.reset}: positions 0, wrap counters 1 (§2.8.1). */
  reset(): void {
    this.resetCore();
    this.nextAvail = 0;
    this.availWrap = true;
    this.nextUsed = 0;
    this.usedWrap = true;
    this.unsignalled = 0;
    this.unsignalledSlots = 0;
    this.notifyEnabled = true;
  }
}
