/**
 * A scripted vhost-user frontend for tests: it plays QEMU 10's side of vhost-user-gpu-pci over
 * the FakeHost, with the message sequence QEMU 10.0.2 sends (recorded with `-trace vhost_user_*`,
 * see the package README), real split rings in guest RAM driven by the guest package's driver,
 * kick and call eventfds, and a console (FakeConsole) that handles the display channel the way
 * hw/display/vhost-user-gpu.c does.
 */
import { GpuDriver, GuestRam } from '@virtio-gpu/guest';
import type { DisplayOne } from '@virtio-gpu/protocol';
import { type Frame, MessageReader } from '../framing.js';
import * as G from '../gpu-wire.js';
import * as W from '../wire.js';
import type { FakeHost, FakeSocket } from './fake-host.js';

/** Where the fake frontend keeps guest RAM in its own address space: gpa + this. */
export const UVA_BIAS = 0x7f00_0000_0000;

/** A console surface: B8G8R8X8 pixels. */
export interface FakeSurface {
  width: number;
  height: number;
  pixels: Uint8Array;
}

/**
 * QEMU's side of the display channel: answers GET_PROTOCOL_FEATURES (EDID | DMABUF2),
 * GET_DISPLAY_INFO and GET_EDID; SCANOUT makes a new blank surface that replaces the shown one
 * at the next UPDATE; UPDATE copies rows into the surface.
 */
export class FakeConsole {
  readonly surfaces: (FakeSurface | null)[] = [];
  private readonly next: (FakeSurface | null | undefined)[] = [];
  readonly counts = new Map<number, number>();
  readonly errors: string[] = [];
  /** Largest UPDATE pixel payload seen. */
  maxUpdateBytes = 0;
  /** Modes answered to GET_DISPLAY_INFO (index = scanout). */
  modes: { width: number; height: number; enabled: boolean }[] = [{ width: 1280, height: 800, enabled: true }];
  /** Do not answer GET_DISPLAY_INFO (a frontend that stalls). */
  silent = false;
  private readonly reader: MessageReader;

  constructor(
    readonly sock: FakeSocket,
    host: FakeHost,
  ) {
    this.reader = new MessageReader(sock, 1, () => null, (fd) => host.close(fd));
    sock.onReadable(() => this.readable());
  }

  count(request: number): number {
    return this.counts.get(request) ?? 0;
  }

  private readable(): void {
    for (;;) {
      const f = this.reader.next();
      if (f === 'again' || f === 'eof') return;
      if ('error' in f) {
        this.errors.push(f.error);
        return;
      }
      this.handle(f);
    }
  }

  private reply(request: number, payload: Uint8Array): void {
    // The backend hung up (it ended the connection): QEMU's chardev would see EPIPE and drop it.
    if (this.sock.closed || this.sock.peerClosed) return;
    const b = new Uint8Array(12 + payload.byteLength);
    const v = new DataView(b.buffer);
    v.setUint32(0, request, true);
    v.setUint32(4, G.VHOST_USER_GPU_MSG_FLAG_REPLY, true);
    v.setUint32(8, payload.byteLength, true);
    b.set(payload, 12);
    this.sock.send(b);
  }

  /** The EDID QEMU would send for scanout i (a distinct, valid-looking 128-byte block). */
  static edidFor(i: number, width: number, height: number): Uint8Array {
    const e = new Uint8Array(128);
    e.set([0, 255, 255, 255, 255, 255, 255, 0], 0);
    new DataView(e.buffer).setUint16(54, width, true);
    new DataView(e.buffer).setUint16(56, height, true);
    e[16] = i;
    let sum = 0;
    for (let k = 0; k < 127; k++) sum += e[k];
    e[127] = (256 - (sum & 255)) & 255;
    return e;
  }

  private handle(f: Frame): void {
    this.counts.set(f.request, (this.counts.get(f.request) ?? 0) + 1);
    const v = new DataView(f.payload.buffer, f.payload.byteOffset, f.payload.byteLength);
    switch (f.request) {
      case G.VHOST_USER_GPU_GET_PROTOCOL_FEATURES: {
        const p = new Uint8Array(8);
        new DataView(p.buffer).setBigUint64(0, (1n << 0n) | (1n << 1n), true);
        this.reply(f.request, p);
        return;
      }
      case G.VHOST_USER_GPU_GET_DISPLAY_INFO: {
        if (this.silent) return;
        const p = new Uint8Array(408);
        const d = new DataView(p.buffer);
        d.setUint32(0, 0x1101, true); // VIRTIO_GPU_RESP_OK_DISPLAY_INFO
        this.modes.forEach((m, i) => {
          const at = 24 + i * 24;
          d.setUint32(at + 8, m.width, true);
          d.setUint32(at + 12, m.height, true);
          d.setUint32(at + 16, m.enabled ? 1 : 0, true);
        });
        this.reply(f.request, p);
        return;
      }
      case G.VHOST_USER_GPU_GET_EDID: {
        const i = v.getUint32(0, true);
        const m = this.modes[i];
        if (!m) return; // QEMU logs "invalid scanout" and does not answer
        const p = new Uint8Array(1056);
        const d = new DataView(p.buffer);
        d.setUint32(0, 0x1104, true); // VIRTIO_GPU_RESP_OK_EDID
        d.setUint32(24, 128, true);
        p.set(FakeConsole.edidFor(i, m.width, m.height), 32);
        this.reply(f.request, p);
        return;
      }
      case G.VHOST_USER_GPU_SCANOUT: {
        const id = v.getUint32(0, true);
        const w = v.getUint32(4, true);
        const h = v.getUint32(8, true);
        if (w === 0) {
          this.surfaces[id] = null;
          this.next[id] = undefined;
        } else {
          this.next[id] = { width: w, height: h, pixels: new Uint8Array(w * h * 4) };
        }
        return;
      }
      case G.VHOST_USER_GPU_UPDATE: {
        const id = v.getUint32(0, true);
        const x = v.getUint32(4, true);
        const y = v.getUint32(8, true);
        const w = v.getUint32(12, true);
        const h = v.getUint32(16, true);
        if (f.payload.byteLength !== 20 + w * h * 4) {
          this.errors.push(`UPDATE of ${w}x${h} with ${f.payload.byteLength - 20} data bytes`);
          return;
        }
        this.maxUpdateBytes = Math.max(this.maxUpdateBytes, w * h * 4);
        const target = this.next[id] ?? this.surfaces[id];
        if (!target) {
          this.errors.push(`UPDATE on scanout ${id} before any SCANOUT`);
          return;
        }
        if (this.next[id]) {
          this.surfaces[id] = this.next[id]!;
          this.next[id] = undefined;
        }
        for (let row = 0; row < h; row++) {
          if (y + row >= target.height) break;
          const n = Math.max(0, Math.min(w, target.width - x));
          target.pixels.set(f.payload.subarray(20 + row * w * 4, 20 + row * w * 4 + n * 4), ((y + row) * target.width + x) * 4);
        }
        return;
      }
      default:
        return;
    }
  }
}

/** Options of a fake frontend. */
export interface FakeFrontendOptions {
  /** Guest RAM bytes (one region at gpa 0x1000_0000, mapped from one memfd). */
  ramBytes?: number;
  /** Negotiate EVENT_IDX. */
  eventIdx?: boolean;
}

/** See the module comment. */
export class FakeFrontend {
  readonly sock: FakeSocket;
  readonly ram: GuestRam;
  readonly gpa = 0x1000_0000;
  driver!: GpuDriver;
  console!: FakeConsole;
  readonly kickFds: number[] = [];
  readonly callFds: number[] = [];
  readonly errFds: number[] = [];
  private readonly reader: MessageReader;
  private readonly replies: Frame[] = [];
  private waiter: ((f: Frame) => void) | null = null;
  private readonly eventIdx: boolean;
  features = 0n;
  protocolFeatures = 0n;

  constructor(
    readonly host: FakeHost,
    path: string,
    opts: FakeFrontendOptions = {},
  ) {
    this.sock = host.connect(path);
    this.ram = new GuestRam({ regions: [{ gpa: this.gpa, bytes: opts.ramBytes ?? 16 << 20 }] });
    this.eventIdx = opts.eventIdx ?? true;
    this.reader = new MessageReader(this.sock, 0, () => null, (fd) => host.close(fd));
    this.sock.onReadable(() => {
      for (;;) {
        const f = this.reader.next();
        if (f === 'again' || f === 'eof' || 'error' in f) return;
        if (this.waiter) {
          const w = this.waiter;
          this.waiter = null;
          w(f);
        } else this.replies.push(f);
      }
    });
  }

  /** Send one message ({@link FakeFrontend.message}). */
  send(request: number, payload: Uint8Array = new Uint8Array(0), fds: number[] = [], needReply = false): void {
    this.sock.send(FakeFrontend.message(request, payload, needReply), fds);
  }

  /** The next reply from the backend (rejects after `ms`). */
  nextReply(ms = 2000): Promise<Frame> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiter = null;
        reject(new Error('no reply from the backend'));
      }, ms);
      this.waiter = (f) => {
        clearTimeout(t);
        resolve(f);
      };
    });
  }

  /** Send and wait for the reply; returns its u64 payload when it has one. */
  async call(request: number, payload?: Uint8Array, fds?: number[], needReply = false): Promise<Frame> {
    this.send(request, payload, fds, needReply);
    return this.nextReply();
  }

  /** A vhost-user message as a frontend sends it: header (version 1, NEED_REPLY when asked) and payload. */
  static message(request: number, payload: Uint8Array = new Uint8Array(0), needReply = false): Uint8Array {
    const b = new Uint8Array(W.VhostUserHeader.SIZE + payload.byteLength);
    const v = new DataView(b.buffer);
    v.setUint32(W.VhostUserHeader.request, request, true);
    v.setUint32(W.VhostUserHeader.flags, W.VHOST_USER_VERSION | (needReply ? W.VHOST_USER_NEED_REPLY_MASK : 0), true);
    v.setUint32(W.VhostUserHeader.size, payload.byteLength, true);
    b.set(payload, W.VhostUserHeader.SIZE);
    return b;
  }

  static u64(v: bigint): Uint8Array {
    const p = new Uint8Array(8);
    new DataView(p.buffer).setBigUint64(0, v, true);
    return p;
  }

  /** struct vhost_vring_state. */
  static state(index: number, num: number): Uint8Array {
    const p = new Uint8Array(W.VhostVringState.SIZE);
    const v = new DataView(p.buffer);
    v.setUint32(W.VhostVringState.index, index, true);
    v.setUint32(W.VhostVringState.num, num, true);
    return p;
  }

  /** struct vhost_vring_addr (flags 0, no log address). */
  static addr(index: number, desc: number, used: number, avail: number): Uint8Array {
    const p = new Uint8Array(W.VhostVringAddr.SIZE);
    const v = new DataView(p.buffer);
    v.setUint32(W.VhostVringAddr.index, index, true);
    v.setBigUint64(W.VhostVringAddr.descUserAddr, BigInt(desc), true);
    v.setBigUint64(W.VhostVringAddr.usedUserAddr, BigInt(used), true);
    v.setBigUint64(W.VhostVringAddr.availUserAddr, BigInt(avail), true);
    return p;
  }

  static memReg(gpa: number, size: number, uva: number, offset: number): Uint8Array {
    const p = new Uint8Array(40);
    const v = new DataView(p.buffer);
    v.setBigUint64(8, BigInt(gpa), true);
    v.setBigUint64(16, BigInt(size), true);
    v.setBigUint64(24, BigInt(uva), true);
    v.setBigUint64(32, BigInt(offset), true);
    return p;
  }

  static config(offset: number, size: number, data?: Uint8Array): Uint8Array {
    const p = new Uint8Array(12 + size);
    const v = new DataView(p.buffer);
    v.setUint32(0, offset, true);
    v.setUint32(4, size, true);
    if (data) p.set(data, 12);
    return p;
  }

  static replyU64(f: Frame): bigint {
    return new DataView(f.payload.buffer, f.payload.byteOffset, 8).getBigUint64(0, true);
  }

  /** The guest RAM region's buffer (shared with the memfd the backend maps). */
  get ramBuffer(): ArrayBuffer {
    return this.ram.bytes(this.gpa, 1).buffer as ArrayBuffer;
  }

  /**
   * QEMU 10.0.2's sequence from connection to running rings (the trace in the README), with
   * the features QEMU would ack. Resolves once both rings are enabled.
   */
  async boot(opts: { modes?: FakeConsole['modes'] } = {}): Promise<void> {
    const features = FakeFrontend.replyU64(await this.call(W.VHOST_USER_GET_FEATURES));
    const proto = FakeFrontend.replyU64(await this.call(W.VHOST_USER_GET_PROTOCOL_FEATURES));
    // QEMU 10 acks what it knows of the offer (all of these).
    this.protocolFeatures = proto;
    this.send(W.VHOST_USER_SET_PROTOCOL_FEATURES, FakeFrontend.u64(proto));
    await this.call(W.VHOST_USER_GET_QUEUE_NUM);
    await this.call(W.VHOST_USER_GET_MAX_MEM_SLOTS);
    const [reqQemu, reqBackend] = this.host.socketPair();
    await this.call(W.VHOST_USER_SET_BACKEND_REQ_FD, undefined, [reqBackend.fd], true);
    reqBackend.close();
    reqQemu.close();
    this.send(W.VHOST_USER_SET_OWNER);
    await this.call(W.VHOST_USER_GET_FEATURES);
    for (let i = 0; i < 2; i++) {
      this.callFds.push(this.host.eventfd());
      this.errFds.push(this.host.eventfd());
      this.kickFds.push(this.host.eventfd());
      this.send(W.VHOST_USER_SET_VRING_CALL, FakeFrontend.u64(BigInt(i)), [this.callFds[i]]);
      this.send(W.VHOST_USER_SET_VRING_ERR, FakeFrontend.u64(BigInt(i)), [this.errFds[i]]);
    }
    await this.call(W.VHOST_USER_GET_CONFIG, FakeFrontend.config(0, 16));
    // Driver probe; then DRIVER_OK: the display channel, then vhost_dev_start.
    const [qemuEnd, backendEnd] = this.host.socketPair();
    this.console = new FakeConsole(qemuEnd, this.host);
    if (opts.modes) this.console.modes = opts.modes;
    this.send(W.VHOST_USER_GPU_SET_SOCKET, undefined, [backendEnd.fd]);
    backendEnd.close(); // QEMU closes its copy of the backend's end after sending it
    const acked = features & ((1n << 32n) | (1n << 1n) | (1n << 28n) | (this.eventIdx ? 1n << 29n : 0n) | (1n << 30n));
    this.features = acked;
    this.send(W.VHOST_USER_SET_FEATURES, FakeFrontend.u64(acked));
    const memfd = this.host.memfd(this.ramBuffer);
    await this.call(W.VHOST_USER_ADD_MEM_REG, FakeFrontend.memReg(this.gpa, this.ramBuffer.byteLength, this.gpa + UVA_BIAS, 0), [memfd], true);
    this.host.close(memfd);
    this.driver = new GpuDriver({ ram: this.ram, transport: { notify: (q) => this.host.kick(this.kickFds[q]) }, queueSize: 64, eventIdx: this.eventIdx });
    for (let i = 0; i < 2; i++) this.startRing(i, 0);
    for (let i = 0; i < 2; i++) await this.call(W.VHOST_USER_SET_VRING_ENABLE, FakeFrontend.state(i, 1), undefined, true);
    for (let i = 0; i < 2; i++) this.host.watchEventfd(this.callFds[i], () => this.driver.interrupt());
  }

  /** SET_VRING_NUM/BASE/ADDR/KICK for ring i at `base`. */
  startRing(i: number, base: number): void {
    const l = this.driver.queueLayout(i);
    this.send(W.VHOST_USER_SET_VRING_NUM, FakeFrontend.state(i, l.size));
    this.send(W.VHOST_USER_SET_VRING_BASE, FakeFrontend.state(i, base));
    this.send(W.VHOST_USER_SET_VRING_ADDR, FakeFrontend.addr(i, l.descAddr + UVA_BIAS, l.usedAddr + UVA_BIAS, l.availAddr + UVA_BIAS));
    this.send(W.VHOST_USER_SET_VRING_KICK, FakeFrontend.u64(BigInt(i)), [this.kickFds[i]]);
  }

  /** GET_VRING_BASE for ring i (stops it); resolves with the reported index. */
  async stopRing(i: number): Promise<number> {
    const f = await this.call(W.VHOST_USER_GET_VRING_BASE, FakeFrontend.state(i, 0));
    return new DataView(f.payload.buffer, f.payload.byteOffset, 8).getUint32(4, true);
  }

  /** The modes QEMU would report, as DisplayOne records. */
  static pmodes(modes: FakeConsole['modes']): DisplayOne[] {
    return modes.map((m) => ({ r: { x: 0, y: 0, width: m.width, height: m.height }, enabled: m.enabled ? 1 : 0, flags: 0 }));
  }

  /** Close the connection as QEMU does when it quits. */
  quit(): void {
    this.console?.sock.close();
    this.sock.close();
    for (const fd of [...this.kickFds, ...this.callFds, ...this.errFds]) this.host.close(fd);
    this.kickFds.length = this.callFds.length = this.errFds.length = 0;
  }
}
