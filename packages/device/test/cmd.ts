/** Compact command builders for device tests. */
import * as P from '@virtio-gpu/protocol';
import type { Command, CtrlHdr, MemEntry, Rect } from '@virtio-gpu/protocol';

type H = Partial<CtrlHdr>;
const h = (type: number, o: H = {}): CtrlHdr => ({ type, flags: 0, fenceId: 0n, ctxId: 0, ringIdx: 0, ...o });
export const rect = (x: number, y: number, width: number, height: number): Rect => ({ x, y, width, height });

export const C = {
  displayInfo: (o?: H): Command => ({ type: P.VIRTIO_GPU_CMD_GET_DISPLAY_INFO, hdr: h(P.VIRTIO_GPU_CMD_GET_DISPLAY_INFO, o) }),
  create2d: (resourceId: number, format: number, width: number, height: number, o?: H): Command => ({
    type: P.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, hdr: h(P.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, o), resourceId, format, width, height,
  }),
  unref: (resourceId: number, o?: H): Command => ({ type: P.VIRTIO_GPU_CMD_RESOURCE_UNREF, hdr: h(P.VIRTIO_GPU_CMD_RESOURCE_UNREF, o), resourceId }),
  setScanout: (scanoutId: number, resourceId: number, r: Rect, o?: H): Command => ({
    type: P.VIRTIO_GPU_CMD_SET_SCANOUT, hdr: h(P.VIRTIO_GPU_CMD_SET_SCANOUT, o), r, scanoutId, resourceId,
  }),
  flush: (resourceId: number, r: Rect, o?: H): Command => ({ type: P.VIRTIO_GPU_CMD_RESOURCE_FLUSH, hdr: h(P.VIRTIO_GPU_CMD_RESOURCE_FLUSH, o), r, resourceId }),
  transfer2d: (resourceId: number, r: Rect, offset: bigint, o?: H): Command => ({
    type: P.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, hdr: h(P.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, o), r, offset, resourceId,
  }),
  attach: (resourceId: number, entries: MemEntry[], o?: H): Command => ({
    type: P.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, hdr: h(P.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, o), resourceId, nrEntries: entries.length, entries,
  }),
  detach: (resourceId: number, o?: H): Command => ({ type: P.VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, hdr: h(P.VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, o), resourceId }),
  capsetInfo: (capsetIndex: number, o?: H): Command => ({ type: P.VIRTIO_GPU_CMD_GET_CAPSET_INFO, hdr: h(P.VIRTIO_GPU_CMD_GET_CAPSET_INFO, o), capsetIndex }),
  capset: (capsetId: number, capsetVersion: number, o?: H): Command => ({ type: P.VIRTIO_GPU_CMD_GET_CAPSET, hdr: h(P.VIRTIO_GPU_CMD_GET_CAPSET, o), capsetId, capsetVersion }),
  edid: (scanout: number, o?: H): Command => ({ type: P.VIRTIO_GPU_CMD_GET_EDID, hdr: h(P.VIRTIO_GPU_CMD_GET_EDID, o), scanout }),
  uuid: (resourceId: number, o?: H): Command => ({ type: P.VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID, hdr: h(P.VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID, o), resourceId }),
  createBlob: (resourceId: number, blobMem: number, blobFlags: number, size: bigint, entries: MemEntry[] = [], o?: H, blobId = 0n): Command => ({
    type: P.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, hdr: h(P.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, o), resourceId, blobMem, blobFlags, nrEntries: entries.length, blobId, size, entries,
  }),
  setScanoutBlob: (scanoutId: number, resourceId: number, r: Rect, width: number, height: number, format: number, stride: number, offset = 0, o?: H): Command => ({
    type: P.VIRTIO_GPU_CMD_SET_SCANOUT_BLOB, hdr: h(P.VIRTIO_GPU_CMD_SET_SCANOUT_BLOB, o), r, scanoutId, resourceId, width, height, format,
    strides: [stride, 0, 0, 0], offsets: [offset, 0, 0, 0],
  }),
  ctxCreate: (ctxId: number, contextInit = 0, debugName = 'test', o?: H): Command => ({
    type: P.VIRTIO_GPU_CMD_CTX_CREATE, hdr: h(P.VIRTIO_GPU_CMD_CTX_CREATE, { ctxId, ...o }), nlen: debugName.length, contextInit, debugName,
  }),
  ctxDestroy: (ctxId: number, o?: H): Command => ({ type: P.VIRTIO_GPU_CMD_CTX_DESTROY, hdr: h(P.VIRTIO_GPU_CMD_CTX_DESTROY, { ctxId, ...o }) }),
  ctxAttach: (ctxId: number, resourceId: number, o?: H): Command => ({ type: P.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, hdr: h(P.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, { ctxId, ...o }), resourceId }),
  ctxDetach: (ctxId: number, resourceId: number, o?: H): Command => ({ type: P.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, hdr: h(P.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, { ctxId, ...o }), resourceId }),
  create3d: (resourceId: number, width: number, height: number, o?: H): Command => ({
    type: P.VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, hdr: h(P.VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, o), resourceId, target: 2, format: 1, bind: 2, width, height, depth: 1, arraySize: 1, lastLevel: 0, nrSamples: 0, flags: 0,
  }),
  transfer3d: (to: boolean, resourceId: number, o?: H): Command => ({
    type: to ? P.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D : P.VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D,
    hdr: h(to ? P.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D : P.VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, o),
    box: { x: 0, y: 0, z: 0, w: 4, h: 4, d: 1 }, offset: 0n, resourceId, level: 0, stride: 16, layerStride: 0,
  }),
  submit: (ctxId: number, data: Uint8Array, o?: H): Command => ({ type: P.VIRTIO_GPU_CMD_SUBMIT_3D, hdr: h(P.VIRTIO_GPU_CMD_SUBMIT_3D, { ctxId, ...o }), size: data.byteLength, data }),
  mapBlob: (resourceId: number, offset: bigint, o?: H): Command => ({ type: P.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, hdr: h(P.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, o), resourceId, offset }),
  unmapBlob: (resourceId: number, o?: H): Command => ({ type: P.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, hdr: h(P.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, o), resourceId }),
  updateCursor: (scanoutId: number, resourceId: number, x: number, y: number, hotX = 0, hotY = 0, o?: H): Command => ({
    type: P.VIRTIO_GPU_CMD_UPDATE_CURSOR, hdr: h(P.VIRTIO_GPU_CMD_UPDATE_CURSOR, o), pos: { scanoutId, x, y }, resourceId, hotX, hotY,
  }),
  moveCursor: (scanoutId: number, x: number, y: number, o?: H): Command => ({
    type: P.VIRTIO_GPU_CMD_MOVE_CURSOR, hdr: h(P.VIRTIO_GPU_CMD_MOVE_CURSOR, o), pos: { scanoutId, x, y }, resourceId: 0, hotX: 0, hotY: 0,
  }),
};
