/**
 * PCI and virtio-pci wire layouts and constants (PCI Local Bus 3.0 §6.1-6.2, §6.8.2 MSI-X;
 * virtio 1.2 §4.1 "Virtio Over PCI Bus"). Names follow the spec and Linux's
 * include/uapi/linux/virtio_pci.h and pci_regs.h, so grep works across all three.
 */

/** PCI vendor id of every virtio device (§4.1.2). */
export const VIRTIO_PCI_VENDOR_ID = 0x1af4;
/** Modern (non-transitional) devices use PCI device id 0x1040 + virtio device id (§4.1.2). */
export const VIRTIO_PCI_DEVICE_ID_BASE = 0x1040;
/** Subsystem id QEMU gives its virtio devices; §4.1.2.1 asks for 0x40 or more. */
export const VIRTIO_PCI_SUBSYSTEM_ID = 0x1100;
/** Non-transitional devices SHOULD have revision id 1 or more (§4.1.2.1). */
export const VIRTIO_PCI_REVISION = 1;

/** struct pci type 0 configuration header offsets (PCI 3.0 §6.1). */
export const PciCfg = {
  SIZE: 256,
  vendorId: 0x00, // le16
  deviceId: 0x02, // le16
  command: 0x04, // le16
  status: 0x06, // le16
  revisionId: 0x08,
  classProg: 0x09,
  subclass: 0x0a,
  classCode: 0x0b,
  cacheLineSize: 0x0c,
  latencyTimer: 0x0d,
  headerType: 0x0e,
  bar0: 0x10, // 6 x le32
  subsystemVendorId: 0x2c,
  subsystemId: 0x2e,
  romAddress: 0x30,
  capabilitiesPointer: 0x34,
  interruptLine: 0x3c,
  interruptPin: 0x3d,
} as const;

/** Command register bits (PCI 3.0 §6.2.2). */
export const PCI_COMMAND_IO = 1 << 0;
export const PCI_COMMAND_MEMORY = 1 << 1;
export const PCI_COMMAND_MASTER = 1 << 2;
export const PCI_COMMAND_INTX_DISABLE = 1 << 10;
/** Command bits this function implements; the others read 0 (hardwired, as PCI allows). */
export const PCI_COMMAND_WRITABLE = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE;
/** Status register: INTx asserted (RO), capabilities list present (RO). */
export const PCI_STATUS_INTERRUPT = 1 << 3;
export const PCI_STATUS_CAP_LIST = 1 << 4;

/** BAR low bits (PCI 3.0 §6.2.5.1). */
export const PCI_BASE_ADDRESS_SPACE_IO = 0x1;
export const PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x4;

/** Capability ids (PCI 3.0 appendix H). */
export const PCI_CAP_ID_VNDR = 0x09;
export const PCI_CAP_ID_MSIX = 0x11;

/** virtio_pci_cap cfg_type values (§4.1.4). */
export const VIRTIO_PCI_CAP_COMMON_CFG = 1;
export const VIRTIO_PCI_CAP_NOTIFY_CFG = 2;
export const VIRTIO_PCI_CAP_ISR_CFG = 3;
export const VIRTIO_PCI_CAP_DEVICE_CFG = 4;
export const VIRTIO_PCI_CAP_PCI_CFG = 5;

/** struct virtio_pci_cap (§4.1.4): 16 bytes; notify adds le32 notify_off_multiplier, pci cfg 4 data bytes. */
export const VirtioPciCap = {
  SIZE: 16,
  capVndr: 0,
  capNext: 1,
  capLen: 2,
  cfgType: 3,
  bar: 4,
  id: 5,
  offset: 8, // le32
  length: 12, // le32
  /** struct virtio_pci_notify_cap: le32 after the cap. */
  notifyOffMultiplier: 16,
  NOTIFY_SIZE: 20,
  /** struct virtio_pci_cfg_cap: u8 pci_cfg_data[4] after the cap. */
  pciCfgData: 16,
  PCI_CFG_SIZE: 20,
} as const;

/** struct virtio_pci_common_cfg with the 1.2 queue_notify_data and queue_reset (§4.1.4.3). */
export const CommonCfg = {
  SIZE: 0x3c,
  deviceFeatureSelect: 0x00, // le32
  deviceFeature: 0x04, // le32, RO
  driverFeatureSelect: 0x08, // le32
  driverFeature: 0x0c, // le32
  configMsixVector: 0x10, // le16
  numQueues: 0x12, // le16, RO
  deviceStatus: 0x14, // u8
  configGeneration: 0x15, // u8, RO
  queueSelect: 0x16, // le16
  queueSize: 0x18, // le16
  queueMsixVector: 0x1a, // le16
  queueEnable: 0x1c, // le16
  queueNotifyOff: 0x1e, // le16, RO
  queueDesc: 0x20, // le64 as two le32
  queueDriver: 0x28, // le64
  queueDevice: 0x30, // le64
  queueNotifyData: 0x38, // le16, RO
  queueReset: 0x3a, // le16
} as const;

/** Device status bits (§2.1). */
export const VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
export const VIRTIO_CONFIG_S_DRIVER = 2;
export const VIRTIO_CONFIG_S_DRIVER_OK = 4;
export const VIRTIO_CONFIG_S_FEATURES_OK = 8;
export const VIRTIO_CONFIG_S_NEEDS_RESET = 0x40;
export const VIRTIO_CONFIG_S_FAILED = 0x80;

/** ISR status bits (§4.1.4.5). */
export const VIRTIO_PCI_ISR_QUEUE = 1;
export const VIRTIO_PCI_ISR_CONFIG = 2;

/** "No vector" for config_msix_vector / queue_msix_vector (§4.1.5.1.2). */
export const VIRTIO_MSI_NO_VECTOR = 0xffff;

/** Reserved transport feature bits (§6). */
export const VIRTIO_F_INDIRECT_DESC = 28;
export const VIRTIO_F_EVENT_IDX = 29;
export const VIRTIO_F_VERSION_1 = 32;
export const VIRTIO_F_RING_PACKED = 34;

/** MSI-X capability (PCI 3.0 §6.8.2): 12 bytes. */
export const MsixCap = {
  SIZE: 12,
  messageControl: 2, // le16: table size - 1 (bits 0-10), function mask (14), enable (15)
  table: 4, // le32: offset | BIR
  pba: 8, // le32: offset | BIR
} as const;
export const PCI_MSIX_FLAGS_QSIZE = 0x07ff;
export const PCI_MSIX_FLAGS_MASKALL = 1 << 14;
export const PCI_MSIX_FLAGS_ENABLE = 1 << 15;
/** One MSI-X table entry: le32 address lo, le32 address hi, le32 data, le32 vector control. */
export const MsixEntry = { SIZE: 16, addrLo: 0, addrHi: 4, data: 8, vectorControl: 12 } as const;
export const PCI_MSIX_ENTRY_CTRL_MASKBIT = 1;
