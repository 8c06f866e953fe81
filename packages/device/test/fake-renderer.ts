/** A 3D-capable fake renderer (over Renderer2D) with manual, possibly late fences, and a fake region. */
import {
  VIRTIO_GPU_BLOB_MEM_HOST3D,
  VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST,
  VIRTIO_GPU_CAPSET_VENUS,
  VIRTIO_GPU_CAPSET_VIRGL2,
  VIRTIO_GPU_MAP_CACHE_WC,
} from '@virtio-gpu/protocol';
import type { HostVisibleRegion } from '../src/blob.js';
import type { BlobArgs, BlobMapping, Fence, FenceHandler, RendererCapabilities, Resource3dArgs, Transfer3d } from '../src/renderer.js';
import { Renderer2D } from '../src/renderer-2d.js';
import { OK, type Result, errUnspec, ok } from '../src/result.js';

export class FakeRenderer3D extends Renderer2D {
  override readonly capabilities: RendererCapabilities = {
    capsets: [
      { id: VIRTIO_GPU_CAPSET_VIRGL2, maxVersion: 2, maxSize: 64 },
      { id: VIRTIO_GPU_CAPSET_VENUS, maxVersion: 0, maxSize: 16 },
    ],
    threeD: true,
    hostBlobs: true,
    contextInit: true,
  };
  calls: string[] = [];
  fences: Fence[] = [];
  autoRetire = false;
  failFence = false;
  private handler: FenceHandler = () => {};
  private readonly hostBlobs = new Map<number, Uint8Array>();

  override setFenceHandler(h: FenceHandler): void {
    this.handler = h;
    super.setFenceHandler(h);
  }
  override createResource3d(id: number, _a: Resource3dArgs): Result {
    this.calls.push(`create3d ${id}`);
    return OK;
  }
  override createBlob(id: number, a: BlobArgs): Result {
    if (a.blobMem === VIRTIO_GPU_BLOB_MEM_HOST3D || a.blobMem === VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST) {
      this.hostBlobs.set(id, new Uint8Array(a.size));
      this.calls.push(`blob ${id}`);
      return OK;
    }
    return super.createBlob(id, a);
  }
  override destroyResource(id: number): void {
    this.calls.push(`destroy ${id}`);
    this.hostBlobs.delete(id);
    super.destroyResource(id);
  }
  override mapBlob(id: number): Result<BlobMapping> {
    const b = this.hostBlobs.get(id);
    this.calls.push(`map ${id}`);
    if (b) return ok({ size: b.byteLength, mapInfo: VIRTIO_GPU_MAP_CACHE_WC, iovecs: [b] });
    return super.mapBlob(id);
  }
  override unmapBlob(id: number): void {
    this.calls.push(`release ${id}`);
  }
  override transferToHost3d(id: number, _t: Transfer3d): Result {
    this.calls.push(`t2h3d ${id}`);
    return OK;
  }
  override transferFromHost3d(id: number, _t: Transfer3d): Result {
    this.calls.push(`fh3d ${id}`);
    return OK;
  }
  override createContext(ctxId: number, capsetId: number, name: string): Result {
    this.calls.push(`ctx ${ctxId} capset ${capsetId} ${name}`);
    return OK;
  }
  override destroyContext(ctxId: number): void {
    this.calls.push(`ctxdestroy ${ctxId}`);
  }
  override contextAttachResource(ctxId: number, id: number): Result {
    this.calls.push(`attach ${ctxId} ${id}`);
    return OK;
  }
  override contextDetachResource(ctxId: number, id: number): Result {
    this.calls.push(`detach ${ctxId} ${id}`);
    return OK;
  }
  override submit(ctxId: number, data: Uint8Array, ring: number | null): Result {
    this.calls.push(`submit ${ctxId} ${data.byteLength} ${ring}`);
    return OK;
  }
  override createFence(f: Fence): Result {
    if (this.failFence) return errUnspec('fence refused');
    this.fences.push(f);
    if (this.autoRetire) this.handler(f);
    return OK;
  }
  override getCapset(id: number, version: number): Result<Uint8Array> {
    return ok(new Uint8Array([id, version, 0xaa]));
  }
  /** Retire a fence (and every earlier one of its timeline) as a late renderer would. */
  retire(f: Pick<Fence, 'ctxId' | 'ringIdx' | 'ringed'>, fenceId: bigint): void {
    this.handler({ ...f, fenceId });
  }
}

/** A host-visible region that logs and, when `async`, confirms unmaps only on `confirm()`. */
export class FakeRegion implements HostVisibleRegion {
  readonly size: bigint;
  log: string[] = [];
  maps = new Map<bigint, BlobMapping>();
  async = false;
  refuse = false;
  private waiting: (() => void)[] = [];
  constructor(size = 1n << 24n) {
    this.size = size;
  }
  map(offset: bigint, m: BlobMapping, id: number): boolean {
    if (this.refuse) return false;
    this.log.push(`map ${id}@${offset}`);
    this.maps.set(offset, m);
    return true;
  }
  unmap(offset: bigint): void | Promise<void> {
    this.log.push(`unmap @${offset}`);
    if (!this.async) {
      this.maps.delete(offset);
      return;
    }
    return new Promise<void>((res) =>
      this.waiting.push(() => {
        this.maps.delete(offset);
        this.log.push(`unmapped @${offset}`);
        res();
      }),
    );
  }
  get pending(): number {
    return this.waiting.length;
  }
  /** Confirm every pending unmap and let promise callbacks run. */
  async confirm(): Promise<void> {
    const w = this.waiting;
    this.waiting = [];
    for (const f of w) f();
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }
}
