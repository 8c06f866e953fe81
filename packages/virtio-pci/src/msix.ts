/**
 * MSI-X table and pending-bit array (PCI 3.0 §6.8.2), for hosts that deliver message-signalled
 * interrupts. A vector fires as a write of its message data to its message address through the
 * host; a masked vector (its own mask bit or the function mask) sets its pending bit instead and
 * fires when unmasked (§6.8.2.9).
 */
import { MsixEntry, PCI_MSIX_ENTRY_CTRL_MASKBIT } from './constants.js';

/** Delivers one MSI message (address as two u32 halves). */
export type MsiSink = (addressLo: number, addressHi: number, data: number) => void;

/** The table and PBA of `vectors` entries. */
export class MsixTable {
  /** Table bytes: entries of 16 bytes. */
  readonly table: Uint8Array;
  /** Pending bits, one per vector, in u64 words. */
  readonly pba: Uint8Array;
  private readonly dv: DataView;

  constructor(
    readonly vectors: number,
    private readonly send: MsiSink,
  ) {
    this.table = new Uint8Array(vectors * MsixEntry.SIZE);
    this.pba = new Uint8Array(Math.ceil(vectors / 64) * 8);
    this.dv = new DataView(this.table.buffer);
    this.reset();
  }

  /** Every vector masked, addresses and data 0, nothing pending (the state after PCI reset). */
  reset(): void {
    this.table.fill(0);
    this.pba.fill(0);
    for (let v = 0; v < this.vectors; v++) this.dv.setUint32(v * MsixEntry.SIZE + MsixEntry.vectorControl, PCI_MSIX_ENTRY_CTRL_MASKBIT, true);
  }

  /** Reads a dword of the table (dword-aligned; PCI 3.0 §6.8.2: DWORD or QWORD accesses). */
  readTable(offset: number, size: number): number {
    if (size !== 4 || offset % 4 !== 0 || offset + 4 > this.table.length) return 0;
    return this.dv.getUint32(offset, true);
  }

  /** Writes a dword of the table; unmasking a pending vector delivers it. */
  writeTable(offset: number, size: number, value: number, functionMasked: boolean): void {
    if (size !== 4 || offset % 4 !== 0 || offset + 4 > this.table.length) return;
    const field = offset % MsixEntry.SIZE;
    // Only bit 0 of vector control is defined; the rest is reserved and reads 0.
    this.dv.setUint32(offset, field === MsixEntry.vectorControl ? value & PCI_MSIX_ENTRY_CTRL_MASKBIT : value >>> 0, true);
    if (field === MsixEntry.vectorControl && !functionMasked) this.flush();
  }

  /** Reads a dword of the pending-bit array (read-only). */
  readPba(offset: number, size: number): number {
    if (size !== 4 || offset % 4 !== 0 || offset + 4 > this.pba.length) return 0;
    return new DataView(this.pba.buffer).getUint32(offset, true);
  }

  private masked(v: number): boolean {
    return (this.dv.getUint32(v * MsixEntry.SIZE + MsixEntry.vectorControl, true) & PCI_MSIX_ENTRY_CTRL_MASKBIT) !== 0;
  }

  /** Fires vector `v` (in range), or marks it pending while masked. */
  fire(v: number, functionMasked: boolean): void {
    if (v < 0 || v >= this.vectors) return;
    if (functionMasked || this.masked(v)) {
      this.pba[v >> 3] |= 1 << (v & 7);
      return;
    }
    const at = v * MsixEntry.SIZE;
    this.send(this.dv.getUint32(at + MsixEntry.addrLo, true), this.dv.getUint32(at + MsixEntry.addrHi, true), this.dv.getUint32(at + MsixEntry.data, true));
  }

  /** Delivers every pending vector that is no longer masked (after an unmask). */
  flush(): void {
    for (let v = 0; v < this.vectors; v++) {
      if ((this.pba[v >> 3] & (1 << (v & 7))) === 0 || this.masked(v)) continue;
      this.pba[v >> 3] &= ~(1 << (v & 7));
      this.fire(v, false);
    }
  }
}
