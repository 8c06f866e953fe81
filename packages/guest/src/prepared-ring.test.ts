import { VIRTIO_GPU_CMD_RESOURCE_FLUSH, VIRTIO_GPU_FLAG_FENCE, VIRTIO_GPU_RESP_OK_NODATA, commandSize, decodeCommand, encodeCommand } from '@virtio-gpu/protocol';
import { SplitQueue } from '@virtio-gpu/virtqueue';
import { describe, expect, test } from 'vitest';
import { cmd, rect } from './commands';
import { GuestRam } from './guest-ram';
import { PreparedRing } from './prepared-ring';

function setup(queueSize = 8) {
  const ram = new GuestRam({ regions: [{ gpa: 0x10_0000, bytes: 1 << 20 }] });
  const pr = new PreparedRing(ram, { queueSize });
  const l = pr.layout;
  const q = new SplitQueue(ram.memory, l);
  const flush = cmd.resourceFlush(7, rect(0, 0, 4, 4));
  const bytes = new Uint8Array(commandSize(flush));
  encodeCommand(flush, bytes, 0);
  /** A device that answers each chain with a 24-byte header of `type` (req type + 0x1000). */
  const serve = () => {
    const seen: number[] = [];
    for (let c = q.pop(); c; c = q.pop()) {
      const req = c.reader.readBytes(c.reader.remaining)!;
      const d = decodeCommand(req);
      if (!d.ok) throw new Error(d.error.message);
      seen.push(Number(d.cmd.hdr.fenceId));
      const out = new Uint8Array(24);
      new DataView(out.buffer).setUint32(0, VIRTIO_GPU_RESP_OK_NODATA, true);
      q.pushUsed(c, c.writer.write(out));
    }
    return seen;
  };
  return { ram, pr, q, bytes, serve };
}

describe('PreparedRing', () => {
  test('slots re-submitted round after round -> each reaped with its slot, type and length', () => {
    const { pr, bytes, serve } = setup(8);
    expect(pr.slots).toBe(4);
    for (let i = 0; i < pr.slots; i++) pr.request(i, bytes);
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < pr.slots; i++) expect(pr.submit(i)).toBe(true);
      pr.publish();
      serve();
      const got: [number, number, number][] = [];
      expect(pr.reap((slot, type, len) => got.push([slot, type, len]))).toBe(4);
      expect(got).toEqual([0, 1, 2, 3].map((s) => [s, VIRTIO_GPU_RESP_OK_NODATA, 24]));
    }
  });

  test('setFenceId rewrites hdr.fence_id in place (64-bit)', () => {
    const { pr, serve } = setup(4);
    const c = cmd.resourceFlush(1, rect(0, 0, 1, 1));
    c.hdr.flags = VIRTIO_GPU_FLAG_FENCE;
    const b = new Uint8Array(commandSize(c));
    encodeCommand(c, b, 0);
    pr.request(1, b);
    pr.setFenceId(1, 2 ** 40 + 5);
    pr.submit(1);
    pr.publish();
    expect(serve()).toEqual([2 ** 40 + 5]);
    expect(pr.reap()).toBe(1);
    expect(pr.responseType(1)).toBe(VIRTIO_GPU_RESP_OK_NODATA);
    expect(pr.response(1).length).toBe(512);
  });

  test('ring full -> submit false; misuse of slots -> RangeError', () => {
    const { pr, bytes } = setup(4);
    pr.request(0, bytes);
    pr.request(1, bytes);
    expect(pr.submit(0)).toBe(true);
    expect(pr.submit(1)).toBe(true);
    expect(pr.submit(0)).toBe(false);
    expect(() => pr.request(2, bytes)).toThrow(RangeError);
    expect(() => pr.request(0, new Uint8Array(129))).toThrow(RangeError);
    expect(() => new PreparedRing(new GuestRam({ regions: [{ gpa: 0, bytes: 1 << 16 }] }), { queueSize: 4 }).submit(0)).toThrow(RangeError);
    expect(VIRTIO_GPU_CMD_RESOURCE_FLUSH).toBe(0x0104);
  });
});
