/** RESOURCE_CREATE_3D, TRANSFER_TO_HOST_3D, TRANSFER_FROM_HOST_3D, SUBMIT_3D (virtio-gpu §5.7.6.9). */
import {
  VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D,
  VIRTIO_GPU_FLAG_INFO_RING_IDX,
  type CmdResourceCreate3d,
  type CmdSubmit3d,
  type CmdTransferHost3d,
  u64ToSafe,
} from '@virtio-gpu/protocol';
import { NODATA, type Outcome } from '../outcome.js';
import { newResource } from '../resources.js';
import { errContextId, errParameter, errResourceId } from '../result.js';
import type { DeviceState } from '../state.js';
import { need3d } from './context.js';

/**
 * RESOURCE_CREATE_3D: id 0 or in use -> INVALID_RESOURCE_ID; zero width -> INVALID_PARAMETER;
 * quota charged at 4 bytes per texel of level 0 (an estimate: the renderer owns the layout).
 */
export function create3d(s: DeviceState, cmd: CmdResourceCreate3d): Outcome {
  const no = need3d(s, 'RESOURCE_CREATE_3D');
  if (no) return no;
  if (cmd.resourceId === 0 || s.resources.has(cmd.resourceId)) return errResourceId(`CREATE_3D: id ${cmd.resourceId} is 0 or in use`);
  if (cmd.width === 0) return errParameter('CREATE_3D: zero width');
  const hostBytes = cmd.width * Math.max(cmd.height, 1) * Math.max(cmd.depth, 1) * Math.max(cmd.arraySize, 1) * 4;
  const room = s.resources.canAdd(hostBytes);
  if (!room.ok) return room;
  const args = {
    target: cmd.target,
    format: cmd.format,
    bind: cmd.bind,
    width: cmd.width,
    height: cmd.height,
    depth: cmd.depth,
    arraySize: cmd.arraySize,
    lastLevel: cmd.lastLevel,
    nrSamples: cmd.nrSamples,
    flags: cmd.flags,
  };
  const r = s.renderer.createResource3d(cmd.resourceId, args);
  if (!r.ok) return r;
  s.resources.add(
    newResource({ id: cmd.resourceId, kind: '3d', format: cmd.format, width: cmd.width, height: cmd.height, args3d: args, blob: null, hostBytes }),
  );
  return NODATA;
}

/** TRANSFER_TO_HOST_3D / TRANSFER_FROM_HOST_3D: a live resource; the renderer checks the box. */
export function transfer3d(s: DeviceState, cmd: CmdTransferHost3d): Outcome {
  const toHost = cmd.type === VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D;
  const what = toHost ? 'TRANSFER_TO_HOST_3D' : 'TRANSFER_FROM_HOST_3D';
  const no = need3d(s, what);
  if (no) return no;
  const res = s.resources.get(cmd.resourceId);
  if (!res) return errResourceId(`${what}: no resource ${cmd.resourceId}`);
  const offset = u64ToSafe(cmd.offset);
  if (offset < 0) return errParameter(`${what}: offset beyond 2^53`);
  const t = { ctxId: cmd.hdr.ctxId, box: { ...cmd.box }, offset, level: cmd.level, stride: cmd.stride, layerStride: cmd.layerStride };
  const r = toHost ? s.renderer.transferToHost3d(res.id, t) : s.renderer.transferFromHost3d(res.id, t);
  return r.ok ? NODATA : r;
}

/** SUBMIT_3D: a live context (INVALID_CONTEXT_ID); the command stream goes to the renderer. */
export function submit3d(s: DeviceState, cmd: CmdSubmit3d): Outcome {
  const no = need3d(s, 'SUBMIT_3D');
  if (no) return no;
  const ctx = s.contexts.get(cmd.hdr.ctxId);
  if (!ctx) return errContextId(`SUBMIT_3D: no context ${cmd.hdr.ctxId}`);
  const ring = (cmd.hdr.flags & VIRTIO_GPU_FLAG_INFO_RING_IDX) !== 0 ? cmd.hdr.ringIdx : null;
  const r = s.renderer.submit(ctx.id, cmd.data, ring);
  return r.ok ? NODATA : r;
}
