import * as P from '@virtio-gpu/protocol';
import { describe, expect, it } from 'vitest';
import { C, rect } from '../test/cmd.js';
import { FakeRenderer3D } from '../test/fake-renderer.js';
import { Rig } from '../test/rig.js';
import { FenceTimelines } from './fences.js';

const FENCE = P.VIRTIO_GPU_FLAG_FENCE;
const RING = P.VIRTIO_GPU_FLAG_INFO_RING_IDX;
const OKT = P.VIRTIO_GPU_RESP_OK_NODATA;

function rig3d(): { rig: Rig; r: FakeRenderer3D } {
  const r = new FakeRenderer3D();
  const rig = new Rig({ renderer: r });
  rig.send(C.ctxCreate(1));
  rig.send(C.ctxCreate(2));
  return { rig, r };
}
const data = new Uint8Array(8);

describe('fences', () => {
  it('2D renderer: fenced command answered at once with the fence echoed', () => {
    const rig = new Rig();
    const resp = rig.send(C.create2d(1, 1, 4, 4, { flags: FENCE, fenceId: 77n, ctxId: 3 }));
    expect(resp?.hdr).toMatchObject({ type: OKT, flags: FENCE, fenceId: 77n, ctxId: 3, ringIdx: 0 });
  });
  it('unfenced response does not echo fence fields', () => {
    const rig = new Rig();
    const resp = rig.send(C.create2d(1, 1, 4, 4, { fenceId: 77n, ctxId: 3 }));
    expect(resp?.hdr).toMatchObject({ flags: 0, fenceId: 0n });
  });
  it('global timeline: held until retired; retiring N answers all <= N in order', () => {
    const { rig, r } = rig3d();
    const a = rig.enqueue(C.submit(1, data, { flags: FENCE, fenceId: 1n }));
    const b = rig.enqueue(C.submit(1, data, { flags: FENCE, fenceId: 2n }));
    const c = rig.enqueue(C.submit(1, data, { flags: FENCE, fenceId: 3n }));
    rig.device.notify(0);
    expect(rig.device.pendingCount).toBe(3);
    expect(r.fences.map((f) => f.fenceId)).toEqual([1n, 2n, 3n]);
    const before = rig.control.used.length;
    r.retire({ ctxId: 0, ringIdx: 0, ringed: false }, 2n);
    expect(rig.usedHeads().slice(before)).toEqual([a, b]);
    expect(rig.responseFor(c)).toBeUndefined();
    r.retire({ ctxId: 0, ringIdx: 0, ringed: false }, 3n);
    expect(rig.responseFor(c)?.hdr).toMatchObject({ flags: FENCE, fenceId: 3n });
    expect(rig.interrupts.filter((i) => i.cause === 'queue').length).toBeGreaterThan(0);
  });
  it('rings are independent timelines, retired late and out of order', () => {
    const { rig, r } = rig3d();
    const on = (ctxId: number, ringIdx: number, fenceId: bigint) => rig.enqueue(C.submit(ctxId, data, { flags: FENCE | RING, fenceId, ringIdx }));
    const a1 = on(1, 0, 1n);
    const b1 = on(1, 1, 1n);
    const c1 = on(2, 0, 1n);
    const a2 = on(1, 0, 2n);
    const g = rig.enqueue(C.submit(1, data, { flags: FENCE, fenceId: 5n }));
    rig.device.notify(0);
    const base = rig.control.used.length;
    r.retire({ ctxId: 2, ringIdx: 0, ringed: true }, 1n);
    r.retire({ ctxId: 1, ringIdx: 0, ringed: true }, 2n);
    r.retire({ ctxId: 0, ringIdx: 0, ringed: false }, 5n);
    r.retire({ ctxId: 1, ringIdx: 1, ringed: true }, 1n);
    expect(rig.usedHeads().slice(base)).toEqual([c1, a1, a2, g, b1]);
    expect(rig.responseFor(b1)?.hdr).toMatchObject({ flags: FENCE | RING, ringIdx: 1, ctxId: 1, fenceId: 1n });
  });
  it('retirement from a later task (async renderer) is delivered and interrupts', async () => {
    const { rig, r } = rig3d();
    const a = rig.enqueue(C.submit(1, data, { flags: FENCE, fenceId: 9n }));
    rig.device.notify(0);
    const n = rig.interrupts.length;
    await new Promise((res) => setTimeout(res, 1));
    r.retire({ ctxId: 0, ringIdx: 0, ringed: false }, 9n);
    expect(rig.responseFor(a)?.type).toBe(OKT);
    expect(rig.interrupts.length).toBe(n + 1);
  });
  it('ring_idx >= 64 -> ERR_INVALID_PARAMETER and the command does not run', () => {
    const { rig, r } = rig3d();
    expect(rig.send(C.submit(1, data, { flags: FENCE | RING, fenceId: 1n, ringIdx: 64 }))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    expect(r.calls.filter((c) => c.startsWith('submit'))).toEqual([]);
  });
  it('ring of an unknown context -> ERR_INVALID_CONTEXT_ID', () => {
    const { rig } = rig3d();
    expect(rig.send(C.create3d(5, 4, 4, { flags: FENCE | RING, fenceId: 1n, ctxId: 9 }))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
  });
  it('INFO_RING_IDX without CONTEXT_INIT -> ERR_INVALID_PARAMETER', () => {
    const r = new FakeRenderer3D();
    const rig = new Rig({ renderer: r, features: 1n << BigInt(P.VIRTIO_GPU_F_VIRGL) });
    rig.send(C.ctxCreate(1));
    expect(rig.send(C.submit(1, data, { flags: FENCE | RING, fenceId: 1n }))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
  });
  it('failed command with a fence is answered at once with its error', () => {
    const { rig } = rig3d();
    expect(rig.send(C.unref(42, { flags: FENCE, fenceId: 3n }))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
  });
  it('renderer refusing the fence -> its error, nothing held', () => {
    const { rig, r } = rig3d();
    r.failFence = true;
    expect(rig.send(C.submit(1, data, { flags: FENCE, fenceId: 3n }))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
    expect(rig.device.pendingCount).toBe(0);
  });
  it('CTX_DESTROY answers commands waiting on its rings', () => {
    const { rig } = rig3d();
    const a = rig.enqueue(C.submit(2, data, { flags: FENCE | RING, fenceId: 1n, ringIdx: 3 }));
    rig.device.notify(0);
    expect(rig.send(C.ctxDestroy(2))?.type).toBe(OKT);
    expect(rig.responseFor(a)?.type).toBe(OKT);
  });
  it('cursor queue ignores fences (answered at once)', () => {
    const { rig } = rig3d();
    expect(rig.send(C.moveCursor(0, 1, 1, { flags: FENCE, fenceId: 4n }), { queue: 1 })?.type).toBe(OKT);
  });
  it('reset drops pending fences; a late retirement is harmless', () => {
    const { rig, r } = rig3d();
    rig.enqueue(C.submit(1, data, { flags: FENCE, fenceId: 1n }));
    rig.device.notify(0);
    rig.device.reset();
    expect(rig.device.pendingCount).toBe(0);
    expect(() => r.retire({ ctxId: 0, ringIdx: 0, ringed: false }, 1n)).not.toThrow();
    void rect;
  });
});

describe('FenceTimelines (unit)', () => {
  const G = { ctxId: 0, ringIdx: 0, ringed: false };
  const R = { ctxId: 4, ringIdx: 2, ringed: true };
  it('retire N -> items with id <= N in submission order; later ids stay, in order', () => {
    const t = new FenceTimelines<string>();
    t.add(G, 5n, 'a');
    t.add(G, 2n, 'b');
    t.add(G, 9n, 'c');
    t.add(G, 3n, 'd');
    t.add(G, 7n, 'e');
    expect(t.retire(G, 4n)).toEqual(['b', 'd']);
    expect(t.entries().map((e) => e.item)).toEqual(['a', 'c', 'e']);
    expect(t.retire(G, 7n)).toEqual(['a', 'e']);
    expect(t.size).toBe(1);
    expect(t.retire(G, 100n)).toEqual(['c']);
    expect(t.size).toBe(0);
  });
  it('retire on an empty or unknown timeline -> empty; add after a full retire works', () => {
    const t = new FenceTimelines<string>();
    expect(t.retire(R, 1n)).toEqual([]);
    t.add(G, 1n, 'x');
    expect(t.retire(G, 1n)).toEqual(['x']);
    expect(t.retire(G, 1n)).toEqual([]);
    t.add(G, 2n, 'y');
    expect(t.entries().map((e) => e.item)).toEqual(['y']);
    expect(t.retire(G, 2n)).toEqual(['y']);
  });
  it('timelines are separate; dropContext takes only that context, remove takes one item', () => {
    const t = new FenceTimelines<string>();
    t.add(G, 1n, 'g');
    t.add(R, 1n, 'r1');
    t.add(R, 2n, 'r2');
    t.add({ ctxId: 5, ringIdx: 0, ringed: true }, 1n, 'other');
    expect(t.retire(R, 1n)).toEqual(['r1']);
    expect(t.remove('g')).toBe(true);
    expect(t.remove('g')).toBe(false);
    expect(t.dropContext(4)).toEqual(['r2']);
    expect(t.entries().map((e) => e.item)).toEqual(['other']);
  });
});
