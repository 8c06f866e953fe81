/**
 * A device, guest driver and real split queues over guest RAM, for the renderer's tests: the
 * same wiring as the CLI's in-process GPU, with the renderer and RAM kind chosen by the test.
 */
import { type HostVisibleRegion, Renderer2D, type Renderer, type ScanoutConfig, VirtioGpuDevice } from '@virtio-gpu/device';
import { GpuDriver, GuestRam } from '@virtio-gpu/guest';
import * as P from '@virtio-gpu/protocol';
import { SplitQueue } from '@virtio-gpu/virtqueue';

/** One wired GPU. */
export interface Rig {
  ram: GuestRam;
  device: VirtioGpuDevice;
  driver: GpuDriver;
  log: string[];
}

/** Build a rig; RAM is a SharedArrayBuffer unless `shared` is false. */
export function rig(renderer: Renderer = new Renderer2D(), opts: { scanouts?: ScanoutConfig[]; shared?: boolean; ramBytes?: number; hostVisible?: HostVisibleRegion } = {}): Rig {
  const ram = new GuestRam({ regions: [{ gpa: 0x4000_0000, bytes: opts.ramBytes ?? 32 << 20 }], shared: opts.shared ?? true });
  const log: string[] = [];
  let driver: GpuDriver | null = null;
  const device = new VirtioGpuDevice({
    memory: ram.memory,
    renderer,
    scanouts: opts.scanouts ?? [{ width: 320, height: 240 }],
    hostVisible: opts.hostVisible,
    log: (_l, line) => void log.push(line),
    onInterrupt: () => driver?.interrupt(),
  });
  driver = new GpuDriver({ ram, transport: { notify: (q) => device.notify(q as 0 | 1) }, queueSize: 64 });
  device.negotiate(device.features);
  const [c, k] = [0, 1].map((i) => new SplitQueue(ram.memory, driver!.queueLayout(i)));
  device.attachQueues(c!, k!);
  return { ram, device, driver, log };
}

/** Send a command and return the response type. */
export async function send(r: Rig, c: P.Command, opts?: Parameters<GpuDriver['send']>[1]): Promise<number> {
  return (await r.driver.send(c, opts)).type;
}

/** Read a scanout as RGBA8. */
export function scanoutPixels(r: Rig, id: number, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  if (!r.device.readScanout(id, { x: 0, y: 0, width, height }, out, width * 4)) throw new Error(`scanout ${id} unreadable`);
  return out;
}

/** A host-visible region that records what the device maps into it (views, not memory). */
export class RecordingRegion implements HostVisibleRegion {
  readonly size = 1n << 30n;
  readonly mapped = new Map<bigint, Uint8Array[]>();

  map(offset: bigint, mapping: { iovecs?: readonly Uint8Array[] }): boolean {
    this.mapped.set(offset, [...(mapping.iovecs ?? [])]);
    return true;
  }

  unmap(offset: bigint): void {
    this.mapped.delete(offset);
  }
}
