/**
 * Guest memory as the vhost-user frontend shares it: regions of its memory fds, each described
 * by guest-physical address, size, the frontend's own (user) address and the offset in the fd
 * (vhost-user.rst "Memory access"). Regions come all at once (SET_MEM_TABLE) or one by one
 * (ADD_MEM_REG / REM_MEM_REG with VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS).
 *
 * Every table is validated before anything is mapped: no empty region, no overlap in
 * guest-physical or user address space, nothing beyond 2^53. A region's mapping is released
 * when the region is removed or replaced, and the host's unmap detaches every JS view first,
 * so a stale view (a resource's old backing) reads as empty instead of touching freed pages.
 *
 * The class is the device's `GuestMemory`: the device and its queues keep this one object while
 * the regions behind it change.
 */
import { type GuestRegion, ReplaceableGuestMemory } from '@virtio-gpu/virtqueue';
import type { MappedRegion, VhostHost } from './host.js';
import type { MemoryRegionDesc } from './wire.js';

/** Memory slots offered with GET_MAX_MEM_SLOTS: RAM below and above 4 GiB plus hotplugged DIMMs. */
export const MAX_MEM_SLOTS = 32;

/**
 * Mappings start at a multiple of this below the region's fd offset, so a region of a
 * hugetlbfs-backed fd (2 MiB pages) maps like a memfd one (mmap offsets must be page aligned).
 */
const MAP_ALIGN = 2 * 1024 * 1024;

/**
 * Largest view one GuestRegion gets: typed arrays have a maximum length, so a big region is
 * handed to ArrayGuestMemory as adjacent pieces (its lookups cross adjacent regions).
 */
const MAX_VIEW_BYTES = 1024 * 1024 * 1024;

interface Region {
  readonly desc: MemoryRegionDesc;
  readonly map: MappedRegion;
  /** Where the region starts inside the mapping. */
  readonly lead: number;
}

function overlaps(a0: number, aLen: number, b0: number, bLen: number): boolean {
  return a0 < b0 + bLen && b0 < a0 + aLen;
}

/** Why `add` cannot join `existing`, or null. */
function conflict(existing: readonly MemoryRegionDesc[], add: MemoryRegionDesc): string | null {
  for (const r of existing) {
    if (overlaps(r.guestPhysAddr, r.memorySize, add.guestPhysAddr, add.memorySize)) {
      return `guest range 0x${add.guestPhysAddr.toString(16)}+0x${add.memorySize.toString(16)} overlaps region at 0x${r.guestPhysAddr.toString(16)}`;
    }
    if (overlaps(r.userspaceAddr, r.memorySize, add.userspaceAddr, add.memorySize)) {
      return `user range 0x${add.userspaceAddr.toString(16)}+0x${add.memorySize.toString(16)} overlaps region at 0x${r.userspaceAddr.toString(16)}`;
    }
  }
  return null;
}

/** The frontend's guest memory; see the module comment. */
export class VhostMemory extends ReplaceableGuestMemory {
  private regions: Region[] = [];

  constructor(
    private readonly host: VhostHost,
    /** Most regions at once (ADD_MEM_REG beyond it is refused). */
    readonly maxSlots: number = MAX_MEM_SLOTS,
  ) {
    super();
  }

  /** Number of mapped regions. */
  get regionCount(): number {
    return this.regions.length;
  }

  /** The current region descriptions, in guest address order. */
  describe(): MemoryRegionDesc[] {
    return this.regions.map((r) => ({ ...r.desc }));
  }

  /**
   * Replace the whole table (SET_MEM_TABLE). `fds[i]` backs `descs[i]`; the fds are always
   * closed (a mapping keeps the memory alive). Returns an error and leaves the old table when the
   * new one is invalid or cannot be mapped.
   */
  setTable(descs: readonly MemoryRegionDesc[], fds: readonly number[]): string | null {
    try {
      if (descs.length !== fds.length) return `${descs.length} regions with ${fds.length} descriptors`;
      if (descs.length > this.maxSlots) return `${descs.length} regions (at most ${this.maxSlots})`;
      for (let i = 0; i < descs.length; i++) {
        const bad = conflict(descs.slice(0, i), descs[i]);
        if (bad) return `region ${i}: ${bad}`;
      }
      const mapped: Region[] = [];
      for (let i = 0; i < descs.length; i++) {
        const m = this.mapOne(descs[i], fds[i]);
        if (typeof m === 'string') {
          for (const r of mapped) r.map.unmap();
          return `region ${i}: ${m}`;
        }
        mapped.push(m);
      }
      const old = this.regions;
      this.install(mapped);
      for (const r of old) r.map.unmap();
      return null;
    } finally {
      for (const fd of fds) this.host.close(fd);
    }
  }

  /** Add one region (ADD_MEM_REG); `fd` is always closed. */
  add(desc: MemoryRegionDesc, fd: number): string | null {
    try {
      if (this.regions.length >= this.maxSlots) return `all ${this.maxSlots} memory slots in use`;
      const bad = conflict(
        this.regions.map((r) => r.desc),
        desc,
      );
      if (bad) return bad;
      const m = this.mapOne(desc, fd);
      if (typeof m === 'string') return m;
      this.install([...this.regions, m]);
      return null;
    } finally {
      this.host.close(fd);
    }
  }

  /**
   * Remove the region with this guest address, user address and size (REM_MEM_REG; the fd
   * offset is ignored, as the spec says) and unmap it.
   */
  remove(desc: MemoryRegionDesc): string | null {
    const i = this.regions.findIndex(
      (r) => r.desc.guestPhysAddr === desc.guestPhysAddr && r.desc.userspaceAddr === desc.userspaceAddr && r.desc.memorySize === desc.memorySize,
    );
    if (i < 0) return `no region at guest 0x${desc.guestPhysAddr.toString(16)} user 0x${desc.userspaceAddr.toString(16)} size 0x${desc.memorySize.toString(16)}`;
    const gone = this.regions[i];
    this.install(this.regions.filter((_, k) => k !== i));
    gone.map.unmap();
    return null;
  }

  /**
   * Unmap everything (connection closed, backend shutdown). Every region is attempted; the first
   * failure (the host refused an unmap) is rethrown after the rest were unmapped.
   */
  clear(): void {
    const old = this.regions;
    this.install([]);
    let failure: unknown = null;
    for (const r of old) {
      try {
        r.map.unmap();
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure !== null) throw failure;
  }

  /**
   * Why the guest memory no longer reaches the frontend, or null: a region whose file the
   * frontend shrank under the mapping (the accesses that faulted read zeros instead of SIGBUS).
   */
  lostRegion(): string | null {
    const r = this.regions.find((x) => x.map.truncated());
    if (!r) return null;
    return `the frontend shrank the file under the memory region at guest 0x${r.desc.guestPhysAddr.toString(16)} (0x${r.desc.memorySize.toString(16)} bytes)`;
  }

  /**
   * The guest-physical address of the frontend user address `uva`, when `[uva, uva + length)`
   * lies inside one region; -1 otherwise. Ring addresses arrive as user addresses (vhost-user.rst:
   * "a ring address is ... a user address" without VIRTIO_F_IOMMU_PLATFORM).
   */
  uvaToGpa(uva: number, length: number): number {
    if (!Number.isSafeInteger(uva) || !Number.isSafeInteger(length) || uva < 0 || length < 0) return -1;
    for (const r of this.regions) {
      const d = r.desc;
      if (uva >= d.userspaceAddr && uva + length <= d.userspaceAddr + d.memorySize) return d.guestPhysAddr + (uva - d.userspaceAddr);
    }
    return -1;
  }

  private mapOne(desc: MemoryRegionDesc, fd: number): Region | string {
    const base = Math.floor(desc.mmapOffset / MAP_ALIGN) * MAP_ALIGN;
    const lead = desc.mmapOffset - base;
    let map: MappedRegion;
    try {
      map = this.host.mmap(fd, base, lead + desc.memorySize);
    } catch (e) {
      return `mmap of 0x${desc.memorySize.toString(16)} bytes at fd offset 0x${desc.mmapOffset.toString(16)} failed: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (map.byteLength !== lead + desc.memorySize || map.byteOffset + map.byteLength > map.buffer.byteLength) {
      map.unmap();
      return `mapping has ${map.byteLength} bytes, want ${lead + desc.memorySize}`;
    }
    return { desc: { ...desc }, map, lead };
  }

  private install(regions: Region[]): void {
    const sorted = [...regions].sort((a, b) => a.desc.guestPhysAddr - b.desc.guestPhysAddr);
    const pieces: GuestRegion[] = [];
    for (const r of sorted) {
      const size = r.desc.memorySize;
      for (let off = 0; off < size; off += MAX_VIEW_BYTES) {
        pieces.push({ gpa: r.desc.guestPhysAddr + off, bytes: new Uint8Array(r.map.buffer, r.map.byteOffset + r.lead + off, Math.min(size - off, MAX_VIEW_BYTES)) });
      }
    }
    this.replaceRegions(pieces);
    this.regions = sorted;
  }
}
