/**
 * Our device behind the modern virtio-pci transport (packages/virtio-pci), and a driver that
 * speaks to it only through PCI configuration and BAR accesses, the way Linux's virtio_pci does:
 * enable decoding and bus mastering, reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queue
 * setup, DRIVER_OK, then kicks through the notify area. Used by the virtio-pci fuzz target and
 * the hostile catalogue's virtio-pci cases.
 */
import * as P from '@virtio-gpu/protocol';
import { VirtioGpuDevice } from '@virtio-gpu/device';
import { GuestRam } from '@virtio-gpu/guest';
import {
  CommonCfg,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PciCfg,
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_F_VERSION_1,
  VirtioPciFunction,
  gpuBackend,
} from '@virtio-gpu/virtio-pci';
import { DriverSplitRing } from '@virtio-gpu/virtqueue';

export const PCI_RAM = { gpa: 0x10_0000, bytes: 1 << 20 };

/** The transport, the device and guest RAM, with a log of the host's INTx line. */
export class PciRig {
  readonly ram = new GuestRam({ regions: [PCI_RAM] });
  readonly device: VirtioGpuDevice;
  readonly fn: VirtioPciFunction;
  readonly intx: boolean[] = [];
  readonly log: string[] = [];

  constructor() {
    let fn: VirtioPciFunction | null = null;
    this.device = new VirtioGpuDevice({
      memory: this.ram.memory,
      scanouts: [{ width: 64, height: 48 }],
      limits: { hostMemoryBytes: 1 << 20, logLinesPerSecond: 1e9 },
      log: (_l, m) => void this.log.push(m),
      onInterrupt: (cause, q) => fn?.interrupt(cause, q ?? 0),
    });
    fn = new VirtioPciFunction({
      backend: gpuBackend(this.device),
      memory: this.ram.memory,
      host: { setIntx: (a) => void this.intx.push(a), log: (_l, m) => void this.log.push(m) },
      queueMaxSize: 64,
    });
    this.fn = fn;
  }

  /** BAR access helpers. */
  common(field: number, size: number): number {
    return this.fn.barRead(this.fn.layout.common.offset + field, size);
  }
  setCommon(field: number, size: number, value: number): void {
    this.fn.barWrite(this.fn.layout.common.offset + field, size, value);
  }
  get status(): number {
    return this.common(CommonCfg.deviceStatus, 1);
  }
  setStatus(v: number): void {
    this.setCommon(CommonCfg.deviceStatus, 1, v);
  }
}

/** A well-behaved virtio-pci driver for {@link PciRig}: the init sequence and one request at a time. */
export class PciDriver {
  rings: DriverSplitRing[] = [];
  /** Ring memory and the request/response area, allocated once: every init starts them afresh. */
  private readonly ringAt: number[];
  private readonly area: number;

  constructor(readonly rig: PciRig) {
    this.ringAt = [0, 1].map(() => rig.ram.alloc(DriverSplitRing.bytes(16)));
    this.area = rig.ram.alloc(8192);
  }

  /** PCI command: I/O decoding and bus mastering. */
  enable(): void {
    this.rig.fn.configWrite(PciCfg.command, 2, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
  }

  /** §3.1.1 from reset to DRIVER_OK with two 16-entry split rings; false when the device refused a step. */
  init(features: bigint = 1n << BigInt(VIRTIO_F_VERSION_1)): boolean {
    const r = this.rig;
    this.enable();
    r.setStatus(0);
    r.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE);
    r.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    for (const sel of [0, 1]) {
      r.setCommon(CommonCfg.driverFeatureSelect, 4, sel);
      r.setCommon(CommonCfg.driverFeature, 4, Number((features >> BigInt(32 * sel)) & 0xffff_ffffn));
    }
    r.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
    if ((r.status & VIRTIO_CONFIG_S_FEATURES_OK) === 0) return false;
    this.rings = [];
    for (const q of [0, 1]) {
      r.ram.bytes(this.ringAt[q], DriverSplitRing.bytes(16)).fill(0);
      const ring = new DriverSplitRing(r.ram.memory, DriverSplitRing.layoutAt(this.ringAt[q], 16, false));
      this.rings.push(ring);
      const l = ring.layout;
      r.setCommon(CommonCfg.queueSelect, 2, q);
      r.setCommon(CommonCfg.queueSize, 2, 16);
      r.setCommon(CommonCfg.queueDesc, 4, l.descAddr);
      r.setCommon(CommonCfg.queueDesc + 4, 4, 0);
      r.setCommon(CommonCfg.queueDriver, 4, l.availAddr);
      r.setCommon(CommonCfg.queueDriver + 4, 4, 0);
      r.setCommon(CommonCfg.queueDevice, 4, l.usedAddr);
      r.setCommon(CommonCfg.queueDevice + 4, 4, 0);
      r.setCommon(CommonCfg.queueEnable, 2, 1);
    }
    r.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
    return (r.status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0;
  }

  /** Send one request on queue `q` and kick through the notify area; the response type, or -1 when none came back. */
  request(req: Uint8Array, q = 0): number {
    const r = this.rig;
    const ring = this.rings[q];
    if (!ring || ring.free < 2) return -1;
    r.ram.write(this.area, req);
    ring.add([
      { gpa: this.area, length: req.length, write: false },
      { gpa: this.area + 4096, length: 1536, write: true },
    ]);
    ring.publish();
    r.fn.barWrite(r.fn.layout.notify.offset + q * r.fn.layout.notifyOffMultiplier, 2, q);
    if (ring.popUsedHead() < 0) return -1;
    return new DataView(r.ram.bytes(this.area + 4096, 4).slice().buffer).getUint32(0, true);
  }

  /** GET_DISPLAY_INFO; its response type. */
  displayInfo(): number {
    const b = new Uint8Array(P.CtrlHdr.SIZE);
    new DataView(b.buffer).setUint32(0, P.VIRTIO_GPU_CMD_GET_DISPLAY_INFO, true);
    return this.request(b);
  }
}
