import { GuestRam } from '@virtio-gpu/guest';
import { DriverSplitRing, SplitQueue } from '@virtio-gpu/virtqueue';
import { describe, expect, it } from 'vitest';
import { GatedQueue, peekType } from './gated-queue.js';

/** A real split ring with `n` one-descriptor chains whose first le32 is 0x100 + i. */
function ring(n: number, size = 64) {
  const ram = new GuestRam({ regions: [{ gpa: 0x10_0000, bytes: 1 << 20 }] });
  const drv = DriverSplitRing.allocate(ram, size, false);
  const l = drv.layout;
  const q = new SplitQueue(ram.memory, { size: l.size, descAddr: l.descAddr, availAddr: l.availAddr, usedAddr: l.usedAddr, eventIdx: false });
  const add = (k: number) => {
    for (let i = 0; i < k; i++) {
      const buf = ram.alloc(64);
      new DataView(ram.bytes(buf, 4).buffer, ram.bytes(buf, 4).byteOffset).setUint32(0, 0x100 + i, true);
      drv.add([
        { gpa: buf, length: 24, write: false },
        { gpa: buf + 32, length: 24, write: true },
      ]);
    }
    drv.publish();
  };
  add(n);
  return { q, add };
}

/** Deferred callbacks run by hand. */
function manualDefer() {
  const fns: (() => void)[] = [];
  return { defer: (f: () => void) => void fns.push(f), run: () => fns.splice(0).forEach((f) => f()), get count() { return fns.length; } };
}

describe('GatedQueue', () => {
  it('hands out at most `budget` chains per batch, then resumes on a later turn', () => {
    const { q } = ring(10);
    const d = manualDefer();
    let resumed = 0;
    const g = new GatedQueue({ budget: 4, resume: () => resumed++, defer: d.defer });
    g.start(q);
    g.beginBatch();
    const got: number[] = [];
    for (let c = g.pop(); c; c = g.pop()) got.push(peekType(c));
    expect(got).toEqual([0x100, 0x101, 0x102, 0x103]);
    expect(d.count).toBe(1);
    d.run();
    expect(resumed).toBe(1);
    for (let c = g.pop(); c; c = g.pop()) got.push(peekType(c));
    expect(got).toHaveLength(8);
  });

  it('a time budget ends a batch of expensive chains early (at least one chain each)', () => {
    const { q } = ring(5);
    let t = 0;
    const d = manualDefer();
    const g = new GatedQueue({ budget: 100, budgetMs: 4, now: () => t, resume: () => {}, defer: d.defer });
    g.start(q);
    g.beginBatch();
    expect(g.pop()).not.toBeNull();
    t += 5; // the first chain took 5 ms
    expect(g.pop()).toBeNull();
    expect(d.count).toBe(1);
    d.run();
    expect(g.pop()).not.toBeNull();
  });

  it('a held chain blocks the ring behind it (order kept) until released', () => {
    const { q } = ring(3);
    const d = manualDefer();
    let resumed = 0;
    const g = new GatedQueue({ budget: 64, resume: () => resumed++, defer: d.defer, shouldHold: (c) => peekType(c) === 0x101 });
    g.start(q);
    g.beginBatch();
    expect(peekType(g.pop()!)).toBe(0x100);
    expect(g.pop()).toBeNull();
    expect(g.pop()).toBeNull();
    expect(g.holding).toBe(true);
    g.release();
    d.run();
    expect(resumed).toBe(1);
    expect(peekType(g.pop()!)).toBe(0x101);
    expect(peekType(g.pop()!)).toBe(0x102);
  });

  it('paused: nothing handed out; unpause resumes only when a pop was refused', () => {
    const { q } = ring(2);
    const d = manualDefer();
    let paused = true;
    let resumed = 0;
    const g = new GatedQueue({ budget: 64, resume: () => resumed++, defer: d.defer, paused: () => paused });
    g.start(q);
    g.unpause();
    expect(d.count).toBe(0);
    expect(g.pop()).toBeNull();
    paused = false;
    g.unpause();
    d.run();
    expect(resumed).toBe(1);
    expect(g.pop()).not.toBeNull();
  });

  it('stopped: nothing handed out, a held chain dropped, no resume after stop', () => {
    const { q } = ring(2);
    const d = manualDefer();
    let resumed = 0;
    const g = new GatedQueue({ budget: 1, resume: () => resumed++, defer: d.defer, shouldHold: () => true });
    g.start(q);
    expect(g.pop()).toBeNull();
    g.release();
    g.stop();
    d.run();
    expect(resumed).toBe(0);
    expect(g.pop()).toBeNull();
    expect(g.holding).toBe(false);
  });

  it('peekType: -1 for a chain that starts with a writable or short descriptor', () => {
    const ram = new GuestRam({ regions: [{ gpa: 0x10_0000, bytes: 1 << 20 }] });
    const drv = DriverSplitRing.allocate(ram, 8, false);
    const l = drv.layout;
    const q = new SplitQueue(ram.memory, { size: l.size, descAddr: l.descAddr, availAddr: l.availAddr, usedAddr: l.usedAddr, eventIdx: false });
    const b = ram.alloc(64);
    drv.add([{ gpa: b, length: 16, write: true }]);
    drv.add([{ gpa: b, length: 2, write: false }]);
    drv.publish();
    expect(peekType(q.pop()!)).toBe(-1);
    expect(peekType(q.pop()!)).toBe(-1);
  });
});
