import type { MemEntry } from '@virtio-gpu/protocol';
import { ArrayGuestMemory } from '@virtio-gpu/virtqueue';
import { PageAllocator } from './page-allocator';
import { Prng } from './prng';

/** One guest RAM region: where it sits in guest-physical space and how large it is. */
export interface RamRegionSpec {
  gpa: number;
  bytes: number;
}

/** Options of {@link GuestRam}. */
export interface GuestRamOptions {
  /** Regions of RAM; default one 128 MiB region at 1 GiB (not 0, so gpa/offset mix-ups show). */
  regions?: RamRegionSpec[];
  /** Use SharedArrayBuffer (so the device may run in a worker). Default false. */
  shared?: boolean;
  /** Seed of the page-scattering PRNG. */
  seed?: number;
  /** Page size in bytes. Default 4096. */
  pageSize?: number;
}

interface Region {
  gpa: number;
  end: number;
  bytes: Uint8Array;
  dv: DataView;
  pages: PageAllocator;
}

/**
 * The guest's physical RAM as the driver sees it: regions of ArrayBuffer memory, a page allocator,
 * and byte access by guest-physical address. `memory` is the same RAM as the device sees it.
 */
export class GuestRam {
  /** The device's view of this RAM. */
  readonly memory: ArrayGuestMemory;
  /** Bytes per page. */
  readonly pageSize: number;
  private readonly regions: Region[];
  private readonly rng: Prng;

  constructor(opts: GuestRamOptions = {}) {
    const specs = opts.regions ?? [{ gpa: 0x4000_0000, bytes: 128 << 20 }];
    this.pageSize = opts.pageSize ?? 4096;
    this.rng = new Prng(opts.seed ?? 0x5eed);
    this.regions = specs.map((s) => {
      const buf = opts.shared ? new SharedArrayBuffer(s.bytes) : new ArrayBuffer(s.bytes);
      const bytes = new Uint8Array(buf);
      return { gpa: s.gpa, end: s.gpa + s.bytes, bytes, dv: new DataView(buf), pages: new PageAllocator(s.gpa, s.bytes, this.pageSize) };
    });
    this.memory = new ArrayGuestMemory(this.regions.map((r) => ({ gpa: r.gpa, bytes: r.bytes })));
  }

  /** Free pages over all regions. */
  get freePages(): number {
    return this.regions.reduce((n, r) => n + r.pages.free, 0);
  }

  /** Allocates contiguous guest memory in the first region that has room; returns its address. */
  alloc(bytes: number): number {
    for (const r of this.regions) {
      try {
        return r.pages.allocContiguous(bytes);
      } catch {
        // try the next region
      }
    }
    throw new RangeError(`guest out of memory: ${bytes} contiguous bytes`);
  }

  /** Frees memory from {@link alloc}. */
  free(gpa: number, bytes: number): void {
    this.regionOf(gpa, 1).pages.freeRange(gpa, bytes);
  }

  /**
   * Allocates `bytes` as scattered single pages (seeded, so identical on every run), returned as
   * backing entries. Physically adjacent pages that happen to follow each other are merged unless
   * `merge` is false, as a real driver's sg table would.
   */
  allocScattered(bytes: number, merge = true): MemEntry[] {
    const pages: number[] = [];
    let left = Math.ceil(bytes / this.pageSize);
    while (left > 0) {
      const r = this.regions[this.rng.below(this.regions.length)]!;
      const take = Math.min(left, r.pages.free, 1 + this.rng.below(64));
      if (take === 0) {
        if (this.freePages === 0) throw new RangeError(`guest out of memory: ${bytes} bytes`);
        continue;
      }
      pages.push(...r.pages.allocScattered(take * this.pageSize, this.rng));
      left -= take;
    }
    const entries: MemEntry[] = [];
    let remaining = bytes;
    for (const p of pages) {
      const len = Math.min(this.pageSize, remaining);
      remaining -= len;
      const last = entries[entries.length - 1];
      if (merge && last && Number(last.addr) + last.length === p) last.length += len;
      else entries.push({ addr: BigInt(p), length: len });
    }
    return entries;
  }

  /** Frees the pages of entries from {@link allocScattered}. */
  freeEntries(entries: MemEntry[]): void {
    for (const e of entries) this.free(Number(e.addr), e.length);
  }

  /** A view of contiguous RAM at `gpa` (must lie inside one region). */
  bytes(gpa: number, length: number): Uint8Array {
    const r = this.regionOf(gpa, length);
    return r.bytes.subarray(gpa - r.gpa, gpa - r.gpa + length);
  }

  /** DataView and byte offset for contiguous RAM at `gpa`, for drivers that write rings. */
  dataView(gpa: number, length: number): { dv: DataView; offset: number } {
    const r = this.regionOf(gpa, length);
    return { dv: r.dv, offset: gpa - r.gpa };
  }

  /** Copies `src` into RAM at `gpa` (may cross adjacent regions). */
  write(gpa: number, src: Uint8Array): void {
    let done = 0;
    while (done < src.length) {
      const r = this.regionOf(gpa + done, 1);
      const n = Math.min(src.length - done, r.end - (gpa + done));
      r.bytes.set(src.subarray(done, done + n), gpa + done - r.gpa);
      done += n;
    }
  }

  /** Copies `src` into scattered backing `entries`, starting `offset` bytes into the backing. */
  writeEntries(entries: readonly MemEntry[], offset: number, src: Uint8Array): void {
    this.walkEntries(entries, offset, src.length, (gpa, at, n) => this.write(gpa, src.subarray(at, at + n)));
  }

  /** Reads `length` bytes of scattered backing `entries` from `offset` into a new array. */
  readEntries(entries: readonly MemEntry[], offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.walkEntries(entries, offset, length, (gpa, at, n) => out.set(this.bytes(gpa, n), at));
    return out;
  }

  private walkEntries(entries: readonly MemEntry[], offset: number, length: number, fn: (gpa: number, at: number, n: number) => void): void {
    let skip = offset;
    let at = 0;
    for (const e of entries) {
      if (at >= length) return;
      if (skip >= e.length) {
        skip -= e.length;
        continue;
      }
      const n = Math.min(e.length - skip, length - at);
      fn(Number(e.addr) + skip, at, n);
      at += n;
      skip = 0;
    }
    if (at < length) throw new RangeError(`backing too small: ${offset}+${length}`);
  }

  private regionOf(gpa: number, length: number): Region {
    for (const r of this.regions) {
      if (gpa >= r.gpa && gpa + length <= r.end) return r;
    }
    throw new RangeError(`guest address ${gpa}+${length} not in one RAM region`);
  }
}
