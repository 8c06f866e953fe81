/**
 * The command table, 2D part (virtio-gpu §5.7.6.8): one entry per command. Commands that share
 * a C struct share the function that makes their entry.
 */
import * as C from './constants.js';
import { type CommandRest, type CommandSpec, defineCommand } from './command-spec.js';
import { fields } from './fields.js';
import {
  CtrlHdr,
  GetCapset,
  GetCapsetInfo,
  GetEdid,
  MemEntry,
  ResourceAttachBacking,
  ResourceCreate2d,
  ResourceCreateBlob,
  ResourceFlush,
  ResourceUnref,
  SetScanout,
  SetScanoutBlob,
  TransferToHost2d,
} from './layouts.js';
import type {
  CmdCtxResource,
  CmdResourceAssignUuid,
  CmdResourceAttachBacking,
  CmdResourceCreateBlob,
  CmdResourceDetachBacking,
  CmdResourceUnmapBlob,
  CmdResourceUnref,
} from './types.js';
import { readU64, u32 } from './view.js';
import { entriesJson, entriesMismatch, fillEntries, fillRect, formatText, newRect, rectText, writeEntries } from './wire.js';

/** The commands whose struct is a header, a resource id and padding (struct virtio_gpu_resource_unref's shape). */
export type ResourceOnlyCmd = CmdResourceUnref | CmdResourceDetachBacking | CmdResourceAssignUuid | CmdResourceUnmapBlob | CmdCtxResource;

/** The entry of a command with the resource_unref layout. */
export function resourceOnly(type: ResourceOnlyCmd['type']): CommandSpec<ResourceOnlyCmd> {
  return defineCommand<ResourceOnlyCmd>({
    type,
    size: ResourceUnref.SIZE,
    fields: fields(ResourceUnref, { resourceId: 'u32', padding: 'u32' }),
    create: (hdr) => ({ type, hdr, resourceId: 0, padding: 0 }),
    text: (c) => ` res=${c.resourceId}`,
  });
}

/** The nr_entries mem entries that follow ATTACH_BACKING and CREATE_BLOB (§5.7.6.8). */
function memEntries<T extends CmdResourceAttachBacking | CmdResourceCreateBlob>(structSize: number): CommandRest<T> {
  return {
    fill(c, b, at, len) {
      const bad = entriesMismatch(c.nrEntries, len, structSize);
      if (bad !== null) return bad;
      fillEntries(c.entries, b, at + structSize, c.nrEntries);
      return null;
    },
    extra: (c) => c.entries.length * MemEntry.SIZE,
    encode: (c, out, at) => writeEntries(out, at + structSize, c.entries),
    json: (c) => ({ entries: entriesJson(c.entries) }),
  };
}

/** The 2D commands, in enum order. */
export const COMMANDS_2D: readonly CommandSpec[] = [
  defineCommand({
    type: C.VIRTIO_GPU_CMD_GET_DISPLAY_INFO,
    size: CtrlHdr.SIZE,
    fields: [],
    create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_GET_DISPLAY_INFO, hdr }),
    text: () => '',
    fill: () => null,
  }),
  defineCommand({
    type: C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
    size: ResourceCreate2d.SIZE,
    fields: fields(ResourceCreate2d, { resourceId: 'u32', format: 'u32', width: 'u32', height: 'u32' }),
    create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, hdr, resourceId: 0, format: 0, width: 0, height: 0 }),
    text: (c) => ` res=${c.resourceId} fmt=${formatText(c.format)} ${c.width}x${c.height}`,
  }),
  resourceOnly(C.VIRTIO_GPU_CMD_RESOURCE_UNREF),
  defineCommand({
    type: C.VIRTIO_GPU_CMD_SET_SCANOUT,
    size: SetScanout.SIZE,
    fields: fields(SetScanout, { r: 'rect', scanoutId: 'u32', resourceId: 'u32' }),
    create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_SET_SCANOUT, hdr, r: newRect(), scanoutId: 0, resourceId: 0 }),
    text: (c) => ` scanout=${c.scanoutId} res=${c.resourceId} r=${rectText(c.r)}`,
    fill(c, b, at) {
      fillRect(c.r, b, at + SetScanout.r);
      c.scanoutId = u32(b, at + SetScanout.scanoutId);
      c.resourceId = u32(b, at + SetScanout.resourceId);
      return null;
    },
  }),
  defineCommand({
    type: C.VIRTIO_GPU_CMD_RESOURCE_FLUSH,
    size: ResourceFlush.SIZE,
    fields: fields(ResourceFlush, { r: 'rect', resourceId: 'u32', padding: 'u32' }),
    create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_RESOURCE_FLUSH, hdr, r: newRect(), resourceId: 0, padding: 0 }),
    text: (c) => ` res=${c.resourceId} r=${rectText(c.r)}`,
    fill(c, b, at) {
      fillRect(c.r, b, at + ResourceFlush.r);
      c.resourceId = u32(b, at + ResourceFlush.resourceId);
      c.padding = u32(b, at + ResourceFlush.padding);
      return null;
    },
  }),
  defineCommand({
    type: C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
    size: TransferToHost2d.SIZE,
    fields: fields(TransferToHost2d, { r: 'rect', offset: 'u64', resourceId: 'u32', padding: 'u32' }),
    create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, hdr, r: newRect(), offset: 0n, resourceId: 0, padding: 0 }),
    text: (c) => ` res=${c.resourceId} r=${rectText(c.r)} offset=${c.offset}`,
    fill(c, b, at) {
      fillRect(c.r, b, at + TransferToHost2d.r);
      c.offset = readU64(b, at + TransferToHost2d.offset);
      c.resourceId = u32(b, at + TransferToHost2d.resourceId);
      c.padding = u32(b, at + TransferToHost2d.padding);
      return null;
    },
  }),
  defineCommand<CmdResourceAttachBacking>({
    type: C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
    size: ResourceAttachBacking.SIZE,
    fields: fields(ResourceAttachBacking, { resourceId: 'u32', nrEntries: 'u32' }),
    create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, hdr, resourceId: 0, nrEntries: 0, entries: [] }),
    text: (c) => ` res=${c.resourceId} entries=${c.nrEntries}`,
    rest: memEntries(ResourceAttachBacking.SIZE),
  }),
  resourceOnly(C.VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING),
  defineCommand({
    type: C.VIRTIO_GPU_CMD_GET_CAPSET_INFO,
    size: GetCapsetInfo.SIZE,
    fields: fields(GetCapsetInfo, { capsetIndex: 'u32', padding: 'u32' }),
    create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_GET_CAPSET_INFO, hdr, capsetIndex: 0, padding: 0 }),
    text: (c) => ` index=${c.capsetIndex}`,
  }),
  defineCommand({
    type: C.VIRTIO_GPU_CMD_GET_CAPSET,
    size: GetCapset.SIZE,
    fields: fields(GetCapset, { capsetId: 'u32', capsetVersion: 'u32' }),
    create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_GET_CAPSET, hdr, capsetId: 0, capsetVersion: 0 }),
    text: (c) => ` id=${c.capsetId} version=${c.capsetVersion}`,
  }),
  defineCommand({
    type: C.VIRTIO_GPU_CMD_GET_EDID,
    size: GetEdid.SIZE,
    fields: fields(GetEdid, { scanout: 'u32', padding: 'u32' }),
    create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_GET_EDID, hdr, scanout: 0, padding: 0 }),
    text: (c) => ` scanout=${c.scanout}`,
  }),
  resourceOnly(C.VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID),
  defineCommand<CmdResourceCreateBlob>({
    type: C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
    size: ResourceCreateBlob.SIZE,
    fields: fields(ResourceCreateBlob, { resourceId: 'u32', blobMem: 'u32', blobFlags: 'u32', nrEntries: 'u32', blobId: 'u64', size: 'u64' }),
    create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, hdr, resourceId: 0, blobMem: 0, blobFlags: 0, nrEntries: 0, blobId: 0n, size: 0n, entries: [] }),
    text: (c) => ` res=${c.resourceId} mem=${c.blobMem} flags=0x${c.blobFlags.toString(16)} blob_id=${c.blobId} size=${c.size} entries=${c.nrEntries}`,
    rest: memEntries(ResourceCreateBlob.SIZE),
  }),
  defineCommand({
    type: C.VIRTIO_GPU_CMD_SET_SCANOUT_BLOB,
    size: SetScanoutBlob.SIZE,
    fields: fields(SetScanoutBlob, {
      r: 'rect',
      scanoutId: 'u32',
      resourceId: 'u32',
      width: 'u32',
      height: 'u32',
      format: 'u32',
      padding: 'u32',
      strides: 'u32x4',
      offsets: 'u32x4',
    }),
    create: (hdr) => ({
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
    }),
    text: (c) => ` scanout=${c.scanoutId} res=${c.resourceId} fmt=${formatText(c.format)} ${c.width}x${c.height} r=${rectText(c.r)} stride=${c.strides[0]}`,
  }),
];
