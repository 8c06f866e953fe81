/**
 * CTX_CREATE, CTX_DESTROY, CTX_ATTACH_RESOURCE, CTX_DETACH_RESOURCE (virtio-gpu §5.7.6.9).
 * Contexts need a 3D renderer and VIRTIO_GPU_F_VIRGL or VIRTIO_GPU_F_CONTEXT_INIT negotiated;
 * otherwise ERR_UNSPEC, like QEMU answers commands its 2D device does not implement.
 */
import {
  VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK,
  VIRTIO_GPU_F_CONTEXT_INIT,
  VIRTIO_GPU_F_VIRGL,
  type CmdCtxCreate,
  type CmdCtxDestroy,
  type CmdCtxResource,
} from '@virtio-gpu/protocol';
import { NODATA, type Outcome } from '../outcome.js';
import { type Failure, errContextId, errOutOfMemory, errParameter, errResourceId, errUnspec } from '../result.js';
import type { DeviceState } from '../state.js';

/** ERR_UNSPEC unless 3D commands are available (renderer and negotiated features). */
export function need3d(s: DeviceState, what: string): Failure | null {
  if (!s.renderer.capabilities.threeD) return errUnspec(`${what}: the renderer has no 3D`);
  if (!s.has(VIRTIO_GPU_F_VIRGL) && !s.has(VIRTIO_GPU_F_CONTEXT_INIT)) return errUnspec(`${what}: neither VIRGL nor CONTEXT_INIT negotiated`);
  return null;
}

/**
 * CTX_CREATE: ctx id (hdr.ctx_id) 0 or in use -> INVALID_CONTEXT_ID (rutabaga's choice; 0 is
 * refused because hdr.ctx_id 0 means "no context"). context_init: capset id in the low 8 bits,
 * needs CONTEXT_INIT when non-zero, other bits must be 0, the capset must be the renderer's
 * (INVALID_PARAMETER). Context cap -> OUT_OF_MEMORY.
 */
export function ctxCreate(s: DeviceState, cmd: CmdCtxCreate): Outcome {
  const no = need3d(s, 'CTX_CREATE');
  if (no) return no;
  const id = cmd.hdr.ctxId;
  if (id === 0 || s.contexts.get(id)) return errContextId(`CTX_CREATE: context id ${id} is 0 or in use`);
  const capsetId = cmd.contextInit & VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK;
  if (cmd.contextInit !== 0 && !s.has(VIRTIO_GPU_F_CONTEXT_INIT)) return errParameter('CTX_CREATE: context_init without CONTEXT_INIT');
  if ((cmd.contextInit & ~VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK) !== 0) return errParameter('CTX_CREATE: unknown context_init bits');
  if (capsetId !== 0 && !s.renderer.capabilities.capsets.some((c) => c.id === capsetId)) return errParameter(`CTX_CREATE: unknown capset ${capsetId}`);
  if (s.contexts.count >= s.limits.maxContexts) return errOutOfMemory(`CTX_CREATE: context limit ${s.limits.maxContexts}`);
  const r = s.renderer.createContext(id, capsetId, cmd.debugName);
  if (!r.ok) return r;
  s.contexts.add({ id, capsetId, debugName: cmd.debugName, resources: new Set() });
  return NODATA;
}

/** CTX_DESTROY: a live context (INVALID_CONTEXT_ID); its resources are detached. */
export function ctxDestroy(s: DeviceState, cmd: CmdCtxDestroy, dropFences: (ctxId: number) => void): Outcome {
  const no = need3d(s, 'CTX_DESTROY');
  if (no) return no;
  const ctx = s.contexts.get(cmd.hdr.ctxId);
  if (!ctx) return errContextId(`CTX_DESTROY: no context ${cmd.hdr.ctxId}`);
  for (const rid of ctx.resources) s.resources.peek(rid)?.contexts.delete(ctx.id);
  s.contexts.remove(ctx.id);
  s.renderer.destroyContext(ctx.id);
  dropFences(ctx.id);
  return NODATA;
}

/** CTX_ATTACH_RESOURCE / CTX_DETACH_RESOURCE: live context and resource. */
export function ctxResource(s: DeviceState, cmd: CmdCtxResource, attach: boolean): Outcome {
  const what = attach ? 'CTX_ATTACH_RESOURCE' : 'CTX_DETACH_RESOURCE';
  const no = need3d(s, what);
  if (no) return no;
  const ctx = s.contexts.get(cmd.hdr.ctxId);
  if (!ctx) return errContextId(`${what}: no context ${cmd.hdr.ctxId}`);
  const res = s.resources.get(cmd.resourceId);
  if (!res) return errResourceId(`${what}: no resource ${cmd.resourceId}`);
  if (attach) {
    if (ctx.resources.has(res.id)) return NODATA; // idempotent, as virglrenderer
    const r = s.renderer.contextAttachResource(ctx.id, res.id);
    if (!r.ok) return r;
    ctx.resources.add(res.id);
    res.contexts.add(ctx.id);
  } else {
    if (!ctx.resources.has(res.id)) return errParameter(`${what}: resource ${res.id} not attached`);
    const r = s.renderer.contextDetachResource(ctx.id, res.id);
    if (!r.ok) return r;
    ctx.resources.delete(res.id);
    res.contexts.delete(ctx.id);
  }
  return NODATA;
}
