/**
 * Fence timelines (virtio-gpu §5.7.6.7, "fences"). A command with VIRTIO_GPU_FLAG_FENCE is
 * answered only when its fence retires. Fences live on the global timeline or, with
 * VIRTIO_GPU_FLAG_INFO_RING_IDX (VIRTIO_GPU_F_CONTEXT_INIT), on ring ring_idx of context ctx_id;
 * retiring fence N answers every pending command of that timeline with fence_id <= N, in the
 * order they were submitted.
 */
import type { FenceTimeline } from './renderer.js';

/** Rings per context: ring_idx is a u8 but the Linux UAPI and rutabaga allow 64. */
export const MAX_RINGS = 64;

/** Map key of a timeline. */
export function timelineKey(t: FenceTimeline): string {
  return t.ringed ? `${t.ctxId}:${t.ringIdx}` : 'global';
}

/** The shared empty result of {@link FenceTimelines.retire}. */
const NONE: readonly never[] = Object.freeze([]);

/** One timeline's pending items in submission order: `n` live entries in parallel arrays. */
class Timeline<T> {
  readonly ids: bigint[] = [];
  readonly items: (T | null)[] = [];
  n = 0;
}

/**
 * Commands waiting on fences, per timeline, in submission order. A timeline's arrays are kept and
 * compacted in place, never shrunk, so a steady stream of fences allocates nothing here.
 */
export class FenceTimelines<T> {
  private readonly pending = new Map<string, Timeline<T>>();
  /** Reused by {@link retireEach} (never shrunk: `length = 0` would drop its storage). */
  private readonly scratch: (T | null)[] = [];
  private retiring = false;

  /** Hold `item` until `fenceId` on `timeline` retires. */
  add(timeline: FenceTimeline, fenceId: bigint, item: T): void {
    const key = timelineKey(timeline);
    let t = this.pending.get(key);
    if (!t) this.pending.set(key, (t = new Timeline<T>()));
    t.ids[t.n] = fenceId;
    t.items[t.n] = item;
    t.n++;
  }

  /**
   * Remove every item of `timeline` with fence id <= `fenceId` and call `each` on them, in
   * submission order, after the timeline is updated.
   */
  retireEach(timeline: FenceTimeline, fenceId: bigint, each: (item: T) => void): void {
    const t = this.pending.get(timelineKey(timeline));
    if (!t || t.n === 0) return;
    // A nested call (from inside `each`) must not reuse the outer call's scratch.
    const outer = !this.retiring;
    const done = outer ? this.scratch : [];
    let k = 0;
    this.retiring = true;
    try {
      let kept = 0;
      for (let i = 0; i < t.n; i++) {
        const item = t.items[i];
        if (t.ids[i] <= fenceId) {
          done[k++] = item;
        } else {
          t.ids[kept] = t.ids[i];
          t.items[kept++] = item;
        }
      }
      for (let i = kept; i < t.n; i++) t.items[i] = null;
      t.n = kept;
      for (let i = 0; i < k; i++) each(done[i] as T);
    } finally {
      for (let i = 0; i < k; i++) done[i] = null;
      if (outer) this.retiring = false;
    }
  }

  /**
   * Remove and return (in submission order) every item of `timeline` with fence id <= `fenceId`.
   * The result is read-only (an empty result is shared).
   */
  retire(timeline: FenceTimeline, fenceId: bigint): readonly T[] {
    let out: T[] | null = null;
    this.retireEach(timeline, fenceId, (item) => (out ??= []).push(item));
    return out ?? NONE;
  }

  /** Remove one held item (its fence could not be created); false when it is not pending. */
  remove(item: T): boolean {
    for (const t of this.pending.values()) {
      const i = t.items.indexOf(item);
      if (i < 0 || i >= t.n) continue;
      t.ids.copyWithin(i, i + 1, t.n);
      t.items.copyWithin(i, i + 1, t.n);
      t.n--;
      t.items[t.n] = null;
      return true;
    }
    return false;
  }

  /** Remove and return every item on the rings of context `ctxId`. */
  dropContext(ctxId: number): T[] {
    const out: T[] = [];
    for (const [key, t] of this.pending) {
      if (key.startsWith(`${ctxId}:`)) {
        for (let i = 0; i < t.n; i++) out.push(t.items[i] as T);
        this.pending.delete(key);
      }
    }
    return out;
  }

  /** Every pending item with its fence id and timeline key. */
  entries(): { key: string; fenceId: bigint; item: T }[] {
    const out: { key: string; fenceId: bigint; item: T }[] = [];
    for (const [key, t] of this.pending) for (let i = 0; i < t.n; i++) out.push({ key, fenceId: t.ids[i], item: t.items[i] as T });
    return out;
  }

  /** Number of pending items. */
  get size(): number {
    let n = 0;
    for (const t of this.pending.values()) n += t.n;
    return n;
  }

  /** Drop everything (reset). */
  clear(): void {
    this.pending.clear();
  }
}
