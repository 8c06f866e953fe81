/**
 * An in-memory VhostHost for tests: a descriptor table (memfds over ArrayBuffers, eventfds,
 * socket endpoints), socket pairs that carry bytes and descriptors with the kernel's rules
 * (descriptors are duplicated into the receiver's table and arrive with the first byte of the
 * send that carried them; a read does not run past a send that carried descriptors), readiness
 * callbacks on later event-loop turns, and counters of open descriptors and live mappings, so a
 * test can prove that nothing leaks. Closing a descriptor twice or unmapping twice throws.
 */
import type { FdSocket, Listener, MappedRegion, Received, VhostHost, Watch } from '../host.js';

type FakeFile = { refs: number } & (
  | { kind: 'memfd'; buffer: ArrayBuffer }
  | { kind: 'eventfd'; counter: number; watchers: Set<() => void>; scheduled: boolean }
  | { kind: 'socket'; end: Endpoint }
  | { kind: 'other' }
);

interface Chunk {
  bytes: Uint8Array;
  at: number;
  /** Files riding on the first byte (not yet delivered). */
  files: FakeFile[];
}

/** One end of an in-memory stream socket pair (the open file behind socket descriptors). */
class Endpoint {
  peer!: Endpoint;
  readonly inbound: Chunk[] = [];
  inboundBytes = 0;
  readableCb: (() => void) | null = null;
  writableCb: (() => void) | null = null;
  private readScheduled = false;
  private writeScheduled = false;
  /** No descriptor refers to this end any more. */
  closed = false;
  /** Bytes this end buffers before the peer's send() reports a full socket. */
  capacity = 1 << 30;
  sentBytes = 0;

  constructor(private readonly host: FakeHost) {}

  recv(buf: Uint8Array, maxFds: number): Received | null {
    if (this.inbound.length === 0) return this.peer.closed ? { bytes: 0, fds: [], truncated: false } : null;
    let copied = 0;
    const fds: number[] = [];
    let truncated = false;
    while (copied < buf.byteLength && this.inbound.length > 0) {
      const c = this.inbound[0];
      if (c.files.length > 0) {
        if (copied > 0) break; // never glue data before a send that carries descriptors
        if (c.files.length > maxFds) {
          truncated = true;
          for (const f of c.files) this.host.release(f);
        } else {
          for (const f of c.files) fds.push(this.host.install(f, false));
        }
        c.files = [];
      }
      const n = Math.min(buf.byteLength - copied, c.bytes.byteLength - c.at);
      buf.set(c.bytes.subarray(c.at, c.at + n), copied);
      copied += n;
      c.at += n;
      this.inboundBytes -= n;
      if (c.at === c.bytes.byteLength) this.inbound.shift();
      if (fds.length > 0 || truncated) break; // a read stops after a send that carried descriptors
    }
    this.peer.scheduleWritable();
    return { bytes: copied, fds, truncated };
  }

  send(data: Uint8Array, fds: readonly number[]): number | null {
    if (this.peer.closed) throw new Error('EPIPE');
    const room = this.peer.capacity - this.peer.inboundBytes;
    if (room <= 0) return null;
    const n = Math.min(room, data.byteLength);
    // In flight, a descriptor holds its file open (as the kernel's SCM_RIGHTS reference does).
    const files = fds.map((fd) => {
      const f = this.host.fileOf(fd);
      f.refs++;
      return f;
    });
    this.peer.inbound.push({ bytes: data.slice(0, n), at: 0, files });
    this.peer.inboundBytes += n;
    this.sentBytes += n;
    this.peer.scheduleReadable();
    return n;
  }

  lastRefGone(): void {
    this.closed = true;
    this.readableCb = null;
    this.writableCb = null;
    for (const c of this.inbound) for (const f of c.files) this.host.release(f);
    this.inbound.length = 0;
    this.inboundBytes = 0;
    this.peer.scheduleReadable();
  }

  scheduleReadable(): void {
    if (this.readScheduled || !this.readableCb) return;
    this.readScheduled = true;
    setImmediate(() => {
      this.readScheduled = false;
      const cb = this.readableCb;
      if (!cb || this.closed) return;
      if (this.inbound.length === 0 && !this.peer.closed) return;
      cb();
      // Level-triggered, like a poll: still readable -> called again on a later turn.
      if (this.inbound.length > 0 || this.peer.closed) this.scheduleReadable();
    });
  }

  scheduleWritable(): void {
    if (this.writeScheduled || !this.writableCb) return;
    this.writeScheduled = true;
    setImmediate(() => {
      this.writeScheduled = false;
      const cb = this.writableCb;
      if (!cb || this.closed) return;
      if (this.peer.closed || this.peer.inboundBytes < this.peer.capacity) cb();
    });
  }
}

/** A socket descriptor: one number referring to an endpoint. */
export class FakeSocket implements FdSocket {
  private isClosed = false;

  constructor(
    private readonly host: FakeHost,
    readonly end: Endpoint,
    readonly fd: number,
  ) {}

  /** Whether this descriptor was closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Bytes waiting to be read. */
  get pending(): number {
    return this.end.inboundBytes;
  }

  /** How much this end buffers before the peer sees a full socket. */
  set capacity(n: number) {
    this.end.capacity = n;
  }

  /** Bytes sent from this end. */
  get sentBytes(): number {
    return this.end.sentBytes;
  }

  /** Whether the other end has no descriptor left. */
  get peerClosed(): boolean {
    return this.end.peer.closed;
  }

  recv(buf: Uint8Array, maxFds: number): Received | null {
    if (this.isClosed) throw new Error('recv on a closed descriptor');
    return this.end.recv(buf, maxFds);
  }

  send(data: Uint8Array, fds: readonly number[] = []): number | null {
    if (this.isClosed) throw new Error('send on a closed descriptor');
    return this.end.send(data, fds);
  }

  onReadable(cb: (() => void) | null): void {
    this.end.readableCb = cb;
    if (cb) this.end.scheduleReadable();
  }

  onWritable(cb: (() => void) | null): void {
    this.end.writableCb = cb;
    if (cb) this.end.scheduleWritable();
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.host.close(this.fd);
  }
}

/** See the module comment. */
export class FakeHost implements VhostHost {
  private nextFd = 3;
  private readonly table = new Map<number, FakeFile>();
  private readonly listeners = new Map<string, (s: FdSocket) => void>();
  /** Live mappings. */
  liveMappings = 0;
  /** Every mmap call: fd file, offset, size. */
  readonly mmaps: { offset: number; size: number }[] = [];
  /** Signals written to eventfds (by the backend through signalEventfd). */
  signals = 0;

  /** Open descriptors in this fake process. */
  get openFds(): number {
    return this.table.size;
  }

  /** Descriptor numbers open now. */
  fdList(): number[] {
    return [...this.table.keys()];
  }

  /** A new descriptor for `f`; `fresh` files start with this one reference, others arrived over a socket. */
  install(f: FakeFile, fresh = true): number {
    const fd = this.nextFd++;
    if (fresh) f.refs = 1;
    else this.received.add(fd);
    this.table.set(fd, f);
    return fd;
  }

  /** Descriptors received over sockets (SCM_RIGHTS) and not closed yet: what the receiver still owns. */
  private readonly received = new Set<number>();
  get receivedOpen(): number {
    return this.received.size;
  }

  /** Drop one reference to `f` (a descriptor closed, or an in-flight one discarded). */
  release(f: FakeFile): void {
    f.refs--;
    if (f.refs === 0 && f.kind === 'socket') f.end.lastRefGone();
  }

  fileOf(fd: number): FakeFile {
    const f = this.table.get(fd);
    if (!f) throw new Error(`fd ${fd} is not open`);
    return f;
  }

  /** A memfd whose contents are `buffer` (shared: the test writes guest RAM through it). */
  memfd(buffer: ArrayBuffer): number {
    return this.install({ kind: 'memfd', buffer, refs: 1 });
  }

  /** A new eventfd. */
  eventfd(): number {
    return this.install({ kind: 'eventfd', counter: 0, watchers: new Set(), scheduled: false, refs: 1 });
  }

  /** A descriptor of no use to the backend (a wrong kind for tests). */
  otherFd(): number {
    return this.install({ kind: 'other', refs: 1 });
  }

  /** A connected pair of sockets, both in this table. */
  socketPair(): [FakeSocket, FakeSocket] {
    const a = new Endpoint(this);
    const b = new Endpoint(this);
    a.peer = b;
    b.peer = a;
    const fa = this.install({ kind: 'socket', end: a, refs: 1 });
    const fb = this.install({ kind: 'socket', end: b, refs: 1 });
    return [new FakeSocket(this, a, fa), new FakeSocket(this, b, fb)];
  }

  /** Connect to a listening path; returns the client end. */
  connect(path: string): FakeSocket {
    const l = this.listeners.get(path);
    if (!l) throw new Error(`ECONNREFUSED ${path}`);
    const [client, server] = this.socketPair();
    setImmediate(() => l(server));
    return client;
  }

  /** Signal an eventfd as the frontend does (a kick). */
  kick(fd: number): void {
    this.signalEventfd(fd);
    this.signals--; // frontend kicks are not backend signals
  }

  /** Read and reset an eventfd's counter (the frontend consuming a call). */
  takeEvents(fd: number): number {
    const f = this.fileOf(fd);
    if (f.kind !== 'eventfd') throw new Error(`fd ${fd} is not an eventfd`);
    const n = f.counter;
    f.counter = 0;
    return n;
  }

  // ---- VhostHost -----------------------------------------------------------------------------

  listen(path: string, onConnection: (sock: FdSocket) => void): Listener {
    if (this.listeners.has(path)) throw new Error(`EADDRINUSE ${path}`);
    this.listeners.set(path, onConnection);
    return { close: () => void this.listeners.delete(path) };
  }

  adoptSocket(fd: number): FdSocket {
    const f = this.fileOf(fd);
    if (f.kind !== 'socket') throw new Error(`fd ${fd} is not a socket`);
    return new FakeSocket(this, f.end, fd);
  }

  mmap(fd: number, offset: number, size: number): MappedRegion {
    const f = this.fileOf(fd);
    if (f.kind !== 'memfd') throw new Error(`ENODEV: fd ${fd} cannot be mapped`);
    if (offset % 4096 !== 0) throw new Error('EINVAL: unaligned offset');
    if (offset + size > f.buffer.byteLength) throw new Error('EINVAL: beyond the end of the file (SIGBUS on access)');
    this.liveMappings++;
    this.mmaps.push({ offset, size });
    let mapped = true;
    return {
      buffer: f.buffer,
      byteOffset: offset,
      byteLength: size,
      unmap: () => {
        if (!mapped) throw new Error('double unmap');
        mapped = false;
        this.liveMappings--;
      },
      // The in-memory files cannot shrink.
      truncated: () => false,
    };
  }

  isEventfd(fd: number): boolean {
    return this.table.get(fd)?.kind === 'eventfd';
  }

  close(fd: number): void {
    const f = this.table.get(fd);
    if (!f) throw new Error(`close of fd ${fd}, which is not open`);
    this.table.delete(fd);
    this.received.delete(fd);
    this.release(f);
  }

  signalEventfd(fd: number): void {
    const f = this.fileOf(fd);
    if (f.kind !== 'eventfd') throw new Error(`fd ${fd} is not an eventfd`);
    f.counter++;
    this.signals++;
    this.scheduleEventfd(f);
  }

  watchEventfd(fd: number, onEvent: () => void): Watch {
    const f = this.fileOf(fd);
    if (f.kind !== 'eventfd') throw new Error(`fd ${fd} is not an eventfd`);
    f.watchers.add(onEvent);
    this.scheduleEventfd(f);
    let on = true;
    return {
      stop: () => {
        if (!on) return;
        on = false;
        f.watchers.delete(onEvent);
      },
    };
  }

  private scheduleEventfd(f: Extract<FakeFile, { kind: 'eventfd' }>): void {
    if (f.scheduled || f.watchers.size === 0 || f.counter === 0) return;
    f.scheduled = true;
    setImmediate(() => {
      f.scheduled = false;
      if (f.counter === 0 || f.watchers.size === 0) return;
      f.counter = 0;
      for (const w of [...f.watchers]) w();
    });
  }
}
