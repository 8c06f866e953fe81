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
  type DisplayOne,
  type Rect,
} from './layouts.js';
import type { DecodeError, DecodeResponseResult, DecodeResult, HdrOnlyResponseType, Response } from './types.js';
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

/** debug_name bytes as text: ASCII directly, anything else as UTF-8 with replacement characters. */
function readName(bytes: Uint8Array, start: number, n: number): string {
  let ascii = true;
  for (let i = 0; i < n; i++) if (bytes[start + i] > 0x7f) ascii = false;
  if (ascii) {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(bytes[start + i]);
    return s;
  }
  utf8 ??= new TextDecoder('utf-8', { fatal: false });
  return utf8.decode(bytes.subarray(start, start + n));
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

/**
 * The fixed struct size of a command type (without trailing mem entries or SUBMIT_3D data), or
 * -1 when `type` is not a command. Lets a device check the readable length before decoding.
 */
export function commandStructSize(type: number): number {
  return Object.hasOwn(COMMAND_STRUCT_SIZE, type) ? COMMAND_STRUCT_SIZE[type] : -1;
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
  const need = Object.hasOwn(COMMAND_STRUCT_SIZE, type) ? COMMAND_STRUCT_SIZE[type] : -1;
  if (need < 0) return fail('unknown-type', `unknown command type 0x${type.toString(16)}`, type);
  if (len < need) return fail('short', `${len} bytes, ${C.commandName(type)} needs ${need}`, type);
  const hdr = readHdr(bytes, at);
  switch (type) {
    case C.VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
    case C.VIRTIO_GPU_CMD_CTX_DESTROY:
      return { ok: true, cmd: { type, hdr } };
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          resourceId: u32(bytes, at + ResourceCreate2d.resourceId),
          format: u32(bytes, at + ResourceCreate2d.format),
          width: u32(bytes, at + ResourceCreate2d.width),
          height: u32(bytes, at + ResourceCreate2d.height),
        },
      };
    // resource_unref, detach_backing, assign_uuid, unmap_blob and ctx_resource share one layout.
    case C.VIRTIO_GPU_CMD_RESOURCE_UNREF:
    case C.VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
    case C.VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID:
    case C.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB:
    case C.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE:
    case C.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE:
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          resourceId: u32(bytes, at + ResourceUnref.resourceId),
          padding: u32(bytes, at + ResourceUnref.padding),
        },
      };
    case C.VIRTIO_GPU_CMD_SET_SCANOUT:
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          r: readRect(bytes, at + SetScanout.r),
          scanoutId: u32(bytes, at + SetScanout.scanoutId),
          resourceId: u32(bytes, at + SetScanout.resourceId),
        },
      };
    case C.VIRTIO_GPU_CMD_RESOURCE_FLUSH:
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          r: readRect(bytes, at + ResourceFlush.r),
          resourceId: u32(bytes, at + ResourceFlush.resourceId),
          padding: u32(bytes, at + ResourceFlush.padding),
        },
      };
    case C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          r: readRect(bytes, at + TransferToHost2d.r),
          offset: readU64(bytes, at + TransferToHost2d.offset),
          resourceId: u32(bytes, at + TransferToHost2d.resourceId),
          padding: u32(bytes, at + TransferToHost2d.padding),
        },
      };
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
    case C.VIRTIO_GPU_CMD_GET_CAPSET_INFO:
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          capsetIndex: u32(bytes, at + GetCapsetInfo.capsetIndex),
          padding: u32(bytes, at + GetCapsetInfo.padding),
        },
      };
    case C.VIRTIO_GPU_CMD_GET_CAPSET:
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          capsetId: u32(bytes, at + GetCapset.capsetId),
          capsetVersion: u32(bytes, at + GetCapset.capsetVersion),
        },
      };
    case C.VIRTIO_GPU_CMD_GET_EDID:
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          scanout: u32(bytes, at + GetEdid.scanout),
          padding: u32(bytes, at + GetEdid.padding),
        },
      };
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
    case C.VIRTIO_GPU_CMD_SET_SCANOUT_BLOB: {
      const s = at + SetScanoutBlob.strides;
      const o = at + SetScanoutBlob.offsets;
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          r: readRect(bytes, at + SetScanoutBlob.r),
          scanoutId: u32(bytes, at + SetScanoutBlob.scanoutId),
          resourceId: u32(bytes, at + SetScanoutBlob.resourceId),
          width: u32(bytes, at + SetScanoutBlob.width),
          height: u32(bytes, at + SetScanoutBlob.height),
          format: u32(bytes, at + SetScanoutBlob.format),
          padding: u32(bytes, at + SetScanoutBlob.padding),
          strides: [u32(bytes, s), u32(bytes, s + 4), u32(bytes, s + 8), u32(bytes, s + 12)],
          offsets: [u32(bytes, o), u32(bytes, o + 4), u32(bytes, o + 8), u32(bytes, o + 12)],
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
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_3D:
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          resourceId: u32(bytes, at + ResourceCreate3d.resourceId),
          target: u32(bytes, at + ResourceCreate3d.target),
          format: u32(bytes, at + ResourceCreate3d.format),
          bind: u32(bytes, at + ResourceCreate3d.bind),
          width: u32(bytes, at + ResourceCreate3d.width),
          height: u32(bytes, at + ResourceCreate3d.height),
          depth: u32(bytes, at + ResourceCreate3d.depth),
          arraySize: u32(bytes, at + ResourceCreate3d.arraySize),
          lastLevel: u32(bytes, at + ResourceCreate3d.lastLevel),
          nrSamples: u32(bytes, at + ResourceCreate3d.nrSamples),
          flags: u32(bytes, at + ResourceCreate3d.flags),
          padding: u32(bytes, at + ResourceCreate3d.padding),
        },
      };
    case C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D:
    case C.VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D: {
      const b = at + TransferHost3d.box;
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          box: {
            x: u32(bytes, b),
            y: u32(bytes, b + 4),
            z: u32(bytes, b + 8),
            w: u32(bytes, b + 12),
            h: u32(bytes, b + 16),
            d: u32(bytes, b + 20),
          },
          offset: readU64(bytes, at + TransferHost3d.offset),
          resourceId: u32(bytes, at + TransferHost3d.resourceId),
          level: u32(bytes, at + TransferHost3d.level),
          stride: u32(bytes, at + TransferHost3d.stride),
          layerStride: u32(bytes, at + TransferHost3d.layerStride),
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
    case C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB:
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          resourceId: u32(bytes, at + ResourceMapBlob.resourceId),
          padding: u32(bytes, at + ResourceMapBlob.padding),
          offset: readU64(bytes, at + ResourceMapBlob.offset),
        },
      };
    case C.VIRTIO_GPU_CMD_UPDATE_CURSOR:
    case C.VIRTIO_GPU_CMD_MOVE_CURSOR: {
      const p = at + UpdateCursor.pos;
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          pos: { scanoutId: u32(bytes, p), x: u32(bytes, p + 4), y: u32(bytes, p + 8), padding: u32(bytes, p + 12) },
          resourceId: u32(bytes, at + UpdateCursor.resourceId),
          hotX: u32(bytes, at + UpdateCursor.hotX),
          hotY: u32(bytes, at + UpdateCursor.hotY),
          padding: u32(bytes, at + UpdateCursor.padding),
        },
      };
    }
  }
  // Unreachable: COMMAND_STRUCT_SIZE and the switch list the same types.
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
