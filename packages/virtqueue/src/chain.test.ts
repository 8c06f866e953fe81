import { describe, expect, it } from 'vitest';
import { ArrayGuestMemory } from './guest-memory.js';
import { SplitQueue } from './split-queue.js';
import { SplitTestDriver, readBytes, splitLayout } from './test-driver.js';

const seq = (n: number, from = 0) => new Uint8Array(n).map((_, i) => (from + i) & 0xff);

/** A ring in region A; data in two adjacent regions B = [0x20000, 0x20100), C = [0x20100, 0x20200). */
function twoRegionSetup() {
  const layout = splitLayout(8, 0x1000, 0x1000);
  const b = new Uint8Array(0x100);
  const c = new Uint8Array(new SharedArrayBuffer(0x100));
  const mem = new ArrayGuestMemory([
    { gpa: 0, bytes: new Uint8Array(layout.end) },
    { gpa: 0x20000, bytes: b },
    { gpa: 0x20100, bytes: c },
  ]);
  const driver = new SplitTestDriver(mem, layout);
  const q = new SplitQueue(mem, driver.cfg);
  return { mem, driver, q, b, c };
}

describe('Reader', () => {
  it('read across three descriptors -> bytes in chain order', () => {
    const { mem, driver } = SplitTestDriver.create(8);
    const q = new SplitQueue(mem, driver.cfg);
    driver.submit([driver.buf(seq(3), false), driver.buf(seq(5, 3), false), driver.buf(seq(2, 8), false)]);
    const c = q.pop()!;
    const dst = new Uint8Array(10);
    expect(c.reader.read(dst)).toBe(10);
    expect([...dst]).toEqual([...seq(10)]);
    expect(c.reader.remaining).toBe(0);
  });

  it('readBytes within one descriptor -> view into guest memory', () => {
    const { mem, driver } = SplitTestDriver.create(8);
    const q = new SplitQueue(mem, driver.cfg);
    const b = driver.buf(seq(8), false);
    driver.submit([b]);
    const v = q.pop()!.reader.readBytes(4)!;
    expect(v.buffer).toBe(mem.view(b.gpa, 1)!.buffer);
    expect(v.byteOffset).toBe(mem.view(b.gpa, 1)!.byteOffset);
  });

  it('readBytes spanning two descriptors -> copy with both parts', () => {
    const { mem, driver } = SplitTestDriver.create(8);
    const q = new SplitQueue(mem, driver.cfg);
    driver.submit([driver.buf(seq(3), false), driver.buf(seq(3, 3), false)]);
    const r = q.pop()!.reader;
    expect(r.skip(1)).toBe(true);
    const v = r.readBytes(4)!;
    expect([...v]).toEqual([1, 2, 3, 4]);
    expect(v.buffer).not.toBe(mem.regions[0].bytes.buffer);
    expect(r.remaining).toBe(1);
  });

  it('readBytes beyond remaining -> null, nothing consumed', () => {
    const { mem, driver } = SplitTestDriver.create(8);
    const q = new SplitQueue(mem, driver.cfg);
    driver.submit([driver.buf(seq(3), false)]);
    const r = q.pop()!.reader;
    expect(r.readBytes(4)).toBeNull();
    expect(r.remaining).toBe(3);
  });

  it('readBytes(0) -> empty array', () => {
    const { mem, driver } = SplitTestDriver.create(8);
    const q = new SplitQueue(mem, driver.cfg);
    driver.submit([driver.buf(seq(3), false)]);
    expect(q.pop()!.reader.readBytes(0)!.length).toBe(0);
  });

  it('skip past the end -> false, nothing skipped', () => {
    const { mem, driver } = SplitTestDriver.create(8);
    const q = new SplitQueue(mem, driver.cfg);
    driver.submit([driver.buf(seq(3), false), driver.buf(2, true)]);
    const r = q.pop()!.reader;
    expect(r.skip(4)).toBe(false);
    expect(r.remaining).toBe(3);
  });

  it('skip to a descriptor boundary then read -> next descriptor', () => {
    const { mem, driver } = SplitTestDriver.create(8);
    const q = new SplitQueue(mem, driver.cfg);
    driver.submit([driver.buf(seq(3), false), driver.buf(seq(3, 10), false)]);
    const r = q.pop()!.reader;
    r.skip(3);
    expect([...r.readBytes(2)!]).toEqual([10, 11]);
  });

  it('read into a larger dst -> returns bytes available only', () => {
    const { mem, driver } = SplitTestDriver.create(8);
    const q = new SplitQueue(mem, driver.cfg);
    driver.submit([driver.buf(seq(3), false)]);
    expect(q.pop()!.reader.read(new Uint8Array(10))).toBe(3);
  });

  it('descriptor spanning two adjacent memory regions -> read whole, readBytes copies', () => {
    const { driver, q, b, c } = twoRegionSetup();
    b.set(seq(4, 1), 0xfc);
    c.set(seq(4, 5), 0);
    driver.submit([{ gpa: 0x200fc, len: 8, write: false }]);
    const r = q.pop()!.reader;
    expect([...r.readBytes(8)!]).toEqual([...seq(8, 1)]);
  });
});

describe('Writer', () => {
  it('write across descriptors -> split in chain order', () => {
    const { mem, driver } = SplitTestDriver.create(8);
    const q = new SplitQueue(mem, driver.cfg);
    const w1 = driver.buf(3, true);
    const w2 = driver.buf(4, true);
    driver.submit([driver.buf(seq(1), false), w1, w2]);
    const w = q.pop()!.writer;
    expect(w.write(seq(5, 50))).toBe(5);
    expect(w.write(seq(5, 60))).toBe(2);
    expect([w.written, w.remaining]).toEqual([7, 0]);
    expect([...readBytes(mem, w1.gpa, 3)]).toEqual([50, 51, 52]);
    expect([...readBytes(mem, w2.gpa, 4)]).toEqual([53, 54, 60, 61]);
  });

  it('write with nothing writable -> 0', () => {
    const { mem, driver } = SplitTestDriver.create(8);
    const q = new SplitQueue(mem, driver.cfg);
    driver.submit([driver.buf(seq(2), false)]);
    expect(q.pop()!.writer.write(seq(4))).toBe(0);
  });

  it('write into a descriptor spanning two regions -> both regions written', () => {
    const { driver, q, b, c } = twoRegionSetup();
    driver.submit([{ gpa: 0x200fe, len: 4, write: true }]);
    const ch = q.pop()!;
    ch.writer.write(new Uint8Array([1, 2, 3, 4]));
    expect([b[0xfe], b[0xff], c[0], c[1]]).toEqual([1, 2, 3, 4]);
  });
});

describe('Writer.claim', () => {
  it('n bytes inside one descriptor -> view into guest memory, counted as written', () => {
    const { mem, driver } = SplitTestDriver.create(8);
    const q = new SplitQueue(mem, driver.cfg);
    const w1 = driver.buf(6, true);
    driver.submit([driver.buf(seq(1), false), w1]);
    const w = q.pop()!.writer;
    const v = w.claim(4)!;
    v.set([7, 8, 9, 10]);
    expect([w.written, w.remaining]).toEqual([4, 2]);
    expect(w.write(seq(5, 20))).toBe(2);
    expect([...readBytes(mem, w1.gpa, 6)]).toEqual([7, 8, 9, 10, 20, 21]);
  });

  it('claim exactly filling a descriptor -> the next write goes to the next descriptor', () => {
    const { mem, driver } = SplitTestDriver.create(8);
    const q = new SplitQueue(mem, driver.cfg);
    const w1 = driver.buf(2, true);
    const w2 = driver.buf(2, true);
    driver.submit([driver.buf(seq(1), false), w1, w2]);
    const w = q.pop()!.writer;
    w.claim(2)!.set([1, 2]);
    expect(w.claim(2)).not.toBeNull();
    expect(w.remaining).toBe(0);
    expect([...readBytes(mem, w1.gpa, 2)]).toEqual([1, 2]);
  });

  it('n spanning two descriptors -> null, nothing consumed', () => {
    const { mem, driver } = SplitTestDriver.create(8);
    const q = new SplitQueue(mem, driver.cfg);
    driver.submit([driver.buf(seq(1), false), driver.buf(3, true), driver.buf(3, true)]);
    const w = q.pop()!.writer;
    expect(w.claim(4)).toBeNull();
    expect([w.written, w.remaining]).toEqual([0, 6]);
  });

  it('n spanning two regions -> null, nothing consumed', () => {
    const { driver, q } = twoRegionSetup();
    driver.submit([{ gpa: 0x200fe, len: 4, write: true }]);
    const w = q.pop()!.writer;
    expect(w.claim(4)).toBeNull();
    expect(w.remaining).toBe(4);
  });

  it.each([0, -1, 1.5, NaN, 9])('n = %s -> null', (n) => {
    const { mem, driver } = SplitTestDriver.create(8);
    const q = new SplitQueue(mem, driver.cfg);
    driver.submit([driver.buf(seq(1), false), driver.buf(8, true)]);
    const w = q.pop()!.writer;
    expect(w.claim(n)).toBeNull();
    expect(w.remaining).toBe(8);
  });
});

describe('DescriptorChain', () => {
  it('exposes descriptor gpas, lengths and direction', () => {
    const { mem, driver } = SplitTestDriver.create(8);
    const q = new SplitQueue(mem, driver.cfg);
    const r = driver.buf(3, false);
    const w = driver.buf(5, true);
    driver.submit([r, w]);
    const c = q.pop()!;
    expect([c.descriptorGpa(0), c.descriptorLength(0), c.descriptorWritable(0)]).toEqual([r.gpa, 3, false]);
    expect([c.descriptorGpa(1), c.descriptorLength(1), c.descriptorWritable(1)]).toEqual([w.gpa, 5, true]);
    expect(c.descriptorGpa(2)).toBe(-1);
    expect([c.readableBytes, c.writableBytes]).toEqual([3, 5]);
  });

  it('long chain (grows internal arrays) -> all descriptors kept', () => {
    const { mem, driver } = SplitTestDriver.create(64);
    const q = new SplitQueue(mem, driver.cfg);
    driver.submit(Array.from({ length: 40 }, (_, i) => driver.buf(seq(1, i), false)));
    const c = q.pop()!;
    expect(c.descriptorCount).toBe(40);
    expect([...c.reader.readBytes(40)!]).toEqual([...seq(40)]);
  });
});
