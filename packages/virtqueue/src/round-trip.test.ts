/**
 * Round trips through the test drivers: whatever valid chains a driver submits come out of the
 * device queue with the same bytes, and the device's answers reach the driver.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArrayGuestMemory } from './guest-memory.js';
import { PackedQueue } from './packed-queue.js';
import { SplitQueue } from './split-queue.js';
import { PackedTestDriver, SplitTestDriver, packedLayout, readBytes, splitLayout } from './test-driver.js';

/** A chain: readable payloads then writable lengths, maybe as an indirect table. */
const chainArb = fc.record({
  out: fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 3 }),
  inLens: fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 3 }),
  indirect: fc.boolean(),
}).filter((c) => c.out.length + c.inLens.length > 0);

const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

describe('round trip', () => {
  it('split: random valid chains -> same bytes out, answers back', () => {
    fc.assert(
      fc.property(fc.array(chainArb, { minLength: 1, maxLength: 8 }), fc.boolean(), (chains, eventIdx) => {
        // 8 chains of up to 6 descriptors each must fit the table at once.
        const { mem, driver } = SplitTestDriver.create(64, eventIdx);
        const q = new SplitQueue(mem, driver.cfg);
        const sent = chains.map((c) => {
          const ins = c.inLens.map((n) => driver.buf(n, true));
          const head = driver.submit([...c.out.map((b) => driver.buf(b, false)), ...ins], { indirect: c.indirect });
          return { head, ins };
        });
        for (let i = 0; i < chains.length; i++) {
          const c = q.pop()!;
          expect(c.head).toBe(sent[i].head);
          const expected = concat(chains[i].out);
          expect([...c.reader.readBytes(expected.length)!]).toEqual([...expected]);
          const answer = new Uint8Array(c.writer.remaining).fill(i + 1);
          expect(c.writer.write(answer)).toBe(answer.length);
          q.pushUsed(c, c.writer.written);
        }
        expect(q.pop()).toBeNull();
        const used = driver.takeUsed();
        expect(used.map((u) => u.id)).toEqual(sent.map((s) => s.head));
        sent.forEach((s, i) => s.ins.forEach((b) => expect(readBytes(mem, b.gpa, b.len).every((x) => x === i + 1)).toBe(true)));
        expect(q.broken).toBeNull();
      }),
      { numRuns: 150 },
    );
  });

  it('packed: random valid chains over several laps -> same bytes out, answers back', () => {
    fc.assert(
      fc.property(fc.array(chainArb, { minLength: 1, maxLength: 30 }), fc.integer({ min: 9, max: 16 }), (chains, size) => {
        const { mem, driver } = PackedTestDriver.create(size);
        const q = new PackedQueue(mem, driver.cfg);
        // Submit one at a time so a chain never needs more free slots than the ring has.
        chains.forEach((ch, i) => {
          driver.data.reset();
          const ins = ch.inLens.map((n) => driver.buf(n, true));
          const id = driver.submit([...ch.out.map((b) => driver.buf(b, false)), ...ins], { indirect: ch.indirect });
          const c = q.pop()!;
          expect(c.head).toBe(id);
          const expected = concat(ch.out);
          expect([...c.reader.readBytes(expected.length)!]).toEqual([...expected]);
          c.writer.write(new Uint8Array(c.writer.remaining).fill(i + 1));
          q.pushUsed(c, c.writer.written);
          const [u] = driver.takeUsed();
          expect(u.id).toBe(id);
          expect(u.len).toBe(ch.inLens.reduce((a, b) => a + b, 0));
          ins.forEach((b) => expect(readBytes(mem, b.gpa, b.len).every((x) => x === i + 1)).toBe(true));
        });
        expect(q.pop()).toBeNull();
        expect(q.broken).toBeNull();
      }),
      { numRuns: 150 },
    );
  });

  it('split over SharedArrayBuffer memory (Atomics path) -> round trip works', () => {
    const layout = splitLayout(8);
    const mem = new ArrayGuestMemory([{ gpa: 0, bytes: new Uint8Array(new SharedArrayBuffer(layout.end)) }]);
    const driver = new SplitTestDriver(mem, layout, true);
    const q = new SplitQueue(mem, driver.cfg);
    const w = driver.buf(4, true);
    driver.submit([driver.buf(new Uint8Array([1, 2]), false), w]);
    const c = q.pop()!;
    expect([...c.reader.readBytes(2)!]).toEqual([1, 2]);
    c.writer.write(new Uint8Array([9, 8, 7, 6]));
    q.pushUsed(c, 4);
    expect(driver.takeUsed()).toEqual([{ id: 0, len: 4 }]);
    expect(driver.availEvent()).toBe(1);
  });

  it('packed over SharedArrayBuffer memory (Atomics path) -> round trip works', () => {
    const layout = packedLayout(4);
    const mem = new ArrayGuestMemory([{ gpa: 0, bytes: new Uint8Array(new SharedArrayBuffer(layout.end)) }]);
    const driver = new PackedTestDriver(mem, layout);
    const q = new PackedQueue(mem, driver.cfg);
    for (let i = 0; i < 6; i++) {
      driver.submit([driver.buf(2, false), driver.buf(2, true)], { id: 100 + i });
      const c = q.pop()!;
      q.pushUsed(c, 2);
      expect(driver.takeUsed()).toEqual([expect.objectContaining({ id: 100 + i, len: 2 })]);
    }
  });
});
