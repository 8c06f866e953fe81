/**
 * Readiness on Node's event loop (Linux): one epoll thread per JS realm watches every descriptor
 * and reports through one threadsafe function onto the JS thread.
 *
 * - A watch is one-shot underneath: after a callback the descriptor is re-armed, so an fd that
 *   stays readable (a kick nobody read) calls back again, and never floods the queue.
 * - Watches do not keep the process alive unless `ref()`ed (like an unref'ed timer).
 * - After `close()` (or {@link unwatchFd}) the callback is never called again, even for an event
 *   already in flight: delivery checks the watch on the JS thread.
 */
import { type NativeBinding, requireFeature } from './binding.js';

/** What made a watched descriptor ready. */
export interface FdEvents {
  /** Data (or a pending connection, or an eventfd count) to read. */
  readonly readable: boolean;
  /** Room to write (only reported when asked for). */
  readonly writable: boolean;
  /** The peer hung up; reads return 0 once the data is drained. */
  readonly hangup: boolean;
  /** An error is pending on the descriptor. */
  readonly error: boolean;
}

/** Options of {@link watchFd}. */
export interface WatchOptions {
  /** Report readability (default true). */
  readonly readable?: boolean;
  /** Report writability (default false). */
  readonly writable?: boolean;
  /** Keep the event loop alive while watching (default false; see {@link FdWatch.ref}). */
  readonly ref?: boolean;
}

/** A live watch. */
export interface FdWatch {
  /** The watched descriptor. */
  readonly fd: number;
  /** False once closed. */
  readonly active: boolean;
  /** Keep the process alive while this watch exists. */
  ref(): this;
  /** Stop keeping the process alive (the default). */
  unref(): this;
  /** Stop watching; the callback is not called again. Do this before closing the fd. */
  close(): void;
}

const READABLE = 1;
const WRITABLE = 2;
const HANGUP = 4;
const ERROR = 8;

/** One frozen object per event combination: no allocation per callback. */
const EVENTS: readonly FdEvents[] = Array.from({ length: 16 }, (_, bits) =>
  Object.freeze({
    readable: (bits & READABLE) !== 0,
    writable: (bits & WRITABLE) !== 0,
    hangup: (bits & HANGUP) !== 0,
    error: (bits & ERROR) !== 0,
  }),
);

type NativePoller = InstanceType<NativeBinding['FdPoller']>;

class Watch implements FdWatch {
  active = true;
  referenced = false;

  constructor(
    private readonly hub: Hub,
    readonly id: number,
    readonly fd: number,
    readonly callback: (events: FdEvents) => void,
  ) {}

  ref(): this {
    if (this.active && !this.referenced) {
      this.referenced = true;
      this.hub.retain(1);
    }
    return this;
  }

  unref(): this {
    if (this.referenced) {
      this.referenced = false;
      this.hub.retain(-1);
    }
    return this;
  }

  close(): void {
    if (!this.active) return;
    this.unref();
    this.active = false;
    this.hub.remove(this);
  }
}

/** The realm's watcher: the native poller, the watches by id and by fd, the ref count. */
class Hub {
  private readonly poller: NativePoller;
  private readonly byId = new Map<number, Watch>();
  readonly byFd = new Map<number, Watch>();
  private nextId = 1;
  private refs = 0;

  constructor(binding: NativeBinding) {
    // The threadsafe function hands over one number, id * 16 + events (no allocation).
    this.poller = new binding.FdPoller((packed: number) => this.dispatch(Math.floor(packed / 16), packed % 16));
  }

  private dispatch(id: number, events: number): void {
    const w = this.byId.get(id);
    if (!w || !w.active) return;
    try {
      w.callback(EVENTS[events & 15]);
    } finally {
      // Re-arm only a watch that is still open (the callback may have closed it).
      if (w.active) this.poller.rearm(id);
    }
  }

  add(fd: number, callback: (events: FdEvents) => void, interest: number): Watch {
    if (this.byFd.has(fd)) throw Object.assign(new Error(`fd ${fd} is already watched`), { code: 'EEXIST' });
    const id = this.nextId;
    this.nextId = id >= 0x7fffffff ? 1 : id + 1;
    const w = new Watch(this, id, fd, callback);
    this.poller.add(id, fd, interest);
    this.byId.set(id, w);
    this.byFd.set(fd, w);
    return w;
  }

  remove(w: Watch): void {
    this.byId.delete(w.id);
    this.byFd.delete(w.fd);
    this.poller.remove(w.id);
  }

  retain(delta: number): void {
    const before = this.refs;
    this.refs += delta;
    if (before === 0 && this.refs > 0) this.poller.setRef(true);
    else if (before > 0 && this.refs === 0) this.poller.setRef(false);
  }
}

let hub: Hub | undefined;

/**
 * Call `onReady` on the JS thread whenever `fd` is readable (and on hang-up or error). One
 * watch per descriptor. Close the watch before closing the descriptor ({@link closeFd} does).
 */
export function watchFd(fd: number, onReady: (events: FdEvents) => void, options: WatchOptions = {}): FdWatch {
  const binding = requireFeature('fdPlumbing');
  hub ??= new Hub(binding);
  const interest = (options.readable === false ? 0 : READABLE) | (options.writable ? WRITABLE : 0);
  const w = hub.add(fd, onReady, interest);
  if (options.ref) w.ref();
  return w;
}

/** Remove the watch of `fd`, if any (closeFd calls this). */
export function unwatchFd(fd: number): void {
  hub?.byFd.get(fd)?.close();
}
