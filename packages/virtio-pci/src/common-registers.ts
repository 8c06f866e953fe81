/**
 * struct virtio_pci_common_cfg (virtio 1.2 §4.1.4.3) as registers: feature windows, device status
 * with the initialization order of §3.1, queue selection and per-queue setup. Reads of any width
 * are answered from the register bytes; writes must be the natural width of a field (§4.1.3.1),
 * else they are ignored. Each driver mistake gets the spec's device-side answer, named where it
 * happens.
 */
import type { GuestMemory } from '@virtio-gpu/virtqueue';
import type { VirtioBackend } from './backend.js';
import {
  CommonCfg,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_VERSION_1,
  VIRTIO_MSI_NO_VECTOR,
} from './constants.js';
import { QueueRegisters, type RingMode } from './queue-registers.js';

/** What the registers tell the function. */
export interface CommonEvents {
  warn(message: string): void;
  /** Status 0 was written: reset the device (the registers already are). */
  reset(): void;
  /** DRIVER_OK was set with a valid setup. */
  driverOk(): void;
  /** A queue was enabled after DRIVER_OK. */
  queueEnabledLate(): void;
  /** The driver broke the protocol in a way only a reset recovers from. */
  needsReset(): void;
}

/** Construction parameters. */
export interface CommonOptions {
  numQueues: number;
  queueMaxSize: number;
  offered: bigint;
  msixVectors: number;
  memory: GuestMemory;
  backend: VirtioBackend;
  events: CommonEvents;
}

/** Saved register state (see {@link CommonRegisters.save}). */
export interface CommonSnapshot {
  deviceFeatureSelect: number;
  driverFeatureSelect: number;
  driverFeatures: bigint;
  status: number;
  configGeneration: number;
  configMsixVector: number;
  queueSelect: number;
  queues: { size: number; msixVector: number; enabled: boolean; addr: number[] }[];
}

const bit = (n: number): bigint => 1n << BigInt(n);
const WORD = 0xffff_ffffn;

/** The common configuration registers of one function. */
export class CommonRegisters {
  deviceFeatureSelect = 0;
  driverFeatureSelect = 0;
  /** What the driver wrote to driver_feature, all words (bits past 63 included). */
  driverFeatures = 0n;
  status = 0;
  configGeneration = 0;
  configMsixVector = VIRTIO_MSI_NO_VECTOR;
  queueSelect = 0;
  readonly queues: QueueRegisters[] = [];
  /** Ring layout fixed at FEATURES_OK. */
  ringMode: RingMode = { packed: false, eventIdx: false };
  readonly memory: GuestMemory;
  private readonly o: CommonOptions;

  constructor(o: CommonOptions) {
    this.o = o;
    this.memory = o.memory;
    if (!Number.isInteger(o.queueMaxSize) || o.queueMaxSize < 1 || o.queueMaxSize > 32768 || (o.queueMaxSize & (o.queueMaxSize - 1)) !== 0) {
      throw new RangeError(`queueMaxSize ${o.queueMaxSize}: a power of 2 in [1, 32768]`);
    }
    for (let i = 0; i < o.numQueues; i++) this.queues.push(new QueueRegisters(o.queueMaxSize));
  }

  private get selected(): QueueRegisters | undefined {
    return this.queues[this.queueSelect];
  }

  /** Registers back to their reset values (§4.1.4.3.1, §2.4). */
  reset(): void {
    this.deviceFeatureSelect = 0;
    this.driverFeatureSelect = 0;
    this.driverFeatures = 0n;
    this.status = 0;
    this.configMsixVector = VIRTIO_MSI_NO_VECTOR;
    this.queueSelect = 0;
    this.ringMode = { packed: false, eventIdx: false };
    for (const q of this.queues) q.reset();
  }

  /** The value of the field starting at `off` (a field offset of CommonCfg). */
  private field(off: number): number {
    const q = this.selected;
    switch (off) {
      case CommonCfg.deviceFeatureSelect:
        return this.deviceFeatureSelect;
      case CommonCfg.deviceFeature:
        return Number((this.o.offered >> BigInt(32 * Math.min(this.deviceFeatureSelect, 8))) & WORD);
      case CommonCfg.driverFeatureSelect:
        return this.driverFeatureSelect;
      case CommonCfg.driverFeature:
        return Number((this.driverFeatures >> BigInt(32 * Math.min(this.driverFeatureSelect, 8))) & WORD);
      case CommonCfg.configMsixVector:
        return this.configMsixVector;
      case CommonCfg.numQueues:
        return this.queues.length;
      case CommonCfg.deviceStatus:
        return this.status;
      case CommonCfg.configGeneration:
        return this.configGeneration;
      case CommonCfg.queueSelect:
        return this.queueSelect;
      // §4.1.4.3.1: a queue_select with no queue behind it shows queue_size 0.
      case CommonCfg.queueSize:
        return q ? q.size : 0;
      case CommonCfg.queueMsixVector:
        return q ? q.msixVector : VIRTIO_MSI_NO_VECTOR;
      case CommonCfg.queueEnable:
        return q?.enabled ? 1 : 0;
      case CommonCfg.queueNotifyOff:
        return q ? this.queueSelect : 0;
      case CommonCfg.queueDesc:
      case CommonCfg.queueDesc + 4:
      case CommonCfg.queueDriver:
      case CommonCfg.queueDriver + 4:
      case CommonCfg.queueDevice:
      case CommonCfg.queueDevice + 4:
        return q ? q.addr[(off - CommonCfg.queueDesc) / 4] : 0;
      default:
        return 0; // queue_notify_data and queue_reset: features not offered
    }
  }

  /** Field start and width for a byte offset, from the struct's layout. */
  private static readonly FIELDS: readonly [number, number][] = [
    [0x00, 4], [0x04, 4], [0x08, 4], [0x0c, 4], [0x10, 2], [0x12, 2], [0x14, 1], [0x15, 1], [0x16, 2], [0x18, 2], [0x1a, 2],
    [0x1c, 2], [0x1e, 2], [0x20, 4], [0x24, 4], [0x28, 4], [0x2c, 4], [0x30, 4], [0x34, 4], [0x38, 2], [0x3a, 2],
  ];

  private static fieldAt(off: number): [number, number] | undefined {
    for (const f of CommonRegisters.FIELDS) if (off >= f[0] && off < f[0] + f[1]) return f;
    return undefined;
  }

  /** Reads `size` bytes at `off`, assembled from the fields the bytes belong to. */
  read(off: number, size: number): number {
    const f = CommonRegisters.fieldAt(off);
    if (f && f[0] === off && f[1] === size) return this.field(off) >>> 0;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) {
      const g = CommonRegisters.fieldAt(off + i);
      const byte = g ? (this.field(g[0]) >>> (8 * (off + i - g[0]))) & 0xff : 0;
      v = v * 256 + byte;
    }
    return v >>> 0;
  }

  /** Writes one field; anything but a natural-width access to a writable field is ignored. */
  write(off: number, size: number, value: number): void {
    const f = CommonRegisters.fieldAt(off);
    if (!f || f[0] !== off || f[1] !== size) {
      // §4.1.3.1: the driver MUST use the field's natural width.
      this.o.events.warn(`common cfg write of ${size} bytes at 0x${off.toString(16)} is not a field's natural access; ignored`);
      return;
    }
    switch (off) {
      case CommonCfg.deviceFeatureSelect:
        this.deviceFeatureSelect = value;
        return;
      case CommonCfg.driverFeatureSelect:
        this.driverFeatureSelect = value;
        return;
      case CommonCfg.driverFeature:
        this.writeDriverFeature(value);
        return;
      case CommonCfg.configMsixVector:
        this.configMsixVector = this.mapVector(value);
        return;
      case CommonCfg.deviceStatus:
        this.writeStatus(value & 0xff);
        return;
      case CommonCfg.queueSelect:
        this.queueSelect = value & 0xffff;
        return;
      case CommonCfg.queueSize:
        this.writeQueueSize(value & 0xffff);
        return;
      case CommonCfg.queueMsixVector:
        if (this.selected) this.selected.msixVector = this.mapVector(value & 0xffff);
        return;
      case CommonCfg.queueEnable:
        this.writeQueueEnable(value & 0xffff);
        return;
      case CommonCfg.queueDesc:
      case CommonCfg.queueDesc + 4:
      case CommonCfg.queueDriver:
      case CommonCfg.queueDriver + 4:
      case CommonCfg.queueDevice:
      case CommonCfg.queueDevice + 4: {
        const q = this.selected;
        if (!q) return;
        // §4.1.4.3.2: the driver configures a queue before enabling it; later writes are ignored.
        if (q.enabled) return this.o.events.warn(`queue ${this.queueSelect} address written while enabled; ignored`);
        q.addr[(off - CommonCfg.queueDesc) / 4] = value;
        return;
      }
      default:
        // device_feature, num_queues, config_generation, queue_notify_off, queue_notify_data are
        // read-only (§4.1.4.3.2); queue_reset needs VIRTIO_F_RING_RESET, which is not offered.
        this.o.events.warn(`write to read-only common cfg field at 0x${off.toString(16)}; ignored`);
    }
  }

  /** §4.1.5.1.2: a vector that does not exist cannot be mapped: the field reads NO_VECTOR. */
  private mapVector(v: number): number {
    return v < this.o.msixVectors ? v : VIRTIO_MSI_NO_VECTOR;
  }

  private writeDriverFeature(value: number): void {
    if ((this.status & VIRTIO_CONFIG_S_FEATURES_OK) !== 0) {
      // §3.1.1: features are fixed once FEATURES_OK is set.
      return this.o.events.warn('driver_feature written after FEATURES_OK; ignored');
    }
    const shift = BigInt(32 * this.driverFeatureSelect);
    this.driverFeatures = (this.driverFeatures & ~(WORD << shift)) | (BigInt(value >>> 0) << shift);
  }

  private writeStatus(v: number): void {
    if (v === 0) {
      // §4.1.4.3.1: 0 resets the device; device_status reads 0 once that is done (at once here).
      this.reset();
      this.o.events.reset();
      return;
    }
    const old = this.status;
    // DEVICE_NEEDS_RESET is the device's to set (§2.1); a driver MUST NOT clear bits (§2.1.1):
    // both are kept as the device has them.
    if ((old & ~v & ~VIRTIO_CONFIG_S_NEEDS_RESET) !== 0) this.o.events.warn(`device_status 0x${v.toString(16)} clears bits of 0x${old.toString(16)}; they stay set`);
    let next = old | (v & ~VIRTIO_CONFIG_S_NEEDS_RESET);
    if ((next & ~old & VIRTIO_CONFIG_S_FEATURES_OK) !== 0 && !this.acceptFeatures()) {
      // §2.2.2: a feature set the device cannot accept leaves FEATURES_OK clear; the driver reads it back.
      next &= ~VIRTIO_CONFIG_S_FEATURES_OK;
    }
    this.status = next;
    if ((next & ~old & VIRTIO_CONFIG_S_DRIVER_OK) !== 0) {
      if ((next & VIRTIO_CONFIG_S_FEATURES_OK) === 0) {
        // §3.1.1 step order: DRIVER_OK without FEATURES_OK leaves the device unusable.
        this.o.events.warn('DRIVER_OK without FEATURES_OK');
        this.o.events.needsReset();
        return;
      }
      if ((next & VIRTIO_CONFIG_S_NEEDS_RESET) === 0) this.o.events.driverOk();
    }
  }

  /** FEATURES_OK: accept the driver's features if they are a valid subset of the offer. */
  private acceptFeatures(): boolean {
    const f = this.driverFeatures;
    if ((f & ~this.o.offered) !== 0n) {
      this.o.events.warn(`driver accepted features not offered: 0x${(f & ~this.o.offered).toString(16)}`);
      return false; // §2.2.1: the driver MUST NOT accept a feature the device did not offer
    }
    if ((f & bit(VIRTIO_F_VERSION_1)) === 0n) {
      this.o.events.warn('driver did not accept VIRTIO_F_VERSION_1');
      return false; // §6.2: a modern-only device MAY fail to operate without VERSION_1
    }
    this.ringMode = { packed: (f & bit(VIRTIO_F_RING_PACKED)) !== 0n, eventIdx: (f & bit(VIRTIO_F_EVENT_IDX)) !== 0n };
    for (const q of this.queues) if (!q.acceptsSize(q.size, this.ringMode.packed)) q.size = q.maxSize;
    // Device-specific bits (0..23 and 50..127) go to the backend; the backend keeps what it offered.
    const transport = bit(24) * (bit(50 - 24) - 1n);
    this.o.backend.negotiate(f & ~transport);
    return true;
  }

  private writeQueueSize(n: number): void {
    const q = this.selected;
    if (!q) return;
    if (q.enabled) return this.o.events.warn(`queue ${this.queueSelect} size written while enabled; ignored`);
    // §4.1.4.3.2: not 0, not above the maximum, a power of 2 for split rings. An invalid size is
    // not taken: the register keeps the size the device will use, which the driver can read.
    if (!q.acceptsSize(n, this.ringMode.packed)) return this.o.events.warn(`queue ${this.queueSelect} size ${n} refused`);
    q.size = n;
  }

  private writeQueueEnable(v: number): void {
    const q = this.selected;
    if (!q) return;
    // §4.1.4.3.2: the driver MUST NOT write 0 to queue_enable (no VIRTIO_F_RING_RESET).
    if (v !== 1) return this.o.events.warn(`queue_enable ${v} for queue ${this.queueSelect}; ignored`);
    if (q.enabled) return;
    if ((this.status & VIRTIO_CONFIG_S_FEATURES_OK) === 0) {
      // §3.1.1: queues are set up after FEATURES_OK; before it the ring layout is unknown.
      this.o.events.warn(`queue ${this.queueSelect} enabled before FEATURES_OK`);
      this.o.events.needsReset();
      return;
    }
    const bad = q.check(this.memory, this.ringMode);
    if (bad !== null) {
      // Rings the device cannot use: §2.1.2 DEVICE_NEEDS_RESET rather than reading garbage.
      this.o.events.warn(`queue ${this.queueSelect}: ${bad}`);
      this.o.events.needsReset();
      return;
    }
    q.enabled = true;
    if ((this.status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0 && (this.status & VIRTIO_CONFIG_S_NEEDS_RESET) === 0) this.o.events.queueEnabledLate();
  }

  /** Plain-data copy for snapshots. */
  save(): CommonSnapshot {
    return {
      deviceFeatureSelect: this.deviceFeatureSelect,
      driverFeatureSelect: this.driverFeatureSelect,
      driverFeatures: this.driverFeatures,
      status: this.status,
      configGeneration: this.configGeneration,
      configMsixVector: this.configMsixVector,
      queueSelect: this.queueSelect,
      queues: this.queues.map((q) => ({ size: q.size, msixVector: q.msixVector, enabled: q.enabled, addr: [...q.addr] })),
    };
  }

  /** Loads {@link save}d registers (same queue count). */
  load(s: CommonSnapshot): void {
    if (s.queues.length !== this.queues.length) throw new Error('virtio-pci snapshot: queue count differs');
    this.deviceFeatureSelect = s.deviceFeatureSelect;
    this.driverFeatureSelect = s.driverFeatureSelect;
    this.driverFeatures = s.driverFeatures;
    this.status = s.status;
    this.configGeneration = s.configGeneration;
    this.configMsixVector = s.configMsixVector;
    this.queueSelect = s.queueSelect;
    const f = s.driverFeatures;
    this.ringMode = { packed: (f & bit(VIRTIO_F_RING_PACKED)) !== 0n, eventIdx: (f & bit(VIRTIO_F_EVENT_IDX)) !== 0n };
    s.queues.forEach((q, i) => {
      const r = this.queues[i];
      r.size = q.size;
      r.msixVector = q.msixVector;
      r.enabled = q.enabled;
      r.addr.set(q.addr);
    });
  }
}
