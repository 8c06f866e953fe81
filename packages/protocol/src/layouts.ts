/**
 * Wire layouts of every struct in linux/virtio_gpu.h (virtio spec 1.3 §5.7).
 *
 * Two views of the same facts:
 * - `LAYOUTS`, a reflection table keyed by C struct name, built from the field lists below with
 *   C's natural alignment; tools and the header oracle test use it.
 * - One `as const` offset table per struct (STYLE.md's shape) that the codecs read from, so a
 *   field access is a constant. layouts.test.ts pins each table against `LAYOUTS`, and
 *   header-oracle.test.ts pins `LAYOUTS` against the C header with offsetof/sizeof.
 */

/** One field of a struct: byte offset from the struct's start and size in bytes. */
export interface FieldLayout {
  readonly offset: number;
  readonly size: number;
}

/** One struct: total size and fields by C name (nested structs dotted, arrays whole). */
export interface StructLayout {
  readonly size: number;
  readonly fields: Readonly<Record<string, FieldLayout>>;
}

type Scalar = 'u8' | 'u32' | 'u64';
/** [C name, element type (scalar or struct name), array length (0: flexible array member)] */
type FieldDef = readonly [name: string, type: Scalar | `virtio_gpu_${string}`, count?: number];

const HDR = ['hdr', 'virtio_gpu_ctrl_hdr'] as const;
const u32s = (...names: string[]): FieldDef[] => names.map((n) => [n, 'u32'] as const);

/** Field lists in declaration order, as in the C header. */
const DEFS: ReadonlyArray<readonly [string, readonly FieldDef[]]> = [
  ['virtio_gpu_ctrl_hdr', [['type', 'u32'], ['flags', 'u32'], ['fence_id', 'u64'], ['ctx_id', 'u32'], ['ring_idx', 'u8'], ['padding', 'u8', 3]]],
  ['virtio_gpu_cursor_pos', u32s('scanout_id', 'x', 'y', 'padding')],
  ['virtio_gpu_update_cursor', [HDR, ['pos', 'virtio_gpu_cursor_pos'], ...u32s('resource_id', 'hot_x', 'hot_y', 'padding')]],
  ['virtio_gpu_rect', u32s('x', 'y', 'width', 'height')],
  ['virtio_gpu_resource_unref', [HDR, ...u32s('resource_id', 'padding')]],
  ['virtio_gpu_resource_create_2d', [HDR, ...u32s('resource_id', 'format', 'width', 'height')]],
  ['virtio_gpu_set_scanout', [HDR, ['r', 'virtio_gpu_rect'], ...u32s('scanout_id', 'resource_id')]],
  ['virtio_gpu_resource_flush', [HDR, ['r', 'virtio_gpu_rect'], ...u32s('resource_id', 'padding')]],
  ['virtio_gpu_transfer_to_host_2d', [HDR, ['r', 'virtio_gpu_rect'], ['offset', 'u64'], ...u32s('resource_id', 'padding')]],
  ['virtio_gpu_mem_entry', [['addr', 'u64'], ...u32s('length', 'padding')]],
  ['virtio_gpu_resource_attach_backing', [HDR, ...u32s('resource_id', 'nr_entries')]],
  ['virtio_gpu_resource_detach_backing', [HDR, ...u32s('resource_id', 'padding')]],
  ['virtio_gpu_display_one', [['r', 'virtio_gpu_rect'], ...u32s('enabled', 'flags')]],
  ['virtio_gpu_resp_display_info', [HDR, ['pmodes', 'virtio_gpu_display_one', 16]]],
  ['virtio_gpu_box', u32s('x', 'y', 'z', 'w', 'h', 'd')],
  ['virtio_gpu_transfer_host_3d', [HDR, ['box', 'virtio_gpu_box'], ['offset', 'u64'], ...u32s('resource_id', 'level', 'stride', 'layer_stride')]],
  ['virtio_gpu_resource_create_3d', [HDR, ...u32s('resource_id', 'target', 'format', 'bind', 'width', 'height', 'depth', 'array_size', 'last_level', 'nr_samples', 'flags', 'padding')]],
  ['virtio_gpu_ctx_create', [HDR, ...u32s('nlen', 'context_init'), ['debug_name', 'u8', 64]]],
  ['virtio_gpu_ctx_destroy', [HDR]],
  ['virtio_gpu_ctx_resource', [HDR, ...u32s('resource_id', 'padding')]],
  ['virtio_gpu_cmd_submit', [HDR, ...u32s('size', 'padding')]],
  ['virtio_gpu_get_capset_info', [HDR, ...u32s('capset_index', 'padding')]],
  ['virtio_gpu_resp_capset_info', [HDR, ...u32s('capset_id', 'capset_max_version', 'capset_max_size', 'padding')]],
  ['virtio_gpu_get_capset', [HDR, ...u32s('capset_id', 'capset_version')]],
  ['virtio_gpu_resp_capset', [HDR, ['capset_data', 'u8', 0]]],
  ['virtio_gpu_cmd_get_edid', [HDR, ...u32s('scanout', 'padding')]],
  ['virtio_gpu_resp_edid', [HDR, ...u32s('size', 'padding'), ['edid', 'u8', 1024]]],
  ['virtio_gpu_config', u32s('events_read', 'events_clear', 'num_scanouts', 'num_capsets')],
  ['virtio_gpu_resource_assign_uuid', [HDR, ...u32s('resource_id', 'padding')]],
  ['virtio_gpu_resp_resource_uuid', [HDR, ['uuid', 'u8', 16]]],
  ['virtio_gpu_resource_create_blob', [HDR, ...u32s('resource_id', 'blob_mem', 'blob_flags', 'nr_entries'), ['blob_id', 'u64'], ['size', 'u64']]],
  ['virtio_gpu_set_scanout_blob', [HDR, ['r', 'virtio_gpu_rect'], ...u32s('scanout_id', 'resource_id', 'width', 'height', 'format', 'padding'), ['strides', 'u32', 4], ['offsets', 'u32', 4]]],
  ['virtio_gpu_resource_map_blob', [HDR, ...u32s('resource_id', 'padding'), ['offset', 'u64']]],
  ['virtio_gpu_resp_map_info', [HDR, ...u32s('map_info', 'padding')]],
  ['virtio_gpu_resource_unmap_blob', [HDR, ...u32s('resource_id', 'padding')]],
];

const SCALAR_SIZE: Record<Scalar, number> = { u8: 1, u32: 4, u64: 8 };

function build(): Record<string, StructLayout> {
  const out: Record<string, StructLayout> = {};
  const align: Record<string, number> = {};
  for (const [name, defs] of DEFS) {
    const fields: Record<string, FieldLayout> = {};
    let at = 0;
    let maxAlign = 1;
    for (const [field, type, count] of defs) {
      const nested = type in SCALAR_SIZE ? undefined : out[type];
      const elemSize = nested ? nested.size : SCALAR_SIZE[type as Scalar];
      const elemAlign = nested ? align[type] : elemSize;
      at = Math.ceil(at / elemAlign) * elemAlign;
      maxAlign = Math.max(maxAlign, elemAlign);
      if (nested && count === undefined) {
        // A nested struct member shows as its leaf fields, dotted: hdr.fence_id, r.width.
        for (const [sub, l] of Object.entries(nested.fields)) fields[`${field}.${sub}`] = { offset: at + l.offset, size: l.size };
      } else {
        fields[field] = { offset: at, size: elemSize * (count ?? 1) };
      }
      at += elemSize * (count ?? 1);
    }
    align[name] = maxAlign;
    out[name] = { size: Math.ceil(at / maxAlign) * maxAlign, fields };
  }
  return out;
}

/** Every struct of linux/virtio_gpu.h by C name: size and field offsets/sizes (spec §5.7). */
export const LAYOUTS: Readonly<Record<string, StructLayout>> = build();

// ---- Offset tables (STYLE.md): offsets of top-level members, SIZE = sizeof(struct) ----

/** A decoded struct virtio_gpu_ctrl_hdr. */
export interface CtrlHdr {
  type: number;
  /** VIRTIO_GPU_FLAG_* bits. */
  flags: number;
  fenceId: bigint;
  ctxId: number;
  ringIdx: number;
}

/** struct virtio_gpu_ctrl_hdr (every request and response starts with it) */
export const CtrlHdr = {
  SIZE: 24,
  type: 0, // le32
  flags: 4, // le32
  fenceId: 8, // le64
  ctxId: 16, // le32
  ringIdx: 20, // u8
  padding: 21, // u8[3]
} as const;

/** A decoded struct virtio_gpu_rect. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** struct virtio_gpu_rect */
export const Rect = { SIZE: 16, x: 0, y: 4, width: 8, height: 12 } as const;

/** A decoded struct virtio_gpu_box. */
export interface Box {
  x: number;
  y: number;
  z: number;
  w: number;
  h: number;
  d: number;
}

/** struct virtio_gpu_box */
export const Box = { SIZE: 24, x: 0, y: 4, z: 8, w: 12, h: 16, d: 20 } as const;

/** A decoded struct virtio_gpu_mem_entry: one guest-physical range of backing store. */
export interface MemEntry {
  addr: bigint;
  length: number;
}

/** struct virtio_gpu_mem_entry (follows ATTACH_BACKING and CREATE_BLOB, nr_entries of them) */
export const MemEntry = { SIZE: 16, addr: 0, length: 8, padding: 12 } as const;

/** A decoded struct virtio_gpu_cursor_pos. */
export interface CursorPos {
  scanoutId: number;
  x: number;
  y: number;
  /** The wire's padding field (decoded values carry it; encoders write 0 when absent). */
  padding?: number;
}

/** struct virtio_gpu_cursor_pos */
export const CursorPos = { SIZE: 16, scanoutId: 0, x: 4, y: 8, padding: 12 } as const;

/** struct virtio_gpu_update_cursor (VIRTIO_GPU_CMD_UPDATE_CURSOR, VIRTIO_GPU_CMD_MOVE_CURSOR; cursorq) */
export const UpdateCursor = {
  SIZE: 56,
  hdr: 0, // CtrlHdr, 24 bytes
  pos: 24, // CursorPos, 16 bytes
  resourceId: 40, // le32, update only
  hotX: 44, // le32, update only
  hotY: 48, // le32, update only
  padding: 52, // le32
} as const;

/** struct virtio_gpu_resource_unref (VIRTIO_GPU_CMD_RESOURCE_UNREF) */
export const ResourceUnref = { SIZE: 32, hdr: 0, resourceId: 24, padding: 28 } as const;

/** struct virtio_gpu_resource_create_2d (VIRTIO_GPU_CMD_RESOURCE_CREATE_2D) */
export const ResourceCreate2d = {
  SIZE: 40,
  hdr: 0, // CtrlHdr, 24 bytes
  resourceId: 24, // le32
  format: 28, // le32
  width: 32, // le32
  height: 36, // le32
} as const;

/** struct virtio_gpu_set_scanout (VIRTIO_GPU_CMD_SET_SCANOUT) */
export const SetScanout = { SIZE: 48, hdr: 0, r: 24, scanoutId: 40, resourceId: 44 } as const;

/** struct virtio_gpu_resource_flush (VIRTIO_GPU_CMD_RESOURCE_FLUSH) */
export const ResourceFlush = { SIZE: 48, hdr: 0, r: 24, resourceId: 40, padding: 44 } as const;

/** struct virtio_gpu_transfer_to_host_2d (VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D) */
export const TransferToHost2d = {
  SIZE: 56,
  hdr: 0,
  r: 24, // Rect
  offset: 40, // le64
  resourceId: 48, // le32
  padding: 52, // le32
} as const;

/** struct virtio_gpu_resource_attach_backing (VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING); nr_entries MemEntry follow */
export const ResourceAttachBacking = { SIZE: 32, hdr: 0, resourceId: 24, nrEntries: 28 } as const;

/** struct virtio_gpu_resource_detach_backing (VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING) */
export const ResourceDetachBacking = { SIZE: 32, hdr: 0, resourceId: 24, padding: 28 } as const;

/** A decoded struct virtio_gpu_display_one (one scanout in RESP_OK_DISPLAY_INFO). */
export interface DisplayOne {
  r: Rect;
  enabled: number;
  flags: number;
}

/** struct virtio_gpu_display_one (an element of resp_display_info.pmodes) */
export const DisplayOne = { SIZE: 24, r: 0, enabled: 16, flags: 20 } as const;

/** struct virtio_gpu_resp_display_info (VIRTIO_GPU_RESP_OK_DISPLAY_INFO) */
export const RespDisplayInfo = {
  SIZE: 408,
  hdr: 0,
  pmodes: 24, // DisplayOne[VIRTIO_GPU_MAX_SCANOUTS]
} as const;

/** struct virtio_gpu_transfer_host_3d (VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, _FROM_HOST_3D) */
export const TransferHost3d = {
  SIZE: 72,
  hdr: 0,
  box: 24, // Box, 24 bytes
  offset: 48, // le64
  resourceId: 56,
  level: 60,
  stride: 64,
  layerStride: 68,
} as const;

/** struct virtio_gpu_resource_create_3d (VIRTIO_GPU_CMD_RESOURCE_CREATE_3D) */
export const ResourceCreate3d = {
  SIZE: 72,
  hdr: 0,
  resourceId: 24,
  target: 28,
  format: 32,
  bind: 36,
  width: 40,
  height: 44,
  depth: 48,
  arraySize: 52,
  lastLevel: 56,
  nrSamples: 60,
  flags: 64,
  padding: 68,
} as const;

/** struct virtio_gpu_ctx_create (VIRTIO_GPU_CMD_CTX_CREATE) */
export const CtxCreate = {
  SIZE: 96,
  hdr: 0,
  nlen: 24, // le32, bytes of debug_name used, at most 64
  contextInit: 28, // le32, capset id in VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK
  debugName: 32, // char[64]
} as const;

/** struct virtio_gpu_ctx_destroy (VIRTIO_GPU_CMD_CTX_DESTROY) */
export const CtxDestroy = { SIZE: 24, hdr: 0 } as const;

/** struct virtio_gpu_ctx_resource (VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, _DETACH_RESOURCE) */
export const CtxResource = { SIZE: 32, hdr: 0, resourceId: 24, padding: 28 } as const;

/** struct virtio_gpu_cmd_submit (VIRTIO_GPU_CMD_SUBMIT_3D); `size` bytes of commands follow */
export const CmdSubmit = { SIZE: 32, hdr: 0, size: 24, padding: 28 } as const;

/** struct virtio_gpu_get_capset_info (VIRTIO_GPU_CMD_GET_CAPSET_INFO) */
export const GetCapsetInfo = { SIZE: 32, hdr: 0, capsetIndex: 24, padding: 28 } as const;

/** struct virtio_gpu_resp_capset_info (VIRTIO_GPU_RESP_OK_CAPSET_INFO) */
export const RespCapsetInfo = {
  SIZE: 40,
  hdr: 0,
  capsetId: 24,
  capsetMaxVersion: 28,
  capsetMaxSize: 32,
  padding: 36,
} as const;

/** struct virtio_gpu_get_capset (VIRTIO_GPU_CMD_GET_CAPSET) */
export const GetCapset = { SIZE: 32, hdr: 0, capsetId: 24, capsetVersion: 28 } as const;

/** struct virtio_gpu_resp_capset (VIRTIO_GPU_RESP_OK_CAPSET); capset_data is a flexible array */
export const RespCapset = { SIZE: 24, hdr: 0, capsetData: 24 } as const;

/** struct virtio_gpu_cmd_get_edid (VIRTIO_GPU_CMD_GET_EDID); named GetEdid: CmdGetEdid is the decoded command type */
export const GetEdid = { SIZE: 32, hdr: 0, scanout: 24, padding: 28 } as const;

/** struct virtio_gpu_resp_edid (VIRTIO_GPU_RESP_OK_EDID) */
export const RespEdid = { SIZE: 1056, hdr: 0, size: 24, padding: 28, edid: 32 } as const;

/** struct virtio_gpu_config (device configuration space, spec §5.7.4) */
export const Config = { SIZE: 16, eventsRead: 0, eventsClear: 4, numScanouts: 8, numCapsets: 12 } as const;

/** struct virtio_gpu_resource_assign_uuid (VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID) */
export const ResourceAssignUuid = { SIZE: 32, hdr: 0, resourceId: 24, padding: 28 } as const;

/** struct virtio_gpu_resp_resource_uuid (VIRTIO_GPU_RESP_OK_RESOURCE_UUID) */
export const RespResourceUuid = { SIZE: 40, hdr: 0, uuid: 24 } as const;

/** struct virtio_gpu_resource_create_blob (VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB); nr_entries MemEntry follow */
export const ResourceCreateBlob = {
  SIZE: 56,
  hdr: 0,
  resourceId: 24,
  blobMem: 28, // VIRTIO_GPU_BLOB_MEM_*, zero is invalid
  blobFlags: 32, // VIRTIO_GPU_BLOB_FLAG_*
  nrEntries: 36,
  blobId: 40, // le64
  size: 48, // le64
} as const;

/** struct virtio_gpu_set_scanout_blob (VIRTIO_GPU_CMD_SET_SCANOUT_BLOB) */
export const SetScanoutBlob = {
  SIZE: 96,
  hdr: 0,
  r: 24, // Rect
  scanoutId: 40,
  resourceId: 44,
  width: 48,
  height: 52,
  format: 56,
  padding: 60,
  strides: 64, // le32[4]
  offsets: 80, // le32[4]
} as const;

/** struct virtio_gpu_resource_map_blob (VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB) */
export const ResourceMapBlob = { SIZE: 40, hdr: 0, resourceId: 24, padding: 28, offset: 32 } as const;

/** struct virtio_gpu_resp_map_info (VIRTIO_GPU_RESP_OK_MAP_INFO) */
export const RespMapInfo = { SIZE: 32, hdr: 0, mapInfo: 24, padding: 28 } as const;

/** struct virtio_gpu_resource_unmap_blob (VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB) */
export const ResourceUnmapBlob = { SIZE: 32, hdr: 0, resourceId: 24, padding: 28 } as const;

/** Offset table for each C struct name, for tests and tools that walk both views. */
export const OFFSET_TABLES: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  virtio_gpu_ctrl_hdr: CtrlHdr,
  virtio_gpu_rect: Rect,
  virtio_gpu_box: Box,
  virtio_gpu_mem_entry: MemEntry,
  virtio_gpu_cursor_pos: CursorPos,
  virtio_gpu_update_cursor: UpdateCursor,
  virtio_gpu_resource_unref: ResourceUnref,
  virtio_gpu_resource_create_2d: ResourceCreate2d,
  virtio_gpu_set_scanout: SetScanout,
  virtio_gpu_resource_flush: ResourceFlush,
  virtio_gpu_transfer_to_host_2d: TransferToHost2d,
  virtio_gpu_resource_attach_backing: ResourceAttachBacking,
  virtio_gpu_resource_detach_backing: ResourceDetachBacking,
  virtio_gpu_display_one: DisplayOne,
  virtio_gpu_resp_display_info: RespDisplayInfo,
  virtio_gpu_transfer_host_3d: TransferHost3d,
  virtio_gpu_resource_create_3d: ResourceCreate3d,
  virtio_gpu_ctx_create: CtxCreate,
  virtio_gpu_ctx_destroy: CtxDestroy,
  virtio_gpu_ctx_resource: CtxResource,
  virtio_gpu_cmd_submit: CmdSubmit,
  virtio_gpu_get_capset_info: GetCapsetInfo,
  virtio_gpu_resp_capset_info: RespCapsetInfo,
  virtio_gpu_get_capset: GetCapset,
  virtio_gpu_resp_capset: RespCapset,
  virtio_gpu_cmd_get_edid: GetEdid,
  virtio_gpu_resp_edid: RespEdid,
  virtio_gpu_config: Config,
  virtio_gpu_resource_assign_uuid: ResourceAssignUuid,
  virtio_gpu_resp_resource_uuid: RespResourceUuid,
  virtio_gpu_resource_create_blob: ResourceCreateBlob,
  virtio_gpu_set_scanout_blob: SetScanoutBlob,
  virtio_gpu_resource_map_blob: ResourceMapBlob,
  virtio_gpu_resp_map_info: RespMapInfo,
  virtio_gpu_resource_unmap_blob: ResourceUnmapBlob,
};
