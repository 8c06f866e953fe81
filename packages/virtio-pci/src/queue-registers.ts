/**
 * The per-queue registers of the common configuration (§4.1.4.3: queue_size, queue_msix_vector,
 * queue_enable, queue_desc/driver/device) and turning an enabled queue into a device-side
 * {@link SplitQueue} or {@link PackedQueue}.
 */
import { type GuestMemory, PackedQueue, SplitQueue, type Virtqueue } from '@virtio-gpu/virtqueue';
import { VIRTIO_MSI_NO_VECTOR } from './constants.js';

/** Ring layout and features fixed at FEATURES_OK. */
export interface RingMode {
  packed: boolean;
  eventIdx: boolean;
}

/** One queue's registers. Addresses are kept as u32 halves: they arrive as two le32 writes. */
export class QueueRegisters {
  size: number;
  msixVector = VIRTIO_MSI_NO_VECTOR;
  enabled = false;
  /** desc, driver, device addresses: [lo, hi] each. */
  readonly addr = new Uint32Array(6);

  constructor(readonly maxSize: number) {
    this.size = maxSize;
  }

  /** Back to the reset state (§4.1.4.3.1: queue_enable 0, queue_size the maximum). */
  reset(): void {
    this.size = this.maxSize;
    this.msixVector = VIRTIO_MSI_NO_VECTOR;
    this.enabled = false;
    this.addr.fill(0);
  }

  /** Guest address of area `i` (0 desc, 1 driver, 2 device), or -1 past 2^53. */
  address(i: number): number {
    const hi = this.addr[2 * i + 1];
    if (hi > 0x1f_ffff) return -1;
    return hi * 0x1_0000_0000 + this.addr[2 * i];
  }

  /**
   * Whether the driver may set queue_size to `n` (§4.1.4.3.2): 1..max, and a power of 2 unless
   * the packed layout was negotiated.
   */
  acceptsSize(n: number, packed: boolean): boolean {
    return n >= 1 && n <= this.maxSize && (packed || (n & (n - 1)) === 0);
  }

  /** Why the configured rings cannot be used, or null (split/packed alignment and mapping). */
  check(mem: GuestMemory, mode: RingMode): string | null {
    if (mode.packed) {
      return PackedQueue.check(mem, { size: this.size, descAddr: this.address(0), driverAddr: this.address(1), deviceAddr: this.address(2), eventIdx: mode.eventIdx });
    }
    return SplitQueue.check(mem, { size: this.size, descAddr: this.address(0), availAddr: this.address(1), usedAddr: this.address(2), eventIdx: mode.eventIdx });
  }

  /** The device side of the queue; call only after {@link check} passed. */
  build(mem: GuestMemory, mode: RingMode): SplitQueue | PackedQueue {
    if (mode.packed) {
      return new PackedQueue(mem, { size: this.size, descAddr: this.address(0), driverAddr: this.address(1), deviceAddr: this.address(2), eventIdx: mode.eventIdx });
    }
    return new SplitQueue(mem, { size: this.size, descAddr: this.address(0), availAddr: this.address(1), usedAddr: this.address(2), eventIdx: mode.eventIdx });
  }
}

/** Ring positions of a live queue, for snapshots. */
export type QueuePosition =
  | { kind: 'split'; lastAvailIdx: number; usedIdx: number }
  | { kind: 'packed'; avail: { index: number; wrap: boolean }; used: { index: number; wrap: boolean } };

/** The positions of `q`. */
export function queuePosition(q: SplitQueue | PackedQueue): QueuePosition {
  if (q instanceof SplitQueue) return { kind: 'split', lastAvailIdx: q.lastAvailIdx, usedIdx: q.usedIdx };
  return { kind: 'packed', avail: q.availState, used: q.usedState };
}

/** Puts `q` back at `p` (same ring kind), e.g. after rebuilding it over new memory views. */
export function restorePosition(q: SplitQueue | PackedQueue, p: QueuePosition): void {
  if (q instanceof SplitQueue && p.kind === 'split') q.restoreIndexes(p.lastAvailIdx, p.usedIdx);
  else if (q instanceof PackedQueue && p.kind === 'packed') q.restoreState(p.avail, p.used);
}

/** A queue the driver left disabled: never has buffers. */
export class DisabledQueue implements Virtqueue {
  readonly broken = null;
  pop(): null {
    return null;
  }
  pushUsed(): void {}
  shouldNotify(): boolean {
    return false;
  }
  reset(): void {}
}
