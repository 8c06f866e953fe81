/**
 * Message framing over a non-blocking stream socket, for both vhost-user and its display
 * channel: a 12-byte header (request, flags, size) then `size` payload bytes.
 *
 * Reading: the header is read on its own, so the descriptors the kernel delivers with a
 * message's first byte (SCM_RIGHTS rides on the sendmsg that carried the header) are attributed
 * to exactly that message; descriptors arriving in the middle of a payload are a protocol error.
 * The payload size is checked before a byte of it is buffered, so a hostile peer cannot make the
 * backend allocate more than the largest legal message.
 *
 * Writing: whole messages are queued and written as the socket accepts them; a partly written
 * message is finished before the next starts.
 */
import type { FdSocket } from './host.js';

/** Header layout shared by vhost-user and vhost-user-gpu. */
export const HEADER_SIZE = 12;

/** One complete message. */
export interface Frame {
  request: number;
  flags: number;
  /** The payload (exactly `size` bytes; a fresh buffer owned by the caller). */
  payload: Uint8Array;
  /** Descriptors that came with the message, owned by the caller. */
  fds: number[];
}

/** What {@link MessageReader.next} found. */
export type ReadResult = Frame | 'again' | 'eof' | { error: string };

/** Checks a header before its payload is read; returns why it is unacceptable, or null. */
export type HeaderCheck = (request: number, flags: number, size: number) => string | null;

/** Reads frames off a socket; see the module comment. */
export class MessageReader {
  private readonly head = new Uint8Array(HEADER_SIZE);
  private readonly headView = new DataView(this.head.buffer);
  private headGot = 0;
  private payload: Uint8Array | null = null;
  private payloadGot = 0;
  private fds: number[] = [];
  private request = 0;
  private flags = 0;

  /**
   * @param maxFds most descriptors one message may carry (more is an error).
   * @param check header validation, run before the payload is read.
   * @param closeFd closes descriptors the reader has to drop (errors).
   */
  constructor(
    private readonly sock: FdSocket,
    private readonly maxFds: number,
    private readonly check: HeaderCheck,
    private readonly closeFd: (fd: number) => void,
  ) {}

  /** The next complete frame, 'again' when the socket has no more for now, 'eof' or an error. */
  next(): ReadResult {
    for (;;) {
      if (this.payload === null) {
        const r = this.sock.recv(this.head.subarray(this.headGot), this.maxFds);
        if (r === null) return 'again';
        if (r.truncated) return this.fail('more descriptors than a message may carry');
        if (r.bytes === 0) {
          this.drop(r.fds);
          return this.headGot === 0 && this.fds.length === 0 ? 'eof' : this.fail('connection closed inside a message header');
        }
        if (r.fds.length > 0) {
          // Descriptors come with a message's first byte: only a read that starts a header may carry them.
          if (this.headGot !== 0 || this.fds.length > 0) {
            this.drop(r.fds);
            return this.fail('descriptors in the middle of a message');
          }
          this.fds = r.fds;
        }
        this.headGot += r.bytes;
        if (this.headGot < HEADER_SIZE) continue;
        this.request = this.headView.getUint32(0, true);
        this.flags = this.headView.getUint32(4, true);
        const size = this.headView.getUint32(8, true);
        const bad = this.check(this.request, this.flags, size);
        if (bad !== null) return this.fail(bad);
        this.payload = new Uint8Array(size);
        this.payloadGot = 0;
      }
      if (this.payloadGot < this.payload.byteLength) {
        const r = this.sock.recv(this.payload.subarray(this.payloadGot), this.maxFds);
        if (r === null) return 'again';
        if (r.truncated) return this.fail('more descriptors than a message may carry');
        if (r.fds.length > 0) {
          this.drop(r.fds);
          return this.fail('descriptors in the middle of a message');
        }
        if (r.bytes === 0) return this.fail('connection closed inside a message payload');
        this.payloadGot += r.bytes;
        if (this.payloadGot < this.payload.byteLength) continue;
      }
      const frame: Frame = { request: this.request, flags: this.flags, payload: this.payload, fds: this.fds };
      this.headGot = 0;
      this.payload = null;
      this.payloadGot = 0;
      this.fds = [];
      return frame;
    }
  }

  /** Close descriptors of a message still being read (the connection is going away). */
  dispose(): void {
    this.drop(this.fds);
    this.fds = [];
  }

  private drop(fds: number[]): void {
    for (const fd of fds) this.closeFd(fd);
  }

  private fail(error: string): { error: string } {
    this.dispose();
    return { error };
  }
}

interface Pending {
  data: Uint8Array;
  fds: readonly number[];
  sent: number;
  /** Called once the socket has taken the whole message (the buffer may be reused then). */
  done: (() => void) | undefined;
}

/**
 * Queues outgoing messages and writes them as the socket allows. `queuedBytes` lets producers
 * apply back-pressure (the display channel sends nothing new while a frame is still queued).
 */
export class MessageWriter {
  private readonly queue: Pending[] = [];
  private bytes = 0;
  private closed = false;
  private waiting = false;

  /**
   * @param onDrained called when the queue empties after having waited for the socket.
   * @param onError called once when the socket fails (the writer stops).
   */
  constructor(
    private readonly sock: FdSocket,
    private readonly onDrained: () => void,
    private readonly onError: (why: string) => void,
  ) {}

  /** Bytes queued and not yet accepted by the socket. */
  get queuedBytes(): number {
    return this.bytes;
  }

  /**
   * Queue `data` (with `fds` on its first byte) and write what the socket takes now; `done` runs
   * once the socket has taken all of it.
   */
  send(data: Uint8Array, fds: readonly number[] = [], done?: () => void): void {
    if (this.closed) return;
    this.queue.push({ data, fds, sent: 0, done });
    this.bytes += data.byteLength;
    if (!this.waiting) this.flush();
  }

  /** Stop writing; queued data is dropped. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.bytes = 0;
    if (this.waiting) this.sock.onWritable(null);
    this.waiting = false;
  }

  private flush(): void {
    while (this.queue.length > 0 && !this.closed) {
      const p = this.queue[0];
      let n: number | null;
      try {
        n = this.sock.send(p.sent === 0 ? p.data : p.data.subarray(p.sent), p.sent === 0 ? p.fds : []);
      } catch (e) {
        this.closed = true;
        this.onError(e instanceof Error ? e.message : String(e));
        return;
      }
      if (n === null) {
        if (!this.waiting) {
          this.waiting = true;
          this.sock.onWritable(() => {
            this.waiting = false;
            this.sock.onWritable(null);
            this.flush();
            if (!this.waiting && this.queue.length === 0) this.onDrained();
          });
        }
        return;
      }
      p.sent += n;
      this.bytes -= n;
      if (p.sent === p.data.byteLength) {
        this.queue.shift();
        p.done?.();
      }
    }
  }
}
