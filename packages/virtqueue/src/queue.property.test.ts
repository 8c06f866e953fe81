/**
 * Property tests: no guest memory content makes pop/pushUsed/shouldNotify throw, and the
 * answer-everything loop always ends within the bound the ring implies.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArrayGuestMemory } from './guest-memory.js';
import { PackedQueue } from './packed-queue.js';
import { SplitQueue } from './split-queue.js';
import { packedLayout, splitLayout } from './test-driver.js';
import type { Virtqueue } from './virtqueue.js';

const DATA_LEN = 0x400;
const sizeArb = fc.constantFrom(1, 2, 4, 8, 16, 32);

/** `true` with probability about p (fast-check has no weighted boolean). */
const chance = (p: number) => fc.integer({ min: 0, max: 99 }).map((x) => x < p * 100);

/** Flags biased toward plausible chains: mostly NEXT/WRITE, sometimes INDIRECT, AVAIL set. */
const flagsArb = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(chance(0.5), chance(0.4), chance(0.08), chance(0.85), chance(0.15))
      .map(([next, write, ind, avail, used]) => (next ? 1 : 0) | (write ? 2 : 0) | (ind ? 4 : 0) | (avail ? 1 << 7 : 0) | (used ? 1 << 15 : 0)),
  },
  { weight: 1, arbitrary: fc.nat({ max: 0xffff }) },
);

/** A 16-byte descriptor biased toward mapped buffers so walks go deep. */
function descArb(dataAddr: number, memEnd: number, size: number) {
  return fc.record({
    addr: fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: dataAddr, max: memEnd - 1 }) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: memEnd + 64 }) },
      { weight: 1, arbitrary: fc.constantFrom(0, 2 ** 32, 2 ** 53 + 2) },
    ),
    addrHi: fc.oneof({ weight: 15, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat({ max: 0xffff_ffff }) }),
    len: fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 1, max: 64 }) },
      { weight: 1, arbitrary: fc.constantFrom(0, 16, 32, 48, 0xffff_ffff) },
      { weight: 1, arbitrary: fc.nat({ max: 0xffff_ffff }) },
    ),
    flags: flagsArb,
    next: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: size - 1 }) }, { weight: 1, arbitrary: fc.nat({ max: 0xffff }) }),
  });
}

/** Writes a split descriptor, or with `packed` a pvirtq_desc (`next` becomes the buffer id). */
function putDesc(dv: DataView, at: number, d: { addr: number; addrHi: number; len: number; flags: number; next: number }, packed = false) {
  dv.setUint32(at, d.addr % 2 ** 32, true);
  dv.setUint32(at + 4, d.addrHi !== 0 ? d.addrHi : Math.floor(d.addr / 2 ** 32), true);
  dv.setUint32(at + 8, d.len, true);
  dv.setUint16(at + 12, packed ? d.next : d.flags, true);
  dv.setUint16(at + 14, packed ? d.flags : d.next, true);
}

/** Drains the queue answering every chain; returns the number popped. Asserts nothing escapes. */
function drain(q: Virtqueue, bound: number, poke: (i: number) => void): number {
  let n = 0;
  for (let c = q.pop(); c !== null; c = q.pop()) {
    n++;
    if (n > bound) throw new Error(`loop exceeded bound ${bound}`);
    c.reader.readBytes(Math.min(c.reader.remaining, 40));
    c.reader.skip(3);
    c.writer.write(new Uint8Array(Math.min(c.writer.remaining, 24)));
    poke(n);
    q.pushUsed(c, n % 3 === 0 ? c.writer.written : n * 7919);
    q.shouldNotify();
  }
  return n;
}

describe('SplitQueue under random ring memory', () => {
  it('random bytes everywhere -> pop/pushUsed never throw, loop ends within size pops', () => {
    fc.assert(
      fc.property(sizeArb, fc.boolean(), fc.uint8Array({ minLength: 0, maxLength: 4096 }), (size, eventIdx, noise) => {
        const layout = splitLayout(size, 0, DATA_LEN);
        const bytes = new Uint8Array(layout.end);
        bytes.set(noise.subarray(0, bytes.length));
        const mem = new ArrayGuestMemory([{ gpa: 0, bytes }]);
        const q = new SplitQueue(mem, { ...layout, eventIdx });
        drain(q, size, () => {});
        expect(q.broken?.kind).not.toBe('internal');
      }),
      { numRuns: 300 },
    );
  });

  it('random descriptors and avail ring -> never throws, bounded, never internal', () => {
    fc.assert(
      fc.property(
        sizeArb.chain((size) => {
          const layout = splitLayout(size, 0, DATA_LEN);
          return fc.record({
            size: fc.constant(size),
            eventIdx: fc.boolean(),
            descs: fc.array(descArb(layout.dataAddr, layout.end, size), { minLength: size, maxLength: size }),
            ring: fc.array(fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: size - 1 }) }, { weight: 1, arbitrary: fc.nat({ max: 0xffff }) }), {
              minLength: size,
              maxLength: size,
            }),
            availIdx: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: size }) }, { weight: 1, arbitrary: fc.nat({ max: 0xffff }) }),
            data: fc.uint8Array({ minLength: DATA_LEN, maxLength: DATA_LEN }),
            // Plausible descriptors over the start of the data area, for indirect tables to hit.
            tables: fc.array(descArb(layout.dataAddr, layout.end, 8), { maxLength: 24 }),
            pokes: fc.array(fc.tuple(fc.nat({ max: 4095 }), fc.nat({ max: 255 })), { maxLength: 8 }),
          });
        }),
        ({ size, eventIdx, descs, ring, availIdx, data, tables, pokes }) => {
          const layout = splitLayout(size, 0, DATA_LEN);
          const bytes = new Uint8Array(layout.end);
          const dv = new DataView(bytes.buffer);
          descs.forEach((d, i) => putDesc(dv, layout.descAddr + 16 * i, d));
          ring.forEach((h, i) => dv.setUint16(layout.availAddr + 4 + 2 * i, h, true));
          dv.setUint16(layout.availAddr + 2, availIdx, true);
          bytes.set(data, layout.dataAddr);
          tables.forEach((d, i) => putDesc(dv, layout.dataAddr + 16 * i, d));
          // Indirect tables point into the data area, which also holds random descriptors.
          const mem = new ArrayGuestMemory([{ gpa: 0, bytes }]);
          const q = new SplitQueue(mem, { ...layout, eventIdx });
          // The guest keeps scribbling over the ring while the device works.
          const poke = (i: number) => {
            const p = pokes[i % Math.max(1, pokes.length)];
            if (p !== undefined) bytes[p[0] % layout.dataAddr] = p[1];
          };
          const n = drain(q, size, poke);
          q.disableNotifications();
          q.enableNotifications();
          expect(q.broken?.kind).not.toBe('internal');
          expect(n).toBeLessThanOrEqual(size);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('PackedQueue under random ring memory', () => {
  it('random bytes everywhere -> never throws, loop ends within size pops', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.boolean(), fc.uint8Array({ maxLength: 4096 }), (size, eventIdx, noise) => {
        const layout = packedLayout(size, 0, DATA_LEN);
        const bytes = new Uint8Array(layout.end);
        bytes.set(noise.subarray(0, bytes.length));
        const mem = new ArrayGuestMemory([{ gpa: 0, bytes }]);
        const q = new PackedQueue(mem, { ...layout, eventIdx });
        drain(q, size, () => {});
        expect(q.broken?.kind).not.toBe('internal');
      }),
      { numRuns: 300 },
    );
  });

  it('random descriptors -> never throws, bounded, never internal', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }).chain((size) => {
          const layout = packedLayout(size, 0, DATA_LEN);
          return fc.record({
            size: fc.constant(size),
            eventIdx: fc.boolean(),
            descs: fc.array(descArb(layout.dataAddr, layout.end, size), { minLength: size, maxLength: size }),
            events: fc.tuple(fc.nat({ max: 0xffff }), fc.nat({ max: 3 })),
            data: fc.uint8Array({ minLength: DATA_LEN, maxLength: DATA_LEN }),
            // Plausible descriptors over the start of the data area, for indirect tables to hit.
            tables: fc.array(descArb(layout.dataAddr, layout.end, 8), { maxLength: 24 }),
          });
        }),
        ({ size, eventIdx, descs, events, data, tables }) => {
          const layout = packedLayout(size, 0, DATA_LEN);
          const bytes = new Uint8Array(layout.end);
          const dv = new DataView(bytes.buffer);
          descs.forEach((d, i) => putDesc(dv, layout.descAddr + 16 * i, d, true));
          dv.setUint16(layout.driverAddr, events[0], true);
          dv.setUint16(layout.driverAddr + 2, events[1], true);
          bytes.set(data, layout.dataAddr);
          tables.forEach((d, i) => putDesc(dv, layout.dataAddr + 16 * i, d, true));
          const mem = new ArrayGuestMemory([{ gpa: 0, bytes }]);
          const q = new PackedQueue(mem, { ...layout, eventIdx });
          const n = drain(q, size, () => {});
          q.disableNotifications();
          q.enableNotifications();
          expect(q.broken?.kind).not.toBe('internal');
          expect(n).toBeLessThanOrEqual(size);
        },
      ),
      { numRuns: 400 },
    );
  });
});
