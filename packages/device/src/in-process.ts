/**
 * The device and a guest driver in one process, wired the way a VMM wires them: guest RAM, the
 * device over it, feature negotiation, the driver's split rings handed to the device as its
 * queues, kicks calling the device directly and interrupts running the driver's handler. The one
 * such wiring of the project: the CLI's demo, the cross-package tests and the benchmarks use it.
 *
 * Save/restore is a VMM's too: {@link InProcessGpu.save} takes the device snapshot, guest RAM and
 * the queues' indexes; {@link InProcessGpu.restore} loads them into a fresh device (and renderer)
 * over the same RAM and driver, with held chains rebuilt from the restored descriptor table.
 */
import { GpuDriver, GuestRam, type RamRegionSpec } from '@virtio-gpu/guest';
import { SplitQueue } from '@virtio-gpu/virtqueue';
import type { HostVisibleRegion } from './blob.js';
import { type InterruptCause, VirtioGpuDevice, type VirtioGpuDeviceOptions } from './device.js';
import type { Renderer } from './renderer.js';
import type { ScanoutSink } from './scanouts.js';
import type { DeviceSnapshot } from './snapshot.js';

/** Options of {@link createInProcessGpu}. */
export interface InProcessGpuOptions extends Partial<Omit<VirtioGpuDeviceOptions, 'memory' | 'onInterrupt'>> {
  /** Guest RAM regions; default one region of `ramBytes` at 1 GiB (not 0, so gpa/offset mix-ups show). */
  regions?: RamRegionSpec[];
  /** Bytes of the default single region. Default 256 MiB. */
  ramBytes?: number;
  /** Guest RAM in SharedArrayBuffers (a renderer that maps guest memory needs memory that cannot move). */
  sharedRam?: boolean;
  /** Descriptors per queue. Default 256. */
  queueSize?: number;
  /** Negotiate VIRTIO_F_EVENT_IDX on the rings. Default true. */
  eventIdx?: boolean;
  /** Features the driver accepts. Default: everything the device offers. */
  features?: bigint;
  /** Sees every interrupt the current device raises, before the driver's handler runs. */
  onInterrupt?: (cause: InterruptCause, queueIndex?: number) => void;
}

/** What a VMM saves: the device snapshot, guest RAM region by region, the queues' indexes. */
export interface InProcessSnapshot {
  device: DeviceSnapshot;
  ram: Uint8Array[];
  queueIndexes: { lastAvailIdx: number; usedIdx: number }[];
}

/** What the restored device gets that the first one had too: like a VMM on a new host, new objects. */
export interface RestoreInto {
  /** Its renderer (one of the snapshot's renderer type); default a new Renderer2D. */
  renderer?: Renderer;
  /** Its host-visible region; default the one first configured. */
  hostVisible?: HostVisibleRegion;
  /** Its display sink; default none. */
  sink?: ScanoutSink;
  /** Called with the new device before the snapshot is loaded into it (a display's setSource). */
  attach?: (device: VirtioGpuDevice) => void;
}

/** Guest RAM at 1 GiB: the default first region. */
export const IN_PROCESS_RAM_BASE = 0x4000_0000;

/** A device, its queues and a guest driver in front of them. */
export class InProcessGpu {
  /** Guest RAM, shared by driver and device. */
  readonly ram: GuestRam;
  /** The guest's driver. */
  readonly driver: GpuDriver;
  /** The RAM regions, for saving and restoring guest memory. */
  readonly regions: readonly RamRegionSpec[];
  private current: { device: VirtioGpuDevice; queues: [SplitQueue, SplitQueue] };
  private options: InProcessGpuOptions;

  constructor(opts: InProcessGpuOptions = {}) {
    this.options = opts;
    this.regions = opts.regions ?? [{ gpa: IN_PROCESS_RAM_BASE, bytes: opts.ramBytes ?? 256 << 20 }];
    this.ram = new GuestRam({ regions: [...this.regions], shared: opts.sharedRam ?? false });
    // Kicks go to whichever device is current, so a restore can swap the device under the driver.
    const notify = (q: number): void => {
      if (q === 0 || q === 1) this.device.notify(q);
    };
    this.driver = new GpuDriver({ ram: this.ram, transport: { notify }, queueSize: opts.queueSize ?? 256, eventIdx: opts.eventIdx });
    this.current = this.build(opts, undefined);
    this.device.negotiate(opts.features ?? this.device.features);
  }

  /** The device the driver talks to now. */
  get device(): VirtioGpuDevice {
    return this.current.device;
  }

  /** The device's control and cursor queues over the driver's rings. */
  get queues(): readonly [SplitQueue, SplitQueue] {
    return this.current.queues;
  }

  /** Saves the device (structured-cloned, as it would cross a process boundary), RAM and queue indexes. */
  save(): InProcessSnapshot {
    return {
      device: structuredClone(this.device.snapshot()),
      ram: this.regions.map((r) => this.ram.bytes(r.gpa, r.bytes).slice()),
      queueIndexes: this.queues.map((q) => ({ lastAvailIdx: q.lastAvailIdx, usedIdx: q.usedIdx })),
    };
  }

  /**
   * Restores `saved` the way a VMM on a new host would: guest RAM is loaded from the saved copy, a
   * fresh device with `into`'s renderer, region and sink and fresh queues at the saved indexes are
   * built over it, and the snapshot is restored with
   * held chains rebuilt from the restored descriptor table (SplitQueue.rebuildChain). The old
   * device no longer reaches the guest. Returns the new device.
   */
  restore(saved: InProcessSnapshot, into: RestoreInto = {}): VirtioGpuDevice {
    this.regions.forEach((r, i) => this.ram.write(r.gpa, saved.ram[i]));
    this.options = { ...this.options, renderer: into.renderer, sink: into.sink, hostVisible: into.hostVisible ?? this.options.hostVisible };
    this.current = this.build(this.options, saved.queueIndexes);
    into.attach?.(this.device);
    const queues = this.current.queues;
    this.device.restore(saved.device, { chainFor: (qi, head) => queues[qi].rebuildChain(head) });
    return this.device;
  }

  private build(o: InProcessGpuOptions, queueIndexes: InProcessSnapshot['queueIndexes'] | undefined): InProcessGpu['current'] {
    const device: VirtioGpuDevice = new VirtioGpuDevice({
      ...o,
      memory: this.ram.memory,
      onInterrupt: (cause, queueIndex) => {
        if (this.device !== device) return; // a replaced device no longer reaches the guest
        o.onInterrupt?.(cause, queueIndex);
        this.driver.interrupt();
      },
    });
    const queues: [SplitQueue, SplitQueue] = [this.queue(0, queueIndexes), this.queue(1, queueIndexes)];
    device.attachQueues(queues[0], queues[1]);
    return { device, queues };
  }

  private queue(i: 0 | 1, queueIndexes: InProcessSnapshot['queueIndexes'] | undefined): SplitQueue {
    const q = new SplitQueue(this.ram.memory, this.driver.queueLayout(i));
    const ix = queueIndexes?.[i];
    if (ix) q.restoreIndexes(ix.lastAvailIdx, ix.usedIdx);
    return q;
  }
}

/** A device and a guest driver wired in one process (see the module comment). */
export function createInProcessGpu(opts: InProcessGpuOptions = {}): InProcessGpu {
  return new InProcessGpu(opts);
}
