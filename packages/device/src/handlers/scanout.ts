/** SET_SCANOUT and SET_SCANOUT_BLOB (virtio-gpu §5.7.6.8). */
import { VIRTIO_GPU_F_RESOURCE_BLOB, type CmdSetScanout, type CmdSetScanoutBlob, type Rect } from '@virtio-gpu/protocol';
import { NODATA, type Outcome } from '../outcome.js';
import { bytesPerPixel } from '../pixel-formats.js';
import { errParameter, errResourceId, errScanoutId, errUnspec } from '../result.js';
import { rectInside } from '../scanouts.js';
import type { DeviceState } from '../state.js';

/** Turn a scanout off (resource 0) and tell the sink, if it showed something. */
function disable(s: DeviceState, scanoutId: number): Outcome {
  const sc = s.scanouts[scanoutId];
  const wasOn = sc.resourceId !== 0;
  sc.resourceId = 0;
  sc.r = { x: 0, y: 0, width: 0, height: 0 };
  sc.layout = null;
  if (wasOn) s.notifyScanout(scanoutId);
  return NODATA;
}

function copyRect(r: Rect): Rect {
  return { x: r.x, y: r.y, width: r.width, height: r.height };
}

/**
 * SET_SCANOUT: scanout id < num_scanouts (INVALID_SCANOUT_ID); resource 0 disables; otherwise a
 * live non-blob resource (INVALID_RESOURCE_ID) and a non-empty rect inside it (INVALID_PARAMETER).
 */
export function setScanout(s: DeviceState, cmd: CmdSetScanout): Outcome {
  if (cmd.scanoutId >= s.scanouts.length) return errScanoutId(`SET_SCANOUT: scanout ${cmd.scanoutId}`);
  if (cmd.resourceId === 0) return disable(s, cmd.scanoutId);
  const res = s.resources.get(cmd.resourceId);
  if (!res) return errResourceId(`SET_SCANOUT: no resource ${cmd.resourceId}`);
  if (res.kind === 'blob') return errParameter('SET_SCANOUT: blobs need SET_SCANOUT_BLOB');
  if (cmd.r.width === 0 || cmd.r.height === 0 || !rectInside(cmd.r, res.width, res.height)) {
    return errParameter('SET_SCANOUT: rect empty or outside the resource');
  }
  const sc = s.scanouts[cmd.scanoutId];
  sc.resourceId = res.id;
  sc.r = copyRect(cmd.r);
  sc.layout = null;
  s.notifyScanout(cmd.scanoutId);
  return NODATA;
}

/**
 * SET_SCANOUT_BLOB (VIRTIO_GPU_F_RESOURCE_BLOB): plane 0 of a blob as a framebuffer. Format must
 * be one of the eight 2D formats, stride >= width*bpp, offset + stride*(height-1) + width*bpp
 * within the blob, and the rect inside width x height (all INVALID_PARAMETER).
 */
export function setScanoutBlob(s: DeviceState, cmd: CmdSetScanoutBlob): Outcome {
  if (!s.has(VIRTIO_GPU_F_RESOURCE_BLOB)) return errUnspec('SET_SCANOUT_BLOB without VIRTIO_GPU_F_RESOURCE_BLOB');
  if (cmd.scanoutId >= s.scanouts.length) return errScanoutId(`SET_SCANOUT_BLOB: scanout ${cmd.scanoutId}`);
  if (cmd.resourceId === 0) return disable(s, cmd.scanoutId);
  const res = s.resources.get(cmd.resourceId);
  if (!res) return errResourceId(`SET_SCANOUT_BLOB: no resource ${cmd.resourceId}`);
  if (!res.blob) return errParameter('SET_SCANOUT_BLOB: not a blob');
  const bpp = bytesPerPixel(cmd.format);
  if (bpp === 0) return errParameter(`SET_SCANOUT_BLOB: unknown format ${cmd.format}`);
  if (cmd.width === 0 || cmd.height === 0) return errParameter('SET_SCANOUT_BLOB: zero size');
  const stride = cmd.strides[0] ?? 0;
  const offset = cmd.offsets[0] ?? 0;
  if (stride < cmd.width * bpp) return errParameter('SET_SCANOUT_BLOB: stride below width * bpp');
  const end = offset + stride * (cmd.height - 1) + cmd.width * bpp;
  if (end > res.blob.size) return errParameter('SET_SCANOUT_BLOB: framebuffer beyond the blob');
  if (cmd.r.width === 0 || cmd.r.height === 0 || !rectInside(cmd.r, cmd.width, cmd.height)) {
    return errParameter('SET_SCANOUT_BLOB: rect empty or outside the framebuffer');
  }
  const sc = s.scanouts[cmd.scanoutId];
  sc.resourceId = res.id;
  sc.r = copyRect(cmd.r);
  sc.layout = { format: cmd.format, width: cmd.width, height: cmd.height, strideBytes: stride, offsetBytes: offset };
  s.notifyScanout(cmd.scanoutId);
  return NODATA;
}
