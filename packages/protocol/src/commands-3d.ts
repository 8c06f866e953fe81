/**
 * The command table, 3D part (virtio-gpu §5.7.6.9: contexts, 3D resources, SUBMIT_3D, blob
 * mapping) and the cursor queue's two commands (§5.7.6.10): one {@link CommandSpec} per command.
 */
import * as C from './constants.js';
import { type CommandSpec, noExtra } from './command-spec.js';
import { resourceOnly } from './commands-2d.js';
import { CmdSubmit, CtrlHdr, CtxCreate, ResourceCreate3d, ResourceMapBlob, TransferHost3d, UpdateCursor } from './layouts.js';
import type { CmdCtxCreate, CmdCtxDestroy, CmdCursor, CmdResourceCreate3d, CmdResourceMapBlob, CmdSubmit3d, CmdTransferHost3d } from './types.js';
import { readU64, u32, w32, writeU64 } from './view.js';
import { fillBox, hex, nameBytes, newBox, readName, writeBox } from './wire.js';

/** VIRTIO_GPU_CMD_CTX_CREATE: debug_name holds nlen (at most 64) bytes of name. */
export const CTX_CREATE: CommandSpec<CmdCtxCreate> = {
  type: C.VIRTIO_GPU_CMD_CTX_CREATE,
  size: CtxCreate.SIZE,
  create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_CTX_CREATE, hdr, nlen: 0, contextInit: 0, debugName: '' }),
  fill(c, b, at) {
    const nlen = u32(b, at + CtxCreate.nlen);
    if (nlen > C.CTX_DEBUG_NAME_MAX) return `nlen ${nlen} > ${C.CTX_DEBUG_NAME_MAX}`;
    c.nlen = nlen;
    c.contextInit = u32(b, at + CtxCreate.contextInit);
    c.debugName = readName(b, at + CtxCreate.debugName, nlen);
    return null;
  },
  extra: noExtra,
  encode(c, out, at) {
    w32(out, at + CtxCreate.nlen, c.nlen);
    w32(out, at + CtxCreate.contextInit, c.contextInit);
    const name = nameBytes(c.debugName);
    out.set(name, at + CtxCreate.debugName);
    out.fill(0, at + CtxCreate.debugName + name.length, at + CtxCreate.SIZE);
  },
  text: (c) => ` capset=${c.contextInit & C.VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK} name=${JSON.stringify(c.debugName)}`,
  json: (c) => ({ nlen: c.nlen, context_init: c.contextInit, debug_name: c.debugName }),
};

/** VIRTIO_GPU_CMD_CTX_DESTROY: the header alone (hdr.ctx_id names the context). */
export const CTX_DESTROY: CommandSpec<CmdCtxDestroy> = {
  type: C.VIRTIO_GPU_CMD_CTX_DESTROY,
  size: CtrlHdr.SIZE,
  create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_CTX_DESTROY, hdr }),
  fill: () => null,
  extra: noExtra,
  encode() {},
  text: () => '',
  json: () => ({}),
};

/** VIRTIO_GPU_CMD_RESOURCE_CREATE_3D */
export const RESOURCE_CREATE_3D: CommandSpec<CmdResourceCreate3d> = {
  type: C.VIRTIO_GPU_CMD_RESOURCE_CREATE_3D,
  size: ResourceCreate3d.SIZE,
  create: (hdr) => ({
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
  }),
  fill(c, b, at) {
    c.resourceId = u32(b, at + ResourceCreate3d.resourceId);
    c.target = u32(b, at + ResourceCreate3d.target);
    c.format = u32(b, at + ResourceCreate3d.format);
    c.bind = u32(b, at + ResourceCreate3d.bind);
    c.width = u32(b, at + ResourceCreate3d.width);
    c.height = u32(b, at + ResourceCreate3d.height);
    c.depth = u32(b, at + ResourceCreate3d.depth);
    c.arraySize = u32(b, at + ResourceCreate3d.arraySize);
    c.lastLevel = u32(b, at + ResourceCreate3d.lastLevel);
    c.nrSamples = u32(b, at + ResourceCreate3d.nrSamples);
    c.flags = u32(b, at + ResourceCreate3d.flags);
    c.padding = u32(b, at + ResourceCreate3d.padding);
    return null;
  },
  extra: noExtra,
  encode(c, out, at) {
    w32(out, at + ResourceCreate3d.resourceId, c.resourceId);
    w32(out, at + ResourceCreate3d.target, c.target);
    w32(out, at + ResourceCreate3d.format, c.format);
    w32(out, at + ResourceCreate3d.bind, c.bind);
    w32(out, at + ResourceCreate3d.width, c.width);
    w32(out, at + ResourceCreate3d.height, c.height);
    w32(out, at + ResourceCreate3d.depth, c.depth);
    w32(out, at + ResourceCreate3d.arraySize, c.arraySize);
    w32(out, at + ResourceCreate3d.lastLevel, c.lastLevel);
    w32(out, at + ResourceCreate3d.nrSamples, c.nrSamples);
    w32(out, at + ResourceCreate3d.flags, c.flags);
    w32(out, at + ResourceCreate3d.padding, c.padding ?? 0);
  },
  text: (c) => ` res=${c.resourceId} target=${c.target} fmt=${c.format} bind=0x${c.bind.toString(16)} ${c.width}x${c.height}x${c.depth}`,
  json: (c) => ({
    resource_id: c.resourceId,
    target: c.target,
    format: c.format,
    bind: c.bind,
    width: c.width,
    height: c.height,
    depth: c.depth,
    array_size: c.arraySize,
    last_level: c.lastLevel,
    nr_samples: c.nrSamples,
    flags: c.flags,
    padding: c.padding ?? 0,
  }),
};

/** The spec of TRANSFER_TO_HOST_3D or TRANSFER_FROM_HOST_3D (struct virtio_gpu_transfer_host_3d). */
function transfer3d(type: CmdTransferHost3d['type']): CommandSpec<CmdTransferHost3d> {
  return {
    type,
    size: TransferHost3d.SIZE,
    create: (hdr) => ({ type, hdr, box: newBox(), offset: 0n, resourceId: 0, level: 0, stride: 0, layerStride: 0 }),
    fill(c, b, at) {
      fillBox(c.box, b, at + TransferHost3d.box);
      c.offset = readU64(b, at + TransferHost3d.offset);
      c.resourceId = u32(b, at + TransferHost3d.resourceId);
      c.level = u32(b, at + TransferHost3d.level);
      c.stride = u32(b, at + TransferHost3d.stride);
      c.layerStride = u32(b, at + TransferHost3d.layerStride);
      return null;
    },
    extra: noExtra,
    encode(c, out, at) {
      writeBox(out, at + TransferHost3d.box, c.box);
      writeU64(out, at + TransferHost3d.offset, c.offset);
      w32(out, at + TransferHost3d.resourceId, c.resourceId);
      w32(out, at + TransferHost3d.level, c.level);
      w32(out, at + TransferHost3d.stride, c.stride);
      w32(out, at + TransferHost3d.layerStride, c.layerStride);
    },
    text: (c) => {
      const b = c.box;
      return ` res=${c.resourceId} box=${b.w}x${b.h}x${b.d}+${b.x}+${b.y}+${b.z} level=${c.level} offset=${c.offset}`;
    },
    json: (c) => {
      const b = c.box;
      return {
        box: { x: b.x, y: b.y, z: b.z, w: b.w, h: b.h, d: b.d },
        offset: String(c.offset),
        resource_id: c.resourceId,
        level: c.level,
        stride: c.stride,
        layer_stride: c.layerStride,
      };
    },
  };
}

/**
 * VIRTIO_GPU_CMD_SUBMIT_3D: `size` bytes of command stream follow the struct; the decoded `data`
 * is a view of them, not a copy.
 */
export const SUBMIT_3D: CommandSpec<CmdSubmit3d> = {
  type: C.VIRTIO_GPU_CMD_SUBMIT_3D,
  size: CmdSubmit.SIZE,
  create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_SUBMIT_3D, hdr, size: 0, padding: 0, data: new Uint8Array(0) }),
  fill(c, b, at, len) {
    const size = u32(b, at + CmdSubmit.size);
    if (size > len - CmdSubmit.SIZE) return `submit size ${size} but ${len - CmdSubmit.SIZE} bytes follow`;
    c.size = size;
    c.padding = u32(b, at + CmdSubmit.padding);
    c.data = b.subarray(at + CmdSubmit.SIZE, at + CmdSubmit.SIZE + size);
    return null;
  },
  extra: (c) => c.data.length,
  encode(c, out, at) {
    w32(out, at + CmdSubmit.size, c.size);
    w32(out, at + CmdSubmit.padding, c.padding ?? 0);
    out.set(c.data, at + CmdSubmit.SIZE);
  },
  text: (c) => ` size=${c.size}`,
  json: (c) => ({ size: c.size, padding: c.padding ?? 0, data_hex: hex(c.data) }),
};

/** VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB */
export const RESOURCE_MAP_BLOB: CommandSpec<CmdResourceMapBlob> = {
  type: C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB,
  size: ResourceMapBlob.SIZE,
  create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, hdr, resourceId: 0, padding: 0, offset: 0n }),
  fill(c, b, at) {
    c.resourceId = u32(b, at + ResourceMapBlob.resourceId);
    c.padding = u32(b, at + ResourceMapBlob.padding);
    c.offset = readU64(b, at + ResourceMapBlob.offset);
    return null;
  },
  extra: noExtra,
  encode(c, out, at) {
    w32(out, at + ResourceMapBlob.resourceId, c.resourceId);
    w32(out, at + ResourceMapBlob.padding, c.padding ?? 0);
    writeU64(out, at + ResourceMapBlob.offset, c.offset);
  },
  text: (c) => ` res=${c.resourceId} offset=${c.offset}`,
  json: (c) => ({ resource_id: c.resourceId, padding: c.padding ?? 0, offset: String(c.offset) }),
};

/** The spec of UPDATE_CURSOR or MOVE_CURSOR (struct virtio_gpu_update_cursor, cursorq). */
function cursor(type: CmdCursor['type']): CommandSpec<CmdCursor> {
  const update = type === C.VIRTIO_GPU_CMD_UPDATE_CURSOR;
  return {
    type,
    size: UpdateCursor.SIZE,
    create: (hdr) => ({ type, hdr, pos: { scanoutId: 0, x: 0, y: 0, padding: 0 }, resourceId: 0, hotX: 0, hotY: 0, padding: 0 }),
    fill(c, b, at) {
      const p = at + UpdateCursor.pos;
      const pos = c.pos;
      pos.scanoutId = u32(b, p);
      pos.x = u32(b, p + 4);
      pos.y = u32(b, p + 8);
      pos.padding = u32(b, p + 12);
      c.resourceId = u32(b, at + UpdateCursor.resourceId);
      c.hotX = u32(b, at + UpdateCursor.hotX);
      c.hotY = u32(b, at + UpdateCursor.hotY);
      c.padding = u32(b, at + UpdateCursor.padding);
      return null;
    },
    extra: noExtra,
    encode(c, out, at) {
      const p = at + UpdateCursor.pos;
      w32(out, p, c.pos.scanoutId);
      w32(out, p + 4, c.pos.x);
      w32(out, p + 8, c.pos.y);
      w32(out, p + 12, c.pos.padding ?? 0);
      w32(out, at + UpdateCursor.resourceId, c.resourceId);
      w32(out, at + UpdateCursor.hotX, c.hotX);
      w32(out, at + UpdateCursor.hotY, c.hotY);
      w32(out, at + UpdateCursor.padding, c.padding ?? 0);
    },
    text: (c) =>
      update
        ? ` scanout=${c.pos.scanoutId} ${c.pos.x},${c.pos.y} res=${c.resourceId} hot=${c.hotX},${c.hotY}`
        : ` scanout=${c.pos.scanoutId} ${c.pos.x},${c.pos.y}`,
    json: (c) => ({
      pos: { scanout_id: c.pos.scanoutId, x: c.pos.x, y: c.pos.y, padding: c.pos.padding ?? 0 },
      resource_id: c.resourceId,
      hot_x: c.hotX,
      hot_y: c.hotY,
      padding: c.padding ?? 0,
    }),
  };
}

/** The 3D commands and the cursor commands, in enum order. */
export const COMMANDS_3D: readonly CommandSpec[] = [
  CTX_CREATE,
  CTX_DESTROY,
  resourceOnly(C.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE),
  resourceOnly(C.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE),
  RESOURCE_CREATE_3D,
  transfer3d(C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D),
  transfer3d(C.VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D),
  SUBMIT_3D,
  RESOURCE_MAP_BLOB,
  resourceOnly(C.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB),
  cursor(C.VIRTIO_GPU_CMD_UPDATE_CURSOR),
  cursor(C.VIRTIO_GPU_CMD_MOVE_CURSOR),
];
