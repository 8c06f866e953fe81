/**
 * One vhost-user connection: the backend side of QEMU's vhost-user-gpu-pci (vhost-user.rst,
 * vhost-user-gpu.rst). It owns a VirtioGpuDevice, the frontend's guest memory, two vrings
 * (control and cursor), their eventfds and the display channel, and frees all of it when the
 * connection ends.
 *
 * Every message is decoded and validated (wire.ts for what the bytes alone say, here for what
 * needs state: indexes, ring sizes, negotiated features, region tables, ring addresses). The
 * first bad message ends the connection with one log line; nothing a frontend sends throws past
 * this class.
 *
 * Device resets: vhost-user tells the backend nothing when the guest resets the device (QEMU
 * stops the rings exactly as it does when the VM is paused). A stopped ring that is started again
 * at another index than the one GET_VRING_BASE reported was not resumed, so the driver started
 * over (reset or reboot): the device is reset before that ring runs. A paused VM resumes at the
 * reported index and keeps its resources.
 */
import { type Renderer, Renderer2D, VirtioGpuDevice, type ScanoutConfig } from '@virtio-gpu/device';
import { Config, VIRTIO_GPU_CMD_GET_DISPLAY_INFO, VIRTIO_GPU_CMD_GET_EDID, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM } from '@virtio-gpu/protocol';
import { type DescriptorChain, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC } from '@virtio-gpu/virtqueue';
import { DisplayChannel } from './display-channel.js';
import { type Frame, MessageReader, MessageWriter } from './framing.js';
import { GatedQueue, peekType } from './gated-queue.js';
import type { FdSocket, VhostHost } from './host.js';
import { VhostMemory } from './memory.js';
import { QemuDisplay } from './qemu-display.js';
import { Vring } from './vring.js';
import * as W from './wire.js';

/** Queues of virtio-gpu: controlq and cursorq (virtio-gpu §5.7.2). */
export const NUM_QUEUES = 2;

/** Default chains per batch before the event loop gets a turn (a full 256-entry control ring). */
export const DEFAULT_BUDGET = 256;
/** Default milliseconds per batch: the display and the sockets get a turn at least this often. */
export const DEFAULT_BUDGET_MS = 4;
/**
 * Milliseconds per batch while the display has pixels waiting for the socket: each turn of the
 * event loop moves another socket buffer's worth (~200 KiB) to QEMU, so a frame needs ~20 turns.
 */
export const DISPLAY_BUDGET_MS = 1;

/** Options of one connection. */
export interface BackendOptions {
  host: VhostHost;
  sock: FdSocket;
  /** Scanouts of the device (`--outputs`); QEMU's max_outputs should match. */
  numScanouts: number;
  /** The renderer for this connection's device; default the device's Renderer2D. */
  createRenderer?: () => Renderer;
  /** One line per event worth logging. */
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Called once when the connection has ended and everything is released (`error` null: peer closed). */
  onClose: (error: string | null) => void;
  /** Prefix for log lines, e.g. "connection 3". */
  name?: string;
  /** Chains per batch (see GatedQueue). */
  budget?: number;
  /** Milliseconds per batch (see GatedQueue). */
  budgetMs?: number;
  /** Most full updates per second per scanout sent to QEMU (0: as fast as QEMU reads them). */
  maxFps?: number;
  /**
   * Every flush reaches QEMU with the pixels of that moment: the control queue waits while the
   * display has pixels to send (the guest runs at the display's pace, like QEMU's C backend).
   * Implies maxFps 0.
   */
  displaySync?: boolean;
  /** Bytes of pixels per display UPDATE message. */
  stripBytes?: number;
  /** Most memory regions (GET_MAX_MEM_SLOTS). */
  maxMemSlots?: number;
  /** Log every request (an info line each). */
  trace?: boolean;
}

/** One line for a request: its name and decoded fields. */
export function describeRequest(req: W.VhostRequest): string {
  const { request, needReply, ...rest } = req;
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'bigint' ? `0x${v.toString(16)}` : typeof v === 'number' && v > 0xffff ? `0x${v.toString(16)}` : v instanceof Uint8Array ? `[${v.byteLength} bytes]` : JSON.stringify(v, (_k, x) => (typeof x === 'number' && x > 0xffff ? `0x${x.toString(16)}` : x))}`)
    .join(' ');
  return `${W.requestName(request)}${needReply ? ' (need reply)' : ''}${fields ? ` ${fields}` : ''}`;
}

const bit = (n: number): bigint => 1n << BigInt(n);

/** Protocol features offered (see the README's table for why each). */
export const OFFERED_PROTOCOL_FEATURES =
  bit(W.VHOST_USER_PROTOCOL_F_MQ) |
  bit(W.VHOST_USER_PROTOCOL_F_REPLY_ACK) |
  bit(W.VHOST_USER_PROTOCOL_F_BACKEND_REQ) |
  bit(W.VHOST_USER_PROTOCOL_F_CONFIG) |
  bit(W.VHOST_USER_PROTOCOL_F_RESET_DEVICE) |
  bit(W.VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS);

/** VIRTIO_F_ACCESS_PLATFORM (33) and VIRTIO_F_RING_PACKED (34): never offered, fatal when acked. */
const FATAL_UNOFFERED_FEATURES = bit(33) | bit(34);

/** Thrown inside message handling for a protocol violation; ends the connection. */
class ProtocolError extends Error {}

function fail(message: string): never {
  throw new ProtocolError(message);
}

/** Takes descriptor `i` out of a message's list (-1 left behind): the caller now owns it. */
function take(fds: number[], i: number): number {
  const fd = fds[i] ?? -1;
  fds[i] = -1;
  return fd;
}

/** See the module comment. */
export class VhostUserBackend {
  readonly device: VirtioGpuDevice;
  readonly memory: VhostMemory;
  readonly display: QemuDisplay;
  /** Virtio features offered with GET_FEATURES. */
  readonly offeredFeatures: bigint;
  private readonly vrings: Vring[];
  private readonly gates: GatedQueue[];
  private readonly reader: MessageReader;
  private readonly writer: MessageWriter;
  private ackedFeatures = 0n;
  private ignoredFeatures = 0n;
  private protocolFeatures = 0n;
  private backendReqFd = -1;
  private isClosed = false;
  /** Per ring: the index GET_VRING_BASE reported, null when not stopped since the last reset. */
  private readonly stoppedAt: (number | null)[] = [null, null];
  private resetOnStart = false;
  private readonly name: string;
  /** Messages handled, by request (tests, logs). */
  readonly requestCounts = new Map<number, number>();

  constructor(private readonly opts: BackendOptions) {
    const { host } = opts;
    this.name = opts.name ?? 'vhost-user';
    this.memory = new VhostMemory(host, opts.maxMemSlots);
    this.display = new QemuDisplay({
      numScanouts: opts.numScanouts,
      readPixels: (id, r, dst, stride) => this.readBgrx(id, r, dst, stride),
      applyModes: (configs: ScanoutConfig[]) => this.device.setScanouts(configs),
      log: (l, m) => opts.log(l, `${this.name}: ${m}`),
      stripBytes: opts.stripBytes,
      maxFps: opts.displaySync ? 0 : opts.maxFps,
      onIdle: () => this.gates[0].unpause(),
    });
    this.device = new VirtioGpuDevice({
      memory: this.memory,
      renderer: opts.createRenderer?.(),
      numScanouts: opts.numScanouts,
      scanouts: [{ width: 1280, height: 800 }],
      sink: this.display,
      log: (l, m) => opts.log(l === 'error' ? 'error' : 'warn', `${this.name}: ${m}`),
      onInterrupt: (cause, qi) => this.interrupt(cause, qi),
    });
    this.offeredFeatures =
      this.device.features | bit(W.VIRTIO_F_VERSION_1) | bit(VIRTIO_F_INDIRECT_DESC) | bit(VIRTIO_F_EVENT_IDX) | bit(W.VHOST_USER_F_PROTOCOL_FEATURES);
    this.vrings = [0, 1].map((i) => new Vring(i, host));
    this.gates = [0, 1].map(
      (i) =>
        new GatedQueue({
          budget: opts.budget ?? DEFAULT_BUDGET,
          budgetMs: opts.budgetMs ?? (() => (this.display.sending ? DISPLAY_BUDGET_MS : DEFAULT_BUDGET_MS)),
          resume: () => this.runQueue(i as 0 | 1),
          shouldHold: i === 0 ? (c) => this.holdForDisplay(c) : undefined,
          paused: i === 0 && opts.displaySync ? () => this.display.busy : undefined,
        }),
    );
    this.device.attachQueues(this.gates[0], this.gates[1]);
    this.reader = new MessageReader(opts.sock, W.VHOST_MEMORY_BASELINE_NREGIONS, (request, flags, size) => W.checkRequestHeader({ request, flags, size }), (fd) => host.close(fd));
    this.writer = new MessageWriter(opts.sock, () => {}, (why) => this.close(`write failed: ${why}`));
    opts.sock.onReadable(() => this.readable());
  }

  /**
   * Scanout pixels as B8G8R8X8 (PIXMAN_x8r8g8b8). The TypeScript renderer produces them directly
   * (for the guest's usual XRGB8888 a plain copy); a renderer that only reads back RGBA8 gets its
   * red and blue swapped here.
   */
  private readBgrx(id: number, r: { x: number; y: number; width: number; height: number }, dst: Uint8Array, stride: number): boolean {
    if (this.device.renderer instanceof Renderer2D) return this.device.readScanout(id, r, dst, stride, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM);
    if (!this.device.readScanout(id, r, dst, stride)) return false;
    for (let y = 0; y < r.height; y++) {
      const row = y * stride;
      for (let i = row, end = row + r.width * 4; i < end; i += 4) {
        const red = dst[i];
        dst[i] = dst[i + 2];
        dst[i + 2] = red;
      }
    }
    return true;
  }

  /** Whether the connection has ended. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** The vrings' states (tests and diagnostics). */
  ring(i: number): Readonly<Vring> {
    return this.vrings[i];
  }

  /** End the connection and release everything (idempotent). */
  close(error: string | null = null): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (error !== null) this.opts.log('error', `${this.name}: ${error}; closing the connection`);
    const st = this.display.stats;
    if (st.flushes > 0) {
      this.opts.log(
        'info',
        `${this.name}: display: ${st.flushes} flushes, ${st.updateMessages} UPDATE messages (${(st.updateBytes / 1e6).toFixed(1)} MB), ${st.scanoutMessages} SCANOUT, ${st.coalescedFlushes} flushes merged into pending updates`,
      );
    }
    // Each step on its own: one that fails (a host error) must not leave the others' resources behind.
    const step = (what: string, fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        this.opts.log('error', `${this.name}: while closing, ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    step('socket', () => this.opts.sock.onReadable(null));
    for (const g of this.gates) g.stop();
    for (const r of this.vrings) step(`vring ${r.index}`, () => r.dispose());
    step('backend request fd', () => {
      if (this.backendReqFd >= 0) this.opts.host.close(this.backendReqFd);
      this.backendReqFd = -1;
    });
    step('display channel', () => this.display.detach());
    // Reset before unmapping: the renderer lets go of guest memory it uses as backing.
    step('device reset', () => void this.device.reset());
    step('guest memory', () => this.memory.clear());
    step('reader', () => this.reader.dispose());
    step('writer', () => this.writer.close());
    step('socket', () => this.opts.sock.close());
    this.opts.onClose(error);
  }

  // ---- messages --------------------------------------------------------------------------------

  private readable(): void {
    // Bounded per callback; a readable socket calls again on the next turn.
    for (let i = 0; i < 64 && !this.isClosed; i++) {
      const f = this.reader.next();
      if (f === 'again') return;
      if (f === 'eof') {
        this.opts.log('info', `${this.name}: frontend disconnected`);
        this.close(null);
        return;
      }
      if ('error' in f) {
        this.close(f.error);
        return;
      }
      this.handleFrame(f);
    }
  }

  private handleFrame(f: Frame): void {
    const req = W.decodeRequest({ request: f.request, flags: f.flags, size: f.payload.byteLength }, f.payload);
    if ('error' in req) {
      for (const fd of f.fds) this.opts.host.close(fd);
      this.close(req.error);
      return;
    }
    const want = W.fdsExpected(req);
    if (f.fds.length < want.min || f.fds.length > want.max) {
      for (const fd of f.fds) this.opts.host.close(fd);
      this.close(`${W.requestName(req.request)} with ${f.fds.length} descriptors (want ${want.min === want.max ? want.min : `${want.min}..${want.max}`})`);
      return;
    }
    this.requestCounts.set(req.request, (this.requestCounts.get(req.request) ?? 0) + 1);
    if (this.opts.trace) this.opts.log('info', `${this.name}: <- ${describeRequest(req)}${f.fds.length ? ` fds=${f.fds.length}` : ''}`);
    let replied = false;
    try {
      replied = this.handle(req, f.fds);
    } catch (e) {
      this.closeUntaken(f.fds);
      if (!(e instanceof ProtocolError)) {
        // A host bug, not the frontend's fault; still, this connection's state is now unknown.
        this.opts.log('error', `${this.name}: internal error in ${W.requestName(req.request)}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      }
      if (req.needReply && this.has(W.VHOST_USER_PROTOCOL_F_REPLY_ACK)) this.writer.send(W.encodeU64Reply(req.request, 1n));
      this.close(`${W.requestName(req.request)}: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    this.closeUntaken(f.fds);
    // REPLY_ACK: a request without a reply of its own gets a u64 0 when it asked for one.
    if (!replied && req.needReply && this.has(W.VHOST_USER_PROTOCOL_F_REPLY_ACK)) this.writer.send(W.encodeU64Reply(req.request, 0n));
  }

  /**
   * Close the descriptors of a message that no handler took ({@link take}): those of a request
   * refused before it used them (a vring index out of range, a missing protocol feature) belong
   * to nobody else.
   */
  private closeUntaken(fds: number[]): void {
    for (let i = 0; i < fds.length; i++) {
      const fd = take(fds, i);
      if (fd >= 0) this.opts.host.close(fd);
    }
  }

  /**
   * The message's descriptor, once it is known to be an eventfd: anything else (a socket, a
   * memfd, a pipe) would be written to or read from as if it were one, on every call and kick.
   */
  private takeEventfd(fds: number[], what: string): number {
    if (!this.opts.host.isEventfd(fds[0])) fail(`${what}: the descriptor is not an eventfd`);
    return take(fds, 0);
  }

  private has(protocolFeature: number): boolean {
    return (this.protocolFeatures & bit(protocolFeature)) !== 0n;
  }

  private vring(index: number): Vring {
    if (index >= NUM_QUEUES) fail(`vring index ${index} (the device has ${NUM_QUEUES})`);
    return this.vrings[index];
  }

  /**
   * Handles one request; returns whether it sent its own reply. Throws ProtocolError. A handler
   * takes each descriptor it keeps or closes itself out of `fds` ({@link take}); the caller
   * closes the rest, whether the handler returned or threw.
   */
  private handle(req: W.VhostRequest, fds: number[]): boolean {
    const send = (b: Uint8Array): boolean => {
      this.writer.send(b);
      return true;
    };
    switch (req.request) {
      case W.VHOST_USER_GET_FEATURES:
        return send(W.encodeU64Reply(req.request, this.offeredFeatures));
      case W.VHOST_USER_SET_FEATURES: {
        // QEMU passes on what the guest acked of QEMU's own offer (vhost-user-gpu-pci adds
        // transport bits such as VIRTIO_F_RING_RESET), not only of ours. Bits that change the
        // ring format or its addresses cannot be honoured; the rest mean nothing here.
        const unsupported = req.value & ~this.offeredFeatures & FATAL_UNOFFERED_FEATURES;
        if (unsupported !== 0n) fail(`features 0x${unsupported.toString(16)} (packed rings, IOMMU addresses) are not supported`);
        if (this.vrings.some((r) => r.started)) fail('features changed while a ring runs');
        const ignored = req.value & ~this.offeredFeatures;
        if (ignored !== 0n && ignored !== this.ignoredFeatures) {
          this.opts.log('info', `${this.name}: frontend acked features 0x${ignored.toString(16)} it was not offered; ignored`);
        }
        this.ignoredFeatures = ignored;
        this.ackedFeatures = req.value & this.offeredFeatures;
        this.device.negotiate(this.ackedFeatures & this.device.features);
        return false;
      }
      case W.VHOST_USER_GET_PROTOCOL_FEATURES:
        return send(W.encodeU64Reply(req.request, OFFERED_PROTOCOL_FEATURES));
      case W.VHOST_USER_SET_PROTOCOL_FEATURES: {
        const extra = req.value & ~OFFERED_PROTOCOL_FEATURES;
        if (extra !== 0n) fail(`protocol features 0x${extra.toString(16)} were not offered`);
        this.protocolFeatures = req.value;
        return false;
      }
      case W.VHOST_USER_GET_QUEUE_NUM:
        return send(W.encodeU64Reply(req.request, BigInt(NUM_QUEUES)));
      case W.VHOST_USER_SET_OWNER:
        return false;
      case W.VHOST_USER_RESET_OWNER:
        // Deprecated; the spec recommends ignoring it or disabling the rings. Disable them.
        for (let i = 0; i < NUM_QUEUES; i++) this.stopRing(i);
        return false;
      case W.VHOST_USER_RESET_DEVICE:
        // QEMU 10 sends it at machine reset and when the guest driver resets the device (reboot).
        if (!this.has(W.VHOST_USER_PROTOCOL_F_RESET_DEVICE)) fail('RESET_DEVICE without the protocol feature');
        for (let i = 0; i < NUM_QUEUES; i++) this.stopRing(i);
        this.resetDevice('RESET_DEVICE');
        return false;
      case W.VHOST_USER_GET_MAX_MEM_SLOTS:
        if (!this.has(W.VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) fail('GET_MAX_MEM_SLOTS without CONFIGURE_MEM_SLOTS');
        return send(W.encodeU64Reply(req.request, BigInt(this.memory.maxSlots)));
      case W.VHOST_USER_SET_MEM_TABLE: {
        const bad = this.memory.setTable(req.regions, fds.map((_, i) => take(fds, i)));
        if (bad) fail(bad);
        return false;
      }
      case W.VHOST_USER_ADD_MEM_REG: {
        if (!this.has(W.VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) fail('ADD_MEM_REG without CONFIGURE_MEM_SLOTS');
        const bad = this.memory.add(req.region, take(fds, 0));
        if (bad) fail(bad);
        return false;
      }
      case W.VHOST_USER_REM_MEM_REG: {
        // A descriptor sent with it (allowed for compatibility) is closed by the caller.
        if (!this.has(W.VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) fail('REM_MEM_REG without CONFIGURE_MEM_SLOTS');
        const bad = this.memory.remove(req.region);
        if (bad) fail(bad);
        return false;
      }
      case W.VHOST_USER_SET_BACKEND_REQ_FD:
        if (!this.has(W.VHOST_USER_PROTOCOL_F_BACKEND_REQ)) fail('SET_BACKEND_REQ_FD without BACKEND_REQ');
        if (this.backendReqFd >= 0) this.opts.host.close(this.backendReqFd);
        this.backendReqFd = take(fds, 0);
        return false;
      case W.VHOST_USER_GPU_SET_SOCKET: {
        // Taken once adopted: a descriptor the host refuses to adopt (not a socket) is closed by the caller.
        let sock: FdSocket;
        try {
          sock = this.opts.host.adoptSocket(fds[0]);
        } catch (e) {
          fail(e instanceof Error ? e.message : String(e));
        }
        take(fds, 0);
        const ch = new DisplayChannel(sock, {
          drained: () => this.display.drained(),
          closed: (error) => {
            if (error !== null) this.close(`display channel: ${error}`);
          },
        }, (fd) => this.opts.host.close(fd));
        this.display.attach(ch);
        return false;
      }
      case W.VHOST_USER_SET_VRING_NUM: {
        const r = this.vring(req.index);
        const bad = Vring.checkNum(req.num);
        if (bad) fail(bad);
        if (r.started) fail(`SET_VRING_NUM on running vring ${req.index}`);
        r.num = req.num;
        return false;
      }
      case W.VHOST_USER_SET_VRING_ADDR: {
        const r = this.vring(req.index);
        if (r.started) fail(`SET_VRING_ADDR on running vring ${req.index}`);
        r.descUserAddr = req.descUserAddr;
        r.availUserAddr = req.availUserAddr;
        r.usedUserAddr = req.usedUserAddr;
        return false;
      }
      case W.VHOST_USER_SET_VRING_BASE: {
        const r = this.vring(req.index);
        if (r.started) fail(`SET_VRING_BASE on running vring ${req.index}`);
        if (req.num > 0xffff) fail(`SET_VRING_BASE ${req.num} (a split ring index is 16 bits)`);
        r.base = req.num;
        const at = this.stoppedAt[req.index];
        if (at !== null && at !== req.num) this.resetOnStart = true;
        return false;
      }
      case W.VHOST_USER_GET_VRING_BASE: {
        this.vring(req.index);
        const base = this.stopRing(req.index);
        this.stoppedAt[req.index] = base;
        return send(W.encodeVringStateReply(req.request, req.index, base));
      }
      case W.VHOST_USER_SET_VRING_KICK: {
        const r = this.vring(req.index);
        if (req.noFd) fail(`vring ${req.index}: polling (no kick fd) is not supported`);
        const kick = this.takeEventfd(fds, `vring ${req.index}`);
        r.kickWatch?.stop();
        r.setFd('kickFd', kick);
        this.startRing(req.index);
        return false;
      }
      case W.VHOST_USER_SET_VRING_CALL:
        this.vring(req.index).setFd('callFd', req.noFd ? -1 : this.takeEventfd(fds, `vring ${req.index}`));
        return false;
      case W.VHOST_USER_SET_VRING_ERR:
        this.vring(req.index).setFd('errFd', req.noFd ? -1 : this.takeEventfd(fds, `vring ${req.index}`));
        return false;
      case W.VHOST_USER_SET_VRING_ENABLE: {
        const r = this.vring(req.index);
        if (req.num > 1) fail(`SET_VRING_ENABLE ${req.num}`);
        if ((this.ackedFeatures & bit(W.VHOST_USER_F_PROTOCOL_FEATURES)) === 0n && this.protocolFeatures === 0n) fail('SET_VRING_ENABLE without protocol features');
        r.enabled = req.num === 1;
        if (r.enabled) this.runQueue(req.index as 0 | 1);
        return false;
      }
      case W.VHOST_USER_GET_CONFIG: {
        if (!this.has(W.VHOST_USER_PROTOCOL_F_CONFIG)) fail('GET_CONFIG without the CONFIG protocol feature');
        if (req.offset + req.size > Config.SIZE) return send(W.encodeConfigReply(req.offset, null, req.flags));
        const data = new Uint8Array(req.size);
        for (let i = 0; i < req.size; i++) data[i] = this.device.readConfig(req.offset + i, 1);
        return send(W.encodeConfigReply(req.offset, data, req.flags));
      }
      case W.VHOST_USER_SET_CONFIG: {
        if (!this.has(W.VHOST_USER_PROTOCOL_F_CONFIG)) fail('SET_CONFIG without the CONFIG protocol feature');
        if (req.offset + req.size > Config.SIZE) fail(`SET_CONFIG of ${req.size} bytes at ${req.offset}`);
        // Only events_clear is writable; read-only fields ignore writes (also for migration).
        for (let i = 0; i < req.size; i++) this.device.writeConfig(req.offset + i, 1, req.data[i]);
        return false;
      }
    }
  }

  // ---- rings -----------------------------------------------------------------------------------

  private startRing(i: number): void {
    const r = this.vrings[i];
    if (this.resetOnStart) {
      // The ring does not resume where it stopped: the driver started over.
      this.resetOnStart = false;
      this.resetDevice('a ring restarted at a new index');
    }
    const q = r.buildQueue(this.memory, (this.ackedFeatures & bit(VIRTIO_F_EVENT_IDX)) !== 0n);
    if (typeof q === 'string') fail(q);
    r.started = true;
    // Without VHOST_USER_F_PROTOCOL_FEATURES a ring starts enabled (vhost-user.rst "Ring states").
    if ((this.ackedFeatures & bit(W.VHOST_USER_F_PROTOCOL_FEATURES)) === 0n) r.enabled = true;
    this.gates[i].start(q);
    r.kickWatch = this.opts.host.watchEventfd(r.kickFd, () => this.runQueue(i as 0 | 1));
    // Buffers made available before the kick fd existed will not be kicked again.
    this.runQueue(i as 0 | 1);
  }

  /** Reset the device (resources, scanouts, fences) and give it its queues and features back. */
  private resetDevice(why: string): void {
    const resources = this.device.resourceCount;
    this.resetOnStart = false;
    this.stoppedAt.fill(null);
    this.device.reset();
    this.device.negotiate(this.ackedFeatures & this.device.features);
    this.device.attachQueues(this.gates[0], this.gates[1]);
    if (resources > 0) this.opts.log('info', `${this.name}: device reset (${why}), ${resources} resources released`);
  }

  /** Stops ring `i` and returns the next index it would have processed. */
  private stopRing(i: number): number {
    const r = this.vrings[i];
    const g = this.gates[i];
    if (!r.started) return r.base;
    if (g.holding) {
      // Answer the held command with what is known now rather than drop it.
      g.release();
      g.beginBatch();
      this.device.notify(i as 0 | 1);
    }
    const base = g.ring?.lastAvailIdx ?? r.base;
    g.stop();
    r.kickWatch?.stop();
    r.kickWatch = null;
    r.setFd('kickFd', -1);
    r.started = false;
    r.base = base;
    return base;
  }

  private runQueue(i: 0 | 1): void {
    if (this.isClosed) return;
    const r = this.vrings[i];
    const g = this.gates[i];
    if (!r.started || !r.enabled || !g.running) return;
    g.beginBatch();
    this.device.notify(i);
    const broken = g.broken;
    if (broken !== null && r.errFd >= 0) this.opts.host.signalEventfd(r.errFd);
  }

  /**
   * GET_DISPLAY_INFO and GET_EDID wait for QEMU's current display configuration, each (as QEMU's
   * C backend does): Linux asks for the EDIDs first, then the display information, both at probe
   * and after a display-change event, so neither may be answered from older information.
   */
  private holdForDisplay(chain: DescriptorChain): boolean {
    if (!this.display.attached) return false;
    const type = peekType(chain);
    if (type !== VIRTIO_GPU_CMD_GET_DISPLAY_INFO && type !== VIRTIO_GPU_CMD_GET_EDID) return false;
    const gate = this.gates[0];
    if (this.opts.trace) this.opts.log('info', `${this.name}: holding ${type === VIRTIO_GPU_CMD_GET_EDID ? 'GET_EDID' : 'GET_DISPLAY_INFO'} for QEMU's display configuration`);
    void this.display.refresh().then((ok) => {
      if (this.opts.trace) this.opts.log('info', `${this.name}: display configuration ${ok ? 'refreshed' : 'not refreshed'}; releasing`);
      gate.release();
    });
    return true;
  }

  private interrupt(cause: 'queue' | 'config', qi?: number): void {
    if (cause === 'queue' && qi !== undefined) {
      const fd = this.vrings[qi]?.callFd ?? -1;
      if (fd >= 0) this.opts.host.signalEventfd(fd);
      return;
    }
    // Config changes cannot reach the guest: QEMU keeps vhost-user-gpu's events_read itself and
    // refuses backend config-change messages. A broken ring is reported on its error fd.
    if (this.device.needsReset) {
      for (let i = 0; i < NUM_QUEUES; i++) if (this.vrings[i].errFd >= 0) this.opts.host.signalEventfd(this.vrings[i].errFd);
    }
  }
}
