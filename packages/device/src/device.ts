/**
 * VirtioGpuDevice: the virtio-gpu device model (virtio 1.3 §5.7), transport-agnostic. This file
 * is the facade a transport talks to; the work is in files named for it:
 *
 *   queue-loop.ts      pop a chain, decode into the queue's scratch, dispatch; no re-entry
 *   dispatch.ts        command -> handler (handlers/*.ts), with the fence checks before it
 *   responder.ts       answer at once: fence, reply written into the chain, used or held
 *   pending-fences.ts  held chains until their fence retires
 *   used-buffers.ts    pushUsed and coalesced queue interrupts
 *   reset.ts / hotplug.ts / snapshot.ts / restore.ts   device lifecycle
 *
 * docs/architecture.md draws a command's path through them.
 */
import { VIRTIO_GPU_EVENT_DISPLAY, VIRTIO_GPU_MAX_SCANOUTS, type Rect } from '@virtio-gpu/protocol';
import type { GuestMemory, Virtqueue } from '@virtio-gpu/virtqueue';
import type { HostVisibleRegion } from './blob.js';
import { ConfigSpace } from './config-space.js';
import { offeredFeatures } from './features.js';
import { checkScanoutConfigs, resizeScanout, setScanouts } from './hotplug.js';
import { type DeviceLimits, resolveLimits } from './limits.js';
import { type LogSink, RateLimitedLog } from './log.js';
import { type ChainFor, PendingFences } from './pending-fences.js';
import type { Renderer } from './renderer.js';
import { Renderer2D } from './renderer-2d.js';
import { QueueLoop } from './queue-loop.js';
import { StateReset } from './reset.js';
import { Responder } from './responder.js';
import { checkSnapshot, restoreSnapshot } from './restore.js';
import { SafeSink } from './safe-sink.js';
import { type ScanoutConfig, type ScanoutSink, type ScanoutState, rectInside, scanoutFromConfig } from './scanouts.js';
import { type DeviceSnapshot, copyScanout, takeSnapshot } from './snapshot.js';
import { DeviceState } from './state.js';
import { type InterruptCause, UsedBuffers } from './used-buffers.js';

export type { InterruptCause } from './used-buffers.js';

/** Constructor options (docs/architecture.md). */
export interface VirtioGpuDeviceOptions {
  /** Guest memory the queues and backing live in. */
  memory: GuestMemory;
  /** Renderer; default a new Renderer2D. */
  renderer?: Renderer;
  /** 1..16 scanouts; default one 1024x768. num_scanouts is their count (or `numScanouts`). */
  scanouts?: ScanoutConfig[];
  /** num_scanouts when more outputs may be hotplugged later than are configured now. */
  numScanouts?: number;
  /** Limits; missing fields take DEFAULT_LIMITS. */
  limits?: Partial<DeviceLimits>;
  /** The host-visible shared memory region for MAP_BLOB. */
  hostVisible?: HostVisibleRegion;
  /** Display callbacks. */
  sink?: ScanoutSink;
  /** Raise an interrupt: used buffers on `queueIndex`, or a config change (events, needs-reset). */
  onInterrupt: (cause: InterruptCause, queueIndex?: number) => void;
  /** Log lines (rate-limited when guest-triggered). */
  log?: LogSink;
  /** Random bytes for UUIDs; default globalThis.crypto.getRandomValues. */
  random?: (bytes: Uint8Array) => void;
}

/** Options for {@link VirtioGpuDevice.restore}. */
export interface RestoreOptions {
  /**
   * Give back the chain with head `head` on queue `queueIndex`, for commands that were waiting on a
   * fence (or an unmap) when the snapshot was taken. The transport re-walks the descriptor table
   * in the restored guest memory (the chain is still owned by the device). Without it, or when it
   * returns null, such commands are dropped with a log line.
   */
  chainFor?: ChainFor;
}

function defaultRandom(bytes: Uint8Array): void {
  const c = (globalThis as { crypto?: { getRandomValues?: (b: Uint8Array) => Uint8Array } }).crypto;
  if (!c?.getRandomValues) throw new Error('no crypto.getRandomValues for UUIDs');
  c.getRandomValues(bytes);
}

/** The virtio-gpu device. */
export class VirtioGpuDevice {
  /** Device-specific features offered to the driver. */
  readonly features: bigint;
  /** The renderer in use. */
  readonly renderer: Renderer;
  /** Effective limits. */
  readonly limits: DeviceLimits;

  private readonly state: DeviceState;
  private readonly config: ConfigSpace;
  private readonly onInterrupt: (cause: InterruptCause, queueIndex?: number) => void;
  private readonly log: RateLimitedLog;
  private readonly used: UsedBuffers;
  private readonly fences: PendingFences;
  private readonly responder: Responder;
  private readonly loop: QueueLoop;
  private readonly stateReset: StateReset;

  constructor(opts: VirtioGpuDeviceOptions) {
    this.renderer = opts.renderer ?? new Renderer2D();
    this.limits = resolveLimits(opts.limits);
    this.onInterrupt = opts.onInterrupt;
    this.log = new RateLimitedLog(opts.log, this.limits.logLinesPerSecond);
    const configs = opts.scanouts ?? [{ width: 1024, height: 768 }];
    const n = opts.numScanouts ?? configs.length;
    if (!Number.isInteger(n) || n < 1 || n > VIRTIO_GPU_MAX_SCANOUTS || configs.length > n) {
      throw new RangeError(`VirtioGpuDevice: ${n} scanouts (1..${VIRTIO_GPU_MAX_SCANOUTS})`);
    }
    checkScanoutConfigs(this.limits, configs);
    const scanouts: ScanoutState[] = [];
    for (let i = 0; i < n; i++) scanouts.push(scanoutFromConfig(configs[i]));
    const sink = new SafeSink(opts.sink, this.log);
    const s = new DeviceState(opts.memory, this.renderer, this.limits, scanouts, sink, opts.hostVisible, this.log, opts.random ?? defaultRandom);
    this.state = s;
    this.features = offeredFeatures(this.renderer.capabilities);
    this.config = new ConfigSpace(n, this.renderer.capabilities.capsets.length);
    this.used = new UsedBuffers(this.onInterrupt);
    this.fences = new PendingFences(this.used, this.log);
    this.responder = new Responder(s, this.renderer, this.used, this.fences, this.log);
    const fences = this.fences;
    const hooks = { dropContextFences: (ctxId: number) => fences.dropContext(ctxId) };
    this.loop = new QueueLoop(s, this.used, this.responder, hooks, this.log, () => this.onInterrupt('config'));
    this.stateReset = new StateReset(s, this.renderer);
    s.onUnmapsDrained = () => {
      this.stateReset.unmapsDrained();
      this.loop.resume();
    };
    this.renderer.setFenceHandler((f) => fences.retired(f));
  }

  // ---- features and config space -------------------------------------------------------------

  /** Accept the driver's features; returns the negotiated set (driver's & offered). */
  negotiate(driverFeatures: bigint): bigint {
    this.state.features = driverFeatures & this.features;
    return this.state.features;
  }

  /** The negotiated features. */
  get negotiatedFeatures(): bigint {
    return this.state.features;
  }

  /** Read `size` bytes of struct virtio_gpu_config at `offset`. */
  readConfig(offset: number, size: number): number {
    return this.config.read(offset, size);
  }

  /** Write config space; only events_clear is writable (write 1 to clear). */
  writeConfig(offset: number, size: number, value: number): void {
    this.config.write(offset, size, value);
  }

  /** Whether a broken queue requires a device reset (transport sets DEVICE_NEEDS_RESET). */
  get needsReset(): boolean {
    return this.loop.needsReset;
  }

  /** Number of scanouts (num_scanouts). */
  get numScanouts(): number {
    return this.config.numScanouts;
  }

  // ---- queues --------------------------------------------------------------------------------

  /**
   * Give the device its control (0) and cursor (1) queues, when the driver sets DRIVER_OK: a
   * SplitQueue, a PackedQueue, or any transport's implementation of Virtqueue.
   */
  attachQueues(control: Virtqueue, cursorQueue: Virtqueue): void {
    this.used.queues = [control, cursorQueue];
  }

  /**
   * The driver kicked queue `queueIndex`: process everything available. A kick while the device
   * is already processing (from inside a sink or renderer callback) is only noted; the running
   * loop takes the new chains after its current one, in ring order.
   */
  notify(queueIndex: 0 | 1): void {
    this.loop.notify(queueIndex);
  }

  // ---- reset ---------------------------------------------------------------------------------

  /**
   * Device reset (§2.4): free resources, contexts, pending fences and mappings; forget queues and
   * negotiated features; clear config events. Mapped blobs are unmapped from the region first and
   * the renderer is reset only after the region confirmed every unmap (the control queue stays
   * paused until then): the promise resolves at that point, at once when no unmap was needed.
   */
  reset(): Promise<void> {
    this.fences.clear();
    this.responder.clear();
    this.used.detach();
    this.loop.reset();
    this.config.eventsRead = 0;
    return this.stateReset.reset();
  }

  // ---- scanouts ------------------------------------------------------------------------------

  /**
   * Replace the scanouts' modes (hotplug, resize): entry i configures scanout i, missing entries
   * are disconnected. Sets VIRTIO_GPU_EVENT_DISPLAY and raises a config interrupt so the driver
   * asks GET_DISPLAY_INFO again.
   */
  setScanouts(configs: ScanoutConfig[]): void {
    setScanouts(this.state, configs);
    this.displayEvent();
  }

  /** Change one scanout's mode; same event as {@link setScanouts}. */
  resizeScanout(scanoutId: number, width: number, height: number): void {
    resizeScanout(this.state, scanoutId, width, height);
    this.displayEvent();
  }

  private displayEvent(): void {
    this.config.eventsRead |= VIRTIO_GPU_EVENT_DISPLAY;
    this.onInterrupt('config');
  }

  /** A copy of scanout `scanoutId`'s state, or null. */
  scanout(scanoutId: number): Readonly<ScanoutState> | null {
    const sc = this.state.scanouts[scanoutId];
    return sc ? copyScanout(sc) : null;
  }

  /**
   * Read `rect` (scanout coordinates) of what scanout `scanoutId` shows into `dst`, rows
   * `dstStrideBytes` apart, as RGBA8 or, with `format`, in that VIRTIO_GPU_FORMAT_* (a display
   * that takes B8G8R8X8 then gets the guest's own bytes copied). `opaque` writes every alpha
   * (or X) byte as 255 in the same pass (Renderer.readback). False when the scanout shows
   * nothing or the rect is outside it.
   */
  readScanout(scanoutId: number, rect: Rect, dst: Uint8Array, dstStrideBytes: number, format?: number, opaque?: boolean): boolean {
    const sc = this.state.scanouts[scanoutId];
    if (!sc || sc.resourceId === 0) return false;
    if (!rectInside(rect, sc.r.width, sc.r.height)) return false;
    if (rect.width === 0 || rect.height === 0) return true;
    if (dstStrideBytes < rect.width * 4 || (rect.height - 1) * dstStrideBytes + rect.width * 4 > dst.byteLength) return false;
    const src = { x: sc.r.x + rect.x, y: sc.r.y + rect.y, width: rect.width, height: rect.height };
    return this.renderer.readback(sc.resourceId, src, dst, dstStrideBytes, sc.layout ?? undefined, format, opaque);
  }

  // ---- introspection for embedders and tests ---------------------------------------------------

  /** Number of live resources. */
  get resourceCount(): number {
    return this.state.resources.count;
  }

  /** Host bytes charged against the quota. */
  get hostBytesUsed(): number {
    return this.state.resources.usedBytes;
  }

  /** Commands waiting for fences or unmaps. */
  get pendingCount(): number {
    return this.fences.size + this.responder.deferredCount;
  }

  /** Whether the control queue is paused waiting for the host-visible region. */
  get paused(): boolean {
    return this.state.outstandingUnmaps > 0;
  }

  // ---- snapshot ------------------------------------------------------------------------------

  /**
   * The whole device state as structured-clone-able data (snapshot.ts). Held chains are stored
   * by queue, head and reply length with their fence; their replies are in guest memory. The
   * transport saves its queues' indexes (SplitQueue.lastAvailIdx/usedIdx) alongside and passes
   * chainFor to restore.
   */
  snapshot(): DeviceSnapshot {
    return takeSnapshot({ ...this.internals(), needsReset: this.loop.needsReset });
  }

  /**
   * Load a snapshot (into a freshly built or reset device over the restored guest memory). Chains
   * already available on attached queues are then processed (their kick went to the old
   * device). Throws on a snapshot this device cannot take (wrong version, renderer refuses,
   * scanout count differs) or while a reset still waits for the host-visible region (await
   * reset() first): that is host configuration, not guest input.
   */
  restore(snap: DeviceSnapshot, opts: RestoreOptions = {}): void {
    checkSnapshot(this.state, snap);
    // A reset that waits for the host-visible region resets the renderer when the region
    // confirms, which would wipe whatever was restored in between: restore only onto a device
    // whose renderer is settled (await reset() first).
    if (this.state.outstandingUnmaps > 0) throw new Error('restore: the device still waits for the host-visible region to confirm unmaps; await reset() first');
    const queues = this.used.queues;
    void this.reset();
    if (this.state.outstandingUnmaps > 0) throw new Error('restore: mapped blobs are being unmapped by the host-visible region; await reset() first');
    this.used.queues = queues;
    const loop = this.loop;
    restoreSnapshot(
      { ...this.internals(), log: this.log, used: this.used, offered: this.features, setNeedsReset: (v) => (loop.needsReset = v) },
      snap,
      opts.chainFor,
    );
    // The old device may have taken the driver's last kick without popping everything (its control
    // queue paused behind an unmap, or a kick not yet drained): that kick is not coming again, so
    // pick up whatever the driver made available.
    if (queues) {
      this.notify(0);
      this.notify(1);
    }
  }

  private internals() {
    return { state: this.state, config: this.config, renderer: this.renderer, fences: this.fences, responder: this.responder };
  }
}
