/**
 * The command table, 2D part (virtio-gpu §5.7.6.8): one {@link CommandSpec} per command. The
 * specs of commands that share a C struct come from one function.
 */
import * as C from './constants.js';
import { type CommandSpec, noExtra } from './command-spec.js';
import {
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
  CtrlHdr,
} from './layouts.js';
import type {
  CmdCtxResource,
  CmdGetCapset,
  CmdGetCapsetInfo,
  CmdGetDisplayInfo,
  CmdGetEdid,
  CmdResourceAssignUuid,
  CmdResourceAttachBacking,
  CmdResourceCreate2d,
  CmdResourceCreateBlob,
  CmdResourceDetachBacking,
  CmdResourceFlush,
  CmdResourceUnmapBlob,
  CmdResourceUnref,
  CmdSetScanout,
  CmdSetScanoutBlob,
  CmdTransferToHost2d,
} from './types.js';
import { readU64, u32, w32, writeU64 } from './view.js';
import {
  entriesJson,
  entriesMismatch,
  fillEntries,
  fillRect,
  formatText,
  newRect,
  rectJson,
  rectText,
  writeEntries,
  writeRect,
  writeU32x4,
} from './wire.js';

/** The commands whose struct is a header, a resource id and padding (struct virtio_gpu_resource_unref's shape). */
export type ResourceOnlyCmd = CmdResourceUnref | CmdResourceDetachBacking | CmdResourceAssignUuid | CmdResourceUnmapBlob | CmdCtxResource;

/** The spec of a command with the resource_unref layout. */
export function resourceOnly(type: ResourceOnlyCmd['type']): CommandSpec<ResourceOnlyCmd> {
  return {
    type,
    size: ResourceUnref.SIZE,
    create: (hdr) => ({ type, hdr, resourceId: 0, padding: 0 }),
    fill(c, b, at) {
      c.resourceId = u32(b, at + ResourceUnref.resourceId);
      c.padding = u32(b, at + ResourceUnref.padding);
      return null;
    },
    extra: noExtra,
    encode(c, out, at) {
      w32(out, at + ResourceUnref.resourceId, c.resourceId);
      w32(out, at + ResourceUnref.padding, c.padding ?? 0);
    },
    text: (c) => ` res=${c.resourceId}`,
    json: (c) => ({ resource_id: c.resourceId, padding: c.padding ?? 0 }),
  };
}

/** VIRTIO_GPU_CMD_GET_DISPLAY_INFO: the header alone. */
export const GET_DISPLAY_INFO: CommandSpec<CmdGetDisplayInfo> = {
  type: C.VIRTIO_GPU_CMD_GET_DISPLAY_INFO,
  size: CtrlHdr.SIZE,
  create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_GET_DISPLAY_INFO, hdr }),
  fill: () => null,
  extra: noExtra,
  encode() {},
  text: () => '',
  json: () => ({}),
};

/** VIRTIO_GPU_CMD_RESOURCE_CREATE_2D */
export const RESOURCE_CREATE_2D: CommandSpec<CmdResourceCreate2d> = {
  type: C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
  size: ResourceCreate2d.SIZE,
  create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, hdr, resourceId: 0, format: 0, width: 0, height: 0 }),
  fill(c, b, at) {
    c.resourceId = u32(b, at + ResourceCreate2d.resourceId);
    c.format = u32(b, at + ResourceCreate2d.format);
    c.width = u32(b, at + ResourceCreate2d.width);
    c.height = u32(b, at + ResourceCreate2d.height);
    return null;
  },
  extra: noExtra,
  encode(c, out, at) {
    w32(out, at + ResourceCreate2d.resourceId, c.resourceId);
    w32(out, at + ResourceCreate2d.format, c.format);
    w32(out, at + ResourceCreate2d.width, c.width);
    w32(out, at + ResourceCreate2d.height, c.height);
  },
  text: (c) => ` res=${c.resourceId} fmt=${formatText(c.format)} ${c.width}x${c.height}`,
  json: (c) => ({ resource_id: c.resourceId, format: c.format, width: c.width, height: c.height }),
};

/** VIRTIO_GPU_CMD_SET_SCANOUT */
export const SET_SCANOUT: CommandSpec<CmdSetScanout> = {
  type: C.VIRTIO_GPU_CMD_SET_SCANOUT,
  size: SetScanout.SIZE,
  create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_SET_SCANOUT, hdr, r: newRect(), scanoutId: 0, resourceId: 0 }),
  fill(c, b, at) {
    fillRect(c.r, b, at + SetScanout.r);
    c.scanoutId = u32(b, at + SetScanout.scanoutId);
    c.resourceId = u32(b, at + SetScanout.resourceId);
    return null;
  },
  extra: noExtra,
  encode(c, out, at) {
    writeRect(out, at + SetScanout.r, c.r);
    w32(out, at + SetScanout.scanoutId, c.scanoutId);
    w32(out, at + SetScanout.resourceId, c.resourceId);
  },
  text: (c) => ` scanout=${c.scanoutId} res=${c.resourceId} r=${rectText(c.r)}`,
  json: (c) => ({ r: rectJson(c.r), scanout_id: c.scanoutId, resource_id: c.resourceId }),
};

/** VIRTIO_GPU_CMD_RESOURCE_FLUSH */
export const RESOURCE_FLUSH: CommandSpec<CmdResourceFlush> = {
  type: C.VIRTIO_GPU_CMD_RESOURCE_FLUSH,
  size: ResourceFlush.SIZE,
  create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_RESOURCE_FLUSH, hdr, r: newRect(), resourceId: 0, padding: 0 }),
  fill(c, b, at) {
    fillRect(c.r, b, at + ResourceFlush.r);
    c.resourceId = u32(b, at + ResourceFlush.resourceId);
    c.padding = u32(b, at + ResourceFlush.padding);
    return null;
  },
  extra: noExtra,
  encode(c, out, at) {
    writeRect(out, at + ResourceFlush.r, c.r);
    w32(out, at + ResourceFlush.resourceId, c.resourceId);
    w32(out, at + ResourceFlush.padding, c.padding ?? 0);
  },
  text: (c) => ` res=${c.resourceId} r=${rectText(c.r)}`,
  json: (c) => ({ r: rectJson(c.r), resource_id: c.resourceId, padding: c.padding ?? 0 }),
};

/** VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D */
export const TRANSFER_TO_HOST_2D: CommandSpec<CmdTransferToHost2d> = {
  type: C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
  size: TransferToHost2d.SIZE,
  create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, hdr, r: newRect(), offset: 0n, resourceId: 0, padding: 0 }),
  fill(c, b, at) {
    fillRect(c.r, b, at + TransferToHost2d.r);
    c.offset = readU64(b, at + TransferToHost2d.offset);
    c.resourceId = u32(b, at + TransferToHost2d.resourceId);
    c.padding = u32(b, at + TransferToHost2d.padding);
    return null;
  },
  extra: noExtra,
  encode(c, out, at) {
    writeRect(out, at + TransferToHost2d.r, c.r);
    writeU64(out, at + TransferToHost2d.offset, c.offset);
    w32(out, at + TransferToHost2d.resourceId, c.resourceId);
    w32(out, at + TransferToHost2d.padding, c.padding ?? 0);
  },
  text: (c) => ` res=${c.resourceId} r=${rectText(c.r)} offset=${c.offset}`,
  json: (c) => ({ r: rectJson(c.r), offset: String(c.offset), resource_id: c.resourceId, padding: c.padding ?? 0 }),
};

/** VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING: nr_entries mem entries follow the struct. */
export const RESOURCE_ATTACH_BACKING: CommandSpec<CmdResourceAttachBacking> = {
  type: C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
  size: ResourceAttachBacking.SIZE,
  create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, hdr, resourceId: 0, nrEntries: 0, entries: [] }),
  fill(c, b, at, len) {
    const n = u32(b, at + ResourceAttachBacking.nrEntries);
    const bad = entriesMismatch(n, len, ResourceAttachBacking.SIZE);
    if (bad !== null) return bad;
    c.resourceId = u32(b, at + ResourceAttachBacking.resourceId);
    c.nrEntries = n;
    fillEntries(c.entries, b, at + ResourceAttachBacking.SIZE, n);
    return null;
  },
  extra: (c) => c.entries.length * MemEntry.SIZE,
  encode(c, out, at) {
    w32(out, at + ResourceAttachBacking.resourceId, c.resourceId);
    w32(out, at + ResourceAttachBacking.nrEntries, c.nrEntries);
    writeEntries(out, at + ResourceAttachBacking.SIZE, c.entries);
  },
  text: (c) => ` res=${c.resourceId} entries=${c.nrEntries}`,
  json: (c) => ({ resource_id: c.resourceId, nr_entries: c.nrEntries, entries: entriesJson(c.entries) }),
};

/** VIRTIO_GPU_CMD_GET_CAPSET_INFO */
export const GET_CAPSET_INFO: CommandSpec<CmdGetCapsetInfo> = {
  type: C.VIRTIO_GPU_CMD_GET_CAPSET_INFO,
  size: GetCapsetInfo.SIZE,
  create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_GET_CAPSET_INFO, hdr, capsetIndex: 0, padding: 0 }),
  fill(c, b, at) {
    c.capsetIndex = u32(b, at + GetCapsetInfo.capsetIndex);
    c.padding = u32(b, at + GetCapsetInfo.padding);
    return null;
  },
  extra: noExtra,
  encode(c, out, at) {
    w32(out, at + GetCapsetInfo.capsetIndex, c.capsetIndex);
    w32(out, at + GetCapsetInfo.padding, c.padding ?? 0);
  },
  text: (c) => ` index=${c.capsetIndex}`,
  json: (c) => ({ capset_index: c.capsetIndex, padding: c.padding ?? 0 }),
};

/** VIRTIO_GPU_CMD_GET_CAPSET */
export const GET_CAPSET: CommandSpec<CmdGetCapset> = {
  type: C.VIRTIO_GPU_CMD_GET_CAPSET,
  size: GetCapset.SIZE,
  create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_GET_CAPSET, hdr, capsetId: 0, capsetVersion: 0 }),
  fill(c, b, at) {
    c.capsetId = u32(b, at + GetCapset.capsetId);
    c.capsetVersion = u32(b, at + GetCapset.capsetVersion);
    return null;
  },
  extra: noExtra,
  encode(c, out, at) {
    w32(out, at + GetCapset.capsetId, c.capsetId);
    w32(out, at + GetCapset.capsetVersion, c.capsetVersion);
  },
  text: (c) => ` id=${c.capsetId} version=${c.capsetVersion}`,
  json: (c) => ({ capset_id: c.capsetId, capset_version: c.capsetVersion }),
};

/** VIRTIO_GPU_CMD_GET_EDID */
export const GET_EDID: CommandSpec<CmdGetEdid> = {
  type: C.VIRTIO_GPU_CMD_GET_EDID,
  size: GetEdid.SIZE,
  create: (hdr) => ({ type: C.VIRTIO_GPU_CMD_GET_EDID, hdr, scanout: 0, padding: 0 }),
  fill(c, b, at) {
    c.scanout = u32(b, at + GetEdid.scanout);
    c.padding = u32(b, at + GetEdid.padding);
    return null;
  },
  extra: noExtra,
  encode(c, out, at) {
    w32(out, at + GetEdid.scanout, c.scanout);
    w32(out, at + GetEdid.padding, c.padding ?? 0);
  },
  text: (c) => ` scanout=${c.scanout}`,
  json: (c) => ({ scanout: c.scanout, padding: c.padding ?? 0 }),
};

/** VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB: nr_entries mem entries follow the struct. */
export const RESOURCE_CREATE_BLOB: CommandSpec<CmdResourceCreateBlob> = {
  type: C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
  size: ResourceCreateBlob.SIZE,
  create: (hdr) => ({
    type: C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
    hdr,
    resourceId: 0,
    blobMem: 0,
    blobFlags: 0,
    nrEntries: 0,
    blobId: 0n,
    size: 0n,
    entries: [],
  }),
  fill(c, b, at, len) {
    const n = u32(b, at + ResourceCreateBlob.nrEntries);
    const bad = entriesMismatch(n, len, ResourceCreateBlob.SIZE);
    if (bad !== null) return bad;
    c.resourceId = u32(b, at + ResourceCreateBlob.resourceId);
    c.blobMem = u32(b, at + ResourceCreateBlob.blobMem);
    c.blobFlags = u32(b, at + ResourceCreateBlob.blobFlags);
    c.nrEntries = n;
    c.blobId = readU64(b, at + ResourceCreateBlob.blobId);
    c.size = readU64(b, at + ResourceCreateBlob.size);
    fillEntries(c.entries, b, at + ResourceCreateBlob.SIZE, n);
    return null;
  },
  extra: (c) => c.entries.length * MemEntry.SIZE,
  encode(c, out, at) {
    w32(out, at + ResourceCreateBlob.resourceId, c.resourceId);
    w32(out, at + ResourceCreateBlob.blobMem, c.blobMem);
    w32(out, at + ResourceCreateBlob.blobFlags, c.blobFlags);
    w32(out, at + ResourceCreateBlob.nrEntries, c.nrEntries);
    writeU64(out, at + ResourceCreateBlob.blobId, c.blobId);
    writeU64(out, at + ResourceCreateBlob.size, c.size);
    writeEntries(out, at + ResourceCreateBlob.SIZE, c.entries);
  },
  text: (c) =>
    ` res=${c.resourceId} mem=${c.blobMem} flags=0x${c.blobFlags.toString(16)} blob_id=${c.blobId} size=${c.size} entries=${c.nrEntries}`,
  json: (c) => ({
    resource_id: c.resourceId,
    blob_mem: c.blobMem,
    blob_flags: c.blobFlags,
    nr_entries: c.nrEntries,
    blob_id: String(c.blobId),
    size: String(c.size),
    entries: entriesJson(c.entries),
  }),
};

/** VIRTIO_GPU_CMD_SET_SCANOUT_BLOB */
export const SET_SCANOUT_BLOB: CommandSpec<CmdSetScanoutBlob> = {
  type: C.VIRTIO_GPU_CMD_SET_SCANOUT_BLOB,
  size: SetScanoutBlob.SIZE,
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
  fill(c, b, at) {
    fillRect(c.r, b, at + SetScanoutBlob.r);
    c.scanoutId = u32(b, at + SetScanoutBlob.scanoutId);
    c.resourceId = u32(b, at + SetScanoutBlob.resourceId);
    c.width = u32(b, at + SetScanoutBlob.width);
    c.height = u32(b, at + SetScanoutBlob.height);
    c.format = u32(b, at + SetScanoutBlob.format);
    c.padding = u32(b, at + SetScanoutBlob.padding);
    for (let i = 0; i < 4; i++) {
      c.strides[i] = u32(b, at + SetScanoutBlob.strides + 4 * i);
      c.offsets[i] = u32(b, at + SetScanoutBlob.offsets + 4 * i);
    }
    return null;
  },
  extra: noExtra,
  encode(c, out, at) {
    writeRect(out, at + SetScanoutBlob.r, c.r);
    w32(out, at + SetScanoutBlob.scanoutId, c.scanoutId);
    w32(out, at + SetScanoutBlob.resourceId, c.resourceId);
    w32(out, at + SetScanoutBlob.width, c.width);
    w32(out, at + SetScanoutBlob.height, c.height);
    w32(out, at + SetScanoutBlob.format, c.format);
    w32(out, at + SetScanoutBlob.padding, c.padding ?? 0);
    writeU32x4(out, at + SetScanoutBlob.strides, c.strides, 'strides');
    writeU32x4(out, at + SetScanoutBlob.offsets, c.offsets, 'offsets');
  },
  text: (c) =>
    ` scanout=${c.scanoutId} res=${c.resourceId} fmt=${formatText(c.format)} ${c.width}x${c.height} r=${rectText(c.r)} stride=${c.strides[0]}`,
  json: (c) => ({
    r: rectJson(c.r),
    scanout_id: c.scanoutId,
    resource_id: c.resourceId,
    width: c.width,
    height: c.height,
    format: c.format,
    padding: c.padding ?? 0,
    strides: [...c.strides],
    offsets: [...c.offsets],
  }),
};

/** The 2D commands, in enum order. */
export const COMMANDS_2D: readonly CommandSpec[] = [
  GET_DISPLAY_INFO,
  RESOURCE_CREATE_2D,
  resourceOnly(C.VIRTIO_GPU_CMD_RESOURCE_UNREF),
  SET_SCANOUT,
  RESOURCE_FLUSH,
  TRANSFER_TO_HOST_2D,
  RESOURCE_ATTACH_BACKING,
  resourceOnly(C.VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING),
  GET_CAPSET_INFO,
  GET_CAPSET,
  GET_EDID,
  resourceOnly(C.VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID),
  RESOURCE_CREATE_BLOB,
  SET_SCANOUT_BLOB,
];
