import { SplitQueue } from '@virtio-gpu/virtqueue';
import { describe, expect, test } from 'vitest';
import { GuestRam } from './guest-ram';
import { DriverSplitRing } from './split-ring';

/** A driver ring and the device-side SplitQueue over the same guest RAM. */
function pair(size = 8, eventIdx = true) {
  const ram = new GuestRam({ regions: [{ gpa: 0x10_0000, bytes: 1 << 20 }] });
  const ring = new DriverSplitRing(ram, size, eventIdx);
  const l = ring.layout;
  const q = new SplitQueue(ram.memory, { size: l.size, descAddr: l.descAddr, availAddr: l.availAddr, usedAddr: l.usedAddr, eventIdx });
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

  test('used element naming a head that is not in flight -> throws (device bug)', () => {
    const { ring, ram } = pair();
    const l = ring.layout;
    const { dv, offset } = ram.dataView(l.usedAddr, 12);
    dv.setUint32(offset + 4, 3, true); // used.ring[0].id = 3, never added
    dv.setUint16(offset + 2, 1, true); // used.idx = 1
    expect(() => ring.popUsedHead()).toThrow(/unknown head 3/);
  });

  test('EVENT_IDX: needsKick follows avail_event; popUsed publishes used_event', () => {
    const { ring, q, chain, ram } = pair();
    ring.add(chain);
    ring.publish();
    expect(ring.needsKick()).toBe(true);
    q.pushUsed(q.pop()!, 1);
    ring.popUsedHead();
    const l = ring.layout;
    const { dv, offset } = ram.dataView(l.availAddr, 6 + 2 * l.size);
    expect(dv.getUint16(offset + 4 + 2 * l.size, true)).toBe(1);
  });
});
