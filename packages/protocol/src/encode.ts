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
 * encoded span is written (padding as the optional `padding` value or 0), so a reused buffer
 * never leaks old bytes.
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
import { w32, writeU64 } from './view.js';

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

function writeHdr(out: Uint8Array, at: number, type: number, hdr: Hdr): void {
  w32(out, at, type);
  w32(out, at + CtrlHdr.flags, hdr.flags);
  writeU64(out, at + CtrlHdr.fenceId, hdr.fenceId);
  w32(out, at + CtrlHdr.ctxId, hdr.ctxId);
  out[at + CtrlHdr.ringIdx] = hdr.ringIdx;
  out[at + CtrlHdr.padding] = 0;
  out[at + CtrlHdr.padding + 1] = 0;
  out[at + CtrlHdr.padding + 2] = 0;
}

function writeRect(out: Uint8Array, at: number, r: RectT): void {
  w32(out, at, r.x);
  w32(out, at + 4, r.y);
  w32(out, at + 8, r.width);
  w32(out, at + 12, r.height);
}

function writeEntries(out: Uint8Array, at: number, entries: Entry[]): void {
  for (let i = 0; i < entries.length; i++) {
    const p = at + i * MemEntry.SIZE;
    writeU64(out, p, entries[i].addr);
    w32(out, p + MemEntry.length, entries[i].length);
    w32(out, p + MemEntry.padding, 0);
  }
}

function writeU32s(out: Uint8Array, at: number, values: number[], what: string): void {
  if (values.length !== 4) throw new RangeError(`${what} needs 4 values, got ${values.length}`);
  for (let i = 0; i < 4; i++) w32(out, at + i * 4, values[i]);
}

/**
 * Encodes `cmd` into `out` at `offset`; returns the bytes written (commandSize(cmd)).
 * Throws RangeError when `out` is too small or a value does not fit (see the module comment).
 */
export function encodeCommand(cmd: Command, out: Uint8Array, offset = 0): number {
  const size = commandSize(cmd);
  room(out, offset, size);
  const at = offset;
  writeHdr(out, at, cmd.type, cmd.hdr);
  switch (cmd.type) {
    case C.VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
    case C.VIRTIO_GPU_CMD_CTX_DESTROY:
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
      w32(out, at + ResourceCreate2d.resourceId, cmd.resourceId);
      w32(out, at + ResourceCreate2d.format, cmd.format);
      w32(out, at + ResourceCreate2d.width, cmd.width);
      w32(out, at + ResourceCreate2d.height, cmd.height);
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_UNREF:
    case C.VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
    case C.VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID:
    case C.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB:
    case C.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE:
    case C.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE:
      w32(out, at + ResourceUnref.resourceId, cmd.resourceId);
      w32(out, at + ResourceUnref.padding, cmd.padding ?? 0);
      break;
    case C.VIRTIO_GPU_CMD_SET_SCANOUT:
      writeRect(out, at + SetScanout.r, cmd.r);
      w32(out, at + SetScanout.scanoutId, cmd.scanoutId);
      w32(out, at + SetScanout.resourceId, cmd.resourceId);
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_FLUSH:
      writeRect(out, at + ResourceFlush.r, cmd.r);
      w32(out, at + ResourceFlush.resourceId, cmd.resourceId);
      w32(out, at + ResourceFlush.padding, cmd.padding ?? 0);
      break;
    case C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
      writeRect(out, at + TransferToHost2d.r, cmd.r);
      writeU64(out, at + TransferToHost2d.offset, cmd.offset);
      w32(out, at + TransferToHost2d.resourceId, cmd.resourceId);
      w32(out, at + TransferToHost2d.padding, cmd.padding ?? 0);
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
      w32(out, at + ResourceAttachBacking.resourceId, cmd.resourceId);
      w32(out, at + ResourceAttachBacking.nrEntries, cmd.nrEntries);
      writeEntries(out, at + ResourceAttachBacking.SIZE, cmd.entries);
      break;
    case C.VIRTIO_GPU_CMD_GET_CAPSET_INFO:
      w32(out, at + GetCapsetInfo.capsetIndex, cmd.capsetIndex);
      w32(out, at + GetCapsetInfo.padding, cmd.padding ?? 0);
      break;
    case C.VIRTIO_GPU_CMD_GET_CAPSET:
      w32(out, at + GetCapset.capsetId, cmd.capsetId);
      w32(out, at + GetCapset.capsetVersion, cmd.capsetVersion);
      break;
    case C.VIRTIO_GPU_CMD_GET_EDID:
      w32(out, at + GetEdid.scanout, cmd.scanout);
      w32(out, at + GetEdid.padding, cmd.padding ?? 0);
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB:
      w32(out, at + ResourceCreateBlob.resourceId, cmd.resourceId);
      w32(out, at + ResourceCreateBlob.blobMem, cmd.blobMem);
      w32(out, at + ResourceCreateBlob.blobFlags, cmd.blobFlags);
      w32(out, at + ResourceCreateBlob.nrEntries, cmd.nrEntries);
      writeU64(out, at + ResourceCreateBlob.blobId, cmd.blobId);
      writeU64(out, at + ResourceCreateBlob.size, cmd.size);
      writeEntries(out, at + ResourceCreateBlob.SIZE, cmd.entries);
      break;
    case C.VIRTIO_GPU_CMD_SET_SCANOUT_BLOB:
      writeRect(out, at + SetScanoutBlob.r, cmd.r);
      w32(out, at + SetScanoutBlob.scanoutId, cmd.scanoutId);
      w32(out, at + SetScanoutBlob.resourceId, cmd.resourceId);
      w32(out, at + SetScanoutBlob.width, cmd.width);
      w32(out, at + SetScanoutBlob.height, cmd.height);
      w32(out, at + SetScanoutBlob.format, cmd.format);
      w32(out, at + SetScanoutBlob.padding, cmd.padding ?? 0);
      writeU32s(out, at + SetScanoutBlob.strides, cmd.strides, 'strides');
      writeU32s(out, at + SetScanoutBlob.offsets, cmd.offsets, 'offsets');
      break;
    case C.VIRTIO_GPU_CMD_CTX_CREATE:
      w32(out, at + CtxCreate.nlen, cmd.nlen);
      w32(out, at + CtxCreate.contextInit, cmd.contextInit);
      {
        const name = nameBytes(cmd.debugName);
        out.set(name, at + CtxCreate.debugName);
        out.fill(0, at + CtxCreate.debugName + name.length, at + CtxCreate.SIZE);
      }
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_3D:
      w32(out, at + ResourceCreate3d.resourceId, cmd.resourceId);
      w32(out, at + ResourceCreate3d.target, cmd.target);
      w32(out, at + ResourceCreate3d.format, cmd.format);
      w32(out, at + ResourceCreate3d.bind, cmd.bind);
      w32(out, at + ResourceCreate3d.width, cmd.width);
      w32(out, at + ResourceCreate3d.height, cmd.height);
      w32(out, at + ResourceCreate3d.depth, cmd.depth);
      w32(out, at + ResourceCreate3d.arraySize, cmd.arraySize);
      w32(out, at + ResourceCreate3d.lastLevel, cmd.lastLevel);
      w32(out, at + ResourceCreate3d.nrSamples, cmd.nrSamples);
      w32(out, at + ResourceCreate3d.flags, cmd.flags);
      w32(out, at + ResourceCreate3d.padding, cmd.padding ?? 0);
      break;
    case C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D:
    case C.VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D: {
      const b = at + TransferHost3d.box;
      w32(out, b, cmd.box.x);
      w32(out, b + 4, cmd.box.y);
      w32(out, b + 8, cmd.box.z);
      w32(out, b + 12, cmd.box.w);
      w32(out, b + 16, cmd.box.h);
      w32(out, b + 20, cmd.box.d);
      writeU64(out, at + TransferHost3d.offset, cmd.offset);
      w32(out, at + TransferHost3d.resourceId, cmd.resourceId);
      w32(out, at + TransferHost3d.level, cmd.level);
      w32(out, at + TransferHost3d.stride, cmd.stride);
      w32(out, at + TransferHost3d.layerStride, cmd.layerStride);
      break;
    }
    case C.VIRTIO_GPU_CMD_SUBMIT_3D:
      w32(out, at + CmdSubmit.size, cmd.size);
      w32(out, at + CmdSubmit.padding, cmd.padding ?? 0);
      out.set(cmd.data, offset + CmdSubmit.SIZE);
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB:
      w32(out, at + ResourceMapBlob.resourceId, cmd.resourceId);
      w32(out, at + ResourceMapBlob.padding, cmd.padding ?? 0);
      writeU64(out, at + ResourceMapBlob.offset, cmd.offset);
      break;
    case C.VIRTIO_GPU_CMD_UPDATE_CURSOR:
    case C.VIRTIO_GPU_CMD_MOVE_CURSOR: {
      const p = at + UpdateCursor.pos;
      w32(out, p, cmd.pos.scanoutId);
      w32(out, p + 4, cmd.pos.x);
      w32(out, p + 8, cmd.pos.y);
      w32(out, p + 12, cmd.pos.padding ?? 0);
      w32(out, at + UpdateCursor.resourceId, cmd.resourceId);
      w32(out, at + UpdateCursor.hotX, cmd.hotX);
      w32(out, at + UpdateCursor.hotY, cmd.hotY);
      w32(out, at + UpdateCursor.padding, cmd.padding ?? 0);
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
  const at = offset;
  writeHdr(out, at, resp.type, resp.hdr);
  switch (resp.type) {
    case C.VIRTIO_GPU_RESP_OK_DISPLAY_INFO: {
      const n = resp.pmodes.length;
      if (n > C.VIRTIO_GPU_MAX_SCANOUTS) throw new RangeError(`${n} pmodes, at most ${C.VIRTIO_GPU_MAX_SCANOUTS}`);
      out.fill(0, at + RespDisplayInfo.pmodes + n * 24, at + RespDisplayInfo.SIZE);
      for (let i = 0; i < n; i++) {
        const p = at + RespDisplayInfo.pmodes + i * 24;
        const m = resp.pmodes[i];
        writeRect(out, p, m.r);
        w32(out, p + 16, m.enabled);
        w32(out, p + 20, m.flags);
      }
      break;
    }
    case C.VIRTIO_GPU_RESP_OK_CAPSET_INFO:
      w32(out, at + RespCapsetInfo.capsetId, resp.capsetId);
      w32(out, at + RespCapsetInfo.capsetMaxVersion, resp.capsetMaxVersion);
      w32(out, at + RespCapsetInfo.capsetMaxSize, resp.capsetMaxSize);
      w32(out, at + RespCapsetInfo.padding, resp.padding ?? 0);
      break;
    case C.VIRTIO_GPU_RESP_OK_CAPSET:
      out.set(resp.data, offset + CtrlHdr.SIZE);
      break;
    case C.VIRTIO_GPU_RESP_OK_EDID:
      if (resp.edid.length > EDID_MAX) throw new RangeError(`edid is ${resp.edid.length} bytes, at most ${EDID_MAX}`);
      w32(out, at + RespEdid.size, resp.size);
      w32(out, at + RespEdid.padding, resp.padding ?? 0);
      out.set(resp.edid, at + RespEdid.edid);
      out.fill(0, at + RespEdid.edid + resp.edid.length, at + RespEdid.SIZE);
      break;
    case C.VIRTIO_GPU_RESP_OK_RESOURCE_UUID:
      if (resp.uuid.length !== 16) throw new RangeError(`uuid is ${resp.uuid.length} bytes, needs 16`);
      out.set(resp.uuid, offset + RespResourceUuid.uuid);
      break;
    case C.VIRTIO_GPU_RESP_OK_MAP_INFO:
      w32(out, at + RespMapInfo.mapInfo, resp.mapInfo);
      w32(out, at + RespMapInfo.padding, resp.padding ?? 0);
      break;
    default:
      break;
  }
  return size;
}
