/**
 * Decoders for guest-written commands (device side) and device-written responses (driver side).
 *
 * The bytes come from a hostile guest: every decoder returns a typed error instead of throwing,
 * and a try/catch turns any remaining fault (a bug, a detached buffer) into an error result too.
 * Hot-path rules (STYLE.md): no DataView at all (byte reads, see view.ts), one bounds check per
 * struct, no allocation per field; trailing payloads are views, not copies.
 */
import * as C from './constants.js';
import {
  GetEdid,
  CmdSubmit,
  CtrlHdr,
  CtxCreate,
  CtxResource,
  GetCapset,
  GetCapsetInfo,
  MemEntry,
  RespCapsetInfo,
  RespDisplayInfo,
  RespEdid,
  RespMapInfo,
  RespResourceUuid,
  ResourceAttachBacking,
  ResourceCreate2d,
  ResourceCreate3d,
  ResourceCreateBlob,
  ResourceFlush,
  ResourceMapBlob,
  ResourceUnref,
  SetScanout,
  SetScanoutBlob,
  TransferHost3d,
  TransferToHost2d,
  UpdateCursor,
  type Box,
  type CursorPos,
  type DisplayOne,
  type Rect,
} from './layouts.js';
import type {
  CmdCtxDestroy,
  CmdCtxResource,
  CmdCursor,
  CmdGetCapset,
  CmdGetCapsetInfo,
  CmdGetDisplayInfo,
  CmdGetEdid,
  CmdResourceAssignUuid,
  CmdResourceCreate2d,
  CmdResourceCreate3d,
  CmdResourceDetachBacking,
  CmdResourceFlush,
  CmdResourceMapBlob,
  CmdResourceUnmapBlob,
  CmdResourceUnref,
  CmdSetScanout,
  CmdSetScanoutBlob,
  CmdTransferHost3d,
  CmdTransferToHost2d,
  Command,
  DecodeError,
  DecodeResponseResult,
  DecodeResult,
  HdrOnlyResponseType,
  Response,
} from './types.js';
import { readU64, u32 } from './view.js';

/** Longest debug_name the spec allows in CTX_CREATE (char debug_name[64]). */
export const CTX_DEBUG_NAME_MAX = 64;
/** Bytes of EDID data a RESP_OK_EDID can hold (__u8 edid[1024]). */
export const EDID_MAX = 1024;

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

function readHdr(bytes: Uint8Array, at: number): CtrlHdr {
  return {
    type: u32(bytes, at),
    flags: u32(bytes, at + CtrlHdr.flags),
    fenceId: readU64(bytes, at + CtrlHdr.fenceId),
    ctxId: u32(bytes, at + CtrlHdr.ctxId),
    ringIdx: bytes[at + CtrlHdr.ringIdx],
  };
}

function readRect(bytes: Uint8Array, at: number): Rect {
  return {
    x: u32(bytes, at),
    y: u32(bytes, at + 4),
    width: u32(bytes, at + 8),
    height: u32(bytes, at + 12),
  };
}

function readEntries(bytes: Uint8Array, at: number, n: number): { addr: bigint; length: number }[] {
  const entries = new Array<{ addr: bigint; length: number }>(n);
  for (let i = 0; i < n; i++) {
    const p = at + i * MemEntry.SIZE;
    entries[i] = { addr: readU64(bytes, p), length: u32(bytes, p + MemEntry.length) };
  }
  return entries;
}

let utf8: TextDecoder | undefined;

/**
 * debug_name bytes as text: ASCII directly, anything else as UTF-8 where each invalid sequence
 * becomes '?'. Not U+FFFD: that is 3 bytes in UTF-8, so a 64-byte name of invalid bytes would
 * decode to a string whose encoding no longer fits the 64-byte field and encodeCommand would
 * refuse a command decodeCommand accepted (found by the decode fuzz target). With '?' the text's
 * UTF-8 is never longer than the bytes it came from.
 */
function readName(bytes: Uint8Array, start: number, n: number): string {
  let ascii = true;
  for (let i = 0; i < n; i++) if (bytes[start + i] > 0x7f) ascii = false;
  if (ascii) {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(bytes[start + i]);
    return s;
  }
  utf8 ??= new TextDecoder('utf-8', { fatal: false });
  return utf8.decode(bytes.subarray(start, start + n)).replaceAll('\ufffd', '?');
}

/** Size of the fixed struct for each command type (the trailing payload comes on top). */
const COMMAND_STRUCT_SIZE: Readonly<Record<number, number>> = {
  [C.VIRTIO_GPU_CMD_GET_DISPLAY_INFO]: CtrlHdr.SIZE,
  [C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D]: ResourceCreate2d.SIZE,
  [C.VIRTIO_GPU_CMD_RESOURCE_UNREF]: ResourceUnref.SIZE,
  [C.VIRTIO_GPU_CMD_SET_SCANOUT]: SetScanout.SIZE,
  [C.VIRTIO_GPU_CMD_RESOURCE_FLUSH]: ResourceFlush.SIZE,
  [C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D]: TransferToHost2d.SIZE,
  [C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING]: ResourceAttachBacking.SIZE,
  [C.VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING]: ResourceUnref.SIZE,
  [C.VIRTIO_GPU_CMD_GET_CAPSET_INFO]: GetCapsetInfo.SIZE,
  [C.VIRTIO_GPU_CMD_GET_CAPSET]: GetCapset.SIZE,
  [C.VIRTIO_GPU_CMD_GET_EDID]: GetEdid.SIZE,
  [C.VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID]: ResourceUnref.SIZE,
  [C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB]: ResourceCreateBlob.SIZE,
  [C.VIRTIO_GPU_CMD_SET_SCANOUT_BLOB]: SetScanoutBlob.SIZE,
  [C.VIRTIO_GPU_CMD_CTX_CREATE]: CtxCreate.SIZE,
  [C.VIRTIO_GPU_CMD_CTX_DESTROY]: CtrlHdr.SIZE,
  [C.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE]: CtxResource.SIZE,
  [C.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE]: CtxResource.SIZE,
  [C.VIRTIO_GPU_CMD_RESOURCE_CREATE_3D]: ResourceCreate3d.SIZE,
  [C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D]: TransferHost3d.SIZE,
  [C.VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D]: TransferHost3d.SIZE,
  [C.VIRTIO_GPU_CMD_SUBMIT_3D]: CmdSubmit.SIZE,
  [C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB]: ResourceMapBlob.SIZE,
  [C.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB]: ResourceUnref.SIZE,
  [C.VIRTIO_GPU_CMD_UPDATE_CURSOR]: UpdateCursor.SIZE,
  [C.VIRTIO_GPU_CMD_MOVE_CURSOR]: UpdateCursor.SIZE,
};

/** Command types are 0x0100.. (2D), 0x0200.. (3D), 0x0300.. (cursor); this spans them all. */
const FIRST_COMMAND_TYPE = C.VIRTIO_GPU_CMD_GET_DISPLAY_INFO;
const STRUCT_SIZE_BY_TYPE = (() => {
  let last = FIRST_COMMAND_TYPE;
  for (const k of Object.keys(COMMAND_STRUCT_SIZE)) last = Math.max(last, Number(k));
  const t = new Int32Array(last - FIRST_COMMAND_TYPE + 1).fill(-1);
  for (const [k, v] of Object.entries(COMMAND_STRUCT_SIZE)) t[Number(k) - FIRST_COMMAND_TYPE] = v;
  return t;
})();

/**
 * The fixed struct size of a command type (without trailing mem entries or SUBMIT_3D data), or
 * -1 when `type` is not a command. Lets a device check the readable length before decoding.
 */
export function commandStructSize(type: number): number {
  // A typed-array load, not a dictionary lookup: decoders call this once per command.
  const i = type - FIRST_COMMAND_TYPE;
  // Integers only: a typed array read at a fractional index is undefined.
  return i >= 0 && i < STRUCT_SIZE_BY_TYPE.length && Number.isInteger(i) ? STRUCT_SIZE_BY_TYPE[i] : -1;
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
 * Decodes one command from `bytes[offset, offset + length)` (default: to the end).
 * Never throws: short input, an unknown type, counts that disagree with the bytes present
 * (nr_entries, SUBMIT_3D size) or with the spec (nlen > 64) give `{ ok: false, error }`.
 * Bytes after the command are ignored. SUBMIT_3D `data` is a view into `bytes`.
 */
export function decodeCommand(bytes: Uint8Array, offset = 0, length?: number): DecodeResult {
  try {
    const len = span(bytes, offset, length);
    if (len < 0) return spanError(bytes, offset, length);
    return decodeCommandAt(bytes, offset, len);
  } catch (e) {
    return fail('inconsistent', `decoder fault: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function decodeCommandAt(bytes: Uint8Array, offset: number, len: number): DecodeResult {
  if (len < CtrlHdr.SIZE) return fail('short', `${len} bytes, a command needs at least ${CtrlHdr.SIZE}`);
  const at = offset;
  const type = u32(bytes, at);
  const need = commandStructSize(type);
  if (need < 0) return fail('unknown-type', `unknown command type 0x${type.toString(16)}`, type);
  if (len < need) return fail('short', `${len} bytes, ${C.commandName(type)} needs ${need}`, type);
  // Fixed-size commands: the same fillers as decodeCommandInto, into a scratch of this call's own.
  const fixed = fillFixed(new CommandScratch(), bytes, at);
  if (fixed !== null) return { ok: true, cmd: fixed };
  const hdr = readHdr(bytes, at);
  switch (type) {
    case C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING: {
      const nrEntries = u32(bytes, at + ResourceAttachBacking.nrEntries);
      // Spec §5.7.6.8: nr_entries virtio_gpu_mem_entry follow; never trust the count past the bytes.
      if (nrEntries > (len - ResourceAttachBacking.SIZE) / MemEntry.SIZE) {
        return fail('inconsistent', `nr_entries ${nrEntries} but room for ${Math.floor((len - ResourceAttachBacking.SIZE) / MemEntry.SIZE)}`, type);
      }
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          resourceId: u32(bytes, at + ResourceAttachBacking.resourceId),
          nrEntries,
          entries: readEntries(bytes, at + ResourceAttachBacking.SIZE, nrEntries),
        },
      };
    }
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB: {
      const nrEntries = u32(bytes, at + ResourceCreateBlob.nrEntries);
      if (nrEntries > (len - ResourceCreateBlob.SIZE) / MemEntry.SIZE) {
        return fail('inconsistent', `nr_entries ${nrEntries} but room for ${Math.floor((len - ResourceCreateBlob.SIZE) / MemEntry.SIZE)}`, type);
      }
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          resourceId: u32(bytes, at + ResourceCreateBlob.resourceId),
          blobMem: u32(bytes, at + ResourceCreateBlob.blobMem),
          blobFlags: u32(bytes, at + ResourceCreateBlob.blobFlags),
          nrEntries,
          blobId: readU64(bytes, at + ResourceCreateBlob.blobId),
          size: readU64(bytes, at + ResourceCreateBlob.size),
          entries: readEntries(bytes, at + ResourceCreateBlob.SIZE, nrEntries),
        },
      };
    }
    case C.VIRTIO_GPU_CMD_CTX_CREATE: {
      const nlen = u32(bytes, at + CtxCreate.nlen);
      if (nlen > CTX_DEBUG_NAME_MAX) return fail('inconsistent', `nlen ${nlen} > ${CTX_DEBUG_NAME_MAX}`, type);
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          nlen,
          contextInit: u32(bytes, at + CtxCreate.contextInit),
          debugName: readName(bytes, offset + CtxCreate.debugName, nlen),
        },
      };
    }
    case C.VIRTIO_GPU_CMD_SUBMIT_3D: {
      const size = u32(bytes, at + CmdSubmit.size);
      if (size > len - CmdSubmit.SIZE) return fail('inconsistent', `submit size ${size} but ${len - CmdSubmit.SIZE} bytes follow`, type);
      const start = offset + CmdSubmit.SIZE;
      return {
        ok: true,
        cmd: { type, hdr, size, padding: u32(bytes, at + CmdSubmit.padding), data: bytes.subarray(start, start + size) },
      };
    }
  }
  return fail('unknown-type', `unknown command type 0x${type.toString(16)}`, type);
}

/** Size of the fixed struct for each response type. */
const RESPONSE_STRUCT_SIZE: Readonly<Record<number, number>> = {
  [C.VIRTIO_GPU_RESP_OK_NODATA]: CtrlHdr.SIZE,
  [C.VIRTIO_GPU_RESP_OK_DISPLAY_INFO]: RespDisplayInfo.SIZE,
  [C.VIRTIO_GPU_RESP_OK_CAPSET_INFO]: RespCapsetInfo.SIZE,
  [C.VIRTIO_GPU_RESP_OK_CAPSET]: CtrlHdr.SIZE,
  [C.VIRTIO_GPU_RESP_OK_EDID]: RespEdid.SIZE,
  [C.VIRTIO_GPU_RESP_OK_RESOURCE_UUID]: RespResourceUuid.SIZE,
  [C.VIRTIO_GPU_RESP_OK_MAP_INFO]: RespMapInfo.SIZE,
  [C.VIRTIO_GPU_RESP_ERR_UNSPEC]: CtrlHdr.SIZE,
  [C.VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY]: CtrlHdr.SIZE,
  [C.VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID]: CtrlHdr.SIZE,
  [C.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID]: CtrlHdr.SIZE,
  [C.VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID]: CtrlHdr.SIZE,
  [C.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER]: CtrlHdr.SIZE,
};

/** The fixed struct size of a response type, or -1 when `type` is not a response. */
export function responseStructSize(type: number): number {
  return Object.hasOwn(RESPONSE_STRUCT_SIZE, type) ? RESPONSE_STRUCT_SIZE[type] : -1;
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
    return decodeResponseAt(bytes, offset, len);
  } catch (e) {
    return fail('inconsistent', `decoder fault: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function decodeResponseAt(bytes: Uint8Array, offset: number, len: number): DecodeResponseResult {
  if (len < CtrlHdr.SIZE) return fail('short', `${len} bytes, a response needs at least ${CtrlHdr.SIZE}`);
  const at = offset;
  const type = u32(bytes, at);
  const need = Object.hasOwn(RESPONSE_STRUCT_SIZE, type) ? RESPONSE_STRUCT_SIZE[type] : -1;
  if (need < 0) return fail('unknown-type', `unknown response type 0x${type.toString(16)}`, type);
  if (len < need) return fail('short', `${len} bytes, ${C.responseName(type)} needs ${need}`, type);
  const hdr = readHdr(bytes, at);
  let resp: Response;
  switch (type) {
    case C.VIRTIO_GPU_RESP_OK_DISPLAY_INFO: {
      const pmodes = new Array<DisplayOne>(C.VIRTIO_GPU_MAX_SCANOUTS);
      for (let i = 0; i < C.VIRTIO_GPU_MAX_SCANOUTS; i++) {
        const p = at + RespDisplayInfo.pmodes + i * 24;
        pmodes[i] = { r: readRect(bytes, p), enabled: u32(bytes, p + 16), flags: u32(bytes, p + 20) };
      }
      resp = { type, hdr, pmodes };
      break;
    }
    case C.VIRTIO_GPU_RESP_OK_CAPSET_INFO:
      resp = {
        type,
        hdr,
        capsetId: u32(bytes, at + RespCapsetInfo.capsetId),
        capsetMaxVersion: u32(bytes, at + RespCapsetInfo.capsetMaxVersion),
        capsetMaxSize: u32(bytes, at + RespCapsetInfo.capsetMaxSize),
        padding: u32(bytes, at + RespCapsetInfo.padding),
      };
      break;
    case C.VIRTIO_GPU_RESP_OK_CAPSET:
      resp = { type, hdr, data: bytes.subarray(offset + CtrlHdr.SIZE, offset + len) };
      break;
    case C.VIRTIO_GPU_RESP_OK_EDID: {
      const size = u32(bytes, at + RespEdid.size);
      if (size > EDID_MAX) return fail('inconsistent', `edid size ${size} > ${EDID_MAX}`, type);
      const start = offset + RespEdid.edid;
      resp = { type, hdr, size, padding: u32(bytes, at + RespEdid.padding), edid: bytes.subarray(start, start + size) };
      break;
    }
    case C.VIRTIO_GPU_RESP_OK_RESOURCE_UUID: {
      const start = offset + RespResourceUuid.uuid;
      resp = { type, hdr, uuid: bytes.subarray(start, start + 16) };
      break;
    }
    case C.VIRTIO_GPU_RESP_OK_MAP_INFO:
      resp = {
        type,
        hdr,
        mapInfo: u32(bytes, at + RespMapInfo.mapInfo),
        padding: u32(bytes, at + RespMapInfo.padding),
      };
      break;
    default:
      resp = { type: type as HdrOnlyResponseType, hdr };
  }
  return { ok: true, resp };
}

// ---- decoding into reused objects (the device's queue loop) ------------------------------------

function newHdr(): CtrlHdr {
  return { type: 0, flags: 0, fenceId: 0n, ctxId: 0, ringIdx: 0 };
}

function newRect(): Rect {
  return { x: 0, y: 0, width: 0, height: 0 };
}

// fillHdr and fillRect spell their le32 loads out instead of calling u32: they run for nearly
// every command, and in decodeCommandInto (too big to be inlined itself) V8's inlining budget
// ran out before their u32 calls, which then stayed real calls (4% of a command in profiles).

/** Fills `h` from the ctrl header at `at` (the caller checked 24 bytes are there). */
function fillHdr(h: CtrlHdr, b: Uint8Array, at: number): void {
  h.type = (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
  h.flags = (b[at + 4] | (b[at + 5] << 8) | (b[at + 6] << 16) | (b[at + 7] << 24)) >>> 0;
  const lo = (b[at + 8] | (b[at + 9] << 8) | (b[at + 10] << 16) | (b[at + 11] << 24)) >>> 0;
  const hi = (b[at + 12] | (b[at + 13] << 8) | (b[at + 14] << 16) | (b[at + 15] << 24)) >>> 0;
  h.fenceId = hi === 0 ? (lo === 0 ? 0n : BigInt(lo)) : (BigInt(hi) << 32n) | BigInt(lo);
  h.ctxId = (b[at + 16] | (b[at + 17] << 8) | (b[at + 18] << 16) | (b[at + 19] << 24)) >>> 0;
  h.ringIdx = b[at + CtrlHdr.ringIdx];
}

function fillRect(r: Rect, b: Uint8Array, at: number): void {
  r.x = (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
  r.y = (b[at + 4] | (b[at + 5] << 8) | (b[at + 6] << 16) | (b[at + 7] << 24)) >>> 0;
  r.width = (b[at + 8] | (b[at + 9] << 8) | (b[at + 10] << 16) | (b[at + 11] << 24)) >>> 0;
  r.height = (b[at + 12] | (b[at + 13] << 8) | (b[at + 14] << 16) | (b[at + 15] << 24)) >>> 0;
}

type ResourceOnlyCmd = CmdResourceUnref | CmdResourceDetachBacking | CmdResourceAssignUuid | CmdResourceUnmapBlob | CmdCtxResource;

/**
 * Reusable command objects for {@link decodeCommandInto}: one object per fixed-size command type,
 * all sharing the one header {@link CommandScratch.hdr}, so decoding a command allocates nothing.
 * Each object has the same properties in the same order as {@link decodeCommand}'s result for
 * that type (one hidden class per type, deep-equal results).
 *
 * Whatever {@link decodeCommandInto} returns is overwritten by the next call with the same
 * scratch: use it while handling the command, and copy what must outlive that (a rect kept as
 * state, a header kept for a later answer). One scratch per queue loop; a loop that may be
 * re-entered must not hand the same scratch to the inner call.
 */
export class CommandScratch {
  /** The header of the last command decoded into this scratch (shared by all its commands). */
  readonly hdr: CtrlHdr = newHdr();
  /** Why the last call returned null; null after a successful decode. */
  error: DecodeError | null = null;

  /**
   * The last transfer offset decoded and its halves. A bigint past 0 is a heap allocation, and a
   * guest repeating a transfer (a fixed damage rect, a cursor image) sends the same offset again.
   */
  private lastLo = 0;
  private lastHi = 0;
  private lastU64 = 0n;

  /** @internal readU64 that hands back the previous bigint when the bytes are the same. */
  u64(b: Uint8Array, at: number): bigint {
    // Spelled out, not u32(): see fillHdr.
    const lo = (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
    const hi = (b[at + 4] | (b[at + 5] << 8) | (b[at + 6] << 16) | (b[at + 7] << 24)) >>> 0;
    if (lo === this.lastLo && hi === this.lastHi) return this.lastU64;
    const v = hi === 0 ? (lo === 0 ? 0n : BigInt(lo)) : (BigInt(hi) << 32n) | BigInt(lo);
    this.lastLo = lo;
    this.lastHi = hi;
    this.lastU64 = v;
    return v;
  }

  /** @internal */ readonly getDisplayInfo: CmdGetDisplayInfo;
  /** @internal */ readonly ctxDestroy: CmdCtxDestroy;
  /** @internal */ readonly create2d: CmdResourceCreate2d;
  /** @internal */ readonly unref: CmdResourceUnref;
  /** @internal */ readonly detachBacking: CmdResourceDetachBacking;
  /** @internal */ readonly assignUuid: CmdResourceAssignUuid;
  /** @internal */ readonly unmapBlob: CmdResourceUnmapBlob;
  /** @internal */ readonly ctxAttach: CmdCtxResource;
  /** @internal */ readonly ctxDetach: CmdCtxResource;
  /** @internal */ readonly setScanout: CmdSetScanout;
  /** @internal */ readonly flush: CmdResourceFlush;
  /** @internal */ readonly transfer2d: CmdTransferToHost2d;
  /** @internal */ readonly capsetInfo: CmdGetCapsetInfo;
  /** @internal */ readonly capset: CmdGetCapset;
  /** @internal */ readonly edid: CmdGetEdid;
  /** @internal */ readonly setScanoutBlob: CmdSetScanoutBlob;
  /** @internal */ readonly create3d: CmdResourceCreate3d;
  /** @internal */ readonly toHost3d: CmdTransferHost3d;
  /** @internal */ readonly fromHost3d: CmdTransferHost3d;
  /** @internal */ readonly mapBlob: CmdResourceMapBlob;
  /** @internal */ readonly updateCursor: CmdCursor;
  /** @internal */ readonly moveCursor: CmdCursor;

  constructor() {
    const hdr = this.hdr;
    // Literals in decodeCommand's property order, so shapes (and deep equality) match.
    this.getDisplayInfo = { type: C.VIRTIO_GPU_CMD_GET_DISPLAY_INFO, hdr };
    this.ctxDestroy = { type: C.VIRTIO_GPU_CMD_CTX_DESTROY, hdr };
    this.create2d = { type: C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, hdr, resourceId: 0, format: 0, width: 0, height: 0 };
    this.unref = { type: C.VIRTIO_GPU_CMD_RESOURCE_UNREF, hdr, resourceId: 0, padding: 0 };
    this.detachBacking = { type: C.VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, hdr, resourceId: 0, padding: 0 };
    this.assignUuid = { type: C.VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID, hdr, resourceId: 0, padding: 0 };
    this.unmapBlob = { type: C.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, hdr, resourceId: 0, padding: 0 };
    this.ctxAttach = { type: C.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, hdr, resourceId: 0, padding: 0 };
    this.ctxDetach = { type: C.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, hdr, resourceId: 0, padding: 0 };
    this.setScanout = { type: C.VIRTIO_GPU_CMD_SET_SCANOUT, hdr, r: newRect(), scanoutId: 0, resourceId: 0 };
    this.flush = { type: C.VIRTIO_GPU_CMD_RESOURCE_FLUSH, hdr, r: newRect(), resourceId: 0, padding: 0 };
    this.transfer2d = { type: C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, hdr, r: newRect(), offset: 0n, resourceId: 0, padding: 0 };
    this.capsetInfo = { type: C.VIRTIO_GPU_CMD_GET_CAPSET_INFO, hdr, capsetIndex: 0, padding: 0 };
    this.capset = { type: C.VIRTIO_GPU_CMD_GET_CAPSET, hdr, capsetId: 0, capsetVersion: 0 };
    this.edid = { type: C.VIRTIO_GPU_CMD_GET_EDID, hdr, scanout: 0, padding: 0 };
    this.setScanoutBlob = {
      type: C.VIRTIO_GPU_CMD_SET_SCANOUT_BLOB,
      hdr,
      r: newRect(),
      scanoutId: 0,
      resourceId: 0,
      width: 0,
      height: 0,
      format: 0,
      padding: 0,
      strides: [0, 0, 0, 0],
      offsets: [0, 0, 0, 0],
    };
    this.create3d = {
      type: C.VIRTIO_GPU_CMD_RESOURCE_CREATE_3D,
      hdr,
      resourceId: 0,
      target: 0,
      format: 0,
      bind: 0,
      width: 0,
      height: 0,
      depth: 0,
      arraySize: 0,
      lastLevel: 0,
      nrSamples: 0,
      flags: 0,
      padding: 0,
    };
    const box3d = (): Box => ({ x: 0, y: 0, z: 0, w: 0, h: 0, d: 0 });
    this.toHost3d = { type: C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, hdr, box: box3d(), offset: 0n, resourceId: 0, level: 0, stride: 0, layerStride: 0 };
    this.fromHost3d = { type: C.VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, hdr, box: box3d(), offset: 0n, resourceId: 0, level: 0, stride: 0, layerStride: 0 };
    this.mapBlob = { type: C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, hdr, resourceId: 0, padding: 0, offset: 0n };
    const pos = (): CursorPos => ({ scanoutId: 0, x: 0, y: 0, padding: 0 });
    this.updateCursor = { type: C.VIRTIO_GPU_CMD_UPDATE_CURSOR, hdr, pos: pos(), resourceId: 0, hotX: 0, hotY: 0, padding: 0 };
    this.moveCursor = { type: C.VIRTIO_GPU_CMD_MOVE_CURSOR, hdr, pos: pos(), resourceId: 0, hotX: 0, hotY: 0, padding: 0 };
  }
}

function fillResourceOnly(c: ResourceOnlyCmd, bytes: Uint8Array, at: number): ResourceOnlyCmd {
  c.resourceId = u32(bytes, at + ResourceUnref.resourceId);
  c.padding = u32(bytes, at + ResourceUnref.padding);
  return c;
}

function fillTransfer3d(scratch: CommandScratch, c: CmdTransferHost3d, bytes: Uint8Array, at: number): CmdTransferHost3d {
  const b = at + TransferHost3d.box;
  const box = c.box;
  box.x = u32(bytes, b);
  box.y = u32(bytes, b + 4);
  box.z = u32(bytes, b + 8);
  box.w = u32(bytes, b + 12);
  box.h = u32(bytes, b + 16);
  box.d = u32(bytes, b + 20);
  c.offset = scratch.u64(bytes, at + TransferHost3d.offset);
  c.resourceId = u32(bytes, at + TransferHost3d.resourceId);
  c.level = u32(bytes, at + TransferHost3d.level);
  c.stride = u32(bytes, at + TransferHost3d.stride);
  c.layerStride = u32(bytes, at + TransferHost3d.layerStride);
  return c;
}

function fillCursor(c: CmdCursor, bytes: Uint8Array, at: number): CmdCursor {
  const p = at + UpdateCursor.pos;
  const pos = c.pos;
  pos.scanoutId = u32(bytes, p);
  pos.x = u32(bytes, p + 4);
  pos.y = u32(bytes, p + 8);
  pos.padding = u32(bytes, p + 12);
  c.resourceId = u32(bytes, at + UpdateCursor.resourceId);
  c.hotX = u32(bytes, at + UpdateCursor.hotX);
  c.hotY = u32(bytes, at + UpdateCursor.hotY);
  c.padding = u32(bytes, at + UpdateCursor.padding);
  return c;
}

/**
 * Decodes a fixed-size command at `at` (its size already checked) into `scratch`'s object for its
 * type and returns that object; null for the commands with a variable part. Shared by
 * decodeCommandInto (the queue loop's scratch) and decodeCommand (a fresh scratch per call).
 */
function fillFixed(scratch: CommandScratch, bytes: Uint8Array, at: number): Command | null {
  fillHdr(scratch.hdr, bytes, at);
  switch (scratch.hdr.type) {
    case C.VIRTIO_GPU_CMD_RESOURCE_FLUSH: {
      const c = scratch.flush;
      fillRect(c.r, bytes, at + ResourceFlush.r);
      c.resourceId = u32(bytes, at + ResourceFlush.resourceId);
      c.padding = u32(bytes, at + ResourceFlush.padding);
      return c;
    }
    case C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D: {
      const c = scratch.transfer2d;
      fillRect(c.r, bytes, at + TransferToHost2d.r);
      c.offset = scratch.u64(bytes, at + TransferToHost2d.offset);
      c.resourceId = u32(bytes, at + TransferToHost2d.resourceId);
      c.padding = u32(bytes, at + TransferToHost2d.padding);
      return c;
    }
    case C.VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
      return scratch.getDisplayInfo;
    case C.VIRTIO_GPU_CMD_CTX_DESTROY:
      return scratch.ctxDestroy;
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D: {
      const c = scratch.create2d;
      c.resourceId = u32(bytes, at + ResourceCreate2d.resourceId);
      c.format = u32(bytes, at + ResourceCreate2d.format);
      c.width = u32(bytes, at + ResourceCreate2d.width);
      c.height = u32(bytes, at + ResourceCreate2d.height);
      return c;
    }
    case C.VIRTIO_GPU_CMD_RESOURCE_UNREF:
      return fillResourceOnly(scratch.unref, bytes, at);
    case C.VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
      return fillResourceOnly(scratch.detachBacking, bytes, at);
    case C.VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID:
      return fillResourceOnly(scratch.assignUuid, bytes, at);
    case C.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB:
      return fillResourceOnly(scratch.unmapBlob, bytes, at);
    case C.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE:
      return fillResourceOnly(scratch.ctxAttach, bytes, at);
    case C.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE:
      return fillResourceOnly(scratch.ctxDetach, bytes, at);
    case C.VIRTIO_GPU_CMD_SET_SCANOUT: {
      const c = scratch.setScanout;
      fillRect(c.r, bytes, at + SetScanout.r);
      c.scanoutId = u32(bytes, at + SetScanout.scanoutId);
      c.resourceId = u32(bytes, at + SetScanout.resourceId);
      return c;
    }
    case C.VIRTIO_GPU_CMD_GET_CAPSET_INFO: {
      const c = scratch.capsetInfo;
      c.capsetIndex = u32(bytes, at + GetCapsetInfo.capsetIndex);
      c.padding = u32(bytes, at + GetCapsetInfo.padding);
      return c;
    }
    case C.VIRTIO_GPU_CMD_GET_CAPSET: {
      const c = scratch.capset;
      c.capsetId = u32(bytes, at + GetCapset.capsetId);
      c.capsetVersion = u32(bytes, at + GetCapset.capsetVersion);
      return c;
    }
    case C.VIRTIO_GPU_CMD_GET_EDID: {
      const c = scratch.edid;
      c.scanout = u32(bytes, at + GetEdid.scanout);
      c.padding = u32(bytes, at + GetEdid.padding);
      return c;
    }
    case C.VIRTIO_GPU_CMD_SET_SCANOUT_BLOB: {
      const c = scratch.setScanoutBlob;
      fillRect(c.r, bytes, at + SetScanoutBlob.r);
      c.scanoutId = u32(bytes, at + SetScanoutBlob.scanoutId);
      c.resourceId = u32(bytes, at + SetScanoutBlob.resourceId);
      c.width = u32(bytes, at + SetScanoutBlob.width);
      c.height = u32(bytes, at + SetScanoutBlob.height);
      c.format = u32(bytes, at + SetScanoutBlob.format);
      c.padding = u32(bytes, at + SetScanoutBlob.padding);
      for (let i = 0; i < 4; i++) {
        c.strides[i] = u32(bytes, at + SetScanoutBlob.strides + 4 * i);
        c.offsets[i] = u32(bytes, at + SetScanoutBlob.offsets + 4 * i);
      }
      return c;
    }
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_3D: {
      const c = scratch.create3d;
      c.resourceId = u32(bytes, at + ResourceCreate3d.resourceId);
      c.target = u32(bytes, at + ResourceCreate3d.target);
      c.format = u32(bytes, at + ResourceCreate3d.format);
      c.bind = u32(bytes, at + ResourceCreate3d.bind);
      c.width = u32(bytes, at + ResourceCreate3d.width);
      c.height = u32(bytes, at + ResourceCreate3d.height);
      c.depth = u32(bytes, at + ResourceCreate3d.depth);
      c.arraySize = u32(bytes, at + ResourceCreate3d.arraySize);
      c.lastLevel = u32(bytes, at + ResourceCreate3d.lastLevel);
      c.nrSamples = u32(bytes, at + ResourceCreate3d.nrSamples);
      c.flags = u32(bytes, at + ResourceCreate3d.flags);
      c.padding = u32(bytes, at + ResourceCreate3d.padding);
      return c;
    }
    case C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D:
      return fillTransfer3d(scratch, scratch.toHost3d, bytes, at);
    case C.VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D:
      return fillTransfer3d(scratch, scratch.fromHost3d, bytes, at);
    case C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB: {
      const c = scratch.mapBlob;
      c.resourceId = u32(bytes, at + ResourceMapBlob.resourceId);
      c.padding = u32(bytes, at + ResourceMapBlob.padding);
      c.offset = readU64(bytes, at + ResourceMapBlob.offset);
      return c;
    }
    case C.VIRTIO_GPU_CMD_UPDATE_CURSOR:
      return fillCursor(scratch.updateCursor, bytes, at);
    case C.VIRTIO_GPU_CMD_MOVE_CURSOR:
      return fillCursor(scratch.moveCursor, bytes, at);
    }
  return null;
}

/**
 * {@link decodeCommand} without allocating: decodes into `scratch` and returns one of its
 * objects, or null with `scratch.error` set (the same error decodeCommand gives). Same checks,
 * same values, never throws. Commands with a variable part (ATTACH_BACKING and CREATE_BLOB
 * entries, CTX_CREATE's name, SUBMIT_3D data) come back as fresh objects, as from decodeCommand;
 * `scratch.hdr` holds the header in every case.
 *
 * The result is valid until the next call with the same scratch (see {@link CommandScratch}).
 */
export function decodeCommandInto(bytes: Uint8Array, offset: number, length: number, scratch: CommandScratch): Command | null {
  try {
    scratch.error = null;
    const len = span(bytes, offset, length);
    const need = len >= CtrlHdr.SIZE ? commandStructSize(u32(bytes, offset)) : -1;
    if (need < 0 || len < need) return fresh(bytes, offset, length, scratch);
    // ATTACH_BACKING, CREATE_BLOB, CTX_CREATE, SUBMIT_3D have a variable part: decoded fresh.
    return fillFixed(scratch, bytes, offset) ?? fresh(bytes, offset, length, scratch);
  } catch (e) {
    scratch.error = { kind: 'inconsistent', message: `decoder fault: ${e instanceof Error ? e.message : String(e)}` };
    return null;
  }
}

/** decodeCommand's answer in decodeCommandInto's form (errors and variable-size commands). */
function fresh(bytes: Uint8Array, offset: number, length: number, scratch: CommandScratch): Command | null {
  const dec = decodeCommand(bytes, offset, length);
  if (!dec.ok) {
    scratch.error = dec.error;
    return null;
  }
  const h = dec.cmd.hdr;
  const s = scratch.hdr;
  s.type = h.type;
  s.flags = h.flags;
  s.fenceId = h.fenceId;
  s.ctxId = h.ctxId;
  s.ringIdx = h.ringIdx;
  return dec.cmd;
}
