import type { Rect } from './types.js';

/** Largest coordinate or size a rect may carry: the range of the wire's le32 fields. */
const U32_MAX = 0xffff_ffff;

/**
 * True when `r` holds four integers in the le32 range. Rects come from the guest (via the
 * device), so NaN, negatives and fractions are possible and must not reach index arithmetic.
 */
export function isValidRect(r: unknown): r is Rect {
  if (typeof r !== 'object' || r === null) return false;
  const { x, y, width, height } = r as Record<string, unknown>;
  return isU32(x) && isU32(y) && isU32(width) && isU32(height);
}

function isU32(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= U32_MAX;
}

/**
 * Intersects `r` with the `width` x `height` surface at the origin. Returns null when nothing is
 * left. Plain doubles cannot overflow at u32 sums, so `x + width` is safe here.
 */
export function clipRect(r: Rect, width: number, height: number): Rect | null {
  const x0 = Math.min(r.x, width);
  const y0 = Math.min(r.y, height);
  const x1 = Math.min(r.x + r.width, width);
  const y1 = Math.min(r.y + r.height, height);
  if (x1 <= x0 || y1 <= y0) return null;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Pixel count of `r`. */
export function rectArea(r: Rect): number {
  return r.width * r.height;
}

/** The smallest rect holding both `a` and `b`. */
export function unionRect(a: Rect, b: Rect): Rect {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  const x1 = Math.max(a.x + a.width, b.x + b.width);
  const y1 = Math.max(a.y + a.height, b.y + b.height);
  return { x, y, width: x1 - x, height: y1 - y };
}

/** True when `outer` covers every pixel of `inner`. */
export function containsRect(outer: Rect, inner: Rect): boolean {
  return (
    inner.x >= outer.x &&
    inner.y >= outer.y &&
    inner.x + inner.width <= outer.x + outer.width &&
    inner.y + inner.height <= outer.y + outer.height
  );
}

/** Pixel count of the overlap of `a` and `b` (0 when they are disjoint). */
export function overlapArea(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}
