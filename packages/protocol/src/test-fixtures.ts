/**
 * Sample commands and responses for tests (one per type, every field non-zero and distinct so a
 * swapped or missed field shows). Not exported from index.ts.
 */
import * as C from './constants.js';
import type { CtrlHdr } from './layouts.js';
import type { Command, Response } from './types.js';

/** A header with every field set, including a fence id above 2^32. */
export function hdr(type: number, fenceId = 0x1_0000_0007n): CtrlHdr {
  return { type, flags: C.VIRTIO_GPU_FLAG_FENCE | C.VIRTIO_GPU_FLAG_INFO_RING_IDX, fenceId, ctxId: 5, ringIdx: 2 };
}

const r = { x: 1, y: 2, width: 640, height: 480 };

/** The responses that are a header alone: OK_NODATA and every ERR_*. */
export const HDR_ONLY_RESPONSE_TYPES = [
  C.VIRTIO_GPU_RESP_OK_NODATA,
  C.VIRTIO_GPU_RESP_ERR_UNSPEC,
  C.VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
  C.VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID,
  C.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID,
  C.VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID,
  C.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
] as const;

/** One command of every type. */
export const SAMPLE_COMMANDS: Command[] = [
  { type: C.VIRTIO_GPU_CMD_GET_DISPLAY_INFO, hdr: hdr(C.VIRTIO_GPU_CMD_GET_DISPLAY_INFO) },
  { type: C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, hdr: hdr(C.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D), resourceId: 3, format: C.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, width: 640, height: 480 },
  { type: C.VIRTIO_GPU_CMD_RESOURCE_UNREF, hdr: hdr(C.VIRTIO_GPU_CMD_RESOURCE_UNREF), resourceId: 3, padding: 0 },
  { type: C.VIRTIO_GPU_CMD_SET_SCANOUT, hdr: hdr(C.VIRTIO_GPU_CMD_SET_SCANOUT), r, scanoutId: 1, resourceId: 3 },
  { type: C.VIRTIO_GPU_CMD_RESOURCE_FLUSH, hdr: hdr(C.VIRTIO_GPU_CMD_RESOURCE_FLUSH), r, resourceId: 3, padding: 0 },
  { type: C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, hdr: hdr(C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D), r, offset: 0x1_2345_6789n, resourceId: 3, padding: 0 },
  {
    type: C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
    hdr: hdr(C.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING),
    resourceId: 3,
    nrEntries: 2,
    entries: [
      { addr: 0x1000n, length: 4096 },
      { addr: 0xffff_ffff_ffff_f000n, length: 8192 },
    ],
  },
  { type: C.VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, hdr: hdr(C.VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING), resourceId: 3, padding: 0 },
  { type: C.VIRTIO_GPU_CMD_GET_CAPSET_INFO, hdr: hdr(C.VIRTIO_GPU_CMD_GET_CAPSET_INFO), capsetIndex: 1, padding: 0 },
  { type: C.VIRTIO_GPU_CMD_GET_CAPSET, hdr: hdr(C.VIRTIO_GPU_CMD_GET_CAPSET), capsetId: C.VIRTIO_GPU_CAPSET_VENUS, capsetVersion: 2 },
  { type: C.VIRTIO_GPU_CMD_GET_EDID, hdr: hdr(C.VIRTIO_GPU_CMD_GET_EDID), scanout: 1, padding: 0 },
  { type: C.VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID, hdr: hdr(C.VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID), resourceId: 3, padding: 0 },
  {
    type: C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
    hdr: hdr(C.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB),
    resourceId: 9,
    blobMem: C.VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST,
    blobFlags: C.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE | C.VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE,
    nrEntries: 1,
    blobId: 0x8000_0000_0000_0001n,
    size: 0x2_0000_0000n,
    entries: [{ addr: 0x4000_0000n, length: 65536 }],
  },
  {
    type: C.VIRTIO_GPU_CMD_SET_SCANOUT_BLOB,
    hdr: hdr(C.VIRTIO_GPU_CMD_SET_SCANOUT_BLOB),
    r,
    scanoutId: 0,
    resourceId: 9,
    width: 1920,
    height: 1080,
    format: C.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM,
    padding: 0,
    strides: [7680, 3840, 3840, 0],
    offsets: [0, 8294400, 10368000, 0],
  },
  { type: C.VIRTIO_GPU_CMD_CTX_CREATE, hdr: hdr(C.VIRTIO_GPU_CMD_CTX_CREATE), nlen: 11, contextInit: C.VIRTIO_GPU_CAPSET_VENUS, debugName: 'vkcube-test' },
  { type: C.VIRTIO_GPU_CMD_CTX_DESTROY, hdr: hdr(C.VIRTIO_GPU_CMD_CTX_DESTROY) },
  { type: C.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, hdr: hdr(C.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE), resourceId: 3, padding: 0 },
  { type: C.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, hdr: hdr(C.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE), resourceId: 3, padding: 0 },
  {
    type: C.VIRTIO_GPU_CMD_RESOURCE_CREATE_3D,
    hdr: hdr(C.VIRTIO_GPU_CMD_RESOURCE_CREATE_3D),
    resourceId: 4,
    target: 2,
    format: 67,
    bind: 0x10,
    width: 256,
    height: 128,
    depth: 1,
    arraySize: 1,
    lastLevel: 3,
    nrSamples: 0,
    flags: C.VIRTIO_GPU_RESOURCE_FLAG_Y_0_TOP,
    padding: 0,
  },
  ...([C.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, C.VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D] as const).map((type) => ({
    type,
    hdr: hdr(type),
    box: { x: 1, y: 2, z: 3, w: 4, h: 5, d: 6 },
    offset: 0xdead_beef_00n,
    resourceId: 4,
    level: 1,
    stride: 1024,
    layerStride: 131072,
  })),
  { type: C.VIRTIO_GPU_CMD_SUBMIT_3D, hdr: hdr(C.VIRTIO_GPU_CMD_SUBMIT_3D), size: 8, padding: 0, data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) },
  { type: C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, hdr: hdr(C.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB), resourceId: 9, padding: 0, offset: 0x10_0000n },
  { type: C.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, hdr: hdr(C.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB), resourceId: 9, padding: 0 },
  ...([C.VIRTIO_GPU_CMD_UPDATE_CURSOR, C.VIRTIO_GPU_CMD_MOVE_CURSOR] as const).map((type) => ({
    type,
    hdr: hdr(type, 0n),
    pos: { scanoutId: 0, x: 100, y: 200, padding: 0 },
    resourceId: 7,
    hotX: 3,
    hotY: 4,
    padding: 0,
  })),
];

/** One response of every type. */
export const SAMPLE_RESPONSES: Response[] = [
  ...HDR_ONLY_RESPONSE_TYPES.map((type) => ({ type, hdr: hdr(type) })),
  {
    type: C.VIRTIO_GPU_RESP_OK_DISPLAY_INFO,
    hdr: hdr(C.VIRTIO_GPU_RESP_OK_DISPLAY_INFO),
    pmodes: Array.from({ length: C.VIRTIO_GPU_MAX_SCANOUTS }, (_, i) => ({
      r: { x: i, y: 0, width: i < 2 ? 1024 : 0, height: i < 2 ? 768 : 0 },
      enabled: i < 2 ? 1 : 0,
      flags: 0,
    })),
  },
  { type: C.VIRTIO_GPU_RESP_OK_CAPSET_INFO, hdr: hdr(C.VIRTIO_GPU_RESP_OK_CAPSET_INFO), capsetId: 2, capsetMaxVersion: 2, capsetMaxSize: 0x300, padding: 0 },
  { type: C.VIRTIO_GPU_RESP_OK_CAPSET, hdr: hdr(C.VIRTIO_GPU_RESP_OK_CAPSET), data: new Uint8Array([9, 8, 7, 6, 5]) },
  { type: C.VIRTIO_GPU_RESP_OK_EDID, hdr: hdr(C.VIRTIO_GPU_RESP_OK_EDID), size: 128, padding: 0, edid: new Uint8Array(128).fill(0xab) },
  { type: C.VIRTIO_GPU_RESP_OK_RESOURCE_UUID, hdr: hdr(C.VIRTIO_GPU_RESP_OK_RESOURCE_UUID), uuid: new Uint8Array(16).map((_, i) => i + 1) },
  { type: C.VIRTIO_GPU_RESP_OK_MAP_INFO, hdr: hdr(C.VIRTIO_GPU_RESP_OK_MAP_INFO), mapInfo: C.VIRTIO_GPU_MAP_CACHE_WC, padding: 0 },
];
