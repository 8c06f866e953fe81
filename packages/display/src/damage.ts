import { containsRect, overlapArea, rectArea, unionRect } from './rect.js';
import type { Rect } from './types.js';

/** Default cap on pending rects: past a handful, one more message costs more than a few extra pixels. */
export const DEFAULT_MAX_DAMAGE_RECTS = 16;

/**
 * Collects damage rectangles between two consumers' reads and keeps the list small.
 *
 * A guest can flush thousands of tiny rects per frame; sending each one separately would cost a
 * header and a syscall per rect, so rects merge when that wastes no pixels, and when more than
 * `maxRects` remain the pair whose union adds the fewest pixels is merged until the cap holds.
 * Memory stays bounded by `maxRects` whatever the guest sends.
 */
export class DamageAccumulator {
  private rects: Rect[] = [];

  /** @param maxRects most rects kept pending (at least 1). */
  constructor(readonly maxRects: number = DEFAULT_MAX_DAMAGE_RECTS) {
    if (!Number.isInteger(maxRects) || maxRects < 1) throw new RangeError(`maxRects must be a positive integer, got ${maxRects}`);
  }

  /** True when nothing is pending. */
  get isEmpty(): boolean {
    return this.rects.length === 0;
  }

  /** Number of pending rects. */
  get count(): number {
    return this.rects.length;
  }

  /** Adds a rect (already clipped and validated by the caller); empty rects are ignored. */
  add(rect: Rect): void {
    if (rect.width <= 0 || rect.height <= 0) return;
    let cur: Rect = { x: rect.x, y: rect.y, width: rect.width, height: rect.height };
    // Merge with every rect where the union costs no pixels beyond the two; repeat, since a
    // grown rect may now absorb others.
    let merged = true;
    while (merged) {
      merged = false;
      for (let i = 0; i < this.rects.length; i++) {
        const other = this.rects[i];
        if (containsRect(other, cur)) return;
        const u = unionRect(other, cur);
        if (containsRect(cur, other) || rectArea(u) <= rectArea(other) + rectArea(cur) - overlapArea(other, cur)) {
          cur = u;
          this.rects.splice(i, 1);
          merged = true;
          break;
        }
      }
    }
    this.rects.push(cur);
    while (this.rects.length > this.maxRects) this.mergeCheapestPair();
  }

  /** Returns the pending rects and empties the accumulator. */
  take(): Rect[] {
    const out = this.rects;
    this.rects = [];
    return out;
  }

  /** A copy of the pending rects, leaving them pending. */
  peek(): Rect[] {
    return this.rects.map((r) => ({ ...r }));
  }

  /** Drops everything pending. */
  clear(): void {
    this.rects = [];
  }

  private mergeCheapestPair(): void {
    const rs = this.rects;
    let bestI = 0;
    let bestJ = 1;
    let bestCost = Infinity;
    for (let i = 0; i < rs.length; i++) {
      for (let j = i + 1; j < rs.length; j++) {
        const cost = rectArea(unionRect(rs[i], rs[j])) - rectArea(rs[i]) - rectArea(rs[j]) + overlapArea(rs[i], rs[j]);
        if (cost < bestCost) {
          bestCost = cost;
          bestI = i;
          bestJ = j;
        }
      }
    }
    const u = unionRect(rs[bestI], rs[bestJ]);
    rs.splice(bestJ, 1);
    rs.splice(bestI, 1);
    // The union may swallow others now; re-adding through add() keeps the invariants.
    this.add(u);
  }
}
