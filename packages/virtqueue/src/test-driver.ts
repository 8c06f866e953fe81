/**
 * Test harnesses that lay out split and packed rings in an ArrayGuestMemory and submit chains the
 * way a guest would. The split one wraps the package's DriverSplitRing; packed rings have no
 * driver outside tests yet. Not exported from the package entry.
 */

import { DriverSplitRing } from './driver-split-ring.js';
import { gatherParts, scatterParts } from './parts.js';
import { ArrayGuestMemory, type GuestMemory, writeU16, writeU32, writeU64, readU16, readU32 } from './guest-memory.js';
import type { PackedQueueConfig } from './packed-queue.js';
import type { SplitQueueConfig } from './split-queue.js';
import {
  VIRTQ_DESC_F_AVAIL,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_USED,
  VIRTQ_DESC_F_WRITE,
} from './virtio-ring.js';

/** A buffer to put in a chain: bytes for the device to read, or a writable length. */
export type TestBuf = { gpa: number; len: number; write: boolean };

/** Bump allocator over [base, base + len). */
class Bump {
  private at: number;
  constructor(
    readonly base: number,
    readonly len: number,
  ) {
    this.at = base;
  }
  alloc(n: number, align = 16): number {
    const gpa = Math.ceil(this.at / align) * align;
    if (gpa + n > this.base + this.len) throw new Error('test driver: data area full');
    this.at = gpa + n;
    return gpa;
  }
  reset(): void {
    this.at = this.base;
  }
}

function writeBytes(mem: GuestMemory, gpa: number, src: Uint8Array): void {
  if (!scatterParts(mem.slices(gpa, src.length), src)) throw new Error(`test driver: ${gpa} unmapped`);
}

/** Reads guest bytes (test helper). */
export function readBytes(mem: GuestMemory, gpa: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  if (!gatherParts(mem.slices(gpa, len), out)) throw new Error(`test driver: ${gpa} unmapped`);
  return out;
}

/** Split ring layout: ring areas then a data area, all in one region starting at `base`. */
export function splitLayout(size: number, base = 0x1000, dataLen = 0x10000) {
  const ring = DriverSplitRing.layoutAt(base, size, false);
  const dataAddr = Math.ceil((base + DriverSplitRing.bytes(size)) / 16) * 16;
  const end = dataAddr + dataLen;
  return { descAddr: ring.descAddr, availAddr: ring.availAddr, usedAddr: ring.usedAddr, dataAddr, dataLen, end, size };
}

/**
 * A split ring for tests: the package's {@link DriverSplitRing} plus a data area to allocate
 * buffers from, with throwing shorthands (a test wants to know when its ring is full).
 */
export class SplitTestDriver {
  readonly cfg: SplitQueueConfig;
  readonly data: Bump;
  /** The driver ring itself. */
  readonly ring: DriverSplitRing;

  constructor(
    readonly mem: GuestMemory,
    layout: ReturnType<typeof splitLayout>,
    eventIdx = false,
  ) {
    this.cfg = { size: layout.size, descAddr: layout.descAddr, availAddr: layout.availAddr, usedAddr: layout.usedAddr, eventIdx };
    this.ring = new DriverSplitRing(mem, this.cfg);
    this.data = new Bump(layout.dataAddr, layout.dataLen);
  }

  /** One region holding ring and data, with a driver over it. */
  static create(size: number, eventIdx = false): { mem: ArrayGuestMemory; driver: SplitTestDriver } {
    const layout = splitLayout(size);
    const mem = new ArrayGuestMemory([{ gpa: 0, bytes: new Uint8Array(layout.end) }]);
    return { mem, driver: new SplitTestDriver(mem, layout, eventIdx) };
  }

  /** Writes descriptor `i` of the table at `table` (default: the ring's table). */
  writeDesc(i: number, gpa: number, len: number, flags: number, next: number, table?: number): void {
    this.ring.writeDesc(i, gpa, len, flags, next, table === this.cfg.descAddr ? undefined : table);
  }

  /** Places a head in the avail ring without publishing. */
  putAvail(head: number): void {
    this.ring.putAvail(head);
  }

  /** Publishes avail idx (or sets it to an arbitrary value). */
  publish(idx?: number): void {
    this.ring.publish(idx);
  }

  /** Allocates a data buffer, filled with `bytes` when given. */
  buf(bytesOrLen: Uint8Array | number, write: boolean): TestBuf {
    const len = typeof bytesOrLen === 'number' ? bytesOrLen : bytesOrLen.length;
    const gpa = this.data.alloc(len);
    if (typeof bytesOrLen !== 'number') writeBytes(this.mem, gpa, bytesOrLen);
    return { gpa, len, write };
  }

  /**
   * Makes `bufs` available as a chain of ring descriptors (or one indirect table) and publishes
   * it unless told not to; returns the head index. Throws when the ring lacks descriptors.
   */
  submit(bufs: TestBuf[], opts: { indirect?: boolean; publish?: boolean } = {}): number {
    const chain = bufs.map((b) => ({ gpa: b.gpa, length: b.len, write: b.write }));
    const head = opts.indirect ? this.ring.addIndirect(this.data.alloc(16 * bufs.length), chain) : this.ring.add(chain);
    if (head < 0) throw new RangeError(`test driver: ${opts.indirect ? 1 : bufs.length} descriptors wanted, ${this.ring.free} free`);
    if (opts.publish !== false) this.ring.publish();
    return head;
  }

  /** Used elements published since the last call. */
  takeUsed(): { id: number; len: number }[] {
    return this.ring.takeUsed().map((u) => ({ id: u.head, len: u.length }));
  }

  /** avail.flags. */
  setAvailFlags(flags: number): void {
    this.ring.setAvailFlags(flags);
  }
  /** used_event (EVENT_IDX). */
  setUsedEvent(v: number): void {
    this.ring.setUsedEvent(v);
  }
  /** avail_event written by the device (EVENT_IDX). */
  availEvent(): number {
    return this.ring.availEvent();
  }
  /** used.flags written by the device. */
  usedFlags(): number {
    return this.ring.usedFlags();
  }
  /** used.idx written by the device. */
  usedIdx(): number {
    return this.ring.usedIdx();
  }
}

/** Packed ring layout in one region starting at `base`. */
export function packedLayout(size: number, base = 0x1000, dataLen = 0x10000) {
  const descAddr = base;
  const driverAddr = descAddr + 16 * size;
  const deviceAddr = driverAddr + 4;
  const dataAddr = Math.ceil((deviceAddr + 4) / 16) * 16;
  return { descAddr, driverAddr, deviceAddr, dataAddr, dataLen, end: dataAddr + dataLen, size };
}

/** Driver side of a packed ring for tests. */
export class PackedTestDriver {
  readonly cfg: PackedQueueConfig;
  readonly data: Bump;
  private nextAvail = 0;
  private availWrap = true;
  private nextUsed = 0;
  private usedWrap = true;
  private nextId = 0;
  private readonly slotsById = new Map<number, number>();

  constructor(
    readonly mem: GuestMemory,
    layout: ReturnType<typeof packedLayout>,
    eventIdx = false,
  ) {
    this.cfg = { size: layout.size, descAddr: layout.descAddr, driverAddr: layout.driverAddr, deviceAddr: layout.deviceAddr, eventIdx };
    this.data = new Bump(layout.dataAddr, layout.dataLen);
  }

  /** One region holding ring and data, with a driver over it. */
  static create(size: number, eventIdx = false): { mem: ArrayGuestMemory; driver: PackedTestDriver } {
    const layout = packedLayout(size);
    const mem = new ArrayGuestMemory([{ gpa: 0, bytes: new Uint8Array(layout.end) }]);
    return { mem, driver: new PackedTestDriver(mem, layout, eventIdx) };
  }

  /** Allocates a data buffer, filled with `bytes` when given. */
  buf(bytesOrLen: Uint8Array | number, write: boolean): TestBuf {
    const len = typeof bytesOrLen === 'number' ? bytesOrLen : bytesOrLen.length;
    const gpa = this.data.alloc(len);
    if (typeof bytesOrLen !== 'number') writeBytes(this.mem, gpa, bytesOrLen);
    return { gpa, len, write };
  }

  /** Writes a packed descriptor at `at` (flags written last). */
  writeDesc(at: number, gpa: number, len: number, id: number, flags: number): void {
    writeU64(this.mem, at, BigInt(gpa));
    writeU32(this.mem, at + 8, len);
    writeU16(this.mem, at + 12, id);
    writeU16(this.mem, at + 14, flags);
  }

  private availBits(wrap: boolean): number {
    return wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
  }

  /** Makes `bufs` available as one chain (or one indirect descriptor); returns the buffer id. */
  submit(bufs: TestBuf[], opts: { indirect?: boolean; id?: number } = {}): number {
    const id = opts.id ?? this.nextId++ & 0xffff;
    const size = this.cfg.size;
    const entries: { gpa: number; len: number; flags: number }[] = [];
    if (opts.indirect) {
      const table = this.data.alloc(16 * bufs.length);
      bufs.forEach((b, i) => this.writeDesc(table + 16 * i, b.gpa, b.len, 0, b.write ? VIRTQ_DESC_F_WRITE : 0));
      entries.push({ gpa: table, len: 16 * bufs.length, flags: VIRTQ_DESC_F_INDIRECT });
    } else {
      bufs.forEach((b, k) =>
        entries.push({ gpa: b.gpa, len: b.len, flags: (b.write ? VIRTQ_DESC_F_WRITE : 0) | (k + 1 < bufs.length ? VIRTQ_DESC_F_NEXT : 0) }),
      );
    }
    const headAt = this.cfg.descAddr + 16 * this.nextAvail;
    const headFlags = entries[0].flags | this.availBits(this.availWrap);
    // Non-head descriptors first, the head's flags last: that publishes the chain (§2.8.21).
    for (let k = 0; k < entries.length; k++) {
      const at = this.cfg.descAddr + 16 * this.nextAvail;
      const e = entries[k];
      if (k === 0) {
        this.writeDesc(at, e.gpa, e.len, id, 0);
        writeU16(this.mem, at + 14, this.availWrap ? VIRTQ_DESC_F_USED : VIRTQ_DESC_F_AVAIL); // not yet available
      } else {
        this.writeDesc(at, e.gpa, e.len, id, e.flags | this.availBits(this.availWrap));
      }
      this.nextAvail++;
      if (this.nextAvail === size) {
        this.nextAvail = 0;
        this.availWrap = !this.availWrap;
      }
    }
    writeU16(this.mem, headAt + 14, headFlags);
    this.slotsById.set(id, entries.length);
    return id;
  }

  /** Used descriptors written since the last call. */
  takeUsed(): { id: number; len: number; flags: number }[] {
    const out: { id: number; len: number; flags: number }[] = [];
    for (;;) {
      const at = this.cfg.descAddr + 16 * this.nextUsed;
      const flags = readU16(this.mem, at + 14);
      const a = (flags & VIRTQ_DESC_F_AVAIL) !== 0;
      const u = (flags & VIRTQ_DESC_F_USED) !== 0;
      if (a !== this.usedWrap || u !== this.usedWrap) return out;
      const id = readU16(this.mem, at + 12);
      out.push({ id, len: readU32(this.mem, at + 8), flags });
      this.nextUsed += this.slotsById.get(id) ?? 1;
      if (this.nextUsed >= this.cfg.size) {
        this.nextUsed -= this.cfg.size;
        this.usedWrap = !this.usedWrap;
      }
    }
  }

  /** Driver event suppression (read by the device). */
  setDriverEvent(flags: number, desc = 0): void {
    writeU16(this.mem, this.cfg.driverAddr, desc);
    writeU16(this.mem, this.cfg.driverAddr + 2, flags);
  }
  /** Device event suppression written by the device. */
  deviceEvent(): { desc: number; flags: number } {
    return { desc: readU16(this.mem, this.cfg.deviceAddr), flags: readU16(this.mem, this.cfg.deviceAddr + 2) };
  }
}
