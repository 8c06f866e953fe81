import { describe, expect, it } from 'vitest';
import { ArrayGuestMemory, writeU16 } from './guest-memory.js';
import { SplitQueue } from './split-queue.js';
import { SplitTestDriver, readBytes, splitLayout } from './test-driver.js';
import {
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_USED_F_NO_NOTIFY,
} from './virtio-ring.js';

const bytes = (...b: number[]) => new Uint8Array(b);
const seq = (n: number, from = 0) => new Uint8Array(n).map((_, i) => (from + i) & 0xff);

function setup(size = 8, eventIdx = false) {
  const { mem, driver } = SplitTestDriver.create(size, eventIdx);
  const q = new SplitQueue(mem, driver.cfg);
  return { mem, driver, q };
}

describe('SplitQueue configuration', () => {
  const layout = splitLayout(8);
  const mem = new ArrayGuestMemory([{ gpa: 0, bytes: new Uint8Array(layout.end) }]);
  const good = { size: 8, descAddr: layout.descAddr, availAddr: layout.availAddr, usedAddr: layout.usedAddr, eventIdx: false };
  it('valid ring -> check null', () => {
    expect(SplitQueue.check(mem, good)).toBeNull();
  });
  it.each([0, 3, 65536, 1.5, NaN])('size %s -> RangeError', (size) => {
    expect(() => new SplitQueue(mem, { ...good, size })).toThrow(RangeError);
  });
  it('misaligned descriptor table -> RangeError', () => {
    expect(() => new SplitQueue(mem, { ...good, descAddr: good.descAddr + 8 })).toThrow(/aligned/);
  });
  it('misaligned used ring -> RangeError', () => {
    expect(() => new SplitQueue(mem, { ...good, usedAddr: good.usedAddr + 2 })).toThrow(/aligned/);
  });
  it('unmapped avail ring -> RangeError', () => {
    expect(() => new SplitQueue(mem, { ...good, availAddr: layout.end })).toThrow(/region/);
  });
  it('size 32768 accepted when memory holds it', () => {
    const big = splitLayout(32768, 0, 0);
    const m = new ArrayGuestMemory([{ gpa: 0, bytes: new Uint8Array(big.end) }]);
    expect(() => new SplitQueue(m, { ...big, eventIdx: false })).not.toThrow();
  });
});

describe('SplitQueue pop and push', () => {
  it('empty ring -> pop null, not broken', () => {
    const { q } = setup();
    expect(q.pop()).toBeNull();
    expect(q.broken).toBeNull();
  });

  it('readable then writable chain -> reader and writer see their parts', () => {
    const { driver, q } = setup();
    const head = driver.submit([driver.buf(bytes(1, 2, 3), false), driver.buf(5, true)]);
    const c = q.pop()!;
    expect(c.head).toBe(head);
    expect(c.reader.remaining).toBe(3);
    expect(c.writer.remaining).toBe(5);
    expect([...c.reader.readBytes(3)!]).toEqual([1, 2, 3]);
  });

  it('pushUsed -> used element id/len and used idx published', () => {
    const { driver, q } = setup();
    const head = driver.submit([driver.buf(4, true)]);
    const c = q.pop()!;
    c.writer.write(bytes(9, 9));
    q.pushUsed(c, c.writer.written);
    expect(driver.takeUsed()).toEqual([{ id: head, len: 2 }]);
    expect(driver.usedIdx()).toBe(1);
  });

  it('bytesWritten larger than the writable size -> clamped', () => {
    const { driver, q } = setup();
    driver.submit([driver.buf(bytes(1), false), driver.buf(4, true)]);
    q.pushUsed(q.pop()!, 1000);
    expect(driver.takeUsed()[0].len).toBe(4);
  });

  it('negative or NaN bytesWritten -> 0', () => {
    const { driver, q } = setup();
    driver.submit([driver.buf(4, true)]);
    driver.submit([driver.buf(4, true)]);
    q.pushUsed(q.pop()!, -5);
    q.pushUsed(q.pop()!, NaN);
    expect(driver.takeUsed().map((u) => u.len)).toEqual([0, 0]);
  });

  it('chains pushed out of order -> used ring in push order', () => {
    const { driver, q } = setup();
    const h1 = driver.submit([driver.buf(4, true)]);
    const h2 = driver.submit([driver.buf(4, true)]);
    const c1 = q.pop()!;
    const c2 = q.pop()!;
    q.pushUsed(c2, 1);
    q.pushUsed(c1, 2);
    expect(driver.takeUsed()).toEqual([
      { id: h2, len: 1 },
      { id: h1, len: 2 },
    ]);
  });

  it('pushing a chain twice -> second push ignored', () => {
    const { driver, q } = setup();
    driver.submit([driver.buf(4, true)]);
    const c = q.pop()!;
    q.pushUsed(c, 0);
    q.pushUsed(c, 0);
    expect(driver.usedIdx()).toBe(1);
  });

  it('chain from another queue -> TypeError (host bug)', () => {
    const a = setup();
    const b = setup();
    a.driver.submit([a.driver.buf(4, true)]);
    const c = a.q.pop()!;
    expect(() => b.q.pushUsed(c, 0)).toThrow(TypeError);
  });

  it('avail idx wrapping past 65535 -> chains still popped in order', () => {
    const { driver, q } = setup(4);
    q.restoreIndexes(0xfffe, 0xfffe);
    driver.publish(0xfffe);
    const heads = [0, 1, 2].map(() => driver.submit([driver.buf(1, true)]));
    expect([q.pop()!.head, q.pop()!.head, q.pop()!.head]).toEqual(heads);
    expect(q.lastAvailIdx).toBe(1);
  });

  it('ring of 256 round trips 1000 chains -> every answer arrives', () => {
    const { driver, q } = setup(256);
    let answered = 0;
    for (let round = 0; round < 10; round++) {
      driver.data.reset();
      for (let i = 0; i < 100; i++) driver.submit([driver.buf(seq(24, i), false), driver.buf(24, true)]);
      for (let c = q.pop(); c !== null; c = q.pop()) {
        const req = c.reader.readBytes(24)!;
        c.writer.write(req.map((x) => x ^ 0xff));
        q.pushUsed(c, c.writer.written);
      }
      for (const u of driver.takeUsed()) {
        expect(u.len).toBe(24);
        answered++;
      }
    }
    expect(answered).toBe(1000);
    expect(q.broken).toBeNull();
  });
});

describe('SplitQueue indirect chains', () => {
  it('indirect table -> buffers read and written through it', () => {
    const { mem, driver, q } = setup();
    const out = driver.buf(seq(10), false);
    const inb = driver.buf(6, true);
    const head = driver.submit([out, driver.buf(seq(5, 10), false), inb], { indirect: true });
    const c = q.pop()!;
    expect(c.head).toBe(head);
    expect(c.descriptorCount).toBe(3);
    expect([...c.reader.readBytes(15)!]).toEqual([...seq(15)]);
    expect(c.writer.write(seq(6, 100))).toBe(6);
    q.pushUsed(c, 6);
    expect([...readBytes(mem, inb.gpa, 6)]).toEqual([...seq(6, 100)]);
  });

  it('direct descriptors followed by an indirect table -> one chain', () => {
    const { driver, q } = setup();
    const a = driver.buf(bytes(1, 2), false);
    const w = driver.buf(4, true);
    const table = driver.data.alloc(16);
    driver.writeDesc(0, w.gpa, w.len, VIRTQ_DESC_F_WRITE, 0, table);
    driver.writeDesc(3, a.gpa, a.len, VIRTQ_DESC_F_NEXT, 5);
    driver.writeDesc(5, table, 16, VIRTQ_DESC_F_INDIRECT, 0);
    driver.putAvail(3);
    driver.publish();
    const c = q.pop()!;
    expect([c.reader.remaining, c.writer.remaining]).toEqual([2, 4]);
  });

  it('WRITE flag on the indirect descriptor itself -> ignored', () => {
    const { driver, q } = setup();
    const r = driver.buf(bytes(7), false);
    const table = driver.data.alloc(16);
    driver.writeDesc(0, r.gpa, 1, 0, 0, table);
    driver.writeDesc(0, table, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
    driver.putAvail(0);
    driver.publish();
    expect(q.pop()!.reader.remaining).toBe(1);
  });
});

describe('SplitQueue hostile rings -> broken', () => {
  function brokenBy(arrange: (d: SplitTestDriver) => void, size = 8) {
    const { driver, q } = setup(size);
    arrange(driver);
    const c = q.pop();
    return { c, q, driver };
  }

  it('avail idx more than size ahead -> avail-index', () => {
    const { c, q } = brokenBy((d) => d.publish(9));
    expect(c).toBeNull();
    expect(q.broken?.kind).toBe('avail-index');
  });

  it('avail idx exactly size ahead -> not broken', () => {
    const { q } = brokenBy((d) => {
      for (let i = 0; i < 8; i++) d.submit([d.buf(1, true)], { publish: false });
      d.publish();
    });
    expect(q.broken).toBeNull();
  });

  it('head index >= size -> head-index', () => {
    const { q } = brokenBy((d) => {
      d.putAvail(8);
      d.publish();
    });
    expect(q.broken?.kind).toBe('head-index');
  });

  it('next index >= size -> next-index', () => {
    const { q } = brokenBy((d) => {
      const b = d.buf(4, false);
      d.writeDesc(0, b.gpa, 4, VIRTQ_DESC_F_NEXT, 8);
      d.putAvail(0);
      d.publish();
    });
    expect(q.broken?.kind).toBe('next-index');
  });

  it('descriptor loop -> chain-loop', () => {
    const { q } = brokenBy((d) => {
      const b = d.buf(4, false);
      d.writeDesc(0, b.gpa, 4, VIRTQ_DESC_F_NEXT, 1);
      d.writeDesc(1, b.gpa, 4, VIRTQ_DESC_F_NEXT, 0);
      d.putAvail(0);
      d.publish();
    });
    expect(q.broken?.kind).toBe('chain-loop');
  });

  it('chain using every descriptor once -> accepted', () => {
    const { q, c } = brokenBy((d) => d.submit(Array.from({ length: 8 }, () => d.buf(2, false))));
    expect(q.broken).toBeNull();
    expect(c!.descriptorCount).toBe(8);
  });

  it('loop inside an indirect table -> chain-loop', () => {
    const { q } = brokenBy((d) => {
      const b = d.buf(4, false);
      const t = d.data.alloc(32);
      d.writeDesc(0, b.gpa, 4, VIRTQ_DESC_F_NEXT, 1, t);
      d.writeDesc(1, b.gpa, 4, VIRTQ_DESC_F_NEXT, 0, t);
      d.writeDesc(0, t, 32, VIRTQ_DESC_F_INDIRECT, 0);
      d.putAvail(0);
      d.publish();
    });
    expect(q.broken?.kind).toBe('chain-loop');
  });

  it('indirect inside an indirect table -> nested-indirect', () => {
    const { q } = brokenBy((d) => {
      const t = d.data.alloc(16);
      d.writeDesc(0, t, 16, VIRTQ_DESC_F_INDIRECT, 0, t);
      d.writeDesc(0, t, 16, VIRTQ_DESC_F_INDIRECT, 0);
      d.putAvail(0);
      d.publish();
    });
    expect(q.broken?.kind).toBe('nested-indirect');
  });

  it('indirect with NEXT -> indirect-next', () => {
    const { q } = brokenBy((d) => {
      const t = d.data.alloc(16);
      d.writeDesc(0, t, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
      d.putAvail(0);
      d.publish();
    });
    expect(q.broken?.kind).toBe('indirect-next');
  });

  it.each([0, 24, 16 * 9])('indirect table of %s bytes -> indirect-length', (len) => {
    const { q } = brokenBy((d) => {
      const t = d.data.alloc(16 * 9);
      d.writeDesc(0, t, len, VIRTQ_DESC_F_INDIRECT, 0);
      d.putAvail(0);
      d.publish();
    });
    expect(q.broken?.kind).toBe('indirect-length');
  });

  it('indirect table in unmapped memory -> unmapped', () => {
    const { q } = brokenBy((d) => {
      d.writeDesc(0, 0x100_0000, 16, VIRTQ_DESC_F_INDIRECT, 0);
      d.putAvail(0);
      d.publish();
    });
    expect(q.broken?.kind).toBe('unmapped');
  });

  it('zero-length buffer -> zero-length', () => {
    const { q } = brokenBy((d) => {
      const b = d.buf(4, false);
      d.writeDesc(0, b.gpa, 0, 0, 0);
      d.putAvail(0);
      d.publish();
    });
    expect(q.broken?.kind).toBe('zero-length');
  });

  it('buffer in unmapped memory -> unmapped', () => {
    const { q } = brokenBy((d) => {
      d.writeDesc(0, 0x100_0000, 4, 0, 0);
      d.putAvail(0);
      d.publish();
    });
    expect(q.broken?.kind).toBe('unmapped');
  });

  it('buffer address beyond 2^53 -> unmapped', () => {
    const { q } = brokenBy((d) => {
      d.writeDesc(0, 0, 4, 0, 0);
      writeU16(d.mem, d.cfg.descAddr + 6, 0xffff); // top bits of addr
      d.putAvail(0);
      d.publish();
    });
    expect(q.broken?.kind).toBe('unmapped');
  });

  it('buffer running off the end of memory -> unmapped', () => {
    const { q } = brokenBy((d) => {
      const b = d.buf(4, false);
      d.writeDesc(0, b.gpa, 0x100_0000, 0, 0);
      d.putAvail(0);
      d.publish();
    });
    expect(q.broken?.kind).toBe('unmapped');
  });

  it('readable after writable -> read-after-write', () => {
    const { q } = brokenBy((d) => d.submit([d.buf(4, true), d.buf(4, false)]));
    expect(q.broken?.kind).toBe('read-after-write');
  });

  it('chain over 4 GiB -> chain-too-long', () => {
    const big = new Uint8Array(16);
    const { driver } = SplitTestDriver.create(8);
    // Two 3 GiB buffers over the same small region would be unmapped, so give the chain
    // lengths that pass per-descriptor mapping: a memory with a 3 GiB-sized fake region is too
    // big, so use a GuestMemory that maps everything below 2^40.
    const everything = {
      view: (g: number, l: number) => (g >= 0 && g + l <= 2 ** 40 && l <= 16 ? big.subarray(0, l) : driver.mem.view(g, l)),
      slices: (g: number, l: number) => (g >= 0 && g + l <= 2 ** 40 ? [] : null),
    };
    const q = new SplitQueue(everything, driver.cfg);
    driver.writeDesc(0, 0x1_0000_0000, 0xc000_0000, VIRTQ_DESC_F_NEXT, 1);
    driver.writeDesc(1, 0x2_0000_0000, 0xc000_0000, 0, 0);
    driver.putAvail(0);
    driver.publish();
    expect(q.pop()).toBeNull();
    expect(q.broken?.kind).toBe('chain-too-long');
  });

  it('broken queue -> pop null even with good chains after', () => {
    const { driver, q } = setup();
    driver.putAvail(9);
    driver.publish();
    q.pop();
    driver.submit([driver.buf(4, true)]);
    expect(q.pop()).toBeNull();
    expect(q.broken?.kind).toBe('head-index');
  });

  it('reset -> broken cleared, indexes back to 0', () => {
    const { driver, q } = setup();
    driver.putAvail(9);
    driver.publish();
    q.pop();
    q.reset();
    expect(q.broken).toBeNull();
    expect([q.lastAvailIdx, q.usedIdx]).toEqual([0, 0]);
  });

  it('chain popped before reset -> its push is ignored', () => {
    const { driver, q } = setup();
    driver.submit([driver.buf(4, true)]);
    const c = q.pop()!;
    q.reset();
    q.pushUsed(c, 4);
    expect(driver.usedIdx()).toBe(0);
  });
});

describe('SplitQueue notifications', () => {
  it('empty batch -> no notify', () => {
    const { q } = setup();
    expect(q.shouldNotify()).toBe(false);
  });

  it('no EVENT_IDX, flags 0 -> notify', () => {
    const { driver, q } = setup();
    driver.submit([driver.buf(1, true)]);
    q.pushUsed(q.pop()!, 0);
    expect(q.shouldNotify()).toBe(true);
  });

  it('VIRTQ_AVAIL_F_NO_INTERRUPT -> no notify', () => {
    const { driver, q } = setup();
    driver.setAvailFlags(VIRTQ_AVAIL_F_NO_INTERRUPT);
    driver.submit([driver.buf(1, true)]);
    q.pushUsed(q.pop()!, 0);
    expect(q.shouldNotify()).toBe(false);
  });

  it('EVENT_IDX, used_event inside the batch -> notify', () => {
    const { driver, q } = setup(8, true);
    for (let i = 0; i < 3; i++) driver.submit([driver.buf(1, true)]);
    driver.setUsedEvent(1); // interrupt when used idx passes 1 (entry 1 used)
    for (let c = q.pop(); c; c = q.pop()) q.pushUsed(c, 0);
    expect(q.shouldNotify()).toBe(true);
  });

  it('EVENT_IDX, used_event beyond the batch -> no notify', () => {
    const { driver, q } = setup(8, true);
    for (let i = 0; i < 3; i++) driver.submit([driver.buf(1, true)]);
    driver.setUsedEvent(3);
    for (let c = q.pop(); c; c = q.pop()) q.pushUsed(c, 0);
    expect(q.shouldNotify()).toBe(false);
  });

  it('EVENT_IDX, used_event before the batch (already signalled) -> no notify', () => {
    const { driver, q } = setup(8, true);
    driver.submit([driver.buf(1, true)]);
    driver.setUsedEvent(0);
    q.pushUsed(q.pop()!, 0);
    expect(q.shouldNotify()).toBe(true);
    driver.submit([driver.buf(1, true)]);
    q.pushUsed(q.pop()!, 0);
    expect(q.shouldNotify()).toBe(false);
  });

  it('EVENT_IDX, batch crossing used idx 65535 -> 0 with used_event 0 -> notify', () => {
    const { driver, q } = setup(8, true);
    q.restoreIndexes(0xfffe, 0xfffe);
    driver.publish(0xfffe);
    for (let i = 0; i < 3; i++) driver.submit([driver.buf(1, true)]);
    driver.setUsedEvent(0);
    for (let c = q.pop(); c; c = q.pop()) q.pushUsed(c, 0);
    expect(q.usedIdx).toBe(1);
    expect(q.shouldNotify()).toBe(true);
  });

  it('EVENT_IDX, used_event 0xfffd just before a wrapped batch -> no notify', () => {
    const { driver, q } = setup(8, true);
    q.restoreIndexes(0xfffe, 0xfffe);
    driver.publish(0xfffe);
    for (let i = 0; i < 3; i++) driver.submit([driver.buf(1, true)]);
    driver.setUsedEvent(0xfffd);
    for (let c = q.pop(); c; c = q.pop()) q.pushUsed(c, 0);
    expect(q.shouldNotify()).toBe(false);
  });

  it('EVENT_IDX pop -> avail_event set to the next avail index', () => {
    const { driver, q } = setup(8, true);
    driver.submit([driver.buf(1, true)]);
    driver.submit([driver.buf(1, true)]);
    q.pop();
    expect(driver.availEvent()).toBe(1);
  });

  it('disableNotifications without EVENT_IDX -> VIRTQ_USED_F_NO_NOTIFY set', () => {
    const { driver, q } = setup();
    q.disableNotifications();
    expect(driver.usedFlags() & VIRTQ_USED_F_NO_NOTIFY).toBe(VIRTQ_USED_F_NO_NOTIFY);
  });

  it('enableNotifications without new work -> flag cleared, returns false', () => {
    const { driver, q } = setup();
    q.disableNotifications();
    expect(q.enableNotifications()).toBe(false);
    expect(driver.usedFlags()).toBe(0);
  });

  it('enableNotifications after work arrived while disabled -> returns true', () => {
    const { driver, q } = setup();
    q.disableNotifications();
    driver.submit([driver.buf(1, true)]);
    expect(q.enableNotifications()).toBe(true);
  });

  it('EVENT_IDX disabled -> pop leaves avail_event; enable writes it', () => {
    const { driver, q } = setup(8, true);
    q.disableNotifications();
    driver.submit([driver.buf(1, true)]);
    driver.submit([driver.buf(1, true)]);
    q.pop();
    expect(driver.availEvent()).toBe(0);
    expect(q.enableNotifications()).toBe(true);
    expect(driver.availEvent()).toBe(1);
  });
});
