/**
 * Encoders: the mirror of decode.ts. Each writes one command or response into the caller's
 * buffer at an offset and returns the bytes written.
 *
 * Encoding input comes from host or driver code, not from the guest, so misuse is a bug and
 * throws: RangeError when `out` is too small, an offset is invalid, a 64-bit value is outside
 * 0..2^64-1, or an array is too long for its C field (pmodes > 16, edid > 1024, uuid != 16,
 * debug name > 64 bytes, strides/offsets != 4). 32-bit fields are written modulo 2^32.
 *
 * Header fields are written as given, even when they disagree with the payload (nr_entries vs
 * entries.length, SUBMIT_3D size vs data.length, nlen vs the name): tests and fuzzers need to
 * build such commands. `type` comes from `cmd.type`; `hdr.type` is ignored. Every byte of the
 * encoded span is written (padding as the optional `padding` value or 0).
 */
import * as C from './constants.js';
import { CTX_DEBUG_NAME_MAX, EDID_MAX } from './decode.js';
import {
  CmdSubmit,
  CtrlHdr,
  CtxCreate,
  GetCapset,
  GetCapsetInfo,
  GetEdid,
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
  type CtrlHdr as Hdr,
  type MemEntry as Entry,
  type Rect as RectT,
} from './layouts.js';
import type { Command, Response } from './types.js';
import { viewOf, writeU64 } from './view.js';

let utf8: TextEncoder | undefined;
function nameBytes(name: string): Uint8Array {
  utf8 ??= new TextEncoder();
  const b = utf8.encode(name);
  if (b.length > CTX_DEBUG_NAME_MAX) throw new RangeError(`debug name is ${b.length} bytes, at most ${CTX_DEBUG_NAME_MAX}`);
  return b;
}

/** Bytes encodeCommand writes for `cmd`: the struct plus mem entries or SUBMIT_3D data. */
export function commandSize(cmd: Command): number {
  switch (cmd.type) {
    case C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
      return ResourceAttachBacking.SIZE + cmd.entries.length * MemEntry.SIZE;
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB:
      return ResourceCreateBlob.SIZE + cmd.entries.length * MemEntry.SIZE;
    case C.VIRTIO_GPU_CMD_SUBMIT_3D:
      return CmdSubmit.SIZE + cmd.data.length;
    case C.VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
    case C.VIRTIO_GPU_CMD_CTX_DESTROY:
      return CtrlHdr.SIZE;
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
      return ResourceCreate2d.SIZE;
    case C.VIRTIO_GPU_CMD_SET_SCANOUT:
      return SetScanout.SIZE;
    case C.VIRTIO_GPU_CMD_RESOURCE_FLUSH:
      return ResourceFlush.SIZE;
    case C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
      return TransferToHost2d.SIZE;
    case C.VIRTIO_GPU_CMD_SET_SCANOUT_BLOB:
      return SetScanoutBlob.SIZE;
    case C.VIRTIO_GPU_CMD_CTX_CREATE:
      return CtxCreate.SIZE;
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_3D:
      return ResourceCreate3d.SIZE;
    case C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D:
    case C.VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D:
      return TransferHost3d.SIZE;
    case C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB:
      return ResourceMapBlob.SIZE;
    case C.VIRTIO_GPU_CMD_UPDATE_CURSOR:
    case C.VIRTIO_GPU_CMD_MOVE_CURSOR:
      return UpdateCursor.SIZE;
    case C.VIRTIO_GPU_CMD_GET_CAPSET_INFO:
    case C.VIRTIO_GPU_CMD_GET_CAPSET:
    case C.VIRTIO_GPU_CMD_GET_EDID:
    case C.VIRTIO_GPU_CMD_RESOURCE_UNREF:
    case C.VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
    case C.VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID:
    case C.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB:
    case C.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE:
    case C.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE:
      return 32;
  }
  throw new RangeError(`not a command type: ${String((cmd as { type: unknown }).type)}`);
}

/** Bytes encodeResponse writes for `resp`. */
export function responseSize(resp: Response): number {
  switch (resp.type) {
    case C.VIRTIO_GPU_RESP_OK_DISPLAY_INFO:
      return RespDisplayInfo.SIZE;
    case C.VIRTIO_GPU_RESP_OK_CAPSET_INFO:
      return RespCapsetInfo.SIZE;
    case C.VIRTIO_GPU_RESP_OK_CAPSET:
      return CtrlHdr.SIZE + resp.data.length;
    case C.VIRTIO_GPU_RESP_OK_EDID:
      return RespEdid.SIZE;
    case C.VIRTIO_GPU_RESP_OK_RESOURCE_UUID:
      return RespResourceUuid.SIZE;
    case C.VIRTIO_GPU_RESP_OK_MAP_INFO:
      return RespMapInfo.SIZE;
    case C.VIRTIO_GPU_RESP_OK_NODATA:
    case C.VIRTIO_GPU_RESP_ERR_UNSPEC:
    case C.VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY:
    case C.VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID:
    case C.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID:
    case C.VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID:
    case C.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER:
      return CtrlHdr.SIZE;
  }
  throw new RangeError(`not a response type: ${String((resp as { type: unknown }).type)}`);
}

function room(out: Uint8Array, offset: number, size: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset > out.length || out.length - offset < size) {
    throw new RangeError(`need ${size} bytes at offset ${offset}, buffer has ${out.length}`);
  }
}

function writeHdr(v: DataView, at: number, type: number, hdr: Hdr): void {
  v.setUint32(at, type, true);
  v.setUint32(at + CtrlHdr.flags, hdr.flags, true);
  writeU64(v, at + CtrlHdr.fenceId, hdr.fenceId);
  v.setUint32(at + CtrlHdr.ctxId, hdr.ctxId, true);
  v.setUint8(at + CtrlHdr.ringIdx, hdr.ringIdx);
  // padding[3]: zero (the span was cleared before).
}

function writeRect(v: DataView, at: number, r: RectT): void {
  v.setUint32(at, r.x, true);
  v.setUint32(at + 4, r.y, true);
  v.setUint32(at + 8, r.width, true);
  v.setUint32(at + 12, r.height, true);
}

function writeEntries(v: DataView, at: number, entries: Entry[]): void {
  for (let i = 0; i < entries.length; i++) {
    const p = at + i * MemEntry.SIZE;
    writeU64(v, p, entries[i].addr);
    v.setUint32(p + MemEntry.length, entries[i].length, true);
  }
}

function writeU32s(v: DataView, at: number, values: number[], what: string): void {
  if (values.length !== 4) throw new RangeError(`${what} needs 4 values, got ${values.length}`);
  for (let i = 0; i < 4; i++) v.setUint32(at + i * 4, values[i], true);
}

/**
 * Encodes `cmd` into `out` at `offset`; returns the bytes written (commandSize(cmd)).
 * Throws RangeError when `out` is too small or a value does not fit (see the module comment).
 */
export function encodeCommand(cmd: Command, out: Uint8Array, offset = 0): number {
  const size = commandSize(cmd);
  room(out, offset, size);
  const v = viewOf(out);
  const at = out.byteOffset + offset;
  out.fill(0, offset, offset + size);
  writeHdr(v, at, cmd.type, cmd.hdr);
  switch (cmd.type) {
    case C.VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
    case C.VIRTIO_GPU_CMD_CTX_DESTROY:
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
      v.setUint32(at + ResourceCreate2d.resourceId, cmd.resourceId, true);
      v.setUint32(at + ResourceCreate2d.format, cmd.format, true);
      v.setUint32(at + ResourceCreate2d.width, cmd.width, true);
      v.setUint32(at + ResourceCreate2d.height, cmd.height, true);
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_UNREF:
    case C.VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
    case C.VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID:
    case C.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB:
    case C.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE:
    case C.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE:
      v.setUint32(at + ResourceUnref.resourceId, cmd.resourceId, true);
      v.setUint32(at + ResourceUnref.padding, cmd.padding ?? 0, true);
      break;
    case C.VIRTIO_GPU_CMD_SET_SCANOUT:
      writeRect(v, at + SetScanout.r, cmd.r);
      v.setUint32(at + SetScanout.scanoutId, cmd.scanoutId, true);
      v.setUint32(at + SetScanout.resourceId, cmd.resourceId, true);
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_FLUSH:
      writeRect(v, at + ResourceFlush.r, cmd.r);
      v.setUint32(at + ResourceFlush.resourceId, cmd.resourceId, true);
      v.setUint32(at + ResourceFlush.padding, cmd.padding ?? 0, true);
      break;
    case C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
      writeRect(v, at + TransferToHost2d.r, cmd.r);
      writeU64(v, at + TransferToHost2d.offset, cmd.offset);
      v.setUint32(at + TransferToHost2d.resourceId, cmd.resourceId, true);
      v.setUint32(at + TransferToHost2d.padding, cmd.padding ?? 0, true);
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
      v.setUint32(at + ResourceAttachBacking.resourceId, cmd.resourceId, true);
      v.setUint32(at + ResourceAttachBacking.nrEntries, cmd.nrEntries, true);
      writeEntries(v, at + ResourceAttachBacking.SIZE, cmd.entries);
      break;
    case C.VIRTIO_GPU_CMD_GET_CAPSET_INFO:
      v.setUint32(at + GetCapsetInfo.capsetIndex, cmd.capsetIndex, true);
      v.setUint32(at + GetCapsetInfo.padding, cmd.padding ?? 0, true);
      break;
    case C.VIRTIO_GPU_CMD_GET_CAPSET:
      v.setUint32(at + GetCapset.capsetId, cmd.capsetId, true);
      v.setUint32(at + GetCapset.capsetVersion, cmd.capsetVersion, true);
      break;
    case C.VIRTIO_GPU_CMD_GET_EDID:
      v.setUint32(at + GetEdid.scanout, cmd.scanout, true);
      v.setUint32(at + GetEdid.padding, cmd.padding ?? 0, true);
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB:
      v.setUint32(at + ResourceCreateBlob.resourceId, cmd.resourceId, true);
      v.setUint32(at + ResourceCreateBlob.blobMem, cmd.blobMem, true);
      v.setUint32(at + ResourceCreateBlob.blobFlags, cmd.blobFlags, true);
      v.setUint32(at + ResourceCreateBlob.nrEntries, cmd.nrEntries, true);
      writeU64(v, at + ResourceCreateBlob.blobId, cmd.blobId);
      writeU64(v, at + ResourceCreateBlob.size, cmd.size);
      writeEntries(v, at + ResourceCreateBlob.SIZE, cmd.entries);
      break;
    case C.VIRTIO_GPU_CMD_SET_SCANOUT_BLOB:
      writeRect(v, at + SetScanoutBlob.r, cmd.r);
      v.setUint32(at + SetScanoutBlob.scanoutId, cmd.scanoutId, true);
      v.setUint32(at + SetScanoutBlob.resourceId, cmd.resourceId, true);
      v.setUint32(at + SetScanoutBlob.width, cmd.width, true);
      v.setUint32(at + SetScanoutBlob.height, cmd.height, true);
      v.setUint32(at + SetScanoutBlob.format, cmd.format, true);
      v.setUint32(at + SetScanoutBlob.padding, cmd.padding ?? 0, true);
      writeU32s(v, at + SetScanoutBlob.strides, cmd.strides, 'strides');
      writeU32s(v, at + SetScanoutBlob.offsets, cmd.offsets, 'offsets');
      break;
    case C.VIRTIO_GPU_CMD_CTX_CREATE:
      v.setUint32(at + CtxCreate.nlen, cmd.nlen, true);
      v.setUint32(at + CtxCreate.contextInit, cmd.contextInit, true);
      out.set(nameBytes(cmd.debugName), offset + CtxCreate.debugName);
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_3D:
      v.setUint32(at + ResourceCreate3d.resourceId, cmd.resourceId, true);
      v.setUint32(at + ResourceCreate3d.target, cmd.target, true);
      v.setUint32(at + ResourceCreate3d.format, cmd.format, true);
      v.setUint32(at + ResourceCreate3d.bind, cmd.bind, true);
      v.setUint32(at + ResourceCreate3d.width, cmd.width, true);
      v.setUint32(at + ResourceCreate3d.height, cmd.height, true);
      v.setUint32(at + ResourceCreate3d.depth, cmd.depth, true);
      v.setUint32(at + ResourceCreate3d.arraySize, cmd.arraySize, true);
      v.setUint32(at + ResourceCreate3d.lastLevel, cmd.lastLevel, true);
      v.setUint32(at + ResourceCreate3d.nrSamples, cmd.nrSamples, true);
      v.setUint32(at + ResourceCreate3d.flags, cmd.flags, true);
      v.setUint32(at + ResourceCreate3d.padding, cmd.padding ?? 0, true);
      break;
    case C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D:
    case C.VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D: {
      const b = at + TransferHost3d.box;
      v.setUint32(b, cmd.box.x, true);
      v.setUint32(b + 4, cmd.box.y, true);
      v.setUint32(b + 8, cmd.box.z, true);
      v.setUint32(b + 12, cmd.box.w, true);
      v.setUint32(b + 16, cmd.box.h, true);
      v.setUint32(b + 20, cmd.box.d, true);
      writeU64(v, at + TransferHost3d.offset, cmd.offset);
      v.setUint32(at + TransferHost3d.resourceId, cmd.resourceId, true);
      v.setUint32(at + TransferHost3d.level, cmd.level, true);
      v.setUint32(at + TransferHost3d.stride, cmd.stride, true);
      v.setUint32(at + TransferHost3d.layerStride, cmd.layerStride, true);
      break;
    }
    case C.VIRTIO_GPU_CMD_SUBMIT_3D:
      v.setUint32(at + CmdSubmit.size, cmd.size, true);
      v.setUint32(at + CmdSubmit.padding, cmd.padding ?? 0, true);
      out.set(cmd.data, offset + CmdSubmit.SIZE);
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB:
      v.setUint32(at + ResourceMapBlob.resourceId, cmd.resourceId, true);
      v.setUint32(at + ResourceMapBlob.padding, cmd.padding ?? 0, true);
      writeU64(v, at + ResourceMapBlob.offset, cmd.offset);
      break;
    case C.VIRTIO_GPU_CMD_UPDATE_CURSOR:
    case C.VIRTIO_GPU_CMD_MOVE_CURSOR: {
      const p = at + UpdateCursor.pos;
      v.setUint32(p, cmd.pos.scanoutId, true);
      v.setUint32(p + 4, cmd.pos.x, true);
      v.setUint32(p + 8, cmd.pos.y, true);
      v.setUint32(p + 12, cmd.pos.padding ?? 0, true);
      v.setUint32(at + UpdateCursor.resourceId, cmd.resourceId, true);
      v.setUint32(at + UpdateCursor.hotX, cmd.hotX, true);
      v.setUint32(at + UpdateCursor.hotY, cmd.hotY, true);
      v.setUint32(at + UpdateCursor.padding, cmd.padding ?? 0, true);
      break;
    }
  }
  return size;
}

/**
 * Encodes `resp` into `out` at `offset`; returns the bytes written (responseSize(resp)).
 * Throws RangeError when `out` is too small or a value does not fit (see the module comment).
 * The device answers with the largest response that fits (STYLE.md): check responseSize first.
 */
export function encodeResponse(resp: Response, out: Uint8Array, offset = 0): number {
  const size = responseSize(resp);
  room(out, offset, size);
  const v = viewOf(out);
  const at = out.byteOffset + offset;
  out.fill(0, offset, offset + size);
  writeHdr(v, at, resp.type, resp.hdr);
  switch (resp.type) {
    case C.VIRTIO_GPU_RESP_OK_DISPLAY_INFO: {
      const n = resp.pmodes.length;
      if (n > C.VIRTIO_GPU_MAX_SCANOUTS) throw new RangeError(`${n} pmodes, at most ${C.VIRTIO_GPU_MAX_SCANOUTS}`);
      for (let i = 0; i < n; i++) {
        const p = at + RespDisplayInfo.pmodes + i * 24;
        const m = resp.pmodes[i];
        writeRect(v, p, m.r);
        v.setUint32(p + 16, m.enabled, true);
        v.setUint32(p + 20, m.flags, true);
      }
      break;
    }
    case C.VIRTIO_GPU_RESP_OK_CAPSET_INFO:
      v.setUint32(at + RespCapsetInfo.capsetId, resp.capsetId, true);
      v.setUint32(at + RespCapsetInfo.capsetMaxVersion, resp.capsetMaxVersion, true);
      v.setUint32(at + RespCapsetInfo.capsetMaxSize, resp.capsetMaxSize, true);
      v.setUint32(at + RespCapsetInfo.padding, resp.padding ?? 0, true);
      break;
    case C.VIRTIO_GPU_RESP_OK_CAPSET:
      out.set(resp.data, offset + CtrlHdr.SIZE);
      break;
    case C.VIRTIO_GPU_RESP_OK_EDID:
      if (resp.edid.length > EDID_MAX) throw new RangeError(`edid is ${resp.edid.length} bytes, at most ${EDID_MAX}`);
      v.setUint32(at + RespEdid.size, resp.size, true);
      v.setUint32(at + RespEdid.padding, resp.padding ?? 0, true);
      out.set(resp.edid, offset + RespEdid.edid);
      break;
    case C.VIRTIO_GPU_RESP_OK_RESOURCE_UUID:
      if (resp.uuid.length !== 16) throw new RangeError(`uuid is ${resp.uuid.length} bytes, needs 16`);
      out.set(resp.uuid, offset + RespResourceUuid.uuid);
      break;
    case C.VIRTIO_GPU_RESP_OK_MAP_INFO:
      v.setUint32(at + RespMapInfo.mapInfo, resp.mapInfo, true);
      v.setUint32(at + RespMapInfo.padding, resp.padding ?? 0, true);
      break;
    default:
      break;
  }
  return size;
}
