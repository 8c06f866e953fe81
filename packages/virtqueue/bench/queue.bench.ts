/**
 * Primitive: pop a 2-descriptor chain (24-byte readable request + 24-byte writable response),
 * read the request, write the response, pushUsed. 256 chains per iteration, so
 * ns per command = 1e9 / (hz * 256). The avail side is refilled cheaply inside the iteration
 * (one idx store for split; 512 flag stores for packed). Plain ArrayBuffer memory, so ring
 * index accesses are DataView ones (SharedArrayBuffer memory would use Atomics).
 */
import { bench, describe } from 'vitest';
import { ArrayGuestMemory, PackedQueue, SplitQueue, VIRTQ_DESC_F_AVAIL, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_USED, VIRTQ_DESC_F_WRITE } from '../src/index.js';
import { packedLayout, splitLayout } from '../src/test-driver.js';

const BATCH = 256;
const SIZE = 512; // 2 descriptors per chain
const REQ = 24;

/**
 * Guest memory for `layout` with BATCH request/response descriptor pairs at the table's start
 * (addresses and lengths, the request bytes filled); `ringSpecific` adds each pair's flags/ids.
 */
function requestPairs(layout: { end: number; descAddr: number; dataAddr: number }, ringSpecific: (dv: DataView, d0: number, i: number) => void) {
  const bytes = new Uint8Array(layout.end);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < BATCH; i++) {
    const data = layout.dataAddr + i * 2 * REQ;
    const d0 = layout.descAddr + 32 * i;
    dv.setUint32(d0, data, true);
    dv.setUint32(d0 + 8, REQ, true);
    dv.setUint32(d0 + 16, data + REQ, true);
    dv.setUint32(d0 + 24, REQ, true);
    ringSpecific(dv, d0, i);
    bytes.fill(i & 0xff, data, data + REQ);
  }
  return { bytes, dv };
}

function splitFixture() {
  const layout = splitLayout(SIZE, 0x1000, BATCH * 2 * REQ);
  const { bytes, dv } = requestPairs(layout, (dv, d0, i) => {
    dv.setUint16(d0 + 12, VIRTQ_DESC_F_NEXT, true);
    dv.setUint16(d0 + 14, 2 * i + 1, true);
    dv.setUint16(d0 + 28, VIRTQ_DESC_F_WRITE, true);
  });
  for (let j = 0; j < SIZE; j++) dv.setUint16(layout.availAddr + 4 + 2 * j, 2 * (j % BATCH), true);
  const mem = new ArrayGuestMemory([{ gpa: 0, bytes }]);
  const q = new SplitQueue(mem, { ...layout, eventIdx: true });
  let availIdx = 0;
  return {
    q,
    refill(): void {
      availIdx = (availIdx + BATCH) & 0xffff;
      dv.setUint16(layout.availAddr + 2, availIdx, true);
    },
  };
}

function packedFixture() {
  const layout = packedLayout(SIZE, 0x1000, BATCH * 2 * REQ);
  const { bytes, dv } = requestPairs(layout, (dv, d0, i) => {
    dv.setUint16(d0 + 28, i, true); // buffer id in the last descriptor
  });
  const flags = new Uint16Array(bytes.buffer, layout.descAddr, SIZE * 8);
  const mem = new ArrayGuestMemory([{ gpa: 0, bytes }]);
  const q = new PackedQueue(mem, { ...layout, eventIdx: false });
  let wrap = true;
  return {
    q,
    refill(): void {
      // One full lap per iteration: mark every slot available for the driver's wrap counter.
      const bits = wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
      for (let i = 0; i < BATCH; i++) {
        flags[16 * i + 7] = VIRTQ_DESC_F_NEXT | bits;
        flags[16 * i + 15] = VIRTQ_DESC_F_WRITE | bits;
      }
      wrap = !wrap;
    },
  };
}

const response = new Uint8Array(REQ).fill(0x5a);
const scratch = new Uint8Array(REQ);
let sink = 0;

/** Answers every available chain; `copy` reads into a scratch buffer instead of taking a view. */
function answerAll(q: SplitQueue | PackedQueue, copy = false): void {
  for (let c = q.pop(); c !== null; c = q.pop()) {
    if (copy) {
      c.reader.read(scratch);
      sink ^= scratch[0];
    } else {
      sink ^= c.reader.readBytes(REQ)![0];
    }
    c.writer.write(response);
    q.pushUsed(c, c.writer.written);
  }
  if (q.shouldNotify()) sink++;
}

describe('pop + read 24 + write 24 + pushUsed, 256 chains per iteration', () => {
  const split = splitFixture();
  bench('split (EVENT_IDX), readBytes view', () => {
    split.refill();
    answerAll(split.q);
  });

  const splitCopy = splitFixture();
  bench('split (EVENT_IDX), read into scratch', () => {
    splitCopy.refill();
    answerAll(splitCopy.q, true);
  });

  const packed = packedFixture();
  bench('packed, readBytes view', () => {
    packed.refill();
    answerAll(packed.q);
  });
});
