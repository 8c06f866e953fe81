/**
 * Test rig: our virtio-gpu device behind a VirtioPciFunction, driven the way Linux's
 * virtio_pci_modern driver does it, through configuration-space and BAR accesses only. Guest RAM
 * and rings come from @virtio-gpu/guest.
 */
import { VirtioGpuDevice } from '@virtio-gpu/device';
import { GpuDriver, GuestRam } from '@virtio-gpu/guest';
import {
  CommonCfg,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_VERSION_1,
  gpuBackend,
  VirtioPciFunction,
  type VirtioPciOptions,
} from '../src/index.js';

export interface RigOptions {
  bar?: VirtioPciOptions['bar'];
  msi?: boolean;
  ringPacked?: boolean;
}

/** Host side record: INTx level changes and MSI messages. */
export interface HostLog {
  intx: boolean[];
  msi: { lo: number; hi: number; data: number }[];
  warnings: string[];
}

export function makeRig(o: RigOptions = {}) {
  const ram = new GuestRam({ regions: [{ gpa: 0x10_0000, bytes: 16 << 20 }] });
  const host: HostLog = { intx: [], msi: [], warnings: [] };
  let fn: VirtioPciFunction | null = null;
  const device = new VirtioGpuDevice({ memory: ram.memory, onInterrupt: (cause, q) => fn!.interrupt(cause, q), scanouts: [{ width: 640, height: 480 }] });
  fn = new VirtioPciFunction({
    backend: gpuBackend(device),
    memory: ram.memory,
    bar: o.bar,
    ringPacked: o.ringPacked,
    host: {
      setIntx: (a) => host.intx.push(a),
      sendMsi: o.msi ? (lo, hi, data) => host.msi.push({ lo, hi, data }) : undefined,
      log: (_l, m) => host.warnings.push(m),
    },
  });
  const pci = fn;
  const L = pci.layout;
  const common = (off: number) => L.common.offset + off;
  const r = (off: number, size: number) => pci.barRead(off, size);
  const w = (off: number, size: number, v: number) => pci.barWrite(off, size, v);
  const rc = (off: number, size: number) => r(common(off), size);
  const wc = (off: number, size: number, v: number) => w(common(off), size, v);
  const driver = new GpuDriver({ ram, transport: { notify: (q) => w(L.notify.offset + q * L.notifyOffMultiplier, 2, q) } });

  /** Enable decoding and bus mastering, as pci_enable_device + pci_set_master do. */
  function enablePci(master = true): void {
    pci.configWrite(4, 2, (L.kind === 'io' ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY) | (master ? PCI_COMMAND_MASTER : 0));
  }

  /** 64-bit feature words the device offers. */
  function deviceFeatures(): bigint {
    wc(CommonCfg.deviceFeatureSelect, 4, 0);
    const lo = BigInt(rc(CommonCfg.deviceFeature, 4));
    wc(CommonCfg.deviceFeatureSelect, 4, 1);
    return (BigInt(rc(CommonCfg.deviceFeature, 4)) << 32n) | lo;
  }

  function writeFeatures(f: bigint): void {
    wc(CommonCfg.driverFeatureSelect, 4, 0);
    wc(CommonCfg.driverFeature, 4, Number(f & 0xffff_ffffn));
    wc(CommonCfg.driverFeatureSelect, 4, 1);
    wc(CommonCfg.driverFeature, 4, Number(f >> 32n));
  }

  function setupQueue(q: number): void {
    const l = driver.queueLayout(q);
    wc(CommonCfg.queueSelect, 2, q);
    wc(CommonCfg.queueSize, 2, l.size);
    wc(CommonCfg.queueDesc, 4, l.descAddr);
    wc(CommonCfg.queueDesc + 4, 4, 0);
    wc(CommonCfg.queueDriver, 4, l.availAddr);
    wc(CommonCfg.queueDriver + 4, 4, 0);
    wc(CommonCfg.queueDevice, 4, l.usedAddr);
    wc(CommonCfg.queueDevice + 4, 4, 0);
    wc(CommonCfg.queueEnable, 2, 1);
  }

  /** §3.1.1 initialization up to FEATURES_OK; returns the status read back. */
  function negotiate(features = (1n << BigInt(VIRTIO_F_VERSION_1)) | (1n << BigInt(VIRTIO_F_EVENT_IDX))): number {
    enablePci();
    wc(CommonCfg.deviceStatus, 1, 0);
    wc(CommonCfg.deviceStatus, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    wc(CommonCfg.deviceStatus, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    writeFeatures(features);
    wc(CommonCfg.deviceStatus, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
    return rc(CommonCfg.deviceStatus, 1);
  }

  /** The whole sequence: negotiate, both queues, DRIVER_OK. */
  function boot(): void {
    negotiate();
    setupQueue(0);
    setupQueue(1);
    wc(CommonCfg.deviceStatus, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
  }

  /** What a guest interrupt handler does on INTx: read ISR (clears it), reap used buffers. */
  function service(): number {
    const isr = r(L.isr.offset, 1);
    driver.interrupt();
    return isr;
  }

  return { ram, device, pci, driver, host, L, r, w, rc, wc, enablePci, deviceFeatures, writeFeatures, setupQueue, negotiate, boot, service };
}
