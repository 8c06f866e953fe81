/**
 * The layout oracle: the system's <linux/virtio_pci.h> and <linux/pci_regs.h>, compiled with cc,
 * must agree with the offsets and constants here. Needs `cc` and linux-libc-dev: with CI set the
 * test fails without them, elsewhere it skips. (The header's virtio_pci_common_cfg ends at
 * queue_used_hi, 0x38; queue_notify_data and queue_reset are virtio 1.2 additions it lacks.)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as C from './constants.js';

const HAVE = existsSync('/usr/include/linux/virtio_pci.h') && existsSync('/usr/bin/cc');
if (!HAVE && process.env.CI) throw new Error('header oracle needs cc and linux-libc-dev');

const checks: [string, number][] = [
  ['offsetof(struct virtio_pci_cap, cap_vndr)', C.VirtioPciCap.capVndr],
  ['offsetof(struct virtio_pci_cap, cap_next)', C.VirtioPciCap.capNext],
  ['offsetof(struct virtio_pci_cap, cap_len)', C.VirtioPciCap.capLen],
  ['offsetof(struct virtio_pci_cap, cfg_type)', C.VirtioPciCap.cfgType],
  ['offsetof(struct virtio_pci_cap, bar)', C.VirtioPciCap.bar],
  ['offsetof(struct virtio_pci_cap, id)', C.VirtioPciCap.id],
  ['offsetof(struct virtio_pci_cap, offset)', C.VirtioPciCap.offset],
  ['offsetof(struct virtio_pci_cap, length)', C.VirtioPciCap.length],
  ['sizeof(struct virtio_pci_cap)', C.VirtioPciCap.SIZE],
  ['offsetof(struct virtio_pci_notify_cap, notify_off_multiplier)', C.VirtioPciCap.notifyOffMultiplier],
  ['sizeof(struct virtio_pci_notify_cap)', C.VirtioPciCap.NOTIFY_SIZE],
  ['offsetof(struct virtio_pci_cfg_cap, pci_cfg_data)', C.VirtioPciCap.pciCfgData],
  ['sizeof(struct virtio_pci_cfg_cap)', C.VirtioPciCap.PCI_CFG_SIZE],
  ['offsetof(struct virtio_pci_common_cfg, device_feature_select)', C.CommonCfg.deviceFeatureSelect],
  ['offsetof(struct virtio_pci_common_cfg, device_feature)', C.CommonCfg.deviceFeature],
  ['offsetof(struct virtio_pci_common_cfg, guest_feature_select)', C.CommonCfg.driverFeatureSelect],
  ['offsetof(struct virtio_pci_common_cfg, guest_feature)', C.CommonCfg.driverFeature],
  ['offsetof(struct virtio_pci_common_cfg, msix_config)', C.CommonCfg.configMsixVector],
  ['offsetof(struct virtio_pci_common_cfg, num_queues)', C.CommonCfg.numQueues],
  ['offsetof(struct virtio_pci_common_cfg, device_status)', C.CommonCfg.deviceStatus],
  ['offsetof(struct virtio_pci_common_cfg, config_generation)', C.CommonCfg.configGeneration],
  ['offsetof(struct virtio_pci_common_cfg, queue_select)', C.CommonCfg.queueSelect],
  ['offsetof(struct virtio_pci_common_cfg, queue_size)', C.CommonCfg.queueSize],
  ['offsetof(struct virtio_pci_common_cfg, queue_msix_vector)', C.CommonCfg.queueMsixVector],
  ['offsetof(struct virtio_pci_common_cfg, queue_enable)', C.CommonCfg.queueEnable],
  ['offsetof(struct virtio_pci_common_cfg, queue_notify_off)', C.CommonCfg.queueNotifyOff],
  ['offsetof(struct virtio_pci_common_cfg, queue_desc_lo)', C.CommonCfg.queueDesc],
  ['offsetof(struct virtio_pci_common_cfg, queue_avail_lo)', C.CommonCfg.queueDriver],
  ['offsetof(struct virtio_pci_common_cfg, queue_used_lo)', C.CommonCfg.queueDevice],
  ['sizeof(struct virtio_pci_common_cfg)', C.CommonCfg.queueNotifyData],
  ['VIRTIO_PCI_CAP_COMMON_CFG', C.VIRTIO_PCI_CAP_COMMON_CFG],
  ['VIRTIO_PCI_CAP_NOTIFY_CFG', C.VIRTIO_PCI_CAP_NOTIFY_CFG],
  ['VIRTIO_PCI_CAP_ISR_CFG', C.VIRTIO_PCI_CAP_ISR_CFG],
  ['VIRTIO_PCI_CAP_DEVICE_CFG', C.VIRTIO_PCI_CAP_DEVICE_CFG],
  ['VIRTIO_PCI_CAP_PCI_CFG', C.VIRTIO_PCI_CAP_PCI_CFG],
  ['VIRTIO_MSI_NO_VECTOR', C.VIRTIO_MSI_NO_VECTOR],
  ['VIRTIO_PCI_ISR_CONFIG', C.VIRTIO_PCI_ISR_CONFIG],
  ['PCI_COMMAND_IO', C.PCI_COMMAND_IO],
  ['PCI_COMMAND_MEMORY', C.PCI_COMMAND_MEMORY],
  ['PCI_COMMAND_MASTER', C.PCI_COMMAND_MASTER],
  ['PCI_COMMAND_INTX_DISABLE', C.PCI_COMMAND_INTX_DISABLE],
  ['PCI_STATUS_INTERRUPT', C.PCI_STATUS_INTERRUPT],
  ['PCI_STATUS_CAP_LIST', C.PCI_STATUS_CAP_LIST],
  ['PCI_CAPABILITY_LIST', C.PciCfg.capabilitiesPointer],
  ['PCI_INTERRUPT_PIN', C.PciCfg.interruptPin],
  ['PCI_SUBSYSTEM_ID', C.PciCfg.subsystemId],
  ['PCI_CAP_ID_VNDR', C.PCI_CAP_ID_VNDR],
  ['PCI_CAP_ID_MSIX', C.PCI_CAP_ID_MSIX],
  ['PCI_MSIX_FLAGS_ENABLE', C.PCI_MSIX_FLAGS_ENABLE],
  ['PCI_MSIX_FLAGS_MASKALL', C.PCI_MSIX_FLAGS_MASKALL],
  ['PCI_MSIX_FLAGS_QSIZE', C.PCI_MSIX_FLAGS_QSIZE],
  ['PCI_MSIX_ENTRY_VECTOR_CTRL', C.MsixEntry.vectorControl],
  ['PCI_MSIX_ENTRY_SIZE', C.MsixEntry.SIZE],
];

describe.skipIf(!HAVE)('layouts against <linux/virtio_pci.h> and <linux/pci_regs.h>', () => {
  it('every offset, size and constant matches the C headers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpci-oracle-'));
    try {
      const src = ['#include <stdio.h>', '#include <stddef.h>', '#include <linux/virtio_pci.h>', '#include <linux/pci_regs.h>', 'int main(void) {']
        .concat(checks.map(([e]) => `  printf("%lu\\n", (unsigned long)(${e}));`), ['  return 0;', '}'])
        .join('\n');
      writeFileSync(join(dir, 'o.c'), src);
      execFileSync('cc', ['-o', join(dir, 'o'), join(dir, 'o.c')]);
      const got = execFileSync(join(dir, 'o'), { encoding: 'utf8' }).trim().split('\n').map(Number);
      expect(Object.fromEntries(checks.map(([e], i) => [e, got[i]]))).toEqual(Object.fromEntries(checks.map(([e, v]) => [e, v])));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
