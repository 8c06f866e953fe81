/**
 * The default renderer: 2D images in the eight virtio-gpu formats plus guest-memory blobs, in pure
 * TypeScript. Images hold the guest's bytes as-is (4 bytes per pixel, rows width*4 apart) and are
 * converted to RGBA8 only on readback. It has no 3D, no capsets and no host blobs; fences retire
 * at once because every command completed synchronously.
 */
import {
  VIRTIO_GPU_BLOB_MEM_GUEST,
  VIRTIO_GPU_MAP_CACHE_CACHED,
  type Rect,
} from '@virtio-gpu/protocol';
import type { Backing, BackingSpan } from './backing.js';
import { bytesPerPixel, convertRectToRgba, convertRow } from './pixel-formats.js';
import { createPixelStore, type PixelStore } from './simd-swizzle.js';
import type {
  BlobArgs,
  BlobMapping,
  Fence,
  FenceHandler,
  Renderer,
  RendererCapabilities,
  RendererSnapshot,
  Resource2dArgs,
  Resource3dArgs,
  ScanoutLayout,
  Transfer3d,
} from './renderer.js';
import { OK, type Result, errOutOfMemory, errParameter, errResourceId, errUnspec, ok } from './result.js';

interface Image2d {
  kind: '2d';
  format: number;
  width: number;
  height: number;
  strideBytes: number;
  pixels: Uint8Array;
  /** Set when `pixels` live in a wasm memory of their own (large images): faster readback. */
  store: PixelStore | null;
  backing: Backing | null;
}

interface GuestBlob {
  kind: 'blob';
  size: number;
  backing: Backing | null;
}

type Entry = Image2d | GuestBlob;

/** Snapshot of a {@link Renderer2D}: plain data, pixels copied. */
export type Renderer2DSnapshot = RendererSnapshot<'renderer-2d', { readonly id: number; readonly kind: 'blob'; readonly size: number }>;

const NO_3D = 'the 2D renderer has no 3D support';

/** Pure-TypeScript 2D renderer; see the module comment. */
export class Renderer2D implements Renderer {
  /** No capsets, 3D, host blobs or context init. */
  readonly capabilities: RendererCapabilities = Object.freeze({
    capsets: Object.freeze([]),
    threeD: false,
    hostBlobs: false,
    contextInit: false,
  });

  private readonly entries = new Map<number, Entry>();
  private fenceHandler: FenceHandler = () => {};
  /** Scratch row for blob readback (reused; grows to the widest row read). */
  private row = new Uint8Array(0);
  /** Where blob readback is in the backing (reused). */
  private readonly span: BackingSpan = { bytes: new Uint8Array(0), at: 0, length: 0 };

  /** @inheritDoc */
  setFenceHandler(handler: FenceHandler): void {
    this.fenceHandler = handler;
  }

  /** @inheritDoc */
  createResource2d(resourceId: number, args: Resource2dArgs): Result {
    if (this.entries.has(resourceId)) return errResourceId(`resource ${resourceId} exists`);
    const bpp = bytesPerPixel(args.format);
    if (bpp === 0) return errParameter(`unknown format ${args.format}`);
    const strideBytes = args.width * bpp;
    const image = allocImage(strideBytes * args.height);
    if (image === null) return errOutOfMemory('host allocation failed');
    this.entries.set(resourceId, { kind: '2d', format: args.format, width: args.width, height: args.height, strideBytes, ...image, backing: null });
    return OK;
  }

  /** @inheritDoc */
  createResource3d(_resourceId: number, _args: Resource3dArgs): Result {
    return errUnspec(NO_3D);
  }

  /** @inheritDoc */
  createBlob(resourceId: number, args: BlobArgs): Result {
    if (this.entries.has(resourceId)) return errResourceId(`resource ${resourceId} exists`);
    if (args.blobMem !== VIRTIO_GPU_BLOB_MEM_GUEST) return errParameter('the 2D renderer has only guest blobs');
    if (!args.backing || args.backing.size < args.size) return errParameter('blob larger than its backing');
    this.entries.set(resourceId, { kind: 'blob', size: args.size, backing: args.backing });
    return OK;
  }

  /** @inheritDoc */
  destroyResource(resourceId: number): void {
    const e = this.entries.get(resourceId);
    if (e?.kind === '2d') e.store?.release();
    this.entries.delete(resourceId);
  }

  /** @inheritDoc */
  attachBacking(resourceId: number, backing: Backing): Result {
    const e = this.entries.get(resourceId);
    if (!e) return errResourceId(`no resource ${resourceId}`);
    e.backing = backing;
    return OK;
  }

  /** @inheritDoc */
  detachBacking(resourceId: number): void {
    const e = this.entries.get(resourceId);
    if (e) e.backing = null;
  }

  /** @inheritDoc */
  transferToHost2d(resourceId: number, r: Rect, offset: number): Result {
    const e = this.entries.get(resourceId);
    if (!e || e.kind !== '2d') return errResourceId(`no 2D resource ${resourceId}`);
    if (!e.backing) return errUnspec(`resource ${resourceId} has no backing`);
    if (r.x + r.width > e.width || r.y + r.height > e.height) return errParameter('rect outside the resource');
    if (r.width === 0 || r.height === 0) return OK;
    const stride = e.strideBytes;
    const rowBytes = r.width * 4;
    // Row h comes from backing[offset + h*stride]: the guest's linear copy of the image.
    const end = offset + (r.height - 1) * stride + rowBytes;
    if (!Number.isSafeInteger(end) || end > e.backing.size) return errParameter('transfer reads past the backing');
    if (r.width === e.width) {
      // Whole rows: source and destination are both one contiguous range.
      e.backing.copyOut(offset, e.pixels, r.y * stride, end - offset);
      return OK;
    }
    let dst = r.y * stride + r.x * 4;
    let src = offset;
    for (let h = 0; h < r.height; h++, src += stride, dst += stride) {
      e.backing.copyOut(src, e.pixels, dst, rowBytes);
    }
    return OK;
  }

  /** @inheritDoc */
  transferToHost3d(_resourceId: number, _t: Transfer3d): Result {
    return errUnspec(NO_3D);
  }

  /** @inheritDoc */
  transferFromHost3d(_resourceId: number, _t: Transfer3d): Result {
    return errUnspec(NO_3D);
  }

  /** @inheritDoc */
  readback(resourceId: number, r: Rect, dst: Uint8Array, dstStrideBytes: number, layout?: ScanoutLayout, dstFormat?: number, opaque = false): boolean {
    const e = this.entries.get(resourceId);
    if (!e) return false;
    if (r.width === 0 || r.height === 0) return true;
    if ((r.height - 1) * dstStrideBytes + r.width * 4 > dst.byteLength) return false;
    if (dstFormat !== undefined && bytesPerPixel(dstFormat) === 0) return false;
    if (e.kind === '2d') {
      if (r.x + r.width > e.width || r.y + r.height > e.height) return false;
      const start = r.y * e.strideBytes + r.x * 4;
      if (dstFormat === undefined) {
        convertRectToRgba(e.format, e.pixels, start, e.strideBytes, dst, 0, dstStrideBytes, r.width, r.height, e.store, opaque);
        return true;
      }
      if (r.width === e.width && dstStrideBytes === e.strideBytes) {
        // Whole rows, same stride: one run (a full-frame read for a display is one copy).
        return convertRow(e.format, e.pixels, start, dstFormat, dst, 0, r.width * r.height, opaque);
      }
      for (let h = 0; h < r.height; h++) convertRow(e.format, e.pixels, start + h * e.strideBytes, dstFormat, dst, h * dstStrideBytes, r.width, opaque);
      return true;
    }
    if (!layout || !e.backing || bytesPerPixel(layout.format) === 0) return false;
    if (r.x + r.width > layout.width || r.y + r.height > layout.height) return false;
    return this.readBlob(e.backing, e.size, layout, r, dst, dstStrideBytes, dstFormat, opaque);
  }

  /**
   * A blob scanout's rect, converted straight out of the guest's pages: the rows that lie whole
   * in one contiguous run of the backing go in one conversion; only a row split across runs is
   * gathered into the scratch row first. (Linux's blob dumb buffers are scattered pages, so with a
   * page-sized stride that is mostly a row a run; adjacent pages make it many.)
   */
  private readBlob(backing: Backing, size: number, layout: ScanoutLayout, r: Rect, dst: Uint8Array, dstStrideBytes: number, dstFormat: number | undefined, opaque: boolean): boolean {
    const rowBytes = r.width * 4;
    const stride = layout.strideBytes;
    const span = this.span;
    for (let h = 0; h < r.height; ) {
      const src = layout.offsetBytes + (r.y + h) * stride + r.x * 4;
      if (src + rowBytes > size || !backing.runFrom(src, span)) return false;
      // Rows starting at src, src + stride, ... that end inside this run and inside the blob.
      const avail = Math.min(span.length, size - src);
      let rows = avail < rowBytes ? 0 : stride === 0 ? r.height - h : Math.min(r.height - h, 1 + Math.floor((avail - rowBytes) / stride));
      let from = span.bytes;
      let at = span.at;
      if (rows === 0) {
        if (this.row.byteLength < rowBytes) this.row = new Uint8Array(rowBytes);
        if (!backing.copyOut(src, this.row, 0, rowBytes)) return false;
        from = this.row;
        at = 0;
        rows = 1;
      }
      if (dstFormat === undefined) convertRectToRgba(layout.format, from, at, stride, dst, h * dstStrideBytes, dstStrideBytes, r.width, rows, undefined, opaque);
      else for (let k = 0; k < rows; k++) convertRow(layout.format, from, at + k * stride, dstFormat, dst, (h + k) * dstStrideBytes, r.width, opaque);
      h += rows;
    }
    return true;
  }

  /** Guest blobs map as their guest pages (cached); the region decides how to expose them. */
  mapBlob(resourceId: number): Result<BlobMapping> {
    const e = this.entries.get(resourceId);
    if (!e || e.kind !== 'blob' || !e.backing) return errParameter(`resource ${resourceId} is not a mappable blob`);
    return ok({ size: e.size, mapInfo: VIRTIO_GPU_MAP_CACHE_CACHED, iovecs: e.backing.iovecs });
  }

  /** @inheritDoc */
  unmapBlob(_resourceId: number): void {
    // Guest pages stay the guest's: nothing to free.
  }

  /** @inheritDoc */
  createContext(_ctxId: number, _capsetId: number, _debugName: string): Result {
    return errUnspec(NO_3D);
  }

  /** @inheritDoc */
  destroyContext(_ctxId: number): void {}

  /** @inheritDoc */
  contextAttachResource(_ctxId: number, _resourceId: number): Result {
    return errUnspec(NO_3D);
  }

  /** @inheritDoc */
  contextDetachResource(_ctxId: number, _resourceId: number): Result {
    return errUnspec(NO_3D);
  }

  /** @inheritDoc */
  submit(_ctxId: number, _commands: Uint8Array, _ringIdx: number | null): Result {
    return errUnspec(NO_3D);
  }

  /** Every command already completed, so the fence retires now. */
  createFence(fence: Fence): Result {
    this.fenceHandler(fence);
    return OK;
  }

  /** @inheritDoc */
  getCapset(_capsetId: number, _version: number): Result<Uint8Array> {
    return errParameter('no capsets');
  }

  /** @inheritDoc */
  snapshot(): Renderer2DSnapshot {
    const resources: Renderer2DSnapshot['resources'][number][] = [];
    for (const [id, e] of this.entries) {
      if (e.kind === '2d') resources.push({ id, kind: '2d', format: e.format, width: e.width, height: e.height, pixels: e.pixels.slice() });
      else resources.push({ id, kind: 'blob', size: e.size });
    }
    return { kind: 'renderer-2d', resources };
  }

  /** @inheritDoc */
  restore(state: unknown): Result {
    const s = state as Renderer2DSnapshot | null;
    if (!s || s.kind !== 'renderer-2d' || !Array.isArray(s.resources)) return errUnspec('not a Renderer2D snapshot');
    this.reset();
    for (const r of s.resources) {
      if (r.kind === '2d') {
        const strideBytes = r.width * 4;
        if (r.pixels.byteLength !== strideBytes * r.height) return errUnspec(`snapshot resource ${r.id}: pixel size`);
        const image = allocImage(r.pixels.byteLength);
        if (image === null) return errUnspec(`snapshot resource ${r.id}: host allocation failed`);
        image.pixels.set(r.pixels);
        this.entries.set(r.id, { kind: '2d', format: r.format, width: r.width, height: r.height, strideBytes, ...image, backing: null });
      } else {
        this.entries.set(r.id, { kind: 'blob', size: r.size, backing: null });
      }
    }
    return OK;
  }

  /** @inheritDoc */
  reset(): void {
    for (const e of this.entries.values()) if (e.kind === '2d') e.store?.release();
    this.entries.clear();
  }
}

/**
 * An image's pixel buffer: a PixelStore when the image is big enough and one is available (its
 * readback then runs in place), a plain buffer otherwise; null when the host cannot allocate.
 */
function allocImage(bytes: number): { pixels: Uint8Array; store: PixelStore | null } | null {
  const store = createPixelStore(bytes);
  if (store !== null) return { pixels: store.pixels, store };
  try {
    return { pixels: new Uint8Array(bytes), store: null };
  } catch {
    return null;
  }
}
