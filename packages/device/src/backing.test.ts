import { ArrayGuestMemory } from '@virtio-gpu/virtqueue';
import { describe, expect, it } from 'vitest';
import { BACKING_FIXED_HOST_BYTES, Backing, RUN_HOST_BYTES } from './backing.js';

describe('Backing', () => {
  const ram = new Uint8Array(64 * 1024).map((_, i) => i & 255);
  const mem = new ArrayGuestMemory([{ gpa: 0x1000, bytes: ram }]);
  it('merges adjacent pages into one run', () => {
    const b = Backing.resolve(mem, [{ addr: 0x1000n, length: 4096 }, { addr: 0x2000n, length: 4096 }], 16);
    expect(b.ok && b.value.iovecs.length).toBe(1);
  });
  it('copyOut across scattered runs returns the bytes in backing order', () => {
    const b = Backing.resolve(mem, [{ addr: 0x5000n, length: 100 }, { addr: 0x1000n, length: 50 }, { addr: 0x9000n, length: 10 }], 16);
    if (!b.ok) throw new Error(b.why);
    const dst = new Uint8Array(60);
    expect(b.value.copyOut(90, dst, 0, 60)).toBe(true);
    const want = [...ram.subarray(0x4000 + 90, 0x4000 + 100), ...ram.subarray(0, 50)];
    expect([...dst.subarray(0, 60)]).toEqual(want);
    expect(b.value.copyOut(151, dst, 0, 10)).toBe(false);
  });
  it('runFrom: the guest buffer, offset there and contiguous bytes behind a backing offset; false outside', () => {
    const b = Backing.resolve(mem, [{ addr: 0x5000n, length: 100 }, { addr: 0x1000n, length: 50 }], 16);
    if (!b.ok) throw new Error(b.why);
    const span = { bytes: new Uint8Array(0), at: 0, length: 0 };
    expect(b.value.runFrom(90, span)).toBe(true);
    expect(span.bytes.buffer).toBe(ram.buffer);
    expect([span.at, span.length]).toEqual([ram.byteOffset + 0x4000 + 90, 10]);
    expect(b.value.runFrom(100, span)).toBe(true);
    expect([span.at, span.length, span.bytes[span.at]]).toEqual([ram.byteOffset, 50, ram[0]]);
    expect(b.value.runFrom(150, span)).toBe(false);
    expect(b.value.runFrom(-1, span)).toBe(false);
    expect(span.at).toBe(ram.byteOffset);
  });
  it('copyIn writes through to guest memory', () => {
    const b = Backing.resolve(mem, [{ addr: 0x3000n, length: 8 }, { addr: 0x7000n, length: 8 }], 16);
    if (!b.ok) throw new Error(b.why);
    expect(b.value.copyIn(6, new Uint8Array([1, 2, 3, 4]), 0, 4)).toBe(true);
    expect([...ram.subarray(0x2006, 0x2008), ...ram.subarray(0x6000, 0x6002)]).toEqual([1, 2, 3, 4]);
  });
  it('copyOut/copyIn of every length 0..200 at every offset agree with a flat copy (small and large pieces)', () => {
    // Runs of 3, 70, 1 and 130 bytes: pieces below and above the byte-loop threshold.
    const local = new Uint8Array(8192).map((_, i) => (i * 7) & 255);
    const m = new ArrayGuestMemory([{ gpa: 0, bytes: local }]);
    const entries = [
      { addr: 4000n, length: 3 },
      { addr: 100n, length: 70 },
      { addr: 6000n, length: 1 },
      { addr: 2000n, length: 130 },
    ];
    const flat = () => Uint8Array.from(entries.flatMap((e) => [...local.subarray(Number(e.addr), Number(e.addr) + e.length)]));
    const b = Backing.resolve(m, entries, 16);
    if (!b.ok) throw new Error(b.why);
    const want = flat();
    const dst = new Uint8Array(210);
    for (let off = 0; off <= want.length; off += 1) {
      for (const len of [0, 1, 2, 3, 4, 63, 64, 65, 71, 200]) {
        if (off + len > want.length) continue;
        dst.fill(0xee);
        expect(b.value.copyOut(off, dst, 5, len)).toBe(true);
        expect([...dst.subarray(5, 5 + len)]).toEqual([...want.subarray(off, off + len)]);
        expect(dst[4]).toBe(0xee);
        expect(dst[5 + len]).toBe(0xee);
      }
    }
    const src = new Uint8Array(204).map((_, i) => 255 - i);
    expect(b.value.copyIn(2, src, 4, 200)).toBe(true);
    expect([...flat().subarray(2, 202)]).toEqual([...src.subarray(4, 204)]);
    expect(b.value.copyIn(1, src, 0, 2)).toBe(true);
    expect([...flat().subarray(1, 3)]).toEqual([255, 254]);
  });
  it('unmapped entry or too many entries fail', () => {
    expect(Backing.resolve(mem, [{ addr: 0x100000n, length: 8 }], 16).ok).toBe(false);
    expect(Backing.resolve(mem, [{ addr: 0x1000n, length: 8 }, { addr: 0x1000n, length: 8 }], 1).ok).toBe(false);
  });
});

describe('Backing storage (typed arrays, charged as kept)', () => {
  const ram = new Uint8Array(64 * 1024).map((_, i) => i & 255);
  const mem = new ArrayGuestMemory([
    { gpa: 0x1000, bytes: ram.subarray(0, 0x8000) },
    { gpa: 0x9000, bytes: ram.subarray(0x8000) },
  ]);
  it('keeps one run per unmerged entry and charges hostBytesFor(runs)', () => {
    const entries = Array.from({ length: 100 }, (_, i) => ({ addr: BigInt(0x1000 + 2 * i), length: 1 }));
    const b = Backing.resolve(mem, entries, 128);
    if (!b.ok) throw new Error(b.why);
    expect(b.value.runCount).toBe(100);
    expect(b.value.hostBytes).toBe(Backing.hostBytesFor(100));
    expect(Backing.hostBytesFor(100)).toBe(BACKING_FIXED_HOST_BYTES + 100 * RUN_HOST_BYTES);
  });
  it('an entry crossing into the adjacent region of the same buffer is one run, entries() gives its guest address', () => {
    const b = Backing.resolve(mem, [{ addr: 0x8ff0n, length: 32 }], 4);
    if (!b.ok) throw new Error(b.why);
    // 0x8ff0 is the last 16 bytes of region 0 and the region at 0x9000 follows: one buffer, so one merged run.
    expect(b.value.entries()).toEqual([{ addr: 0x8ff0n, length: 32 }]);
    const dst = new Uint8Array(32);
    expect(b.value.copyOut(0, dst, 0, 32)).toBe(true);
    expect([...dst]).toEqual([...ram.subarray(0x7ff0, 0x8010)]);
  });
  it('entries() resolves back to the same bytes (what snapshots store)', () => {
    const entries = [{ addr: 0x5000n, length: 100 }, { addr: 0x1000n, length: 50 }, { addr: 0x1032n, length: 10 }];
    const a = Backing.resolve(mem, entries, 8);
    if (!a.ok) throw new Error(a.why);
    const b = Backing.resolve(mem, a.value.entries(), 8);
    if (!b.ok) throw new Error(b.why);
    const x = new Uint8Array(160);
    const y = new Uint8Array(160);
    a.value.copyOut(0, x, 0, 160);
    b.value.copyOut(0, y, 0, 160);
    expect(y).toEqual(x);
    expect(b.value.runCount).toBe(a.value.runCount);
  });
  it('new Backing(views) merges adjacent views and reads them in order', () => {
    const b = new Backing([ram.subarray(0, 10), ram.subarray(10, 30), new Uint8Array(0), ram.subarray(100, 104)]);
    expect(b.runCount).toBe(2);
    expect(b.size).toBe(34);
    expect(b.iovecs.map((v) => v.length)).toEqual([30, 4]);
    expect(b.starts).toEqual([0, 30]);
  });
});
