/**
 * Shows scanout 0 on a 2D canvas in a browser: a {@link ScanoutSink} that reads each flushed rect
 * from the device (RGBA8) and puts it on the canvas, coalescing flushes to one paint per
 * animation frame. v86's own ScreenAdapter draws only its VGA memory and has no entry for another
 * device's surface, so the page shows this canvas in its place.
 */
import type { CursorState, ScanoutInfo, ScanoutSink } from '@virtio-gpu/device';
import type { Rect } from '@virtio-gpu/protocol';

/** What is used of a canvas (HTMLCanvasElement or OffscreenCanvas). */
export interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): { putImageData(img: ImageData, x: number, y: number, dx?: number, dy?: number, dw?: number, dh?: number): void } | null;
}

/** Reads pixels for a rect of a scanout (the device's readScanout). */
export interface PixelSource {
  readScanout(scanoutId: number, rect: Rect, dst: Uint8Array, dstStrideBytes: number): boolean;
}

/** Canvas sink for one scanout. */
export class CanvasScreen implements ScanoutSink {
  private source: PixelSource | null = null;
  private image: ImageData | null = null;
  private damage: Rect | null = null;
  private scheduled = false;
  /** Frames painted and flushes seen, for the page's status line. */
  frames = 0;
  flushes = 0;

  constructor(
    private readonly canvas: CanvasLike,
    private readonly scanoutId = 0,
    /** Paint scheduler: requestAnimationFrame in pages; tests pass a synchronous one. */
    private readonly schedule: (cb: () => void) => void = (cb) => requestAnimationFrame(() => cb()),
  ) {}

  /** The device to read from (set once it exists: the device takes its sink at construction). */
  setSource(source: PixelSource): void {
    this.source = source;
  }

  scanoutChanged(scanoutId: number, info: ScanoutInfo | null): void {
    if (scanoutId !== this.scanoutId || info === null) return;
    const { width, height } = info.r;
    if (width === 0 || height === 0) return;
    if (this.canvas.width !== width || this.canvas.height !== height || this.image === null) {
      this.canvas.width = width;
      this.canvas.height = height;
      this.image = new ImageData(width, height);
    }
    this.addDamage({ x: 0, y: 0, width, height });
  }

  flushed(scanoutId: number, damage: Rect): void {
    if (scanoutId !== this.scanoutId) return;
    this.flushes++;
    this.addDamage(damage);
  }

  cursorChanged(_cursor: CursorState): void {}

  private addDamage(r: Rect): void {
    const d = this.damage;
    if (d === null) this.damage = { ...r };
    else {
      const x = Math.min(d.x, r.x);
      const y = Math.min(d.y, r.y);
      this.damage = { x, y, width: Math.max(d.x + d.width, r.x + r.width) - x, height: Math.max(d.y + d.height, r.y + r.height) - y };
    }
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.paint());
    }
  }

  /** Reads the damaged rect from the device and puts it on the canvas. */
  paint(): void {
    this.scheduled = false;
    const d = this.damage;
    const img = this.image;
    this.damage = null;
    if (d === null || img === null || this.source === null) return;
    const x = Math.max(0, d.x);
    const y = Math.max(0, d.y);
    const w = Math.min(img.width, d.x + d.width) - x;
    const h = Math.min(img.height, d.y + d.height) - y;
    if (w <= 0 || h <= 0) return;
    const px = new Uint8Array(img.data.buffer, img.data.byteOffset + (y * img.width + x) * 4, ((h - 1) * img.width + w) * 4);
    if (!this.source.readScanout(this.scanoutId, { x, y, width: w, height: h }, px, img.width * 4)) return;
    const ctx = this.canvas.getContext('2d');
    ctx?.putImageData(img, 0, 0, x, y, w, h);
    this.frames++;
  }
}
