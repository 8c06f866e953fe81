/**
 * The VhostHost over `@virtio-gpu/native`: non-blocking UNIX sockets with SCM_RIGHTS, eventfds,
 * shared mappings that detach every view before unmapping, and readiness from the native epoll
 * thread on Node's event loop.
 *
 * A descriptor has one native watch, whose interest (readable, writable) is fixed: a socket that
 * starts or stops waiting for room re-creates its watch. The listening socket's watch keeps the
 * process alive (a server); connection watches do not need to.
 */
import {
  type FdWatch,
  acceptUnix,
  closeFd,
  eventfdRead,
  eventfdWrite,
  listenUnix,
  mapFd,
  recvWithFds,
  sendWithFds,
  setNonBlocking,
  watchFd,
} from '@virtio-gpu/native';
import { fstatSync, readlinkSync, rmSync } from 'node:fs';
import type { FdSocket, Listener, MappedRegion, Received, VhostHost, Watch } from './host.js';

/** What the kernel says descriptor `fd` refers to ("socket:[123]", "anon_inode:[eventfd]", "/memfd:x"), or "" when it is not open. */
function fdTarget(fd: number): string {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return '';
  }
}

/** A connected socket descriptor. */
class NativeSocket implements FdSocket {
  private watch: FdWatch | null = null;
  private readCb: (() => void) | null = null;
  private writeCb: (() => void) | null = null;
  private closed = false;

  constructor(readonly fd: number) {}

  recv(buf: Uint8Array, maxFds: number): Received | null {
    if (buf.byteLength === 0) return { bytes: 0, fds: [], truncated: false };
    return recvWithFds(this.fd, buf, maxFds);
  }

  send(data: Uint8Array, fds: readonly number[] = []): number | null {
    return sendWithFds(this.fd, data, fds);
  }

  onReadable(cb: (() => void) | null): void {
    this.readCb = cb;
    this.rewatch();
  }

  onWritable(cb: (() => void) | null): void {
    this.writeCb = cb;
    this.rewatch();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watch?.close();
    this.watch = null;
    closeFd(this.fd);
  }

  private rewatch(): void {
    if (this.closed) return;
    this.watch?.close();
    this.watch = null;
    const readable = this.readCb !== null;
    const writable = this.writeCb !== null;
    if (!readable && !writable) return;
    this.watch = watchFd(
      this.fd,
      (ev) => {
        // Hang-up and errors are reported as readable: the next recv returns 0 or throws.
        if ((ev.readable || ev.hangup || ev.error) && this.readCb) this.readCb();
        if ((ev.writable || ev.error) && this.writeCb && !this.closed) this.writeCb();
      },
      { readable, writable },
    );
  }
}

/** See the module comment. */
export class NativeHost implements VhostHost {
  listen(path: string, onConnection: (sock: FdSocket) => void): Listener {
    const fd = listenUnix(path);
    const watch = watchFd(
      fd,
      () => {
        for (let i = 0; i < 16; i++) {
          const c = acceptUnix(fd);
          if (c === null) return;
          onConnection(new NativeSocket(c));
        }
      },
      { ref: true },
    );
    let open = true;
    return {
      close: () => {
        if (!open) return;
        open = false;
        watch.close();
        closeFd(fd);
        rmSync(path, { force: true });
      },
    };
  }

  adoptSocket(fd: number): FdSocket {
    if (!fdTarget(fd).startsWith('socket:')) throw new Error(`descriptor ${fd} is not a socket (${fdTarget(fd)})`);
    // QEMU's socketpair is blocking; a read with nothing pending would stall the event loop.
    setNonBlocking(fd, true);
    return new NativeSocket(fd);
  }

  mmap(fd: number, offset: number, size: number): MappedRegion {
    // The kernel maps past a file's end without complaint and raises SIGBUS, which ends the
    // whole process, when the pages are touched: a region larger than its memfd must be refused.
    // A frontend that shrinks the file after this check finds it sealed (QEMU's memfds) or, for a
    // file that cannot be sealed, faults into zeros rather than SIGBUS (`truncated`).
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`descriptor ${fd} is not a mappable file (${fdTarget(fd)})`);
    if (offset + size > st.size) throw new Error(`[0x${offset.toString(16)}, +0x${size.toString(16)}) passes the end of the ${st.size}-byte file`);
    const m = mapFd(fd, offset, size);
    return { buffer: m.buffer, byteOffset: 0, byteLength: m.size, unmap: () => m.unmap(), truncated: () => m.truncated };
  }

  isEventfd(fd: number): boolean {
    return fdTarget(fd) === 'anon_inode:[eventfd]';
  }

  close(fd: number): void {
    closeFd(fd);
  }

  signalEventfd(fd: number): void {
    eventfdWrite(fd, 1n);
  }

  watchEventfd(fd: number, onEvent: () => void): Watch {
    // The frontend's eventfds should be non-blocking already; a blocking one must not stall us.
    setNonBlocking(fd, true);
    const w = watchFd(fd, () => {
      // Drain the counter first: the kick is consumed, and a new one re-arms the watch.
      if (eventfdRead(fd) !== null) onEvent();
    });
    return { stop: () => w.close() };
  }
}
