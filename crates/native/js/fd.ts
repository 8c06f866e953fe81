/**
 * Descriptors, UNIX sockets with SCM_RIGHTS, eventfd and memfd (Linux). Descriptors are plain
 * numbers the caller owns and closes with {@link closeFd}. Everything is non-blocking and
 * close-on-exec; "would block" is a `null` result, never an exception.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { requireFeature } from './binding.js';
import { unwatchFd } from './poller.js';

/** What {@link recvWithFds} read. */
export interface RecvResult {
  /** Payload bytes written into the buffer; 0 means the peer closed the connection. */
  readonly bytes: number;
  /** Descriptors that arrived with these bytes (close-on-exec); the caller must close them. */
  readonly fds: number[];
  /** The peer sent more descriptors than `maxFds` (MSG_CTRUNC, or one more than an odd `maxFds`). All of them were closed. */
  readonly truncated: boolean;
}

/** Most descriptors one message may carry (Linux's SCM_MAX_FD). */
export const MAX_FDS_PER_MESSAGE = 253;

/** Close a descriptor; a watch on it is removed first (epoll must never see a reused number). */
export function closeFd(fd: number): void {
  const b = requireFeature('fdPlumbing');
  unwatchFd(fd);
  b.closeFd(fd);
}

/** Duplicate a descriptor (the copy is close-on-exec). */
export function dupFd(fd: number): number {
  return requireFeature('fdPlumbing').dupFd(fd);
}

/** Set or clear O_NONBLOCK (sockets and eventfds made here are non-blocking already). */
export function setNonBlocking(fd: number, on: boolean): void {
  requireFeature('fdPlumbing').setNonBlocking(fd, on);
}

/** True when the descriptor is close-on-exec. */
export function isCloseOnExec(fd: number): boolean {
  return requireFeature('fdPlumbing').isCloseOnExec(fd);
}

/** Listen on a UNIX socket path (a stale socket file is replaced, any other file refused). */
export function listenUnix(path: string, options: { backlog?: number } = {}): number {
  return requireFeature('fdPlumbing').listenUnix(path, options.backlog ?? 16);
}

/** Accept one pending connection, or null when none is pending. */
export function acceptUnix(listenFd: number): number | null {
  return requireFeature('fdPlumbing').acceptUnix(listenFd);
}

/** Connect to a listening UNIX socket path. */
export function connectUnix(path: string): number {
  return requireFeature('fdPlumbing').connectUnix(path);
}

/** A connected pair of UNIX stream sockets. */
export function socketPair(): [number, number] {
  const [a, b] = requireFeature('fdPlumbing').socketPair();
  return [a, b];
}

/**
 * recvmsg into `buf`, accepting up to `maxFds` descriptors (vhost-user: 8). Returns null when
 * nothing is pending. Read a vhost-user header (12 bytes) with this; its fds arrive with it.
 */
export function recvWithFds(fd: number, buf: Uint8Array, maxFds = 8): RecvResult | null {
  return requireFeature('fdPlumbing').recvWithFds(fd, buf, maxFds);
}

/** sendmsg `data` with `fds` attached. Returns bytes sent (maybe fewer), or null when full. */
export function sendWithFds(fd: number, data: Uint8Array, fds: readonly number[] = []): number | null {
  return requireFeature('fdPlumbing').sendWithFds(fd, data, fds as number[]);
}

/** Create an eventfd (non-blocking, close-on-exec). */
export function eventfdCreate(options: { initial?: number; semaphore?: boolean } = {}): number {
  return requireFeature('fdPlumbing').eventfdCreate(options.initial ?? 0, options.semaphore ?? false);
}

/** Read and reset an eventfd's counter: the count, or null when it was zero. */
export function eventfdRead(fd: number): bigint | null {
  return requireFeature('fdPlumbing').eventfdRead(fd);
}

/** Add `value` (default 1) to an eventfd's counter: a kick or a call. */
export function eventfdWrite(fd: number, value: bigint | number = 1n): void {
  requireFeature('fdPlumbing').eventfdWrite(fd, BigInt(value));
}

/** Create a memfd of `size` bytes (what QEMU hands a vhost-user backend as guest RAM). */
export function memfdCreate(name: string, size: number): number {
  return requireFeature('fdPlumbing').memfdCreate(name, size);
}

/** This process's open descriptors (from /proc/self/fd), for leak checks. */
export function openFds(): number[] {
  // readdirSync lists the directory's own descriptor, closed by the time it returns: its link
  // no longer resolves, so it drops out here.
  const open: number[] = [];
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      readlinkSync(`/proc/self/fd/${name}`);
      open.push(Number(name));
    } catch {
      // closed since the listing
    }
  }
  return open.sort((a, b) => a - b);
}

/** Number of open descriptors in this process. */
export function openFdCount(): number {
  return openFds().length;
}
