/** createInProcessGpu: the one in-process wiring (guest RAM, GpuDriver, SplitQueues, device). */
import * as P from '@virtio-gpu/protocol';
import { cmd } from '@virtio-gpu/guest';
import { describe, expect, it } from 'vitest';
import { FakeRenderer3D } from '../test/fake-renderer.js';
import { RecordingSink } from '../test/rig.js';
import { IN_PROCESS_RAM_BASE, createInProcessGpu } from './in-process.js';

describe('createInProcessGpu', () => {
  it('defaults: one RAM region at 1 GiB, 256-entry rings, every offered feature, commands answered through the rings', async () => {
    const gpu = createInProcessGpu({ ramBytes: 16 << 20 });
    expect(gpu.regions).toEqual([{ gpa: IN_PROCESS_RAM_BASE, bytes: 16 << 20 }]);
    expect(gpu.queues.map((q) => q.size)).toEqual([256, 256]);
    expect(gpu.device.negotiatedFeatures).toBe(gpu.device.features);
    const r = await gpu.driver.send(cmd.getDisplayInfo());
    expect(r.type).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
  });

  it('sharedRam -> guest RAM in SharedArrayBuffers', () => {
    const gpu = createInProcessGpu({ ramBytes: 1 << 20, sharedRam: true, queueSize: 16 });
    expect(gpu.ram.bytes(IN_PROCESS_RAM_BASE, 16).buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(createInProcessGpu({ ramBytes: 1 << 20, queueSize: 16 }).ram.bytes(IN_PROCESS_RAM_BASE, 16).buffer).toBeInstanceOf(ArrayBuffer);
  });

  it('options reach the device, the driver and the rings: regions, queue size, features, limits, sink, interrupts', async () => {
    const sink = new RecordingSink();
    const interrupts: string[] = [];
    const regions = [
      { gpa: 0x1000_0000, bytes: 4 << 20 },
      { gpa: 0x2000_0000, bytes: 4 << 20 },
    ];
    const gpu = createInProcessGpu({
      regions,
      queueSize: 16,
      features: 0n,
      limits: { maxResources: 1 },
      sink,
      scanouts: [{ width: 32, height: 32 }],
      onInterrupt: (cause, q) => interrupts.push(`${cause}:${q}`),
    });
    expect(gpu.regions).toEqual(regions);
    expect(gpu.queues.map((q) => q.size)).toEqual([16, 16]);
    expect(gpu.device.negotiatedFeatures).toBe(0n);
    expect((await gpu.driver.send(cmd.resourceCreate2d(1, P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 32, 32))).type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
    expect((await gpu.driver.send(cmd.resourceCreate2d(2, P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 32, 32))).type).toBe(P.VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
    expect((await gpu.driver.send(cmd.setScanout(0, 1, { x: 0, y: 0, width: 32, height: 32 }))).type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
    expect(sink.changes.map((c) => c.info?.resourceId)).toEqual([1]);
    expect(interrupts).toContain('queue:0');
  });

  it('save, then restore onto a fresh device: a held fenced command goes used when the new renderer retires its fence', async () => {
    const r = new FakeRenderer3D();
    const gpu = createInProcessGpu({ ramBytes: 16 << 20, renderer: r, queueSize: 16 });
    expect((await gpu.driver.send(cmd.ctxCreate(1, 'c'))).type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
    const first = gpu.device;
    const held = (await gpu.driver.submit(cmd.submit3d(1, new Uint8Array(4)), { fence: true })).response;
    expect(first.pendingCount).toBe(1);
    const saved = gpu.save();
    expect(saved.device.pending).toEqual([{ queueIndex: 0, head: expect.any(Number), length: 24, fence: { fenceId: 1n, ctxId: 1, ringIdx: 0, ringed: false } }]);
    const r2 = new FakeRenderer3D();
    const sink = new RecordingSink();
    let attached = null as unknown;
    const second = gpu.restore(saved, { renderer: r2, sink, attach: (d) => (attached = d) });
    expect(second).not.toBe(first);
    expect(attached).toBe(second);
    expect(gpu.device).toBe(second);
    expect(r2.fences.map((f) => f.fenceId)).toEqual([1n]);
    // The old device's late retirement no longer reaches the guest; the new one's does.
    r.retire({ ctxId: 0, ringIdx: 0, ringed: false }, 1n);
    expect(gpu.driver.inFlight).toBe(1);
    r2.retire({ ctxId: 0, ringIdx: 0, ringed: false }, 1n);
    const resp = await held;
    expect(resp.hdr).toMatchObject({ type: P.VIRTIO_GPU_RESP_OK_NODATA, flags: P.VIRTIO_GPU_FLAG_FENCE, fenceId: 1n });
    expect((await gpu.driver.send(cmd.getDisplayInfo())).type).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
  });
});
