/** Scenarios through the real split queues, driven by the guest driver (@virtio-gpu/guest). */
import * as P from '@virtio-gpu/protocol';
import { GpuDriver, GuestRam, cmd as G, rect } from '@virtio-gpu/guest';
import { SplitQueue } from '@virtio-gpu/virtqueue';
import { describe, expect, it } from 'vitest';
import { VirtioGpuDevice } from '../src/device.js';
import { C } from './cmd.js';
import { FakeRenderer3D } from './fake-renderer.js';
import { RecordingSink } from './rig.js';

function setup(opts: { renderer?: FakeRenderer3D } = {}) {
  const ram = new GuestRam({ regions: [{ gpa: 0x4000_0000, bytes: 32 << 20 }] });
  const sink = new RecordingSink();
  let driver!: GpuDriver;
  const device = new VirtioGpuDevice({
    memory: ram.memory,
    renderer: opts.renderer,
    scanouts: [{ width: 320, height: 200 }],
    sink,
    onInterrupt: (cause) => {
      if (cause === 'queue') driver.interrupt();
    },
  });
  driver = new GpuDriver({ ram, transport: { notify: (q) => device.notify(q as 0 | 1) }, queueSize: 64 });
  const qs = [0, 1].map((i) => {
    const l = driver.queueLayout(i);
    return new SplitQueue(ram.memory, l);
  });
  device.negotiate(device.features);
  device.attachQueues(qs[0], qs[1]);
  return { ram, driver, device, sink };
}

describe('through real queues with GpuDriver', () => {
  it('2D bring-up: display info, create, scattered backing, transfer, scanout, flush, readback', async () => {
    const { ram, driver, device, sink } = setup();
    const info = await driver.send(G.getDisplayInfo());
    expect(info.type).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
    const w = 320, h = 200;
    expect((await driver.send(G.resourceCreate2d(1, P.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, w, h))).type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
    const entries = ram.allocScattered(w * h * 4, false);
    const img = new Uint8Array(w * h * 4).map((_, i) => (i * 7) & 255);
    ram.writeEntries(entries, 0, img);
    expect((await driver.send(C.attach(1, entries))).type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
    expect((await driver.send(C.transfer2d(1, rect(0, 0, w, h), 0n), { fence: true })).hdr.flags & P.VIRTIO_GPU_FLAG_FENCE).toBeTruthy();
    expect((await driver.send(C.setScanout(0, 1, rect(0, 0, w, h)))).type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
    expect((await driver.send(C.flush(1, rect(0, 0, w, h)))).type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
    expect(sink.flushes).toEqual([{ scanoutId: 0, damage: rect(0, 0, w, h) }]);
    const out = new Uint8Array(w * h * 4);
    expect(device.readScanout(0, rect(0, 0, w, h), out, w * 4)).toBe(true);
    expect(out).toEqual(img);
    expect(driver.inFlight).toBe(0);
  });

  it('fences on two rings retired late and out of order resolve the right commands', async () => {
    const r = new FakeRenderer3D();
    const { driver } = setup({ renderer: r });
    await driver.send(C.ctxCreate(1));
    const a = await driver.submit(C.submit(1, new Uint8Array(8)), { fence: true, ctxId: 1, ringIdx: 0 });
    const b = await driver.submit(C.submit(1, new Uint8Array(8)), { fence: true, ctxId: 1, ringIdx: 1 });
    const done: string[] = [];
    void a.response.then(() => done.push('a'));
    void b.response.then(() => done.push('b'));
    await Promise.resolve();
    expect(done).toEqual([]);
    r.retire({ ctxId: 1, ringIdx: 1, ringed: true }, b.cmd.hdr.fenceId);
    await b.response;
    expect(done).toEqual(['b']);
    r.retire({ ctxId: 1, ringIdx: 0, ringed: true }, a.cmd.hdr.fenceId);
    await a.response;
    expect(done).toEqual(['b', 'a']);
  });

  it('cursor commands travel the cursor queue', async () => {
    const { driver, sink } = setup();
    await driver.send(G.resourceCreate2d(2, P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 64, 64));
    await driver.send(C.updateCursor(0, 2, 10, 20, 1, 2));
    await driver.send(C.moveCursor(0, 11, 21));
    expect(sink.cursors.map((c) => [c.x, c.y, !!c.image])).toEqual([[10, 20, true], [11, 21, false]]);
  });
});
