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
import { type Failure, errParameter, errResourceId, errUnspec } from '../result.js';
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
 * ATTACH_BACKING's checks that need only resource_id and nr_entries, in the handler's order
 * (the queue loop runs them before decoding, refuse-early.ts):
 * unknown resource, blob, backing already attached, too many entries, and the quota for what
 * nr_entries runs would keep. Null when they pass.
 */
export function attachChecks(s: DeviceState, resourceId: number, nrEntries: number): Failure | null {
  const res = s.resources.get(resourceId);
  if (!res) return errResourceId(`ATTACH_BACKING: no resource ${resourceId}`);
  if (res.kind === 'blob') return errParameter('ATTACH_BACKING: blob resources take backing at creation');
  if (res.backing) return errUnspec(`ATTACH_BACKING: resource ${resourceId} already has backing`);
  if (nrEntries > s.limits.maxBackingEntries) return errParameter(`ATTACH_BACKING: ${nrEntries} entries > ${s.limits.maxBackingEntries}`);
  // Refuse from nr_entries before resolving anything: a guest must not buy host CPU with
  // attaches that fail. The charge is then what the resolved backing really keeps.
  const room = s.resources.fits(s.backingHostBytes(nrEntries));
  return room.ok ? null : room;
}

/**
 * RESOURCE_ATTACH_BACKING: every entry must be in guest memory (else ERR_UNSPEC, as QEMU) and the
 * resource must not have backing already (ERR_UNSPEC); at most maxBackingEntries entries
 * (INVALID_PARAMETER). Blobs get their backing at creation (INVALID_PARAMETER).
 */
export function attachBacking(s: DeviceState, cmd: CmdResourceAttachBacking): Outcome {
  const bad = attachChecks(s, cmd.resourceId, Math.max(cmd.nrEntries, cmd.entries.length));
  if (bad) return bad;
  const res = s.resources.get(cmd.resourceId)!;
  const b = Backing.resolve(s.memory, cmd.entries, s.limits.maxBackingEntries);
  if (!b.ok) return b;
  const charged = s.resources.chargeBacking(res, s.backingHostBytes(b.value.runCount));
  if (!charged.ok) return charged;
  const r = s.renderer.attachBacking(res.id, b.value);
  if (!r.ok) {
    s.resources.releaseBacking(res);
    return r;
  }
  res.backing = b.value;
  return NODATA;
}

/** RESOURCE_DETACH_BACKING: the resource must have backing (ERR_UNSPEC otherwise, as QEMU). */
export function detachBacking(s: DeviceState, cmd: CmdResourceDetachBacking): Outcome {
  const res = s.resources.get(cmd.resourceId);
  if (!res) return errResourceId(`DETACH_BACKING: no resource ${cmd.resourceId}`);
  if (res.kind === 'blob') return errParameter('DETACH_BACKING: blob resources keep their backing');
  if (!res.backing) return errUnspec(`DETACH_BACKING: resource ${cmd.resourceId} has no backing`);
  s.renderer.detachBacking(res.id);
  s.resources.releaseBacking(res);
  res.backing = null;
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
