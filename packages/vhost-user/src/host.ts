/**
 * What the backend needs from the operating system, as interfaces: UNIX stream sockets that pass
 * descriptors (SCM_RIGHTS), shared mappings of the frontend's memory fds, and eventfds for kicks
 * and calls, all driven by readiness callbacks on Node's event loop. `native-host.ts` implements
 * them with `@virtio-gpu/native`; the tests implement them in memory, so the whole protocol runs
 * without a kernel.
 *
 * Ownership: a descriptor number handed to the backend (received with a message) belongs to the
 * backend, which closes it exactly once through {@link VhostHost.close} or by wrapping it.
 */

/** What one `recv` returned. */
export interface Received {
  /** Bytes read into the buffer; 0 means the peer closed the connection. */
  bytes: number;
  /** Descriptors that arrived with these bytes; now owned by the caller. */
  fds: number[];
  /** The peer sent more descriptors than allowed; they were all closed. A protocol error. */
  truncated: boolean;
}

/** A connected, non-blocking UNIX stream socket. */
export interface FdSocket {
  /** Read into `buf` (at most its length), accepting up to `maxFds` descriptors; null: nothing to read now. */
  recv(buf: Uint8Array, maxFds: number): Received | null;
  /** Send `data` with `fds` attached to its first byte; returns bytes sent, or null when the socket is full. */
  send(data: Uint8Array, fds?: readonly number[]): number | null;
  /** Call `cb` whenever the socket is readable (or closed/errored); null stops. */
  onReadable(cb: (() => void) | null): void;
  /** Call `cb` once the socket is writable again; null stops. */
  onWritable(cb: (() => void) | null): void;
  /** Close the socket (idempotent); callbacks stop. */
  close(): void;
}

/**
 * A shared, read-write mapping of part of a file descriptor: bytes `[byteOffset, byteOffset +
 * byteLength)` of `buffer` (the native mapping is a buffer of its own with byteOffset 0). An
 * ArrayBuffer rather than a Uint8Array because a typed array cannot span more than 4 GiB while
 * guest RAM can.
 */
export interface MappedRegion {
  /** Holds the mapped bytes; detached (length 0) after {@link unmap}. */
  readonly buffer: ArrayBuffer;
  readonly byteOffset: number;
  readonly byteLength: number;
  /** Unmap; every view of `bytes` is detached first, so no JS code can touch the pages after. */
  unmap(): void;
  /**
   * True once the frontend shrank the file under the mapping and an access faulted: the native
   * mapping then reads zeros instead of raising SIGBUS, and no longer reaches the frontend.
   */
  truncated(): boolean;
}

/** A readiness watch; stop() is idempotent. */
export interface Watch {
  stop(): void;
}

/** A listening socket. */
export interface Listener {
  /** Stop listening and remove the socket file (idempotent). */
  close(): void;
}

/** The OS services the backend uses. */
export interface VhostHost {
  /** Listen on `path` (replacing a stale socket file) and hand each accepted connection to `onConnection`. */
  listen(path: string, onConnection: (sock: FdSocket) => void): Listener;
  /**
   * Wrap a socket descriptor received over SCM_RIGHTS (the display channel; made non-blocking);
   * takes ownership. Throws, without taking it, when `fd` is not a socket.
   */
  adoptSocket(fd: number): FdSocket;
  /** Map `size` bytes of `fd` from `offset`, MAP_SHARED, read-write. Throws when the kernel refuses. */
  mmap(fd: number, offset: number, size: number): MappedRegion;
  /** Whether `fd` is an eventfd (kick, call and error descriptors must be). */
  isEventfd(fd: number): boolean;
  /** Close a descriptor the backend owns. */
  close(fd: number): void;
  /** Signal an eventfd (add 1 to its counter); a full counter counts as signalled. */
  signalEventfd(fd: number): void;
  /** Call `onEvent` on the event loop each time eventfd `fd` is signalled (its counter is drained first). */
  watchEventfd(fd: number, onEvent: () => void): Watch;
}
