/**
 * Telling v86's JIT about device writes. v86 compiles guest code per 4 KiB page and must drop
 * that code when the page changes; its own devices write guest memory through `write_blob`,
 * which calls `jit_dirty_cache(start, end)`. Our queues write through typed-array views, so this
 * wrapper reports each range the device wrote: the writable buffers of every chain it returns
 * (up to the bytes written) and the ring areas the device updates (used ring, or the packed
 * descriptor ring and device event area) once per batch.
 */
import type { DescriptorChain, Virtqueue } from '@virtio-gpu/virtqueue';

/** Marks guest-physical [start, end) as written. */
export type DirtyRange = (start: number, end: number) => void;

/** A {@link Virtqueue} that reports the device's writes to `dirty`. */
export class JitReportingQueue implements Virtqueue<DescriptorChain> {
  private ringWritten = false;

  constructor(
    readonly inner: Virtqueue<DescriptorChain>,
    /** Ring areas the device writes: [gpa, bytes] pairs. */
    private readonly deviceAreas: readonly (readonly [number, number])[],
    private readonly dirty: DirtyRange,
  ) {}

  get broken() {
    return this.inner.broken;
  }

  pop(): DescriptorChain | null {
    return this.inner.pop();
  }

  pushUsed(chain: DescriptorChain, bytesWritten: number): void {
    // The writable descriptors follow the readable ones; the device filled them in order.
    let left = Math.min(bytesWritten, chain.writableBytes);
    for (let i = 0; i < chain.descriptorCount && left > 0; i++) {
      if (!chain.descriptorWritable(i)) continue;
      const gpa = chain.descriptorGpa(i);
      const n = Math.min(left, chain.descriptorLength(i));
      this.dirty(gpa, gpa + n);
      left -= n;
    }
    this.inner.pushUsed(chain, bytesWritten);
    this.ringWritten = true;
  }

  shouldNotify(): boolean {
    this.flushRing();
    return this.inner.shouldNotify();
  }

  /** Reports the ring areas if anything was pushed since the last report. */
  flushRing(): void {
    if (!this.ringWritten) return;
    this.ringWritten = false;
    for (const [gpa, len] of this.deviceAreas) this.dirty(gpa, gpa + len);
  }

  reset(): void {
    this.inner.reset();
  }
}
