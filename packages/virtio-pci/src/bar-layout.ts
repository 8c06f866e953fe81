/**
 * Where the virtio structures live inside the function's one BAR. All structures share a BAR so
 * an I/O BAR (which emulators like v86 can relocate, unlike their memory BARs) holds everything;
 * an MSI-X table needs memory space (PCI 3.0 §6.8.2: the table is mapped by a memory BAR), so it
 * exists only in a memory BAR.
 */
import { CommonCfg } from './constants.js';

/** What the BAR is: port I/O (16-bit ports on x86), or 32/64-bit memory. */
export type BarKind = 'io' | 'mem32' | 'mem64';

/** Offsets and lengths of each structure inside the BAR, and the BAR's size. */
export interface BarLayout {
  readonly kind: BarKind;
  /** BAR register index (0..5; 0..4 for a 64-bit BAR, which takes two registers). */
  readonly index: number;
  /** Power of two, as PCI BAR sizing requires. */
  readonly size: number;
  readonly common: Region;
  readonly isr: Region;
  readonly device: Region;
  readonly notify: Region;
  /** Bytes between two queues' notification addresses (even power of 2, §4.1.4.4). */
  readonly notifyOffMultiplier: number;
  readonly msixTable: Region | null;
  readonly msixPba: Region | null;
}

/** A byte range of the BAR. */
export interface Region {
  readonly offset: number;
  readonly length: number;
}

/** Inputs of {@link layoutBar}. */
export interface BarLayoutOptions {
  kind: BarKind;
  index: number;
  numQueues: number;
  /** Bytes of device-specific configuration (virtio_gpu_config: 16). */
  deviceConfigSize: number;
  /** MSI-X vectors, 0 for none; needs a memory BAR. */
  msixVectors: number;
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Smallest power of two >= n. */
function pow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * Lays the structures out in order common, ISR, device, notify, MSI-X table, PBA, each aligned
 * as its capability requires (§4.1.4: offsets of common and device cfg 4-aligned, notify 2),
 * and sizes the BAR: I/O BARs stay as small as possible (at most 256 ports, PCI 3.0 §6.2.5.1),
 * memory BARs are at least a page so a guest can map them alone.
 * @throws RangeError when the layout does not fit the BAR kind (host configuration).
 */
export function layoutBar(o: BarLayoutOptions): BarLayout {
  if (!Number.isInteger(o.index) || o.index < 0 || o.index > (o.kind === 'mem64' ? 4 : 5)) throw new RangeError(`BAR index ${o.index}`);
  if (!Number.isInteger(o.numQueues) || o.numQueues < 1 || o.numQueues > 0xffff) throw new RangeError(`numQueues ${o.numQueues}`);
  if (o.msixVectors > 0 && o.kind === 'io') throw new RangeError('MSI-X needs a memory BAR');
  if (!Number.isInteger(o.msixVectors) || o.msixVectors < 0 || o.msixVectors > 2048) throw new RangeError(`msixVectors ${o.msixVectors}`);
  const notifyOffMultiplier = 4;
  const common = { offset: 0, length: CommonCfg.SIZE };
  const isr = { offset: align(common.offset + common.length, 4), length: 1 };
  const device = { offset: align(isr.offset + 4, 16), length: Math.max(0, o.deviceConfigSize) };
  const notify = { offset: align(device.offset + device.length, 16), length: o.numQueues * notifyOffMultiplier };
  let end = notify.offset + notify.length;
  let msixTable: Region | null = null;
  let msixPba: Region | null = null;
  if (o.msixVectors > 0) {
    msixTable = { offset: align(end, 0x800), length: o.msixVectors * 16 };
    msixPba = { offset: align(msixTable.offset + msixTable.length, 8), length: Math.ceil(o.msixVectors / 64) * 8 };
    end = msixPba.offset + msixPba.length;
  }
  const size = o.kind === 'io' ? pow2(Math.max(16, end)) : pow2(Math.max(4096, end));
  if (o.kind === 'io' && size > 256) throw new RangeError(`an I/O BAR of ${size} ports is over 256`);
  return { kind: o.kind, index: o.index, size, common, isr, device, notify, notifyOffMultiplier, msixTable, msixPba };
}

/** Whether `offset` lies in `r`. */
export function inRegion(r: Region | null, offset: number): r is Region {
  return r !== null && offset >= r.offset && offset < r.offset + r.length;
}
