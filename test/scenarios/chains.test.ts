/**
 * Hostile descriptor chains on the real split queue, built with virtqueue's DriverSplitRing (the
 * GpuDriver only makes well-formed two-descriptor chains): descriptors that alias one buffer many
 * times make a chain far larger than guest RAM. The device must not copy all of it.
 */
import * as P from '@virtio-gpu/protocol';
import { VirtioGpuDevice } from '@virtio-gpu/device';
import { GuestRam, cmd } from '@virtio-gpu/guest';
import { DriverSplitRing, SplitQueue, type GuestMemory } from '@virtio-gpu/virtqueue';
import { describe, expect, it } from 'vitest';
import { RAM_BASE } from '../support/gpu';

/** Guest RAM seen through a memory that counts the bytes the device reads or writes. */
function rig() {
  const ram = new GuestRam({ regions: [{ gpa: RAM_BASE, bytes: 24 << 20 }] });
  const counter = { bytes: 0 };
  const mem: GuestMemory = {
    view: (gpa, len) => ((counter.bytes += len), ram.memory.view(gpa, len)),
    slices: (gpa, len) => ((counter.bytes += len), ram.memory.slices(gpa, len)),
    isMapped: (gpa, len) => ram.memory.slices(gpa, len) !== null,
  };
  const rings = [DriverSplitRing.allocate(ram, 64, false), DriverSplitRing.allocate(ram, 64, false)];
  const device = new VirtioGpuDevice({ memory: mem, scanouts: [{ width: 32, height: 32 }], onInterrupt: () => {} });
  device.negotiate(device.features);
  const [cq, uq] = rings.map((r) => new SplitQueue(mem, { ...r.layout }));
  device.attachQueues(cq!, uq!);
  return { ram, rings, device, counter, queue: cq! };
}

describe('oversized chains', () => {
  it('GET_DISPLAY_INFO followed by 62 descriptors aliasing one 8 MiB buffer (~500 MiB) -> answered without reading it all', () => {
    const { ram, rings, device, counter, queue } = rig();
    const req = ram.alloc(24);
    const c = cmd.getDisplayInfo();
    P.encodeCommand(c, ram.bytes(req, 24), 0);
    const big = ram.alloc(8 << 20);
    const resp = ram.alloc(4096);
    const bufs = [{ gpa: req, length: 24, write: false }];
    for (let i = 0; i < 62; i++) bufs.push({ gpa: big, length: 8 << 20, write: false });
    bufs.push({ gpa: resp, length: 4096, write: true });
    rings[0]!.add(bufs);
    rings[0]!.publish();
    counter.bytes = 0;
    device.notify(0);
    const used = rings[0]!.popUsed();
    expect(used).not.toBeNull();
    const dec = P.decodeResponse(ram.bytes(resp, used!.length), 0, used!.length);
    expect(dec.ok && dec.resp.type).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
    expect(queue.broken).toBeNull();
    expect(counter.bytes).toBeLessThan(device.limits.maxCommandBytes + (1 << 20));
  });
});
