/**
 * Test-only mini drivers that lay out split and packed rings in an ArrayGuestMemory and submit
 * chains the way a guest would. Not exported from the package entry.
 */

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
  const parts = mem.slices(gpa, src.length);
  if (parts === null) throw new Error(`test driver: ${gpa} unmapped`);
  let at = 0;
  for (const p of parts) {
    p.set(src.subarray(at, at + p.length));
    at += p.length;
  }
}

/** Reads guest bytes (test helper). */
export function readBytes(mem: GuestMemory, gpa: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  const parts = mem.slices(gpa, len);
  if (parts === null) throw new Error(`test driver: ${gpa} unmapped`);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Split ring layout: ring areas then a data area, all in one region starting at `base`. */
export function splitLayout(size: number, base = 0x1000, dataLen = 0x10000) {
  const descAddr = base;
  const availAddr = descAddr + 16 * size;
  const usedAddr = Math.ceil((availAddr + 6 + 2 * size) / 4) * 4;
  const dataAddr = Math.ceil((usedAddr + 6 + 8 * size) / 16) * 16;
  const end = dataAddr + dataLen;
  return { descAddr, availAddr, usedAddr, dataAddr, dataLen, end, size };
}

/** Driver side of a split ring for tests. */
export class SplitTestDriver {
  readonly cfg: SplitQueueConfig;
  readonly data: Bump;
  private availIdx = 0;
  private lastUsed = 0;
  private nextFree = 0;
  /** Descriptors handed out and not yet returned by the device, per head and in all. */
  private readonly held = new Map<number, number>();
  private heldTotal = 0;

  constructor(
    readonly mem: GuestMemory,
    layout: ReturnType<typeof splitLayout>,
    eventIdx = false,
  ) {
    this.cfg = { size: layout.size, descAddr: layout.descAddr, availAddr: layout.availAddr, usedAddr: layout.usedAddr, eventIdx };
    this.data = new Bump(layout.dataAddr, layout.dataLen);
  }

  /** One region holding ring and data, with a driver over it. */
  static create(size: number, eventIdx = false): { mem: ArrayGuestMemory; driver: SplitTestDriver } {
    const layout = splitLayout(size);
    const mem = new ArrayGuestMemory([{ gpa: 0, bytes: new Uint8Array(layout.end) }]);
    return { mem, driver: new SplitTestDriver(mem, layout, eventIdx) };
  }

  /** Writes descriptor `i` of the table at `table` (default: the ring's table). */
  writeDesc(i: number, gpa: number, len: number, flags: number, next: number, table = this.cfg.descAddr): void {
    const at = table + 16 * i;
    writeU64(this.mem, at, gpa % 0x1_0000_0000, Math.floor(gpa / 0x1_0000_0000));
    writeU32(this.mem, at + 8, len);
    writeU16(this.mem, at + 12, flags);
    writeU16(this.mem, at + 14, next);
  }

  /** Places a head in the avail ring without publishing. */
  putAvail(head: number): void {
    writeU16(this.mem, this.cfg.availAddr + 4 + 2 * (this.availIdx % this.cfg.size), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
  }

  /** Publishes avail idx (or sets it to an arbitrary value). */
  publish(idx = this.availIdx): void {
    this.availIdx = idx & 0xffff;
    writeU16(this.mem, this.cfg.availAddr + 2, this.availIdx);
  }

  /** Allocates a data buffer, filled with `bytes` when given. */
  buf(bytesOrLen: Uint8Array | number, write: boolean): TestBuf {
    const len = typeof bytesOrLen === 'number' ? bytesOrLen : bytesOrLen.length;
    const gpa = this.data.alloc(len);
    if (typeof bytesOrLen !== 'number') writeBytes(this.mem, gpa, bytesOrLen);
    return { gpa, len, write };
  }

  /**
   * Writes `bufs` as a chain of consecutive ring descriptors (or one indirect table) and makes
   * it available; returns the head index.
   */
  submit(bufs: TestBuf[], opts: { indirect?: boolean; publish?: boolean } = {}): number {
    const size = this.cfg.size;
    // A chain must not overwrite descriptors of chains the device still holds: that is a
    // driver bug which would make the device see a different chain than the test sent.
    const need = opts.indirect ? 1 : bufs.length;
    if (this.heldTotal + need > size) throw new RangeError(`test driver: ${need} descriptors wanted, ${size - this.heldTotal} free`);
    this.heldTotal += need;
    if (opts.indirect) {
      const table = this.data.alloc(16 * bufs.length);
      bufs.forEach((b, i) =>
        this.writeDesc(i, b.gpa, b.len, (b.write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < bufs.length ? VIRTQ_DESC_F_NEXT : 0), i + 1, table),
      );
      const head = this.nextFree;
      this.held.set(head, 1);
      this.nextFree = (this.nextFree + 1) % size;
      this.writeDesc(head, table, 16 * bufs.length, VIRTQ_DESC_F_INDIRECT, 0);
      this.putAvail(head);
      if (opts.publish !== false) this.publish();
      return head;
    }
    const ids = bufs.map(() => {
      const i = this.nextFree;
      this.nextFree = (this.nextFree + 1) % size;
      return i;
    });
    bufs.forEach((b, k) =>
      this.writeDesc(ids[k], b.gpa, b.len, (b.write ? VIRTQ_DESC_F_WRITE : 0) | (k + 1 < bufs.length ? VIRTQ_DESC_F_NEXT : 0), ids[(k + 1) % ids.length]),
    );
    this.held.set(ids[0], ids.length);
    this.putAvail(ids[0]);
    if (opts.publish !== false) this.publish();
    return ids[0];
  }

  /** Used elements published since the last call. */
  takeUsed(): { id: number; len: number }[] {
    const out: { id: number; len: number }[] = [];
    const usedIdx = readU16(this.mem, this.cfg.usedAddr + 2);
    while (this.lastUsed !== usedIdx) {
      const at = this.cfg.usedAddr + 4 + 8 * (this.lastUsed % this.cfg.size);
      const id = readU32(this.mem, at);
      out.push({ id, len: readU32(this.mem, at + 4) });
      this.heldTotal -= this.held.get(id) ?? 0;
      this.held.delete(id);
      this.lastUsed = (this.lastUsed + 1) & 0xffff;
    }
    return out;
  }

  /** avail.flags. */
  setAvailFlags(flags: number): void {
    writeU16(this.mem, this.cfg.availAddr, flags);
  }
  /** used_event (EVENT_IDX). */
  setUsedEvent(v: number): void {
    writeU16(this.mem, this.cfg.availAddr + 4 + 2 * this.cfg.size, v);
  }
  /** avail_event written by the device (EVENT_IDX). */
  availEvent(): number {
    return readU16(this.mem, this.cfg.usedAddr + 4 + 8 * this.cfg.size);
  }
  /** used.flags written by the device. */
  usedFlags(): number {
    return readU16(this.mem, this.cfg.usedAddr);
  }
  /** used.idx written by the device. */
  usedIdx(): number {
    return readU16(this.mem, this.cfg.usedAddr + 2);
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
    writeU64(this.mem, at, gpa % 0x1_0000_0000, Math.floor(gpa / 0x1_0000_0000));
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
