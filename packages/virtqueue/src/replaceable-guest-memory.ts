/**
 * Guest memory whose regions a host replaces while the device keeps holding the same object: a
 * vhost-user frontend sends a new memory table, v86 grows its wasm memory and detaches every
 * view. Each replacement builds a fresh {@link ArrayGuestMemory}, because that class caches views
 * on the assumption that its regions never change; this object forwards to the current one.
 */
import { ArrayGuestMemory, type GuestMemory, type GuestRegion } from './guest-memory.js';

/** A {@link GuestMemory} over regions replaced whole with {@link replaceRegions}. */
export class ReplaceableGuestMemory implements GuestMemory {
  private inner: ArrayGuestMemory;

  constructor(regions: readonly GuestRegion[] = []) {
    this.inner = new ArrayGuestMemory(regions);
  }

  /**
   * Serve lookups from `regions` from now on. Views handed out before still see the old bytes;
   * the host rebuilds whatever kept them (queues, backings).
   * @throws RangeError for overlapping regions or unsafe addresses (host configuration).
   */
  protected replaceRegions(regions: readonly GuestRegion[]): void {
    this.inner = new ArrayGuestMemory(regions);
  }

  view(gpa: number, length: number): Uint8Array | null {
    return this.inner.view(gpa, length);
  }

  slices(gpa: number, length: number): Uint8Array[] | null {
    return this.inner.slices(gpa, length);
  }

  isMapped(gpa: number, length: number): boolean {
    return this.inner.isMapped(gpa, length);
  }

  readInto(gpa: number, dst: Uint8Array): boolean {
    return this.inner.readInto(gpa, dst);
  }

  writeFrom(gpa: number, src: Uint8Array): boolean {
    return this.inner.writeFrom(gpa, src);
  }
}
