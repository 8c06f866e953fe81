/**
 * Fence ordering through the real queues (virtio-gpu §5.7.6.7, CONTEXT_INIT rings): a fenced
 * command is answered when its fence retires; retiring fence N answers every pending command of
 * that timeline with fence_id <= N, in submission order; other timelines are untouched. The order
 * is observed where a guest sees it: the used ring, through the order the driver's promises resolve.
 */
import * as P from '@virtio-gpu/protocol';
import type { Fence } from '@virtio-gpu/device';
import { cmd } from '@virtio-gpu/guest';
import { describe, expect, it } from 'vitest';
import { buildGpu, sendOk, settle, type Gpu } from '../support/gpu';
import { TestRenderer3D } from '../support/renderer3d';

const GLOBAL = { ctxId: 0, ringIdx: 0, ringed: false };
const ring = (ctxId: number, ringIdx: number) => ({ ctxId, ringIdx, ringed: true });

/** A 3D rig with contexts 1 and 2 (context_init VIRGL2) and a renderer in `mode`. */
async function fenced(mode: TestRenderer3D['mode']): Promise<{ g: Gpu; r: TestRenderer3D; order: string[]; track: (label: string, p: Promise<P.Response>) => Promise<void> }> {
  const r = new TestRenderer3D();
  const g = buildGpu({ renderer: r });
  await sendOk(g, cmd.ctxCreate(1, 'one', P.VIRTIO_GPU_CAPSET_VIRGL2));
  await sendOk(g, cmd.ctxCreate(2, 'two', P.VIRTIO_GPU_CAPSET_VIRGL2));
  r.mode = mode;
  const order: string[] = [];
  const track = (label: string, p: Promise<P.Response>) =>
    p.then((resp) => {
      expect(resp.type, label).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
      order.push(label);
    });
  return { g, r, order, track };
}

/**
 * Submits a fenced SUBMIT_3D on timeline `t` (the global one, or ring ringIdx of ctxId) and
 * returns once it is in the ring, with its response still pending.
 */
async function on(g: Gpu, t: { ctxId: number; ringIdx: number; ringed: boolean }): Promise<{ response: Promise<P.Response> }> {
  if (!t.ringed) return g.driver.submit(cmd.submit3d(1, new Uint8Array(4)), { fence: true });
  return g.driver.submit(cmd.submit3d(t.ctxId, new Uint8Array(4)), { fence: true, ctxId: t.ctxId, ringIdx: t.ringIdx });
}

describe('fences on the global timeline', () => {
  it('fenced commands wait; retiring fence 2 answers fences 1 and 2 in order, fence 3 still waits', async () => {
    const { g, r, order, track } = await fenced({ kind: 'manual' });
    const done = [1, 2, 3].map(async (i) => track(`f${i}`, (await g.driver.submit(cmd.submit3d(1, new Uint8Array(4)), { fence: true })).response));
    await Promise.all(done.map(() => settle()));
    await settle(20);
    expect(order).toEqual([]);
    expect(g.device.pendingCount).toBe(3);
    const f2 = r.pendingFences.find((f) => f.fenceId === g.driver.lastFenceId - 1n)!;
    r.retireNow(f2);
    await settle(20);
    expect(order).toEqual(['f1', 'f2']);
    r.retireNow(r.pendingFences.at(-1)!);
    await Promise.all(done);
    expect(order).toEqual(['f1', 'f2', 'f3']);
  });

  it('an unfenced command behind pending fences is answered at once (fences do not block the queue)', async () => {
    const { g, r, order, track } = await fenced({ kind: 'manual' });
    const a = track('fenced', (await g.driver.submit(cmd.submit3d(1, new Uint8Array(4)), { fence: true })).response);
    const b = track('plain', g.driver.send(cmd.getDisplayInfo()).then(() => ({ type: P.VIRTIO_GPU_RESP_OK_NODATA }) as P.Response));
    await b;
    expect(order).toEqual(['plain']);
    r.retireNow(r.pendingFences[0]!);
    await a;
    expect(order).toEqual(['plain', 'fenced']);
  });

  it('response header echoes FLAG_FENCE, fence_id, ctx_id and ring_idx', async () => {
    const { g, r } = await fenced({ kind: 'microtask' });
    const glob = await g.driver.send(cmd.submit3d(2, new Uint8Array(4)), { fence: true });
    expect(glob.hdr).toMatchObject({ flags: P.VIRTIO_GPU_FLAG_FENCE, fenceId: g.driver.lastFenceId, ringIdx: 0 });
    const ringed = await g.driver.send(cmd.submit3d(2, new Uint8Array(4)), { fence: true, ctxId: 2, ringIdx: 5 });
    expect(ringed.hdr).toEqual({ type: P.VIRTIO_GPU_RESP_OK_NODATA, flags: P.VIRTIO_GPU_FLAG_FENCE | P.VIRTIO_GPU_FLAG_INFO_RING_IDX, fenceId: g.driver.lastFenceId, ctxId: 2, ringIdx: 5 });
    expect(r.retired.map((f) => f.ringed)).toEqual([false, true]);
  });

  it('a late retirement of an older fence after a newer one answers nothing twice', async () => {
    const { g, r, order, track } = await fenced({ kind: 'manual' });
    const ps = [];
    for (let i = 1; i <= 2; i++) ps.push(track(`f${i}`, (await g.driver.submit(cmd.submit3d(1, new Uint8Array(4)), { fence: true })).response));
    const [f1, f2] = r.pendingFences as [Fence, Fence];
    r.retireNow(f2);
    await Promise.all(ps);
    r.retireNow(f1);
    await settle(20);
    expect(order).toEqual(['f1', 'f2']);
    expect(g.driver.inFlight).toBe(0);
  });

  it('a fenced command that fails validation is answered at once with its error, later fences unaffected', async () => {
    const { g, r, order, track } = await fenced({ kind: 'manual' });
    const ok1 = track('ok1', (await g.driver.submit(cmd.submit3d(1, new Uint8Array(4)), { fence: true })).response);
    const bad = await g.driver.send(cmd.resourceUnref(999), { fence: true });
    expect(bad.hdr).toMatchObject({ type: P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, flags: P.VIRTIO_GPU_FLAG_FENCE, fenceId: g.driver.lastFenceId });
    const ok3 = track('ok3', (await g.driver.submit(cmd.submit3d(1, new Uint8Array(4)), { fence: true })).response);
    r.retireNow(r.pendingFences.at(-1)!);
    await Promise.all([ok1, ok3]);
    expect(order).toEqual(['ok1', 'ok3']);
  });
});

describe('fences on context rings (CONTEXT_INIT)', () => {
  it('retiring ctx 1 ring 0 answers only that ring, in submission order', async () => {
    const { g, r, order, track } = await fenced({ kind: 'manual' });
    const timelines: [string, ReturnType<typeof ring> | typeof GLOBAL][] = [
      ['A c1r0', ring(1, 0)],
      ['B c1r1', ring(1, 1)],
      ['C c2r0', ring(2, 0)],
      ['D global', GLOBAL],
      ['E c1r0', ring(1, 0)],
    ];
    const ps: Promise<void>[] = [];
    for (const [label, t] of timelines) ps.push(track(label, (await on(g, t)).response));
    await settle(20);
    expect(order).toEqual([]);
    const lastC1R0 = r.pendingFences.filter((f) => f.ringed && f.ctxId === 1 && f.ringIdx === 0).at(-1)!;
    r.retireNow(lastC1R0);
    await settle(20);
    expect(order).toEqual(['A c1r0', 'E c1r0']);
    expect(g.device.pendingCount).toBe(3);
  });

  it('same fence id numbers on different rings retire independently', async () => {
    const { g, r, order, track } = await fenced({ kind: 'manual' });
    const a = track('c1r2', (await on(g, ring(1, 2))).response);
    const b = track('c2r2', (await on(g, ring(2, 2))).response);
    // Retire "fence 1000" on ctx 2 ring 2 only: more than any id sent, still only its own ring.
    r.retireNow({ ...ring(2, 2), fenceId: 1000n });
    await b;
    await settle(20);
    expect(order).toEqual(['c2r2']);
    r.retireNow({ ...ring(1, 2), fenceId: 1000n });
    await a;
    expect(order).toEqual(['c2r2', 'c1r2']);
  });

  it('renderer retiring out of order across timelines (timeouts) -> per-timeline order kept, faster timelines first', async () => {
    const delay = (f: Fence) => (!f.ringed ? 20 : f.ctxId === 1 ? 40 : 2);
    const { g, order, track } = await fenced({ kind: 'timeout', delayMs: delay });
    const labels: [string, ReturnType<typeof ring> | typeof GLOBAL][] = [
      ['c1-a', ring(1, 0)],
      ['g-a', GLOBAL],
      ['c2-a', ring(2, 3)],
      ['c1-b', ring(1, 0)],
      ['g-b', GLOBAL],
      ['c2-b', ring(2, 3)],
    ];
    const ps: Promise<void>[] = [];
    for (const [label, t] of labels) {
      ps.push(track(label, (await on(g, t)).response));
    }
    await Promise.all(ps);
    expect(order).toEqual(['c2-a', 'c2-b', 'g-a', 'g-b', 'c1-a', 'c1-b']);
  });

  it('renderer retiring on a microtask -> answers arrive after submit returns, in order, with interrupts', async () => {
    const { g, order, track } = await fenced({ kind: 'microtask' });
    const before = g.interrupts.length;
    const ps: Promise<void>[] = [];
    for (let i = 0; i < 5; i++) ps.push(track(`r${i % 2}-${i}`, (await on(g, ring(1, i % 2))).response));
    await Promise.all(ps);
    expect(order).toEqual(['r0-0', 'r1-1', 'r0-2', 'r1-3', 'r0-4']);
    expect(g.interrupts.slice(before).filter((i) => i.cause === 'queue' && i.queueIndex === 0).length).toBeGreaterThan(0);
  });

  it('CTX_DESTROY answers its rings\' pending commands first, then itself; other contexts keep waiting', async () => {
    const { g, r, order, track } = await fenced({ kind: 'manual' });
    const ps = [track('c1 a', (await on(g, ring(1, 0))).response), track('c1 b', (await on(g, ring(1, 1))).response), track('c2', (await on(g, ring(2, 0))).response)];
    ps.push(track('destroy', g.driver.send(cmd.ctxDestroy(1))));
    await Promise.all(ps.slice(0, 2).concat(ps[3]!));
    expect(order).toEqual(['c1 a', 'c1 b', 'destroy']);
    r.retireNow(r.pendingFences.find((f) => f.ctxId === 2)!);
    await ps[2];
    expect(order.at(-1)).toBe('c2');
  });
});
