import {
  VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE,
  VIRTIO_GPU_CMD_CTX_CREATE,
  VIRTIO_GPU_CMD_CTX_DESTROY,
  VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE,
  VIRTIO_GPU_CMD_GET_CAPSET,
  VIRTIO_GPU_CMD_GET_CAPSET_INFO,
  VIRTIO_GPU_CMD_GET_DISPLAY_INFO,
  VIRTIO_GPU_CMD_GET_EDID,
  VIRTIO_GPU_CMD_MOVE_CURSOR,
  VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID,
  VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
  VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
  VIRTIO_GPU_CMD_RESOURCE_CREATE_3D,
  VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
  VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
  VIRTIO_GPU_CMD_RESOURCE_FLUSH,
  VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB,
  VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB,
  VIRTIO_GPU_CMD_RESOURCE_UNREF,
  VIRTIO_GPU_CMD_SET_SCANOUT,
  VIRTIO_GPU_CMD_SET_SCANOUT_BLOB,
  VIRTIO_GPU_CMD_SUBMIT_3D,
  VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D,
  VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
  VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D,
  VIRTIO_GPU_CMD_UPDATE_CURSOR,
  type Box,
  type Command,
  type CtrlHdr,
  type MemEntry,
  type Rect,
} from '@virtio-gpu/protocol';

/** A fresh header for `type`: no flags, no fence, context 0. */
export function hdr(type: number, ctxId = 0): CtrlHdr {
  return { type, flags: 0, fenceId: 0n, ctxId, ringIdx: 0 };
}

/** A rect literal. */
export function rect(x: number, y: number, width: number, height: number): Rect {
  return { x, y, width, height };
}

/** Checks a literal against the Command union (its `type` picks the member). */
const c = (o: Command): Command => o;

/**
 * Command builders, one per virtio-gpu command, with spec defaults for what a caller leaves out.
 * Fence, ring and context flags are applied by {@link GpuDriver.send} options.
 */
export const cmd = {
  getDisplayInfo: () => c({ type: VIRTIO_GPU_CMD_GET_DISPLAY_INFO, hdr: hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO) }),
  getEdid: (scanout: number) => c({ type: VIRTIO_GPU_CMD_GET_EDID, hdr: hdr(VIRTIO_GPU_CMD_GET_EDID), scanout, padding: 0 }),
  resourceCreate2d: (resourceId: number, format: number, width: number, height: number) =>
    c({ type: VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, hdr: hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D), resourceId, format, width, height }),
  resourceUnref: (resourceId: number) => c({ type: VIRTIO_GPU_CMD_RESOURCE_UNREF, hdr: hdr(VIRTIO_GPU_CMD_RESOURCE_UNREF), resourceId, padding: 0 }),
  attachBacking: (resourceId: number, entries: MemEntry[]) =>
    c({ type: VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, hdr: hdr(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING), resourceId, nrEntries: entries.length, entries }),
  detachBacking: (resourceId: number) =>
    c({ type: VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, hdr: hdr(VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING), resourceId, padding: 0 }),
  transferToHost2d: (resourceId: number, r: Rect, offset: bigint | number = 0n) =>
    c({ type: VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, hdr: hdr(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D), r, offset: BigInt(offset), resourceId, padding: 0 }),
  resourceFlush: (resourceId: number, r: Rect) =>
    c({ type: VIRTIO_GPU_CMD_RESOURCE_FLUSH, hdr: hdr(VIRTIO_GPU_CMD_RESOURCE_FLUSH), r, resourceId, padding: 0 }),
  setScanout: (scanoutId: number, resourceId: number, r: Rect) =>
    c({ type: VIRTIO_GPU_CMD_SET_SCANOUT, hdr: hdr(VIRTIO_GPU_CMD_SET_SCANOUT), r, scanoutId, resourceId }),
  setScanoutBlob: (scanoutId: number, resourceId: number, r: Rect, width: number, height: number, format: number, strides: number[], offsets: number[]) =>
    c({ type: VIRTIO_GPU_CMD_SET_SCANOUT_BLOB, hdr: hdr(VIRTIO_GPU_CMD_SET_SCANOUT_BLOB), r, scanoutId, resourceId, width, height, format, padding: 0, strides, offsets }),
  assignUuid: (resourceId: number) =>
    c({ type: VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID, hdr: hdr(VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID), resourceId, padding: 0 }),
  createBlob: (resourceId: number, blobMem: number, blobFlags: number, size: bigint | number, entries: MemEntry[] = [], blobId: bigint | number = 0n, ctxId = 0) =>
    c({ type: VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, hdr: hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, ctxId), resourceId, blobMem, blobFlags, nrEntries: entries.length, blobId: BigInt(blobId), size: BigInt(size), entries }),
  mapBlob: (resourceId: number, offset: bigint | number) =>
    c({ type: VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, hdr: hdr(VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB), resourceId, padding: 0, offset: BigInt(offset) }),
  unmapBlob: (resourceId: number) =>
    c({ type: VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, hdr: hdr(VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB), resourceId, padding: 0 }),
  getCapsetInfo: (capsetIndex: number) =>
    c({ type: VIRTIO_GPU_CMD_GET_CAPSET_INFO, hdr: hdr(VIRTIO_GPU_CMD_GET_CAPSET_INFO), capsetIndex, padding: 0 }),
  getCapset: (capsetId: number, capsetVersion: number) =>
    c({ type: VIRTIO_GPU_CMD_GET_CAPSET, hdr: hdr(VIRTIO_GPU_CMD_GET_CAPSET), capsetId, capsetVersion }),
  ctxCreate: (ctxId: number, debugName: string, contextInit = 0) =>
    c({ type: VIRTIO_GPU_CMD_CTX_CREATE, hdr: hdr(VIRTIO_GPU_CMD_CTX_CREATE, ctxId), nlen: new TextEncoder().encode(debugName).length, contextInit, debugName }),
  ctxDestroy: (ctxId: number) => c({ type: VIRTIO_GPU_CMD_CTX_DESTROY, hdr: hdr(VIRTIO_GPU_CMD_CTX_DESTROY, ctxId) }),
  ctxAttachResource: (ctxId: number, resourceId: number) =>
    c({ type: VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, hdr: hdr(VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, ctxId), resourceId, padding: 0 }),
  ctxDetachResource: (ctxId: number, resourceId: number) =>
    c({ type: VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, hdr: hdr(VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, ctxId), resourceId, padding: 0 }),
  resourceCreate3d: (resourceId: number, a: { target: number; format: number; bind: number; width: number; height: number; depth?: number; arraySize?: number; lastLevel?: number; nrSamples?: number; flags?: number }, ctxId = 0) =>
    c({ type: VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, hdr: hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, ctxId), resourceId, target: a.target, format: a.format, bind: a.bind, width: a.width, height: a.height, depth: a.depth ?? 1, arraySize: a.arraySize ?? 1, lastLevel: a.lastLevel ?? 0, nrSamples: a.nrSamples ?? 0, flags: a.flags ?? 0, padding: 0 }),
  transferToHost3d: (ctxId: number, resourceId: number, box: Box, offset: bigint | number = 0n, level = 0, stride = 0, layerStride = 0) =>
    c({ type: VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, hdr: hdr(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, ctxId), box, offset: BigInt(offset), resourceId, level, stride, layerStride }),
  transferFromHost3d: (ctxId: number, resourceId: number, box: Box, offset: bigint | number = 0n, level = 0, stride = 0, layerStride = 0) =>
    c({ type: VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, hdr: hdr(VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, ctxId), box, offset: BigInt(offset), resourceId, level, stride, layerStride }),
  submit3d: (ctxId: number, data: Uint8Array) =>
    c({ type: VIRTIO_GPU_CMD_SUBMIT_3D, hdr: hdr(VIRTIO_GPU_CMD_SUBMIT_3D, ctxId), size: data.length, padding: 0, data }),
  updateCursor: (scanoutId: number, x: number, y: number, resourceId: number, hotX: number, hotY: number) =>
    c({ type: VIRTIO_GPU_CMD_UPDATE_CURSOR, hdr: hdr(VIRTIO_GPU_CMD_UPDATE_CURSOR), pos: { scanoutId, x, y, padding: 0 }, resourceId, hotX, hotY, padding: 0 }),
  moveCursor: (scanoutId: number, x: number, y: number) =>
    c({ type: VIRTIO_GPU_CMD_MOVE_CURSOR, hdr: hdr(VIRTIO_GPU_CMD_MOVE_CURSOR), pos: { scanoutId, x, y, padding: 0 }, resourceId: 0, hotX: 0, hotY: 0, padding: 0 }),
} as const;
