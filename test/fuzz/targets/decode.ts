/**
 * Fuzz target: command and response decoding (packages/protocol). The first byte picks what
 * the rest is decoded as; the oracle is stronger than "does not throw":
 * - decodeCommand and the queue loop's decodeCommandInto agree on every input (same verdict,
 *   same command);
 * - a decoded command encodes to commandSize bytes and decodes back to the same command (CTX_CREATE's
 *   debug_name is decoded lossily by design, invalid UTF-8 becoming U+FFFD: for it the check is that
 *   a second round trip changes nothing);
 * - describe and commandToJson work on anything that decoded;
 * - the same for responses (decodeResponse, encodeResponse, responseSize, responseToJson).
 */
import * as P from '@virtio-gpu/protocol';

/** Longest input: a full 16384-entry ATTACH_BACKING is 256 KiB; 64 KiB reaches every branch. */
export const maxLen = 64 * 1024;

/** Every VIRTIO_GPU_* number: command and response types, formats, flags, capsets, limits. */
export const dictionary: number[] = Object.entries(P)
  .filter(([k, v]) => k.startsWith('VIRTIO_GPU_') && typeof v === 'number')
  .map(([, v]) => v as number);

const scratch = new P.CommandScratch();

function same(a: unknown, b: unknown, what: string): void {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  if (x !== y) throw new Error(`${what} differ:\n  ${x}\n  ${y}`);
}

function commands(bytes: Uint8Array): void {
  const d = P.decodeCommand(bytes, 0, bytes.length);
  const into = P.decodeCommandInto(bytes, 0, bytes.length, scratch);
  if (d.ok !== (into !== null)) throw new Error(`decodeCommand ok=${d.ok} but decodeCommandInto gave ${into === null ? 'null' : 'a command'}`);
  if (!d.ok) {
    if (!scratch.error) throw new Error('decodeCommandInto returned null without an error');
    return;
  }
  const json = P.commandToJson(d.cmd);
  same(json, P.commandToJson(into!), 'decodeCommand and decodeCommandInto');
  if (typeof P.describe(d.cmd) !== 'string') throw new Error('describe gave no string');
  const size = P.commandSize(d.cmd);
  const out = new Uint8Array(size);
  const n = P.encodeCommand(d.cmd, out, 0);
  if (n !== size) throw new Error(`encodeCommand wrote ${n} bytes, commandSize says ${size}`);
  const again = P.decodeCommand(out, 0, n);
  if (!again.ok) throw new Error(`re-encoded command does not decode: ${again.error.message}`);
  const back = P.commandToJson(again.cmd);
  same({ ...json, debug_name: null }, { ...back, debug_name: null }, 'command round trip');
  if (json.debug_name !== back.debug_name) {
    const out2 = new Uint8Array(P.commandSize(again.cmd));
    P.encodeCommand(again.cmd, out2, 0);
    const third = P.decodeCommand(out2, 0, out2.length);
    if (!third.ok) throw new Error(`second round trip does not decode: ${third.error.message}`);
    same(back, P.commandToJson(third.cmd), 'debug_name after a second round trip');
  }
}

function responses(bytes: Uint8Array): void {
  const d = P.decodeResponse(bytes, 0, bytes.length);
  if (!d.ok) return;
  const json = P.responseToJson(d.resp);
  const size = P.responseSize(d.resp);
  const out = new Uint8Array(size);
  const n = P.encodeResponse(d.resp, out, 0);
  if (n !== size) throw new Error(`encodeResponse wrote ${n} bytes, responseSize says ${size}`);
  const again = P.decodeResponse(out, 0, n);
  if (!again.ok) throw new Error(`re-encoded response does not decode: ${again.error.message}`);
  same(json, P.responseToJson(again.resp), 'response round trip');
}

/** Byte 0 even: a command; odd: a response. Byte 1: an offset into the rest (decoders take one). */
export function fuzz(data: Uint8Array): void {
  if (data.length < 2) return;
  const body = data.subarray(2);
  const skip = Math.min(data[1] & 7, body.length);
  const bytes = body.subarray(skip);
  if ((data[0] & 1) === 0) commands(bytes);
  else responses(bytes);
  // Offsets and lengths past the buffer must be refused, never read.
  P.decodeCommand(body, skip + 1_000_000, 24);
  P.decodeCommand(body, 0, body.length + 64);
  P.decodeResponse(body, skip, 0xffff_ffff);
}
