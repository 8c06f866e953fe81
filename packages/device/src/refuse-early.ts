/**
 * Commands refused from their fixed header, before the queue loop decodes them. An ATTACH_BACKING
 * or CREATE_BLOB carries up to 16384 mem entries, a 64-bit address each: decoding them costs the
 * host far more than reading 32 or 56 header bytes, so one that will be refused (no such
 * resource, too many entries, over the quota, ...) is answered from the header alone, and a guest
 * cannot buy host CPU with requests that fail. The answer is exactly the handler's: the same
 * checks (attachChecks, createBlobChecks) in the same order, and only for commands the decoder
 * would accept (nr_entries within the bytes) without a ring fence (checked after decoding).
 */
import {
  CtrlHdr,
  MemEntry,
  ResourceAttachBacking,
  ResourceCreateBlob,
  VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
  VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
  VIRTIO_GPU_FLAG_INFO_RING_IDX,
  peekType,
} from '@virtio-gpu/protocol';
import { createBlobChecks } from './handlers/blob.js';
import { attachChecks } from './handlers/resource.js';
import type { Failure } from './result.js';
import type { DeviceState } from './state.js';

/** The refusal the handler would give, or null: decode and handle as usual. */
export function refuseEarly(s: DeviceState, bytes: Uint8Array): Failure | null {
  // peekType reads four bytes: no allocation for the commands this does not concern.
  const type = peekType(bytes, 0);
  const attach = type === VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING;
  if (!attach && type !== VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB) return null;
  const size = attach ? ResourceAttachBacking.SIZE : ResourceCreateBlob.SIZE;
  if (bytes.length < size) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, size);
  if ((dv.getUint32(CtrlHdr.flags, true) & VIRTIO_GPU_FLAG_INFO_RING_IDX) !== 0) return null;
  const nrEntries = dv.getUint32(attach ? ResourceAttachBacking.nrEntries : ResourceCreateBlob.nrEntries, true);
  if (bytes.length < size + nrEntries * MemEntry.SIZE) return null;
  if (attach) return attachChecks(s, dv.getUint32(ResourceAttachBacking.resourceId, true), nrEntries);
  return createBlobChecks(
    s,
    dv.getUint32(CtrlHdr.ctxId, true),
    dv.getUint32(ResourceCreateBlob.resourceId, true),
    dv.getUint32(ResourceCreateBlob.blobMem, true),
    dv.getUint32(ResourceCreateBlob.blobFlags, true),
    nrEntries,
    dv.getBigUint64(ResourceCreateBlob.size, true),
  );
}
