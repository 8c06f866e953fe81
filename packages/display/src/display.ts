import { applyCursorState, blendCursor, HIDDEN_CURSOR, type CursorInfo } from './cursor.js';
import { DamageAccumulator, DEFAULT_MAX_DAMAGE_RECTS } from './damage.js';
import { TypedEmitter } from './emitter.js';
import { encodePng } from './png.js';
import { clipRect, isValidRect } from './rect.js';
import { convertRowToRgba } from '@virtio-gpu/device';
import { VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, VIRTIO_GPU_MAX_SCANOUTS } from '@virtio-gpu/protocol';
import type { CursorState, Rect, RgbaImage, ScanoutInfo, ScanoutSink, ScanoutSource } from './types.js';

/** Default largest surface: 256 MiB of RGBA8 (a 8192x8192 scanout). */
export const DEFAULT_MAX_SURFACE_BYTES = 256 * 1024 * 1024;

/** Default largest scanout edge; 16384 is beyond any display mode a guest can set in practice. */
export const DEFAULT_MAX_SCANOUT_EDGE = 16384;

/**
 * A scanout's pixels as display holds them: RGBA8, row `y` at `y * strideBytes`.
 * `data` is the live buffer; read it, don't write it (use `composite()` for a copy).
 */
export interface Surface {
  readonly scanoutId: number;
  readonly width: number;
  readonly height: number;
  readonly strideBytes: number;
  readonly data: Uint8Array;
  /** The guest resource shown, as reported by the device. */
  readonly resourceId: number;
}

/** Options for `toPng` (and the Node entry's `writePng`). */
export interface PngOptions {
  /** Draw the cursor on top (default false: the bare scanout). */
  cursor?: boolean;
}

/** `frame`: pixels of a scanout changed. `seq` counts frames per scanout and never repeats. */
export interface FrameEvent {
  scanoutId: number;
  damage: Rect[];
  seq: number;
}

/** `scanout`: a scanout appeared, resized, switched resource (`surface` set) or went away (`surface` null). */
export interface ScanoutEvent {
  scanoutId: number;
  surface: Surface | null;
  /** True when the surface buffer was replaced (new scanout or new size); false for a resource switch. */
  resized: boolean;
}

/** `cursor`: the cursor moved, changed image or was shown/hidden. */
export interface CursorEvent {
  cursor: CursorInfo;
  imageChanged: boolean;
}

/** Events `Display` emits. Listeners run synchronously inside the device's callback. */
export interface DisplayEvents {
  frame: (e: FrameEvent) => void;
  scanout: (e: ScanoutEvent) => void;
  cursor: (e: CursorEvent) => void;
}

/** Counters of what display saw, mostly guest mistakes it dropped. */
export interface DisplayStats {
  flushes: number;
  /** Flushes that updated a surface. */
  frames: number;
  /** readScanout returned false or threw. */
  readFailures: number;
  /** Calls with a bad scanout id, rect or size, or a flush to a scanout with no surface. */
  rejected: number;
  /** Cursor images of the wrong size. */
  rejectedCursorImages: number;
}

/** Options for `new Display()`. */
export interface DisplayOptions {
  /** Where pixels come from; usually the device. May be set later with `setSource`. */
  source?: ScanoutSource;
  /** Pending damage rects kept per scanout for `takeDamage` before they merge. */
  maxDamageRects?: number;
  /** Largest surface accepted, in bytes; a bigger scanout is treated as disabled. */
  maxSurfaceBytes?: number;
  /** Largest scanout width or height accepted. */
  maxScanoutEdge?: number;
  /**
   * Force alpha to 255 in surfaces (default true). A monitor shows no transparency, and XRGB
   * scanouts leave the alpha byte undefined; opaque pixels also survive canvas round trips exactly.
   */
  opaque?: boolean;
  /** Where exceptions thrown by event listeners go (default: console.error). */
  onListenerError?: (err: unknown, event: string) => void;
}

interface ScanoutRecord {
  surface: Surface;
  damage: DamageAccumulator;
}

/**
 * The host's view of the guest's screens: implements the device's `ScanoutSink`, keeps one RGBA8
 * surface per scanout, copies damaged rects from the source on each flush, tracks the cursor and
 * tells embedders through `frame`, `scanout` and `cursor` events.
 *
 * Every sink method takes guest-controlled values and never throws on them.
 *
 * ```ts
 * const display = new Display();
 * const device = new VirtioGpuDevice({ ..., sink: display });
 * display.setSource(device);
 * ```
 */
export class Display extends TypedEmitter<DisplayEvents> implements ScanoutSink {
  private source: ScanoutSource | null;
  private readonly scanouts: (ScanoutRecord | undefined)[] = new Array(VIRTIO_GPU_MAX_SCANOUTS);
  private readonly seqs: number[] = new Array<number>(VIRTIO_GPU_MAX_SCANOUTS).fill(0);
  private cursorInfo: CursorInfo = HIDDEN_CURSOR;
  private readonly maxDamageRects: number;
  private readonly maxSurfaceBytes: number;
  private readonly maxScanoutEdge: number;
  private readonly opaque: boolean;
  /** Reused by `toPng` for the composite it encodes. */
  private pngScratch = new Uint8Array(0);
  private readonly counters: DisplayStats = { flushes: 0, frames: 0, readFailures: 0, rejected: 0, rejectedCursorImages: 0 };

  constructor(options: DisplayOptions = {}) {
    super(options.onListenerError);
    this.source = options.source ?? null;
    this.maxDamageRects = options.maxDamageRects ?? DEFAULT_MAX_DAMAGE_RECTS;
    this.maxSurfaceBytes = options.maxSurfaceBytes ?? DEFAULT_MAX_SURFACE_BYTES;
    this.maxScanoutEdge = options.maxScanoutEdge ?? DEFAULT_MAX_SCANOUT_EDGE;
    this.opaque = options.opaque ?? true;
    // Fail at construction, not at the first guest flush.
    new DamageAccumulator(this.maxDamageRects);
  }

  /** Sets where pixels are read from; the device takes the sink at construction, so this breaks the cycle. */
  setSource(source: ScanoutSource | null): void {
    this.source = source;
  }

  // ---- ScanoutSink -------------------------------------------------------------------------

  /**
   * A scanout was set, resized or disabled. A new size gets a new (black) surface; any enable
   * re-reads the whole scanout, since the resource behind it may have changed.
   */
  scanoutChanged(scanoutId: number, info: ScanoutInfo | null): void {
    if (!isScanoutId(scanoutId)) {
      this.counters.rejected++;
      return;
    }
    const width = info?.width;
    const height = info?.height;
    const enabled =
      info !== null &&
      typeof info === 'object' &&
      isDimension(width, this.maxScanoutEdge) &&
      isDimension(height, this.maxScanoutEdge) &&
      width * height * 4 <= this.maxSurfaceBytes;
    if (!enabled) {
      // Zero-size, missing or absurd: the scanout shows nothing.
      if (info !== null) this.counters.rejected++;
      if (this.scanouts[scanoutId] === undefined) return;
      this.scanouts[scanoutId] = undefined;
      this.emit('scanout', { scanoutId, surface: null, resized: true });
      return;
    }
    const resourceId = typeof info.resourceId === 'number' && Number.isInteger(info.resourceId) ? info.resourceId >>> 0 : 0;
    const prev = this.scanouts[scanoutId];
    const resized = prev === undefined || prev.surface.width !== width || prev.surface.height !== height;
    const strideBytes = width * 4;
    const surface: Surface = Object.freeze({
      scanoutId,
      width,
      height,
      strideBytes,
      data: resized ? new Uint8Array(strideBytes * height) : prev.surface.data,
      resourceId,
    });
    if (resized && this.opaque) fillAlpha(surface.data);
    const record: ScanoutRecord = { surface, damage: prev?.damage ?? new DamageAccumulator(this.maxDamageRects) };
    if (resized) record.damage.clear();
    this.scanouts[scanoutId] = record;
    this.emit('scanout', { scanoutId, surface, resized });
    this.update(scanoutId, record, { x: 0, y: 0, width, height });
  }

  /** The guest flushed `damage` (scanout coordinates): copy it from the source, then emit `frame`. */
  flushed(scanoutId: number, damage: Rect): void {
    this.counters.flushes++;
    if (!isScanoutId(scanoutId) || !isValidRect(damage)) {
      this.counters.rejected++;
      return;
    }
    const record = this.scanouts[scanoutId];
    if (record === undefined) {
      this.counters.rejected++;
      return;
    }
    const clipped = clipRect(damage, record.surface.width, record.surface.height);
    if (clipped === null) return;
    this.update(scanoutId, record, clipped);
  }

  /** The cursor moved or changed; a malformed image is dropped and the previous one kept. */
  cursorChanged(cursor: CursorState): void {
    if (cursor === null || typeof cursor !== 'object') {
      this.counters.rejected++;
      return;
    }
    const { cursor: next, imageChanged, imageRejected } = applyCursorState(this.cursorInfo, cursor);
    if (imageRejected) this.counters.rejectedCursorImages++;
    if (!isScanoutId(next.scanoutId)) {
      this.counters.rejected++;
      return;
    }
    this.cursorInfo = next;
    this.emit('cursor', { cursor: next, imageChanged });
  }

  // ---- Queries -----------------------------------------------------------------------------

  /** The surface of `scanoutId`, or undefined when that scanout is disabled or the id is invalid. */
  surface(scanoutId: number): Surface | undefined {
    return isScanoutId(scanoutId) ? this.scanouts[scanoutId]?.surface : undefined;
  }

  /** All enabled scanouts' surfaces, by ascending id. */
  surfaces(): Surface[] {
    const out: Surface[] = [];
    for (const r of this.scanouts) if (r !== undefined) out.push(r.surface);
    return out;
  }

  /** Current cursor state (image, hot spot, position, visibility) for frontends that draw their own. */
  get cursor(): CursorInfo {
    return this.cursorInfo;
  }

  /** A copy of the counters. */
  get stats(): DisplayStats {
    return { ...this.counters };
  }

  /**
   * Damage accumulated for `scanoutId` since the last call (merged, at most `maxDamageRects`
   * rects). For a single polling consumer; event listeners get each flush's damage in `frame`.
   */
  takeDamage(scanoutId: number): Rect[] {
    if (!isScanoutId(scanoutId)) return [];
    return this.scanouts[scanoutId]?.damage.take() ?? [];
  }

  /**
   * A copy of the surface with the cursor alpha-blended on top (when it is visible and on this
   * scanout); the surface itself stays clean. Null for a disabled or invalid scanout.
   * `into`, when given, receives the copy instead of a new buffer (a frontend that composites
   * every frame then allocates nothing); it must hold exactly the surface's bytes
   * (`surface(id).data.byteLength`), else RangeError.
   */
  composite(scanoutId: number, into?: Uint8Array): RgbaImage | null {
    const s = this.surface(scanoutId);
    if (s === undefined) return null;
    if (into !== undefined && into.byteLength !== s.data.byteLength) {
      throw new RangeError(`composite of scanout ${scanoutId} needs ${s.data.byteLength} bytes, got ${into.byteLength}`);
    }
    return this.compositeInto(s, into ?? new Uint8Array(s.data.byteLength));
  }

  /**
   * PNG of one scanout (deterministic bytes), with the cursor when `options.cursor` is set.
   * @throws RangeError when the scanout is disabled or the id invalid.
   */
  toPng(scanoutId: number, options: PngOptions = {}): Uint8Array {
    const s = this.surface(scanoutId);
    if (s === undefined) throw new RangeError(`scanout ${scanoutId} has no surface`);
    if (options.cursor !== true) return encodePng(s);
    // The composite only lives until it is encoded: reuse one buffer rather than allocate a
    // surface-sized one per screenshot (the demo takes one per frame and scanout).
    if (this.pngScratch.byteLength !== s.data.byteLength) this.pngScratch = new Uint8Array(s.data.byteLength);
    return encodePng(this.compositeInto(s, this.pngScratch));
  }

  // ---- Internals ---------------------------------------------------------------------------

  private update(scanoutId: number, record: ScanoutRecord, rect: Rect): void {
    const s = record.surface;
    if (this.source === null) {
      this.counters.readFailures++;
      return;
    }
    if (!this.read(scanoutId, rect, s)) {
      this.counters.readFailures++;
      return;
    }
    this.counters.frames++;
    record.damage.add(rect);
    const seq = ++this.seqs[scanoutId];
    this.emit('frame', { scanoutId, damage: [{ ...rect }], seq });
  }

  /** Copies `s` into `data` and blends the cursor on top when it is visible on that scanout. */
  private compositeInto(s: Surface, data: Uint8Array): RgbaImage {
    data.set(s.data);
    const c = this.cursorInfo;
    if (c.visible && c.image !== null && c.scanoutId === s.scanoutId) {
      blendCursor(data, s.width, s.height, s.strideBytes, c.image, c.x - c.hotX, c.y - c.hotY);
    }
    return { width: s.width, height: s.height, strideBytes: s.strideBytes, data };
  }

  /**
   * Reads `rect` from the source into the surface. An opaque display has the source force alpha
   * in the same pass as its format conversion: a second pass over the rect cost about as much
   * again as the read (measured by bench/display-update.mjs, which still times that path).
   */
  private read(scanoutId: number, rect: Rect, s: Surface): boolean {
    // dst starts at the rect's top-left so the source writes row i at i * stride.
    const dst = s.data.subarray(rect.y * s.strideBytes + rect.x * 4);
    try {
      return this.source!.readScanout(scanoutId, rect, dst, s.strideBytes, undefined, this.opaque) === true;
    } catch {
      return false;
    }
  }
}

/**
 * A PNG of one scanout, optionally with the cursor composited: `display.toPng(scanoutId, options)`.
 * @throws RangeError when the scanout is disabled or the id invalid (a host call, not guest input).
 */
export function toPng(display: Display, scanoutId: number, options: PngOptions = {}): Uint8Array {
  return display.toPng(scanoutId, options);
}

function isScanoutId(id: unknown): id is number {
  return typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < VIRTIO_GPU_MAX_SCANOUTS;
}

function isDimension(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= max;
}

/**
 * Sets the alpha byte of every pixel to 255: a new surface starts opaque black. Converting
 * R8G8B8X8 to RGBA8 in place does exactly that, with the device's converter.
 */
function fillAlpha(data: Uint8Array): void {
  convertRowToRgba(VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, data, 0, data, 0, data.byteLength >> 2);
}
