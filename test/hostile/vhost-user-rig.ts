/**
 * The vhost-user catalogue's rig: a VhostUserServer over the native host (real UNIX socket, real
 * SCM_RIGHTS, memfds, eventfds, mmap) in this process, and a frontend made of the same plumbing:
 * it sends raw messages with real descriptors, reads replies, and, for the health check, plays a
 * well-behaved QEMU up to running rings and asks GET_DISPLAY_INFO through the control ring.
 *
 * Nothing here blocks: the backend runs on this event loop, so every wait polls a non-blocking
 * descriptor between event-loop turns.
 */
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as P from '@virtio-gpu/protocol';
import { NativeHost, VhostUserServer } from '@virtio-gpu/vhost-user';
import * as W from '@virtio-gpu/vhost-user';
import { closeFd, connectUnix, eventfdCreate, eventfdRead, eventfdWrite, mapFd, mappingCount, memfdCreate, openFds, recvWithFds, sendWithFds, setNonBlocking } from '@virtio-gpu/native';
import { ArrayGuestMemory, DriverSplitRing } from '@virtio-gpu/virtqueue';
import { message } from '../fuzz/harness/vhost-user-rig';
import { memReg, u64, vringAddr, vringState } from '../fuzz/harness/vhost-user-sessions';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The frontend's guest RAM: one memfd. */
export const FE_RAM = { gpa: 0x1000_0000, bytes: 1 << 20, uva: 0x7f00_1000_0000 } as const;

/** A reply frame. */
export interface Reply {
  request: number;
  flags: number;
  payload: Uint8Array;
}

/** A frontend on a real socket; see the module comment. */
export class NativeFrontend {
  readonly fd: number;
  /** Descriptors this frontend created and still holds (closed by {@link close}). */
  private readonly own = new Set<number>();
  private closed = false;

  constructor(path: string) {
    this.fd = connectUnix(path);
    setNonBlocking(this.fd, true);
  }

  /** A new eventfd owned by this frontend. */
  eventfd(): number {
    return this.keep(eventfdCreate());
  }

  /** A new memfd of `bytes` owned by this frontend. */
  memfd(bytes: number): number {
    return this.keep(memfdCreate('hostile-ram', bytes));
  }

  keep(fd: number): number {
    this.own.add(fd);
    return fd;
  }

  /** Send raw bytes with descriptors attached (the kernel duplicates them into the backend). */
  sendRaw(bytes: Uint8Array, fds: readonly number[] = []): void {
    const n = sendWithFds(this.fd, bytes, fds);
    if (n !== bytes.length) throw new Error(`frontend: sent ${n} of ${bytes.length} bytes`);
  }

  /** Send a message (header built here). */
  send(request: number, payload?: Uint8Array, fds: readonly number[] = [], needReply = false): void {
    this.sendRaw(message(request, payload, needReply), fds);
  }

  private async read(buf: Uint8Array, ms: number): Promise<number> {
    const end = Date.now() + ms;
    let got = 0;
    while (got < buf.length) {
      const r = recvWithFds(this.fd, buf.subarray(got), 0);
      if (r !== null) {
        if (r.bytes === 0) return got;
        got += r.bytes;
        continue;
      }
      if (Date.now() > end) throw new Error('frontend: no reply from the backend');
      await sleep(1);
    }
    return got;
  }

  /** The next reply; throws after `ms` or when the backend closed the connection. */
  async reply(ms = 5000): Promise<Reply> {
    const head = new Uint8Array(W.VhostUserHeader.SIZE);
    if ((await this.read(head, ms)) < head.length) throw new Error('frontend: the backend closed the connection');
    const h = W.decodeHeader(head)!;
    const payload = new Uint8Array(h.size);
    if ((await this.read(payload, ms)) < h.size) throw new Error('frontend: reply cut short');
    return { request: h.request, flags: h.flags, payload };
  }

  /** Send and wait for the reply's u64. */
  async call(request: number, payload?: Uint8Array, fds?: readonly number[], needReply = false): Promise<bigint> {
    this.send(request, payload, fds, needReply);
    const r = await this.reply();
    if (r.request !== request) throw new Error(`frontend: reply to ${r.request}, asked ${request}`);
    return new DataView(r.payload.buffer).getBigUint64(0, true);
  }

  /** Resolves true once the backend has closed the connection (end of file), false after `ms` without. */
  async closedByBackend(ms = 5000): Promise<boolean> {
    const end = Date.now() + ms;
    const buf = new Uint8Array(256);
    for (;;) {
      let r;
      try {
        r = recvWithFds(this.fd, buf, 0);
      } catch {
        return true; // ECONNRESET: closed with our bytes unread
      }
      if (r !== null && r.bytes === 0) return true;
      if (r === null) {
        if (Date.now() > end) return false;
        await sleep(1);
      }
    }
  }

  /** Close the socket and every descriptor this frontend still holds. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeFd(this.fd);
    for (const fd of this.own) closeFd(fd);
    this.own.clear();
  }

  /** Close one descriptor this frontend holds (after sending it, as QEMU does with its copies). */
  drop(fd: number): void {
    if (this.own.delete(fd)) closeFd(fd);
  }
}

/** The server under test, its log and the connections it closed. */
export class VhostUserHostileRig {
  readonly dir = mkdtempSync(join(tmpdir(), 'vgpu-hostile-'));
  readonly path = join(this.dir, 'gpu.sock');
  readonly logs: string[] = [];
  readonly closed: (string | null)[] = [];
  readonly server: VhostUserServer;
  /** This process's descriptors and native mappings with the server idle. */
  baseFds: number[] = [];
  baseMappings = 0;

  constructor() {
    this.server = new VhostUserServer({
      host: new NativeHost(),
      path: this.path,
      numScanouts: 1,
      log: (l, m) => void this.logs.push(`${l}: ${m}`),
      onConnectionClosed: (_id, e) => void this.closed.push(e),
    });
    this.server.listen();
    this.baseFds = openFds();
    this.baseMappings = mappingCount();
  }

  /** A new frontend, once the server has accepted it. */
  async connect(): Promise<NativeFrontend> {
    const fe = new NativeFrontend(this.path);
    const before = this.server.connections;
    for (let i = 0; i < 2000 && this.server.connections === before; i++) await sleep(1);
    return fe;
  }

  /** Waits until the server has released `n` connections in all. */
  async released(n: number, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (this.closed.length < n || this.server.backend !== null) {
      if (Date.now() > end) throw new Error(`${this.closed.length} connections released, want ${n}`);
      await sleep(1);
    }
  }

  /** Descriptors open now that were not with the server idle (or -1 when some of those closed). */
  fdsBeyondBase(): number[] {
    const base = new Set(this.baseFds);
    return openFds().filter((fd) => !base.has(fd));
  }

  close(): void {
    this.server.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** QEMU 10's negotiation: features, protocol features (all offered), owner. Returns the features offered. */
export async function negotiate(fe: NativeFrontend): Promise<bigint> {
  const features = await fe.call(W.VHOST_USER_GET_FEATURES);
  const proto = await fe.call(W.VHOST_USER_GET_PROTOCOL_FEATURES);
  fe.send(W.VHOST_USER_SET_PROTOCOL_FEATURES, u64(proto));
  fe.send(W.VHOST_USER_SET_OWNER);
  return features;
}

/** A frontend's memfd and the mapping it writes its rings into. */
export class FrontendRam {
  readonly fd: number;
  readonly map: ReturnType<typeof mapFd>;
  readonly memory: ArrayGuestMemory;
  private bump = 0;

  /** `fd`: the file to use as guest RAM (FE_RAM.bytes long) instead of a new memfd. */
  constructor(
    readonly fe: NativeFrontend,
    fd?: number,
  ) {
    this.fd = fd ?? fe.memfd(FE_RAM.bytes);
    this.map = mapFd(this.fd, 0, FE_RAM.bytes);
    this.memory = new ArrayGuestMemory([{ gpa: FE_RAM.gpa, bytes: new Uint8Array(this.map.buffer) }]);
  }

  alloc(bytes: number): number {
    const at = (this.bump + 4095) & ~4095;
    this.bump = at + bytes;
    return FE_RAM.gpa + at;
  }

  unmap(): void {
    this.map.unmap();
  }
}

/** A running control ring (and cursor ring) of a well-behaved frontend. */
export interface Started {
  ram: FrontendRam;
  rings: DriverSplitRing[];
  kick: number[];
  call: number[];
}

/**
 * QEMU's DRIVER_OK sequence with one memory region and both rings at index 0, from a negotiated
 * connection. `ramFd`: the guest RAM file (FE_RAM.bytes long) instead of a new memfd.
 */
export async function startRings(fe: NativeFrontend, features: bigint, queueSize = 16, ramFd?: number): Promise<Started> {
  const ram = new FrontendRam(fe, ramFd);
  const acked = features & ((1n << 32n) | (1n << 30n));
  fe.send(W.VHOST_USER_SET_FEATURES, u64(acked));
  await fe.call(W.VHOST_USER_ADD_MEM_REG, memReg(FE_RAM.gpa, FE_RAM.bytes, FE_RAM.uva, 0), [ram.fd], true);
  const rings: DriverSplitRing[] = [];
  const kick: number[] = [];
  const call: number[] = [];
  for (let i = 0; i < 2; i++) {
    const ring = DriverSplitRing.allocate({ memory: ram.memory, alloc: (n) => ram.alloc(n) }, queueSize, false);
    const l = ring.layout;
    const uva = (gpa: number) => gpa - FE_RAM.gpa + FE_RAM.uva;
    call.push(fe.eventfd());
    kick.push(fe.eventfd());
    fe.send(W.VHOST_USER_SET_VRING_CALL, u64(BigInt(i)), [call[i]]);
    fe.send(W.VHOST_USER_SET_VRING_NUM, vringState(i, l.size));
    fe.send(W.VHOST_USER_SET_VRING_BASE, vringState(i, 0));
    fe.send(W.VHOST_USER_SET_VRING_ADDR, vringAddr(i, uva(l.descAddr), uva(l.usedAddr), uva(l.availAddr)));
    fe.send(W.VHOST_USER_SET_VRING_KICK, u64(BigInt(i)), [kick[i]]);
    await fe.call(W.VHOST_USER_SET_VRING_ENABLE, vringState(i, 1), [], true);
    rings.push(ring);
  }
  return { ram, rings, kick, call };
}

/** GET_DISPLAY_INFO through the control ring: the response type, after the backend's call. */
export async function displayInfo(s: Started, ms = 5000): Promise<number> {
  const req = s.ram.alloc(P.CtrlHdr.SIZE);
  const resp = s.ram.alloc(408);
  const b = new Uint8Array(P.CtrlHdr.SIZE);
  new DataView(b.buffer).setUint32(0, P.VIRTIO_GPU_CMD_GET_DISPLAY_INFO, true);
  s.ram.memory.writeFrom(req, b);
  const ring = s.rings[0];
  const head = ring.add([
    { gpa: req, length: b.length, write: false },
    { gpa: resp, length: 408, write: true },
  ]);
  if (head < 0) throw new Error('the control ring is full');
  ring.publish();
  eventfdWrite(s.kick[0], 1n);
  const end = Date.now() + ms;
  for (;;) {
    eventfdRead(s.call[0]);
    if (ring.popUsedHead() >= 0) break;
    if (Date.now() > end) throw new Error('GET_DISPLAY_INFO was not answered');
    await sleep(1);
  }
  const t = new Uint8Array(4);
  s.ram.memory.readInto(resp, t);
  return new DataView(t.buffer).getUint32(0, true);
}
