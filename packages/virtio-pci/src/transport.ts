/**
 * A virtio-pci function (virtio 1.2 §4.1, modern interface only) around a {@link VirtioBackend}:
 * the host emulator forwards configuration-space and BAR accesses and the function answers them,
 * negotiates features, builds the queues, and raises INTx or MSI-X interrupts through the host.
 * Every driver access is answered, whatever its width or value: bad ones get the behaviour the
 * spec prescribes (FEATURES_OK refused, DEVICE_NEEDS_RESET, NO_VECTOR, ignored writes), never an
 * exception into the emulator.
 */
import type { GuestMemory, PackedQueue, SplitQueue, Virtqueue } from '@virtio-gpu/virtqueue';
import type { VirtioBackend } from './backend.js';
import { type BarKind, type BarLayout, inRegion, layoutBar } from './bar-layout.js';
import { CommonRegisters } from './common-registers.js';
import {
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_VERSION_1,
  VIRTIO_MSI_NO_VECTOR,
  VIRTIO_PCI_DEVICE_ID_BASE,
  VIRTIO_PCI_ISR_CONFIG,
  VIRTIO_PCI_ISR_QUEUE,
  VIRTIO_PCI_REVISION,
  VIRTIO_PCI_SUBSYSTEM_ID,
  VIRTIO_PCI_VENDOR_ID,
} from './constants.js';
import { MsixTable } from './msix.js';
import { PciConfigSpace, type PciIdentity } from './pci-config.js';
import { DisabledQueue, type QueuePosition, queuePosition, restorePosition } from './queue-registers.js';
import type { TransportSnapshot } from './snapshot.js';

/** The emulator side: interrupt lines and logging. */
export interface PciHost {
  /** Drive INTA# (level-triggered): true asserts, false deasserts. Called on changes only. */
  setIntx(asserted: boolean): void;
  /** Deliver an MSI message. When given (and the BAR is memory), the function offers MSI-X. */
  sendMsi?(addressLo: number, addressHi: number, data: number): void;
  /** Diagnostics; driver mistakes are logged at most a few times a second. */
  log?(level: 'info' | 'warn' | 'error', message: string): void;
}

/** Options of {@link VirtioPciFunction}. */
export interface VirtioPciOptions {
  backend: VirtioBackend;
  /** Guest memory the rings live in. */
  memory: GuestMemory;
  host: PciHost;
  /** The BAR holding every structure: kind and register index. Default I/O at index 0. */
  bar?: { kind: BarKind; index?: number };
  /** Largest queue size offered (queue_size after reset). Default 256. */
  queueMaxSize?: number;
  /** Offer VIRTIO_F_RING_PACKED / EVENT_IDX / INDIRECT_DESC (default all true). */
  ringPacked?: boolean;
  eventIdx?: boolean;
  indirectDesc?: boolean;
  /** MSI-X vectors (default numQueues + 1 when the host can send MSIs and the BAR is memory). */
  msixVectors?: number;
  /** Header identity; defaults: virtio vendor, 0x1040 + device id, class 0x038000. */
  identity?: Partial<PciIdentity>;
}

const bit = (n: number): bigint => 1n << BigInt(n);

/** One virtio-pci function. */
export class VirtioPciFunction {
  readonly backend: VirtioBackend;
  readonly layout: BarLayout;
  readonly config: PciConfigSpace;
  /** Features offered: the backend's plus the transport's (§6). */
  readonly offeredFeatures: bigint;
  readonly msix: MsixTable | null;
  private readonly host: PciHost;
  readonly common: CommonRegisters;
  private isr = 0;
  private intx = false;
  /** Queue objects handed to the backend at DRIVER_OK, by index (null: disabled). */
  private live: (SplitQueue | PackedQueue | null)[] = [];
  /** Kicks that arrived while the device could not run them (bus mastering off). */
  private readonly pendingKicks = new Set<number>();
  private logBudget = 20;

  constructor(opts: VirtioPciOptions) {
    this.backend = opts.backend;
    this.host = opts.host;
    const kind = opts.bar?.kind ?? 'io';
    const canMsi = opts.host.sendMsi !== undefined && kind !== 'io';
    const vectors = opts.msixVectors ?? (canMsi ? opts.backend.numQueues + 1 : 0);
    if (vectors > 0 && !canMsi) throw new RangeError('MSI-X needs host.sendMsi and a memory BAR');
    this.layout = layoutBar({ kind, index: opts.bar?.index ?? 0, numQueues: opts.backend.numQueues, deviceConfigSize: opts.backend.configSize, msixVectors: vectors });
    this.msix = vectors > 0 ? new MsixTable(vectors, (lo, hi, d) => opts.host.sendMsi!(lo, hi, d)) : null;
    let f = opts.backend.features | bit(VIRTIO_F_VERSION_1);
    if (opts.ringPacked ?? true) f |= bit(VIRTIO_F_RING_PACKED);
    if (opts.eventIdx ?? true) f |= bit(VIRTIO_F_EVENT_IDX);
    if (opts.indirectDesc ?? true) f |= bit(VIRTIO_F_INDIRECT_DESC);
    this.offeredFeatures = f;
    const id: PciIdentity = {
      vendorId: VIRTIO_PCI_VENDOR_ID,
      deviceId: VIRTIO_PCI_DEVICE_ID_BASE + opts.backend.deviceId,
      subsystemVendorId: VIRTIO_PCI_VENDOR_ID,
      subsystemId: VIRTIO_PCI_SUBSYSTEM_ID,
      revisionId: VIRTIO_PCI_REVISION,
      classCode: 0x038000,
      ...opts.identity,
    };
    this.config = new PciConfigSpace(id, this.layout, {
      cfgWindowRead: (b, o, l) => (b === this.layout.index ? this.accessRead(o, l) : 0),
      cfgWindowWrite: (b, o, l, v) => {
        if (b === this.layout.index) this.accessWrite(o, l, v);
      },
      controlChanged: () => this.controlChanged(),
    });
    this.common = new CommonRegisters({
      numQueues: opts.backend.numQueues,
      queueMaxSize: opts.queueMaxSize ?? 256,
      offered: f,
      msixVectors: vectors,
      memory: opts.memory,
      backend: opts.backend,
      events: {
        warn: (m) => this.warn(m),
        reset: () => this.deviceReset(),
        driverOk: () => this.start(),
        queueEnabledLate: () => this.start(),
        needsReset: () => this.needsReset(),
      },
    });
  }

  // ---- host-facing accessors -----------------------------------------------------------------

  /** Read `size` (1, 2, 4) bytes of PCI configuration space. */
  configRead(offset: number, size: number): number {
    return this.config.read(offset, size);
  }

  /** Write PCI configuration space. */
  configWrite(offset: number, size: number, value: number): void {
    this.config.write(offset, size, value);
  }

  /**
   * Read `size` bytes at `offset` of the BAR. With its address space disabled in the command
   * register the function does not decode the access: all ones, as for no device.
   */
  barRead(offset: number, size: number): number {
    if (!this.decoding()) return size === 4 ? 0xffff_ffff : size === 2 ? 0xffff : 0xff;
    return this.accessRead(offset, size);
  }

  /** Write `size` bytes of `value` at `offset` of the BAR (ignored while not decoding). */
  barWrite(offset: number, size: number, value: number): void {
    if (!this.decoding()) return;
    this.accessWrite(offset, size, value);
  }

  /** The device raised an interrupt (wire the backend's callback here). */
  interrupt(cause: 'queue' | 'config', queueIndex = 0): void {
    const c = this.common;
    if (cause === 'config') {
      c.configGeneration = (c.configGeneration + 1) & 0xff;
      if (this.backend.needsReset) c.status |= VIRTIO_CONFIG_S_NEEDS_RESET;
    }
    // §2.1.2: no notifications before DRIVER_OK (the driver reads config when it gets there).
    if ((c.status & VIRTIO_CONFIG_S_DRIVER_OK) === 0) return;
    if (this.msixEnabled()) {
      const v = cause === 'config' ? c.configMsixVector : c.queues[queueIndex]?.msixVector ?? VIRTIO_MSI_NO_VECTOR;
      // §4.1.5.1.2.1: an event mapped to NO_VECTOR is not delivered.
      if (v !== VIRTIO_MSI_NO_VECTOR) this.msix!.fire(v, this.msixFunctionMasked());
      return;
    }
    this.isr |= cause === 'config' ? VIRTIO_PCI_ISR_CONFIG : VIRTIO_PCI_ISR_QUEUE;
    this.updateIntx();
  }

  /** Current ISR bits (without the read side effect), for tests and snapshots. */
  get isrStatus(): number {
    return this.isr;
  }

  /** Whether INTA# is asserted. */
  get intxAsserted(): boolean {
    return this.intx;
  }

  /** Device status byte. */
  get status(): number {
    return this.common.status;
  }

  /** The queue objects the backend runs (after DRIVER_OK), by index; null for disabled ones. */
  get queues(): readonly (SplitQueue | PackedQueue | null)[] {
    return this.live;
  }

  // ---- BAR decoding ------------------------------------------------------------------------

  private decoding(): boolean {
    const cmd = this.config.command;
    return (cmd & (this.layout.kind === 'io' ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) !== 0;
  }

  private accessRead(offset: number, size: number): number {
    const l = this.layout;
    if (!(size === 1 || size === 2 || size === 4) || !Number.isInteger(offset) || offset < 0) return 0;
    if (inRegion(l.common, offset)) return this.common.read(offset - l.common.offset, size);
    if (inRegion(l.isr, offset)) {
      // §4.1.4.5.1: reading ISR status resets it to 0 (and so deasserts INTx).
      const v = this.isr;
      this.isr = 0;
      this.updateIntx();
      return v;
    }
    if (inRegion(l.device, offset)) return this.backend.readConfig(offset - l.device.offset, size);
    if (inRegion(l.msixTable, offset)) return this.msix!.readTable(offset - l.msixTable.offset, size);
    if (inRegion(l.msixPba, offset)) return this.msix!.readPba(offset - l.msixPba.offset, size);
    return 0; // notify region and holes read 0
  }

  private accessWrite(offset: number, size: number, value: number): void {
    const l = this.layout;
    if (!(size === 1 || size === 2 || size === 4) || !Number.isInteger(offset) || offset < 0) return;
    if (inRegion(l.common, offset)) this.common.write(offset - l.common.offset, size, value >>> 0);
    else if (inRegion(l.notify, offset)) this.kick(offset - l.notify.offset);
    else if (inRegion(l.device, offset)) this.backend.writeConfig(offset - l.device.offset, size, value >>> 0);
    else if (inRegion(l.msixTable, offset)) this.msix!.writeTable(offset - l.msixTable.offset, size, value, this.msixFunctionMasked());
    // ISR, PBA and holes are read-only: writes are ignored.
  }

  // ---- notifications -----------------------------------------------------------------------

  /** A write to the notification area at `off`: the queue is the address's (§4.1.4.4). */
  private kick(off: number): void {
    if (off % this.layout.notifyOffMultiplier !== 0) return;
    const q = off / this.layout.notifyOffMultiplier;
    if (q >= this.backend.numQueues) return;
    const c = this.common;
    if ((c.status & VIRTIO_CONFIG_S_DRIVER_OK) === 0 || (c.status & VIRTIO_CONFIG_S_NEEDS_RESET) !== 0) return;
    if (!c.queues[q].enabled) return;
    if ((this.config.command & PCI_COMMAND_MASTER) === 0) {
      // No DMA without bus mastering: run the kick once the driver enables it.
      this.pendingKicks.add(q);
      return;
    }
    this.backend.notify(q);
    if (this.backend.needsReset && (c.status & VIRTIO_CONFIG_S_NEEDS_RESET) === 0) this.interrupt('config');
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** DRIVER_OK, or a queue enabled after it: hand the enabled queues to the backend. */
  private start(): void {
    const c = this.common;
    const mem = c.memory;
    const qs: Virtqueue[] = [];
    const live: (SplitQueue | PackedQueue | null)[] = [];
    for (let i = 0; i < c.queues.length; i++) {
      const prev = this.live[i] ?? null;
      const r = c.queues[i];
      const q = r.enabled ? prev ?? r.build(mem, c.ringMode) : null;
      live.push(q);
    }
    this.live = live;
    for (const q of live) qs.push(q ?? DISABLED);
    this.backend.activate(qs);
    for (const q of [...this.pendingKicks]) {
      this.pendingKicks.delete(q);
      this.kick(q * this.layout.notifyOffMultiplier);
    }
  }

  private needsReset(): void {
    const c = this.common;
    if ((c.status & VIRTIO_CONFIG_S_NEEDS_RESET) !== 0) return;
    c.status |= VIRTIO_CONFIG_S_NEEDS_RESET;
    // §2.1.2: after setting DEVICE_NEEDS_RESET with DRIVER_OK set, send a config change notification.
    this.interrupt('config');
  }

  /** Device reset from the driver (status 0) or the host: registers, queues, ISR, backend. */
  private deviceReset(): void {
    this.backend.reset();
    this.live = [];
    this.pendingKicks.clear();
    this.isr = 0;
    this.updateIntx();
  }

  /** Host-side reset of the whole function (PCI reset): config registers too. */
  resetFunction(): void {
    this.common.reset();
    this.deviceReset();
    this.msix?.reset();
    const cmd = this.config.command;
    if (cmd !== 0) this.config.write(4, 2, 0);
  }

  private controlChanged(): void {
    this.updateIntx();
    if (this.msixEnabled() && !this.msixFunctionMasked()) this.msix!.flush();
    if ((this.config.command & PCI_COMMAND_MASTER) !== 0 && this.pendingKicks.size > 0) {
      for (const q of [...this.pendingKicks]) {
        this.pendingKicks.delete(q);
        this.kick(q * this.layout.notifyOffMultiplier);
      }
    }
  }

  private msixEnabled(): boolean {
    return this.msix !== null && (this.config.msixControl & PCI_MSIX_FLAGS_ENABLE) !== 0;
  }

  private msixFunctionMasked(): boolean {
    return (this.config.msixControl & PCI_MSIX_FLAGS_MASKALL) !== 0;
  }

  /**
   * INTA# follows ISR (§4.1.4.5.1): asserted while any ISR bit is set, unless MSI-X is enabled or
   * the command register disables INTx; the status register's Interrupt Status bit mirrors ISR.
   */
  private updateIntx(): void {
    this.config.setInterruptStatus(this.isr !== 0);
    const level = this.isr !== 0 && !this.msixEnabled() && (this.config.command & PCI_COMMAND_INTX_DISABLE) === 0;
    if (level === this.intx) return;
    this.intx = level;
    this.host.setIntx(level);
  }

  private warn(message: string): void {
    if (this.logBudget <= 0) return;
    this.logBudget--;
    this.host.log?.('warn', `virtio-pci: ${message}${this.logBudget === 0 ? ' (further driver errors not logged)' : ''}`);
  }

  // ---- snapshots -----------------------------------------------------------------------------

  /** Transport state as plain data; the backend's own state is saved separately. */
  snapshot(): TransportSnapshot {
    const positions: (QueuePosition | null)[] = this.live.map((q) => (q ? queuePosition(q) : null));
    return {
      version: 1,
      config: this.config.bytes.slice(),
      common: this.common.save(),
      isr: this.isr,
      msixTable: this.msix ? this.msix.table.slice() : null,
      msixPba: this.msix ? this.msix.pba.slice() : null,
      positions,
      pendingKicks: [...this.pendingKicks],
    };
  }

  /**
   * Loads a snapshot into this function (same layout), rebuilding the live queues over the
   * current guest memory at their saved positions and handing them to the backend. Restore the
   * backend's own state afterwards. Throws on a snapshot of another layout (host error).
   */
  restore(s: TransportSnapshot): void {
    if (s.version !== 1) throw new Error(`virtio-pci snapshot version ${s.version}`);
    if ((s.msixTable === null) !== (this.msix === null)) throw new Error('virtio-pci snapshot: MSI-X presence differs');
    this.config.load(s.config);
    this.common.load(s.common);
    this.isr = s.isr;
    if (this.msix && s.msixTable && s.msixPba) {
      this.msix.table.set(s.msixTable);
      this.msix.pba.set(s.msixPba);
    }
    this.pendingKicks.clear();
    for (const q of s.pendingKicks) this.pendingKicks.add(q);
    this.rebuildQueues(s.positions);
    this.intx = !this.intx; // force the host to hear the restored level
    this.updateIntx();
  }

  /**
   * Builds new queue objects over the guest memory's current views, at the given positions (or
   * the live queues' own), and hands them to the backend. For hosts whose memory views go stale
   * (a WebAssembly memory that grew).
   */
  rebuildQueues(positions: readonly (QueuePosition | null)[] = this.live.map((q) => (q ? queuePosition(q) : null))): void {
    this.live = [];
    const c = this.common;
    if ((c.status & VIRTIO_CONFIG_S_DRIVER_OK) === 0 || (c.status & VIRTIO_CONFIG_S_NEEDS_RESET) !== 0) return;
    const live: (SplitQueue | PackedQueue | null)[] = [];
    for (let i = 0; i < c.queues.length; i++) {
      const r = c.queues[i];
      if (!r.enabled || r.check(c.memory, c.ringMode) !== null) {
        live.push(null);
        continue;
      }
      const q = r.build(c.memory, c.ringMode);
      const p = positions[i];
      if (p) restorePosition(q, p);
      live.push(q);
    }
    this.live = live;
    this.backend.activate(live.map((q) => q ?? DISABLED));
  }
}

const DISABLED: Virtqueue = new DisabledQueue();
