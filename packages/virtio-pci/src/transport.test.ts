import { VIRTIO_GPU_RESP_OK_DISPLAY_INFO, VIRTIO_GPU_EVENT_DISPLAY } from '@virtio-gpu/protocol';
import { PackedQueue, SplitQueue } from '@virtio-gpu/virtqueue';
import { cmd } from '@virtio-gpu/guest';
import { describe, expect, it } from 'vitest';
import { makeRig } from '../test/rig.js';
import {
  CommonCfg,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_STATUS_INTERRUPT,
  PciCfg,
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_VERSION_1,
  VIRTIO_MSI_NO_VECTOR,
  VIRTIO_PCI_ISR_CONFIG,
  VIRTIO_PCI_ISR_QUEUE,
} from './index.js';

const S_ALL = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK;
const V1 = 1n << BigInt(VIRTIO_F_VERSION_1);

describe('feature negotiation (§2.2, §6)', () => {
  it('offers the device features plus VERSION_1, RING_PACKED, EVENT_IDX and INDIRECT_DESC', () => {
    const g = makeRig();
    g.enablePci();
    const f = g.deviceFeatures();
    for (const b of [VIRTIO_F_VERSION_1, VIRTIO_F_RING_PACKED, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC]) expect((f >> BigInt(b)) & 1n).toBe(1n);
    expect(f & 0xffffffn).toBe(g.device.features & 0xffffffn);
  });

  it('a valid subset -> FEATURES_OK reads back set and the device gets its bits', () => {
    const g = makeRig();
    const status = g.negotiate(V1 | (g.device.features & 1n << 1n));
    expect(status & VIRTIO_CONFIG_S_FEATURES_OK).toBe(VIRTIO_CONFIG_S_FEATURES_OK);
    expect(g.device.negotiatedFeatures).toBe(g.device.features & 2n);
  });

  it('a feature the device did not offer -> FEATURES_OK stays clear (§2.2.2)', () => {
    const g = makeRig();
    expect(g.negotiate(V1 | (1n << 23n)) & VIRTIO_CONFIG_S_FEATURES_OK).toBe(0);
  });

  it('without VIRTIO_F_VERSION_1 -> FEATURES_OK stays clear (§6.2: modern-only device)', () => {
    const g = makeRig();
    expect(g.negotiate(0n) & VIRTIO_CONFIG_S_FEATURES_OK).toBe(0);
  });

  it('driver_feature written after FEATURES_OK -> ignored (§3.1.1)', () => {
    const g = makeRig();
    g.negotiate(V1);
    g.wc(CommonCfg.driverFeatureSelect, 4, 1);
    g.wc(CommonCfg.driverFeature, 4, 0);
    expect(g.rc(CommonCfg.driverFeature, 4)).toBe(1);
  });

  it('RING_PACKED negotiated -> queues are packed and may have any size', () => {
    const g = makeRig();
    g.negotiate(V1 | (1n << BigInt(VIRTIO_F_RING_PACKED)));
    g.wc(CommonCfg.queueSelect, 2, 0);
    g.wc(CommonCfg.queueSize, 2, 3);
    expect(g.rc(CommonCfg.queueSize, 2)).toBe(3);
    const base = g.ram.alloc(4096);
    g.wc(CommonCfg.queueDesc, 4, base);
    g.wc(CommonCfg.queueDriver, 4, base + 1024);
    g.wc(CommonCfg.queueDevice, 4, base + 2048);
    g.wc(CommonCfg.queueEnable, 2, 1);
    g.wc(CommonCfg.deviceStatus, 1, S_ALL | VIRTIO_CONFIG_S_DRIVER_OK);
    expect(g.pci.queues[0]).toBeInstanceOf(PackedQueue);
    expect(g.pci.queues[1]).toBeNull();
  });
});

describe('device status (§2.1, §3.1.1)', () => {
  it('the whole init sequence -> split queues and a working device (GET_DISPLAY_INFO answered)', async () => {
    const g = makeRig();
    g.boot();
    expect(g.pci.queues[0]).toBeInstanceOf(SplitQueue);
    const resp = g.driver.send(cmd.getDisplayInfo());
    expect(g.pci.intxAsserted).toBe(true);
    expect(g.service() & VIRTIO_PCI_ISR_QUEUE).toBe(VIRTIO_PCI_ISR_QUEUE);
    expect((await resp).type).toBe(VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
  });

  it('0 written -> reset: status, queue_enable and ISR read 0, INTx deasserted (§4.1.4.3.1)', () => {
    const g = makeRig();
    g.boot();
    g.device.resizeScanout(0, 320, 200);
    expect(g.pci.intxAsserted).toBe(true);
    g.wc(CommonCfg.deviceStatus, 1, 0);
    expect(g.rc(CommonCfg.deviceStatus, 1)).toBe(0);
    g.wc(CommonCfg.queueSelect, 2, 0);
    expect(g.rc(CommonCfg.queueEnable, 2)).toBe(0);
    expect(g.rc(CommonCfg.queueSize, 2)).toBe(256);
    expect(g.pci.intxAsserted).toBe(false);
    expect(g.r(g.L.isr.offset, 1)).toBe(0);
  });

  it('a write that clears status bits -> the bits stay set (§2.1.1: the driver MUST NOT clear them)', () => {
    const g = makeRig();
    g.negotiate(V1);
    g.wc(CommonCfg.deviceStatus, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    expect(g.rc(CommonCfg.deviceStatus, 1)).toBe(S_ALL);
  });

  it('DRIVER_OK without FEATURES_OK -> DEVICE_NEEDS_RESET and a config interrupt', () => {
    const g = makeRig();
    g.enablePci();
    g.wc(CommonCfg.deviceStatus, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK);
    expect(g.rc(CommonCfg.deviceStatus, 1) & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(VIRTIO_CONFIG_S_NEEDS_RESET);
    expect(g.r(g.L.isr.offset, 1)).toBe(VIRTIO_PCI_ISR_CONFIG);
  });

  it('the driver cannot set DEVICE_NEEDS_RESET itself', () => {
    const g = makeRig();
    g.enablePci();
    g.wc(CommonCfg.deviceStatus, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_NEEDS_RESET);
    expect(g.rc(CommonCfg.deviceStatus, 1)).toBe(VIRTIO_CONFIG_S_ACKNOWLEDGE);
  });
});

describe('queue configuration (§4.1.4.3)', () => {
  it('queue_size 0, above the maximum or not a power of 2 (split) -> refused, register unchanged', () => {
    const g = makeRig();
    g.negotiate(V1);
    g.wc(CommonCfg.queueSelect, 2, 1);
    for (const n of [0, 512, 100]) {
      g.wc(CommonCfg.queueSize, 2, n);
      expect(g.rc(CommonCfg.queueSize, 2)).toBe(256);
    }
    g.wc(CommonCfg.queueSize, 2, 64);
    expect(g.rc(CommonCfg.queueSize, 2)).toBe(64);
  });

  it('queue_select past num_queues -> queue_size reads 0 and writes go nowhere', () => {
    const g = makeRig();
    g.negotiate(V1);
    g.wc(CommonCfg.queueSelect, 2, 7);
    expect(g.rc(CommonCfg.queueSize, 2)).toBe(0);
    g.wc(CommonCfg.queueEnable, 2, 1);
    expect(g.rc(CommonCfg.queueEnable, 2)).toBe(0);
    expect(g.rc(CommonCfg.numQueues, 2)).toBe(2);
  });

  it('queue_enable with a misaligned descriptor table -> DEVICE_NEEDS_RESET, queue stays disabled', () => {
    const g = makeRig();
    g.negotiate(V1);
    g.wc(CommonCfg.queueSelect, 2, 0);
    g.wc(CommonCfg.queueDesc, 4, g.ram.alloc(8192) + 8);
    g.wc(CommonCfg.queueEnable, 2, 1);
    expect(g.rc(CommonCfg.queueEnable, 2)).toBe(0);
    expect(g.rc(CommonCfg.deviceStatus, 1) & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(VIRTIO_CONFIG_S_NEEDS_RESET);
  });

  it('queue_enable with rings outside guest memory -> DEVICE_NEEDS_RESET', () => {
    const g = makeRig();
    g.negotiate(V1);
    g.wc(CommonCfg.queueSelect, 2, 0);
    g.wc(CommonCfg.queueDesc, 4, 0);
    g.wc(CommonCfg.queueDesc + 4, 4, 0xffff_ffff);
    g.wc(CommonCfg.queueEnable, 2, 1);
    expect(g.rc(CommonCfg.deviceStatus, 1) & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(VIRTIO_CONFIG_S_NEEDS_RESET);
  });

  it('queue_enable before FEATURES_OK -> DEVICE_NEEDS_RESET (§3.1.1 order)', () => {
    const g = makeRig();
    g.enablePci();
    g.wc(CommonCfg.deviceStatus, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    g.setupQueue(0);
    expect(g.rc(CommonCfg.deviceStatus, 1) & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(VIRTIO_CONFIG_S_NEEDS_RESET);
  });

  it('queue_enable 0 -> ignored (§4.1.4.3.2, no VIRTIO_F_RING_RESET)', () => {
    const g = makeRig();
    g.boot();
    g.wc(CommonCfg.queueSelect, 2, 0);
    g.wc(CommonCfg.queueEnable, 2, 0);
    expect(g.rc(CommonCfg.queueEnable, 2)).toBe(1);
  });

  it('ring addresses written while enabled -> ignored', () => {
    const g = makeRig();
    g.boot();
    g.wc(CommonCfg.queueSelect, 2, 0);
    const before = g.rc(CommonCfg.queueDesc, 4);
    g.wc(CommonCfg.queueDesc, 4, 0x2000);
    expect(g.rc(CommonCfg.queueDesc, 4)).toBe(before);
  });

  it('read-only fields (num_queues, queue_notify_off, device_feature) -> writes ignored', () => {
    const g = makeRig();
    g.enablePci();
    g.wc(CommonCfg.numQueues, 2, 9);
    g.wc(CommonCfg.queueSelect, 2, 1);
    g.wc(CommonCfg.queueNotifyOff, 2, 9);
    expect(g.rc(CommonCfg.numQueues, 2)).toBe(2);
    expect(g.rc(CommonCfg.queueNotifyOff, 2)).toBe(1);
  });
});

describe('register access widths (§4.1.3.1)', () => {
  it('a write narrower than its field -> ignored', () => {
    const g = makeRig();
    g.negotiate(V1);
    g.wc(CommonCfg.queueSelect, 1, 1);
    expect(g.rc(CommonCfg.queueSelect, 2)).toBe(0);
  });

  it('reads of any width assemble the bytes of the fields they cover', () => {
    const g = makeRig();
    g.enablePci();
    // num_queues (le16 = 2) at 0x12 and device_status (0) + config_generation (0) after it.
    expect(g.rc(CommonCfg.configMsixVector, 4)).toBe(0x0002_ffff);
    expect(g.rc(CommonCfg.numQueues + 1, 1)).toBe(0);
  });

  it('random accesses anywhere never throw and keep the function consistent', () => {
    const g = makeRig();
    g.boot();
    let seed = 1;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    for (let i = 0; i < 20_000; i++) {
      const size = [1, 2, 4, 3, 8][rnd(5)];
      const off = rnd(300) - 20;
      const v = rnd(0x1_0000_0000);
      if (rnd(2)) g.pci.barWrite(off, size, v);
      else g.pci.barRead(off, size);
      if (rnd(4) === 0) g.pci.configWrite(rnd(260), size, v);
      else g.pci.configRead(rnd(260), size);
    }
    g.enablePci();
    expect(g.rc(CommonCfg.numQueues, 2)).toBe(2);
  });
});

describe('notifications and INTx (§4.1.4.4, §4.1.4.5)', () => {
  it('a kick before DRIVER_OK -> not run (§2.1.2)', () => {
    const g = makeRig();
    g.negotiate(V1);
    g.setupQueue(0);
    g.setupQueue(1);
    void g.driver.send(cmd.getDisplayInfo());
    expect(g.pci.intxAsserted).toBe(false);
  });

  it('bus mastering off -> the kick waits until the driver enables it', () => {
    const g = makeRig();
    g.boot();
    g.pci.configWrite(PciCfg.command, 2, PCI_COMMAND_IO);
    void g.driver.send(cmd.getDisplayInfo());
    expect(g.pci.intxAsserted).toBe(false);
    g.pci.configWrite(PciCfg.command, 2, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
    expect(g.pci.intxAsserted).toBe(true);
  });

  it('INTx disable in the command register -> line stays low, status Interrupt bit still set', () => {
    const g = makeRig();
    g.boot();
    g.pci.configWrite(PciCfg.command, 2, PCI_COMMAND_IO | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
    g.device.resizeScanout(0, 320, 200);
    expect(g.pci.intxAsserted).toBe(false);
    expect(g.pci.configRead(PciCfg.status, 2) & PCI_STATUS_INTERRUPT).toBe(PCI_STATUS_INTERRUPT);
  });

  it('device resize -> config interrupt, config_generation moves, events_read has EVENT_DISPLAY', () => {
    const g = makeRig();
    g.boot();
    const gen = g.rc(CommonCfg.configGeneration, 1);
    g.device.resizeScanout(0, 320, 200);
    expect(g.r(g.L.isr.offset, 1)).toBe(VIRTIO_PCI_ISR_CONFIG);
    expect(g.rc(CommonCfg.configGeneration, 1)).toBe((gen + 1) & 0xff);
    expect(g.r(g.L.device.offset, 4)).toBe(VIRTIO_GPU_EVENT_DISPLAY);
    g.w(g.L.device.offset + 4, 4, VIRTIO_GPU_EVENT_DISPLAY); // events_clear
    expect(g.r(g.L.device.offset, 4)).toBe(0);
    expect(g.r(g.L.device.offset + 8, 4)).toBe(1); // num_scanouts
  });

  it('BAR accesses with I/O decoding off -> all ones, writes ignored', () => {
    const g = makeRig();
    expect(g.r(g.L.common.offset + CommonCfg.numQueues, 2)).toBe(0xffff);
  });
});

describe('MSI-X (§4.1.5.1.2, PCI 3.0 §6.8.2)', () => {
  function msixRig() {
    const g = makeRig({ bar: { kind: 'mem64', index: 4 }, msi: true });
    const cap = g.pci.config.msixCap;
    const tableAt = g.L.msixTable!.offset;
    const program = (v: number, addr: number, data: number) => {
      g.w(tableAt + 16 * v, 4, addr);
      g.w(tableAt + 16 * v + 4, 4, 0);
      g.w(tableAt + 16 * v + 8, 4, data);
      g.w(tableAt + 16 * v + 12, 4, 0);
    };
    return { g, cap, program };
  }

  it('a vector past the table -> the field reads NO_VECTOR (mapping failure)', () => {
    const { g } = msixRig();
    g.negotiate(V1);
    g.wc(CommonCfg.configMsixVector, 2, 9);
    expect(g.rc(CommonCfg.configMsixVector, 2)).toBe(VIRTIO_MSI_NO_VECTOR);
    g.wc(CommonCfg.configMsixVector, 2, 2);
    expect(g.rc(CommonCfg.configMsixVector, 2)).toBe(2);
  });

  it('enabled -> a used buffer sends the queue vector message, INTx stays low', async () => {
    const { g, cap, program } = msixRig();
    g.negotiate(V1);
    g.setupQueue(0);
    g.setupQueue(1);
    g.wc(CommonCfg.queueSelect, 2, 0);
    g.wc(CommonCfg.queueMsixVector, 2, 1);
    program(1, 0xfee0_0000, 0x41);
    g.pci.configWrite(cap + 2, 2, 0x8000);
    g.wc(CommonCfg.deviceStatus, 1, S_ALL | VIRTIO_CONFIG_S_DRIVER_OK);
    const resp = g.driver.send(cmd.getDisplayInfo());
    expect(g.host.msi).toEqual([{ lo: 0xfee0_0000, hi: 0, data: 0x41 }]);
    expect(g.pci.intxAsserted).toBe(false);
    g.driver.interrupt();
    expect((await resp).type).toBe(VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
  });

  it('a masked vector -> pending bit, delivered on unmask', () => {
    const { g, cap, program } = msixRig();
    g.boot();
    g.wc(CommonCfg.configMsixVector, 2, 0);
    program(0, 0xfee0_1000, 7);
    g.w(g.L.msixTable!.offset + 12, 4, 1); // mask vector 0
    g.pci.configWrite(cap + 2, 2, 0x8000);
    g.device.resizeScanout(0, 100, 100);
    expect(g.host.msi).toEqual([]);
    expect(g.r(g.L.msixPba!.offset, 4) & 1).toBe(1);
    g.w(g.L.msixTable!.offset + 12, 4, 0);
    expect(g.host.msi).toEqual([{ lo: 0xfee0_1000, hi: 0, data: 7 }]);
    expect(g.r(g.L.msixPba!.offset, 4) & 1).toBe(0);
  });

  it('an event mapped to NO_VECTOR -> no message (§4.1.5.1.2.1)', () => {
    const { g, cap } = msixRig();
    g.boot();
    g.pci.configWrite(cap + 2, 2, 0x8000);
    g.device.resizeScanout(0, 100, 100);
    expect(g.host.msi).toEqual([]);
    expect(g.pci.intxAsserted).toBe(false);
  });
});

describe('snapshot', () => {
  it('a restored function keeps serving the same rings where they were', async () => {
    const a = makeRig();
    a.boot();
    const r1 = a.driver.send(cmd.getDisplayInfo());
    a.service();
    await r1;
    const snap = a.pci.snapshot();
    const devSnap = a.device.snapshot();
    // Same guest (RAM, driver rings) behind a new function + device.
    const { VirtioGpuDevice } = await import('@virtio-gpu/device');
    const { VirtioPciFunction, gpuBackend } = await import('./index.js');
    let fn: InstanceType<typeof VirtioPciFunction> | null = null;
    const device = new VirtioGpuDevice({ memory: a.ram.memory, onInterrupt: (c, q) => fn!.interrupt(c, q), scanouts: [{ width: 640, height: 480 }] });
    fn = new VirtioPciFunction({ backend: gpuBackend(device), memory: a.ram.memory, host: { setIntx: () => {} } });
    fn.restore(snap);
    device.restore(devSnap);
    expect(fn.status).toBe(a.pci.status);
    expect((fn.queues[0] as SplitQueue).lastAvailIdx).toBe(1);
    // The old function's driver now talks to the new one.
    const r2 = a.driver.submitRaw(0, new Uint8Array(24).fill(0), 24);
    fn.barWrite(a.L.notify.offset, 2, 0);
    a.driver.interrupt();
    await expect((await r2).response).resolves.toBeDefined();
    expect((fn.queues[0] as SplitQueue).lastAvailIdx).toBe(2);
  });
});
