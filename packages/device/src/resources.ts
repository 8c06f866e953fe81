/**
 * The device's resource table: what the guest created, with the bookkeeping the renderer does not
 * keep (backing entries as guest addresses for snapshots, UUIDs, blob mapping state, quota).
 */
import type { Backing } from './backing.js';
import type { DeviceLimits } from './limits.js';
import type { Resource3dArgs } from './renderer.js';
import { OK, type Result, errOutOfMemory } from './result.js';

/** Which command created a resource. */
export type ResourceKind = '2d' | '3d' | 'blob';

/** Blob parameters kept for validation (SET_SCANOUT_BLOB, MAP_BLOB) and snapshots. */
export interface BlobInfo {
  readonly blobMem: number;
  readonly blobFlags: number;
  readonly blobId: bigint;
  readonly size: number;
  readonly ctxId: number;
}

/** A blob's place in the host-visible region. */
export interface BlobMapState {
  readonly offset: bigint;
  readonly size: number;
  readonly mapInfo: number;
  /** 'unmapping': the region was asked to unmap and has not confirmed yet. */
  state: 'mapped' | 'unmapping';
}

/** One live resource. */
export interface ResourceRecord {
  readonly id: number;
  readonly kind: ResourceKind;
  /** VIRTIO_GPU_FORMAT_* (2D) or gallium format (3D); 0 for blobs. */
  readonly format: number;
  readonly width: number;
  readonly height: number;
  readonly args3d: Resource3dArgs | null;
  readonly blob: BlobInfo | null;
  /** Bytes of pixels or blob charged against DeviceLimits.hostMemoryBytes (RESOURCE_HOST_BYTES comes on top). */
  readonly hostBytes: number;
  /** Bytes charged for the backing the device keeps ({@link Backing.hostBytes}). */
  backingBytes: number;
  /** The resolved backing (shared with the renderer; snapshots take its entries), or null. */
  backing: Backing | null;
  /** RESOURCE_ASSIGN_UUID result, stable for the resource's life. */
  uuid: Uint8Array | null;
  /** Blob mapping, if any. */
  map: BlobMapState | null;
  /** UNREF accepted but waiting for the region to confirm an unmap: invisible to the guest. */
  dying: boolean;
  /** Contexts the resource is attached to. */
  readonly contexts: Set<number>;
}

/**
 * Host bytes every resource costs besides its pixels or blob: the device's record and the
 * renderer's entry. Measured from outside (test/memory: 16384 1x1 resources with the 2D renderer
 * kept 1127 bytes each after GC); rounded up. Charged so that a guest creating resources it never
 * fills cannot hold host memory the quota does not see.
 */
export const RESOURCE_HOST_BYTES = 1280;

/** Resources by id, with the host-memory quota. */
export class ResourceTable {
  private readonly byId = new Map<number, ResourceRecord>();
  private bytes = 0;

  constructor(private readonly limits: DeviceLimits) {}

  /** A live resource (not dying), or undefined. */
  get(id: number): ResourceRecord | undefined {
    const r = this.byId.get(id);
    return r && !r.dying ? r : undefined;
  }

  /** Whether the id is taken (dying resources still hold their id until freed). */
  has(id: number): boolean {
    return this.byId.has(id);
  }

  /** Host bytes charged now. */
  get usedBytes(): number {
    return this.bytes;
  }

  /** Number of resources holding an id. */
  get count(): number {
    return this.byId.size;
  }

  /** Whether `hostBytes` more fit the quota and one more resource fits the count cap. */
  canAdd(hostBytes: number): Result {
    if (this.byId.size >= this.limits.maxResources) return errOutOfMemory(`resource count limit ${this.limits.maxResources}`);
    const cost = hostBytes + RESOURCE_HOST_BYTES;
    if (!(hostBytes >= 0) || this.bytes + cost > this.limits.hostMemoryBytes) {
      return errOutOfMemory(`host memory quota: ${this.bytes} + ${cost} > ${this.limits.hostMemoryBytes}`);
    }
    return OK;
  }

  /** Insert a record (the caller checked canAdd and the id). */
  add(r: ResourceRecord): void {
    this.byId.set(r.id, r);
    this.bytes += r.hostBytes + RESOURCE_HOST_BYTES;
  }

  /** Remove a record and release its quota (backing bookkeeping included). */
  remove(id: number): void {
    const r = this.byId.get(id);
    if (!r) return;
    this.byId.delete(id);
    this.bytes -= r.hostBytes + RESOURCE_HOST_BYTES + r.backingBytes;
  }

  /**
   * Whether `cost` more host bytes fit the quota: checked from nr_entries before an attach
   * resolves anything, so a refusal costs the guest's request nothing on the host.
   */
  fits(cost: number): Result {
    if (this.bytes + cost > this.limits.hostMemoryBytes) return errOutOfMemory(`host memory quota: ${this.bytes} + ${cost} > ${this.limits.hostMemoryBytes}`);
    return OK;
  }

  /** Charge `cost` bytes of kept backing to `r`; ERR_OUT_OF_MEMORY past the quota. */
  chargeBacking(r: ResourceRecord, cost: number): Result {
    if (this.bytes + cost > this.limits.hostMemoryBytes) {
      return errOutOfMemory(`host memory quota: ${this.bytes} + ${cost} for backing > ${this.limits.hostMemoryBytes}`);
    }
    this.bytes += cost;
    r.backingBytes += cost;
    return OK;
  }

  /** Release what {@link chargeBacking} charged to `r`. */
  releaseBacking(r: ResourceRecord): void {
    this.bytes -= r.backingBytes;
    r.backingBytes = 0;
  }

  /** The record holding `id`, dying or not. */
  peek(id: number): ResourceRecord | undefined {
    return this.byId.get(id);
  }

  /** Every record, dying ones included. */
  all(): IterableIterator<ResourceRecord> {
    return this.byId.values();
  }

  /** Forget everything. */
  clear(): void {
    this.byId.clear();
    this.bytes = 0;
  }
}

/** A fresh record with no backing, UUID or mapping. */
export function newResource(
  init: Pick<ResourceRecord, 'id' | 'kind' | 'format' | 'width' | 'height' | 'args3d' | 'blob' | 'hostBytes'>,
): ResourceRecord {
  return { ...init, backingBytes: 0, backing: null, uuid: null, map: null, dying: false, contexts: new Set() };
}
