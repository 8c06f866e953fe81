/**
 * A 3D-capable test renderer for scenarios, built on the device engineer's FakeRenderer3D
 * (capsets VIRGL2 and VENUS, host blobs, context init) with what the scenarios need on top:
 * - 3D resources that hold bytes (4 per texel), take backing, and copy in both directions on
 *   TRANSFER_TO_HOST_3D / TRANSFER_FROM_HOST_3D, so transfers are observable in guest RAM;
 * - a tiny SUBMIT_3D command stream (`fill3d`: le32 resource id, le32 byte value) so a submit
 *   has a visible effect;
 * - fence retirement policies: at once, on a microtask, after a timeout per timeline (so
 *   timelines retire out of order), or by hand;
 * - snapshot/restore of all of it (3D resources with their bytes, host blobs), as a real renderer
 *   must, so a restored device answers exactly as the old one would have.
 */
import { type Backing, type BlobArgs, type Fence, type Resource3dArgs, type Result, type Transfer3d, OK, errParameter, errUnspec } from '@virtio-gpu/device';
import { VIRTIO_GPU_BLOB_MEM_HOST3D, VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST } from '@virtio-gpu/protocol';
import { FakeRenderer3D } from '../../packages/device/test/fake-renderer';

/** How fences retire. */
export type RetireMode =
  | { kind: 'sync' }
  | { kind: 'manual' }
  | { kind: 'microtask' }
  /** setTimeout per fence; `delayMs(fence)` picks the delay (timelines may overtake each other). */
  | { kind: 'timeout'; delayMs: (f: Fence) => number };

interface Res3d {
  args: Resource3dArgs;
  bytes: Uint8Array;
  backing: Backing | null;
}

/** SUBMIT_3D stream of one fill command. */
export function fill3d(resourceId: number, value: number): Uint8Array {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, resourceId, true);
  dv.setUint32(4, value, true);
  return b;
}

/** See the module comment. */
export class TestRenderer3D extends FakeRenderer3D {
  mode: RetireMode = { kind: 'sync' };
  /** Fences in the order they retired (each retirement, not each answered command). */
  readonly retired: Fence[] = [];
  /** Fences not retired yet (manual mode), in creation order. */
  readonly pendingFences: Fence[] = [];
  readonly res3d = new Map<number, Res3d>();
  readonly submits: { ctxId: number; data: number[]; ring: number | null }[] = [];

  override createResource3d(id: number, a: Resource3dArgs): Result {
    super.createResource3d(id, a);
    const texels = a.width * Math.max(a.height, 1) * Math.max(a.depth, 1) * Math.max(a.arraySize, 1);
    this.res3d.set(id, { args: a, bytes: new Uint8Array(texels * 4), backing: null });
    return OK;
  }
  override destroyResource(id: number): void {
    this.res3d.delete(id);
    this.hostBlobSizes.delete(id);
    super.destroyResource(id);
  }
  /** Host blobs by id and size (the fake keeps their bytes privately), for snapshots. */
  private readonly hostBlobSizes = new Map<number, number>();
  override createBlob(id: number, a: BlobArgs): Result {
    const r = super.createBlob(id, a);
    if (r.ok && (a.blobMem === VIRTIO_GPU_BLOB_MEM_HOST3D || a.blobMem === VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST)) this.hostBlobSizes.set(id, a.size);
    return r;
  }
  override reset(): void {
    this.res3d.clear();
    this.hostBlobSizes.clear();
    super.reset();
  }
  override snapshot(): ReturnType<FakeRenderer3D['snapshot']> & { res3d: unknown; hostBlobs: unknown } {
    return {
      ...super.snapshot(),
      res3d: [...this.res3d].map(([id, r]) => ({ id, args: { ...r.args }, bytes: r.bytes.slice() })),
      hostBlobs: [...this.hostBlobSizes],
    };
  }
  override restore(state: unknown): Result {
    const s = state as { res3d?: { id: number; args: Resource3dArgs; bytes: Uint8Array }[]; hostBlobs?: [number, number][] };
    const r = super.restore(state);
    if (!r.ok) return r;
    for (const e of s.res3d ?? []) this.res3d.set(e.id, { args: e.args, bytes: e.bytes.slice(), backing: null });
    for (const [id, size] of s.hostBlobs ?? []) this.createBlob(id, { ctxId: 0, blobMem: VIRTIO_GPU_BLOB_MEM_HOST3D, blobFlags: 0, blobId: 0n, size, backing: null });
    return OK;
  }
  override attachBacking(id: number, b: Backing): Result {
    const r = this.res3d.get(id);
    if (!r) return super.attachBacking(id, b);
    r.backing = b;
    return OK;
  }
  override detachBacking(id: number): void {
    const r = this.res3d.get(id);
    if (r) r.backing = null;
    else super.detachBacking(id);
  }
  override transferToHost3d(id: number, t: Transfer3d): Result {
    super.transferToHost3d(id, t);
    return this.copy3d(id, t, true);
  }
  override transferFromHost3d(id: number, t: Transfer3d): Result {
    super.transferFromHost3d(id, t);
    return this.copy3d(id, t, false);
  }
  override submit(ctxId: number, data: Uint8Array, ring: number | null): Result {
    super.submit(ctxId, data, ring);
    this.submits.push({ ctxId, data: [...data], ring });
    if (data.byteLength === 8) {
      const dv = new DataView(data.buffer, data.byteOffset, 8);
      const r = this.res3d.get(dv.getUint32(0, true));
      if (!r) return errParameter('fill3d: unknown resource');
      r.bytes.fill(dv.getUint32(4, true) & 0xff);
    }
    return OK;
  }
  override createFence(f: Fence): Result {
    if (this.failFence) return errUnspec('fence refused');
    this.fences.push(f);
    const m = this.mode;
    if (m.kind === 'sync') this.retireNow(f);
    else if (m.kind === 'manual') this.pendingFences.push(f);
    else if (m.kind === 'microtask') queueMicrotask(() => this.retireNow(f));
    else setTimeout(() => this.retireNow(f), m.delayMs(f));
    return OK;
  }
  /** Retire `f` (and, per the contract, every earlier fence of its timeline). */
  retireNow(f: Fence): void {
    this.retired.push(f);
    const i = this.pendingFences.indexOf(f);
    if (i >= 0) this.pendingFences.splice(i, 1);
    this.retire(f, f.fenceId);
  }

  /** Row-by-row copy of the box (level 0, 4 bytes per texel); stride 0 means width*4. */
  private copy3d(id: number, t: Transfer3d, toHost: boolean): Result {
    const r = this.res3d.get(id);
    if (!r) return errParameter(`no 3D resource ${id}`);
    if (!r.backing) return errUnspec(`3D resource ${id} has no backing`);
    const { box } = t;
    const a = r.args;
    if (box.x + box.w > a.width || box.y + box.h > Math.max(a.height, 1) || box.z + box.d > Math.max(a.depth, 1)) return errParameter('box outside the resource');
    const rowBytes = box.w * 4;
    const stride = t.stride || rowBytes;
    const layer = t.layerStride || stride * box.h;
    for (let z = 0; z < box.d; z++) {
      for (let y = 0; y < box.h; y++) {
        const g = t.offset + z * layer + y * stride;
        const h = (((box.z + z) * Math.max(a.height, 1) + box.y + y) * a.width + box.x) * 4;
        const ok = toHost ? r.backing.copyOut(g, r.bytes, h, rowBytes) : r.backing.copyIn(g, r.bytes, h, rowBytes);
        if (!ok) return errParameter('transfer outside the backing');
      }
    }
    return OK;
  }
}
