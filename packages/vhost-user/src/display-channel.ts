/**
 * The socket half of the vhost-user-gpu display protocol: sends requests, matches QEMU's replies
 * to the requests that have one (in order: QEMU answers each as it reads it), and reports when
 * the socket has taken everything queued, so the display can send its next update.
 *
 * QEMU is a peer the backend does not trust either: a reply it did not ask for, of the wrong
 * size or with bad content is a protocol error that closes the channel (and the connection).
 */
import { type Frame, MessageReader, MessageWriter } from './framing.js';
import {
  GPU_REQUEST_NAMES,
  type GpuReply,
  VHOST_USER_GPU_DMABUF_UPDATE,
  VHOST_USER_GPU_GET_DISPLAY_INFO,
  VHOST_USER_GPU_GET_EDID,
  VHOST_USER_GPU_GET_PROTOCOL_FEATURES,
  VhostUserGpuHeader,
  checkReplyHeader,
  decodeReply,
  encodeBare,
  encodeGetEdid,
} from './gpu-wire.js';
import type { FdSocket } from './host.js';

/** How long QEMU gets to answer a request before the channel gives up on that answer. */
export const GPU_REPLY_TIMEOUT_MS = 5000;

interface Waiter {
  readonly request: number;
  /** null once timed out: the reply, if it ever comes, is read and dropped. */
  done: ((r: GpuReply | null) => void) | null;
  timer: ReturnType<typeof setTimeout> | null;
}

/** Callbacks of a channel. */
export interface DisplayChannelEvents {
  /** The socket took every queued byte after having been full. */
  drained(): void;
  /** The channel is gone: QEMU closed it (`error` null) or broke the protocol. Called once. */
  closed(error: string | null): void;
}

/** One display channel (one VHOST_USER_GPU_SET_SOCKET). */
export class DisplayChannel {
  private readonly reader: MessageReader;
  private readonly writer: MessageWriter;
  private readonly waiters: Waiter[] = [];
  private isClosed = false;

  constructor(
    private readonly sock: FdSocket,
    private readonly events: DisplayChannelEvents,
    closeFd: (fd: number) => void,
    private readonly replyTimeoutMs = GPU_REPLY_TIMEOUT_MS,
  ) {
    // QEMU never sends descriptors on this channel: any is an error.
    this.reader = new MessageReader(sock, 0, checkReplyHeader, closeFd);
    this.writer = new MessageWriter(sock, () => this.events.drained(), (why) => this.close(`write failed: ${why}`));
    sock.onReadable(() => this.readable());
  }

  /** Whether the channel was closed. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Bytes queued that the socket has not taken yet. */
  get queuedBytes(): number {
    return this.writer.queuedBytes;
  }

  /** Send a message that has no reply; `done` runs once the socket has taken all of it. */
  send(bytes: Uint8Array, fds?: readonly number[], done?: () => void): void {
    if (!this.isClosed) this.writer.send(bytes, fds, done);
  }

  /** GET_PROTOCOL_FEATURES; null when QEMU did not answer in time or the channel closed. */
  async getProtocolFeatures(): Promise<bigint | null> {
    const r = await this.request(VHOST_USER_GPU_GET_PROTOCOL_FEATURES, (v) => encodeBare(v, 0, VHOST_USER_GPU_GET_PROTOCOL_FEATURES), VhostUserGpuHeader.SIZE);
    return r?.request === VHOST_USER_GPU_GET_PROTOCOL_FEATURES ? r.features : null;
  }

  /** GET_DISPLAY_INFO. */
  async getDisplayInfo(): Promise<Extract<GpuReply, { request: typeof VHOST_USER_GPU_GET_DISPLAY_INFO }>['pmodes'] | null> {
    const r = await this.request(VHOST_USER_GPU_GET_DISPLAY_INFO, (v) => encodeBare(v, 0, VHOST_USER_GPU_GET_DISPLAY_INFO), VhostUserGpuHeader.SIZE);
    return r?.request === VHOST_USER_GPU_GET_DISPLAY_INFO ? r.pmodes : null;
  }

  /** GET_EDID for a scanout QEMU has (QEMU does not answer for others: never ask for them). */
  async getEdid(scanoutId: number): Promise<Uint8Array | null> {
    const r = await this.request(VHOST_USER_GPU_GET_EDID, (v) => encodeGetEdid(v, 0, scanoutId), VhostUserGpuHeader.SIZE + 4);
    return r?.request === VHOST_USER_GPU_GET_EDID ? r.edid : null;
  }

  /** Send a message whose reply is DMABUF_UPDATE's empty "unblock" (QEMU answers it when done). */
  async sendAwaitingUnblock(bytes: Uint8Array): Promise<boolean> {
    const r = await this.request(VHOST_USER_GPU_DMABUF_UPDATE, null, 0, bytes);
    return r !== null;
  }

  /** Close the channel (idempotent); pending requests resolve null. */
  close(error: string | null = null): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.writer.close();
    this.reader.dispose();
    this.sock.onReadable(null);
    this.sock.close();
    for (const w of this.waiters.splice(0)) this.settle(w, null);
    this.events.closed(error);
  }

  private request(request: number, encode: ((v: DataView) => number) | null, size: number, raw?: Uint8Array): Promise<GpuReply | null> {
    if (this.isClosed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const w: Waiter = { request, done: resolve, timer: null };
      w.timer = setTimeout(() => {
        w.timer = null;
        // Keep the waiter queued so a late reply is still matched (and dropped) in order.
        const done = w.done;
        w.done = null;
        done?.(null);
      }, this.replyTimeoutMs);
      this.waiters.push(w);
      if (raw) {
        this.writer.send(raw);
      } else if (encode) {
        const bytes = new Uint8Array(size);
        encode(new DataView(bytes.buffer));
        this.writer.send(bytes);
      }
    });
  }

  private settle(w: Waiter, r: GpuReply | null): void {
    if (w.timer) clearTimeout(w.timer);
    w.timer = null;
    const done = w.done;
    w.done = null;
    done?.(r);
  }

  private readable(): void {
    // Bounded: replies are small and QEMU sends one per request we made.
    for (let i = 0; i < 64 && !this.isClosed; i++) {
      const f = this.reader.next();
      if (f === 'again') return;
      if (f === 'eof') {
        this.close(null);
        return;
      }
      if ('error' in f) {
        this.close(f.error);
        return;
      }
      this.reply(f);
    }
  }

  private reply(f: Frame): void {
    const w = this.waiters[0];
    const name = GPU_REQUEST_NAMES[f.request] ?? `request ${f.request}`;
    if (!w || w.request !== f.request) {
      this.close(`unexpected reply to ${name}${w ? ` (waiting for ${GPU_REQUEST_NAMES[w.request]})` : ''}`);
      return;
    }
    this.waiters.shift();
    const r = decodeReply(f.request, f.payload);
    if ('error' in r) {
      this.settle(w, null);
      this.close(r.error);
      return;
    }
    this.settle(w, r);
  }
}
