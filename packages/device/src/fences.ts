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

/** Commands waiting on fences, per timeline, in submission order. */
export class FenceTimelines<T> {
  private readonly pending = new Map<string, { fenceId: bigint; item: T }[]>();

  /** Hold `item` until `fenceId` on `timeline` retires. */
  add(timeline: FenceTimeline, fenceId: bigint, item: T): void {
    const key = timelineKey(timeline);
    let list = this.pending.get(key);
    if (!list) this.pending.set(key, (list = []));
    list.push({ fenceId, item });
  }

  /**
   * Remove and return (in submission order) every item of `timeline` with fence id <= `fenceId`.
   * The result is read-only (an empty result is shared). Survivors are compacted in place and an
   * emptied timeline keeps its list, so a fence round trip allocates only its result.
   */
  retire(timeline: FenceTimeline, fenceId: bigint): readonly T[] {
    const list = this.pending.get(timelineKey(timeline));
    if (!list) return NONE;
    let done: T[] | null = null;
    let kept = 0;
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      if (p.fenceId <= fenceId) (done ??= []).push(p.item);
      else list[kept++] = p;
    }
    list.length = kept;
    return done ?? NONE;
  }

  /** Remove one held item (its fence could not be created); false when it is not pending. */
  remove(item: T): boolean {
    for (const [key, list] of this.pending) {
      const i = list.findIndex((p) => p.item === item);
      if (i < 0) continue;
      list.splice(i, 1);
      if (list.length === 0) this.pending.delete(key);
      return true;
    }
    return false;
  }

  /** Remove and return every item on the rings of context `ctxId`. */
  dropContext(ctxId: number): T[] {
    const out: T[] = [];
    for (const [key, list] of this.pending) {
      if (key.startsWith(`${ctxId}:`)) {
        for (const p of list) out.push(p.item);
        this.pending.delete(key);
      }
    }
    return out;
  }

  /** Every pending item with its fence id and timeline key. */
  entries(): { key: string; fenceId: bigint; item: T }[] {
    const out: { key: string; fenceId: bigint; item: T }[] = [];
    for (const [key, list] of this.pending) for (const p of list) out.push({ key, fenceId: p.fenceId, item: p.item });
    return out;
  }

  /** Number of pending items. */
  get size(): number {
    let n = 0;
    for (const l of this.pending.values()) n += l.length;
    return n;
  }

  /** Drop everything (reset). */
  clear(): void {
    this.pending.clear();
  }
}
