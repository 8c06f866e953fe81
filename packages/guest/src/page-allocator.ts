import { Prng } from './prng';

/**
 * Allocates guest pages in one guest-physical window. A bitmap rather than a free list, so that
 * deliberately scattered allocations (random free pages) and contiguous first-fit allocations
 * can share one pool.
 */
export class PageAllocator {
  /** Bytes per page. */
  readonly pageSize: number;
  /** Guest-physical address of page 0. */
  readonly base: number;
  /** Number of pages managed. */
  readonly pageCount: number;
  private readonly used: Uint8Array;
  private freePages: number;
  /** Where the next first-fit search starts, so repeated allocations stay O(allocation). */
  private cursor = 0;

  constructor(base: number, bytes: number, pageSize = 4096) {
    if (!Number.isSafeInteger(base) || base < 0 || base % pageSize !== 0) throw new RangeError(`page allocator: bad base ${base}`);
    this.pageSize = pageSize;
    this.base = base;
    this.pageCount = Math.floor(bytes / pageSize);
    this.used = new Uint8Array(this.pageCount);
    this.freePages = this.pageCount;
  }

  /** Pages still free. */
  get free(): number {
    return this.freePages;
  }

  /** Allocates `bytes` (rounded up to pages) contiguously; returns the guest address. Throws when out of memory. */
  allocContiguous(bytes: number): number {
    const n = Math.max(1, Math.ceil(bytes / this.pageSize));
    for (let pass = 0; pass < 2; pass++) {
      let run = 0;
      const start = pass === 0 ? this.cursor : 0;
      const end = pass === 0 ? this.pageCount : Math.min(this.pageCount, this.cursor + n);
      for (let p = start; p < end; p++) {
        run = this.used[p] ? 0 : run + 1;
        if (run === n) {
          const first = p - n + 1;
          this.used.fill(1, first, p + 1);
          this.freePages -= n;
          this.cursor = p + 1;
          return this.base + first * this.pageSize;
        }
      }
    }
    throw new RangeError(`guest out of memory: ${n} contiguous pages`);
  }

  /**
   * Allocates `bytes` as single pages chosen at random among the free ones (seeded), in the order
   * they are handed out: the scattered layout a long-running guest's page allocator produces.
   */
  allocScattered(bytes: number, rng: Prng): number[] {
    const n = Math.max(1, Math.ceil(bytes / this.pageSize));
    if (n > this.freePages) throw new RangeError(`guest out of memory: ${n} pages`);
    const pages: number[] = new Array(n);
    for (let i = 0; i < n; i++) {
      let p = rng.below(this.pageCount);
      while (this.used[p]) p = (p + 1) % this.pageCount;
      this.used[p] = 1;
      pages[i] = this.base + p * this.pageSize;
    }
    this.freePages -= n;
    return pages;
  }

  /** Frees `bytes` (rounded up to pages) starting at guest address `gpa`. */
  freeRange(gpa: number, bytes: number): void {
    const first = (gpa - this.base) / this.pageSize;
    const n = Math.max(1, Math.ceil(bytes / this.pageSize));
    if (!Number.isInteger(first) || first < 0 || first + n > this.pageCount) throw new RangeError(`free of foreign range ${gpa}`);
    for (let p = first; p < first + n; p++) {
      if (!this.used[p]) throw new RangeError(`double free of page ${this.base + p * this.pageSize}`);
      this.used[p] = 0;
    }
    this.freePages += n;
    if (first < this.cursor) this.cursor = first;
  }
}
