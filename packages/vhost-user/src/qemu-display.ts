/**
 * QEMU's console as the device's display: a ScanoutSink that turns scanout changes, flushes and
 * cursor updates into vhost-user-gpu display messages, and fetches QEMU's display configuration
 * (GET_DISPLAY_INFO, GET_EDID) for the guest.
 *
 * What QEMU 10 does with them decides the shape (hw/display/vhost-user-gpu.c):
 * - SCANOUT allocates a new, blank surface that replaces the console's at the next UPDATE, so it
 *   is sent only when a scanout's size changes (a page flip between same-sized resources needs
 *   none), and is always followed by an update of the whole scanout.
 * - UPDATE is read by QEMU's main loop in one blocking read of the whole message and copied into
 *   the surface. Updates therefore go out in strips of whole rows (`stripBytes`) that fit the
 *   socket's buffer, so QEMU never waits inside a message for the backend, and interrupts and
 *   other work interleave with a large frame.
 * - Pixels are read when a strip is sent, not when the guest flushed, and damage accumulates
 *   while the socket is busy: QEMU always gets the newest content of every damaged area, never a
 *   backlog of frames it could not show. The last flush's pixels always reach QEMU.
 * - A scanout's updates start at most `maxFps` times a second (default 33, QEMU's own UIs'
 *   refresh rate): a guest flipping thousands of frames a second costs QEMU's main thread a
 *   display's worth of copies, not one per guest frame. A flush after a quiet spell goes out at
 *   once.
 * - UPDATE is only valid after a SCANOUT (QEMU dereferences the surface unchecked), and QEMU
 *   trusts its width*height*4 payload: both are guaranteed here.
 */
import { type CursorState, type ScanoutConfig, type ScanoutInfo, type ScanoutSink } from '@virtio-gpu/device';
import { DamageAccumulator } from '@virtio-gpu/display';
import type { DisplayOne, Rect } from '@virtio-gpu/protocol';
import type { DisplayChannel } from './display-channel.js';
import {
  VHOST_USER_GPU_CURSOR_POS,
  VHOST_USER_GPU_CURSOR_POS_HIDE,
  VHOST_USER_GPU_PROTOCOL_F_EDID,
  VHOST_USER_GPU_UPDATE,
  VhostUserGpuCursorUpdate,
  VhostUserGpuHeader,
  VhostUserGpuUpdate,
  encodeCursorPos,
  encodeCursorUpdate,
  encodeScanout,
  encodeSetProtocolFeatures,
  encodeUpdateHead,
} from './gpu-wire.js';

/** Default strip size: well under Linux's default 208 KiB socket buffer. */
export const DEFAULT_STRIP_BYTES = 96 * 1024;

/**
 * Default cap on update rounds per scanout and second: QEMU's own UIs redraw every 30 ms
 * (GUI_REFRESH_INTERVAL_DEFAULT), so rounds beyond ~33 a second are never seen.
 */
export const DEFAULT_MAX_FPS = 33;

/** Strip buffers kept for reuse (a frame goes out a socket buffer at a time, so few are in flight). */
const STRIP_POOL = 4;

const UPDATE_HEAD = VhostUserGpuHeader.SIZE + VhostUserGpuUpdate.SIZE;

/** Options of a {@link QemuDisplay}. */
export interface QemuDisplayOptions {
  /** Scanouts the device has. */
  numScanouts: number;
  /** Read `rect` of scanout `scanoutId` as B8G8R8X8 (PIXMAN_x8r8g8b8) rows `strideBytes` apart; false when it shows nothing. */
  readPixels(scanoutId: number, rect: Rect, dst: Uint8Array, strideBytes: number): boolean;
  /** Give the device new modes (QEMU's display configuration changed). */
  applyModes(configs: ScanoutConfig[]): void;
  /** Log lines. */
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** Bytes of pixels per UPDATE message (whole rows; at least one row). */
  stripBytes?: number;
  /** Most update rounds per scanout and second; 0: as fast as QEMU reads them. */
  maxFps?: number;
  /** Clock in milliseconds; default performance.now. */
  now?: () => number;
  /** Called when everything flushed has been handed to the socket (see {@link QemuDisplay.busy}). */
  onIdle?: () => void;
}

/** Counters for tests, logs and the benchmark. */
export interface DisplayStats {
  /** Flushes (and resource switches) of a shown scanout. */
  flushes: number;
  scanoutMessages: number;
  updateMessages: number;
  updateBytes: number;
  /** Flush damage that was merged into an update still waiting (frames QEMU never had to copy). */
  coalescedFlushes: number;
  cursorMessages: number;
  refreshes: number;
}

interface StripJob {
  scanoutId: number;
  rect: Rect;
  /** Rows of `rect` already sent. */
  row: number;
}

type Size = { width: number; height: number };

/** See the module comment. */
export class QemuDisplay implements ScanoutSink {
  private channel: DisplayChannel | null = null;
  private ready: Promise<void> = Promise.resolve();
  private edidFeature = false;
  private readonly shown: (Size | null)[];
  private readonly announced: (Size | null)[];
  private readonly damage: DamageAccumulator[];
  private readonly queued: Rect[][];
  private job: StripJob | null = null;
  private nextScanout = 0;
  private cursor: CursorState | null = null;
  private cursorImage: Uint8Array | null = null;
  private cursorDirty = false;
  private cursorImageDirty = false;
  private pumpScheduled = false;
  /** A flush arrived whose pixels are not all with the socket yet (display-sync back-pressure). */
  private flushWaiting = false;
  private lastModes: string | null = null;
  private refreshing: Promise<boolean> | null = null;
  private nextRefresh: Promise<boolean> | null = null;
  private readonly stripBytes: number;
  private readonly frameMs: number;
  private readonly lastRound: number[];
  private paceTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly now: () => number;
  private readonly pool: Uint8Array[] = [];
  readonly stats: DisplayStats = { flushes: 0, scanoutMessages: 0, updateMessages: 0, updateBytes: 0, coalescedFlushes: 0, cursorMessages: 0, refreshes: 0 };

  constructor(private readonly opts: QemuDisplayOptions) {
    const n = opts.numScanouts;
    this.shown = new Array<Size | null>(n).fill(null);
    this.announced = new Array<Size | null>(n).fill(null);
    this.damage = Array.from({ length: n }, () => new DamageAccumulator());
    this.queued = Array.from({ length: n }, () => []);
    this.stripBytes = Math.max(4, opts.stripBytes ?? DEFAULT_STRIP_BYTES);
    const fps = opts.maxFps ?? DEFAULT_MAX_FPS;
    this.frameMs = fps > 0 ? 1000 / fps : 0;
    this.lastRound = new Array<number>(n).fill(-Infinity);
    this.now = opts.now ?? (() => performance.now());
  }

  /** The display channel in use, if any (diagnostics and protocol probes send on it directly). */
  get currentChannel(): DisplayChannel | null {
    return this.channel && !this.channel.closed ? this.channel : null;
  }

  /** Whether a display channel is attached (QEMU sent VHOST_USER_GPU_SET_SOCKET). */
  get attached(): boolean {
    return this.channel !== null && !this.channel.closed;
  }

  /**
   * Use `channel` from now on (a new SET_SOCKET: first connection, guest reboot, VM resumed).
   * Negotiates protocol features, then tells QEMU every scanout again: its console surfaces may
   * be gone, and it may be a different QEMU console than before.
   */
  attach(channel: DisplayChannel): void {
    this.detach();
    this.channel = channel;
    this.announced.fill(null);
    this.job = null;
    for (let i = 0; i < this.shown.length; i++) {
      const s = this.shown[i];
      this.damage[i].take();
      this.queued[i] = [];
      if (s) this.damage[i].add({ x: 0, y: 0, width: s.width, height: s.height });
    }
    this.cursorDirty = this.cursor !== null;
    this.cursorImageDirty = this.cursorImage !== null;
    this.ready = (async () => {
      const features = await channel.getProtocolFeatures();
      if (features === null || channel.closed) return;
      const want = features & (1n << BigInt(VHOST_USER_GPU_PROTOCOL_F_EDID));
      this.edidFeature = want !== 0n;
      const b = new Uint8Array(VhostUserGpuHeader.SIZE + 8);
      encodeSetProtocolFeatures(new DataView(b.buffer), 0, want);
      channel.send(b);
    })();
    void this.ready.then(() => this.pump());
  }

  /** Forget the channel (QEMU closed it); state is kept for the next one. */
  detach(): void {
    if (this.channel && !this.channel.closed) this.channel.close();
    this.channel = null;
    if (this.flushWaiting) {
      // Nothing more can be sent: do not hold the guest for it.
      this.flushWaiting = false;
      this.opts.onIdle?.();
    }
    if (this.paceTimer) clearTimeout(this.paceTimer);
    this.paceTimer = null;
  }

  /** The channel's socket took everything: continue sending. */
  drained(): void {
    this.pump();
  }

  // ---- ScanoutSink ---------------------------------------------------------------------------

  scanoutChanged(scanoutId: number, info: ScanoutInfo | null): void {
    if (scanoutId < 0 || scanoutId >= this.shown.length) return;
    const prev = this.shown[scanoutId];
    this.shown[scanoutId] = info && info.width > 0 && info.height > 0 ? { width: info.width, height: info.height } : null;
    const now = this.shown[scanoutId];
    if (now && (!prev || prev.width !== now.width || prev.height !== now.height)) {
      // New surface at the next SCANOUT: everything must be sent again.
      this.damage[scanoutId].take();
      this.queued[scanoutId] = [];
      this.damage[scanoutId].add({ x: 0, y: 0, width: now.width, height: now.height });
    } else if (now) {
      // Another resource on the same surface shows at once, flushed or not (as QEMU's own
      // virtio-gpu does); a page flip's flush of the whole frame merges with this.
      this.addDamage(scanoutId, { x: 0, y: 0, width: now.width, height: now.height });
    }
    if (!now) {
      this.damage[scanoutId].take();
      this.queued[scanoutId] = [];
    }
    this.schedulePump();
  }

  flushed(scanoutId: number, damage: Rect): void {
    if (scanoutId < 0 || scanoutId >= this.shown.length || !this.shown[scanoutId]) return;
    this.stats.flushes++;
    this.flushWaiting = true;
    this.addDamage(scanoutId, damage);
  }

  private addDamage(scanoutId: number, damage: Rect): void {
    const acc = this.damage[scanoutId];
    if (!acc.isEmpty || this.queued[scanoutId].length > 0 || this.job?.scanoutId === scanoutId) this.stats.coalescedFlushes++;
    acc.add(damage);
    this.schedulePump();
  }

  cursorChanged(cursor: CursorState): void {
    this.cursor = { ...cursor, image: undefined };
    if (cursor.image) {
      this.cursorImage = cursor.image.slice();
      this.cursorImageDirty = true;
    }
    this.cursorDirty = true;
    this.schedulePump();
  }

  // ---- display configuration -------------------------------------------------------------------

  /**
   * Ask QEMU for its display configuration (and EDIDs, with the EDID protocol feature) and give
   * it to the device when it changed. Resolves true when QEMU answered. The round trip starts
   * after the call (a guest asking after a display change must see the change); calls made while
   * one is in flight share the next one.
   */
  refresh(): Promise<boolean> {
    if (!this.nextRefresh) {
      const prev = (this.refreshing ?? Promise.resolve(true)).catch(() => false);
      this.nextRefresh = prev.then(() => {
        this.nextRefresh = null;
        const run = this.fetchModes().finally(() => {
          if (this.refreshing === run) this.refreshing = null;
        });
        this.refreshing = run;
        return run;
      });
    }
    return this.nextRefresh;
  }

  private async fetchModes(): Promise<boolean> {
    try {
      return await this.fetchModesOnce();
    } catch (e) {
      this.opts.log('error', `vhost-user-gpu: display refresh failed: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  }

  private async fetchModesOnce(): Promise<boolean> {
    const ch = this.channel;
    if (!ch || ch.closed) return false;
    await this.ready;
    const pmodes = await ch.getDisplayInfo();
    if (!pmodes) {
      if (!ch.closed) this.opts.log('warn', 'vhost-user-gpu: QEMU did not answer GET_DISPLAY_INFO in time');
      return false;
    }
    this.stats.refreshes++;
    const n = this.shown.length;
    const configs: ScanoutConfig[] = [];
    for (let i = 0; i < n; i++) {
      const m: DisplayOne = pmodes[i];
      const c: ScanoutConfig = { width: m.r.width, height: m.r.height, x: m.r.x, y: m.r.y, enabled: m.enabled !== 0 };
      if (c.enabled && this.edidFeature) {
        const edid = await ch.getEdid(i);
        if (edid) c.edid = edid;
      }
      configs.push(c);
    }
    for (let i = n; i < pmodes.length; i++) {
      if (pmodes[i].enabled && this.lastModes === null) {
        this.opts.log('warn', `vhost-user-gpu: QEMU shows output ${i}, the backend has ${n} (--outputs)`);
        break;
      }
    }
    const key = JSON.stringify(configs.map((c) => [c.width, c.height, c.x, c.y, c.enabled, c.edid ? [...c.edid] : null]));
    if (key !== this.lastModes) {
      try {
        this.opts.applyModes(configs);
        this.lastModes = key;
      } catch (e) {
        this.opts.log('warn', `vhost-user-gpu: QEMU's display configuration refused: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return true;
  }

  /** Resolves when the refresh in flight (or due) has finished; at once when there is none. */
  settled(): Promise<boolean> {
    return this.nextRefresh ?? this.refreshing ?? Promise.resolve(true);
  }

  /** Whether a refresh is in flight or due. */
  get refreshPending(): boolean {
    return this.refreshing !== null || this.nextRefresh !== null;
  }

  // ---- sending ---------------------------------------------------------------------------------

  private schedulePump(): void {
    if (this.pumpScheduled || !this.attached) return;
    this.pumpScheduled = true;
    // After the current batch of commands: one read of the newest pixels for all their flushes.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Send what is due while the socket takes everything at once. */
  pump(): void {
    const ch = this.channel;
    if (!ch || ch.closed) return;
    while (ch.queuedBytes === 0 && !ch.closed) {
      if (!this.sendScanoutChanges(ch)) continue;
      if (this.cursorDirty) {
        this.sendCursor(ch);
        continue;
      }
      const job = this.nextJob();
      if (!job) {
        if (this.flushWaiting && !this.pending()) {
          this.flushWaiting = false;
          this.opts.onIdle?.();
        }
        return;
      }
      this.sendStrip(ch, job);
    }
  }

  /** Whether a round of updates is under way (a rect half sent or bytes the socket has not taken). */
  get sending(): boolean {
    const ch = this.channel;
    return ch !== null && !ch.closed && (this.job !== null || ch.queuedBytes > 0);
  }

  /** Pixels left to hand to the socket: damage, a rect half sent, bytes the socket has not taken. */
  private pending(): boolean {
    const ch = this.channel;
    if (!ch || ch.closed) return false;
    if (this.job !== null || ch.queuedBytes > 0) return true;
    for (let i = 0; i < this.shown.length; i++) if (this.queued[i].length > 0 || !this.damage[i].isEmpty) return true;
    return false;
  }

  /**
   * Whether a guest flush has not been handed to the socket in full yet. Without a channel
   * nothing can be waited for: false.
   */
  get busy(): boolean {
    if (!this.attached) return false;
    return this.flushWaiting;
  }

  /** Sends one pending SCANOUT message; false when it sent one (the loop checks the socket again). */
  private sendScanoutChanges(ch: DisplayChannel): boolean {
    for (let i = 0; i < this.shown.length; i++) {
      const s = this.shown[i];
      const a = this.announced[i];
      if ((s?.width ?? 0) === (a?.width ?? 0) && (s?.height ?? 0) === (a?.height ?? 0)) continue;
      if (this.job?.scanoutId === i) this.job = null;
      const b = new Uint8Array(VhostUserGpuHeader.SIZE + 12);
      encodeScanout(new DataView(b.buffer), 0, i, s?.width ?? 0, s?.height ?? 0);
      ch.send(b);
      this.announced[i] = s ? { ...s } : null;
      this.stats.scanoutMessages++;
      return false;
    }
    return true;
  }

  private sendCursor(ch: DisplayChannel): void {
    this.cursorDirty = false;
    const c = this.cursor;
    if (!c) return;
    if (c.resourceId === 0) {
      const b = new Uint8Array(VhostUserGpuHeader.SIZE + 12);
      encodeCursorPos(new DataView(b.buffer), 0, VHOST_USER_GPU_CURSOR_POS_HIDE, c.scanoutId, c.x, c.y);
      ch.send(b);
    } else if (this.cursorImageDirty && this.cursorImage) {
      this.cursorImageDirty = false;
      const b = new Uint8Array(VhostUserGpuHeader.SIZE + VhostUserGpuCursorUpdate.SIZE);
      encodeCursorUpdate(new DataView(b.buffer), 0, c.scanoutId, c.x, c.y, c.hotX, c.hotY, this.cursorImage);
      ch.send(b);
    } else {
      const b = new Uint8Array(VhostUserGpuHeader.SIZE + 12);
      encodeCursorPos(new DataView(b.buffer), 0, VHOST_USER_GPU_CURSOR_POS, c.scanoutId, c.x, c.y);
      ch.send(b);
    }
    this.stats.cursorMessages++;
  }

  /**
   * The strip job to continue, or the next damaged rect of the next damaged scanout. A scanout's
   * pending damage starts a new round (all its rects, read then) at most every 1/maxFps seconds.
   */
  private nextJob(): StripJob | null {
    if (this.job) return this.job;
    const n = this.shown.length;
    let wait = Infinity;
    for (let k = 0; k < n; k++) {
      const i = (this.nextScanout + k) % n;
      const s = this.shown[i];
      if (!s || !this.announced[i]) continue;
      if (this.queued[i].length === 0 && !this.damage[i].isEmpty) {
        const t = this.now();
        const due = this.lastRound[i] + this.frameMs;
        if (t < due) {
          wait = Math.min(wait, due - t);
          continue;
        }
        this.lastRound[i] = t;
        this.queued[i] = this.damage[i].take();
      }
      while (this.queued[i].length > 0) {
        const r = clip(this.queued[i].shift()!, s);
        if (r) {
          this.nextScanout = (i + 1) % n;
          this.job = { scanoutId: i, rect: r, row: 0 };
          return this.job;
        }
      }
    }
    if (wait !== Infinity && this.paceTimer === null) {
      this.paceTimer = setTimeout(() => {
        this.paceTimer = null;
        this.pump();
      }, Math.ceil(wait));
    }
    return null;
  }

  private recycle(buf: Uint8Array): void {
    if (this.pool.length < STRIP_POOL) this.pool.push(buf);
  }

  private sendStrip(ch: DisplayChannel, job: StripJob): void {
    const { rect } = job;
    const rowBytes = rect.width * 4;
    const rows = Math.min(rect.height - job.row, Math.max(1, Math.floor(this.stripBytes / rowBytes)));
    const y = rect.y + job.row;
    const size = UPDATE_HEAD + rowBytes * rows;
    // Reused buffers: a fresh (zeroed) 96 KiB per strip would cost a frame's worth of memset and GC.
    let buf = this.pool.pop();
    if (buf === undefined || buf.byteLength < size) buf = new Uint8Array(Math.max(size, UPDATE_HEAD + this.stripBytes));
    const msg = buf.subarray(0, size);
    encodeUpdateHead(new DataView(msg.buffer, msg.byteOffset, msg.byteLength), 0, VHOST_USER_GPU_UPDATE, job.scanoutId, rect.x, y, rect.width, rows);
    job.row += rows;
    if (job.row >= rect.height) this.job = null;
    if (!this.opts.readPixels(job.scanoutId, { x: rect.x, y, width: rect.width, height: rows }, msg.subarray(UPDATE_HEAD), rowBytes)) {
      // The scanout shows nothing readable (resource gone): drop the rest of this rect.
      this.job = null;
      this.recycle(buf);
      return;
    }
    const done = buf;
    ch.send(msg, undefined, () => this.recycle(done));
    this.stats.updateMessages++;
    this.stats.updateBytes += msg.byteLength;
  }
}

/** `r` clipped to a `size` surface, or null when nothing is left. */
function clip(r: Rect, size: Size): Rect | null {
  const x1 = Math.min(r.x + r.width, size.width);
  const y1 = Math.min(r.y + r.height, size.height);
  if (x1 <= r.x || y1 <= r.y) return null;
  return { x: r.x, y: r.y, width: x1 - r.x, height: y1 - r.y };
}
