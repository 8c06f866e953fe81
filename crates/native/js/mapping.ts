/**
 * Shared memory mapped from a descriptor (Linux): QEMU's guest RAM regions (SET_MEM_TABLE /
 * ADD_MEM_REG give fd, mmap_offset and size) and host-visible blobs, as an ArrayBuffer over the
 * mapping itself (no copy).
 *
 * Safety: `unmap()` detaches the ArrayBuffer before the memory is unmapped, so every view of it
 * reads length 0 and can reach nothing; the ArrayBuffer cannot be transferred to a worker (it is
 * marked untransferable); memory the renderer still uses refuses to unmap (EBUSY). If the region
 * is dropped without `unmap()`, the ArrayBuffer's GC finaliser unmaps it once no view remains.
 *
 * A peer that shrinks the file under the mapping (possible when the file cannot be sealed) does
 * not kill the process: the access that would raise SIGBUS finds zero-filled memory instead, and
 * `truncated` turns true. The owner should then drop that peer: the memory no longer reaches it.
 */
import { markAsUntransferable } from 'node:worker_threads';
import { NativeError, requireFeature } from './binding.js';

/** Options of {@link mapFd}. */
export interface MapOptions {
  /** Map read-only (PROT_READ); writes through views then fault, so only for trusted readers. */
  readonly readOnly?: boolean;
}

/** A live mapping of a descriptor range. */
export class MappedRegion {
  private buf: ArrayBuffer | null;
  private view: Uint8Array | null;

  /** @internal use {@link mapFd}. */
  constructor(
    /** Native mapping id (never reused). */
    readonly id: number,
    buffer: ArrayBuffer,
    /** Bytes mapped. */
    readonly size: number,
  ) {
    markAsUntransferable(buffer);
    this.buf = buffer;
    this.view = new Uint8Array(buffer);
  }

  /** False after {@link MappedRegion.unmap}. */
  get mapped(): boolean {
    return this.buf !== null;
  }

  /**
   * True once the file was shrunk under the mapping and an access faulted: the whole mapping was
   * replaced with zero-filled private memory (instead of SIGBUS) and no longer reaches the file.
   * False after unmap.
   */
  get truncated(): boolean {
    return this.buf !== null && requireFeature('fdPlumbing').mappingTruncated(this.id);
  }

  /** The ArrayBuffer over the mapping; throws after unmap. */
  get buffer(): ArrayBuffer {
    if (!this.buf) throw new NativeError('ERR_NOT_MAPPED', `mapping ${this.id} was unmapped`);
    return this.buf;
  }

  /** A Uint8Array over the whole mapping; throws after unmap. */
  get bytes(): Uint8Array {
    if (!this.view) throw new NativeError('ERR_NOT_MAPPED', `mapping ${this.id} was unmapped`);
    return this.view;
  }

  /**
   * Detach every JS view, then munmap. Throws EBUSY (and changes nothing) while the renderer
   * still holds memory of this region as backing. A second call does nothing.
   */
  unmap(): void {
    if (!this.buf) return;
    requireFeature('fdPlumbing').unmapBuffer(this.id, this.buf);
    this.buf = null;
    this.view = null;
  }
}

/**
 * Map `size` bytes of `fd` starting at file offset `offset`, shared and read-write. The offset
 * need not be page aligned (vhost-user's mmap_offset is not). The fd may be closed afterwards.
 */
export function mapFd(fd: number, offset: number | bigint, size: number, options: MapOptions = {}): MappedRegion {
  const b = requireFeature('fdPlumbing');
  const off = typeof offset === 'bigint' ? Number(offset) : offset;
  if (typeof offset === 'bigint' && BigInt(off) !== offset) {
    throw new NativeError('ERR_INVALID_ARG', `offset ${offset} beyond 2^53`);
  }
  const { id, buffer } = b.mapFd(fd, off, size, options.readOnly ?? false);
  return new MappedRegion(id, buffer, size);
}

/** Live native mappings in this process (for leak checks in tests). */
export function mappingCount(): number {
  return requireFeature('fdPlumbing').mappingCount();
}
