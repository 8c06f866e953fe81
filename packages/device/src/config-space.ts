/**
 * struct virtio_gpu_config (virtio-gpu §5.7.4): events_read (RO), events_clear (write 1 to clear
 * a bit of events_read; reads 0), num_scanouts (RO), num_capsets (RO). Accessed by offset and
 * size like a transport does; out-of-range reads give 0 and writes to read-only bytes are ignored.
 */
import { Config } from '@virtio-gpu/protocol';

/** The live config space. */
export class ConfigSpace {
  /** Pending VIRTIO_GPU_EVENT_* bits. */
  eventsRead = 0;

  constructor(
    /** Number of scanouts, fixed for the device's life. */
    readonly numScanouts: number,
    /** Number of capsets the renderer answers. */
    readonly numCapsets: number,
  ) {}

  private word(index: number): number {
    switch (index) {
      case Config.eventsRead / 4:
        return this.eventsRead >>> 0;
      case Config.numScanouts / 4:
        return this.numScanouts >>> 0;
      case Config.numCapsets / 4:
        return this.numCapsets >>> 0;
      default:
        return 0; // events_clear reads as zero; beyond the struct reads zero
    }
  }

  /** Read `size` (1, 2 or 4) bytes at `offset`, little-endian; anything else reads 0. */
  read(offset: number, size: number): number {
    if (!(size === 1 || size === 2 || size === 4) || !Number.isInteger(offset) || offset < 0) return 0;
    if (offset + size > Config.SIZE) return 0;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) {
      const at = offset + i;
      const byte = (this.word(at >>> 2) >>> ((at & 3) * 8)) & 0xff;
      v = v * 256 + byte;
    }
    return v;
  }

  /**
   * Write `size` bytes of `value` at `offset`. Only events_clear is writable: each set bit
   * clears that bit of events_read. Returns true when events_read changed.
   */
  write(offset: number, size: number, value: number): boolean {
    if (!(size === 1 || size === 2 || size === 4) || !Number.isInteger(offset) || offset < 0) return false;
    if (offset + size > Config.SIZE) return false;
    const before = this.eventsRead;
    for (let i = 0; i < size; i++) {
      const at = offset + i;
      if (at >>> 2 !== Config.eventsClear / 4) continue;
      const byte = Math.floor(value / 256 ** i) & 0xff;
      this.eventsRead &= ~(byte << ((at & 3) * 8));
    }
    this.eventsRead >>>= 0;
    return this.eventsRead !== before;
  }
}
