/** RESOURCE_CREATE_BLOB, RESOURCE_MAP_BLOB, RESOURCE_UNMAP_BLOB (virtio-gpu §5.7.6.8). */
import {
  VIRTIO_GPU_BLOB_FLAG_USE_CROSS_DEVICE,
  VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE,
  VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE,
  VIRTIO_GPU_BLOB_MEM_GUEST,
  VIRTIO_GPU_BLOB_MEM_HOST3D,
  VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST,
  VIRTIO_GPU_F_RESOURCE_BLOB,
  VIRTIO_GPU_MAP_CACHE_MASK,
  VIRTIO_GPU_RESP_OK_MAP_INFO,
  type CmdResourceCreateBlob,
  type CmdResourceMapBlob,
  type CmdResourceUnmapBlob,
  u64ToSafe,
} from '@virtio-gpu/protocol';
import { Backing } from '../backing.js';
import { NODATA, type Outcome, nodataWhenDone } from '../outcome.js';
import { newResource } from '../resources.js';
import { type Failure, errContextId, errOutOfMemory, errParameter, errResourceId, errUnspec } from '../result.js';
import type { DeviceState } from '../state.js';

const KNOWN_FLAGS = VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE | VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE | VIRTIO_GPU_BLOB_FLAG_USE_CROSS_DEVICE;

/**
 * CREATE_BLOB's checks that need only its fixed fields, in the handler's order, the quota for
 * the size and what nr_entries runs would keep included (the queue loop runs them before
 * decoding, refuse-early.ts). Null when they pass.
 */
export function createBlobChecks(s: DeviceState, ctxId: number, resourceId: number, blobMem: number, blobFlags: number, nrEntries: number, size64: bigint): Failure | null {
  if (!s.has(VIRTIO_GPU_F_RESOURCE_BLOB)) return errUnspec('CREATE_BLOB without VIRTIO_GPU_F_RESOURCE_BLOB');
  if (resourceId === 0 || s.resources.has(resourceId)) return errResourceId(`CREATE_BLOB: id ${resourceId} is 0 or in use`);
  if ((blobFlags & ~KNOWN_FLAGS) !== 0) return errParameter(`CREATE_BLOB: unknown flags 0x${blobFlags.toString(16)}`);
  if (size64 === 0n) return errParameter('CREATE_BLOB: zero size');
  const size = u64ToSafe(size64);
  if (size < 0) return errOutOfMemory('CREATE_BLOB: size beyond 2^53');
  const guestBacked = blobMem === VIRTIO_GPU_BLOB_MEM_GUEST || blobMem === VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST;
  if (blobMem === VIRTIO_GPU_BLOB_MEM_HOST3D || blobMem === VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST) {
    if (!s.renderer.capabilities.hostBlobs) return errParameter('CREATE_BLOB: the renderer has no host blobs');
    if (!s.contexts.get(ctxId)) return errContextId(`CREATE_BLOB: no context ${ctxId}`);
  } else if (blobMem !== VIRTIO_GPU_BLOB_MEM_GUEST) {
    return errParameter(`CREATE_BLOB: unknown blob_mem ${blobMem}`);
  }
  if (nrEntries > s.limits.maxBackingEntries) return errParameter(`CREATE_BLOB: ${nrEntries} entries > ${s.limits.maxBackingEntries}`);
  if (!guestBacked && nrEntries !== 0) return errParameter('CREATE_BLOB: HOST3D blobs take no entries');
  // Guest entries cost what ATTACH_BACKING's do (DeviceState.backingHostBytes); checked from nr_entries
  // before resolving, charged as resolved.
  const room = s.resources.canAdd(size + (guestBacked ? s.backingHostBytes(nrEntries) : 0));
  return room.ok ? null : room;
}

/**
 * RESOURCE_CREATE_BLOB. GUEST blobs are backed by their entries with any renderer; HOST3D and
 * HOST3D_GUEST go to a renderer with host blobs (else INVALID_PARAMETER) and need a live context
 * in hdr.ctx_id (INVALID_CONTEXT_ID). Size 0, unknown flags or mem, size beyond the entries ->
 * INVALID_PARAMETER; quota -> OUT_OF_MEMORY.
 */
export function createBlob(s: DeviceState, cmd: CmdResourceCreateBlob): Outcome {
  const bad = createBlobChecks(s, cmd.hdr.ctxId, cmd.resourceId, cmd.blobMem, cmd.blobFlags, Math.max(cmd.nrEntries, cmd.entries.length), cmd.size);
  if (bad) return bad;
  const size = u64ToSafe(cmd.size);
  const ctxId = cmd.hdr.ctxId;
  const guestBacked = cmd.blobMem === VIRTIO_GPU_BLOB_MEM_GUEST || cmd.blobMem === VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST;
  let backing: Backing | null = null;
  if (guestBacked) {
    const b = Backing.resolve(s.memory, cmd.entries, s.limits.maxBackingEntries);
    if (!b.ok) return b;
    if (b.value.size < size) return errParameter(`CREATE_BLOB: size ${size} beyond the ${b.value.size} backing bytes`);
    backing = b.value;
  }
  const hostBytes = size + (backing ? s.backingHostBytes(backing.runCount) : 0);
  const fits = s.resources.canAdd(hostBytes);
  if (!fits.ok) return fits;
  const r = s.renderer.createBlob(cmd.resourceId, { ctxId, blobMem: cmd.blobMem, blobFlags: cmd.blobFlags, blobId: cmd.blobId, size, backing });
  if (!r.ok) return r;
  const rec = newResource({
    id: cmd.resourceId,
    kind: 'blob',
    format: 0,
    width: 0,
    height: 0,
    args3d: null,
    blob: { blobMem: cmd.blobMem, blobFlags: cmd.blobFlags, blobId: cmd.blobId, size, ctxId },
    hostBytes,
  });
  rec.backing = backing;
  s.resources.add(rec);
  return NODATA;
}

/**
 * RESOURCE_MAP_BLOB: a USE_MAPPABLE blob, not mapped yet, into the host-visible region at
 * `offset` (inside the region, overlapping no other mapping). Answers RESP_OK_MAP_INFO with the
 * renderer's cache type. No region, or the region refuses -> ERR_UNSPEC.
 */
export function mapBlob(s: DeviceState, cmd: CmdResourceMapBlob): Outcome {
  if (!s.has(VIRTIO_GPU_F_RESOURCE_BLOB)) return errUnspec('MAP_BLOB without VIRTIO_GPU_F_RESOURCE_BLOB');
  const res = s.resources.get(cmd.resourceId);
  if (!res) return errResourceId(`MAP_BLOB: no resource ${cmd.resourceId}`);
  if (!res.blob || (res.blob.blobFlags & VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE) === 0) return errParameter('MAP_BLOB: not a mappable blob');
  if (res.map) return errParameter(`MAP_BLOB: resource ${res.id} is already mapped`);
  if (!s.region) return errUnspec('MAP_BLOB: no host-visible region');
  const size = BigInt(res.blob.size);
  if (cmd.offset + size > s.region.size) return errParameter('MAP_BLOB: mapping beyond the host-visible region');
  for (const other of s.resources.all()) {
    if (!other.map) continue;
    const o = other.map;
    if (cmd.offset < o.offset + BigInt(o.size) && o.offset < cmd.offset + size) return errParameter(`MAP_BLOB: overlaps resource ${other.id}`);
  }
  const m = s.renderer.mapBlob(res.id);
  if (!m.ok) return m;
  let mapped = false;
  try {
    mapped = s.region.map(cmd.offset, m.value, res.id);
  } catch (e) {
    s.log.log('error', `virtio-gpu: host-visible region map threw: ${String(e)}`);
  }
  if (!mapped) {
    // The region never referenced it, so releasing at once is safe.
    s.renderer.unmapBlob(res.id);
    return errUnspec('MAP_BLOB: the host-visible region refused the mapping');
  }
  const mapInfo = m.value.mapInfo & VIRTIO_GPU_MAP_CACHE_MASK;
  res.map = { offset: cmd.offset, size: res.blob.size, mapInfo, state: 'mapped' };
  return { type: VIRTIO_GPU_RESP_OK_MAP_INFO, mapInfo };
}

/**
 * RESOURCE_UNMAP_BLOB: answered only after the region confirmed the unmap and the renderer's
 * mapping was released (never the other way round). Not mapped -> INVALID_PARAMETER.
 */
export function unmapBlob(s: DeviceState, cmd: CmdResourceUnmapBlob): Outcome {
  if (!s.has(VIRTIO_GPU_F_RESOURCE_BLOB)) return errUnspec('UNMAP_BLOB without VIRTIO_GPU_F_RESOURCE_BLOB');
  const res = s.resources.get(cmd.resourceId);
  if (!res) return errResourceId(`UNMAP_BLOB: no resource ${cmd.resourceId}`);
  if (!res.map || res.map.state !== 'mapped') return errParameter(`UNMAP_BLOB: resource ${res.id} is not mapped`);
  return nodataWhenDone((done) => s.unmapBlob(res, done));
}
