import { GuestRam } from '@virtio-gpu/guest';
import { SplitQueue, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '@virtio-gpu/virtqueue';
import { describe, expect, it } from 'vitest';
import { JitReportingQueue } from './jit-queue.js';

/** A split ring with one chain: 16 readable bytes, then two writable buffers of 8 and 32 bytes. */
function ringWithChain() {
  const ram = new GuestRam({ regions: [{ gpa: 0x1000, bytes: 1 << 20 }] });
  const size = 8;
  const desc = ram.alloc(16 * size);
  const avail = ram.alloc(6 + 2 * size);
  const used = ram.alloc(6 + 8 * size);
  const bufs = [ram.alloc(16), ram.alloc(8), ram.alloc(32)];
  const { dv } = ram.dataView(desc, 16 * size);
  const d0 = ram.dataView(desc, 16 * size).offset;
  const put = (i: number, addr: number, len: number, flags: number, next: number) => {
    dv.setUint32(d0 + 16 * i, addr, true);
    dv.setUint32(d0 + 16 * i + 8, len, true);
    dv.setUint16(d0 + 16 * i + 12, flags, true);
    dv.setUint16(d0 + 16 * i + 14, next, true);
  };
  put(0, bufs[0], 16, VIRTQ_DESC_F_NEXT, 1);
  put(1, bufs[1], 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
  put(2, bufs[2], 32, VIRTQ_DESC_F_WRITE, 0);
  const a = ram.dataView(avail, 6 + 2 * size);
  a.dv.setUint16(a.offset + 4, 0, true); // ring[0] = head 0
  a.dv.setUint16(a.offset + 2, 1, true); // idx = 1
  const q = new SplitQueue(ram.memory, { size, descAddr: desc, availAddr: avail, usedAddr: used, eventIdx: false });
  return { q, bufs, used, size };
}

describe('JitReportingQueue', () => {
  it('reports the writable buffers up to the bytes written, and the used ring once per batch', () => {
    const { q, bufs, used, size } = ringWithChain();
    const ranges: [number, number][] = [];
    const jq = new JitReportingQueue(q, [[used, 6 + 8 * size]], (s, e) => ranges.push([s, e]));
    const chain = jq.pop()!;
    jq.pushUsed(chain, 12);
    expect(ranges).toEqual([[bufs[1], bufs[1] + 8], [bufs[2], bufs[2] + 4]]);
    jq.shouldNotify();
    expect(ranges.at(-1)).toEqual([used, used + 6 + 8 * size]);
    ranges.length = 0;
    jq.shouldNotify();
    expect(ranges).toEqual([]);
  });

  it('a chain answered with 0 bytes -> only the used ring is reported', () => {
    const { q, used, size } = ringWithChain();
    const ranges: [number, number][] = [];
    const jq = new JitReportingQueue(q, [[used, 6 + 8 * size]], (s, e) => ranges.push([s, e]));
    jq.pushUsed(jq.pop()!, 0);
    jq.shouldNotify();
    expect(ranges).toEqual([[used, used + 6 + 8 * size]]);
  });
});
