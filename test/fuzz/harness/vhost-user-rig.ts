/**
 * The vhost-user fuzz target's rig: a VhostUserServer (packages/vhost-user) over the in-memory
 * FakeHost, with a hostile frontend on the other end of its socket. The input is a list of
 * records (below): raw bytes sent on the socket with descriptors of chosen kinds attached (so a
 * header, its size field and its payload are all the fuzzer's), event-loop turns, kicks, guest
 * commands placed on rings in the frontend's memory, bytes QEMU's console sends back on a display
 * channel, and guest-memory writes.
 *
 * The FakeHost is the kernel's model (descriptors ride on the first byte of the send that carried
 * them; a read stops after them; every descriptor and mapping is counted), so after the input
 * the rig can prove what a real process would need: nothing the backend received is still open,
 * nothing is still mapped, and the server serves the next, well-behaved, connection.
 */
import * as P from '@virtio-gpu/protocol';
import { GuestRam, cmd, rect } from '@virtio-gpu/guest';
import { VhostUserServer } from '../../../packages/vhost-user/src/server';
import { FakeHost, type FakeSocket } from '../../../packages/vhost-user/src/testing/fake-host';
import { FakeConsole, FakeFrontend } from '../../../packages/vhost-user/src/testing/fake-frontend';
import * as W from '../../../packages/vhost-user/src/wire';
import { FuzzDriver } from './fuzz-driver';

export const VU_PATH = '/fuzz/vhost-user.sock';
/** The frontend's small memory: one memfd holding the guest driver's rings and buffers. */
export const VU_RAM = { gpa: 0x1000_0000, bytes: 1 << 20 } as const;
/** Where that memory sits in the frontend's own address space (user addresses): gpa + this. */
export const VU_UVA_BIAS = 0x7f00_0000_0000;
/** A second memfd kind as large as QEMU's guest RAM in the recorded sessions (pages stay untouched). */
export const VU_LARGE_MEMFD_BYTES = 512 << 20;
export const VU_QUEUE_SIZE = 64;
/** Request and response bytes per queue of the rig's guest driver. */
const DRIVER_AREA = 16 * 1024;

/** Kinds of descriptor a message can carry (a record byte, modulo the count). */
export const FdKind = { eventfd: 0, ramMemfd: 1, largeMemfd: 2, socket: 3, other: 4 } as const;
export type FdKind = (typeof FdKind)[keyof typeof FdKind];
const FD_KINDS = 5;
/** More than a message may carry (the backend accepts 8): the kernel-side truncation path. */
const MAX_FDS_IN_RECORD = 9;

/** Record operations (first byte of a record, modulo the count). */
export const Op = { msg: 0, turn: 1, kick: 2, cmd: 3, closePeer: 4, poke: 5, console: 6 } as const;
const OPS = 7;

/** One record of an input; see the module comment. */
export type VuRecord =
  | { op: 'msg'; fds: FdKind[]; bytes: Uint8Array }
  | { op: 'turn' }
  | { op: 'kick'; which: number }
  | { op: 'cmd'; queue: 0 | 1; which: number }
  | { op: 'closePeer'; which: number }
  | { op: 'poke'; offset: number; bytes: Uint8Array }
  | { op: 'console'; which: number; bytes: Uint8Array };

/** Encode records as an input (the recorder and the seeds use this). */
export function encodeRecords(records: readonly VuRecord[]): Uint8Array {
  const parts: number[] = [];
  const u16 = (n: number) => parts.push(n & 0xff, (n >>> 8) & 0xff);
  for (const r of records) {
    parts.push(Op[r.op]);
    if (r.op === 'msg') {
      parts.push(r.fds.length, ...r.fds);
      u16(r.bytes.length);
      parts.push(...r.bytes);
    } else if (r.op === 'kick' || r.op === 'closePeer') parts.push(r.which);
    else if (r.op === 'cmd') parts.push((r.which << 1) | r.queue);
    else if (r.op === 'poke') {
      u16(r.offset);
      parts.push(r.bytes.length, ...r.bytes);
    } else if (r.op === 'console') {
      parts.push(r.which);
      u16(r.bytes.length);
      parts.push(...r.bytes);
    }
  }
  return Uint8Array.from(parts);
}

/** A vhost-user message: header (version 1, NEED_REPLY when asked) and payload. */
export const message = FakeFrontend.message;

/** Commands a `cmd` record places (its `which`, modulo the count): valid, refused and undecodable ones. */
const COMMANDS: { req: Uint8Array; resp: number }[] = [
  { req: enc(cmd.getDisplayInfo()), resp: 408 },
  { req: enc(cmd.resourceCreate2d(1, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64)), resp: 24 },
  { req: enc(cmd.resourceFlush(99, rect(0, 0, 1, 1))), resp: 24 },
  { req: enc(cmd.setScanout(0, 1, rect(0, 0, 64, 64))), resp: 24 },
  { req: enc(cmd.getEdid(0)), resp: 1056 },
  { req: Uint8Array.of(1, 2, 3), resp: 24 },
  { req: enc(cmd.resourceUnref(1)), resp: 0 },
];

function enc(c: P.Command): Uint8Array {
  const b = new Uint8Array(P.commandSize(c));
  P.encodeCommand(c, b, 0);
  return b;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** What the checks found wrong; thrown as the finding. */
export class VhostUserInvariant extends Error {}

function check(ok: boolean, what: string): void {
  if (!ok) throw new VhostUserInvariant(what);
}

/** The rings the rig's guest driver uses (what a seed's SET_VRING_ADDR must name, as user addresses). */
export function driverRingLayouts(): { size: number; descAddr: number; availAddr: number; usedAddr: number }[] {
  const d = new FuzzDriver(new GuestRam({ regions: [{ gpa: VU_RAM.gpa, bytes: VU_RAM.bytes }] }), VU_QUEUE_SIZE, DRIVER_AREA);
  return d.queues.map((q) => q.ring.layout);
}

/** See the module comment. */
export class VhostUserRig {
  readonly host = new FakeHost();
  readonly logs: string[] = [];
  /** Why each connection ended (null: the frontend closed it). */
  readonly closed: (string | null)[] = [];
  readonly server: VhostUserServer;
  readonly ram = new GuestRam({ regions: [{ gpa: VU_RAM.gpa, bytes: VU_RAM.bytes }] });
  readonly driver = new FuzzDriver(this.ram, VU_QUEUE_SIZE, DRIVER_AREA);
  /** Frames the backend sent the hostile frontend. */
  readonly replies: { request: number; flags: number; size: number }[] = [];
  private readonly client: FakeSocket;
  private readonly eventfds: number[] = [];
  private readonly consoles: FakeConsole[] = [];
  private largeBuffer: ArrayBuffer | null = null;

  constructor() {
    this.server = new VhostUserServer({
      host: this.host,
      path: VU_PATH,
      numScanouts: 1,
      log: (l, m) => void this.logs.push(`${l}: ${m}`),
      onConnectionClosed: (_id, e) => void this.closed.push(e),
    });
    this.server.listen();
    this.client = this.host.connect(VU_PATH);
    this.client.onReadable(() => this.readReplies());
  }

  /** Run one input's records. */
  async run(data: Uint8Array): Promise<void> {
    await tick(); // the server accepts the connection
    let at = 0;
    const u8 = (): number => (at < data.length ? data[at++] : 0);
    const u16 = (): number => u8() | (u8() << 8);
    const bytes = (n: number): Uint8Array => {
      const b = data.subarray(at, Math.min(data.length, at + n));
      at += b.length;
      return b;
    };
    while (at < data.length) {
      const op = u8() % OPS;
      if (op === Op.msg) {
        const n = u8() % (MAX_FDS_IN_RECORD + 1);
        const kinds: FdKind[] = [];
        for (let i = 0; i < n; i++) kinds.push((u8() % FD_KINDS) as FdKind);
        this.sendMessage(bytes(u16()), kinds);
      } else if (op === Op.turn) await this.settle();
      else if (op === Op.kick) this.kick(u8());
      else if (op === Op.cmd) this.command(u8());
      else if (op === Op.closePeer) this.consoles[u8() % Math.max(1, this.consoles.length)]?.sock.close();
      else if (op === Op.poke) {
        const off = u16() * 16;
        const b = bytes(u8());
        if (off + b.length <= VU_RAM.bytes) this.ram.write(VU_RAM.gpa + off, b);
      } else {
        const c = this.consoles[u8() % Math.max(1, this.consoles.length)];
        const b = bytes(u16());
        if (c && !c.sock.closed && !c.sock.peerClosed) c.sock.send(b.slice());
      }
    }
    await this.settle();
  }

  /** Event-loop turns until the backend has read everything sent to it (bounded). */
  async settle(): Promise<void> {
    for (let i = 0; i < 64; i++) {
      await tick();
      if (this.client.end.peer.inboundBytes === 0 && i >= 3) return;
    }
  }

  private sendMessage(b: Uint8Array, kinds: FdKind[]): void {
    if (this.client.closed || this.client.peerClosed) return;
    const fds = kinds.map((k) => this.makeFd(k));
    try {
      if (b.length > 0) this.client.send(b.slice(), fds);
    } finally {
      // The frontend keeps nothing it passed; what the backend now holds is its own.
      for (const fd of fds) if (!this.eventfds.includes(fd)) this.host.close(fd);
    }
  }

  private makeFd(kind: FdKind): number {
    switch (kind) {
      case FdKind.eventfd: {
        const fd = this.host.eventfd();
        this.eventfds.push(fd);
        return fd;
      }
      case FdKind.ramMemfd:
        return this.host.memfd(this.ram.bytes(VU_RAM.gpa, 1).buffer as ArrayBuffer);
      case FdKind.largeMemfd:
        // Fresh for each input (zero pages cost nothing until touched), so inputs stay independent.
        this.largeBuffer ??= new ArrayBuffer(VU_LARGE_MEMFD_BYTES);
        return this.host.memfd(this.largeBuffer);
      case FdKind.socket: {
        const [mine, theirs] = this.host.socketPair();
        this.consoles.push(new FakeConsole(mine, this.host));
        return theirs.fd;
      }
      default:
        return this.host.otherFd();
    }
  }

  private kick(which: number): void {
    if (this.eventfds.length === 0) return;
    this.host.kick(this.eventfds[which % this.eventfds.length]);
  }

  private command(b: number): void {
    const qi = (b & 1) as 0 | 1;
    const c = COMMANDS[(b >> 1) % COMMANDS.length];
    try {
      // The hostile frontend may have pointed the device at other rings or indexes: whatever
      // comes back is the guest's own problem, not a finding.
      this.driver.reap();
    } catch {
      // guest side only
    }
    this.driver.submit(qi, c.req, c.resp);
    for (const fd of this.eventfds) this.host.kick(fd);
  }

  private readReplies(): void {
    for (;;) {
      const head = new Uint8Array(W.VhostUserHeader.SIZE);
      if (this.client.closed) return;
      const r = this.client.recv(head, 0);
      if (r === null || r.bytes === 0) return;
      // Replies are whole sends; a short one is still a header's worth or the backend is wrong.
      check(r.bytes === W.VhostUserHeader.SIZE, `a reply of ${r.bytes} bytes`);
      const h = W.decodeHeader(head)!;
      const payload = new Uint8Array(h.size);
      if (h.size > 0) {
        const p = this.client.recv(payload, 0);
        check(p !== null && p.bytes === h.size, `reply ${h.request}: payload shorter than its header's ${h.size}`);
      }
      this.replies.push(h);
    }
  }

  /**
   * The frontend goes away; then: the connection was released, and if the backend closed it for
   * a protocol error it said so in exactly one error line; no host bug was logged.
   */
  async finish(): Promise<void> {
    this.client.close();
    for (const c of this.consoles) c.sock.close();
    for (const fd of this.eventfds) this.host.close(fd);
    this.eventfds.length = 0;
    for (let i = 0; i < 16 && this.server.backend !== null; i++) await tick();
    check(this.server.backend === null, 'the connection was not released after the frontend closed it');
    for (const r of this.replies) {
      check(r.flags === (W.VHOST_USER_VERSION | W.VHOST_USER_REPLY_MASK), `reply ${r.request} with flags 0x${r.flags.toString(16)}`);
    }
    // Error lines a frontend may cause: the one line of a connection closed for a protocol error,
    // and a ring it corrupted. Any other is a host bug (a throw caught inside, a failed release).
    const errors = this.logs.filter((l) => l.startsWith('error:'));
    const closing = errors.filter((l) => l.endsWith('; closing the connection'));
    const other = errors.filter((l) => !l.endsWith('; closing the connection') && !/: virtio-gpu: queue \d broken: /.test(l));
    check(other.length === 0, `host bug: ${other.join(' | ')}`);
    const byError = this.closed.filter((e) => e !== null).length;
    check(closing.length === byError, `${closing.length} closing lines for ${byError} connections closed on an error: ${closing.join(' | ')}`);
    this.checkReleased('after the hostile connection');
  }

  /** A fresh frontend negotiates, starts its rings and gets OK_DISPLAY_INFO; then it quits and nothing is left. */
  async healthCheck(): Promise<void> {
    const fe = new FakeFrontend(this.host, VU_PATH, { ramBytes: 1 << 20 });
    try {
      await fe.boot();
      const r = await fe.driver.send(cmd.getDisplayInfo());
      check(r.type === P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO, `GET_DISPLAY_INFO on a fresh connection answered 0x${r.type.toString(16)}`);
    } finally {
      fe.quit();
    }
    for (let i = 0; i < 16 && this.server.backend !== null; i++) await tick();
    check(this.server.backend === null, 'the well-behaved connection was not released');
    this.checkReleased('after the well-behaved connection');
    this.server.close();
  }

  private checkReleased(when: string): void {
    check(this.host.receivedOpen === 0, `${when}: ${this.host.receivedOpen} descriptors the backend received are still open`);
    check(this.host.liveMappings === 0, `${when}: ${this.host.liveMappings} mappings still live`);
  }
}
