/**
 * Scanouts (virtio-gpu §5.7.6.8 "display"): the displays the device offers. Each has a mode (the
 * size GET_DISPLAY_INFO reports, changed by the host with setScanouts/resizeScanout) and a source
 * (the resource and rectangle SET_SCANOUT / SET_SCANOUT_BLOB put on it). The display package
 * implements ScanoutSink to learn about changes; the device never imports it.
 */
import type { Rect } from '@virtio-gpu/protocol';
import type { ScanoutLayout } from './renderer.js';

/** Host configuration of one scanout. */
export interface ScanoutConfig {
  /** Preferred mode width and height, pixels. */
  width: number;
  height: number;
  /** Connected (reported enabled in GET_DISPLAY_INFO); default true. */
  enabled?: boolean;
  /** Position in the virtual desktop (GET_DISPLAY_INFO r.x / r.y); default 0. */
  x?: number;
  y?: number;
  /** Monitor name in the EDID (13 characters). */
  name?: string;
  /**
   * EDID to answer GET_EDID with instead of the generated block: a display server's own (QEMU's,
   * over the vhost-user-gpu display channel). 128-byte blocks, at most 1024 bytes.
   */
  edid?: Uint8Array;
}

/** What a scanout shows, as reported to the sink. */
export interface ScanoutInfo {
  resourceId: number;
  /** Size of the scanned-out image (the rect's size). */
  width: number;
  height: number;
  /** Source rectangle in resource (or blob framebuffer) coordinates. */
  r: Rect;
}

/** The cursor as reported to the sink. */
export interface CursorState {
  scanoutId: number;
  x: number;
  y: number;
  hotX: number;
  hotY: number;
  /** 0: cursor hidden. */
  resourceId: number;
  /** 64x64 RGBA8, present when the image changed (UPDATE_CURSOR). */
  image?: Uint8Array;
}

/** Implemented by the display layer (docs/architecture.md). */
export interface ScanoutSink {
  scanoutChanged(scanoutId: number, info: ScanoutInfo | null): void;
  /** `damage` is in scanout coordinates, clipped to the scanout. */
  flushed(scanoutId: number, damage: Rect): void;
  cursorChanged(cursor: CursorState): void;
}

/** Live state of one scanout. */
export interface ScanoutState {
  width: number;
  height: number;
  enabled: boolean;
  x: number;
  y: number;
  name: string | undefined;
  /** EDID override from the config (see ScanoutConfig.edid). */
  edid: Uint8Array | undefined;
  /** Shown resource, 0 when disabled. */
  resourceId: number;
  /** Source rectangle in resource coordinates. */
  r: Rect;
  /** Set for SET_SCANOUT_BLOB sources. */
  layout: ScanoutLayout | null;
}

/** Initial state of a scanout from its config. */
export function scanoutFromConfig(c: ScanoutConfig | undefined): ScanoutState {
  return {
    width: c?.width ?? 0,
    height: c?.height ?? 0,
    enabled: c ? c.enabled ?? true : false,
    x: c?.x ?? 0,
    y: c?.y ?? 0,
    name: c?.name,
    edid: c?.edid,
    resourceId: 0,
    r: { x: 0, y: 0, width: 0, height: 0 },
    layout: null,
  };
}

/**
 * Intersection of `a` and `b`, or null when empty. Coordinates are u32 so sums stay exact in
 * doubles; no overflow is possible.
 */
export function intersect(a: Rect, b: Rect): Rect | null {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  if (x1 <= x0 || y1 <= y0) return null;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Whether `r` lies inside a width x height area (overflow-safe: u32 sums are exact doubles). */
export function rectInside(r: Rect, width: number, height: number): boolean {
  return r.x + r.width <= width && r.y + r.height <= height;
}
