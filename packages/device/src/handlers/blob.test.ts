import * as P from '@virtio-gpu/protocol';
import { describe, expect, it } from 'vitest';
import { C } from '../../test/cmd.js';
import { FakeRegion, FakeRenderer3D } from '../../test/fake-renderer.js';
import { Rig } from '../../test/rig.js';
import { BACKING_ENTRY_HOST_BYTES } from '../resources.js';

const OKT = P.VIRTIO_GPU_RESP_OK_NODATA;
const BAD = P.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
const MAPPABLE = P.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE;
const GUEST = P.VIRTIO_GPU_BLOB_MEM_GUEST;
const HOST = P.VIRTIO_GPU_BLOB_MEM_HOST3D;

function hostRig(async = false): { rig: Rig; r: FakeRenderer3D; region: FakeRegion } {
  const r = new FakeRenderer3D();
  const region = new FakeRegion();
  region.async = async;
  const rig = new Rig({ renderer: r, hostVisible: region });
  expect(rig.send(C.ctxCreate(1))?.type).toBe(OKT);
  expect(rig.send(C.createBlob(10, HOST, MAPPABLE, 8192n, [], { ctxId: 1 }))?.type).toBe(OKT);
  return { rig, r, region };
}

/** Counts the renderer's reset() calls. */
function countResets(r: FakeRenderer3D): { n: number } {
  const count = { n: 0 };
  const orig = r.reset.bind(r);
  r.reset = () => {
    count.n++;
    orig();
  };
  return count;
}

describe('RESOURCE_CREATE_BLOB', () => {
  it('guest blob -> OK and charged to the quota (size plus its entries\' bookkeeping)', () => {
    const rig = new Rig();
    const entries = Rig.entries(rig.pages(2));
    expect(rig.send(C.createBlob(1, GUEST, 0, 8192n, entries))?.type).toBe(OKT);
    expect(rig.device.hostBytesUsed).toBe(8192 + entries.length * BACKING_ENTRY_HOST_BYTES);
  });
  it('guest blob larger than its entries -> ERR_INVALID_PARAMETER', () => {
    const rig = new Rig();
    expect(rig.send(C.createBlob(1, GUEST, 0, 8193n, Rig.entries(rig.pages(2))))?.type).toBe(BAD);
    expect(rig.device.resourceCount).toBe(0);
  });
  it('zero size, unknown blob_mem, unknown flags -> ERR_INVALID_PARAMETER', () => {
    const rig = new Rig();
    const e = Rig.entries(rig.pages(1));
    expect(rig.send(C.createBlob(1, GUEST, 0, 0n, e))?.type).toBe(BAD);
    expect(rig.send(C.createBlob(1, 9, 0, 4096n, e))?.type).toBe(BAD);
    expect(rig.send(C.createBlob(1, GUEST, 0x100, 4096n, e))?.type).toBe(BAD);
  });
  it('HOST3D with the 2D renderer -> ERR_INVALID_PARAMETER', () => {
    expect(new Rig().send(C.createBlob(1, HOST, 0, 4096n))?.type).toBe(BAD);
  });
  it('HOST3D with a host-blob renderer but unknown context -> ERR_INVALID_CONTEXT_ID', () => {
    const rig = new Rig({ renderer: new FakeRenderer3D() });
    expect(rig.send(C.createBlob(1, HOST, 0, 4096n, [], { ctxId: 5 }))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
  });
  it('id 0 or in use -> ERR_INVALID_RESOURCE_ID', () => {
    const rig = new Rig();
    const e = Rig.entries(rig.pages(1));
    expect(rig.send(C.createBlob(0, GUEST, 0, 4096n, e))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    rig.send(C.createBlob(1, GUEST, 0, 4096n, e));
    expect(rig.send(C.createBlob(1, GUEST, 0, 4096n, e))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
  });
  it('over the quota -> ERR_OUT_OF_MEMORY; huge size -> ERR_OUT_OF_MEMORY', () => {
    const rig = new Rig({ limits: { hostMemoryBytes: 4096 } });
    const e = Rig.entries(rig.pages(2));
    expect(rig.send(C.createBlob(1, GUEST, 0, 8192n, e))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
    expect(rig.send(C.createBlob(1, GUEST, 0, 1n << 60n, e))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
  });
  it('without VIRTIO_GPU_F_RESOURCE_BLOB -> ERR_UNSPEC', () => {
    const rig = new Rig({ features: 0n });
    expect(rig.send(C.createBlob(1, GUEST, 0, 4096n, Rig.entries(rig.pages(1))))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
  });
});

describe('RESOURCE_MAP_BLOB / UNMAP_BLOB', () => {
  it('map -> OK_MAP_INFO with the cache type; region holds the mapping', () => {
    const { rig, region } = hostRig();
    const resp = rig.send(C.mapBlob(10, 0x2000n));
    expect(resp).toMatchObject({ type: P.VIRTIO_GPU_RESP_OK_MAP_INFO, mapInfo: P.VIRTIO_GPU_MAP_CACHE_WC });
    expect(region.log).toEqual(['map 10@8192']);
  });
  it('guest blob maps through the 2D renderer', () => {
    const region = new FakeRegion();
    const rig = new Rig({ hostVisible: region });
    rig.send(C.createBlob(1, GUEST, MAPPABLE, 4096n, Rig.entries(rig.pages(1))));
    expect(rig.send(C.mapBlob(1, 0n))).toMatchObject({ type: P.VIRTIO_GPU_RESP_OK_MAP_INFO, mapInfo: P.VIRTIO_GPU_MAP_CACHE_CACHED });
  });
  it('not mappable, already mapped, outside the region, overlapping -> ERR_INVALID_PARAMETER', () => {
    const { rig } = hostRig();
    rig.send(C.createBlob(11, HOST, 0, 4096n, [], { ctxId: 1 }));
    rig.send(C.createBlob(12, HOST, MAPPABLE, 4096n, [], { ctxId: 1 }));
    expect(rig.send(C.mapBlob(11, 0n))?.type).toBe(BAD);
    expect(rig.send(C.mapBlob(10, 0n))?.type).toBe(P.VIRTIO_GPU_RESP_OK_MAP_INFO);
    expect(rig.send(C.mapBlob(10, 0x10000n))?.type).toBe(BAD);
    expect(rig.send(C.mapBlob(12, 4096n))?.type).toBe(BAD);
    expect(rig.send(C.mapBlob(12, (1n << 24n) - 2048n))?.type).toBe(BAD);
    expect(rig.send(C.mapBlob(12, 8192n))?.type).toBe(P.VIRTIO_GPU_RESP_OK_MAP_INFO);
  });
  it('no region -> ERR_UNSPEC; region refuses -> ERR_UNSPEC and the renderer mapping is released', () => {
    const r = new FakeRenderer3D();
    const rig = new Rig({ renderer: r });
    rig.send(C.ctxCreate(1));
    rig.send(C.createBlob(10, HOST, MAPPABLE, 4096n, [], { ctxId: 1 }));
    expect(rig.send(C.mapBlob(10, 0n))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
    const h = hostRig();
    h.region.refuse = true;
    expect(h.rig.send(C.mapBlob(10, 0n))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
    expect(h.r.calls.slice(-2)).toEqual(['map 10', 'release 10']);
  });
  it('unmap of an unmapped blob -> ERR_INVALID_PARAMETER; unknown -> ERR_INVALID_RESOURCE_ID', () => {
    const { rig } = hostRig();
    expect(rig.send(C.unmapBlob(10))?.type).toBe(BAD);
    expect(rig.send(C.unmapBlob(99))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
  });
  it('sync region: unmap -> OK after region unmap, then renderer release', () => {
    const { rig, r, region } = hostRig();
    rig.send(C.mapBlob(10, 0n));
    expect(rig.send(C.unmapBlob(10))?.type).toBe(OKT);
    expect(region.log).toEqual(['map 10@0', 'unmap @0']);
    expect(r.calls.at(-1)).toBe('release 10');
  });
  it('async region: UNMAP answered and renderer mapping released only after the region confirms', async () => {
    const { rig, r, region } = hostRig(true);
    rig.send(C.mapBlob(10, 0n));
    const head = rig.enqueue(C.unmapBlob(10));
    const next = rig.enqueue(C.mapBlob(10, 0n));
    rig.device.notify(0);
    expect(rig.responseFor(head)).toBeUndefined();
    expect(r.calls).not.toContain('release 10');
    expect(rig.device.paused).toBe(true);
    expect(rig.responseFor(next)).toBeUndefined(); // queue paused behind the unmap
    await region.confirm();
    expect(r.calls.filter((c) => c.startsWith('release') || c.startsWith('map'))).toEqual(['map 10', 'release 10', 'map 10']);
    expect(rig.responseFor(head)?.type).toBe(OKT);
    expect(rig.responseFor(next)?.type).toBe(P.VIRTIO_GPU_RESP_OK_MAP_INFO);
    expect(rig.usedHeads().slice(-2)).toEqual([head, next]);
  });
  it('async region: UNREF of a mapped blob unmaps first and frees after confirmation', async () => {
    const { rig, r, region } = hostRig(true);
    rig.send(C.mapBlob(10, 0n));
    const head = rig.enqueue(C.unref(10));
    rig.device.notify(0);
    expect(region.log.at(-1)).toBe('unmap @0');
    expect(r.calls).not.toContain('release 10');
    expect(r.calls).not.toContain('destroy 10');
    expect(rig.responseFor(head)).toBeUndefined();
    await region.confirm();
    const i = r.calls.indexOf('release 10');
    expect(i).toBeGreaterThan(-1);
    expect(r.calls.indexOf('destroy 10')).toBeGreaterThan(i);
    expect(rig.responseFor(head)?.type).toBe(OKT);
    expect(rig.device.resourceCount).toBe(0);
  });
  it('async region: reset unmaps and resets the renderer only after confirmation', async () => {
    const { rig, r, region } = hostRig(true);
    rig.send(C.mapBlob(10, 0n));
    const resets = countResets(r);
    rig.device.reset();
    expect(region.log.at(-1)).toBe('unmap @0');
    expect(r.calls).not.toContain('release 10');
    expect(resets.n).toBe(0);
    await region.confirm();
    expect(r.calls).toContain('release 10');
    expect(resets.n).toBe(1);
    expect(rig.device.resourceCount).toBe(0);
  });
  it('reset() waiting for the region: its promise resolves only after confirmation, when the renderer was reset', async () => {
    const { rig, r, region } = hostRig(true);
    rig.send(C.mapBlob(10, 0n));
    const resets = countResets(r);
    let done = false;
    const p = rig.device.reset().then(() => {
      done = true;
      return resets.n;
    });
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(done).toBe(false);
    expect(rig.device.paused).toBe(true);
    await region.confirm();
    expect(await p).toBe(1);
    expect(rig.device.paused).toBe(false);
  });
  it('reset() with nothing mapped: the promise is already settled, the renderer reset at once', async () => {
    const { rig, r } = hostRig(true);
    const resets = countResets(r);
    const p = rig.device.reset();
    expect(resets.n).toBe(1);
    await expect(p).resolves.toBeUndefined();
  });
  it('a region that rejects the unmap leaks the mapping rather than freeing it', async () => {
    const { rig, r, region } = hostRig();
    rig.send(C.mapBlob(10, 0n));
    region.unmap = () => Promise.reject(new Error('boom'));
    rig.enqueue(C.unmapBlob(10));
    rig.device.notify(0);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(r.calls).not.toContain('release 10');
    expect(rig.control.used.length).toBeGreaterThan(0);
  });
});
