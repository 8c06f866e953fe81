import { describe, expect, it } from 'vitest';
import { ArrayGuestMemory } from './guest-memory.js';
import { SplitQueue } from './split-queue.js';
import { SplitTestDriver, readBytes, splitLayout } from './test-driver.js';
import { VIRTQ_DESC_F_NEXT } from './virtio-ring.js';

/** A driver with one chain (4 readable bytes, 8 writable) popped by a first queue and never used. */
function heldChain() {
  const { mem, driver } = SplitTestDriver.create(8);
  const first = new SplitQueue(mem, driver.cfg);
  const head = driver.submit([driver.buf(new Uint8Array([1, 2, 3, 4]), false), driver.buf(8, true)]);
  const popped = first.pop()!;
  return { mem, driver, first, head, popped };
}

describe('SplitQueue.rebuildChain (snapshot restore)', () => {
  it('held chain rebuilt on a new queue -> same buffers; pushUsed reaches the driver', () => {
    const { mem, driver, first, head, popped } = heldChain();
    // Restore into a copy of guest memory, as a VMM would.
    const copy = new ArrayGuestMemory([{ gpa: 0, bytes: readBytes(mem, 0, (mem as ArrayGuestMemory).regions[0]!.bytes.byteLength) }]);
    const q = new SplitQueue(copy, driver.cfg);
    q.restoreIndexes(first.lastAvailIdx, first.usedIdx);
    const c = q.rebuildChain(head)!;
    expect(c.head).toBe(head);
    expect(c.readableBytes).toBe(popped.readableBytes);
    expect(c.writableBytes).toBe(8);
    expect([...c.reader.readBytes(4)!]).toEqual([1, 2, 3, 4]);
    c.writer.write(new Uint8Array([9, 9]));
    q.pushUsed(c, 2);
    const d2 = new SplitTestDriver(copy, splitLayout(8));
    expect(d2.takeUsed()).toEqual([{ id: head, len: 2 }]);
  });

  it('does not consume the available ring', () => {
    const { mem, driver, first, head } = heldChain();
    const q = new SplitQueue(mem, driver.cfg);
    q.restoreIndexes(first.lastAvailIdx, first.usedIdx);
    expect(q.rebuildChain(head)).not.toBeNull();
    expect(q.lastAvailIdx).toBe(first.lastAvailIdx);
    expect(q.pop()).toBeNull();
  });

  it.each([-1, 8, 1.5, NaN])('head %s -> null, queue not broken', (h) => {
    const { mem, driver } = heldChain();
    const q = new SplitQueue(mem, driver.cfg);
    expect(q.rebuildChain(h)).toBeNull();
    expect(q.broken).toBeNull();
  });

  it('descriptor loop from the head -> null and the queue is broken', () => {
    const { mem, driver } = SplitTestDriver.create(8);
    const b = driver.buf(16, false);
    driver.writeDesc(3, b.gpa, b.len, VIRTQ_DESC_F_NEXT, 3);
    const q = new SplitQueue(mem, driver.cfg);
    expect(q.rebuildChain(3)).toBeNull();
    expect(q.broken?.kind).toBe('chain-loop');
  });
});
