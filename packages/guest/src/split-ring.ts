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
    const head = this.freeHead;
    let d = head;
    for (let i = 0; i < n; i++) {
      const b = buffers[i]!;
      const at = this.descOff + 16 * d;
      this.dv.setUint32(at, b.gpa >>> 0, true);
      this.dv.setUint32(at + 4, Math.floor(b.gpa / 0x1_0000_0000), true);
      this.dv.setUint32(at + 8, b.length, true);
      const nextD = this.next[d]!;
      this.dv.setUint16(at + 12, (b.write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0), true);
      this.dv.setUint16(at + 14, i + 1 < n ? nextD : 0, true);
      if (i + 1 < n) d = nextD;
      else this.freeHead = nextD;
    }
    this.freeCount -= n;
    this.chainLen[head] = n;
    const slot = this.availIdx % this.layout.size;
    this.dv.setUint16(this.availOff + 4 + 2 * slot, head, true);
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
      const availEvent = this.dv.getUint16(this.usedOff + 4 + 8 * this.layout.size, true);
      return ((cur - availEvent - 1) & 0xffff) < ((cur - old) & 0xffff);
    }
    return (this.dv.getUint16(this.usedOff, true) & VIRTQ_USED_F_NO_NOTIFY) === 0;
  }

  /** Takes the next used element, returning its descriptors to the free list; null when none. */
  popUsed(): UsedElem | null {
    const usedIdx = this.dv.getUint16(this.usedOff + 2, true);
    if (usedIdx === this.lastUsed) return null;
    const slot = this.lastUsed % this.layout.size;
    const head = this.dv.getUint32(this.usedOff + 4 + 8 * slot, true);
    const length = this.dv.getUint32(this.usedOff + 8 + 8 * slot, true);
    this.lastUsed = (this.lastUsed + 1) & 0xffff;
    if (head >= this.layout.size || this.chainLen[head] === 0) throw new Error(`device returned unknown head ${head}`);
    // Return the chain to the free list: walk its `next` links to the tail.
    let tail = head;
    for (let i = 1; i < this.chainLen[head]!; i++) tail = this.next[tail]!;
    this.next[tail] = this.freeHead;
    this.freeHead = head;
    this.freeCount += this.chainLen[head]!;
    this.chainLen[head] = 0;
    if (this.layout.eventIdx) {
      // used_event: interrupt me when the device passes what I have consumed.
      this.dv.setUint16(this.availOff + 4 + 2 * this.layout.size, this.lastUsed, true);
    }
    return { head, length };
  }

  /** Asks the device not to interrupt (VIRTQ_AVAIL_F_NO_INTERRUPT), or to interrupt again. */
  setInterrupts(enabled: boolean): void {
    this.dv.setUint16(this.availOff, enabled ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT, true);
  }
}
