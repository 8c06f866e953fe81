/** TRANSFER_TO_HOST_2D and RESOURCE_FLUSH (virtio-gpu §5.7.6.8). */
import { type CmdResourceFlush, type CmdTransferToHost2d, VIRTIO_GPU_BLOB_MEM_GUEST, u64ToSafe } from '@virtio-gpu/protocol';
import { NODATA, type Outcome } from '../outcome.js';
import { type Result, errParameter, errResourceId, errUnspec } from '../result.js';
import { intersect, rectInside } from '../scanouts.js';
import type { DeviceState } from '../state.js';

/**
 * TRANSFER_TO_HOST_2D: row h of `r` comes from backing[offset + h * stride] (stride = the
 * resource's width * bpp). The rect must lie in the resource and the last byte read in the
 * backing (INVALID_PARAMETER); no backing -> ERR_UNSPEC. Guest blobs: see {@link guestBlobTransfer}.
 */
export function transferToHost2d(s: DeviceState, cmd: CmdTransferToHost2d): Outcome {
  const res = s.resources.get(cmd.resourceId);
  if (!res) return errResourceId(`TRANSFER_TO_HOST_2D: no resource ${cmd.resourceId}`);
  if (res.blob?.blobMem === VIRTIO_GPU_BLOB_MEM_GUEST) return guestBlobTransfer(res.blob.size, cmd);
  if (res.kind !== '2d') return errParameter(`TRANSFER_TO_HOST_2D: resource ${res.id} is not a 2D resource`);
  if (!rectInside(cmd.r, res.width, res.height)) return errParameter('TRANSFER_TO_HOST_2D: rect outside the resource');
  if (!res.backing) return errUnspec(`TRANSFER_TO_HOST_2D: resource ${res.id} has no backing`);
  const offset = u64ToSafe(cmd.offset);
  if (offset < 0) return errParameter('TRANSFER_TO_HOST_2D: offset beyond the backing');
  return orNodata(s.renderer.transferToHost2d(res.id, cmd.r, offset));
}

/**
 * TRANSFER_TO_HOST_2D on a guest-only blob: the device reads the blob's guest pages where they
 * are (scanout readback, mapping), so there is no host copy to update and the command is
 * answered OK once its offset lies in the blob. Linux's fbdev sends one with every damage flush
 * of a blob-backed dumb buffer; QEMU answers those OK too. The rect has no resource size to be
 * checked against (a blob has none; SET_SCANOUT_BLOB carries the layout).
 */
function guestBlobTransfer(size: number, cmd: CmdTransferToHost2d): Outcome {
  const offset = u64ToSafe(cmd.offset);
  if (offset < 0 || offset >= size) return errParameter('TRANSFER_TO_HOST_2D: offset beyond the blob');
  return NODATA;
}

/**
 * RESOURCE_FLUSH: tell the sink about damage on every scanout showing the resource, clipped to
 * what the scanout shows and translated to scanout coordinates. For 2D/3D resources the rect must
 * lie in the resource (INVALID_PARAMETER, as QEMU); blobs are clipped only.
 */
export function flush(s: DeviceState, cmd: CmdResourceFlush): Outcome {
  const res = s.resources.get(cmd.resourceId);
  if (!res) return errResourceId(`RESOURCE_FLUSH: no resource ${cmd.resourceId}`);
  if (res.kind !== 'blob' && !rectInside(cmd.r, res.width, res.height)) return errParameter('RESOURCE_FLUSH: rect outside the resource');
  for (let i = 0; i < s.scanouts.length; i++) {
    const sc = s.scanouts[i];
    if (sc.resourceId !== res.id) continue;
    const d = intersect(cmd.r, sc.r);
    if (!d) continue;
    const damage = { x: d.x - sc.r.x, y: d.y - sc.r.y, width: d.width, height: d.height };
    s.sink.flushed(i, damage);
  }
  return NODATA;
}

function orNodata(r: Result): Outcome {
  return r.ok ? NODATA : r;
}
