import { describe, expect, it } from 'vitest';
import { VhostMemory } from './memory.js';
import { FakeHost } from './testing/fake-host.js';
import type { MemoryRegionDesc } from './wire.js';

const MiB = 1 << 20;
const reg = (gpa: number, size: number, uva: number, off = 0): MemoryRegionDesc => ({ guestPhysAddr: gpa, memorySize: size, userspaceAddr: uva, mmapOffset: off });

function setup(maxSlots?: number) {
  const host = new FakeHost();
  const mem = new VhostMemory(host, maxSlots);
  const file = (bytes: number) => {
    const buf = new ArrayBuffer(bytes);
    return { buf, fd: host.memfd(buf), bytes: new Uint8Array(buf) };
  };
  return { host, mem, file };
}

describe('VhostMemory', () => {
  it('maps regions; guest addresses and the frontend user addresses both resolve; fds closed', () => {
    const { host, mem, file } = setup();
    const low = file(MiB);
    const high = file(2 * MiB);
    const base = host.openFds;
    expect(mem.setTable([reg(0, MiB, 0x7f00_0000_0000), reg(0x1_0000_0000, MiB, 0x7f10_0000_0000, MiB)], [low.fd, high.fd])).toBeNull();
    expect(host.openFds).toBe(base - 2);
    expect(host.liveMappings).toBe(2);
    low.bytes[0x123] = 7;
    high.bytes[MiB + 5] = 9;
    expect(mem.view(0x123, 1)![0]).toBe(7);
    expect(mem.view(0x1_0000_0005, 1)![0]).toBe(9);
    expect(mem.uvaToGpa(0x7f10_0000_0010, 16)).toBe(0x1_0000_0010);
    expect(mem.uvaToGpa(0x7f00_0000_0000 + MiB - 8, 16)).toBe(-1); // crosses the region's end
    expect(mem.uvaToGpa(0x7e00_0000_0000, 1)).toBe(-1);
  });

  it.each([
    ['guest ranges overlap', [reg(0, 2 * MiB, 0x1000_0000), reg(MiB, MiB, 0x2000_0000)], /guest range/],
    ['user ranges overlap', [reg(0, MiB, 0x1000_0000), reg(4 * MiB, MiB, 0x1000_0000 + MiB / 2)], /user range/],
  ])('%s -> refused, nothing mapped, the old table kept', (_n, regions, why) => {
    const { host, mem, file } = setup();
    const a = file(4 * MiB);
    expect(mem.setTable([reg(0, MiB, 0x9000_0000)], [a.fd])).toBeNull();
    const fds = regions.map(() => file(4 * MiB).fd);
    expect(mem.setTable(regions, fds)).toMatch(why);
    expect(host.liveMappings).toBe(1);
    expect(mem.describe()).toEqual([reg(0, MiB, 0x9000_0000)]);
    for (const fd of fds) expect(host.fdList()).not.toContain(fd);
  });

  it('fewer descriptors than regions -> refused, the given fds closed', () => {
    const { host, mem, file } = setup();
    const a = file(MiB);
    const before = host.openFds;
    expect(mem.setTable([reg(0, MiB, 0x1000_0000), reg(MiB, MiB, 0x2000_0000)], [a.fd])).toMatch(/2 regions with 1 descriptors/);
    expect(host.openFds).toBe(before - 1);
  });

  it('a region beyond the end of its fd -> mmap refused, earlier mappings of the table undone', () => {
    const { host, mem, file } = setup();
    const ok = file(MiB);
    const small = file(MiB);
    expect(mem.setTable([reg(0, MiB, 0x1000_0000), reg(MiB, 2 * MiB, 0x2000_0000)], [ok.fd, small.fd])).toMatch(/mmap/);
    expect(host.liveMappings).toBe(0);
    expect(mem.regionCount).toBe(0);
  });

  it('an fd that cannot be mapped (an eventfd) -> refused', () => {
    const { host, mem } = setup();
    expect(mem.add(reg(0, MiB, 0x1000_0000), host.eventfd())).toMatch(/ENODEV/);
  });

  it('mmap offsets need not be aligned: mapped from the 2 MiB boundary below', () => {
    const { host, mem, file } = setup();
    const f = file(8 * MiB);
    f.bytes[3 * MiB + 0x1000] = 42;
    expect(mem.add(reg(0x4000_0000, MiB, 0x1000_0000, 3 * MiB + 0x1000), f.fd)).toBeNull();
    expect(host.mmaps.at(-1)).toEqual({ offset: 2 * MiB, size: MiB + MiB + 0x1000 });
    expect(mem.view(0x4000_0000, 1)![0]).toBe(42);
  });

  it('ADD/REM_MEM_REG: slots bounded; removal by guest address, user address and size; unmapped', () => {
    const { host, mem, file } = setup(2);
    expect(mem.add(reg(0, MiB, 0x1000_0000), file(MiB).fd)).toBeNull();
    expect(mem.add(reg(MiB, MiB, 0x2000_0000), file(MiB).fd)).toBeNull();
    const third = file(MiB).fd;
    expect(mem.add(reg(2 * MiB, MiB, 0x3000_0000), third)).toMatch(/slots/);
    expect(host.fdList()).not.toContain(third);
    expect(mem.remove(reg(0, MiB, 0x1000_0001))).toMatch(/no region/);
    expect(mem.remove({ ...reg(0, MiB, 0x1000_0000), mmapOffset: 12345 })).toBeNull();
    expect(host.liveMappings).toBe(1);
    expect(mem.view(0, 1)).toBeNull();
    expect(mem.view(MiB, 1)).not.toBeNull();
    mem.clear();
    expect(host.liveMappings).toBe(0);
  });

  it('a replaced table unmaps the old regions; views cached before do not see the new memory', () => {
    const { host, mem, file } = setup();
    const a = file(MiB);
    const b = file(MiB);
    a.bytes[0] = 1;
    b.bytes[0] = 2;
    expect(mem.setTable([reg(0, MiB, 0x1000_0000)], [a.fd])).toBeNull();
    expect(mem.view(0, 4)![0]).toBe(1);
    expect(mem.setTable([reg(0, MiB, 0x1000_0000)], [b.fd])).toBeNull();
    expect(host.liveMappings).toBe(1);
    expect(mem.view(0, 4)![0]).toBe(2);
  });
});
