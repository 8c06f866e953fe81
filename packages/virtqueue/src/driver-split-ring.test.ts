import { describe, expect, test } from 'vitest';
import { DriverSplitRing, type DriverRam } from './driver-split-ring.js';
import { ArrayGuestMemory } from './guest-memory.js';
import { SplitQueue } from './split-queue.js';
import { VIRTQ_DESC_F_INDIRECT } from './virtio-ring.js';

/** 1 MiB of guest RAM at 1 MiB with a bump allocator (16-byte aligned). */
function testRam(): DriverRam & { mem: ArrayGuestMemory; bytes: Uint8Array } {
  const bytes = new Uint8Array(1 << 20);
  const mem = new ArrayGuestMemory([{ gpa: 0x10_0000, bytes }]);
  let next = 0x10_0000;
  return {
    mem,
    bytes,
    memory: mem,
    alloc(n: number) {
      const at = Math.ceil(next / 16) * 16;
      next = at + n;
      return at;
    },
  };
}

/** A driver ring and the device-side SplitQueue over the same guest RAM. */
function pair(size = 8, eventIdx = true) {
  const ram = testRam();
  const ring = DriverSplitRing.allocate(ram, size, eventIdx);
  const q = new SplitQueue(ram.memory, ring.layout);
  const buf = ram.alloc(4096);
  const chain = [
    { gpa: buf, length: 16, write: false },
    { gpa: buf + 64, length: 32, write: true },
  ];
  return { ram, ring, q, chain };
}

describe('DriverSplitRing', () => {
  test('popUsedHead -> head and written length of each used chain in order, then -1', () => {
    const { ring, q, chain } = pair();
    const h1 = ring.add(chain);
    const h2 = ring.add(chain);
    ring.publish();
    const c1 = q.pop()!;
    const c2 = q.pop()!;
    q.pushUsed(c2, 7);
    q.pushUsed(c1, 24);
    expect(ring.popUsedHead()).toBe(h2);
    expect(ring.lastUsedLength).toBe(7);
    expect(ring.popUsedHead()).toBe(h1);
    expect(ring.lastUsedLength).toBe(24);
    expect(ring.popUsedHead()).toBe(-1);
    expect(ring.free).toBe(8);
  });

  test('popUsed -> the same as an object, null when none', () => {
    const { ring, q, chain } = pair();
    const h = ring.add(chain);
    ring.publish();
    q.pushUsed(q.pop()!, 5);
    expect(ring.popUsed()).toEqual({ head: h, length: 5 });
    expect(ring.popUsed()).toBeNull();
  });

  test('many laps round the ring: descriptors recycle, avail and used indexes wrap', () => {
    const { ring, q, chain } = pair(4);
    let bad = 0;
    for (let lap = 0; lap < 70_000 / 2; lap++) {
      ring.add(chain);
      ring.add(chain);
      ring.publish();
      if (ring.add(chain) !== -1) bad++;
      for (let c = q.pop(); c; c = q.pop()) q.pushUsed(c, 1);
      let n = 0;
      while (ring.popUsedHead() >= 0) n++;
      if (n !== 2) bad++;
    }
    expect(bad).toBe(0);
    expect(q.broken).toBeNull();
  });

  test('used element naming a head that is not in flight -> popUsedHead throws (device bug), takeUsed reports it', () => {
    const { ring, ram } = pair();
    const l = ring.layout;
    const used = ram.memory.view(l.usedAddr, 20)!;
    const dv = new DataView(used.buffer, used.byteOffset, 20);
    dv.setUint32(4, 3, true); // used.ring[0].id = 3, never added
    dv.setUint16(2, 1, true); // used.idx = 1
    expect(() => ring.popUsedHead()).toThrow(/unknown head 3/);
    dv.setUint32(12, 6, true); // used.ring[1].id = 6, never added either
    dv.setUint16(2, 2, true);
    expect(ring.takeUsed()).toEqual([{ head: 6, length: 0 }]);
  });

  test('EVENT_IDX: needsKick follows avail_event; popUsed publishes used_event, takeUsed does not', () => {
    const { ring, q, chain, ram } = pair();
    ring.add(chain);
    ring.publish();
    expect(ring.needsKick()).toBe(true);
    q.pushUsed(q.pop()!, 1);
    ring.popUsedHead();
    const l = ring.layout;
    const avail = ram.memory.view(l.availAddr, 6 + 2 * l.size)!;
    const usedEvent = () => avail[4 + 2 * l.size] | (avail[5 + 2 * l.size] << 8);
    expect(usedEvent()).toBe(1);
    ring.add(chain);
    ring.publish();
    q.pushUsed(q.pop()!, 1);
    expect(ring.takeUsed()).toHaveLength(1);
    expect(usedEvent()).toBe(1);
  });

  test('addIndirect -> one ring descriptor with VIRTQ_DESC_F_INDIRECT; the device sees the table\'s buffers', () => {
    const { ring, q, chain, ram } = pair();
    const table = ram.alloc(16 * chain.length);
    const head = ring.addIndirect(table, chain);
    ring.publish();
    expect(ring.free).toBe(7);
    const desc = ram.memory.view(ring.layout.descAddr + 16 * head, 16)!;
    expect(desc[12] | (desc[13] << 8)).toBe(VIRTQ_DESC_F_INDIRECT);
    const c = q.pop()!;
    expect([c.descriptorCount, c.readableBytes, c.writableBytes]).toEqual([2, 16, 32]);
  });

  test('putAvail places a hand-written chain; its used element comes back without touching the free list', () => {
    const { ring, q, chain } = pair();
    ring.writeDesc(5, chain[1].gpa, 8, 2 /* WRITE */, 0);
    ring.putAvail(5);
    ring.publish();
    q.pushUsed(q.pop()!, 8);
    expect(ring.popUsed()).toEqual({ head: 5, length: 8 });
    expect(ring.free).toBe(8);
  });

  test('a ring outside guest memory -> RangeError; a bad size -> RangeError', () => {
    const ram = testRam();
    expect(() => new DriverSplitRing(ram.memory, { size: 8, descAddr: 0, availAddr: 0x10_0000, usedAddr: 0x10_1000, eventIdx: false })).toThrow(RangeError);
    expect(() => DriverSplitRing.allocate(ram, 6, false)).toThrow(RangeError);
  });
});
