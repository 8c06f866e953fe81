/**
 * The vhost-user-gpu display protocol (QEMU docs/interop/vhost-user-gpu.rst; QEMU's
 * hw/display/vhost-user-gpu.c): the backend sends requests over the socket it got with
 * VHOST_USER_GPU_SET_SOCKET, QEMU answers some of them. Same 12-byte header as vhost-user
 * (request, flags, size); bit 2 of flags marks a reply. Native byte order = little-endian here.
 */
import {
  type DisplayOne,
  RespDisplayInfo,
  RespEdid,
  VIRTIO_GPU_MAX_SCANOUTS,
  VIRTIO_GPU_RESP_OK_DISPLAY_INFO,
  VIRTIO_GPU_RESP_OK_EDID,
  decodeResponse,
} from '@virtio-gpu/protocol';

/** Request types (VhostUserGpuRequest). */
export const VHOST_USER_GPU_GET_PROTOCOL_FEATURES = 1;
export const VHOST_USER_GPU_SET_PROTOCOL_FEATURES = 2;
export const VHOST_USER_GPU_GET_DISPLAY_INFO = 3;
export const VHOST_USER_GPU_CURSOR_POS = 4;
export const VHOST_USER_GPU_CURSOR_POS_HIDE = 5;
export const VHOST_USER_GPU_CURSOR_UPDATE = 6;
export const VHOST_USER_GPU_SCANOUT = 7;
export const VHOST_USER_GPU_UPDATE = 8;
export const VHOST_USER_GPU_DMABUF_SCANOUT = 9;
export const VHOST_USER_GPU_DMABUF_UPDATE = 10;
export const VHOST_USER_GPU_GET_EDID = 11;
export const VHOST_USER_GPU_DMABUF_SCANOUT2 = 12;

/** Reply flag (VHOST_USER_GPU_MSG_FLAG_REPLY). */
export const VHOST_USER_GPU_MSG_FLAG_REPLY = 0x4;

/** Protocol feature bits. */
export const VHOST_USER_GPU_PROTOCOL_F_EDID = 0;
export const VHOST_USER_GPU_PROTOCOL_F_DMABUF2 = 1;

/** Message header (VhostUserGpuMsg's first three fields). */
export const VhostUserGpuHeader = {
  SIZE: 12,
  request: 0, // u32
  flags: 4, // u32
  size: 8, // u32, payload bytes that follow
} as const;

/** VhostUserGpuCursorPos (CURSOR_POS, CURSOR_POS_HIDE). */
export const VhostUserGpuCursorPos = {
  SIZE: 12,
  scanoutId: 0, // u32
  x: 4, // u32
  y: 8, // u32
} as const;

/** Cursor image edge: CURSOR_UPDATE carries 64x64 pixels. */
export const GPU_CURSOR_SIZE = 64;

/** VhostUserGpuCursorUpdate: position, hotspot, 64x64 PIXMAN_a8r8g8b8 (LE bytes B, G, R, A). */
export const VhostUserGpuCursorUpdate = {
  SIZE: 12 + 8 + GPU_CURSOR_SIZE * GPU_CURSOR_SIZE * 4,
  pos: 0, // VhostUserGpuCursorPos
  hotX: 12, // u32
  hotY: 16, // u32
  data: 20, // u32[64 * 64]
} as const;

/** VhostUserGpuScanout (SCANOUT): a new surface of this size; width 0 disables the scanout. */
export const VhostUserGpuScanout = {
  SIZE: 12,
  scanoutId: 0, // u32
  width: 4, // u32
  height: 8, // u32
} as const;

/** VhostUserGpuUpdate (UPDATE, DMABUF_UPDATE): UPDATE's PIXMAN_x8r8g8b8 rows, width*4 apart, follow. */
export const VhostUserGpuUpdate = {
  SIZE: 20, // without data
  scanoutId: 0, // u32
  x: 4, // u32
  y: 8, // u32
  width: 12, // u32
  height: 16, // u32
  data: 20, // u8[width * height * 4] (UPDATE only)
} as const;

/** VhostUserGpuDMABUFScanout (DMABUF_SCANOUT); the dmabuf fd rides in the ancillary data. */
export const VhostUserGpuDMABUFScanout = {
  SIZE: 40,
  scanoutId: 0, // u32
  x: 4, // u32
  y: 8, // u32
  width: 12, // u32
  height: 16, // u32
  fdWidth: 20, // u32
  fdHeight: 24, // u32
  fdStride: 28, // u32
  fdFlags: 32, // u32
  fdDrmFourcc: 36, // i32
} as const;

/** VhostUserGpuDMABUFScanout2 (DMABUF_SCANOUT2): DMABUF_SCANOUT plus the format modifier. */
export const VhostUserGpuDMABUFScanout2 = {
  SIZE: 48,
  dmabufScanout: 0, // VhostUserGpuDMABUFScanout
  modifier: 40, // u64
} as const;

/** VhostUserGpuEdidRequest (GET_EDID). */
export const VhostUserGpuEdidRequest = {
  SIZE: 4,
  scanoutId: 0, // u32
} as const;

/** Bytes of an UPDATE message for a w x h rect: header, update head, pixels. */
export function updateMessageSize(width: number, height: number): number {
  return VhostUserGpuHeader.SIZE + VhostUserGpuUpdate.SIZE + width * height * 4;
}

function header(v: DataView, at: number, request: number, size: number): void {
  v.setUint32(at + VhostUserGpuHeader.request, request, true);
  v.setUint32(at + VhostUserGpuHeader.flags, 0, true);
  v.setUint32(at + VhostUserGpuHeader.size, size, true);
}

/** A request with no payload (GET_PROTOCOL_FEATURES, GET_DISPLAY_INFO). Returns bytes written. */
export function encodeBare(v: DataView, at: number, request: number): number {
  header(v, at, request, 0);
  return VhostUserGpuHeader.SIZE;
}

/** SET_PROTOCOL_FEATURES. */
export function encodeSetProtocolFeatures(v: DataView, at: number, features: bigint): number {
  header(v, at, VHOST_USER_GPU_SET_PROTOCOL_FEATURES, 8);
  v.setBigUint64(at + VhostUserGpuHeader.SIZE, BigInt.asUintN(64, features), true);
  return VhostUserGpuHeader.SIZE + 8;
}

/** GET_EDID for `scanoutId`. */
export function encodeGetEdid(v: DataView, at: number, scanoutId: number): number {
  header(v, at, VHOST_USER_GPU_GET_EDID, VhostUserGpuEdidRequest.SIZE);
  v.setUint32(at + VhostUserGpuHeader.SIZE + VhostUserGpuEdidRequest.scanoutId, scanoutId, true);
  return VhostUserGpuHeader.SIZE + VhostUserGpuEdidRequest.SIZE;
}

/** SCANOUT: the scanout's new size (0x0 disables it). */
export function encodeScanout(v: DataView, at: number, scanoutId: number, width: number, height: number): number {
  header(v, at, VHOST_USER_GPU_SCANOUT, VhostUserGpuScanout.SIZE);
  const p = at + VhostUserGpuHeader.SIZE;
  v.setUint32(p + VhostUserGpuScanout.scanoutId, scanoutId, true);
  v.setUint32(p + VhostUserGpuScanout.width, width, true);
  v.setUint32(p + VhostUserGpuScanout.height, height, true);
  return VhostUserGpuHeader.SIZE + VhostUserGpuScanout.SIZE;
}

/**
 * The header and head of an UPDATE (or, with `request` DMABUF_UPDATE, of a data-less update);
 * for UPDATE the caller writes width*height*4 pixel bytes right after. Returns the head's bytes.
 */
export function encodeUpdateHead(
  v: DataView,
  at: number,
  request: typeof VHOST_USER_GPU_UPDATE | typeof VHOST_USER_GPU_DMABUF_UPDATE,
  scanoutId: number,
  x: number,
  y: number,
  width: number,
  height: number,
): number {
  const data = request === VHOST_USER_GPU_UPDATE ? width * height * 4 : 0;
  header(v, at, request, VhostUserGpuUpdate.SIZE + data);
  const p = at + VhostUserGpuHeader.SIZE;
  v.setUint32(p + VhostUserGpuUpdate.scanoutId, scanoutId, true);
  v.setUint32(p + VhostUserGpuUpdate.x, x, true);
  v.setUint32(p + VhostUserGpuUpdate.y, y, true);
  v.setUint32(p + VhostUserGpuUpdate.width, width, true);
  v.setUint32(p + VhostUserGpuUpdate.height, height, true);
  return VhostUserGpuHeader.SIZE + VhostUserGpuUpdate.SIZE;
}

/** CURSOR_POS or CURSOR_POS_HIDE. */
export function encodeCursorPos(v: DataView, at: number, request: typeof VHOST_USER_GPU_CURSOR_POS | typeof VHOST_USER_GPU_CURSOR_POS_HIDE, scanoutId: number, x: number, y: number): number {
  header(v, at, request, VhostUserGpuCursorPos.SIZE);
  const p = at + VhostUserGpuHeader.SIZE;
  v.setUint32(p + VhostUserGpuCursorPos.scanoutId, scanoutId, true);
  v.setUint32(p + VhostUserGpuCursorPos.x, x, true);
  v.setUint32(p + VhostUserGpuCursorPos.y, y, true);
  return VhostUserGpuHeader.SIZE + VhostUserGpuCursorPos.SIZE;
}

/**
 * CURSOR_UPDATE from a 64x64 RGBA8 image (what the device reports): converted to a8r8g8b8,
 * little-endian bytes B, G, R, A.
 */
export function encodeCursorUpdate(v: DataView, at: number, scanoutId: number, x: number, y: number, hotX: number, hotY: number, rgba: Uint8Array): number {
  if (rgba.byteLength < GPU_CURSOR_SIZE * GPU_CURSOR_SIZE * 4) throw new RangeError('cursor image must be 64x64 RGBA8');
  header(v, at, VHOST_USER_GPU_CURSOR_UPDATE, VhostUserGpuCursorUpdate.SIZE);
  const p = at + VhostUserGpuHeader.SIZE;
  v.setUint32(p + VhostUserGpuCursorPos.scanoutId, scanoutId, true);
  v.setUint32(p + VhostUserGpuCursorPos.x, x, true);
  v.setUint32(p + VhostUserGpuCursorPos.y, y, true);
  v.setUint32(p + VhostUserGpuCursorUpdate.hotX, hotX, true);
  v.setUint32(p + VhostUserGpuCursorUpdate.hotY, hotY, true);
  const out = new Uint8Array(v.buffer, v.byteOffset + p + VhostUserGpuCursorUpdate.data, GPU_CURSOR_SIZE * GPU_CURSOR_SIZE * 4);
  for (let i = 0; i < out.length; i += 4) {
    out[i] = rgba[i + 2];
    out[i + 1] = rgba[i + 1];
    out[i + 2] = rgba[i];
    out[i + 3] = rgba[i + 3];
  }
  return VhostUserGpuHeader.SIZE + VhostUserGpuCursorUpdate.SIZE;
}

/** DMABUF_SCANOUT (used only by the protocol probe: QEMU needs a GL console to show it). */
export function encodeDmabufScanout(
  v: DataView,
  at: number,
  s: { scanoutId: number; x: number; y: number; width: number; height: number; fdWidth: number; fdHeight: number; fdStride: number; fdFlags: number; fourcc: number },
): number {
  header(v, at, VHOST_USER_GPU_DMABUF_SCANOUT, VhostUserGpuDMABUFScanout.SIZE);
  const p = at + VhostUserGpuHeader.SIZE;
  v.setUint32(p + VhostUserGpuDMABUFScanout.scanoutId, s.scanoutId, true);
  v.setUint32(p + VhostUserGpuDMABUFScanout.x, s.x, true);
  v.setUint32(p + VhostUserGpuDMABUFScanout.y, s.y, true);
  v.setUint32(p + VhostUserGpuDMABUFScanout.width, s.width, true);
  v.setUint32(p + VhostUserGpuDMABUFScanout.height, s.height, true);
  v.setUint32(p + VhostUserGpuDMABUFScanout.fdWidth, s.fdWidth, true);
  v.setUint32(p + VhostUserGpuDMABUFScanout.fdHeight, s.fdHeight, true);
  v.setUint32(p + VhostUserGpuDMABUFScanout.fdStride, s.fdStride, true);
  v.setUint32(p + VhostUserGpuDMABUFScanout.fdFlags, s.fdFlags, true);
  v.setInt32(p + VhostUserGpuDMABUFScanout.fdDrmFourcc, s.fourcc, true);
  return VhostUserGpuHeader.SIZE + VhostUserGpuDMABUFScanout.SIZE;
}

/** A reply from QEMU, decoded and checked. */
export type GpuReply =
  | { request: typeof VHOST_USER_GPU_GET_PROTOCOL_FEATURES; features: bigint }
  | { request: typeof VHOST_USER_GPU_GET_DISPLAY_INFO; pmodes: DisplayOne[] }
  | { request: typeof VHOST_USER_GPU_GET_EDID; edid: Uint8Array }
  | { request: typeof VHOST_USER_GPU_DMABUF_UPDATE };

/** Largest reply payload QEMU sends (virtio_gpu_resp_edid). */
export const GPU_MAX_REPLY_PAYLOAD = RespEdid.SIZE;

/**
 * Why a reply header from QEMU is unacceptable before reading its payload, or null. Only
 * replies exist in this direction (QEMU never sends requests on this channel).
 */
export function checkReplyHeader(request: number, flags: number, size: number): string | null {
  if ((flags & VHOST_USER_GPU_MSG_FLAG_REPLY) === 0) return `message ${request} without the reply flag`;
  if (size > GPU_MAX_REPLY_PAYLOAD) return `reply ${request} of ${size} bytes (at most ${GPU_MAX_REPLY_PAYLOAD})`;
  return null;
}

/** Decode QEMU's reply to `request` (payload exactly as long as its header said). */
export function decodeReply(request: number, payload: Uint8Array): GpuReply | { error: string } {
  switch (request) {
    case VHOST_USER_GPU_GET_PROTOCOL_FEATURES: {
      if (payload.byteLength !== 8) return { error: `GET_PROTOCOL_FEATURES reply of ${payload.byteLength} bytes` };
      const v = new DataView(payload.buffer, payload.byteOffset, 8);
      return { request, features: v.getBigUint64(0, true) };
    }
    case VHOST_USER_GPU_GET_DISPLAY_INFO: {
      if (payload.byteLength !== RespDisplayInfo.SIZE) return { error: `GET_DISPLAY_INFO reply of ${payload.byteLength} bytes` };
      const r = decodeResponse(payload, 0, payload.byteLength);
      if (!r.ok || r.resp.type !== VIRTIO_GPU_RESP_OK_DISPLAY_INFO) return { error: `GET_DISPLAY_INFO reply is not OK_DISPLAY_INFO` };
      const pmodes = r.resp.pmodes.slice(0, VIRTIO_GPU_MAX_SCANOUTS);
      return { request, pmodes };
    }
    case VHOST_USER_GPU_GET_EDID: {
      if (payload.byteLength !== RespEdid.SIZE) return { error: `GET_EDID reply of ${payload.byteLength} bytes` };
      const r = decodeResponse(payload, 0, payload.byteLength);
      if (!r.ok || r.resp.type !== VIRTIO_GPU_RESP_OK_EDID) return { error: 'GET_EDID reply is not OK_EDID' };
      const edid = r.resp.edid.subarray(0, r.resp.size);
      if (edid.byteLength !== r.resp.size || edid.byteLength === 0 || edid.byteLength % 128 !== 0) return { error: `GET_EDID reply: EDID of ${r.resp.size} bytes` };
      return { request, edid: edid.slice() };
    }
    case VHOST_USER_GPU_DMABUF_UPDATE:
      if (payload.byteLength !== 0) return { error: `DMABUF_UPDATE reply of ${payload.byteLength} bytes` };
      return { request };
    default:
      return { error: `reply to request ${request}, which has none` };
  }
}

/** Names for logs. */
export const GPU_REQUEST_NAMES: Readonly<Record<number, string>> = Object.freeze({
  1: 'GET_PROTOCOL_FEATURES',
  2: 'SET_PROTOCOL_FEATURES',
  3: 'GET_DISPLAY_INFO',
  4: 'CURSOR_POS',
  5: 'CURSOR_POS_HIDE',
  6: 'CURSOR_UPDATE',
  7: 'SCANOUT',
  8: 'UPDATE',
  9: 'DMABUF_SCANOUT',
  10: 'DMABUF_UPDATE',
  11: 'GET_EDID',
  12: 'DMABUF_SCANOUT2',
});
