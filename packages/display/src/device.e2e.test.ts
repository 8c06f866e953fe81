/**
 * Display behind the real device: a guest driver (@virtio-gpu/guest) runs its demo workload
 * through real split queues into VirtioGpuDevice, whose sink is a Display. The surfaces must
 * end up equal to the guest's own framebuffers, and the cursor must follow the guest's.
 */
import { VirtioGpuDevice, type ScanoutSink as DeviceScanoutSink } from '@virtio-gpu/device';
import { DemoWorkload, GpuDriver, GuestRam } from '@virtio-gpu/guest';
import { SplitQueue } from '@virtio-gpu/virtqueue';
import { describe, expect, it } from 'vitest';
import { Display } from './display.js';
import type { ScanoutSource } from './types.js';

/** The guest's 0xAARRGGBB (B8G8R8X8) framebuffer as the opaque RGBA8 display shows. */
function guestRgba(px: Uint32Array): Uint8Array {
  const out = new Uint8Array(px.length * 4);
  for (let i = 0; i < px.length; i++) {
    const v = px[i];
    out[i * 4] = (v >>> 16) & 255;
    out[i * 4 + 1] = (v >>> 8) & 255;
    out[i * 4 + 2] = v & 255;
    out[i * 4 + 3] = 255;
  }
  return out;
}

function rig() {
  const ram = new GuestRam();
  const display = new Display();
  let driver: GpuDriver | null = null;
  const device = new VirtioGpuDevice({
    memory: ram.memory,
    scanouts: [
      { width: 320, height: 200 },
      { width: 256, height: 192 },
    ],
    sink: display,
    onInterrupt: () => driver?.interrupt(),
  });
  display.setSource(device);
  driver = new GpuDriver({ ram, transport: { notify: (q) => device.notify(q as 0 | 1) }, queueSize: 64 });
  device.negotiate(device.features);
  const [control, cursor] = [0, 1].map((i) => {
    const l = driver!.queueLayout(i);
    return new SplitQueue(ram.memory, l);
  });
  device.attachQueues(control, cursor);
  return { display, device, demo: new DemoWorkload(driver, { maxScanouts: 2 }) };
}

describe('Display with VirtioGpuDevice', () => {
  it('types: Display is a device ScanoutSink, the device is a ScanoutSource', () => {
    const { display, device } = rig();
    const sink: DeviceScanoutSink = display;
    const source: ScanoutSource = device;
    expect(sink).toBe(display);
    expect(source).toBe(device);
  });

  it('demo frames -> surfaces equal the guest framebuffers, cursor follows the guest', async () => {
    const { display, demo } = rig();
    await demo.setup();
    expect(display.surfaces().map((s) => [s.scanoutId, s.width, s.height])).toEqual([
      [0, 320, 200],
      [1, 256, 192],
    ]);
    for (let n = 0; n < 4; n++) {
      await demo.frame(n);
      for (const s of demo.scanouts) {
        expect(Buffer.compare(display.surface(s.id)!.data, guestRgba(s.px)), `scanout ${s.id} frame ${n}`).toBe(0);
      }
    }
    expect(display.cursor).toMatchObject({ scanoutId: 0, hotX: 2, hotY: 2, visible: true });
    expect(display.cursor.image).not.toBeNull();
    expect(display.stats).toMatchObject({ rejected: 0, readFailures: 0 });
    await demo.teardown();
    expect(display.surfaces()).toEqual([]);
    expect(display.cursor.visible).toBe(false);
  });
});
