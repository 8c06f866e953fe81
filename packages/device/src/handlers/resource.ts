/** RESOURCE_CREATE_2D, RESOURCE_UNREF, ATTACH/DETACH_BACKING, ASSIGN_UUID (virtio-gpu §5.7.6.8). */
import {
  VIRTIO_GPU_F_RESOURCE_UUID,
  VIRTIO_GPU_RESP_OK_RESOURCE_UUID,
  type CmdResourceAssignUuid,
  type CmdResourceAttachBacking,
  type CmdResourceCreate2d,
  type CmdResourceDetachBacking,
  type CmdResourceUnref,
} from '@virtio-gpu/protocol';
import { Backing } from '../backing.js';
import { NODATA, type Outcome, nodataWhenDone } from '../outcome.js';
import { bytesPerPixel } from '../pixel-formats.js';
import { newResource } from '../resources.js';
import { errParameter, errResourceId, errUnspec } from '../result.js';
import type { DeviceState } from '../state.js';

/**
 * RESOURCE_CREATE_2D. Id 0 or taken -> INVALID_RESOURCE_ID; unknown format, zero or oversized
 * dimensions -> INVALID_PARAMETER; quota or count cap -> OUT_OF_MEMORY. Nothing is allocated on error.
 */
export function create2d(s: DeviceState, cmd: CmdResourceCreate2d): Outcome {
  if (cmd.resourceId === 0 || s.resources.has(cmd.resourceId)) return errResourceId(`CREATE_2D: id ${cmd.resourceId} is 0 or in use`);
  const bpp = bytesPerPixel(cmd.format);
  if (bpp === 0) return errParameter(`CREATE_2D: unknown format ${cmd.format}`);
  if (cmd.width === 0 || cmd.height === 0) return errParameter('CREATE_2D: zero size');
  const max = s.limits.maxDimension;
  if (cmd.width > max || cmd.height > max) return errParameter(`CREATE_2D: ${cmd.width}x${cmd.height} above ${max}`);
  const hostBytes = cmd.width * cmd.height * bpp;
  const room = s.resources.canAdd(hostBytes);
  if (!room.ok) return room;
  const r = s.renderer.createResource2d(cmd.resourceId, { format: cmd.format, width: cmd.width, height: cmd.height });
  if (!r.ok) return r;
  s.resources.add(
    newResource({ id: cmd.resourceId, kind: '2d', format: cmd.format, width: cmd.width, height: cmd.height, args3d: null, blob: null, hostBytes }),
  );
  return NODATA;
}

/**
 * RESOURCE_UNREF. Takes the resource off scanouts, cursor and contexts. A mapped blob is
 * unmapped first; the response waits for the region's confirmation (see blob.ts).
 */
export function unref(s: DeviceState, cmd: CmdResourceUnref): Outcome {
  const res = s.resources.get(cmd.resourceId);
  if (!res) return errResourceId(`UNREF: no resource ${cmd.resourceId}`);
  return nodataWhenDone((done) => s.destroyResource(res, done));
}

/**
 * RESOURCE_ATTACH_BACKING: every entry must be in guest memory (else ERR_UNSPEC, as QEMU) and the
 * resource must not have backing already (ERR_UNSPEC); at most maxBackingEntries entries
 * (INVALID_PARAMETER). Blobs get their backing at creation (INVALID_PARAMETER).
 */
export function attachBacking(s: DeviceState, cmd: CmdResourceAttachBacking): Outcome {
  const res = s.resources.get(cmd.resourceId);
  if (!res) return errResourceId(`ATTACH_BACKING: no resource ${cmd.resourceId}`);
  if (res.kind === 'blob') return errParameter('ATTACH_BACKING: blob resources take backing at creation');
  if (res.backingEntries) return errUnspec(`ATTACH_BACKING: resource ${cmd.resourceId} already has backing`);
  if (cmd.nrEntries > s.limits.maxBackingEntries || cmd.entries.length > s.limits.maxBackingEntries) {
    return errParameter(`ATTACH_BACKING: ${cmd.nrEntries} entries > ${s.limits.maxBackingEntries}`);
  }
  const charged = s.resources.chargeBacking(res, cmd.entries.length);
  if (!charged.ok) return charged;
  const b = Backing.resolve(s.memory, cmd.entries, s.limits.maxBackingEntries);
  const r = b.ok ? s.renderer.attachBacking(res.id, b.value) : b;
  if (!r.ok) {
    s.resources.releaseBacking(res);
    return r;
  }
  res.backingEntries = cmd.entries.map((e) => ({ addr: e.addr, length: e.length }));
  return NODATA;
}

/** RESOURCE_DETACH_BACKING: the resource must have backing (ERR_UNSPEC otherwise, as QEMU). */
export function detachBacking(s: DeviceState, cmd: CmdResourceDetachBacking): Outcome {
  const res = s.resources.get(cmd.resourceId);
  if (!res) return errResourceId(`DETACH_BACKING: no resource ${cmd.resourceId}`);
  if (res.kind === 'blob') return errParameter('DETACH_BACKING: blob resources keep their backing');
  if (!res.backingEntries) return errUnspec(`DETACH_BACKING: resource ${cmd.resourceId} has no backing`);
  s.renderer.detachBacking(res.id);
  s.resources.releaseBacking(res);
  res.backingEntries = null;
  return NODATA;
}

/**
 * RESOURCE_ASSIGN_UUID (VIRTIO_GPU_F_RESOURCE_UUID): a random version-4 UUID (RFC 9562),
 * assigned once and returned unchanged for the resource's life.
 */
export function assignUuid(s: DeviceState, cmd: CmdResourceAssignUuid): Outcome {
  if (!s.has(VIRTIO_GPU_F_RESOURCE_UUID)) return errUnspec('ASSIGN_UUID without VIRTIO_GPU_F_RESOURCE_UUID');
  const res = s.resources.get(cmd.resourceId);
  if (!res) return errResourceId(`ASSIGN_UUID: no resource ${cmd.resourceId}`);
  if (!res.uuid) {
    const u = new Uint8Array(16);
    s.random(u);
    u[6] = (u[6] & 0x0f) | 0x40; // version 4
    u[8] = (u[8] & 0x3f) | 0x80; // variant 10
    res.uuid = u;
  }
  return { type: VIRTIO_GPU_RESP_OK_RESOURCE_UUID, uuid: res.uuid.slice() };
}
