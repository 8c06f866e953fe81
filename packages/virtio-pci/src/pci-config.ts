/**
 * The function's 256-byte PCI configuration space (PCI 3.0 §6.1): a type 0 header, one BAR, and
 * the capability list virtio 1.2 §4.1.4 asks for (common, notify, ISR, device, PCI-config access
 * and, with a memory BAR, MSI-X). Registers are modelled byte by byte with a write mask, so any
 * access width reads consistently; reads and writes of the PCI-config access window and the
 * MSI-X control word are handed to the owner, which performs the BAR access (§4.1.4.9) or
 * switches interrupt modes.
 */
import { type BarLayout, type Region } from './bar-layout.js';
import {
  MsixCap,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_SPACE_IO,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_VNDR,
  PCI_COMMAND_WRITABLE,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
  PCI_STATUS_CAP_LIST,
  PCI_STATUS_INTERRUPT,
  PciCfg,
  VIRTIO_PCI_CAP_COMMON_CFG,
  VIRTIO_PCI_CAP_DEVICE_CFG,
  VIRTIO_PCI_CAP_ISR_CFG,
  VIRTIO_PCI_CAP_NOTIFY_CFG,
  VIRTIO_PCI_CAP_PCI_CFG,
  VirtioPciCap,
} from './constants.js';

/** Identity of the function in its header. */
export interface PciIdentity {
  vendorId: number;
  deviceId: number;
  subsystemVendorId: number;
  subsystemId: number;
  revisionId: number;
  /** Class code, subclass, programming interface: 0x038000 is "other display controller". */
  classCode: number;
}

/** What the config space asks its owner to do. */
export interface PciConfigHooks {
  /** The driver accessed pci_cfg_data: perform the BAR access the window describes. */
  cfgWindowRead(bar: number, offset: number, length: number): number;
  cfgWindowWrite(bar: number, offset: number, length: number, value: number): void;
  /** The command register or MSI-X control changed (interrupt routing may change). */
  controlChanged(): void;
}

const FIRST_CAP = 0x40;

/** PCI configuration space of one virtio-pci function. */
export class PciConfigSpace {
  /** Current register bytes (little-endian), e.g. for mirroring into an emulator's table. */
  readonly bytes = new Uint8Array(PciCfg.SIZE);
  /** Per byte, the bits a driver may change. */
  private readonly mask = new Uint8Array(PciCfg.SIZE);
  /** Offset of the virtio_pci_cfg_cap, and of the MSI-X capability (0 when absent). */
  readonly pciCfgCap: number;
  readonly msixCap: number;
  /** Each capability's offset by cfg_type, for tests and emulator glue. */
  readonly caps: ReadonlyMap<number, number>;

  constructor(
    id: PciIdentity,
    private readonly bar: BarLayout,
    private readonly hooks: PciConfigHooks,
  ) {
    const b = this.bytes;
    put16(b, PciCfg.vendorId, id.vendorId);
    put16(b, PciCfg.deviceId, id.deviceId);
    put16(b, PciCfg.status, PCI_STATUS_CAP_LIST);
    b[PciCfg.revisionId] = id.revisionId;
    b[PciCfg.classProg] = id.classCode & 0xff;
    b[PciCfg.subclass] = (id.classCode >> 8) & 0xff;
    b[PciCfg.classCode] = (id.classCode >> 16) & 0xff;
    put16(b, PciCfg.subsystemVendorId, id.subsystemVendorId);
    put16(b, PciCfg.subsystemId, id.subsystemId);
    b[PciCfg.interruptPin] = 1; // INTA#
    put16(this.mask, PciCfg.command, PCI_COMMAND_WRITABLE);
    this.mask[PciCfg.cacheLineSize] = 0xff;
    this.mask[PciCfg.latencyTimer] = 0xff;
    this.mask[PciCfg.interruptLine] = 0xff;
    this.initBar();

    const caps = new Map<number, number>();
    let at = FIRST_CAP;
    const link: number[] = [];
    const vcap = (type: number, r: Region, size: number): number => {
      const off = at;
      b[off + VirtioPciCap.capVndr] = PCI_CAP_ID_VNDR;
      b[off + VirtioPciCap.capLen] = size;
      b[off + VirtioPciCap.cfgType] = type;
      b[off + VirtioPciCap.bar] = bar.index;
      put32(b, off + VirtioPciCap.offset, r.offset);
      put32(b, off + VirtioPciCap.length, r.length);
      caps.set(type, off);
      link.push(off);
      at += size;
      return off;
    };
    vcap(VIRTIO_PCI_CAP_COMMON_CFG, bar.common, VirtioPciCap.SIZE);
    const n = vcap(VIRTIO_PCI_CAP_NOTIFY_CFG, bar.notify, VirtioPciCap.NOTIFY_SIZE);
    put32(b, n + VirtioPciCap.notifyOffMultiplier, bar.notifyOffMultiplier);
    vcap(VIRTIO_PCI_CAP_ISR_CFG, bar.isr, VirtioPciCap.SIZE);
    if (bar.device.length > 0) vcap(VIRTIO_PCI_CAP_DEVICE_CFG, bar.device, VirtioPciCap.SIZE);
    // The access window: the driver writes bar, offset and length, then reads or writes the data.
    this.pciCfgCap = vcap(VIRTIO_PCI_CAP_PCI_CFG, { offset: 0, length: 0 }, VirtioPciCap.PCI_CFG_SIZE);
    this.mask[this.pciCfgCap + VirtioPciCap.bar] = 0xff;
    this.mask.fill(0xff, this.pciCfgCap + VirtioPciCap.offset, this.pciCfgCap + VirtioPciCap.PCI_CFG_SIZE);
    this.msixCap = 0;
    if (bar.msixTable !== null && bar.msixPba !== null) {
      this.msixCap = at;
      b[at] = PCI_CAP_ID_MSIX;
      put16(b, at + MsixCap.messageControl, bar.msixTable.length / 16 - 1);
      put32(b, at + MsixCap.table, bar.msixTable.offset | bar.index);
      put32(b, at + MsixCap.pba, bar.msixPba.offset | bar.index);
      put16(this.mask, at + MsixCap.messageControl, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
      link.push(at);
      at += MsixCap.SIZE;
    }
    b[PciCfg.capabilitiesPointer] = FIRST_CAP;
    for (let i = 0; i < link.length; i++) b[link[i] + 1] = i + 1 < link.length ? link[i + 1] : 0;
    this.caps = caps;
  }

  private initBar(): void {
    const at = PciCfg.bar0 + 4 * this.bar.index;
    const low = this.bar.kind === 'io' ? PCI_BASE_ADDRESS_SPACE_IO : this.bar.kind === 'mem64' ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0;
    put32(this.bytes, at, low);
    // Address bits above the size are writable; the type bits and the size's low bits are not.
    // I/O BARs keep all 32 bits writable like QEMU's: SeaBIOS sizes them from the whole dword.
    put32(this.mask, at, ~(this.bar.size - 1) >>> 0);
    if (this.bar.kind === 'mem64') put32(this.mask, at + 4, 0xffff_ffff);
  }

  /** The command register. */
  get command(): number {
    return get16(this.bytes, PciCfg.command);
  }

  /** Base address the BAR is programmed to (ports or bytes; 64-bit BARs may exceed 2^32). */
  get barAddress(): number {
    const at = PciCfg.bar0 + 4 * this.bar.index;
    const lo = get32(this.bytes, at) & (this.bar.kind === 'io' ? 0xfffffffc : 0xfffffff0);
    const hi = this.bar.kind === 'mem64' ? get32(this.bytes, at + 4) : 0;
    return hi * 0x1_0000_0000 + (lo >>> 0);
  }

  /** The MSI-X message control word, 0 without MSI-X. */
  get msixControl(): number {
    return this.msixCap === 0 ? 0 : get16(this.bytes, this.msixCap + MsixCap.messageControl);
  }

  /** Reflects INTx into the status register's Interrupt Status bit (§4.1.4.5.1). */
  setInterruptStatus(asserted: boolean): void {
    const s = get16(this.bytes, PciCfg.status);
    put16(this.bytes, PciCfg.status, asserted ? s | PCI_STATUS_INTERRUPT : s & ~PCI_STATUS_INTERRUPT);
  }

  /**
   * Reads `size` (1, 2 or 4) bytes at `offset`. Out-of-range or odd-sized accesses read 0 (a
   * driver bug, never an exception). Reading pci_cfg_data performs the windowed BAR read first.
   */
  read(offset: number, size: number): number {
    if (!validAccess(offset, size, PciCfg.SIZE)) return 0;
    const data = this.pciCfgCap + VirtioPciCap.pciCfgData;
    if (this.overlaps(offset, size, data, 4)) this.windowRead();
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.bytes[offset + i];
    return v;
  }

  /** Writes `size` bytes of `value` at `offset` through the write mask; bad accesses are ignored. */
  write(offset: number, size: number, value: number): void {
    if (!validAccess(offset, size, PciCfg.SIZE)) return;
    const before = this.command;
    const msixBefore = this.msixControl;
    for (let i = 0; i < size; i++) {
      const at = offset + i;
      const m = this.mask[at];
      const byte = Math.floor(value / 256 ** i) & 0xff;
      this.bytes[at] = (this.bytes[at] & ~m) | (byte & m);
    }
    const data = this.pciCfgCap + VirtioPciCap.pciCfgData;
    if (this.overlaps(offset, size, data, 4)) this.windowWrite();
    if (this.command !== before || this.msixControl !== msixBefore) this.hooks.controlChanged();
  }

  /** Restores register bytes saved from {@link bytes} (a snapshot); the layout must match. */
  load(saved: Uint8Array): void {
    if (saved.length !== PciCfg.SIZE) throw new RangeError('PCI config snapshot is not 256 bytes');
    this.bytes.set(saved);
  }

  private overlaps(off: number, size: number, at: number, len: number): boolean {
    return off < at + len && at < off + size;
  }

  /** cap.bar, cap.offset and cap.length of the window, or null when the driver set them badly. */
  private window(): { bar: number; offset: number; length: number } | null {
    const c = this.pciCfgCap;
    const bar = this.bytes[c + VirtioPciCap.bar];
    const offset = get32(this.bytes, c + VirtioPciCap.offset);
    const length = get32(this.bytes, c + VirtioPciCap.length);
    // §4.1.4.9.2: length 1, 2 or 4 and offset a multiple of it; anything else does no access.
    if (!(length === 1 || length === 2 || length === 4) || offset % length !== 0) return null;
    return { bar, offset, length };
  }

  private windowRead(): void {
    const w = this.window();
    if (w === null) return;
    const v = this.hooks.cfgWindowRead(w.bar, w.offset, w.length);
    const at = this.pciCfgCap + VirtioPciCap.pciCfgData;
    for (let i = 0; i < w.length; i++) this.bytes[at + i] = Math.floor(v / 256 ** i) & 0xff;
  }

  private windowWrite(): void {
    const w = this.window();
    if (w === null) return;
    const at = this.pciCfgCap + VirtioPciCap.pciCfgData;
    let v = 0;
    for (let i = w.length - 1; i >= 0; i--) v = v * 256 + this.bytes[at + i];
    this.hooks.cfgWindowWrite(w.bar, w.offset, w.length, v);
  }
}

/** 1, 2 or 4 bytes, naturally aligned, inside `limit`. */
export function validAccess(offset: number, size: number, limit: number): boolean {
  return (size === 1 || size === 2 || size === 4) && Number.isInteger(offset) && offset >= 0 && offset % size === 0 && offset + size <= limit;
}

export function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
}

export function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

export function get16(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8);
}

export function get32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}
