/**
 * The renderer tests' GPU: the device's one in-process wiring (createInProcessGpu: guest RAM,
 * driver, real split queues, device), with the renderer and the kind of RAM chosen by the test.
 */
import { type HostVisibleRegion, type Renderer, Renderer2D, type ScanoutConfig, type VirtioGpuDevice, createInProcessGpu } from '@virtio-gpu/device';
import type { GpuDriver, GuestRam } from '@virtio-gpu/guest';
import type * as P from '@virtio-gpu/protocol';

/** One wired GPU. */
export interface Rig {
  ram: GuestRam;
  device: VirtioGpuDevice;
  driver: GpuDriver;
  log: string[];
}

/** Build a rig; RAM is a SharedArrayBuffer unless `shared` is false. */
export function rig(renderer: Renderer = new Renderer2D(), opts: { scanouts?: ScanoutConfig[]; shared?: boolean; ramBytes?: number; hostVisible?: HostVisibleRegion } = {}): Rig {
  const log: string[] = [];
  const gpu = createInProcessGpu({
    renderer,
    scanouts: opts.scanouts ?? [{ width: 320, height: 240 }],
    hostVisible: opts.hostVisible,
    sharedRam: opts.shared ?? true,
    ramBytes: opts.ramBytes ?? 32 << 20,
    queueSize: 64,
    log: (_l, line) => void log.push(line),
  });
  return { ram: gpu.ram, device: gpu.device, driver: gpu.driver, log };
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
