/**
 * Decoders for guest-written commands (device side) and device-written responses (driver side),
 * generic over the command and response tables.
 *
 * The bytes come from a hostile guest: every decoder returns a typed error instead of throwing,
 * and a try/catch turns any remaining fault (a bug, a detached buffer) into an error result too.
 * Hot-path rules (STYLE.md): no DataView (byte reads, see view.ts), one bounds check per struct,
 * no allocation per field; trailing payloads are views, not copies.
 */
import { commandName, responseName } from './constants.js';
import { COMMAND_SPECS, commandSlot, commandSpec } from './command-table.js';
import { CtrlHdr } from './layouts.js';
import { responseSpec } from './responses.js';
import type { Command, DecodeError, DecodeResponseResult, DecodeResult } from './types.js';
import { u32 } from './view.js';
import { fillHdr, newHdr, readHdr } from './wire.js';

function fail(kind: DecodeError['kind'], message: string, type?: number): { ok: false; error: DecodeError } {
  return { ok: false, error: type === undefined ? { kind, message } : { kind, message, type } };
}

/** Validates offset/length against `bytes`; returns the usable length, or -1. */
function span(bytes: Uint8Array, offset: number, length: number | undefined): number {
  const total = bytes.length;
  if (!Number.isInteger(offset) || offset < 0 || offset > total) return -1;
  const len = length === undefined ? total - offset : length;
  if (!Number.isInteger(len) || len < 0 || len > total - offset) return -1;
  return len;
}

function spanError(bytes: Uint8Array, offset: number, length: number | undefined) {
  return fail('short', `offset ${offset} / length ${String(length)} outside the ${bytes.length}-byte input`);
}

function fault(e: unknown) {
  return fail('inconsistent', `decoder fault: ${e instanceof Error ? e.message : String(e)}`);
}

/**
 * The fixed struct size of a command type (without trailing mem entries or SUBMIT_3D data), or
 * -1 when `type` is not a command. Lets a device check the readable length before decoding.
 */
export function commandStructSize(type: number): number {
  const spec = commandSpec(type);
  return spec === undefined ? -1 : spec.size;
}

/** The fixed struct size of a response type, or -1 when `type` is not a response. */
export function responseStructSize(type: number): number {
  const spec = responseSpec(type);
  return spec === undefined ? -1 : spec.size;
}

/** hdr.type of the command or response at `offset`, or -1 when fewer than 24 bytes are there. */
export function peekType(bytes: Uint8Array, offset = 0): number {
  if (!Number.isInteger(offset) || offset < 0 || bytes.length - offset < CtrlHdr.SIZE) return -1;
  return u32(bytes, offset);
}

/** The ctrl header at `offset`, or null when fewer than 24 bytes are there. Never throws. */
export function decodeHeader(bytes: Uint8Array, offset = 0, length?: number): CtrlHdr | null {
  try {
    const len = span(bytes, offset, length);
    if (len < CtrlHdr.SIZE) return null;
    return readHdr(bytes, offset);
  } catch {
    return null;
  }
}

/**
 * Why the command at `at` cannot be decoded before its fields are read: fewer than 24 bytes, an
 * unknown type, or fewer bytes than its struct. Null when its table entry may fill it.
 */
function precheck(bytes: Uint8Array, at: number, len: number): { ok: false; error: DecodeError } | null {
  if (len < CtrlHdr.SIZE) return fail('short', `${len} bytes, a command needs at least ${CtrlHdr.SIZE}`);
  const type = u32(bytes, at);
  const spec = commandSpec(type);
  if (spec === undefined) return fail('unknown-type', `unknown command type 0x${type.toString(16)}`, type);
  if (len < spec.size) return fail('short', `${len} bytes, ${commandName(type)} needs ${spec.size}`, type);
  return null;
}

/**
 * Decodes one command from `bytes[offset, offset + length)` (default: to the end) into a new
 * object. Never throws: short input, an unknown type, counts that disagree with the bytes present
 * (nr_entries, SUBMIT_3D size) or with the spec (nlen > 64) give `{ ok: false, error }`.
 * Bytes after the command are ignored. SUBMIT_3D `data` is a view into `bytes`.
 */
export function decodeCommand(bytes: Uint8Array, offset = 0, length?: number): DecodeResult {
  try {
    const len = span(bytes, offset, length);
    if (len < 0) return spanError(bytes, offset, length);
    const bad = precheck(bytes, offset, len);
    if (bad !== null) return bad;
    const spec = COMMAND_SPECS[commandSlot(u32(bytes, offset))];
    const cmd = spec.create(readHdr(bytes, offset));
    const why = spec.fill(cmd, bytes, offset, len);
    return why === null ? { ok: true, cmd } : fail('inconsistent', why, spec.type);
  } catch (e) {
    return fault(e);
  }
}

/**
 * Reusable command objects for {@link decodeCommandInto}: one object per command type, all
 * sharing the one header {@link CommandScratch.hdr}, so decoding a command allocates nothing
 * beyond what its variable part needs (mem entries past those decoded before, a SUBMIT_3D data
 * view, a CTX_CREATE name). Each object is the table's `create` shape, so results are deep-equal
 * to {@link decodeCommand}'s.
 *
 * Whatever {@link decodeCommandInto} returns is overwritten by the next call with the same
 * scratch, entries array included: use it while handling the command, and copy what must outlive
 * that (a rect kept as state, entries kept as a resource's backing). One scratch per queue.
 */
export class CommandScratch {
  /** The header of the last command decoded into this scratch (shared by all its commands). */
  readonly hdr: CtrlHdr = newHdr();
  /** Why the last call returned null; null after a successful decode. */
  error: DecodeError | null = null;
  /** @internal the object of each command type, by table slot */
  readonly cmds: readonly Command[];

  constructor() {
    const hdr = this.hdr;
    this.cmds = COMMAND_SPECS.map((s) => s.create(hdr));
  }
}

/**
 * {@link decodeCommand} into `scratch`: returns the scratch's object for the command's type,
 * refilled, or null with `scratch.error` set (the same error decodeCommand gives). Same checks,
 * same values, never throws. `scratch.hdr` holds the header of the last command that got past
 * the type and size checks. The result is valid until the next call with the same scratch.
 */
export function decodeCommandInto(bytes: Uint8Array, offset: number, length: number, scratch: CommandScratch): Command | null {
  try {
    scratch.error = null;
    const len = span(bytes, offset, length);
    const type = len >= CtrlHdr.SIZE ? u32(bytes, offset) : -1;
    const slot = commandSlot(type);
    const spec = slot < 0 ? undefined : COMMAND_SPECS[slot];
    if (spec === undefined || len < spec.size) {
      // The error paths: decodeCommand words the error.
      const dec = decodeCommand(bytes, offset, length);
      scratch.error = dec.ok ? { kind: 'inconsistent', message: 'decoder disagreement' } : dec.error;
      return null;
    }
    const cmd = scratch.cmds[slot];
    fillHdr(scratch.hdr, bytes, offset);
    const why = spec.fill(cmd, bytes, offset, len);
    if (why === null) return cmd;
    scratch.error = { kind: 'inconsistent', message: why, type };
    return null;
  } catch (e) {
    scratch.error = fault(e).error;
    return null;
  }
}

/**
 * Decodes one response from `bytes[offset, offset + length)` (driver side). Never throws.
 * RESP_OK_CAPSET `data` is the rest of the span; EDID and UUID bytes are views into `bytes`;
 * an EDID `size` over 1024 is inconsistent.
 */
export function decodeResponse(bytes: Uint8Array, offset = 0, length?: number): DecodeResponseResult {
  try {
    const len = span(bytes, offset, length);
    if (len < 0) return spanError(bytes, offset, length);
    if (len < CtrlHdr.SIZE) return fail('short', `${len} bytes, a response needs at least ${CtrlHdr.SIZE}`);
    const type = u32(bytes, offset);
    const spec = responseSpec(type);
    if (spec === undefined) return fail('unknown-type', `unknown response type 0x${type.toString(16)}`, type);
    if (len < spec.size) return fail('short', `${len} bytes, ${responseName(type)} needs ${spec.size}`, type);
    const resp = spec.decode(readHdr(bytes, offset), bytes, offset, len);
    return typeof resp === 'string' ? fail('inconsistent', resp, type) : { ok: true, resp };
  } catch (e) {
    return fault(e);
  }
}
