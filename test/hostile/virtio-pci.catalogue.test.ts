/**
 * The hostile-guest catalogue for the virtio-pci transport (packages/virtio-pci) with our device
 * behind it: driver writes of impossible queue sizes, addresses, status sequences, widths and
 * notifications, each with the answer virtio 1.2 §2 and §4.1 prescribe, and after each the
 * emulator's function reset followed by a well-behaved driver's init gets a working device.
 */
import * as P from '@virtio-gpu/protocol';
import {
  CommonCfg,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PciCfg,
  VIRTIO_CONFIG_S_ACKNOWLEDGE as ACK,
  VIRTIO_CONFIG_S_DRIVER as DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK as DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK as FEATURES_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET as NEEDS_RESET,
  VIRTIO_F_VERSION_1,
  VIRTIO_MSI_NO_VECTOR,
} from '@virtio-gpu/virtio-pci';
import { describe, expect, it } from 'vitest';
import { PCI_RAM, PciDriver, PciRig } from '../fuzz/harness/pci-rig';

interface Case {
  name: string;
  run: (r: PciRig, d: PciDriver) => void;
}

const V1 = 1n << BigInt(VIRTIO_F_VERSION_1);

/** Up to FEATURES_OK with VERSION_1, queue 0 selected. */
function toFeaturesOk(r: PciRig, d: PciDriver): void {
  d.enable();
  r.setStatus(0);
  r.setStatus(ACK | DRIVER);
  r.setCommon(CommonCfg.driverFeatureSelect, 4, 1);
  r.setCommon(CommonCfg.driverFeature, 4, Number(V1 >> 32n));
  r.setStatus(ACK | DRIVER | FEATURES_OK);
  expect(r.status & FEATURES_OK).toBe(FEATURES_OK);
  r.setCommon(CommonCfg.queueSelect, 2, 0);
}

/** Queue 0's addresses (desc, driver, device) as 64-bit values split in two le32 writes. */
function setAddrs(r: PciRig, desc: number, driver: number, device: number): void {
  for (const [f, v] of [[CommonCfg.queueDesc, desc], [CommonCfg.queueDriver, driver], [CommonCfg.queueDevice, device]] as const) {
    r.setCommon(f, 4, v >>> 0);
    r.setCommon(f + 4, 4, Math.floor(v / 0x1_0000_0000));
  }
}

const GOOD = PCI_RAM.gpa + 0x8000;

const cases: Case[] = [
  {
    name: 'queue_size 0 -> refused: queue_size still reads the maximum (64)',
    run: (r, d) => {
      toFeaturesOk(r, d);
      r.setCommon(CommonCfg.queueSize, 2, 0);
      expect(r.common(CommonCfg.queueSize, 2)).toBe(64);
    },
  },
  {
    name: 'queue_size 3 on a split ring (not a power of 2) -> refused, reads 64',
    run: (r, d) => {
      toFeaturesOk(r, d);
      r.setCommon(CommonCfg.queueSize, 2, 3);
      expect(r.common(CommonCfg.queueSize, 2)).toBe(64);
    },
  },
  {
    name: 'queue_size 128 above the maximum 64 -> refused, reads 64; 32 is taken',
    run: (r, d) => {
      toFeaturesOk(r, d);
      r.setCommon(CommonCfg.queueSize, 2, 128);
      expect(r.common(CommonCfg.queueSize, 2)).toBe(64);
      r.setCommon(CommonCfg.queueSize, 2, 32);
      expect(r.common(CommonCfg.queueSize, 2)).toBe(32);
    },
  },
  {
    name: 'queue_size and addresses written while the queue is enabled -> ignored',
    run: (r, d) => {
      expect(d.init()).toBe(true);
      r.setCommon(CommonCfg.queueSelect, 2, 0);
      const desc = r.common(CommonCfg.queueDesc, 4);
      r.setCommon(CommonCfg.queueSize, 2, 8);
      r.setCommon(CommonCfg.queueDesc, 4, 0x1234_0000);
      expect(r.common(CommonCfg.queueSize, 2)).toBe(16);
      expect(r.common(CommonCfg.queueDesc, 4)).toBe(desc);
      expect(d.displayInfo()).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
    },
  },
  {
    name: 'queue rings outside guest RAM, then queue_enable -> DEVICE_NEEDS_RESET, the queue stays disabled',
    run: (r, d) => {
      toFeaturesOk(r, d);
      setAddrs(r, 0x7000_0000, 0x7001_0000, 0x7002_0000);
      r.setCommon(CommonCfg.queueEnable, 2, 1);
      expect(r.status & NEEDS_RESET).toBe(NEEDS_RESET);
      expect(r.common(CommonCfg.queueEnable, 2)).toBe(0);
    },
  },
  {
    name: 'descriptor table address 2^64 - 4096 -> DEVICE_NEEDS_RESET at queue_enable',
    run: (r, d) => {
      toFeaturesOk(r, d);
      r.setCommon(CommonCfg.queueDesc, 4, 0xffff_f000);
      r.setCommon(CommonCfg.queueDesc + 4, 4, 0xffff_ffff);
      r.setCommon(CommonCfg.queueEnable, 2, 1);
      expect(r.status & NEEDS_RESET).toBe(NEEDS_RESET);
    },
  },
  {
    name: 'descriptor table misaligned (16-byte alignment, §2.7) -> DEVICE_NEEDS_RESET at queue_enable',
    run: (r, d) => {
      toFeaturesOk(r, d);
      setAddrs(r, GOOD + 8, GOOD + 0x1000, GOOD + 0x2000);
      r.setCommon(CommonCfg.queueEnable, 2, 1);
      expect(r.status & NEEDS_RESET).toBe(NEEDS_RESET);
    },
  },
  {
    name: 'queue_enable before FEATURES_OK -> DEVICE_NEEDS_RESET',
    run: (r, d) => {
      d.enable();
      r.setStatus(ACK | DRIVER);
      r.setCommon(CommonCfg.queueSelect, 2, 0);
      setAddrs(r, GOOD, GOOD + 0x1000, GOOD + 0x2000);
      r.setCommon(CommonCfg.queueEnable, 2, 1);
      expect(r.status & NEEDS_RESET).toBe(NEEDS_RESET);
    },
  },
  {
    name: 'queue_enable written 0 (no VIRTIO_F_RING_RESET) -> ignored',
    run: (r, d) => {
      expect(d.init()).toBe(true);
      r.setCommon(CommonCfg.queueSelect, 2, 0);
      r.setCommon(CommonCfg.queueEnable, 2, 0);
      expect(r.common(CommonCfg.queueEnable, 2)).toBe(1);
      expect(d.displayInfo()).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
    },
  },
  {
    name: 'DRIVER_OK without FEATURES_OK -> DEVICE_NEEDS_RESET, and kicks do nothing',
    run: (r, d) => {
      d.enable();
      r.setStatus(ACK | DRIVER);
      r.setStatus(ACK | DRIVER | DRIVER_OK);
      expect(r.status & NEEDS_RESET).toBe(NEEDS_RESET);
      r.fn.barWrite(r.fn.layout.notify.offset, 2, 0);
      expect(r.device.needsReset).toBe(false);
    },
  },
  {
    name: 'FEATURES_OK with a feature the device did not offer (bit 60) -> FEATURES_OK reads back clear (§2.2.2)',
    run: (r, d) => {
      d.enable();
      r.setStatus(ACK | DRIVER);
      r.setCommon(CommonCfg.driverFeatureSelect, 4, 1);
      r.setCommon(CommonCfg.driverFeature, 4, Number(V1 >> 32n) | (1 << 28));
      r.setStatus(ACK | DRIVER | FEATURES_OK);
      expect(r.status & FEATURES_OK).toBe(0);
    },
  },
  {
    name: 'FEATURES_OK without VIRTIO_F_VERSION_1 -> FEATURES_OK reads back clear',
    run: (r, d) => {
      d.enable();
      r.setStatus(ACK | DRIVER);
      r.setStatus(ACK | DRIVER | FEATURES_OK);
      expect(r.status & FEATURES_OK).toBe(0);
    },
  },
  {
    name: '(fuzz) driver_feature_select 0xe4000000 then a driver_feature write -> no exception into the emulator; a non-zero word there fails FEATURES_OK',
    run: (r, d) => {
      d.enable();
      r.setStatus(ACK | DRIVER);
      r.setCommon(CommonCfg.driverFeatureSelect, 4, 0xe400_0000);
      expect(() => r.setCommon(CommonCfg.driverFeature, 4, 1)).not.toThrow();
      expect(r.common(CommonCfg.driverFeature, 4)).toBe(1);
      r.setCommon(CommonCfg.driverFeatureSelect, 4, 1);
      r.setCommon(CommonCfg.driverFeature, 4, Number(V1 >> 32n));
      r.setStatus(ACK | DRIVER | FEATURES_OK);
      expect(r.status & FEATURES_OK).toBe(0);
    },
  },
  {
    name: 'driver_feature written after FEATURES_OK -> ignored: the device keeps the negotiated set',
    run: (r, d) => {
      toFeaturesOk(r, d);
      const before = r.device.negotiatedFeatures;
      r.setCommon(CommonCfg.driverFeatureSelect, 4, 0);
      r.setCommon(CommonCfg.driverFeature, 4, 0xffff_ffff);
      expect(r.device.negotiatedFeatures).toBe(before);
    },
  },
  {
    name: 'device_status that clears bits the driver set -> the bits stay set (§2.1.1)',
    run: (r, d) => {
      d.enable();
      r.setStatus(ACK | DRIVER);
      r.setStatus(ACK);
      expect(r.status).toBe(ACK | DRIVER);
    },
  },
  {
    name: 'the driver setting DEVICE_NEEDS_RESET itself -> ignored (the device\'s bit)',
    run: (r, d) => {
      d.enable();
      r.setStatus(ACK | NEEDS_RESET);
      expect(r.status).toBe(ACK);
    },
  },
  {
    name: 'device_status 0 after work -> reset: resources freed, status reads 0, rings forgotten',
    run: (r, d) => {
      expect(d.init()).toBe(true);
      const b = new Uint8Array(40);
      const dv = new DataView(b.buffer);
      dv.setUint32(0, P.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, true);
      dv.setUint32(24, 1, true);
      dv.setUint32(28, P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, true);
      dv.setUint32(32, 4, true);
      dv.setUint32(36, 4, true);
      expect(d.request(b)).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
      expect(r.device.resourceCount).toBe(1);
      r.setStatus(0);
      expect(r.status).toBe(0);
      expect(r.device.resourceCount).toBe(0);
      expect(r.fn.queues.length).toBe(0);
    },
  },
  {
    name: 'BAR reads of 3 and 8 bytes and at offset -1 -> 0, writes of those widths ignored (never an exception)',
    run: (r, d) => {
      d.enable();
      for (const w of [3, 8, 0]) {
        expect(r.fn.barRead(r.fn.layout.common.offset + CommonCfg.deviceStatus, w)).toBe(0);
        r.fn.barWrite(r.fn.layout.common.offset + CommonCfg.deviceStatus, w, 0xff);
      }
      expect(r.fn.barRead(-1, 4)).toBe(0);
      expect(r.status).toBe(0);
    },
  },
  {
    name: 'a 2-byte write in the middle of queue_select (not the field\'s natural access, §4.1.3.1) -> ignored',
    run: (r, d) => {
      d.enable();
      r.setCommon(CommonCfg.queueSelect, 2, 1);
      r.setCommon(CommonCfg.queueSelect + 1, 2, 0xffff);
      expect(r.common(CommonCfg.queueSelect, 2)).toBe(1);
    },
  },
  {
    name: 'queue_select 7 (no such queue) -> queue_size reads 0 (§4.1.4.3.1), writes to it do nothing',
    run: (r, d) => {
      toFeaturesOk(r, d);
      r.setCommon(CommonCfg.queueSelect, 2, 7);
      expect(r.common(CommonCfg.queueSize, 2)).toBe(0);
      r.setCommon(CommonCfg.queueEnable, 2, 1);
      expect(r.status & NEEDS_RESET).toBe(0);
    },
  },
  {
    name: 'writes to read-only num_queues and config_generation -> ignored',
    run: (r, d) => {
      d.enable();
      const gen = r.common(CommonCfg.configGeneration, 1);
      r.setCommon(CommonCfg.numQueues, 2, 9);
      r.setCommon(CommonCfg.configGeneration, 1, 0x55);
      expect(r.common(CommonCfg.numQueues, 2)).toBe(2);
      expect(r.common(CommonCfg.configGeneration, 1)).toBe(gen);
    },
  },
  {
    name: 'config_msix_vector 5 on a function without MSI-X -> reads VIRTIO_MSI_NO_VECTOR',
    run: (r, d) => {
      d.enable();
      r.setCommon(CommonCfg.configMsixVector, 2, 5);
      expect(r.common(CommonCfg.configMsixVector, 2)).toBe(VIRTIO_MSI_NO_VECTOR);
    },
  },
  {
    name: 'notify for queue 5, and at a misaligned notify offset -> ignored',
    run: (r, d) => {
      expect(d.init()).toBe(true);
      r.fn.barWrite(r.fn.layout.notify.offset + 5 * r.fn.layout.notifyOffMultiplier, 2, 5);
      r.fn.barWrite(r.fn.layout.notify.offset + 1, 1, 0);
      expect(r.status & NEEDS_RESET).toBe(0);
      expect(d.displayInfo()).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
    },
  },
  {
    name: 'BAR accesses with I/O decoding off in the command register -> reads all ones, writes ignored',
    run: (r) => {
      r.fn.configWrite(PciCfg.command, 2, 0);
      expect(r.fn.barRead(r.fn.layout.common.offset + CommonCfg.numQueues, 2)).toBe(0xffff);
      r.fn.barWrite(r.fn.layout.common.offset + CommonCfg.deviceStatus, 1, ACK);
      r.fn.configWrite(PciCfg.command, 2, PCI_COMMAND_IO);
      expect(r.status).toBe(0);
    },
  },
  {
    name: 'a kick with bus mastering off -> held until the driver enables bus mastering, then answered',
    run: (r, d) => {
      expect(d.init()).toBe(true);
      r.fn.configWrite(PciCfg.command, 2, PCI_COMMAND_IO);
      expect(d.displayInfo()).toBe(-1);
      r.fn.configWrite(PciCfg.command, 2, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
      expect(d.rings[0].popUsedHead()).toBeGreaterThanOrEqual(0);
    },
  },
  {
    name: 'reading ISR status clears it and deasserts INTx (§4.1.4.5)',
    run: (r, d) => {
      expect(d.init()).toBe(true);
      expect(d.displayInfo()).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
      expect(r.fn.intxAsserted).toBe(true);
      expect(r.fn.barRead(r.fn.layout.isr.offset, 1) & 1).toBe(1);
      expect(r.fn.intxAsserted).toBe(false);
      expect(r.fn.barRead(r.fn.layout.isr.offset, 1)).toBe(0);
    },
  },
  {
    name: 'PCI config writes to read-only ids and past the 256-byte space -> ignored; reads there give 0',
    run: (r) => {
      const vendor = r.fn.configRead(PciCfg.vendorId, 2);
      r.fn.configWrite(PciCfg.vendorId, 2, 0x1234);
      r.fn.configWrite(300, 4, 0xffff_ffff);
      expect(r.fn.configRead(PciCfg.vendorId, 2)).toBe(vendor);
      expect(r.fn.configRead(300, 4)).toBe(0);
    },
  },
];

describe(`hostile drivers against the virtio-pci transport (${cases.length} cases)`, () => {
  for (const c of cases) {
    it(c.name, () => {
      const r = new PciRig();
      const d = new PciDriver(r);
      c.run(r, d);
      // Health: the emulator resets the function; a well-behaved driver then gets a working device.
      r.fn.resetFunction();
      expect(r.device.resourceCount).toBe(0);
      expect(d.init()).toBe(true);
      expect(d.displayInfo()).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
    });
  }
});
