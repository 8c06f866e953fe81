/**
 * Decoders for guest-written commands (device side) and device-written responses (driver side).
 *
 * The bytes come from a hostile guest: every decoder returns a typed error instead of throwing,
 * and a try/catch turns any remaining fault (a bug, a detached buffer) into an error result too.
 * Hot-path rules (STYLE.md): at most one DataView per call (cached across calls, see view.ts),
 * one bounds check per struct, no allocation per field; trailing payloads are views, not copies.
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
import { readU64, viewOf } from './view.js';

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

function readHdr(v: DataView, at: number): CtrlHdr {
  return {
    type: v.getUint32(at, true),
    flags: v.getUint32(at + CtrlHdr.flags, true),
    fenceId: readU64(v, at + CtrlHdr.fenceId),
    ctxId: v.getUint32(at + CtrlHdr.ctxId, true),
    ringIdx: v.getUint8(at + CtrlHdr.ringIdx),
  };
}

function readRect(v: DataView, at: number): Rect {
  return {
    x: v.getUint32(at, true),
    y: v.getUint32(at + 4, true),
    width: v.getUint32(at + 8, true),
    height: v.getUint32(at + 12, true),
  };
}

function readEntries(v: DataView, at: number, n: number): { addr: bigint; length: number }[] {
  const entries = new Array<{ addr: bigint; length: number }>(n);
  for (let i = 0; i < n; i++) {
    const p = at + i * MemEntry.SIZE;
    entries[i] = { addr: readU64(v, p), length: v.getUint32(p + MemEntry.length, true) };
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
  return viewOf(bytes).getUint32(bytes.byteOffset + offset, true);
}

/** The ctrl header at `offset`, or null when fewer than 24 bytes are there. Never throws. */
export function decodeHeader(bytes: Uint8Array, offset = 0, length?: number): CtrlHdr | null {
  try {
    const len = span(bytes, offset, length);
    if (len < CtrlHdr.SIZE) return null;
    return readHdr(viewOf(bytes), bytes.byteOffset + offset);
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
  const v = viewOf(bytes);
  const at = bytes.byteOffset + offset;
  const type = v.getUint32(at, true);
  const need = Object.hasOwn(COMMAND_STRUCT_SIZE, type) ? COMMAND_STRUCT_SIZE[type] : -1;
  if (need < 0) return fail('unknown-type', `unknown command type 0x${type.toString(16)}`, type);
  if (len < need) return fail('short', `${len} bytes, ${C.commandName(type)} needs ${need}`, type);
  const hdr = readHdr(v, at);
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
          resourceId: v.getUint32(at + ResourceCreate2d.resourceId, true),
          format: v.getUint32(at + ResourceCreate2d.format, true),
          width: v.getUint32(at + ResourceCreate2d.width, true),
          height: v.getUint32(at + ResourceCreate2d.height, true),
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
          resourceId: v.getUint32(at + ResourceUnref.resourceId, true),
          padding: v.getUint32(at + ResourceUnref.padding, true),
        },
      };
    case C.VIRTIO_GPU_CMD_SET_SCANOUT:
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          r: readRect(v, at + SetScanout.r),
          scanoutId: v.getUint32(at + SetScanout.scanoutId, true),
          resourceId: v.getUint32(at + SetScanout.resourceId, true),
        },
      };
    case C.VIRTIO_GPU_CMD_RESOURCE_FLUSH:
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          r: readRect(v, at + ResourceFlush.r),
          resourceId: v.getUint32(at + ResourceFlush.resourceId, true),
          padding: v.getUint32(at + ResourceFlush.padding, true),
        },
      };
    case C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          r: readRect(v, at + TransferToHost2d.r),
          offset: readU64(v, at + TransferToHost2d.offset),
          resourceId: v.getUint32(at + TransferToHost2d.resourceId, true),
          padding: v.getUint32(at + TransferToHost2d.padding, true),
        },
      };
    case C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING: {
      const nrEntries = v.getUint32(at + ResourceAttachBacking.nrEntries, true);
      // Spec §5.7.6.8: nr_entries virtio_gpu_mem_entry follow; never trust the count past the bytes.
      if (nrEntries > (len - ResourceAttachBacking.SIZE) / MemEntry.SIZE) {
        return fail('inconsistent', `nr_entries ${nrEntries} but room for ${Math.floor((len - ResourceAttachBacking.SIZE) / MemEntry.SIZE)}`, type);
      }
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          resourceId: v.getUint32(at + ResourceAttachBacking.resourceId, true),
          nrEntries,
          entries: readEntries(v, at + ResourceAttachBacking.SIZE, nrEntries),
        },
      };
    }
    case C.VIRTIO_GPU_CMD_GET_CAPSET_INFO:
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          capsetIndex: v.getUint32(at + GetCapsetInfo.capsetIndex, true),
          padding: v.getUint32(at + GetCapsetInfo.padding, true),
        },
      };
    case C.VIRTIO_GPU_CMD_GET_CAPSET:
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          capsetId: v.getUint32(at + GetCapset.capsetId, true),
          capsetVersion: v.getUint32(at + GetCapset.capsetVersion, true),
        },
      };
    case C.VIRTIO_GPU_CMD_GET_EDID:
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          scanout: v.getUint32(at + GetEdid.scanout, true),
          padding: v.getUint32(at + GetEdid.padding, true),
        },
      };
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB: {
      const nrEntries = v.getUint32(at + ResourceCreateBlob.nrEntries, true);
      if (nrEntries > (len - ResourceCreateBlob.SIZE) / MemEntry.SIZE) {
        return fail('inconsistent', `nr_entries ${nrEntries} but room for ${Math.floor((len - ResourceCreateBlob.SIZE) / MemEntry.SIZE)}`, type);
      }
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          resourceId: v.getUint32(at + ResourceCreateBlob.resourceId, true),
          blobMem: v.getUint32(at + ResourceCreateBlob.blobMem, true),
          blobFlags: v.getUint32(at + ResourceCreateBlob.blobFlags, true),
          nrEntries,
          blobId: readU64(v, at + ResourceCreateBlob.blobId),
          size: readU64(v, at + ResourceCreateBlob.size),
          entries: readEntries(v, at + ResourceCreateBlob.SIZE, nrEntries),
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
          r: readRect(v, at + SetScanoutBlob.r),
          scanoutId: v.getUint32(at + SetScanoutBlob.scanoutId, true),
          resourceId: v.getUint32(at + SetScanoutBlob.resourceId, true),
          width: v.getUint32(at + SetScanoutBlob.width, true),
          height: v.getUint32(at + SetScanoutBlob.height, true),
          format: v.getUint32(at + SetScanoutBlob.format, true),
          padding: v.getUint32(at + SetScanoutBlob.padding, true),
          strides: [v.getUint32(s, true), v.getUint32(s + 4, true), v.getUint32(s + 8, true), v.getUint32(s + 12, true)],
          offsets: [v.getUint32(o, true), v.getUint32(o + 4, true), v.getUint32(o + 8, true), v.getUint32(o + 12, true)],
        },
      };
    }
    case C.VIRTIO_GPU_CMD_CTX_CREATE: {
      const nlen = v.getUint32(at + CtxCreate.nlen, true);
      if (nlen > CTX_DEBUG_NAME_MAX) return fail('inconsistent', `nlen ${nlen} > ${CTX_DEBUG_NAME_MAX}`, type);
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          nlen,
          contextInit: v.getUint32(at + CtxCreate.contextInit, true),
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
          resourceId: v.getUint32(at + ResourceCreate3d.resourceId, true),
          target: v.getUint32(at + ResourceCreate3d.target, true),
          format: v.getUint32(at + ResourceCreate3d.format, true),
          bind: v.getUint32(at + ResourceCreate3d.bind, true),
          width: v.getUint32(at + ResourceCreate3d.width, true),
          height: v.getUint32(at + ResourceCreate3d.height, true),
          depth: v.getUint32(at + ResourceCreate3d.depth, true),
          arraySize: v.getUint32(at + ResourceCreate3d.arraySize, true),
          lastLevel: v.getUint32(at + ResourceCreate3d.lastLevel, true),
          nrSamples: v.getUint32(at + ResourceCreate3d.nrSamples, true),
          flags: v.getUint32(at + ResourceCreate3d.flags, true),
          padding: v.getUint32(at + ResourceCreate3d.padding, true),
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
            x: v.getUint32(b, true),
            y: v.getUint32(b + 4, true),
            z: v.getUint32(b + 8, true),
            w: v.getUint32(b + 12, true),
            h: v.getUint32(b + 16, true),
            d: v.getUint32(b + 20, true),
          },
          offset: readU64(v, at + TransferHost3d.offset),
          resourceId: v.getUint32(at + TransferHost3d.resourceId, true),
          level: v.getUint32(at + TransferHost3d.level, true),
          stride: v.getUint32(at + TransferHost3d.stride, true),
          layerStride: v.getUint32(at + TransferHost3d.layerStride, true),
        },
      };
    }
    case C.VIRTIO_GPU_CMD_SUBMIT_3D: {
      const size = v.getUint32(at + CmdSubmit.size, true);
      if (size > len - CmdSubmit.SIZE) return fail('inconsistent', `submit size ${size} but ${len - CmdSubmit.SIZE} bytes follow`, type);
      const start = offset + CmdSubmit.SIZE;
      return {
        ok: true,
        cmd: { type, hdr, size, padding: v.getUint32(at + CmdSubmit.padding, true), data: bytes.subarray(start, start + size) },
      };
    }
    case C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB:
      return {
        ok: true,
        cmd: {
          type,
          hdr,
          resourceId: v.getUint32(at + ResourceMapBlob.resourceId, true),
          padding: v.getUint32(at + ResourceMapBlob.padding, true),
          offset: readU64(v, at + ResourceMapBlob.offset),
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
          pos: { scanoutId: v.getUint32(p, true), x: v.getUint32(p + 4, true), y: v.getUint32(p + 8, true), padding: v.getUint32(p + 12, true) },
          resourceId: v.getUint32(at + UpdateCursor.resourceId, true),
          hotX: v.getUint32(at + UpdateCursor.hotX, true),
          hotY: v.getUint32(at + UpdateCursor.hotY, true),
          padding: v.getUint32(at + UpdateCursor.padding, true),
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
  const v = viewOf(bytes);
  const at = bytes.byteOffset + offset;
  const type = v.getUint32(at, true);
  const need = Object.hasOwn(RESPONSE_STRUCT_SIZE, type) ? RESPONSE_STRUCT_SIZE[type] : -1;
  if (need < 0) return fail('unknown-type', `unknown response type 0x${type.toString(16)}`, type);
  if (len < need) return fail('short', `${len} bytes, ${C.responseName(type)} needs ${need}`, type);
  const hdr = readHdr(v, at);
  let resp: Response;
  switch (type) {
    case C.VIRTIO_GPU_RESP_OK_DISPLAY_INFO: {
      const pmodes = new Array<DisplayOne>(C.VIRTIO_GPU_MAX_SCANOUTS);
      for (let i = 0; i < C.VIRTIO_GPU_MAX_SCANOUTS; i++) {
        const p = at + RespDisplayInfo.pmodes + i * 24;
        pmodes[i] = { r: readRect(v, p), enabled: v.getUint32(p + 16, true), flags: v.getUint32(p + 20, true) };
      }
      resp = { type, hdr, pmodes };
      break;
    }
    case C.VIRTIO_GPU_RESP_OK_CAPSET_INFO:
      resp = {
        type,
        hdr,
        capsetId: v.getUint32(at + RespCapsetInfo.capsetId, true),
        capsetMaxVersion: v.getUint32(at + RespCapsetInfo.capsetMaxVersion, true),
        capsetMaxSize: v.getUint32(at + RespCapsetInfo.capsetMaxSize, true),
        padding: v.getUint32(at + RespCapsetInfo.padding, true),
      };
      break;
    case C.VIRTIO_GPU_RESP_OK_CAPSET:
      resp = { type, hdr, data: bytes.subarray(offset + CtrlHdr.SIZE, offset + len) };
      break;
    case C.VIRTIO_GPU_RESP_OK_EDID: {
      const size = v.getUint32(at + RespEdid.size, true);
      if (size > EDID_MAX) return fail('inconsistent', `edid size ${size} > ${EDID_MAX}`, type);
      const start = offset + RespEdid.edid;
      resp = { type, hdr, size, padding: v.getUint32(at + RespEdid.padding, true), edid: bytes.subarray(start, start + size) };
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
        mapInfo: v.getUint32(at + RespMapInfo.mapInfo, true),
        padding: v.getUint32(at + RespMapInfo.padding, true),
      };
      break;
    default:
      resp = { type: type as HdrOnlyResponseType, hdr };
  }
  return { ok: true, resp };
}
