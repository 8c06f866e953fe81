/**
 * The scenario rig: guest RAM, GpuDriver, real SplitQueues, VirtioGpuDevice and Display wired the
 * way createInProcessGpu (packages/cli/src/rig.ts) does, with the knobs scenarios need on top
 * (several RAM regions, limits, a host-visible region, negotiated features, recorded interrupts).
 * Everything reaches the device through the driver's rings; nothing here builds chains by hand.
 */
import * as P from '@virtio-gpu/protocol';
import { VirtioGpuDevice, type DeviceLimits, type DeviceSnapshot, type HostVisibleRegion, type Renderer, type ScanoutConfig } from '@virtio-gpu/device';
import { Display } from '@virtio-gpu/display';
import { GpuDriver, GuestRam, cmd, rect, type RamRegionSpec } from '@virtio-gpu/guest';
import { SplitQueue } from '@virtio-gpu/virtqueue';
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

/** One wired GPU. */
export interface Gpu {
  ram: GuestRam;
  device: VirtioGpuDevice;
  display: Display;
  driver: GpuDriver;
  queues: [SplitQueue, SplitQueue];
  /** Every interrupt the device raised, in order. */
  interrupts: { cause: string; queueIndex?: number }[];
  /** Device log lines (guest-triggered warnings included). */
  log: string[];
  /** The RAM regions, for saving and restoring guest memory. */
  regions: RamRegionSpec[];
  /** How the device was built, for building its successor at restore. */
  options: GpuOptions;
}

/** Builds the rig; see the module comment. */
export function buildGpu(o: GpuOptions = {}): Gpu {
  const regions = o.regions ?? [{ gpa: RAM_BASE, bytes: 32 << 20 }];
  const ram = new GuestRam({ regions });
  // The driver kicks whichever device is current, so a restore can swap the device under it.
  const g = { ram, interrupts: [], log: [], regions, options: o } as unknown as Gpu;
  g.driver = new GpuDriver({ ram, transport: { notify: (q) => g.device.notify(q as 0 | 1) }, queueSize: o.queueSize ?? 64 });
  attachDevice(g, o.renderer);
  g.device.negotiate(o.features ?? g.device.features);
  return g;
}

/** A fresh device, display and device-side queues over `g.ram`, in place of the current ones. */
function attachDevice(g: Gpu, renderer: Renderer | undefined, queueIndexes?: SavedGpu['queueIndexes']): void {
  const o = g.options;
  const display = new Display();
  const device = new VirtioGpuDevice({
    memory: g.ram.memory,
    scanouts: o.scanouts ?? [{ width: 64, height: 48 }],
    renderer,
    limits: { logLinesPerSecond: 1e9, ...o.limits },
    hostVisible: o.hostVisible,
    sink: display,
    random: o.random,
    log: (_level, line) => void g.log.push(line),
    onInterrupt: (cause, queueIndex) => {
      if (g.device !== device) return; // a replaced device no longer reaches the guest
      g.interrupts.push({ cause, queueIndex });
      g.driver.interrupt();
    },
  });
  display.setSource(device);
  const queues = [0, 1].map((i) => {
    const l = g.driver.queueLayout(i);
    const q = new SplitQueue(g.ram.memory, l);
    const ix = queueIndexes?.[i];
    if (ix) q.restoreIndexes(ix.lastAvailIdx, ix.usedIdx);
    return q;
  }) as [SplitQueue, SplitQueue];
  device.attachQueues(queues[0], queues[1]);
  g.device = device;
  g.display = display;
  g.queues = queues;
}

/** What a VMM saves: the device snapshot, guest RAM and the queues' indexes. */
export interface SavedGpu {
  device: DeviceSnapshot;
  ram: Uint8Array[];
  queueIndexes: { lastAvailIdx: number; usedIdx: number }[];
}

/** Saves the device (structured-cloned, as it would cross a process boundary), RAM and queue indexes. */
export function saveGpu(g: Gpu): SavedGpu {
  return {
    device: structuredClone(g.device.snapshot()),
    ram: g.regions.map((r) => g.ram.bytes(r.gpa, r.bytes).slice()),
    queueIndexes: g.queues.map((q) => ({ lastAvailIdx: q.lastAvailIdx, usedIdx: q.usedIdx })),
  };
}

/**
 * Restores `saved` the way a VMM on a new host would: guest RAM is overwritten with garbage (the
 * old host's memory is gone) and then loaded from the saved copy, a fresh device with a fresh
 * renderer, display and queues is built over it, and the snapshot is restored with held chains
 * rebuilt from the restored descriptor table (SplitQueue.rebuildChain).
 */
export function restoreGpu(g: Gpu, saved: SavedGpu, renderer?: Renderer, hostVisible?: HostVisibleRegion): void {
  g.regions.forEach((r, i) => {
    g.ram.bytes(r.gpa, r.bytes).fill(0xee);
    g.ram.write(r.gpa, saved.ram[i]!);
  });
  if (hostVisible) g.options = { ...g.options, hostVisible };
  attachDevice(g, renderer, saved.queueIndexes);
  g.device.restore(saved.device, { chainFor: (qi, head) => g.queues[qi].rebuildChain(head) });
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
