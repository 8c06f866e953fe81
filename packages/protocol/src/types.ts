/**
 * Decoded commands and responses (docs/architecture.md). Field names are camelCase of the C names;
 * 64-bit fields are bigint (the rule: view.ts). `type` repeats `hdr.type` so a switch on it narrows the union.
 *
 * Where the C struct has a scalar `padding` field, decoded values carry it as `padding` (what the
 * guest actually sent, for tools like `virtio-gpu decode`); it is optional so code building
 * commands by hand can leave it out, and encoders write 0 when it is absent.
 */
import type * as C from './constants.js';
import type { Box, CtrlHdr, CursorPos, DisplayOne, MemEntry, Rect } from './layouts.js';

/** VIRTIO_GPU_CMD_GET_DISPLAY_INFO */
export interface CmdGetDisplayInfo { type: typeof C.VIRTIO_GPU_CMD_GET_DISPLAY_INFO; hdr: CtrlHdr }
/** VIRTIO_GPU_CMD_RESOURCE_CREATE_2D */
export interface CmdResourceCreate2d {
  type: typeof C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D;
  hdr: CtrlHdr;
  resourceId: number;
  format: number;
  width: number;
  height: number;
}
/** VIRTIO_GPU_CMD_RESOURCE_UNREF */
export interface CmdResourceUnref { type: typeof C.VIRTIO_GPU_CMD_RESOURCE_UNREF; hdr: CtrlHdr; resourceId: number; padding?: number }
/** VIRTIO_GPU_CMD_SET_SCANOUT */
export interface CmdSetScanout { type: typeof C.VIRTIO_GPU_CMD_SET_SCANOUT; hdr: CtrlHdr; r: Rect; scanoutId: number; resourceId: number }
/** VIRTIO_GPU_CMD_RESOURCE_FLUSH */
export interface CmdResourceFlush { type: typeof C.VIRTIO_GPU_CMD_RESOURCE_FLUSH; hdr: CtrlHdr; r: Rect; resourceId: number; padding?: number }
/** VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D */
export interface CmdTransferToHost2d {
  type: typeof C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D;
  hdr: CtrlHdr;
  r: Rect;
  offset: bigint;
  resourceId: number;
  padding?: number;
}
/** VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING; `entries` are the nr_entries mem entries that follow. */
export interface CmdResourceAttachBacking {
  type: typeof C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING;
  hdr: CtrlHdr;
  resourceId: number;
  nrEntries: number;
  entries: MemEntry[];
}
/** VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING */
export interface CmdResourceDetachBacking { type: typeof C.VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING; hdr: CtrlHdr; resourceId: number; padding?: number }
/** VIRTIO_GPU_CMD_GET_CAPSET_INFO */
export interface CmdGetCapsetInfo { type: typeof C.VIRTIO_GPU_CMD_GET_CAPSET_INFO; hdr: CtrlHdr; capsetIndex: number; padding?: number }
/** VIRTIO_GPU_CMD_GET_CAPSET */
export interface CmdGetCapset { type: typeof C.VIRTIO_GPU_CMD_GET_CAPSET; hdr: CtrlHdr; capsetId: number; capsetVersion: number }
/** VIRTIO_GPU_CMD_GET_EDID */
export interface CmdGetEdid { type: typeof C.VIRTIO_GPU_CMD_GET_EDID; hdr: CtrlHdr; scanout: number; padding?: number }
/** VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID */
export interface CmdResourceAssignUuid { type: typeof C.VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID; hdr: CtrlHdr; resourceId: number; padding?: number }
/** VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB; `entries` are the nr_entries mem entries that follow. */
export interface CmdResourceCreateBlob {
  type: typeof C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB;
  hdr: CtrlHdr;
  resourceId: number;
  blobMem: number;
  blobFlags: number;
  nrEntries: number;
  blobId: bigint;
  size: bigint;
  entries: MemEntry[];
}
/** VIRTIO_GPU_CMD_SET_SCANOUT_BLOB */
export interface CmdSetScanoutBlob {
  type: typeof C.VIRTIO_GPU_CMD_SET_SCANOUT_BLOB;
  hdr: CtrlHdr;
  r: Rect;
  scanoutId: number;
  resourceId: number;
  width: number;
  height: number;
  format: number;
  padding?: number;
  /** 4 plane strides in bytes. */
  strides: number[];
  /** 4 plane offsets in bytes. */
  offsets: number[];
}
/** VIRTIO_GPU_CMD_CTX_CREATE; `debugName` is the first nlen bytes of debug_name as UTF-8. */
export interface CmdCtxCreate { type: typeof C.VIRTIO_GPU_CMD_CTX_CREATE; hdr: CtrlHdr; nlen: number; contextInit: number; debugName: string }
/** VIRTIO_GPU_CMD_CTX_DESTROY */
export interface CmdCtxDestroy { type: typeof C.VIRTIO_GPU_CMD_CTX_DESTROY; hdr: CtrlHdr }
/** VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE or VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE */
export interface CmdCtxResource {
  type: typeof C.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE | typeof C.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE;
  hdr: CtrlHdr;
  resourceId: number;
  padding?: number;
}
/** VIRTIO_GPU_CMD_RESOURCE_CREATE_3D */
export interface CmdResourceCreate3d {
  type: typeof C.VIRTIO_GPU_CMD_RESOURCE_CREATE_3D;
  hdr: CtrlHdr;
  resourceId: number;
  target: number;
  format: number;
  bind: number;
  width: number;
  height: number;
  depth: number;
  arraySize: number;
  lastLevel: number;
  nrSamples: number;
  flags: number;
  padding?: number;
}
/** VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D or VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D */
export interface CmdTransferHost3d {
  type: typeof C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D | typeof C.VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D;
  hdr: CtrlHdr;
  box: Box;
  offset: bigint;
  resourceId: number;
  level: number;
  stride: number;
  layerStride: number;
}
/** VIRTIO_GPU_CMD_SUBMIT_3D; `data` (size bytes) is a view into the decoded input, not a copy. */
export interface CmdSubmit3d { type: typeof C.VIRTIO_GPU_CMD_SUBMIT_3D; hdr: CtrlHdr; size: number; padding?: number; data: Uint8Array }
/** VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB */
export interface CmdResourceMapBlob { type: typeof C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB; hdr: CtrlHdr; resourceId: number; padding?: number; offset: bigint }
/** VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB */
export interface CmdResourceUnmapBlob { type: typeof C.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB; hdr: CtrlHdr; resourceId: number; padding?: number }
/** VIRTIO_GPU_CMD_UPDATE_CURSOR or VIRTIO_GPU_CMD_MOVE_CURSOR (cursorq). */
export interface CmdCursor {
  type: typeof C.VIRTIO_GPU_CMD_UPDATE_CURSOR | typeof C.VIRTIO_GPU_CMD_MOVE_CURSOR;
  hdr: CtrlHdr;
  pos: CursorPos;
  resourceId: number;
  hotX: number;
  hotY: number;
  padding?: number;
}

/** Any command the driver can send on the control or cursor queue. */
export type Command =
  | CmdGetDisplayInfo
  | CmdResourceCreate2d
  | CmdResourceUnref
  | CmdSetScanout
  | CmdResourceFlush
  | CmdTransferToHost2d
  | CmdResourceAttachBacking
  | CmdResourceDetachBacking
  | CmdGetCapsetInfo
  | CmdGetCapset
  | CmdGetEdid
  | CmdResourceAssignUuid
  | CmdResourceCreateBlob
  | CmdSetScanoutBlob
  | CmdCtxCreate
  | CmdCtxDestroy
  | CmdCtxResource
  | CmdResourceCreate3d
  | CmdTransferHost3d
  | CmdSubmit3d
  | CmdResourceMapBlob
  | CmdResourceUnmapBlob
  | CmdCursor;

/** The type values of responses that carry only a header. */
export type HdrOnlyResponseType =
  | typeof C.VIRTIO_GPU_RESP_OK_NODATA
  | typeof C.VIRTIO_GPU_RESP_ERR_UNSPEC
  | typeof C.VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY
  | typeof C.VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID
  | typeof C.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID
  | typeof C.VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID
  | typeof C.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;

/** VIRTIO_GPU_RESP_OK_NODATA or any VIRTIO_GPU_RESP_ERR_*: header only. */
export interface RespNoData { type: HdrOnlyResponseType; hdr: CtrlHdr }
/** VIRTIO_GPU_RESP_OK_DISPLAY_INFO; encode takes up to 16 pmodes (missing ones are zero), decode gives 16. */
export interface RespOkDisplayInfo { type: typeof C.VIRTIO_GPU_RESP_OK_DISPLAY_INFO; hdr: CtrlHdr; pmodes: DisplayOne[] }
/** VIRTIO_GPU_RESP_OK_CAPSET_INFO */
export interface RespOkCapsetInfo {
  type: typeof C.VIRTIO_GPU_RESP_OK_CAPSET_INFO;
  hdr: CtrlHdr;
  capsetId: number;
  capsetMaxVersion: number;
  capsetMaxSize: number;
  padding?: number;
}
/** VIRTIO_GPU_RESP_OK_CAPSET; `data` is capset_data (decoded: a view of the rest of the input). */
export interface RespOkCapset { type: typeof C.VIRTIO_GPU_RESP_OK_CAPSET; hdr: CtrlHdr; data: Uint8Array }
/** VIRTIO_GPU_RESP_OK_EDID; `edid` holds the first `size` bytes (at most 1024; decoded: a view). */
export interface RespOkEdid { type: typeof C.VIRTIO_GPU_RESP_OK_EDID; hdr: CtrlHdr; size: number; padding?: number; edid: Uint8Array }
/** VIRTIO_GPU_RESP_OK_RESOURCE_UUID; `uuid` is 16 bytes (decoded: a view). */
export interface RespOkResourceUuid { type: typeof C.VIRTIO_GPU_RESP_OK_RESOURCE_UUID; hdr: CtrlHdr; uuid: Uint8Array }
/** VIRTIO_GPU_RESP_OK_MAP_INFO; mapInfo holds VIRTIO_GPU_MAP_CACHE_* in VIRTIO_GPU_MAP_CACHE_MASK. */
export interface RespOkMapInfo { type: typeof C.VIRTIO_GPU_RESP_OK_MAP_INFO; hdr: CtrlHdr; mapInfo: number; padding?: number }

/** Any response the device can write. */
export type Response = RespNoData | RespOkDisplayInfo | RespOkCapsetInfo | RespOkCapset | RespOkEdid | RespOkResourceUuid | RespOkMapInfo;

/** `T` without its `hdr`, for each member of a union. */
type WithoutHdr<T> = T extends unknown ? Omit<T, 'hdr'> : never;

/**
 * A response without its header: what a device's command handler answers with. The header
 * follows from the command's (virtio-gpu §5.7.6.7); `encodeReply` writes both.
 */
export type ResponseBody = WithoutHdr<Response>;

/**
 * Why bytes did not decode. `short`: fewer bytes than the struct (or the offset/length arguments
 * point outside the buffer); `unknown-type`: hdr.type is not a command/response; `inconsistent`:
 * a count or length inside the struct disagrees with the bytes present or with the spec's limits.
 */
export interface DecodeError {
  kind: 'short' | 'unknown-type' | 'inconsistent';
  message: string;
  /** hdr.type, when enough bytes were present to read it. */
  type?: number;
}

/** Result of decodeCommand: never an exception. */
export type DecodeResult = { ok: true; cmd: Command } | { ok: false; error: DecodeError };
/** Result of decodeResponse: never an exception. */
export type DecodeResponseResult = { ok: true; resp: Response } | { ok: false; error: DecodeError };
