/**
 * Human and machine readable renderings of commands: `describe` for logs (one line) and
 * `commandToJson` for tools such as `virtio-gpu decode` (C field names, JSON-safe values).
 */
import * as C from './constants.js';
import type { CtrlHdr, MemEntry, Rect } from './layouts.js';
import type { Command, Response } from './types.js';

const CMD_PREFIX = 'VIRTIO_GPU_CMD_';
const FMT_PREFIX = 'VIRTIO_GPU_FORMAT_';

function shortCommand(type: number): string {
  const n = C.commandName(type);
  return n ? n.slice(CMD_PREFIX.length) : `CMD_0x${type.toString(16)}`;
}

function shortFormat(format: number): string {
  const n = C.formatName(format);
  return n ? n.slice(FMT_PREFIX.length) : String(format);
}

function rect(r: Rect): string {
  return `${r.width}x${r.height}+${r.x}+${r.y}`;
}

function tail(h: CtrlHdr): string {
  let s = ` fence=${h.fenceId} ctx=${h.ctxId}`;
  if (h.flags & C.VIRTIO_GPU_FLAG_FENCE) s += ' F';
  if (h.flags & C.VIRTIO_GPU_FLAG_INFO_RING_IDX) s += ` ring=${h.ringIdx}`;
  return s;
}

/**
 * One readable line for logs, e.g. `RESOURCE_CREATE_2D res=3 fmt=B8G8R8X8_UNORM 640x480 fence=7 ctx=0`.
 * Rects print as WxH+X+Y; ` F` marks VIRTIO_GPU_FLAG_FENCE and ` ring=N` INFO_RING_IDX. Not a
 * stable format: parse commandToJson instead.
 */
export function describe(cmd: Command): string {
  const name = shortCommand(cmd.type);
  let body: string;
  switch (cmd.type) {
    case C.VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
    case C.VIRTIO_GPU_CMD_CTX_DESTROY:
      body = '';
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
      body = ` res=${cmd.resourceId} fmt=${shortFormat(cmd.format)} ${cmd.width}x${cmd.height}`;
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_UNREF:
    case C.VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
    case C.VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID:
    case C.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB:
    case C.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE:
    case C.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE:
      body = ` res=${cmd.resourceId}`;
      break;
    case C.VIRTIO_GPU_CMD_SET_SCANOUT:
      body = ` scanout=${cmd.scanoutId} res=${cmd.resourceId} r=${rect(cmd.r)}`;
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_FLUSH:
      body = ` res=${cmd.resourceId} r=${rect(cmd.r)}`;
      break;
    case C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
      body = ` res=${cmd.resourceId} r=${rect(cmd.r)} offset=${cmd.offset}`;
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
      body = ` res=${cmd.resourceId} entries=${cmd.nrEntries}`;
      break;
    case C.VIRTIO_GPU_CMD_GET_CAPSET_INFO:
      body = ` index=${cmd.capsetIndex}`;
      break;
    case C.VIRTIO_GPU_CMD_GET_CAPSET:
      body = ` id=${cmd.capsetId} version=${cmd.capsetVersion}`;
      break;
    case C.VIRTIO_GPU_CMD_GET_EDID:
      body = ` scanout=${cmd.scanout}`;
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB:
      body = ` res=${cmd.resourceId} mem=${cmd.blobMem} flags=0x${cmd.blobFlags.toString(16)} blob_id=${cmd.blobId} size=${cmd.size} entries=${cmd.nrEntries}`;
      break;
    case C.VIRTIO_GPU_CMD_SET_SCANOUT_BLOB:
      body = ` scanout=${cmd.scanoutId} res=${cmd.resourceId} fmt=${shortFormat(cmd.format)} ${cmd.width}x${cmd.height} r=${rect(cmd.r)} stride=${cmd.strides[0]}`;
      break;
    case C.VIRTIO_GPU_CMD_CTX_CREATE:
      body = ` capset=${cmd.contextInit & C.VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK} name=${JSON.stringify(cmd.debugName)}`;
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_3D:
      body = ` res=${cmd.resourceId} target=${cmd.target} fmt=${cmd.format} bind=0x${cmd.bind.toString(16)} ${cmd.width}x${cmd.height}x${cmd.depth}`;
      break;
    case C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D:
    case C.VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D: {
      const b = cmd.box;
      body = ` res=${cmd.resourceId} box=${b.w}x${b.h}x${b.d}+${b.x}+${b.y}+${b.z} level=${cmd.level} offset=${cmd.offset}`;
      break;
    }
    case C.VIRTIO_GPU_CMD_SUBMIT_3D:
      body = ` size=${cmd.size}`;
      break;
    case C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB:
      body = ` res=${cmd.resourceId} offset=${cmd.offset}`;
      break;
    case C.VIRTIO_GPU_CMD_UPDATE_CURSOR:
      body = ` scanout=${cmd.pos.scanoutId} ${cmd.pos.x},${cmd.pos.y} res=${cmd.resourceId} hot=${cmd.hotX},${cmd.hotY}`;
      break;
    case C.VIRTIO_GPU_CMD_MOVE_CURSOR:
      body = ` scanout=${cmd.pos.scanoutId} ${cmd.pos.x},${cmd.pos.y}`;
      break;
    default:
      body = '';
  }
  return name + body + tail(cmd.hdr);
}

function hdrJson(h: CtrlHdr, type: number) {
  return { type, flags: h.flags, fence_id: String(h.fenceId), ctx_id: h.ctxId, ring_idx: h.ringIdx };
}

function rectJson(r: Rect) {
  return { x: r.x, y: r.y, width: r.width, height: r.height };
}

function entriesJson(entries: MemEntry[]) {
  return entries.map((e) => ({ addr: String(e.addr), length: e.length }));
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return s;
}

/**
 * The command as a JSON-ready object: `type` is the C name, then every field of the C struct
 * under its C name (nested hdr, r, box, pos as objects; padding as numbers, 0 when unknown),
 * 64-bit values as decimal strings. Trailing payloads: `entries: [{addr, length}]` for
 * ATTACH_BACKING/CREATE_BLOB, `debug_name` (string) for CTX_CREATE, `data_hex` for SUBMIT_3D.
 */
export function commandToJson(cmd: Command): Record<string, unknown> {
  const head = { type: C.commandName(cmd.type) ?? `0x${Number(cmd.type).toString(16)}`, hdr: hdrJson(cmd.hdr, cmd.type) };
  switch (cmd.type) {
    case C.VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
    case C.VIRTIO_GPU_CMD_CTX_DESTROY:
      return head;
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
      return { ...head, resource_id: cmd.resourceId, format: cmd.format, width: cmd.width, height: cmd.height };
    case C.VIRTIO_GPU_CMD_RESOURCE_UNREF:
    case C.VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
    case C.VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID:
    case C.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB:
    case C.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE:
    case C.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE:
      return { ...head, resource_id: cmd.resourceId, padding: cmd.padding ?? 0 };
    case C.VIRTIO_GPU_CMD_SET_SCANOUT:
      return { ...head, r: rectJson(cmd.r), scanout_id: cmd.scanoutId, resource_id: cmd.resourceId };
    case C.VIRTIO_GPU_CMD_RESOURCE_FLUSH:
      return { ...head, r: rectJson(cmd.r), resource_id: cmd.resourceId, padding: cmd.padding ?? 0 };
    case C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
      return { ...head, r: rectJson(cmd.r), offset: String(cmd.offset), resource_id: cmd.resourceId, padding: cmd.padding ?? 0 };
    case C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
      return { ...head, resource_id: cmd.resourceId, nr_entries: cmd.nrEntries, entries: entriesJson(cmd.entries) };
    case C.VIRTIO_GPU_CMD_GET_CAPSET_INFO:
      return { ...head, capset_index: cmd.capsetIndex, padding: cmd.padding ?? 0 };
    case C.VIRTIO_GPU_CMD_GET_CAPSET:
      return { ...head, capset_id: cmd.capsetId, capset_version: cmd.capsetVersion };
    case C.VIRTIO_GPU_CMD_GET_EDID:
      return { ...head, scanout: cmd.scanout, padding: cmd.padding ?? 0 };
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB:
      return {
        ...head,
        resource_id: cmd.resourceId,
        blob_mem: cmd.blobMem,
        blob_flags: cmd.blobFlags,
        nr_entries: cmd.nrEntries,
        blob_id: String(cmd.blobId),
        size: String(cmd.size),
        entries: entriesJson(cmd.entries),
      };
    case C.VIRTIO_GPU_CMD_SET_SCANOUT_BLOB:
      return {
        ...head,
        r: rectJson(cmd.r),
        scanout_id: cmd.scanoutId,
        resource_id: cmd.resourceId,
        width: cmd.width,
        height: cmd.height,
        format: cmd.format,
        padding: cmd.padding ?? 0,
        strides: [...cmd.strides],
        offsets: [...cmd.offsets],
      };
    case C.VIRTIO_GPU_CMD_CTX_CREATE:
      return { ...head, nlen: cmd.nlen, context_init: cmd.contextInit, debug_name: cmd.debugName };
    case C.VIRTIO_GPU_CMD_RESOURCE_CREATE_3D:
      return {
        ...head,
        resource_id: cmd.resourceId,
        target: cmd.target,
        format: cmd.format,
        bind: cmd.bind,
        width: cmd.width,
        height: cmd.height,
        depth: cmd.depth,
        array_size: cmd.arraySize,
        last_level: cmd.lastLevel,
        nr_samples: cmd.nrSamples,
        flags: cmd.flags,
        padding: cmd.padding ?? 0,
      };
    case C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D:
    case C.VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D: {
      const b = cmd.box;
      return {
        ...head,
        box: { x: b.x, y: b.y, z: b.z, w: b.w, h: b.h, d: b.d },
        offset: String(cmd.offset),
        resource_id: cmd.resourceId,
        level: cmd.level,
        stride: cmd.stride,
        layer_stride: cmd.layerStride,
      };
    }
    case C.VIRTIO_GPU_CMD_SUBMIT_3D:
      return { ...head, size: cmd.size, padding: cmd.padding ?? 0, data_hex: hex(cmd.data) };
    case C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB:
      return { ...head, resource_id: cmd.resourceId, padding: cmd.padding ?? 0, offset: String(cmd.offset) };
    case C.VIRTIO_GPU_CMD_UPDATE_CURSOR:
    case C.VIRTIO_GPU_CMD_MOVE_CURSOR:
      return {
        ...head,
        pos: { scanout_id: cmd.pos.scanoutId, x: cmd.pos.x, y: cmd.pos.y, padding: cmd.pos.padding ?? 0 },
        resource_id: cmd.resourceId,
        hot_x: cmd.hotX,
        hot_y: cmd.hotY,
        padding: cmd.padding ?? 0,
      };
  }
  return head;
}

/**
 * The response as a JSON-ready object, in the same conventions as commandToJson:
 * `pmodes` as objects, capset data / EDID / UUID bytes as hex strings (`capset_data_hex`,
 * `edid_hex`, `uuid_hex`).
 */
export function responseToJson(resp: Response): Record<string, unknown> {
  const head = { type: C.responseName(resp.type) ?? `0x${Number(resp.type).toString(16)}`, hdr: hdrJson(resp.hdr, resp.type) };
  switch (resp.type) {
    case C.VIRTIO_GPU_RESP_OK_DISPLAY_INFO:
      return { ...head, pmodes: resp.pmodes.map((m) => ({ r: rectJson(m.r), enabled: m.enabled, flags: m.flags })) };
    case C.VIRTIO_GPU_RESP_OK_CAPSET_INFO:
      return {
        ...head,
        capset_id: resp.capsetId,
        capset_max_version: resp.capsetMaxVersion,
        capset_max_size: resp.capsetMaxSize,
        padding: resp.padding ?? 0,
      };
    case C.VIRTIO_GPU_RESP_OK_CAPSET:
      return { ...head, capset_data_hex: hex(resp.data) };
    case C.VIRTIO_GPU_RESP_OK_EDID:
      return { ...head, size: resp.size, padding: resp.padding ?? 0, edid_hex: hex(resp.edid) };
    case C.VIRTIO_GPU_RESP_OK_RESOURCE_UUID:
      return { ...head, uuid_hex: hex(resp.uuid) };
    case C.VIRTIO_GPU_RESP_OK_MAP_INFO:
      return { ...head, map_info: resp.mapInfo, padding: resp.padding ?? 0 };
  }
  return head;
}
