/**
 * Who owns a message's descriptors (SCM_RIGHTS). A handler takes each descriptor it keeps or
 * closes out of the message's list; the backend closes whatever is left, whether the handler
 * returned or refused the message. So no descriptor leaks, whatever the frontend sends and
 * wherever a handler stops, and none is closed twice.
 */
import type { VhostHost } from './host.js';
import { fail } from './protocol-error.js';

/** Takes descriptor `i` out of a message's list (-1 left behind): the caller now owns it. */
export function take(fds: number[], i: number): number {
  const fd = fds[i] ?? -1;
  fds[i] = -1;
  return fd;
}

/**
 * The message's descriptor, once it is known to be an eventfd: anything else (a socket, a
 * memfd, a pipe) would be written to or read from as if it were one, on every call and kick.
 */
export function takeEventfd(host: VhostHost, fds: number[], what: string): number {
  if (!host.isEventfd(fds[0])) fail(`${what}: the descriptor is not an eventfd`);
  return take(fds, 0);
}

/**
 * Close the descriptors of a message that no handler took ({@link take}): those of a request
 * refused before it used them (a vring index out of range, a missing protocol feature) belong
 * to nobody else.
 */
export function closeUntaken(host: VhostHost, fds: number[]): void {
  for (let i = 0; i < fds.length; i++) {
    const fd = take(fds, i);
    if (fd >= 0) host.close(fd);
  }
}
