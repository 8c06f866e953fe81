/**
 * Puts our virtio-gpu device on a v86 instance's PCI bus as a modern virtio-pci function.
 *
 * What v86 0.5.462 offers and what this does with it (found by reading libv86-debug.mjs):
 * - PCI: `pci.register_device` copies a 256-byte config image into its own table and serves
 *   config reads from it; writes land in it byte-wise, except BARs, where an I/O BAR's port
 *   handlers move with the BAR (memory BARs cannot move). So the function uses one I/O BAR, its
 *   port handlers are registered before the device (v86 captures them at registration), and the
 *   config space is intercepted on the PCI object (`pci_query`, `pci_write8/16/32` are looked up
 *   on `this` at call time) so our model answers: BAR sizing, INTx status, the PCI-config access
 *   window. v86's own table is kept as a mirror for its BAR moves and its save_state.
 * - Interrupts: `pci.raise_irq/lower_irq(pci_id)` route INTA# through the PIIX3 PIRQ links. No MSI.
 * - Memory: see {@link V86GuestMemory}; writes are reported through `cpu.jit_dirty_cache`.
 * - save_state: `cpu.get_state()` returns a fixed array of device states and `cpu.set_state()`
 *   reads it back, both called on the instance, so wrapping them there adds a slot of ours.
 */
import { type ScanoutConfig, type ScanoutSink, VirtioGpuDevice, type VirtioGpuDeviceOptions } from '@virtio-gpu/device';
import { type VirtioBackend, VirtioPciFunction, gpuBackend, type TransportSnapshot } from '@virtio-gpu/virtio-pci';
import type { DeviceSnapshot } from '@virtio-gpu/device';
import type { Rect } from '@virtio-gpu/protocol';
import { PackedQueue, SplitQueue, type Virtqueue } from '@virtio-gpu/virtqueue';
import { V86GuestMemory } from './guest-memory.js';
import { JitReportingQueue } from './jit-queue.js';
import { decodeState, encodeState } from './state-codec.js';
import { type V86Cpu, type V86Pci, type V86PciDevice, internalsOf } from './v86-internals.js';

/** Options of {@link attachVirtioGpu}. */
export interface AttachOptions {
  /** Scanouts (default one 1024x768). */
  scanouts?: ScanoutConfig[];
  /** Where flushes go: a Display, a canvas screen, ... */
  sink?: ScanoutSink;
  /** PCI device number on bus 0 (default 0x0d; v86 leaves 0x0d and 0x0e free). */
  pciSlot?: number;
  /** I/O port the BAR starts at before the BIOS assigns one (default 0xe800). */
  ioPort?: number;
  /** Largest queue size offered (default 256). */
  queueMaxSize?: number;
  /** Offer VIRTIO_F_RING_PACKED (default true). */
  ringPacked?: boolean;
  /** Save and restore the device with v86's save_state/restore_state (default true). */
  snapshots?: boolean;
  /** Count time spent in the device's port handlers (for benchmarks; default false). */
  measure?: boolean;
  /**
   * The clock `measure` reads, in milliseconds (default performance.now). A benchmark on a
   * loaded machine passes a CPU-time clock: wall time also counts the moments the OS ran
   * another process in the middle of a handler.
   */
  clock?: () => number;
  /** More device options (renderer, limits, ...). */
  device?: Partial<Omit<VirtioGpuDeviceOptions, 'memory' | 'onInterrupt' | 'sink' | 'scanouts'>>;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** Counters of one attached device. */
export interface AttachStats {
  /** Port accesses served. */
  ioAccesses: number;
  /** Milliseconds spent inside the port handlers (with `measure`, by its `clock`). */
  deviceMs: number;
  /** INTx assertions. */
  irqs: number;
  /** Times the wasm memory grew and the views were rebuilt. */
  memoryRebuilds: number;
  /** Ranges reported to v86's JIT as written by the device (`jit_dirty_cache` calls). */
  jitDirtyCalls: number;
  /** Milliseconds of those calls (with `measure`; part of {@link deviceMs}). */
  jitDirtyMs: number;
}

/** A device attached to a v86 instance. */
export interface V86VirtioGpu {
  readonly device: VirtioGpuDevice;
  readonly pci: VirtioPciFunction;
  readonly memory: V86GuestMemory;
  /** v86's pci_id (device << 3). */
  readonly pciId: number;
  readonly stats: AttachStats;
  /** Rebuilds every view if v86's memory grew (done on each port access anyway). */
  refresh(): void;
  /**
   * The device's readScanout after a {@link refresh}: the 2D renderer reads scanouts from the
   * guest's backing pages, whose views go stale when v86's memory grows between port accesses.
   * Displays and screens read through this, not through `device` directly. `format` and
   * `opaque` as for the device's readScanout.
   */
  readScanout(scanoutId: number, rect: Rect, dst: Uint8Array, dstStrideBytes: number, format?: number, opaque?: boolean): boolean;
  /** Stops answering (ports read as absent), restores v86's methods, lowers the IRQ. */
  detach(): void;
}

/** Index in v86's state array that carries ours (v86 0.5.462 uses 0..91). */
export const STATE_SLOT = 120;

/** A state object v86's save_object accepts (it wants get_state, and no plain Object). */
class StateBlock {
  constructor(private readonly bytes: Uint8Array) {}
  get_state(): unknown[] {
    return [this.bytes];
  }
}

/** Attaches a new virtio-gpu device to `emulator` (call on "emulator-loaded", before `run()`). */
export function attachVirtioGpu(emulator: unknown, opts: AttachOptions = {}): V86VirtioGpu {
  const cpu = internalsOf(emulator);
  const pciBus = cpu.devices.pci;
  const slot = opts.pciSlot ?? 0x0d;
  const pciId = slot << 3;
  if (slot < 1 || slot > 31 || pciBus.devices[pciId]) throw new Error(`@virtio-gpu/v86: PCI slot 0x${slot.toString(16)} is taken or invalid`);
  const log = opts.log ?? (() => {});
  const memory = new V86GuestMemory(cpu);
  const stats: AttachStats = { ioAccesses: 0, deviceMs: 0, irqs: 0, memoryRebuilds: 0, jitDirtyCalls: 0, jitDirtyMs: 0 };
  const measure = opts.measure === true;
  const clock = opts.clock ?? (() => performance.now());
  let fn: VirtioPciFunction | null = null;
  let active = true;
  const device = new VirtioGpuDevice({
    ...opts.device,
    memory,
    scanouts: opts.scanouts ?? [{ width: 1024, height: 768 }],
    sink: opts.sink,
    log: (level, m) => log(level === 'error' ? 'error' : level === 'warn' ? 'warn' : 'info', m),
    onInterrupt: (cause, q) => fn?.interrupt(cause, q ?? 0),
  });
  const dirty = (start: number, end: number) => {
    if (end <= start) return;
    stats.jitDirtyCalls++;
    if (!measure) return cpu.jit_dirty_cache(start, end);
    const t0 = clock();
    cpu.jit_dirty_cache(start, end);
    stats.jitDirtyMs += clock() - t0;
  };
  const backend = reportingBackend(gpuBackend(device), () => fn!, dirty);
  fn = new VirtioPciFunction({
    backend,
    memory,
    queueMaxSize: opts.queueMaxSize,
    ringPacked: opts.ringPacked,
    bar: { kind: 'io', index: 0 },
    host: {
      setIntx: (level) => {
        if (!active) return;
        if (level) {
          stats.irqs++;
          pciBus.raise_irq(pciId);
        } else {
          pciBus.lower_irq(pciId);
        }
      },
      log,
    },
  });
  const pci = fn;
  const barSize = pci.layout.size;
  const port = opts.ioPort ?? 0xe800;
  if (port % barSize !== 0 || port < 0x1000 || port + barSize > 0x10000) throw new Error(`@virtio-gpu/v86: I/O port 0x${port.toString(16)} must be >= 0x1000 and ${barSize}-aligned`);
  for (let p = port; p < port + barSize; p++) {
    if (cpu.io.ports[p].device !== undefined) throw new Error(`@virtio-gpu/v86: I/O port 0x${p.toString(16)} is taken`);
  }

  const refresh = () => {
    if (!memory.refresh()) return;
    stats.memoryRebuilds = memory.rebuilds;
    onMemoryRebuilt(device, pci, opts.sink, log);
  };

  // Port handlers, one per BAR byte: v86 moves these entries when the BIOS or guest moves the BAR.
  const owner = { name: 'virtio-gpu' };
  const enter = (): number => {
    stats.ioAccesses++;
    refresh();
    return measure ? clock() : 0;
  };
  const leave = (t0: number) => {
    if (measure) stats.deviceMs += clock() - t0;
  };
  for (let i = 0; i < barSize; i++) {
    const rd = (size: number) => () => {
      if (!active) return size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
      const t0 = enter();
      const v = pci.barRead(i, size);
      leave(t0);
      return size === 4 ? v | 0 : v;
    };
    const wr = (size: number) => (value: number) => {
      if (!active) return;
      const t0 = enter();
      pci.barWrite(i, size, value >>> 0);
      leave(t0);
    };
    cpu.io.register_read(port + i, owner, rd(1), rd(2), rd(4));
    cpu.io.register_write(port + i, owner, wr(1), wr(2), wr(4));
  }
  // The BAR's initial value is what v86 starts with (pci_bars' original_bar); the BIOS reassigns it.
  pci.configWrite(0x10 + 4 * pci.layout.index, 4, port);
  const bars: V86PciDevice['pci_bars'] = [];
  bars[pci.layout.index] = { size: barSize };
  const v86dev: V86PciDevice = { pci_id: pciId, pci_space: Array.from(pci.config.bytes), pci_bars: bars, name: 'virtio-gpu' };
  const space = pciBus.register_device(v86dev);
  const mirror = () => space.set(new Int32Array(pci.config.bytes.slice().buffer));
  const unhookPci = interceptConfig(pciBus, pciId, pci, mirror, () => active);
  const unhookState = opts.snapshots === false ? () => {} : hookState(cpu, device, pci, memory, mirror, opts.sink, log);

  return {
    device,
    pci,
    memory,
    pciId,
    stats,
    refresh,
    readScanout(scanoutId, rect, dst, dstStrideBytes, format, opaque) {
      refresh();
      return device.readScanout(scanoutId, rect, dst, dstStrideBytes, format, opaque);
    },
    detach() {
      if (!active) return;
      pciBus.lower_irq(pciId);
      active = false;
      unhookPci();
      unhookState();
    },
  };
}

/** The backend with each queue it gets wrapped to report device writes to v86's JIT. */
function reportingBackend(inner: VirtioBackend, pci: () => VirtioPciFunction, dirty: (s: number, e: number) => void): VirtioBackend {
  return {
    get deviceId() {
      return inner.deviceId;
    },
    get numQueues() {
      return inner.numQueues;
    },
    get features() {
      return inner.features;
    },
    get configSize() {
      return inner.configSize;
    },
    get needsReset() {
      return inner.needsReset;
    },
    negotiate: (f) => inner.negotiate(f),
    readConfig: (o, s) => inner.readConfig(o, s),
    writeConfig: (o, s, v) => inner.writeConfig(o, s, v),
    notify: (i) => inner.notify(i),
    reset: () => inner.reset(),
    activate: (queues: Virtqueue[]) => {
      const regs = pci().common.queues;
      inner.activate(
        queues.map((q, i) => {
          if (!(q instanceof SplitQueue) && !(q instanceof PackedQueue)) return q;
          const r = regs[i];
          const areas: [number, number][] =
            q instanceof SplitQueue ? [[r.address(2), 6 + 8 * r.size], [r.address(1), 6 + 2 * r.size]] : [[r.address(0), 16 * r.size], [r.address(2), 4]];
          return new JitReportingQueue(q, areas, dirty);
        }),
      );
    },
  };
}

/**
 * Routes v86's configuration cycles for our bdf to the model. v86 computes a read's answer when
 * the guest writes the address register (`pci_query`), so the answer is replaced there; writes
 * still reach v86 first (it moves the I/O BAR's ports), then the model, then the mirror.
 */
function interceptConfig(bus: V86Pci, pciId: number, pci: VirtioPciFunction, mirror: () => void, active: () => boolean): () => void {
  const query = bus.pci_query;
  const w8 = bus.pci_write8;
  const w16 = bus.pci_write16;
  const w32 = bus.pci_write32;
  bus.pci_query = function (this: V86Pci) {
    query.call(this);
    const bdf = (this.pci_addr[2] << 8) | this.pci_addr[1];
    if (bdf !== pciId || !active()) return;
    this.pci_response32[0] = pci.configRead(this.pci_addr[0] & 0xfc, 4) | 0;
    this.pci_status32[0] = -0x8000_0000;
  };
  const wrap = (orig: (a: number, v: number) => void, size: number) =>
    function (this: V86Pci, address: number, value: number) {
      orig.call(this, address, value);
      if (((address >> 8) & 0xffff) !== pciId || !active()) return;
      pci.configWrite(address & 0xff, size, value >>> 0);
      mirror();
    };
  bus.pci_write8 = wrap(w8, 1);
  bus.pci_write16 = wrap(w16, 2);
  bus.pci_write32 = wrap(w32, 4);
  return () => {
    bus.pci_query = query;
    bus.pci_write8 = w8;
    bus.pci_write16 = w16;
    bus.pci_write32 = w32;
  };
}

/** Our slot in v86's save_state / restore_state. */
function hookState(
  cpu: V86Cpu,
  device: VirtioGpuDevice,
  pci: VirtioPciFunction,
  memory: V86GuestMemory,
  mirror: () => void,
  sink: ScanoutSink | undefined,
  log: NonNullable<AttachOptions['log']>,
): () => void {
  const get = cpu.get_state;
  const set = cpu.set_state;
  cpu.get_state = function (this: V86Cpu) {
    const state = get.call(this);
    state[STATE_SLOT] = new StateBlock(encodeState({ transport: pci.snapshot(), device: device.snapshot() }));
    return state;
  };
  cpu.set_state = function (this: V86Cpu, state: unknown[]) {
    set.call(this, state);
    const saved = state[STATE_SLOT] as unknown[] | undefined;
    if (!Array.isArray(saved) || !(saved[0] instanceof Uint8Array)) {
      log('warn', 'virtio-gpu: the restored v86 state has no virtio-gpu block; device left as it was');
      return;
    }
    try {
      // The restored guest RAM may sit in a grown wasm memory: fresh views before rebuilding queues.
      memory.refresh();
      const { transport, device: dev } = decodeState(saved[0]) as { transport: TransportSnapshot; device: DeviceSnapshot };
      pci.restore(transport);
      device.restore(dev, { chainFor: (q, head) => chainOf(pci, q, head) });
      mirror();
      redraw(device, sink);
    } catch (e) {
      // A state file from another configuration is the host's problem: report it, keep v86 running.
      log('error', `virtio-gpu: could not restore the device from the v86 state: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  return () => {
    cpu.get_state = get;
    cpu.set_state = set;
  };
}

function chainOf(pci: VirtioPciFunction, q: number, head: number) {
  const queue = pci.queues[q];
  return queue instanceof SplitQueue ? queue.rebuildChain(head) : null;
}

/** Everything that held views of the old wasm buffer: the queues and the resources' backing. */
function onMemoryRebuilt(device: VirtioGpuDevice, pci: VirtioPciFunction, sink: ScanoutSink | undefined, log: NonNullable<AttachOptions['log']>): void {
  log('info', 'virtio-gpu: v86 memory grew; rebuilding queue and backing views');
  const snap = device.snapshot();
  pci.rebuildQueues();
  // restore() re-resolves every backing through the (rebuilt) guest memory and answers held
  // commands through chains rebuilt from the new queues.
  device.restore(snap, { chainFor: (q, head) => chainOf(pci, q, head) });
  redraw(device, sink);
}

/** After a restore the sink saw the scanouts come back but no pixels: flush them whole. */
function redraw(device: VirtioGpuDevice, sink: ScanoutSink | undefined): void {
  if (!sink) return;
  for (let i = 0; i < device.numScanouts; i++) {
    const sc = device.scanout(i);
    if (sc && sc.resourceId !== 0) sink.flushed(i, { x: 0, y: 0, width: sc.r.width, height: sc.r.height });
  }
}
