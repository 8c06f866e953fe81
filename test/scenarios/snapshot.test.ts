/**
 * Snapshot/restore through the real queues: DemoWorkload frames, a snapshot taken while a frame's
 * fence is still pending (its chain held by the device), guest RAM saved, then a fresh device,
 * renderer, display and queues restored over the reloaded RAM. The continued run must end with
 * exactly the pixels and cursor of a run that was never interrupted.
 */
import * as P from '@virtio-gpu/protocol';
import { DemoWorkload, cmd } from '@virtio-gpu/guest';
import { describe, expect, it } from 'vitest';
import { buildGpu, restoreGpu, saveGpu, settle, type Gpu, type SavedGpu } from '../support/gpu';
import { TestRenderer3D } from '../support/renderer3d';
import { FakeRegion } from '../../packages/device/test/fake-renderer';

const SCANOUTS = [{ width: 160, height: 120 }, { width: 128, height: 96 }];
const BEFORE = 4; // frames before the snapshot
const TOTAL = 9;

interface Run {
  g: Gpu;
  demo: DemoWorkload;
  r: TestRenderer3D;
}

async function start(): Promise<Run> {
  const r = new TestRenderer3D();
  r.mode = { kind: 'microtask' };
  const g = buildGpu({ scanouts: SCANOUTS, renderer: r });
  const demo = new DemoWorkload(g.driver);
  await demo.setup();
  for (let n = 0; n < BEFORE; n++) await demo.frame(n);
  return { g, demo, r };
}

/** Starts frame BEFORE with fences held by hand; resolves once only its fence is outstanding. */
async function frameWithPendingFence(run: Run): Promise<{ frame: Promise<void> }> {
  run.r.mode = { kind: 'manual' };
  const p = run.demo.frame(BEFORE);
  for (let i = 0; i < 100 && !(run.r.pendingFences.length === 1 && run.g.driver.inFlight === 1); i++) await settle();
  expect(run.r.pendingFences).toHaveLength(1);
  expect(run.g.device.pendingCount).toBe(1);
  return { frame: p };
}

async function finish(run: Run, from: number): Promise<void> {
  for (let n = from; n < TOTAL; n++) await run.demo.frame(n);
}

/** The uninterrupted run, computed once. */
let reference: Promise<Run> | null = null;
function uninterrupted(): Promise<Run> {
  reference ??= (async () => {
    const run = await start();
    const p = (await frameWithPendingFence(run)).frame;
    run.r.mode = { kind: 'microtask' };
    run.r.retireNow(run.r.pendingFences[0]!);
    await p;
    await finish(run, BEFORE + 1);
    return run;
  })();
  return reference;
}

/** A run snapshotted mid-frame and restored onto a fresh device; returns it and the held frame. */
async function migrated(): Promise<{ run: Run; saved: SavedGpu; held: Promise<void>; r2: TestRenderer3D }> {
  const run = await start();
  const held = (await frameWithPendingFence(run)).frame;
  const saved = saveGpu(run.g);
  const r2 = new TestRenderer3D();
  r2.mode = { kind: 'manual' };
  restoreGpu(run.g, saved, r2);
  run.r = r2;
  return { run, saved, held, r2 };
}

describe('snapshot / restore through the real queues', () => {
  it('snapshot holds the pending fence with its queue and head', async () => {
    const { saved } = await migrated();
    expect(saved.device.pending).toHaveLength(1);
    expect(saved.device.pending[0]).toMatchObject({ queueIndex: 0, fence: { ringed: false } });
  });

  it('restored device re-creates the pending fence and answers the held chain when it retires', async () => {
    const { run, held, r2 } = await migrated();
    expect(r2.pendingFences).toHaveLength(1);
    let answered = false;
    void held.then(() => (answered = true));
    await settle(20);
    expect(answered).toBe(false);
    r2.retireNow(r2.pendingFences[0]!);
    await held;
    expect(run.g.driver.inFlight).toBe(0);
    expect(run.g.queues[0].broken).toBeNull();
  });

  /** The uninterrupted reference, and the migrated run retired and finished to the same frame. */
  async function continuedAfterRestore() {
    const ref = await uninterrupted();
    const { run, held, r2 } = await migrated();
    r2.mode = { kind: 'microtask' };
    r2.retireNow(r2.pendingFences[0]!);
    await held;
    await finish(run, BEFORE + 1);
    return { ref, run };
  }

  it('continued frames after restore -> Display surfaces byte for byte equal to the uninterrupted run', async () => {
    const { ref, run } = await continuedAfterRestore();
    for (const id of [0, 1]) {
      const a = ref.g.display.surface(id)!;
      const b = run.g.display.surface(id)!;
      expect(b.width).toBe(a.width);
      expect(Buffer.from(b.data).equals(Buffer.from(a.data)), `scanout ${id}`).toBe(true);
    }
  });

  it('continued frames after restore -> the Display cursor (image, hot spot, position) equals the uninterrupted run', async () => {
    const { ref, run } = await continuedAfterRestore();
    expect(run.g.display.cursor).toEqual(ref.g.display.cursor);
    expect(Buffer.from(run.g.display.composite(0)!.data).equals(Buffer.from(ref.g.display.composite(0)!.data))).toBe(true);
  });

  it('restored Display shows the scanouts at once, before any new flush', async () => {
    const { run, saved } = await migrated();
    void saved;
    expect(run.g.display.surface(0)?.resourceId).toBe(1);
    expect(run.g.display.surface(1)?.resourceId).toBe(2);
  });

  it('UUIDs and resources survive: ASSIGN_UUID after restore returns the UUID from before', async () => {
    const run = await start();
    const before = (await run.g.driver.send(cmd.assignUuid(1))) as Extract<P.Response, { uuid: Uint8Array }>;
    const uuid = [...before.uuid];
    restoreGpu(run.g, saveGpu(run.g));
    const after = (await run.g.driver.send(cmd.assignUuid(1))) as Extract<P.Response, { uuid: Uint8Array }>;
    expect([...after.uuid]).toEqual(uuid);
    expect(run.g.device.resourceCount).toBe(3);
  });

  it('UNMAP_BLOB waiting for the region at snapshot time -> answered OK by the restored device; commands queued behind it run', async () => {
    const region = new FakeRegion(1n << 24n);
    region.async = true;
    const g = buildGpu({ renderer: new TestRenderer3D(), hostVisible: region });
    await g.driver.send(cmd.ctxCreate(1, 'c'));
    await g.driver.send(cmd.createBlob(10, P.VIRTIO_GPU_BLOB_MEM_HOST3D, P.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, 4096, [], 0, 1));
    expect((await g.driver.send(cmd.mapBlob(10, 0))).type).toBe(P.VIRTIO_GPU_RESP_OK_MAP_INFO);
    const unmap = g.driver.send(cmd.unmapBlob(10));
    const behind = g.driver.send(cmd.getDisplayInfo());
    await settle(20);
    expect(g.device.paused).toBe(true);
    const saved = saveGpu(g);
    expect(saved.device.pending).toHaveLength(1);
    restoreGpu(g, saved, new TestRenderer3D(), new FakeRegion(1n << 24n));
    expect((await unmap).type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
    expect((await behind).type).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
    expect(g.device.paused).toBe(false);
  });

  it('blob scanout (SET_SCANOUT_BLOB) -> the restored Display shows the same framebuffer', async () => {
    const g = buildGpu({ scanouts: [{ width: 16, height: 8 }] });
    const entries = g.ram.allocScattered(3 * 4096, false);
    await g.driver.send(cmd.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_GUEST, 0, 3 * 4096, entries));
    const px = new Uint8Array(3 * 4096).map((_, i) => (i * 7) & 0xff);
    g.ram.writeEntries(entries, 0, px);
    const r = await g.driver.send(cmd.setScanoutBlob(0, 1, { x: 0, y: 0, width: 16, height: 8 }, 16, 8, P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, [80, 0, 0, 0], [100, 0, 0, 0]));
    expect(r.type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
    const before = g.display.surface(0)!.data.slice();
    restoreGpu(g, saveGpu(g));
    expect(g.display.surface(0)!.data).toEqual(before);
  });

  it('fences pending on two context rings -> both re-created; each held chain answered when its own ring retires', async () => {
    const r = new TestRenderer3D();
    const g = buildGpu({ renderer: r });
    await g.driver.send(cmd.ctxCreate(1, 'a', P.VIRTIO_GPU_CAPSET_VIRGL2));
    await g.driver.send(cmd.ctxCreate(2, 'b', P.VIRTIO_GPU_CAPSET_VIRGL2));
    r.mode = { kind: 'manual' };
    const order: string[] = [];
    const a = (await g.driver.submit(cmd.submit3d(1, new Uint8Array(4)), { fence: true, ctxId: 1, ringIdx: 3 })).response.then(() => order.push('a'));
    const b = (await g.driver.submit(cmd.submit3d(2, new Uint8Array(4)), { fence: true, ctxId: 2, ringIdx: 0 })).response.then(() => order.push('b'));
    const r2 = new TestRenderer3D();
    r2.mode = { kind: 'manual' };
    restoreGpu(g, saveGpu(g), r2);
    expect(r2.pendingFences.map((f) => `${f.ctxId}:${f.ringIdx}`).sort()).toEqual(['1:3', '2:0']);
    r2.retireNow(r2.pendingFences.find((f) => f.ctxId === 2)!);
    await b;
    await settle(20);
    expect(order).toEqual(['b']);
    r2.retireNow(r2.pendingFences[0]!);
    await a;
    expect(order).toEqual(['b', 'a']);
  });
});
