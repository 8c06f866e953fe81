import { describe, expect, it } from 'vitest';
import { makeRig } from '../test/rig.js';
import {
  CommonCfg,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_VNDR,
  PCI_COMMAND_IO,
  PciCfg,
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_PCI_CAP_COMMON_CFG,
  VIRTIO_PCI_CAP_DEVICE_CFG,
  VIRTIO_PCI_CAP_ISR_CFG,
  VIRTIO_PCI_CAP_NOTIFY_CFG,
  VIRTIO_PCI_CAP_PCI_CFG,
  VirtioPciCap,
} from './index.js';

/** Walks the capability list like a driver: [id, offset] in order; bounded by the space size. */
function walk(read: (o: number, s: number) => number): [number, number][] {
  const out: [number, number][] = [];
  for (let at = read(PciCfg.capabilitiesPointer, 1); at !== 0 && out.length < 48; at = read(at + 1, 1)) out.push([read(at, 1), at]);
  return out;
}

describe('PCI configuration space (§4.1.2, §4.1.4)', () => {
  it('identifies a modern virtio-gpu: 1af4:1050, revision 1, display class, INTA', () => {
    const { pci } = makeRig();
    expect(pci.configRead(PciCfg.vendorId, 4)).toBe(0x1050_1af4);
    expect(pci.configRead(PciCfg.revisionId, 1)).toBe(1);
    expect(pci.configRead(PciCfg.revisionId, 4) >>> 8).toBe(0x038000);
    expect(pci.configRead(PciCfg.subsystemVendorId, 2)).toBe(0x1af4);
    expect(pci.configRead(PciCfg.subsystemId, 2)).toBeGreaterThanOrEqual(0x40);
    expect(pci.configRead(PciCfg.interruptPin, 1)).toBe(1);
  });

  it('lists common, notify, ISR, device and PCI-config capabilities pointing into the BAR', () => {
    const { pci, L } = makeRig();
    const caps = walk((o, s) => pci.configRead(o, s));
    expect(caps.every(([id]) => id === PCI_CAP_ID_VNDR)).toBe(true);
    const byType = new Map(caps.map(([, at]) => [pci.configRead(at + VirtioPciCap.cfgType, 1), at]));
    const expectRegion = (type: number, r: { offset: number; length: number }) => {
      const at = byType.get(type)!;
      expect(pci.configRead(at + VirtioPciCap.bar, 1)).toBe(L.index);
      expect(pci.configRead(at + VirtioPciCap.offset, 4)).toBe(r.offset);
      expect(pci.configRead(at + VirtioPciCap.length, 4)).toBe(r.length);
    };
    expectRegion(VIRTIO_PCI_CAP_COMMON_CFG, L.common);
    expectRegion(VIRTIO_PCI_CAP_NOTIFY_CFG, L.notify);
    expectRegion(VIRTIO_PCI_CAP_ISR_CFG, L.isr);
    expectRegion(VIRTIO_PCI_CAP_DEVICE_CFG, L.device);
    expect(byType.has(VIRTIO_PCI_CAP_PCI_CFG)).toBe(true);
    const n = byType.get(VIRTIO_PCI_CAP_NOTIFY_CFG)!;
    // §4.1.4.4: an even power of 2 and room for every queue's notify address.
    const mult = pci.configRead(n + VirtioPciCap.notifyOffMultiplier, 4);
    expect(mult & (mult - 1)).toBe(0);
    expect(L.notify.length).toBeGreaterThanOrEqual(1 * mult + 2);
    expect(pci.configRead(PciCfg.status, 2) & 0x10).toBe(0x10);
  });

  it('an I/O BAR sizes like PCI: all ones reads back ~(size - 1) | 1, then takes an address', () => {
    const { pci, L } = makeRig();
    expect(L.size).toBeLessThanOrEqual(256);
    pci.configWrite(PciCfg.bar0, 4, 0xffff_ffff);
    expect(pci.configRead(PciCfg.bar0, 4)).toBe(((~(L.size - 1) | 1) >>> 0));
    pci.configWrite(PciCfg.bar0, 4, 0xc080);
    expect(pci.configRead(PciCfg.bar0, 4)).toBe(0xc081);
    expect(pci.config.barAddress).toBe(0xc080);
  });

  it('a 64-bit memory BAR sizes over two registers', () => {
    const { pci, L } = makeRig({ bar: { kind: 'mem64', index: 2 } });
    pci.configWrite(PciCfg.bar0 + 8, 4, 0xffff_ffff);
    pci.configWrite(PciCfg.bar0 + 12, 4, 0xffff_ffff);
    expect(pci.configRead(PciCfg.bar0 + 8, 4)).toBe(((~(L.size - 1) >>> 0) | 4) >>> 0);
    expect(pci.configRead(PciCfg.bar0 + 12, 4)).toBe(0xffff_ffff);
    pci.configWrite(PciCfg.bar0 + 8, 4, 0xfe00_0000);
    pci.configWrite(PciCfg.bar0 + 12, 4, 1);
    expect(pci.config.barAddress).toBe(0x1_fe00_0000);
  });

  it('read-only header fields ignore writes (ids, class, capability pointer)', () => {
    const { pci } = makeRig();
    pci.configWrite(PciCfg.vendorId, 4, 0);
    pci.configWrite(PciCfg.capabilitiesPointer, 1, 0);
    expect(pci.configRead(PciCfg.vendorId, 2)).toBe(0x1af4);
    expect(pci.configRead(PciCfg.capabilitiesPointer, 1)).toBe(0x40);
  });

  it('with MSI-X: an MSI-X capability whose table and PBA lie in the memory BAR', () => {
    const { pci, L } = makeRig({ bar: { kind: 'mem32', index: 1 }, msi: true });
    const msix = walk((o, s) => pci.configRead(o, s)).find(([id]) => id === PCI_CAP_ID_MSIX)!;
    expect(msix).toBeDefined();
    expect((pci.configRead(msix[1] + 2, 2) & 0x7ff) + 1).toBe(3);
    expect(pci.configRead(msix[1] + 4, 4)).toBe(L.msixTable!.offset | 1);
    expect(pci.configRead(msix[1] + 8, 4)).toBe(L.msixPba!.offset | 1);
  });

  it('an I/O BAR never offers MSI-X (the table needs memory space)', () => {
    const { pci } = makeRig({ msi: true });
    expect(walk((o, s) => pci.configRead(o, s)).some(([id]) => id === PCI_CAP_ID_MSIX)).toBe(false);
  });
});

describe('PCI configuration access capability (§4.1.4.9)', () => {
  function window() {
    const g = makeRig();
    const at = g.pci.config.caps.get(VIRTIO_PCI_CAP_PCI_CFG)!;
    const set = (offset: number, length: number, bar = g.L.index) => {
      g.pci.configWrite(at + VirtioPciCap.bar, 1, bar);
      g.pci.configWrite(at + VirtioPciCap.offset, 4, offset);
      g.pci.configWrite(at + VirtioPciCap.length, 4, length);
    };
    return { g, at, set, data: at + VirtioPciCap.pciCfgData };
  }

  it('reading pci_cfg_data reads the BAR at cap.offset (num_queues)', () => {
    const { g, set, data } = window();
    set(g.L.common.offset + CommonCfg.numQueues, 2);
    expect(g.pci.configRead(data, 2)).toBe(2);
  });

  it('writing pci_cfg_data writes the BAR (device_status), even with I/O decoding off', () => {
    const { g, set, data } = window();
    set(g.L.common.offset + CommonCfg.deviceStatus, 1);
    g.pci.configWrite(data, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    expect(g.pci.status).toBe(VIRTIO_CONFIG_S_ACKNOWLEDGE);
    g.pci.configWrite(PciCfg.command, 2, PCI_COMMAND_IO);
    expect(g.rc(CommonCfg.deviceStatus, 1)).toBe(VIRTIO_CONFIG_S_ACKNOWLEDGE);
  });

  it('cap.length 3 or an offset not a multiple of it -> no access', () => {
    const { g, set, data } = window();
    set(g.L.common.offset + CommonCfg.deviceStatus, 3);
    g.pci.configWrite(data, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    set(g.L.common.offset + CommonCfg.numQueues + 1, 2);
    g.pci.configWrite(data, 2, 0x0101);
    expect(g.pci.status).toBe(0);
  });

  it('a window onto another BAR -> reads 0, writes nothing', () => {
    const { g, set, data } = window();
    set(g.L.common.offset + CommonCfg.numQueues, 2, 3);
    expect(g.pci.configRead(data, 2)).toBe(0);
  });
});
