/**
 * One vhost-user connection: the backend side of QEMU's vhost-user-gpu-pci (vhost-user.rst,
 * vhost-user-gpu.rst). It owns a VirtioGpuDevice, the frontend's guest memory, two vrings
 * (control and cursor), their eventfds and the display channel, and frees all of it when the
 * connection ends.
 *
 * Every message is decoded and validated (wire.ts for what the bytes alone say, the request's
 * handler for what needs state: indexes, ring sizes, negotiated features, region tables, ring
 * addresses). The first bad message ends the connection with one log line; nothing a frontend
 * sends throws past this class. This class reads the messages and routes each request to its
 * concern; the requests themselves are handled in
 *
 * - features.ts: GET/SET_FEATURES, GET/SET_PROTOCOL_FEATURES;
 * - memory-requests.ts: SET_MEM_TABLE, ADD/REM_MEM_REG, GET_MAX_MEM_SLOTS;
 * - vring-set.ts: SET_VRING_*, GET_VRING_BASE, and when rings start, stop and run (with how a
 *   guest's device reset is told from a paused VM);
 * - config-requests.ts: GET/SET_CONFIG;
 * - here: owner and device reset, the backend request fd and the display channel, and pacing the
 *   control queue to QEMU's display.
 */
import { type Renderer, Renderer2D, VirtioGpuDevice, type ScanoutConfig } from '@virtio-gpu/device';
import { VIRTIO_GPU_CMD_GET_DISPLAY_INFO, VIRTIO_GPU_CMD_GET_EDID, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM } from '@virtio-gpu/protocol';
import type { DescriptorChain } from '@virtio-gpu/virtqueue';
import { getConfig, setConfig } from './config-requests.js';
import { DisplayChannel } from './display-channel.js';
import { Features, OFFERED_PROTOCOL_FEATURES } from './features.js';
import { type Frame, MessageReader, MessageWriter } from './framing.js';
import { GatedQueue, peekType } from './gated-queue.js';
import type { FdSocket, VhostHost } from './host.js';
import { addMemReg, getMaxMemSlots, remMemReg, setMemTable } from './memory-requests.js';
import { VhostMemory } from './memory.js';
import { closeUntaken, take } from './message-fds.js';
import { ProtocolError, fail } from './protocol-error.js';
import { QemuDisplay } from './qemu-display.js';
import { NUM_QUEUES, VringSet } from './vring-set.js';
import type { Vring } from './vring.js';
import * as W from './wire.js';

export { NUM_QUEUES } from './vring-set.js';
export { OFFERED_PROTOCOL_FEATURES } from './features.js';

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

/** See the module comment. */
export class VhostUserBackend {
  readonly device: VirtioGpuDevice;
  readonly memory: VhostMemory;
  readonly display: QemuDisplay;
  /** Virtio features offered with GET_FEATURES. */
  readonly offeredFeatures: bigint;
  private readonly features: Features;
  private readonly vrings: VringSet;
  private readonly gates: GatedQueue[];
  private readonly reader: MessageReader;
  private readonly writer: MessageWriter;
  private backendReqFd = -1;
  private isClosed = false;
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
      log: (l, m) => this.log(l, m),
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
      log: (l, m) => this.log(l === 'error' ? 'error' : 'warn', m),
      onInterrupt: (cause, qi) => this.interrupt(cause, qi),
    });
    this.features = new Features(this.device, (m) => this.log('info', m));
    this.offeredFeatures = this.features.offered;
    this.gates = [0, 1].map(
      (i) =>
        new GatedQueue({
          budget: opts.budget ?? DEFAULT_BUDGET,
          budgetMs: opts.budgetMs ?? (() => (this.display.sending ? DISPLAY_BUDGET_MS : DEFAULT_BUDGET_MS)),
          resume: () => this.vrings.run(i as 0 | 1),
          shouldHold: i === 0 ? (c) => this.holdForDisplay(c) : undefined,
          paused: i === 0 && opts.displaySync ? () => this.display.busy : undefined,
        }),
    );
    this.vrings = new VringSet({
      host,
      memory: this.memory,
      device: this.device,
      features: this.features,
      gates: this.gates,
      closed: () => this.isClosed,
      resetDevice: (why) => this.resetDevice(why),
      close: (why) => this.close(why),
    });
    this.device.attachQueues(this.gates[0], this.gates[1]);
    this.reader = new MessageReader(opts.sock, W.VHOST_MEMORY_BASELINE_NREGIONS, (request, flags, size) => W.checkRequestHeader({ request, flags, size }), (fd) => host.close(fd));
    this.writer = new MessageWriter(opts.sock, () => {}, (why) => this.close(`write failed: ${why}`));
    opts.sock.onReadable(() => this.readable());
  }

  /** Logs one line naming this connection. */
  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.opts.log(level, `${this.name}: ${message}`);
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
    return this.vrings.all[i];
  }

  /** End the connection and release everything (idempotent). */
  close(error: string | null = null): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (error !== null) this.log('error', `${error}; closing the connection`);
    const st = this.display.stats;
    if (st.flushes > 0) {
      this.log(
        'info',
        `display: ${st.flushes} flushes, ${st.updateMessages} UPDATE messages (${(st.updateBytes / 1e6).toFixed(1)} MB), ${st.scanoutMessages} SCANOUT, ${st.coalescedFlushes} flushes merged into pending updates`,
      );
    }
    // Each step on its own: one that fails (a host error) must not leave the others' resources behind.
    const step = (what: string, fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        this.log('error', `while closing, ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    step('socket', () => this.opts.sock.onReadable(null));
    for (const g of this.gates) g.stop();
    for (const r of this.vrings.all) step(`vring ${r.index}`, () => r.dispose());
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
        this.log('info', 'frontend disconnected');
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
    if (this.opts.trace) this.log('info', `<- ${describeRequest(req)}${f.fds.length ? ` fds=${f.fds.length}` : ''}`);
    let replied = false;
    try {
      replied = this.handle(req, f.fds);
    } catch (e) {
      closeUntaken(this.opts.host, f.fds);
      if (!(e instanceof ProtocolError)) {
        // A host bug, not the frontend's fault; still, this connection's state is now unknown.
        this.log('error', `internal error in ${W.requestName(req.request)}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      }
      if (req.needReply && this.features.has(W.VHOST_USER_PROTOCOL_F_REPLY_ACK)) this.writer.send(W.encodeU64Reply(req.request, 1n));
      this.close(`${W.requestName(req.request)}: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    closeUntaken(this.opts.host, f.fds);
    // REPLY_ACK: a request without a reply of its own gets a u64 0 when it asked for one.
    if (!replied && req.needReply && this.features.has(W.VHOST_USER_PROTOCOL_F_REPLY_ACK)) this.writer.send(W.encodeU64Reply(req.request, 0n));
  }

  /**
   * Handles one request by routing it to its concern (see the module comment); returns whether
   * it sent its own reply. Throws ProtocolError. A handler takes each descriptor it keeps or
   * closes itself out of `fds` (message-fds.ts); the caller closes the rest, whether the handler
   * returned or threw.
   */
  private handle(req: W.VhostRequest, fds: number[]): boolean {
    const send = (b: Uint8Array): boolean => {
      this.writer.send(b);
      return true;
    };
    switch (req.request) {
      case W.VHOST_USER_GET_FEATURES:
        return send(W.encodeU64Reply(req.request, this.features.offered));
      case W.VHOST_USER_SET_FEATURES:
        this.features.setFeatures(req.value, this.vrings.anyStarted);
        return false;
      case W.VHOST_USER_GET_PROTOCOL_FEATURES:
        return send(W.encodeU64Reply(req.request, OFFERED_PROTOCOL_FEATURES));
      case W.VHOST_USER_SET_PROTOCOL_FEATURES:
        this.features.setProtocolFeatures(req.value);
        return false;
      case W.VHOST_USER_GET_QUEUE_NUM:
        return send(W.encodeU64Reply(req.request, BigInt(NUM_QUEUES)));
      case W.VHOST_USER_SET_OWNER:
        return false;
      case W.VHOST_USER_RESET_OWNER:
        // Deprecated; the spec recommends ignoring it or disabling the rings. Disable them.
        this.vrings.stopAll();
        return false;
      case W.VHOST_USER_RESET_DEVICE:
        // QEMU 10 sends it at machine reset and when the guest driver resets the device (reboot).
        if (!this.features.has(W.VHOST_USER_PROTOCOL_F_RESET_DEVICE)) fail('RESET_DEVICE without the protocol feature');
        this.vrings.stopAll();
        this.resetDevice('RESET_DEVICE');
        return false;
      case W.VHOST_USER_GET_MAX_MEM_SLOTS:
        return send(W.encodeU64Reply(req.request, BigInt(getMaxMemSlots(this.memory, this.features))));
      case W.VHOST_USER_SET_MEM_TABLE:
        setMemTable(this.memory, req.regions, fds);
        return false;
      case W.VHOST_USER_ADD_MEM_REG:
        addMemReg(this.memory, this.features, req.region, fds);
        return false;
      case W.VHOST_USER_REM_MEM_REG:
        remMemReg(this.memory, this.features, req.region);
        return false;
      case W.VHOST_USER_SET_BACKEND_REQ_FD:
        if (!this.features.has(W.VHOST_USER_PROTOCOL_F_BACKEND_REQ)) fail('SET_BACKEND_REQ_FD without BACKEND_REQ');
        if (this.backendReqFd >= 0) this.opts.host.close(this.backendReqFd);
        this.backendReqFd = take(fds, 0);
        return false;
      case W.VHOST_USER_GPU_SET_SOCKET:
        this.attachDisplayChannel(fds);
        return false;
      case W.VHOST_USER_SET_VRING_NUM:
        this.vrings.setVringNum(req.index, req.num);
        return false;
      case W.VHOST_USER_SET_VRING_ADDR:
        this.vrings.setVringAddr(req);
        return false;
      case W.VHOST_USER_SET_VRING_BASE:
        this.vrings.setVringBase(req.index, req.num);
        return false;
      case W.VHOST_USER_GET_VRING_BASE:
        return send(W.encodeVringStateReply(req.request, req.index, this.vrings.getVringBase(req.index)));
      case W.VHOST_USER_SET_VRING_KICK:
        this.vrings.setVringKick(req.index, req.noFd, fds);
        return false;
      case W.VHOST_USER_SET_VRING_CALL:
        this.vrings.setVringEventfd('callFd', req.index, req.noFd, fds);
        return false;
      case W.VHOST_USER_SET_VRING_ERR:
        this.vrings.setVringEventfd('errFd', req.index, req.noFd, fds);
        return false;
      case W.VHOST_USER_SET_VRING_ENABLE:
        this.vrings.setVringEnable(req.index, req.num);
        return false;
      case W.VHOST_USER_GET_CONFIG:
        return send(getConfig(this.device, this.features, req));
      case W.VHOST_USER_SET_CONFIG:
        setConfig(this.device, this.features, req);
        return false;
    }
  }

  /** VHOST_USER_GPU_SET_SOCKET: QEMU's display channel, taken from `fds` once adopted. */
  private attachDisplayChannel(fds: number[]): void {
    // A descriptor the host refuses to adopt (not a socket) is left to the caller to close.
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
  }

  /** Reset the device (resources, scanouts, fences) and give it its queues and features back. */
  private resetDevice(why: string): void {
    const resources = this.device.resourceCount;
    this.vrings.forgetStops();
    this.device.reset();
    this.device.negotiate(this.features.deviceFeatures);
    this.device.attachQueues(this.gates[0], this.gates[1]);
    if (resources > 0) this.log('info', `device reset (${why}), ${resources} resources released`);
  }

  // ---- the display's pace ----------------------------------------------------------------------

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
    if (this.opts.trace) this.log('info', `holding ${type === VIRTIO_GPU_CMD_GET_EDID ? 'GET_EDID' : 'GET_DISPLAY_INFO'} for QEMU's display configuration`);
    void this.display.refresh().then((ok) => {
      if (this.opts.trace) this.log('info', `display configuration ${ok ? 'refreshed' : 'not refreshed'}; releasing`);
      gate.release();
    });
    return true;
  }

  private interrupt(cause: 'queue' | 'config', qi?: number): void {
    if (cause === 'queue' && qi !== undefined) {
      this.vrings.signalCall(qi);
      return;
    }
    // Config changes cannot reach the guest: QEMU keeps vhost-user-gpu's events_read itself and
    // refuses backend config-change messages. A broken ring is reported on its error fd.
    if (this.device.needsReset) this.vrings.signalErrors();
  }
}
