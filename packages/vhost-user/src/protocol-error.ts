/**
 * How a request handler refuses a frontend's message. It throws a ProtocolError; the backend
 * catches it around the whole request and ends the connection with one log line giving the
 * message (VhostUserBackend's handleFrame). A throw keeps each check one line where it is made,
 * however deep in a handler, and tells a frontend's fault from a host bug (any other exception).
 */

/** Thrown inside message handling for a protocol violation; ends the connection. */
export class ProtocolError extends Error {}

/** Refuse the message being handled: `message` is the reason the connection's last log line gives. */
export function fail(message: string): never {
  throw new ProtocolError(message);
}
