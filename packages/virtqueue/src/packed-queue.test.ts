import { describe, expect, it } from 'vitest';
import { ArrayGuestMemory, writeU16 } from './guest-memory.js';
import { PackedQueue } from './packed-queue.js';
import { PackedTestDriver, packedLayout, readBytes } from './test-driver.js';
import * as R from './virtio-ring.js';

const seq = (n: number, from = 0) => new Uint8Array(n).map((_, i) => (from + i) & 0xff);

function setup(size = 8, eventIdx = false) {
  const { mem, driver } = PackedTestDriver.create(size, eventIdx);
  const q = new PackedQueue(mem, driver.cfg);
  return { mem, driver, q };
}

describe('PackedQueue configuration', () => {
  const layout = packedLayout(6);
  const mem = new ArrayGuestMemory([{ gpa: 0, bytes: new Uint8Array(layout.end) }]);
  const good = { size: 6, descAddr: layout.descAddr, driverAddr: layout.driverAddr, deviceAddr: layout.deviceAddr, eventIdx: false };
  it('size that is not a power of 2 -> accepted (§2.8)', () => {
    expect(PackedQueue.check(mem, good)).toBeNull();
  });
  it.each([0, 32769, 2.5])('size %s -> RangeError', (size) => {
    expect(() => new PackedQueue(mem, { ...good, size })).toThrow(RangeError);
  });
  it('misaligned driver area -> RangeError', () => {
    expect(() => new PackedQueue(mem, { ...good, driverAddr: good.driverAddr + 2 })).toThrow(/aligned/);
  });
  it('unmapped descriptor ring -> RangeError', () => {
    expect(() => new PackedQueue(mem, { ...good, descAddr: 0x100000 })).toThrow(/region/);
  });
});

describe('PackedQueue pop and push', () => {
  it('empty ring -> pop null, not broken', () => {
    const { q } = setup();
    expect(q.pop()).toBeNull();
    expect(q.broken).toBeNull();
  });

  it('chain -> buffer id from the descriptors, reader and writer', () => {
    const { mem, driver, q } = setup();
    const w = driver.buf(4, true);
    const id = driver.submit([driver.buf(seq(3), false), driver.buf(seq(2, 3), false), w], { id: 42 });
    const c = q.pop()!;
    expect(c.head).toBe(42);
    expect(id).toBe(42);
    expect([...c.reader.readBytes(5)!]).toEqual([...seq(5)]);
    c.writer.write(seq(4, 9));
    q.pushUsed(c, 4);
    expect([...readBytes(mem, w.gpa, 4)]).toEqual([...seq(4, 9)]);
  });

  it('pushUsed -> used descriptor with id, len and wrap bits, WRITE when writable', () => {
    const { driver, q } = setup();
    driver.submit([driver.buf(2, false), driver.buf(4, true)], { id: 7 });
    q.pushUsed(q.pop()!, 3);
    const [u] = driver.takeUsed();
    expect(u.id).toBe(7);
    expect(u.len).toBe(3);
    expect(u.flags & (R.VIRTQ_DESC_F_AVAIL | R.VIRTQ_DESC_F_USED | R.VIRTQ_DESC_F_WRITE)).toBe(
      R.VIRTQ_DESC_F_AVAIL | R.VIRTQ_DESC_F_USED | R.VIRTQ_DESC_F_WRITE,
    );
  });

  it('read-only chain -> used flags without WRITE', () => {
    const { driver, q } = setup();
    driver.submit([driver.buf(2, false)]);
    q.pushUsed(q.pop()!, 0);
    expect(driver.takeUsed()[0].flags & R.VIRTQ_DESC_F_WRITE).toBe(0);
  });

  it('many laps with chains crossing the ring end -> every chain answered', () => {
    const { driver, q } = setup(5);
    const seen: number[] = [];
    for (let lap = 0; lap < 20; lap++) {
      driver.data.reset();
      driver.submit([driver.buf(seq(2, lap), false), driver.buf(3, true)]);
      driver.submit([driver.buf(seq(1), false), driver.buf(1, false), driver.buf(2, true)]);
      for (let c = q.pop(); c !== null; c = q.pop()) {
        expect(c.reader.remaining).toBeGreaterThan(0);
        q.pushUsed(c, c.writer.write(seq(2)));
      }
      for (const u of driver.takeUsed()) seen.push(u.id);
    }
    expect(seen.length).toBe(40);
    expect(q.broken).toBeNull();
  });

  it('chains pushed out of order -> used descriptors in push order', () => {
    const { driver, q } = setup();
    driver.submit([driver.buf(1, true)], { id: 1 });
    driver.submit([driver.buf(1, true), driver.buf(1, true)], { id: 2 });
    const a = q.pop()!;
    const b = q.pop()!;
    q.pushUsed(b, 0);
    q.pushUsed(a, 0);
    expect(driver.takeUsed().map((u) => u.id)).toEqual([2, 1]);
  });

  it('indirect descriptor -> table buffers flattened, one ring slot used', () => {
    const { driver, q } = setup();
    driver.submit([driver.buf(seq(4), false), driver.buf(seq(4, 4), false), driver.buf(8, true)], { indirect: true, id: 3 });
    const c = q.pop()!;
    expect(c.descriptorCount).toBe(3);
    expect([...c.reader.readBytes(8)!]).toEqual([...seq(8)]);
    q.pushUsed(c, 8);
    expect(driver.takeUsed()).toEqual([expect.objectContaining({ id: 3, len: 8 })]);
  });

  it('reset -> positions and wrap counters back to start', () => {
    const { driver, q } = setup();
    driver.submit([driver.buf(1, true)]);
    q.pushUsed(q.pop()!, 0);
    q.reset();
    expect(q.availState).toEqual({ index: 0, wrap: true });
    expect(q.usedState).toEqual({ index: 0, wrap: true });
  });
});

describe('PackedQueue hostile rings -> broken', () => {
  const at = (d: PackedTestDriver, slot: number) => d.cfg.descAddr + 16 * slot;

  it('NEXT on every slot -> chain-loop', () => {
    const { driver, q } = setup(4);
    const b = driver.buf(4, false);
    for (let i = 0; i < 4; i++) driver.writeDesc(at(driver, i), b.gpa, 4, 0, R.VIRTQ_DESC_F_NEXT | R.VIRTQ_DESC_F_AVAIL);
    expect(q.pop()).toBeNull();
    expect(q.broken?.kind).toBe('chain-loop');
  });

  it('indirect after a chained descriptor -> indirect-position', () => {
    const { driver, q } = setup();
    const b = driver.buf(16, false);
    driver.writeDesc(at(driver, 1), b.gpa, 16, 0, R.VIRTQ_DESC_F_INDIRECT | R.VIRTQ_DESC_F_AVAIL);
    driver.writeDesc(at(driver, 0), b.gpa, 4, 0, R.VIRTQ_DESC_F_NEXT | R.VIRTQ_DESC_F_AVAIL);
    q.pop();
    expect(q.broken?.kind).toBe('indirect-position');
  });

  it('indirect with NEXT -> indirect-next', () => {
    const { driver, q } = setup();
    const b = driver.buf(16, false);
    driver.writeDesc(at(driver, 0), b.gpa, 16, 0, R.VIRTQ_DESC_F_INDIRECT | R.VIRTQ_DESC_F_NEXT | R.VIRTQ_DESC_F_AVAIL);
    q.pop();
    expect(q.broken?.kind).toBe('indirect-next');
  });

  it.each([0, 20, 16 * 9])('indirect table of %s bytes -> indirect-length', (len) => {
    const { driver, q } = setup();
    const b = driver.buf(16 * 9, false);
    driver.writeDesc(at(driver, 0), b.gpa, len, 0, R.VIRTQ_DESC_F_INDIRECT | R.VIRTQ_DESC_F_AVAIL);
    q.pop();
    expect(q.broken?.kind).toBe('indirect-length');
  });

  it('INDIRECT flag inside a table -> ignored as reserved (§2.8.19)', () => {
    const { driver, q } = setup();
    const data = driver.buf(seq(4), false);
    const t = driver.data.alloc(16);
    driver.writeDesc(t, data.gpa, 4, 0, R.VIRTQ_DESC_F_INDIRECT | R.VIRTQ_DESC_F_NEXT);
    driver.writeDesc(at(driver, 0), t, 16, 0, R.VIRTQ_DESC_F_INDIRECT | R.VIRTQ_DESC_F_AVAIL);
    expect(q.pop()!.reader.remaining).toBe(4);
  });

  it('zero-length buffer -> zero-length', () => {
    const { driver, q } = setup();
    driver.writeDesc(at(driver, 0), driver.buf(4, false).gpa, 0, 0, R.VIRTQ_DESC_F_AVAIL);
    q.pop();
    expect(q.broken?.kind).toBe('zero-length');
  });

  it('unmapped buffer -> unmapped', () => {
    const { driver, q } = setup();
    driver.writeDesc(at(driver, 0), 0x900_0000, 4, 0, R.VIRTQ_DESC_F_AVAIL);
    q.pop();
    expect(q.broken?.kind).toBe('unmapped');
  });

  it('readable after writable -> read-after-write', () => {
    const { driver, q } = setup();
    driver.submit([driver.buf(4, true), driver.buf(4, false)]);
    q.pop();
    expect(q.broken?.kind).toBe('read-after-write');
  });

  it('descriptor with AVAIL and USED both set in lap 1 -> not available', () => {
    const { driver, q } = setup();
    driver.writeDesc(at(driver, 0), driver.buf(4, false).gpa, 4, 0, R.VIRTQ_DESC_F_AVAIL | R.VIRTQ_DESC_F_USED);
    expect(q.pop()).toBeNull();
    expect(q.broken).toBeNull();
  });

  it('broken queue -> pop null until reset', () => {
    const { driver, q } = setup();
    driver.writeDesc(at(driver, 0), 0x900_0000, 4, 0, R.VIRTQ_DESC_F_AVAIL);
    q.pop();
    writeU16(driver.mem, at(driver, 0) + 8, 0);
    expect(q.pop()).toBeNull();
    q.reset();
    expect(q.broken).toBeNull();
  });
});

describe('PackedQueue notifications', () => {
  function pushN(driver: PackedTestDriver, q: PackedQueue, n: number) {
    for (let i = 0; i < n; i++) driver.submit([driver.buf(1, true)]);
    for (let c = q.pop(); c; c = q.pop()) q.pushUsed(c, 0);
  }

  it('empty batch -> no notify', () => {
    expect(setup().q.shouldNotify()).toBe(false);
  });

  it('driver flags ENABLE -> notify', () => {
    const { driver, q } = setup();
    driver.setDriverEvent(R.RING_EVENT_FLAGS_ENABLE);
    pushN(driver, q, 1);
    expect(q.shouldNotify()).toBe(true);
  });

  it('driver flags DISABLE -> no notify', () => {
    const { driver, q } = setup();
    driver.setDriverEvent(R.RING_EVENT_FLAGS_DISABLE);
    pushN(driver, q, 1);
    expect(q.shouldNotify()).toBe(false);
  });

  it('DESC at a slot the batch wrote -> notify', () => {
    const { driver, q } = setup(8, true);
    driver.setDriverEvent(R.RING_EVENT_FLAGS_DESC, 2 | 0x8000);
    pushN(driver, q, 3);
    expect(q.shouldNotify()).toBe(true);
  });

  it('DESC at a slot after the batch -> no notify', () => {
    const { driver, q } = setup(8, true);
    driver.setDriverEvent(R.RING_EVENT_FLAGS_DESC, 3 | 0x8000);
    pushN(driver, q, 3);
    expect(q.shouldNotify()).toBe(false);
  });

  it('DESC in the previous lap, batch crossing the ring end -> notify', () => {
    const { driver, q } = setup(4, true);
    pushN(driver, q, 3);
    q.shouldNotify();
    driver.setDriverEvent(R.RING_EVENT_FLAGS_DESC, 3 | 0x8000); // slot 3, wrap 1
    pushN(driver, q, 2); // writes slots 3 (wrap 1) and 0 (wrap 0)
    expect(q.usedState).toEqual({ index: 1, wrap: false });
    expect(q.shouldNotify()).toBe(true);
  });

  it('DESC in the new lap beyond the batch -> no notify', () => {
    const { driver, q } = setup(4, true);
    pushN(driver, q, 3);
    q.shouldNotify();
    driver.setDriverEvent(R.RING_EVENT_FLAGS_DESC, 1); // slot 1, wrap 0
    pushN(driver, q, 2);
    expect(q.shouldNotify()).toBe(false);
  });

  it('DESC without EVENT_IDX -> treated as enabled', () => {
    const { driver, q } = setup(8, false);
    driver.setDriverEvent(R.RING_EVENT_FLAGS_DESC, 7 | 0x8000);
    pushN(driver, q, 1);
    expect(q.shouldNotify()).toBe(true);
  });

  it('disableNotifications -> device flags DISABLE', () => {
    const { driver, q } = setup();
    q.disableNotifications();
    expect(driver.deviceEvent().flags).toBe(R.RING_EVENT_FLAGS_DISABLE);
  });

  it('enableNotifications with EVENT_IDX -> DESC at the next slot, false when idle', () => {
    const { driver, q } = setup(8, true);
    pushN(driver, q, 2);
    q.disableNotifications();
    expect(q.enableNotifications()).toBe(false);
    expect(driver.deviceEvent()).toEqual({ desc: 2 | 0x8000, flags: R.RING_EVENT_FLAGS_DESC });
  });

  it('enableNotifications after work arrived -> true', () => {
    const { driver, q } = setup();
    q.disableNotifications();
    driver.submit([driver.buf(1, true)]);
    expect(q.enableNotifications()).toBe(true);
    expect(driver.deviceEvent().flags).toBe(R.RING_EVENT_FLAGS_ENABLE);
  });
});
