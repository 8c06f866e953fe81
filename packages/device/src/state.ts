/**
 * Everything the command handlers share: tables, renderer, guest memory, limits, negotiated
 * features, scanouts, cursor, sink, host-visible region, log. The queue loop, the responder and
 * the pending fences own chains, fences and interrupts; handlers only see this.
 */
import type { RespOkDisplayInfo } from '@virtio-gpu/protocol';
import type { GuestMemory } from '@virtio-gpu/virtqueue';
import type { HostVisibleRegion } from './blob.js';
import { ContextTable } from './contexts.js';
import { hasFeature } from './features.js';
import type { DeviceLimits } from './limits.js';
import type { RateLimitedLog } from './log.js';
import { Backing } from './backing.js';
import type { Renderer } from './renderer.js';
import { ResourceTable, type ResourceRecord } from './resources.js';
import type { SafeSink } from './safe-sink.js';
import type { CursorState, ScanoutState } from './scanouts.js';

/** Shared device state for handlers. */
export class DeviceState {
  readonly resources: ResourceTable;
  readonly contexts = new ContextTable();
  /** Negotiated device features. */
  features = 0n;
  cursor: CursorState = { scanoutId: 0, x: 0, y: 0, hotX: 0, hotY: 0, resourceId: 0 };
  /** Region unmaps not yet confirmed: while > 0 the control queue is paused. */
  outstandingUnmaps = 0;
  /** Bumped by reset, so late completions from before it touch nothing new. */
  generation = 0;
  /**
   * GET_DISPLAY_INFO's reply and its encoding (header unfenced; the responder writes each
   * command's own over it), built on first use and reused until the modes change: every change of
   * a scanout's width, height, enabled, x or y must call {@link modesChanged}.
   */
  displayInfo: { readonly body: Omit<RespOkDisplayInfo, 'hdr'>; readonly bytes: Uint8Array } | null = null;

  /** The scanouts' modes changed (hotplug, resize, restore, reset): drop the cached reply. */
  modesChanged(): void {
    this.displayInfo = null;
  }

  /** Called when outstandingUnmaps drops to 0 (device resumes the control queue). */
  onUnmapsDrained: () => void = () => {};

  constructor(
    readonly memory: GuestMemory,
    readonly renderer: Renderer,
    readonly limits: DeviceLimits,
    readonly scanouts: ScanoutState[],
    /** The display's sink behind the one guard that contains what it throws. */
    readonly sink: SafeSink,
    readonly region: HostVisibleRegion | undefined,
    readonly log: RateLimitedLog,
    readonly random: (bytes: Uint8Array) => void,
  ) {
    this.resources = new ResourceTable(limits);
  }

  /**
   * Host bytes a backing of `runs` runs costs: what the device's Backing keeps plus what the
   * renderer keeps per run (`RendererCapabilities.hostBytesPerBackingRun`).
   */
  backingHostBytes(runs: number): number {
    return Backing.hostBytesFor(runs) + runs * (this.renderer.capabilities.hostBytesPerBackingRun ?? 0);
  }

  /** Whether feature `bit` was negotiated. */
  has(bit: number): boolean {
    return hasFeature(this.features, bit);
  }

  /** Report a scanout's source to the sink. */
  notifyScanout(scanoutId: number): void {
    const s = this.scanouts[scanoutId];
    this.sink.scanoutChanged(scanoutId, s.resourceId === 0 ? null : { resourceId: s.resourceId, width: s.r.width, height: s.r.height, r: { ...s.r } });
  }

  /** Take a resource off every scanout and the cursor that show it (UNREF, reset). */
  detachFromScanouts(resourceId: number): void {
    for (let i = 0; i < this.scanouts.length; i++) {
      const s = this.scanouts[i];
      if (s.resourceId !== resourceId) continue;
      s.resourceId = 0;
      s.r = { x: 0, y: 0, width: 0, height: 0 };
      s.layout = null;
      this.notifyScanout(i);
    }
    if (this.cursor.resourceId === resourceId) {
      this.cursor = { ...this.cursor, resourceId: 0 };
      this.sink.cursorChanged({ ...this.cursor });
    }
  }

  /**
   * Unmap a mapped blob from the region and release the renderer's mapping only once the
   * region confirmed (see blob.ts). `done` runs after the release. A region that fails (throws
   * or rejects) may still reference the memory, so the renderer mapping is then leaked, never freed.
   */
  unmapBlob(res: ResourceRecord, done: () => void): void {
    const map = res.map;
    if (!map) {
      done();
      return;
    }
    if (map.state === 'unmapping') {
      // Already on its way out (UNREF during UNMAP): chain onto the same confirmation.
      const waiters = this.unmapWaiters.get(res) ?? [];
      waiters.push(done);
      this.unmapWaiters.set(res, waiters);
      return;
    }
    map.state = 'unmapping';
    this.outstandingUnmaps++;
    let finished = false;
    const finish = (release: boolean): void => {
      if (finished) return;
      finished = true;
      if (release) {
        try {
          this.renderer.unmapBlob(res.id);
        } catch (e) {
          this.log.log('error', `virtio-gpu: renderer unmapBlob threw: ${String(e)}`);
        }
      }
      res.map = null;
      this.outstandingUnmaps--;
      const waiters = this.unmapWaiters.get(res) ?? [];
      this.unmapWaiters.delete(res);
      done();
      for (const w of waiters) w();
      if (this.outstandingUnmaps === 0) this.onUnmapsDrained();
    };
    let pending: void | PromiseLike<void>;
    try {
      pending = this.region?.unmap(map.offset);
    } catch (e) {
      this.log.log('error', `virtio-gpu: host-visible region unmap threw: ${String(e)}; mapping leaked`);
      finish(false);
      return;
    }
    if (pending && typeof pending.then === 'function') {
      pending.then(
        () => finish(true),
        (e: unknown) => {
          this.log.log('error', `virtio-gpu: host-visible region unmap failed: ${String(e)}; mapping leaked`);
          finish(false);
        },
      );
    } else {
      finish(true);
    }
  }

  private readonly unmapWaiters = new Map<ResourceRecord, (() => void)[]>();

  /**
   * Free a resource: off scanouts and contexts, out of the renderer and the table. A mapped blob
   * is unmapped first and freed only after the region confirmed; `done` runs when it is gone.
   */
  destroyResource(res: ResourceRecord, done: () => void): void {
    res.dying = true;
    this.detachFromScanouts(res.id);
    for (const ctxId of res.contexts) this.contexts.get(ctxId)?.resources.delete(res.id);
    res.contexts.clear();
    this.unmapBlob(res, () => {
      if (this.resources.peek(res.id) === res) {
        this.renderer.destroyResource(res.id);
        this.resources.remove(res.id);
      }
      done();
    });
  }
}
