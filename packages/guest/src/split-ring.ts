import type { GuestRam } from './guest-ram';

/** virtq_desc flags (virtio 1.3 §2.7.5). */
const VIRTQ_DESC_F_NEXT = 1;
const VIRTQ_DESC_F_WRITE = 2;
/** virtq_avail.flags: the driver does not want interrupts (§2.7.7). */
const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** virtq_used.flags: the device does not want notifications (§2.7.10). */
const VIRTQ_USED_F_NO_NOTIFY = 1;

/** One buffer of a chain: guest address, length, and whether the device writes it. */
export interface ChainBuffer {
  gpa: number;
  length: number;
  write: boolean;
}

/** One used-ring element as the driver reads it back. */
export interface UsedElem {
  /** Head descriptor index of the finished chain. */
  head: number;
  /** Bytes the device wrote. */
  length: number;
}

/** Where the three parts of a split ring sit in guest memory: the device side is configured with this. */
export interface SplitRingLayout {
  size: number;
  descAddr: number;
  availAddr: number;
  usedAddr: number;
  eventIdx: boolean;
}

/**
 * The driver's half of a split virtqueue (virtio 1.3 §2.7): a descriptor table, an available
 * ring it writes and a used ring it reads, all in guest RAM. `vring_need_event` decides kicks
 * when VIRTIO_F_EVENT_IDX is negotiated.
 */
export class DriverSplitRing {
  readonly layout: SplitRingLayout;
  private readonly dv: DataView;
  private readonly descOff: number;
  private readonly availOff: number;
  private readonly usedOff: number;
  private readonly next: Uint16Array;
  private freeHead = 0;
  private freeCount: number;
  private availIdx = 0;
  /** avail idx at the last kick, for EVENT_IDX kick suppression. */
  private kickedIdx = 0;
  private lastUsed = 0;
  private readonly chainLen: Uint16Array;
  /** Queue size - 1 (the size is a power of two): ring slot of a free-running index. */
  private readonly mask: number;
  /** Byte offsets of avail.ring[0], used_event, used.idx, used.ring[0] and avail_event in `dv`. */
  private readonly availRingOff: number;
  private readonly usedEventOff: number;
  private readonly usedIdxOff: number;
  private readonly usedRingOff: number;
  private readonly availEventOff: number;
  private readonly eventIdx: boolean;
  /** Bytes the device wrote into the chain last returned by {@link popUsedHead}. */
  lastUsedLength = 0;

  constructor(ram: GuestRam, size: number, eventIdx: boolean) {
    if (size < 1 || size > 32768 || (size & (size - 1)) !== 0) throw new RangeError(`queue size ${size}`);
    const descBytes = 16 * size;
    const availBytes = 6 + 2 * size;
    const usedBytes = 6 + 8 * size;
    // One contiguous allocation; the used ring 4-aligned after the avail ring (§2.7 alignment table).
    const usedAt = (descBytes + availBytes + 3) & ~3;
    const base = ram.alloc(usedAt + usedBytes);
    ram.bytes(base, usedAt + usedBytes).fill(0);
    const { dv, offset } = ram.dataView(base, usedAt + usedBytes);
    this.dv = dv;
    this.descOff = offset;
    this.availOff = offset + descBytes;
    this.usedOff = offset + usedAt;
    this.layout = { size, descAddr: base, availAddr: base + descBytes, usedAddr: base + usedAt, eventIdx };
    this.next = new Uint16Array(size);
    for (let i = 0; i < size; i++) this.next[i] = (i + 1) % size;
    this.freeCount = size;
    this.chainLen = new Uint16Array(size);
    this.mask = size - 1;
    this.eventIdx = eventIdx;
    this.availRingOff = this.availOff + 4;
    this.usedEventOff = this.availOff + 4 + 2 * size;
    this.usedIdxOff = this.usedOff + 2;
    this.usedRingOff = this.usedOff + 4;
    this.availEventOff = this.usedOff + 4 + 8 * size;
  }

  /** Descriptors free for new chains. */
  get free(): number {
    return this.freeCount;
  }

  /**
   * Writes a chain and places it in the avail ring (not yet visible: call {@link publish}).
   * Returns the head index, or -1 when the ring lacks descriptors.
   */
  add(buffers: readonly ChainBuffer[]): number {
    const n = buffers.length;
    if (n === 0 || n > this.freeCount) return -1;
    const dv = this.dv;
    const next = this.next;
    const head = this.freeHead;
    let d = head;
    for (let i = 0; i < n; i++) {
      const b = buffers[i]!;
      const at = this.descOff + 16 * d;
      const gpa = b.gpa;
      dv.setUint32(at, gpa >>> 0, true);
      dv.setUint32(at + 4, gpa < 0x1_0000_0000 ? 0 : Math.floor(gpa / 0x1_0000_0000), true);
      dv.setUint32(at + 8, b.length, true);
      const nextD = next[d]!;
      const more = i + 1 < n;
      dv.setUint16(at + 12, (b.write ? VIRTQ_DESC_F_WRITE : 0) | (more ? VIRTQ_DESC_F_NEXT : 0), true);
      dv.setUint16(at + 14, more ? nextD : 0, true);
      if (more) d = nextD;
      else this.freeHead = nextD;
    }
    this.freeCount -= n;
    this.chainLen[head] = n;
    dv.setUint16(this.availRingOff + 2 * (this.availIdx & this.mask), head, true);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    return head;
  }

  /** Makes added chains visible to the device (writes avail idx). */
  publish(): void {
    this.dv.setUint16(this.availOff + 2, this.availIdx, true);
  }

  /** Whether the device wants a notification for what was published since the last kick. */
  needsKick(): boolean {
    const old = this.kickedIdx;
    const cur = this.availIdx;
    this.kickedIdx = cur;
    if (this.layout.eventIdx) {
      const availEvent = this.dv.getUint16(this.availEventOff, true);
      return ((cur - availEvent - 1) & 0xffff) < ((cur - old) & 0xffff);
    }
    return (this.dv.getUint16(this.usedOff, true) & VIRTQ_USED_F_NO_NOTIFY) === 0;
  }

  /** Takes the next used element, returning its descriptors to the free list; null when none. */
  popUsed(): UsedElem | null {
    const head = this.popUsedHead();
    return head < 0 ? null : { head, length: this.lastUsedLength };
  }

  /**
   * {@link popUsed} without the result object, for drivers that reap in bulk: the head of the next
   * used chain (its length in {@link lastUsedLength}), or -1 when none.
   */
  popUsedHead(): number {
    const dv = this.dv;
    const usedIdx = dv.getUint16(this.usedIdxOff, true);
    if (usedIdx === this.lastUsed) return -1;
    const at = this.usedRingOff + 8 * (this.lastUsed & this.mask);
    const head = dv.getUint32(at, true);
    const length = dv.getUint32(at + 4, true);
    this.lastUsed = (this.lastUsed + 1) & 0xffff;
    const n = head < this.chainLen.length ? this.chainLen[head]! : 0;
    if (n === 0) throw new Error(`device returned unknown head ${head}`);
    // Return the chain to the free list: walk its `next` links to the tail.
    let tail = head;
    for (let i = 1; i < n; i++) tail = this.next[tail]!;
    this.next[tail] = this.freeHead;
    this.freeHead = head;
    this.freeCount += n;
    this.chainLen[head] = 0;
    if (this.eventIdx) {
      // used_event: interrupt me when the device passes what I have consumed.
      dv.setUint16(this.usedEventOff, this.lastUsed, true);
    }
    this.lastUsedLength = length;
    return head;
  }

  /** Asks the device not to interrupt (VIRTQ_AVAIL_F_NO_INTERRUPT), or to interrupt again. */
  setInterrupts(enabled: boolean): void {
    this.dv.setUint16(this.availOff, enabled ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT, true);
  }
}
