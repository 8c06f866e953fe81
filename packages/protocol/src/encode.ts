/**
 * Encoders: the mirror of decode.ts, generic over the command and response tables. Each writes
 * into the caller's buffer at an offset and returns the bytes written.
 *
 * Encoding input comes from host or driver code, not from the guest, so misuse is a bug and
 * throws: RangeError when `out` is too small, an offset is invalid, a 64-bit value is outside
 * 0..2^64-1, or an array is too long for its C field (pmodes > 16, edid > 1024, uuid != 16,
 * debug name > 64 bytes, strides/offsets != 4). 32-bit fields are written modulo 2^32.
 *
 * Header fields are written as given, even when they disagree with the payload (nr_entries vs
 * entries.length, SUBMIT_3D size vs data.length, nlen vs the name): tests and fuzzers need to
 * build such commands. `type` comes from `cmd.type`; `hdr.type` is ignored. Every byte of the
 * encoded span is written (padding as the optional `padding` value or 0), so a reused buffer
 * never leaks old bytes.
 */
import type { CommandSpec } from './command-spec.js';
import { commandSpec } from './command-table.js';
import { CtrlHdr } from './layouts.js';
import { type ResponseSpec, responseSpec } from './responses.js';
import type { Command, Response, ResponseBody } from './types.js';
import { writeHdr, writeResponseHdr } from './wire.js';

function cmdSpec(cmd: Command): CommandSpec {
  const spec = commandSpec(cmd.type);
  if (spec === undefined) throw new RangeError(`not a command type: ${String((cmd as { type: unknown }).type)}`);
  return spec;
}

function respSpec(resp: ResponseBody): ResponseSpec {
  const spec = responseSpec(resp.type);
  if (spec === undefined) throw new RangeError(`not a response type: ${String((resp as { type: unknown }).type)}`);
  return spec;
}

function room(out: Uint8Array, offset: number, size: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset > out.length || out.length - offset < size) {
    throw new RangeError(`need ${size} bytes at offset ${offset}, buffer has ${out.length}`);
  }
}

/**
 * A table entry's struct: the header (`hdr` as given, or with `reply` the response header the
 * command header `hdr` gives), then `value`'s fields; checks the room first.
 */
function encodeAt<V>(
  spec: { size: number; extra(v: V): number; encode(v: V, out: Uint8Array, at: number): void },
  value: V,
  type: number,
  hdr: CtrlHdr,
  reply: boolean,
  out: Uint8Array,
  offset: number,
): number {
  const size = spec.size + spec.extra(value);
  room(out, offset, size);
  if (reply) writeResponseHdr(out, offset, type, hdr);
  else writeHdr(out, offset, type, hdr);
  spec.encode(value, out, offset);
  return size;
}

/** Bytes encodeCommand writes for `cmd`: the struct plus mem entries or SUBMIT_3D data. */
export function commandSize(cmd: Command): number {
  const spec = cmdSpec(cmd);
  return spec.size + spec.extra(cmd);
}

/**
 * Encodes `cmd` into `out` at `offset`; returns the bytes written (commandSize(cmd)).
 * Throws RangeError when `out` is too small or a value does not fit (see the module comment).
 */
export function encodeCommand(cmd: Command, out: Uint8Array, offset = 0): number {
  return encodeAt(cmdSpec(cmd), cmd, cmd.type, cmd.hdr, false, out, offset);
}

/** Bytes encodeResponse (or encodeReply) writes for `resp` (its header is not needed). */
export function responseSize(resp: ResponseBody): number {
  const spec = respSpec(resp);
  return spec.size + spec.extra(resp);
}

/**
 * Encodes `resp` into `out` at `offset`; returns the bytes written (responseSize(resp)).
 * Throws RangeError when `out` is too small or a value does not fit (see the module comment).
 * The device answers with the largest response that fits (STYLE.md): check responseSize first.
 */
export function encodeResponse(resp: Response, out: Uint8Array, offset = 0): number {
  return encodeAt<ResponseBody>(respSpec(resp), resp, resp.type, resp.hdr, false, out, offset);
}

/**
 * Encodes the device's answer to the command whose header is `cmdHdr`: `reply` with the header
 * the spec gives it (virtio-gpu §5.7.6.7: a fenced command's fence_id, ctx_id and, with
 * INFO_RING_IDX, ring_idx echoed; zeros otherwise). Returns the bytes written; throws like
 * encodeResponse.
 */
export function encodeReply(reply: ResponseBody, cmdHdr: CtrlHdr, out: Uint8Array, offset = 0): number {
  return encodeAt(respSpec(reply), reply, reply.type, cmdHdr, true, out, offset);
}

/**
 * {@link encodeReply} of a header-only response (OK_NODATA or an error) of `type`, without a
 * reply object: the device's most common answer. Returns 24.
 */
export function encodeReplyHeader(type: number, cmdHdr: CtrlHdr, out: Uint8Array, offset = 0): number {
  room(out, offset, CtrlHdr.SIZE);
  writeResponseHdr(out, offset, type, cmdHdr);
  return CtrlHdr.SIZE;
}
