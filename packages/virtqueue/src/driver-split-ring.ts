/**
 * The driver's half of a split virtqueue (virtio 1.3 §2.7), in guest memory: the one driver-side
 * ring of the project, as rust-vmm ships mock.rs beside its queue. The guest package's driver,
 * benchmarks and every test that needs a guest build their rings with it.
 */
import { type GuestMemory, writeU16, writeU32, writeU64 } from './guest-memory.js';
import * as R from './virtio-ring.js';

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

/** Where the three parts of a split ring sit in guest memory (a SplitQueueConfig without options). */
export interface SplitRingLayout {
  size: number;
  descAddr: number;
  availAddr: number;
  usedAddr: number;
  eventIdx: boolean;
}

/** Guest RAM a driver can allocate from (the guest package's GuestRam is one). */
export interface DriverRam {
  readonly memory: GuestMemory;
  /** Allocates `bytes` of contiguous, 16-byte aligned guest memory; returns its address. */
  alloc(bytes: number): number;
}

/** A DataView over `len` bytes of guest memory at `gpa` (one region), or a RangeError. */
function viewOf(mem: GuestMemory, gpa: number, len: number, what: string): DataView {
  const v = mem.view(gpa, len);
  if (v === null) throw new RangeError(`DriverSplitRing: ${what} [${gpa}, +${len}) is not in one guest-memory region`);
  return new DataView(v.buffer, v.byteOffset, v.byteLength);
}

/**
 * A driver-side split ring. {@link add} / {@link publish} / {@link needsKick} /
 * {@link popUsedHead} are what a driver does per command, allocation-free; the rest
 * ({@link writeDesc}, {@link putAvail}, {@link takeUsed}, the event fields) lets tests play a
 * hostile or unusual driver on the same ring. Descriptors are handed out from a free list and come
 * back when their chain is used, so a chain never overwrites one the device still holds.
 */
export class DriverSplitRing {
  /** Bytes a contiguous ring of `size` entries takes: table, avail ring, used ring 4-aligned after it. */
  static bytes(size: number): number {
    return DriverSplitRing.usedOffset(size) + R.VirtqUsed.size(size);
  }

  /** The layout of a contiguous ring at `base` (16-byte aligned, §2.7's alignment table). */
  static layoutAt(base: number, size: number, eventIdx: boolean): SplitRingLayout {
    return { size, descAddr: base, availAddr: base + R.VirtqDesc.SIZE * size, usedAddr: base + DriverSplitRing.usedOffset(size), eventIdx };
  }

  /** A ring of `size` entries in fresh, zeroed memory from `ram`. */
  static allocate(ram: DriverRam, size: number, eventIdx: boolean): DriverSplitRing {
    if (!DriverSplitRing.validSize(size)) throw new RangeError(`queue size ${size}`);
    const n = DriverSplitRing.bytes(size);
    const base = ram.alloc(n);
    const v = ram.memory.view(base, n);
    if (v === null) throw new RangeError('DriverSplitRing: allocation is not in one region');
    v.fill(0);
    return new DriverSplitRing(ram.memory, DriverSplitRing.layoutAt(base, size, eventIdx));
  }

  private static usedOffset(size: number): number {
    return (R.VirtqDesc.SIZE * size + R.VirtqAvail.size(size) + R.VirtqUsed.ALIGN - 1) & ~(R.VirtqUsed.ALIGN - 1);
  }

  private static validSize(size: number): boolean {
    return Number.isInteger(size) && size >= 1 && size <= R.VIRTQ_MAX_SIZE && (size & (size - 1)) === 0;
  }

  /** Where the ring lives: configure the device side (SplitQueue) with this. */
  readonly layout: SplitRingLayout;
  /** The guest memory the ring and its buffers are in. */
  readonly mem: GuestMemory;
  /** Bytes the device wrote into the chain last returned by {@link popUsedHead}. */
  lastUsedLength = 0;

  private readonly desc: DataView;
  private readonly avail: DataView;
  private readonly used: DataView;
  private readonly next: Uint16Array;
  /** Descriptors of each chain added with {@link add} and not yet used, by head (0: none). */
  private readonly chainLen: Uint16Array;
  /** Chains placed with {@link putAvail} and not yet used, by head. */
  private readonly handPlaced: Uint16Array;
  /** Queue size - 1 (the size is a power of two): ring slot of a free-running index. */
  private readonly mask: number;
  private freeHead = 0;
  private freeCount: number;
  private availIdx = 0;
  /** avail idx at the last kick, for EVENT_IDX kick suppression. */
  private kickedIdx = 0;
  private lastUsed = 0;

  /** A driver over a ring already laid out in `mem` (its memory is used as it is). */
  constructor(mem: GuestMemory, layout: SplitRingLayout) {
    const size = layout.size;
    if (!DriverSplitRing.validSize(size)) throw new RangeError(`queue size ${size}`);
    this.mem = mem;
    this.layout = { size, descAddr: layout.descAddr, availAddr: layout.availAddr, usedAddr: layout.usedAddr, eventIdx: layout.eventIdx };
    this.desc = viewOf(mem, layout.descAddr, R.VirtqDesc.SIZE * size, 'descriptor table');
    this.avail = viewOf(mem, layout.availAddr, R.VirtqAvail.size(size), 'available ring');
    this.used = viewOf(mem, layout.usedAddr, R.VirtqUsed.size(size), 'used ring');
    this.next = new Uint16Array(size);
    for (let i = 0; i < size; i++) this.next[i] = (i + 1) % size;
    this.freeCount = size;
    this.chainLen = new Uint16Array(size);
    this.handPlaced = new Uint16Array(size);
    this.mask = size - 1;
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
    const next = this.next;
    const head = this.freeHead;
    let d = head;
    for (let i = 0; i < n; i++) {
      const b = buffers[i];
      const nextD = next[d];
      const more = i + 1 < n;
      this.putDesc(d, b.gpa, b.length, (b.write ? R.VIRTQ_DESC_F_WRITE : 0) | (more ? R.VIRTQ_DESC_F_NEXT : 0), more ? nextD : 0);
      if (more) d = nextD;
      else this.freeHead = nextD;
    }
    this.freeCount -= n;
    this.chainLen[head] = n;
    this.avail.setUint16(R.VirtqAvail.ring + 2 * (this.availIdx & this.mask), head, true);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    return head;
  }

  /**
   * Writes `buffers` as an indirect table at guest address `table` (16 bytes each, §2.7.5.3) and
   * places one ring descriptor pointing at it in the avail ring. Returns the head, or -1.
   */
  addIndirect(table: number, buffers: readonly ChainBuffer[]): number {
    if (buffers.length === 0 || this.freeCount === 0) return -1;
    buffers.forEach((b, i) => {
      const more = i + 1 < buffers.length;
      this.writeDesc(i, b.gpa, b.length, (b.write ? R.VIRTQ_DESC_F_WRITE : 0) | (more ? R.VIRTQ_DESC_F_NEXT : 0), more ? i + 1 : 0, table);
    });
    const head = this.add([{ gpa: table, length: R.VirtqDesc.SIZE * buffers.length, write: false }]);
    if (head >= 0) this.desc.setUint16(R.VirtqDesc.SIZE * head + R.VirtqDesc.flags, R.VIRTQ_DESC_F_INDIRECT, true);
    return head;
  }

  /** Makes added chains visible to the device (writes avail idx); `idx` sets it to any value. */
  publish(idx?: number): void {
    if (idx !== undefined) this.availIdx = idx & 0xffff;
    this.avail.setUint16(R.VirtqAvail.idx, this.availIdx, true);
  }

  /** Whether the device wants a notification for what was published since the last kick (§2.7.10). */
  needsKick(): boolean {
    const old = this.kickedIdx;
    const cur = this.availIdx;
    this.kickedIdx = cur;
    if (this.layout.eventIdx) return R.vringNeedEvent(this.availEvent(), cur, old);
    return (this.usedFlags() & R.VIRTQ_USED_F_NO_NOTIFY) === 0;
  }

  /** Takes the next used element, returning its descriptors to the free list; null when none. */
  popUsed(): UsedElem | null {
    const head = this.popUsedHead();
    return head < 0 ? null : { head, length: this.lastUsedLength };
  }

  /**
   * {@link popUsed} without the result object, for drivers that reap in bulk: the head of the next
   * used chain (its length in {@link lastUsedLength}), or -1 when none. A head this driver never
   * made available is a device bug: it throws.
   */
  popUsedHead(): number {
    const head = this.nextUsed(true);
    if (head === -2) throw new Error(`device returned unknown head ${this.lastBadHead}`);
    return head;
  }

  /**
   * Every used element published since the last call, including heads this driver does not know.
   * Unlike {@link popUsedHead} it leaves used_event alone: a test sets that itself.
   */
  takeUsed(): UsedElem[] {
    const out: UsedElem[] = [];
    for (let h = this.nextUsed(false); h !== -1; h = this.nextUsed(false)) out.push({ head: h === -2 ? this.lastBadHead : h, length: this.lastUsedLength });
    return out;
  }

  /** Asks the device not to interrupt (R.VIRTQ_AVAIL_F_NO_INTERRUPT), or to interrupt again (§2.7.7). */
  setInterrupts(enabled: boolean): void {
    this.setAvailFlags(enabled ? 0 : R.VIRTQ_AVAIL_F_NO_INTERRUPT);
  }

  // ---- raw access, for tests that play an unusual or hostile driver ---------------------------

  /**
   * Writes descriptor `i` of the ring's table, or with `table` of the indirect table at that guest
   * address. No bookkeeping: the free list does not know about it.
   */
  writeDesc(i: number, gpa: number, len: number, flags: number, next: number, table?: number): void {
    if (table === undefined) {
      this.putDesc(i, gpa, len, flags, next);
      return;
    }
    const at = table + R.VirtqDesc.SIZE * i;
    writeU64(this.mem, at + R.VirtqDesc.addr, BigInt(gpa));
    writeU32(this.mem, at + R.VirtqDesc.len, len);
    writeU16(this.mem, at + R.VirtqDesc.flags, flags);
    writeU16(this.mem, at + R.VirtqDesc.next, next);
  }

  /** Places `head` in the avail ring without publishing, whatever its descriptors hold. */
  putAvail(head: number): void {
    this.avail.setUint16(R.VirtqAvail.ring + 2 * (this.availIdx & this.mask), head, true);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    if (head >= 0 && head < this.layout.size) this.handPlaced[head]++;
  }

  /** Writes avail.flags. */
  setAvailFlags(flags: number): void {
    this.avail.setUint16(R.VirtqAvail.flags, flags, true);
  }

  /** Writes used_event (VIRTIO_F_EVENT_IDX): interrupt me when the used idx passes `v`. */
  setUsedEvent(v: number): void {
    this.avail.setUint16(R.VirtqAvail.usedEvent(this.layout.size), v, true);
  }

  /** avail_event, written by the device (VIRTIO_F_EVENT_IDX). */
  availEvent(): number {
    return this.used.getUint16(R.VirtqUsed.availEvent(this.layout.size), true);
  }

  /** used.flags, written by the device. */
  usedFlags(): number {
    return this.used.getUint16(R.VirtqUsed.flags, true);
  }

  /** used.idx, written by the device. */
  usedIdx(): number {
    return this.used.getUint16(R.VirtqUsed.idx, true);
  }

  // ---- internals ------------------------------------------------------------------------------

  private lastBadHead = 0;

  private putDesc(i: number, gpa: number, len: number, flags: number, next: number): void {
    const dv = this.desc;
    const at = R.VirtqDesc.SIZE * i;
    dv.setUint32(at + R.VirtqDesc.addr, gpa >>> 0, true);
    dv.setUint32(at + R.VirtqDesc.addr + 4, gpa < 0x1_0000_0000 ? 0 : Math.floor(gpa / 0x1_0000_0000), true);
    dv.setUint32(at + R.VirtqDesc.len, len, true);
    dv.setUint16(at + R.VirtqDesc.flags, flags, true);
    dv.setUint16(at + R.VirtqDesc.next, next, true);
  }

  /**
   * The next used element's head with its length in {@link lastUsedLength}; -1 when none, -2 for
   * a head this driver did not make available (kept in lastBadHead). Known chains go back to the
   * free list; with EVENT_IDX and `publishEvent`, used_event follows what has been consumed.
   */
  private nextUsed(publishEvent: boolean): number {
    const used = this.used;
    if (used.getUint16(R.VirtqUsed.idx, true) === this.lastUsed) return -1;
    const at = R.VirtqUsed.ring + R.VirtqUsedElem.SIZE * (this.lastUsed & this.mask);
    const head = used.getUint32(at + R.VirtqUsedElem.id, true);
    this.lastUsedLength = used.getUint32(at + R.VirtqUsedElem.len, true);
    this.lastUsed = (this.lastUsed + 1) & 0xffff;
    if (publishEvent && this.layout.eventIdx) this.setUsedEvent(this.lastUsed);
    const n = head < this.layout.size ? this.chainLen[head] : 0;
    if (n > 0) {
      // Return the chain to the free list: walk its `next` links to the tail.
      let tail = head;
      for (let i = 1; i < n; i++) tail = this.next[tail];
      this.next[tail] = this.freeHead;
      this.freeHead = head;
      this.freeCount += n;
      this.chainLen[head] = 0;
      return head;
    }
    if (head < this.layout.size && this.handPlaced[head] > 0) {
      this.handPlaced[head]--;
      return head;
    }
    this.lastBadHead = head;
    return -2;
  }
}
