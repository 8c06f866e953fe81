/**
 * `RutabagaRenderer`: the device's Renderer seam over rutabaga_gfx (through `RutabagaCore`).
 *
 * - 2D images in all eight virtio-gpu 2D formats live in a rutabaga 2D instance (it stores bytes
 *   at 4 per pixel; the device refuses other formats with INVALID_PARAMETER before we see them).
 * - With `crossDomain`, a second rutabaga instance serves contexts (capset 5, CROSS_DOMAIN),
 *   SUBMIT_3D, fences on context rings, guest blobs and host (memfd) blobs, and a Wayland channel.
 *   There is no 3D rendering: RESOURCE_CREATE_3D and TRANSFER_*_3D answer ERR_UNSPEC
 *   (virglrenderer and gfxstream are opt-in cargo features this project cannot build).
 * - Guest memory must not move or vanish under rutabaga's raw pointers: backings must be views
 *   of a SharedArrayBuffer (GuestRam `{ shared: true }`) or of memory mapped by this package
 *   (`mapFd`, a vhost-user memory region). Anything else throws ERR_GUEST_MEMORY.
 * - Fences retire through one queue, drained on the JS thread: right after the call for fences
 *   rutabaga completes synchronously, or when its worker thread wakes the event loop.
 * - A host blob's mapping is exposed as an ArrayBuffer over rutabaga's memory; unmap, unref and
 *   reset detach it before rutabaga unmaps, so a stale view reads length 0, never freed memory.
 */
import { markAsUntransferable } from 'node:worker_threads';
import type {
  Backing,
  BlobArgs,
  BlobMapping,
  CapsetInfo,
  Fence,
  FenceHandler,
  Renderer,
  RendererCapabilities,
  RendererSnapshot,
  Resource2dArgs,
  Resource3dArgs,
  Result,
  ScanoutLayout,
  Transfer3d,
} from '@virtio-gpu/device';
import { VIRTIO_GPU_BLOB_MEM_GUEST, VIRTIO_GPU_MAP_CACHE_CACHED, type Rect } from '@virtio-gpu/protocol';
import { type NativeBinding, requireBinding } from './binding.js';
import { OK, attempt, failureOf, ok, unspec } from './gpu-result.js';

type Core = InstanceType<NativeBinding['RutabagaCore']>;

/** Options of {@link RutabagaRenderer}. */
export interface RutabagaRendererOptions {
  /**
   * Enable cross-domain contexts (Linux). `true`, or the Wayland socket channels connect to
   * (an absolute path, e.g. `$XDG_RUNTIME_DIR/wayland-0`).
   */
  readonly crossDomain?: boolean | { readonly waylandSocket?: string };
}

type Entry =
  | { kind: '2d'; format: number; width: number; height: number }
  | { kind: 'guest-blob'; size: number; backing: Backing | null }
  | { kind: 'host-blob'; size: number };

/** Snapshot of a {@link RutabagaRenderer}: plain data, pixels copied. */
export type RutabagaSnapshot = RendererSnapshot<'rutabaga', { readonly id: number; readonly kind: 'guest-blob'; readonly size: number }>;

const NO_3D = 'rutabaga has no 3D component in this build (virgl_renderer/gfxstream are opt-in features)';

/** The device's Renderer over rutabaga_gfx; see the module comment. */
export class RutabagaRenderer implements Renderer {
  readonly capabilities: RendererCapabilities;
  private readonly core: Core;
  /** The binding's plain functions for per-command calls (class methods cost ~10x more). */
  private readonly hot: NativeBinding;
  /** `core.handle`, the first argument of the hot functions. */
  private readonly h: number;
  private readonly entries = new Map<number, Entry>();
  private readonly contexts = new Set<number>();
  private fenceHandler: FenceHandler = () => {};

  constructor(options: RutabagaRendererOptions = {}) {
    const binding = requireBinding();
    const cd = options.crossDomain;
    const crossDomain = cd !== undefined && cd !== false;
    const waylandSocket = typeof cd === 'object' ? cd.waylandSocket : undefined;
    if (crossDomain && !binding.nativeSupport().crossDomain) {
      throw Object.assign(new Error(`cross-domain is Linux only (this binary: ${binding.nativeSupport().target})`), { code: 'ENOTSUP' });
    }
    this.core = new binding.RutabagaCore({ crossDomain, waylandSocket }, () => this.drainFences());
    this.hot = binding;
    this.h = this.core.handle;
    const capsets: CapsetInfo[] = this.core.capsets().map((c) => Object.freeze({ id: c.id, maxVersion: c.maxVersion, maxSize: c.maxSize }));
    this.capabilities = Object.freeze({
      capsets: Object.freeze(capsets),
      threeD: crossDomain,
      hostBlobs: crossDomain,
      contextInit: crossDomain,
      // The native run table (and rutabaga's copy for cross-domain blobs): charged by the device.
      hostBytesPerBackingRun: this.core.hostBytesPerBackingRun(),
    });
  }

  /** @inheritDoc */
  setFenceHandler(handler: FenceHandler): void {
    this.fenceHandler = handler;
  }

  /** Retire everything rutabaga signalled, in order, on this (the JS) thread. */
  private drainFences(): void {
    const fences = this.hot.rutabagaTakeFences(this.h);
    for (let i = 0; i < fences.length; i++) {
      const f = fences[i];
      this.fenceHandler({ fenceId: f.fenceId, ctxId: f.ctxId, ringIdx: f.ringIdx, ringed: f.ringed });
    }
  }

  /** @inheritDoc */
  createResource2d(resourceId: number, args: Resource2dArgs): Result {
    const r = attempt(() => this.core.createResource2D(resourceId, args.format, args.width, args.height));
    if (r.ok) this.entries.set(resourceId, { kind: '2d', format: args.format, width: args.width, height: args.height });
    return r;
  }

  /** @inheritDoc */
  createResource3d(_resourceId: number, _args: Resource3dArgs): Result {
    return unspec(NO_3D);
  }

  /** @inheritDoc */
  createBlob(resourceId: number, args: BlobArgs): Result {
    const views = args.backing ? (args.backing.iovecs as Uint8Array[]) : undefined;
    const r = attempt(() => this.core.createBlob(resourceId, args.ctxId, args.blobMem, args.blobFlags, args.blobId, args.size, views));
    if (!r.ok) return r;
    if (args.blobMem === VIRTIO_GPU_BLOB_MEM_GUEST) this.entries.set(resourceId, { kind: 'guest-blob', size: args.size, backing: args.backing });
    else this.entries.set(resourceId, { kind: 'host-blob', size: args.size });
    return OK;
  }

  /** @inheritDoc */
  destroyResource(resourceId: number): void {
    this.core.destroyResource(resourceId);
    this.entries.delete(resourceId);
  }

  /** @inheritDoc */
  attachBacking(resourceId: number, backing: Backing): Result {
    const r = attempt(() => this.core.attachBacking(resourceId, backing.iovecs as Uint8Array[]));
    const e = this.entries.get(resourceId);
    if (r.ok && e?.kind === 'guest-blob') e.backing = backing;
    return r;
  }

  /** @inheritDoc */
  detachBacking(resourceId: number): void {
    this.core.detachBacking(resourceId);
    const e = this.entries.get(resourceId);
    if (e?.kind === 'guest-blob') e.backing = null;
  }

  /** @inheritDoc */
  transferToHost2d(resourceId: number, r: Rect, offset: number): Result {
    try {
      this.hot.rutabagaTransferToHost2D(this.h, resourceId, r.x, r.y, r.width, r.height, offset);
      return OK;
    } catch (e) {
      return failureOf(e);
    }
  }

  /** @inheritDoc */
  transferToHost3d(_resourceId: number, _t: Transfer3d): Result {
    return unspec(NO_3D);
  }

  /** @inheritDoc */
  transferFromHost3d(_resourceId: number, _t: Transfer3d): Result {
    return unspec(NO_3D);
  }

  /**
   * RGBA8 (alpha forced with `opaque`, in the same pass) is the only target the native readback
   * writes: a `dstFormat` gets false, as the seam says, rather than RGBA8 bytes mislabelled.
   */
  readback(resourceId: number, r: Rect, dst: Uint8Array, dstStrideBytes: number, layout?: ScanoutLayout, dstFormat?: number, opaque = false): boolean {
    if (dstFormat !== undefined) return false;
    return this.hot.rutabagaReadback(this.h, resourceId, r.x, r.y, r.width, r.height, dst, dstStrideBytes, layout, opaque);
  }

  /**
   * Guest blobs map as their guest pages; host blobs as rutabaga's mapping, exposed as an
   * untransferable ArrayBuffer that unmap/unref/reset detach before the memory goes.
   */
  mapBlob(resourceId: number): Result<BlobMapping> {
    const e = this.entries.get(resourceId);
    if (e?.kind === 'guest-blob') {
      if (!e.backing) return unspec(`blob ${resourceId} has no backing`);
      return ok({ size: e.size, mapInfo: VIRTIO_GPU_MAP_CACHE_CACHED, iovecs: e.backing.iovecs });
    }
    try {
      const m = this.core.mapBlob(resourceId);
      markAsUntransferable(m.buffer);
      const size = e?.kind === 'host-blob' ? e.size : m.buffer.byteLength;
      return ok({ size, mapInfo: m.mapInfo, iovecs: [new Uint8Array(m.buffer, 0, size)], handle: { kind: 'rutabaga-host-blob', buffer: m.buffer } });
    } catch (err) {
      return failureOf(err);
    }
  }

  /** @inheritDoc */
  unmapBlob(resourceId: number): void {
    this.core.unmapBlob(resourceId);
  }

  /** @inheritDoc */
  createContext(ctxId: number, capsetId: number, debugName: string): Result {
    const r = attempt(() => this.core.createContext(ctxId, capsetId, debugName));
    if (r.ok) this.contexts.add(ctxId);
    return r;
  }

  /** @inheritDoc */
  destroyContext(ctxId: number): void {
    this.core.destroyContext(ctxId);
    this.contexts.delete(ctxId);
  }

  /** @inheritDoc */
  contextAttachResource(ctxId: number, resourceId: number): Result {
    return attempt(() => this.core.contextAttachResource(ctxId, resourceId));
  }

  /** @inheritDoc */
  contextDetachResource(ctxId: number, resourceId: number): Result {
    return attempt(() => this.core.contextDetachResource(ctxId, resourceId));
  }

  /** SUBMIT_3D; cross-domain picks rings per fence, so `ringIdx` is not needed here. */
  submit(ctxId: number, commands: Uint8Array, _ringIdx: number | null): Result {
    const r = attempt(() => this.core.submit(ctxId, commands));
    this.drainFences();
    return r;
  }

  /** Global fences retire now; ring fences when cross-domain signals them. */
  createFence(fence: Fence): Result {
    const r = attempt(() => this.hot.rutabagaCreateFence(this.h, fence.fenceId, fence.ctxId, fence.ringIdx, fence.ringed));
    if (r.ok) this.drainFences();
    return r;
  }

  /** @inheritDoc */
  getCapset(capsetId: number, version: number): Result<Uint8Array> {
    try {
      return ok(this.core.capset(capsetId, version));
    } catch (e) {
      return failureOf(e);
    }
  }

  /**
   * 2D images with their pixels and guest blobs' sizes. Throws while cross-domain contexts exist:
   * they hold live host connections (Wayland) that cannot be saved, and rutabaga has no
   * cross-domain snapshot.
   */
  snapshot(): RutabagaSnapshot {
    if (this.contexts.size > 0) {
      throw new Error(`RutabagaRenderer: cannot snapshot ${this.contexts.size} live cross-domain context(s) (host connections cannot be saved)`);
    }
    const resources: RutabagaSnapshot['resources'][number][] = [];
    for (const [id, e] of this.entries) {
      if (e.kind === '2d') resources.push({ id, kind: '2d', format: e.format, width: e.width, height: e.height, pixels: this.core.pixels(id) });
      else if (e.kind === 'guest-blob') resources.push({ id, kind: 'guest-blob', size: e.size });
    }
    return { kind: 'rutabaga', resources };
  }

  /** @inheritDoc */
  restore(state: unknown): Result {
    const s = state as RutabagaSnapshot | null;
    if (!s || s.kind !== 'rutabaga' || !Array.isArray(s.resources)) return unspec('not a RutabagaRenderer snapshot');
    this.reset();
    for (const r of s.resources) {
      const made =
        r.kind === '2d'
          ? attempt(() => {
              this.core.createResource2D(r.id, r.format, r.width, r.height);
              this.core.writePixels(r.id, r.pixels);
            })
          : attempt(() => this.core.createBlob(r.id, 0, VIRTIO_GPU_BLOB_MEM_GUEST, 0, 0n, r.size, undefined));
      if (!made.ok) return unspec(`snapshot resource ${r.id}: ${made.why}`);
      this.entries.set(r.id, r.kind === '2d' ? { kind: '2d', format: r.format, width: r.width, height: r.height } : { kind: 'guest-blob', size: r.size, backing: null });
    }
    return OK;
  }

  /** @inheritDoc */
  reset(): void {
    this.core.reset();
    this.entries.clear();
    this.contexts.clear();
  }

  /** Guest-memory ranges the native side holds for rutabaga (tests of detach/destroy/reset). */
  get heldBackings(): number {
    return this.core.heldBackings();
  }
}
