import { ArrayGuestMemory } from '@virtio-gpu/virtqueue';
import { describe, expect, it } from 'vitest';
import { Backing } from './backing.js';

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
  it('copyIn writes through to guest memory', () => {
    const b = Backing.resolve(mem, [{ addr: 0x3000n, length: 8 }, { addr: 0x7000n, length: 8 }], 16);
    if (!b.ok) throw new Error(b.why);
    expect(b.value.copyIn(6, new Uint8Array([1, 2, 3, 4]), 0, 4)).toBe(true);
    expect([...ram.subarray(0x2006, 0x2008), ...ram.subarray(0x6000, 0x6002)]).toEqual([1, 2, 3, 4]);
  });
  it('unmapped entry or too many entries fail', () => {
    expect(Backing.resolve(mem, [{ addr: 0x100000n, length: 8 }], 16).ok).toBe(false);
    expect(Backing.resolve(mem, [{ addr: 0x1000n, length: 8 }, { addr: 0x1000n, length: 8 }], 1).ok).toBe(false);
  });
});
