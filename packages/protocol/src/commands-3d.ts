/**
 * The command table, 3D part (virtio-gpu §5.7.6.9: contexts, 3D resources, SUBMIT_3D, blob
 * mapping) and the cursor queue's two commands (§5.7.6.10): one entry per command.
 */
import * as C from './constants.js';
import { type CommandSpec, defineCommand } from './command-spec.js';
import { resourceOnly } from './commands-2d.js';
import { fields } from './fields.js';
import { CmdSubmit, CtrlHdr, CtxCreate, ResourceCreate3d, ResourceMapBlob, TransferHost3d, UpdateCursor } from './layouts.js';
import type { CmdCursor, CmdSubmit3d, CmdTransferHost3d } from './types.js';
import { u32 } from './view.js';
import { hex, nameBytes, newBox, readName } from './wire.js';

/** The entry of TRANSFER_TO_HOST_3D or TRANSFER_FROM_HOST_3D (struct virtio_gpu_transfer_host_3d). */
function transfer3d(type: CmdTransferHost3d['type']): CommandSpec<CmdTransferHost3d> {
  return defineCommand<CmdTransferHost3d>({
    type,
    size: TransferHost3d.SIZE,
    fields: fields(TransferHost3d, { box: 'box', offset: 'u64', resourceId: 'u32', level: 'u32', stride: 'u32', layerStride: 'u32' }),
    create: (hdr) => ({ type, hdr, box: newBox(), offset: 0n, resourceId: 0, level: 0, stride: 0, layerStride: 0 }),
    text: ({ box: b, ...c }) => ` res=${c.resourceId} box=${b.w}x${b.h}x${b.d}+${b.x}+${b.y}+${b.z} level=${c.level} offset=${c.offset}`,
  });
}

/** The entry of UPDATE_CURSOR or MOVE_CURSOR (struct virtio_gpu_update_cursor, cursorq). */
function cursor(type: CmdCursor['type']): CommandSpec<CmdCursor> {
  const update = type === C.VIRTIO_GPU_CMD_UPDATE_CURSOR;
  return defineCommand<CmdCursor>({
    type,
    size: UpdateCursor.SIZE,
    fields: fields(UpdateCursor, { pos: 'pos', resourceId: 'u32', hotX: 'u32', hotY: 'u32', padding: 'u32' }),
    create: (hdr) => ({ type, hdr, pos: { scanoutId: 0, x: 0, y: 0, padding: 0 }, resourceId: 0, hotX: 0, hotY: 0, padding: 0 }),
    text: ({ pos, ...c }) => ` scanout=${pos.scanoutId} ${pos.x},${pos.y}` + (update ? ` res=${c.resourceId} hot=${c.hotX},${c.hotY}` : ''),
    fill(c, b, at) {
      const pos = c.pos;
      const p = at + UpdateCursor.pos;
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
  });
}

/** The 3D commands and the cursor commands, in enum order. */
export const COMMANDS_3D: readonly CommandSpec[] = [
  defineCommand({
    type: C.VIRTIO_GPU_CMD_CTX_CREATE,
    size: CtxCreate.SIZE,
    fields: fields(CtxCreate, { nlen: 'u32', contextInit: 'u32' }),
    create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_CTX_CREATE, hdr, nlen: 0, contextInit: 0, debugName: '' }),
    text: (c) => ` capset=${c.contextInit & C.VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK} name=${JSON.stringify(c.debugName)}`,
    // debug_name holds nlen (at most 64) bytes of name.
    rest: {
      fill(c, b, at) {
        if (c.nlen > C.CTX_DEBUG_NAME_MAX) return `nlen ${c.nlen} > ${C.CTX_DEBUG_NAME_MAX}`;
        c.debugName = readName(b, at + CtxCreate.debugName, c.nlen);
        return null;
      },
      extra: () => 0,
      encode(c, out, at) {
        const name = nameBytes(c.debugName);
        out.set(name, at + CtxCreate.debugName);
        out.fill(0, at + CtxCreate.debugName + name.length, at + CtxCreate.SIZE);
      },
      json: (c) => ({ debug_name: c.debugName }),
    },
  }),
  defineCommand({
    type: C.VIRTIO_GPU_CMD_CTX_DESTROY,
    size: CtrlHdr.SIZE,
    fields: [],
    create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_CTX_DESTROY, hdr }),
    text: () => '',
  }),
  resourceOnly(C.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE),
  resourceOnly(C.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE),
  defineCommand({
    type: C.VIRTIO_GPU_CMD_RESOURCE_CREATE_3D,
    size: ResourceCreate3d.SIZE,
    fields: fields(ResourceCreate3d, {
      resourceId: 'u32',
      target: 'u32',
      format: 'u32',
      bind: 'u32',
      width: 'u32',
      height: 'u32',
      depth: 'u32',
      arraySize: 'u32',
      lastLevel: 'u32',
      nrSamples: 'u32',
      flags: 'u32',
      padding: 'u32',
    }),
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
    text: (c) => ` res=${c.resourceId} target=${c.target} fmt=${c.format} bind=0x${c.bind.toString(16)} ${c.width}x${c.height}x${c.depth}`,
  }),
  transfer3d(C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D),
  transfer3d(C.VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D),
  defineCommand<CmdSubmit3d>({
    type: C.VIRTIO_GPU_CMD_SUBMIT_3D,
    size: CmdSubmit.SIZE,
    fields: fields(CmdSubmit, { size: 'u32', padding: 'u32' }),
    create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_SUBMIT_3D, hdr, size: 0, padding: 0, data: new Uint8Array(0) }),
    text: (c) => ` size=${c.size}`,
    // `size` bytes of command stream follow the struct; the decoded `data` is a view of them.
    rest: {
      fill(c, b, at, len) {
        if (c.size > len - CmdSubmit.SIZE) return `submit size ${c.size} but ${len - CmdSubmit.SIZE} bytes follow`;
        c.data = b.subarray(at + CmdSubmit.SIZE, at + CmdSubmit.SIZE + c.size);
        return null;
      },
      extra: (c) => c.data.length,
      encode: (c, out, at) => out.set(c.data, at + CmdSubmit.SIZE),
      json: (c) => ({ data_hex: hex(c.data) }),
    },
  }),
  defineCommand({
    type: C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB,
    size: ResourceMapBlob.SIZE,
    fields: fields(ResourceMapBlob, { resourceId: 'u32', padding: 'u32', offset: 'u64' }),
    create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, hdr, resourceId: 0, padding: 0, offset: 0n }),
    text: (c) => ` res=${c.resourceId} offset=${c.offset}`,
  }),
  resourceOnly(C.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB),
  cursor(C.VIRTIO_GPU_CMD_UPDATE_CURSOR),
  cursor(C.VIRTIO_GPU_CMD_MOVE_CURSOR),
];
