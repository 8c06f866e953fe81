/**
 * Which handler a decoded command goes to: the device side of the command table. Adding a command
 * means its protocol table entry (protocol/src/commands-*.ts), its handler (handlers/), and its
 * case here. The switch on `cmd.type` narrows the command for its handler: no casts.
 */
import * as P from '@virtio-gpu/protocol';
import type { Command, CtrlHdr } from '@virtio-gpu/protocol';
import { MAX_RINGS } from './fences.js';
import { createBlob, mapBlob, unmapBlob } from './handlers/blob.js';
import { capset, capsetInfo } from './handlers/capset.js';
import { ctxCreate, ctxDestroy, ctxResource } from './handlers/context.js';
import { cursor } from './handlers/cursor.js';
import { getDisplayInfo, getEdid } from './handlers/display.js';
import { assignUuid, attachBacking, create2d, detachBacking, unref } from './handlers/resource.js';
import { setScanout, setScanoutBlob } from './handlers/scanout.js';
import { create3d, submit3d, transfer3d } from './handlers/three-d.js';
import { flush, transferToHost2d } from './handlers/transfer.js';
import type { Outcome } from './outcome.js';
import { type Failure, errContextId, errParameter, errUnspec } from './result.js';
import type { DeviceState } from './state.js';

/** Hooks a handler needs beyond the device state. */
export interface DispatchHooks {
  /** CTX_DESTROY: release the chains held on the context's fence rings (a plain function). */
  readonly dropContextFences: (ctxId: number) => void;
}

/** Runs `cmd`, which came on queue `qi`, through its handler. */
export function dispatch(s: DeviceState, qi: 0 | 1, cmd: Command, hooks: DispatchHooks): Outcome {
  return qi === P.CONTROLQ ? control(s, cmd, hooks) : cursorQueue(s, cmd);
}

/** Fence fields that must be valid before the command runs (§5.7.6.7, CONTEXT_INIT). */
function checkFence(s: DeviceState, hdr: CtrlHdr): Failure | null {
  if ((hdr.flags & P.VIRTIO_GPU_FLAG_FENCE) === 0 || (hdr.flags & P.VIRTIO_GPU_FLAG_INFO_RING_IDX) === 0) return null;
  if (!s.has(P.VIRTIO_GPU_F_CONTEXT_INIT)) return errParameter('INFO_RING_IDX without VIRTIO_GPU_F_CONTEXT_INIT');
  if (hdr.ringIdx >= MAX_RINGS) return errParameter(`ring_idx ${hdr.ringIdx} >= ${MAX_RINGS}`);
  if (hdr.type !== P.VIRTIO_GPU_CMD_CTX_CREATE && !s.contexts.get(hdr.ctxId)) return errContextId(`fence ring of unknown context ${hdr.ctxId}`);
  return null;
}

function control(s: DeviceState, cmd: Command, hooks: DispatchHooks): Outcome {
  const bad = checkFence(s, cmd.hdr);
  if (bad) return bad;
  switch (cmd.type) {
    case P.VIRTIO_GPU_CMD_RESOURCE_FLUSH:
      return flush(s, cmd);
    case P.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
      return transferToHost2d(s, cmd);
    case P.VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
      return getDisplayInfo(s);
    case P.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
      return create2d(s, cmd);
    case P.VIRTIO_GPU_CMD_RESOURCE_UNREF:
      return unref(s, cmd);
    case P.VIRTIO_GPU_CMD_SET_SCANOUT:
      return setScanout(s, cmd);
    case P.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
      return attachBacking(s, cmd);
    case P.VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
      return detachBacking(s, cmd);
    case P.VIRTIO_GPU_CMD_GET_CAPSET_INFO:
      return capsetInfo(s, cmd);
    case P.VIRTIO_GPU_CMD_GET_CAPSET:
      return capset(s, cmd);
    case P.VIRTIO_GPU_CMD_GET_EDID:
      return getEdid(s, cmd);
    case P.VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID:
      return assignUuid(s, cmd);
    case P.VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB:
      return createBlob(s, cmd);
    case P.VIRTIO_GPU_CMD_SET_SCANOUT_BLOB:
      return setScanoutBlob(s, cmd);
    case P.VIRTIO_GPU_CMD_CTX_CREATE:
      return ctxCreate(s, cmd);
    case P.VIRTIO_GPU_CMD_CTX_DESTROY:
      return ctxDestroy(s, cmd, hooks.dropContextFences);
    case P.VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE:
      return ctxResource(s, cmd, true);
    case P.VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE:
      return ctxResource(s, cmd, false);
    case P.VIRTIO_GPU_CMD_RESOURCE_CREATE_3D:
      return create3d(s, cmd);
    case P.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D:
    case P.VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D:
      return transfer3d(s, cmd);
    case P.VIRTIO_GPU_CMD_SUBMIT_3D:
      return submit3d(s, cmd);
    case P.VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB:
      return mapBlob(s, cmd);
    case P.VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB:
      return unmapBlob(s, cmd);
    default:
      return errUnspec(`command 0x${cmd.type.toString(16)} is not for the control queue`);
  }
}

function cursorQueue(s: DeviceState, cmd: Command): Outcome {
  if (cmd.type === P.VIRTIO_GPU_CMD_UPDATE_CURSOR || cmd.type === P.VIRTIO_GPU_CMD_MOVE_CURSOR) return cursor(s, cmd);
  return errUnspec(`command 0x${cmd.type.toString(16)} is not for the cursor queue`);
}
