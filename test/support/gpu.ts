/**
 * The scenario rig: @virtio-gpu/device's in-process wiring (createInProcessGpu: guest RAM,
 * GpuDriver, real SplitQueues, VirtioGpuDevice) with a Display as its sink, and the knobs scenarios
 * need (several RAM regions, limits, a host-visible region, negotiated features, recorded
 * interrupts and log lines, save/restore onto a fresh device). Everything reaches the device
 * through the driver's rings; nothing here builds chains by hand.
 */
import * as P from '@virtio-gpu/protocol';
import {
  createInProcessGpu,
  type DeviceLimits,
  type HostVisibleRegion,
  type InProcessGpu,
  type InProcessSnapshot,
  type Renderer,
  type ScanoutConfig,
  type VirtioGpuDevice,
} from '@virtio-gpu/device';
import { Display } from '@virtio-gpu/display';
import { type GpuDriver, type GuestRam, cmd, rect, type RamRegionSpec } from '@virtio-gpu/guest';
import type { SplitQueue } from '@virtio-gpu/virtqueue';
import { expect } from 'vitest';

/** Guest RAM base of the first region (not 0, so gpa/offset mix-ups show). */
export const RAM_BASE = 0x4000_0000;

/** Options of {@link buildGpu}. */
export interface GpuOptions {
  scanouts?: ScanoutConfig[];
  renderer?: Renderer;
  /** RAM regions; default one 32 MiB region at RAM_BASE. */
  regions?: RamRegionSpec[];
  limits?: Partial<DeviceLimits>;
  hostVisible?: HostVisibleRegion;
  queueSize?: number;
  /** Features the driver accepts (default: everything offered). */
  features?: bigint;
  /** Deterministic UUID bytes. */
  random?: (b: Uint8Array) => void;
}

/** One wired GPU with its display; `device`, `display` and `queues` change when it is restored. */
export class Gpu {
  /** Every interrupt the device raised, in order. */
  readonly interrupts: { cause: string; queueIndex?: number }[] = [];
  /** Device log lines (guest-triggered warnings included). */
  readonly log: string[] = [];
  /** The display behind the current device. */
  display = new Display();
  readonly wired: InProcessGpu;

  constructor(readonly options: GpuOptions) {
    this.wired = createInProcessGpu({
      regions: options.regions ?? [{ gpa: RAM_BASE, bytes: 32 << 20 }],
      queueSize: options.queueSize ?? 64,
      features: options.features,
      scanouts: options.scanouts ?? [{ width: 64, height: 48 }],
      renderer: options.renderer,
      limits: { logLinesPerSecond: 1e9, ...options.limits },
      hostVisible: options.hostVisible,
      sink: this.display,
      random: options.random,
      log: (_level, line) => void this.log.push(line),
      onInterrupt: (cause, queueIndex) => void this.interrupts.push({ cause, queueIndex }),
    });
    this.display.setSource(this.wired.device);
  }

  get ram(): GuestRam {
    return this.wired.ram;
  }
  get driver(): GpuDriver {
    return this.wired.driver;
  }
  get device(): VirtioGpuDevice {
    return this.wired.device;
  }
  get queues(): readonly [SplitQueue, SplitQueue] {
    return this.wired.queues;
  }
  /** The RAM regions, for saving and restoring guest memory. */
  get regions(): readonly RamRegionSpec[] {
    return this.wired.regions;
  }
}

/** Builds the rig; see the module comment. */
export function buildGpu(o: GpuOptions = {}): Gpu {
  return new Gpu(o);
}

/** What a VMM saves: the device snapshot, guest RAM and the queues' indexes. */
export type SavedGpu = InProcessSnapshot;

/** Saves the device (structured-cloned, as it would cross a process boundary), RAM and queue indexes. */
export function saveGpu(g: Gpu): SavedGpu {
  return g.wired.save();
}

/**
 * Restores `saved` the way a VMM on a new host would: guest RAM reloaded from the saved copy, a
 * fresh device with a fresh renderer (`renderer`, default a Renderer2D), display and queues over
 * it, and the snapshot restored with held chains rebuilt from the restored descriptor table.
 */
export function restoreGpu(g: Gpu, saved: SavedGpu, renderer?: Renderer, hostVisible?: HostVisibleRegion): void {
  const display = new Display();
  g.display = display;
  g.wired.restore(saved, { renderer, hostVisible, sink: display, attach: (device) => display.setSource(device) });
}

/** Sends `c` and returns the response type. */
export async function sendType(g: Gpu, c: P.Command, opts?: Parameters<GpuDriver['send']>[1]): Promise<number> {
  return (await g.driver.send(c, opts)).type;
}

/** Sends `c` and expects OK_NODATA. */
export async function sendOk(g: Gpu, c: P.Command, opts?: Parameters<GpuDriver['send']>[1]): Promise<void> {
  const r = await g.driver.send(c, opts);
  expect(r.type, P.describe(c)).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
}

/**
 * Creates a 2D resource with scattered backing (unmerged pages), attaches it and returns the
 * entries. `pixels` (width*height*4 bytes in the resource's format) are written and transferred
 * when given.
 */
export async function backed2d(
  g: Gpu,
  id: number,
  width: number,
  height: number,
  format: number = P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM,
  pixels?: Uint8Array,
): Promise<P.MemEntry[]> {
  await sendOk(g, cmd.resourceCreate2d(id, format, width, height));
  const entries = g.ram.allocScattered(width * height * 4, false);
  await sendOk(g, cmd.attachBacking(id, entries));
  if (pixels) {
    g.ram.writeEntries(entries, 0, pixels);
    await sendOk(g, cmd.transferToHost2d(id, rect(0, 0, width, height)));
  }
  return entries;
}

/** What scanout `id` shows, as RGBA8 read from the device (not opaque-forced like Display). */
export function scanoutPixels(g: Gpu, id: number, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  expect(g.device.readScanout(id, rect(0, 0, width, height), out, width * 4)).toBe(true);
  return out;
}

/** Deterministic pattern bytes. */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Lets pending microtasks and promise callbacks run. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
