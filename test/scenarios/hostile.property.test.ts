/**
 * Hostile input at scale: random command bytes placed by the driver on the real control and
 * cursor queues (GpuDriver.submitRaw). Every chain gets an answer, nothing throws out of the
 * device, the queues never break, and what the guest can make the host hold stays bounded
 * (resources, quota bytes, contexts) while the guest's own RAM use returns to its baseline.
 */
import * as P from '@virtio-gpu/protocol';
import { cmd, rect } from '@virtio-gpu/guest';
import { createInProcessGpu } from '@virtio-gpu/device';
import { Display } from '@virtio-gpu/display';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeRegion } from '../../packages/device/test/fake-renderer';
import { RAM_BASE, backed2d, buildGpu, sendOk, type Gpu } from '../support/gpu';
import { TestRenderer3D } from '../support/renderer3d';

const COMMAND_TYPES = Object.entries(P)
  .filter(([k, v]) => k.startsWith('VIRTIO_GPU_CMD_') && typeof v === 'number')
  .map(([, v]) => v as number);
const LIMITS = { hostMemoryBytes: 2 << 20, maxResources: 32, maxContexts: 4 };

/** u32s biased to values that name things that exist (small ids, formats, sizes). */
const u32 = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 0xffff_ffff }));

/** A header with a real command type, random flags/fence/ctx/ring, then a random body. */
const headerAndBody = fc
  .record({
    type: fc.oneof(fc.constantFrom(...COMMAND_TYPES), fc.integer({ min: 0, max: 0xffff_ffff })),
    flags: fc.constantFrom(0, P.VIRTIO_GPU_FLAG_FENCE, P.VIRTIO_GPU_FLAG_FENCE | P.VIRTIO_GPU_FLAG_INFO_RING_IDX, 0xffff_ffff),
    fence: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    ctx: fc.oneof(fc.constantFrom(0, 1, 2), u32),
    ring: fc.integer({ min: 0, max: 255 }),
    body: fc.array(u32, { maxLength: 40 }),
    cut: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ type, flags, fence, ctx, ring, body, cut }) => {
    const b = new Uint8Array(24 + body.length * 4);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, type, true);
    dv.setUint32(4, flags, true);
    dv.setBigUint64(8, fence, true);
    dv.setUint32(16, ctx, true);
    dv.setUint8(20, ring);
    body.forEach((v, i) => dv.setUint32(24 + i * 4, v, true));
    return b.subarray(0, Math.max(1, b.length - cut));
  });

/** Well-formed commands with hostile values, so handlers (not just the decoder) see them. */
const entry = fc.record({
  addr: fc.oneof(fc.bigInt({ min: BigInt(RAM_BASE), max: BigInt(RAM_BASE + (16 << 20)) }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
  length: fc.oneof(fc.integer({ min: 1, max: 8192 }), u32),
});
const id = fc.integer({ min: 0, max: 40 });
const dim = fc.oneof(fc.integer({ min: 0, max: 70 }), u32);
const rectArb = fc.tuple(dim, dim, dim, dim).map(([x, y, w, h]) => rect(x, y, w, h));
const big = fc.oneof(fc.bigInt({ min: 0n, max: 1n << 16n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
const wellFormed: fc.Arbitrary<P.Command> = fc.oneof(
  fc.tuple(id, fc.oneof(fc.constantFrom(1, 2, 3, 4, 67, 68, 121, 134), u32), dim, dim).map(([i, f, w, h]) => cmd.resourceCreate2d(i, f, w, h)),
  fc.tuple(id, fc.array(entry, { maxLength: 6 })).map(([i, e]) => cmd.attachBacking(i, e)),
  fc.tuple(id, rectArb, big).map(([i, r, o]) => cmd.transferToHost2d(i, r, o)),
  fc.tuple(u32, id, rectArb).map(([s, i, r]) => cmd.setScanout(s % 3, i, r)),
  fc.tuple(id, rectArb).map(([i, r]) => cmd.resourceFlush(i, r)),
  id.map((i) => cmd.resourceUnref(i)),
  id.map((i) => cmd.detachBacking(i)),
  id.map((i) => cmd.assignUuid(i)),
  fc.tuple(id, fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 7 }), big, fc.array(entry, { maxLength: 4 }), fc.integer({ min: 0, max: 3 })).map(([i, m, f, s, e, c]) =>
    cmd.createBlob(i, m, f, s, e, 0, c),
  ),
  fc.tuple(id, big).map(([i, o]) => cmd.mapBlob(i, o)),
  id.map((i) => cmd.unmapBlob(i)),
  fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 8 })).map(([c, init]) => cmd.ctxCreate(c, 'fuzz', init)),
  fc.integer({ min: 0, max: 5 }).map((c) => cmd.ctxDestroy(c)),
  fc.tuple(fc.integer({ min: 0, max: 5 }), id).map(([c, i]) => cmd.ctxAttachResource(c, i)),
  fc.tuple(id, dim, dim).map(([i, w, h]) => cmd.resourceCreate3d(i, { target: 2, format: 1, bind: 2, width: w, height: h })),
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.uint8Array({ maxLength: 32 })).map(([c, d]) => cmd.submit3d(c, d)),
  fc.tuple(u32, id, dim, dim).map(([s, i, x, y]) => cmd.updateCursor(s % 3, x, y, i, 0, 0)),
  fc.tuple(u32, dim, dim).map(([s, x, y]) => cmd.moveCursor(s % 3, x, y)),
);
const encoded = wellFormed.map((c) => {
  const bytes = new Uint8Array(P.commandSize(c));
  P.encodeCommand(c, bytes, 0);
  const cursor = c.type === P.VIRTIO_GPU_CMD_UPDATE_CURSOR || c.type === P.VIRTIO_GPU_CMD_MOVE_CURSOR;
  return { queue: cursor ? 1 : 0, bytes };
});

const responseBytes = fc.oneof(fc.constant(1536), fc.constant(24), fc.integer({ min: 1, max: 2048 }));
const request = fc.oneof(
  fc.record({ queue: fc.constantFrom(0, 0, 0, 1), bytes: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 300 }), headerAndBody), responseBytes }),
  fc.tuple(encoded, responseBytes).map(([e, responseBytes]) => ({ ...e, responseBytes })),
  fc.tuple(encoded, responseBytes).map(([e, responseBytes]) => ({ ...e, responseBytes })),
);

/** Sends a batch with one kick per queue; resolves with how many got a decodable answer. */
async function sendBatch(g: Gpu, batch: { queue: number; bytes: Uint8Array; responseBytes: number }[]): Promise<number> {
  g.driver.batching = true;
  const ps: Promise<boolean>[] = [];
  try {
    for (const r of batch) {
      const p = await g.driver.submitRaw(r.queue, r.bytes, r.responseBytes);
      // A decodable answer needs a 24-byte header; with less room the driver rejects (and that is fine).
      ps.push(
        p.response.then(
          () => true,
          () => {
            expect(r.responseBytes).toBeLessThan(24);
            return false;
          },
        ),
      );
    }
  } finally {
    g.driver.batching = false;
  }
  g.driver.kick(0);
  g.driver.kick(1);
  return (await Promise.all(ps)).filter(Boolean).length;
}

async function expectHealthy(g: Gpu): Promise<void> {
  expect(g.queues[0].broken).toBeNull();
  expect(g.queues[1].broken).toBeNull();
  expect(g.device.needsReset).toBe(false);
  expect(g.driver.inFlight).toBe(0);
  expect(g.device.resourceCount).toBeLessThanOrEqual(LIMITS.maxResources);
  expect(g.device.hostBytesUsed).toBeLessThanOrEqual(LIMITS.hostMemoryBytes);
}

describe('hostile command bytes through the real queues', () => {
  it('2D device: every random request is answered, nothing breaks, host and guest memory stay bounded', async () => {
    const g = buildGpu({ limits: LIMITS, regions: [{ gpa: RAM_BASE, bytes: 16 << 20 }] });
    const baseline = g.ram.freePages;
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 16 }), async (batch) => {
        await sendBatch(g, batch);
        await expectHealthy(g);
        expect(g.ram.freePages).toBe(baseline);
      }),
      { numRuns: 400, seed: 0x6b75 },
    );
    // Afterwards a clean guest still gets correct service.
    await backed2d(g, 999, 8, 8);
    await sendOk(g, cmd.resourceUnref(999));
  });

  it('3D device with a host-visible region and fences retiring on microtasks: every random request is answered, contexts stay within the limit', async () => {
    const r = new TestRenderer3D();
    r.mode = { kind: 'microtask' };
    const g = buildGpu({ limits: LIMITS, renderer: r, hostVisible: new FakeRegion(1n << 20n), regions: [{ gpa: RAM_BASE, bytes: 16 << 20 }] });
    const baseline = g.ram.freePages;
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 16 }), async (batch) => {
        await sendBatch(g, batch);
        await expectHealthy(g);
        expect(g.ram.freePages).toBe(baseline);
        expect(r.calls.filter((c) => c.startsWith('ctx ')).length - r.calls.filter((c) => c.startsWith('ctxdestroy')).length).toBeLessThanOrEqual(LIMITS.maxContexts);
      }),
      { numRuns: 400, seed: 0x3d3d },
    );
    expect((await g.driver.send(cmd.getCapsetInfo(0))).type).toBe(P.VIRTIO_GPU_RESP_OK_CAPSET_INFO);
  });

  it('3D device with a region that confirms unmaps late: random maps, unmaps and unrefs all answered once the region confirms', async () => {
    const region = new FakeRegion(1n << 20n);
    region.async = true;
    const g = buildGpu({ limits: LIMITS, renderer: new TestRenderer3D(), hostVisible: region, regions: [{ gpa: RAM_BASE, bytes: 16 << 20 }] });
    await sendOk(g, cmd.ctxCreate(1, 'blobs'));
    const blobOps = fc.oneof(
      fc.tuple(fc.integer({ min: 1, max: 6 }), fc.constantFrom(4096, 8192)).map(([i, size]) => cmd.createBlob(i, P.VIRTIO_GPU_BLOB_MEM_HOST3D, P.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, size, [], 0, 1)),
      fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 255 })).map(([i, page]) => cmd.mapBlob(i, page * 4096)),
      fc.integer({ min: 1, max: 6 }).map((i) => cmd.unmapBlob(i)),
      fc.integer({ min: 1, max: 6 }).map((i) => cmd.resourceUnref(i)),
      fc.constant(cmd.getDisplayInfo()),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(blobOps, fc.boolean()), { minLength: 1, maxLength: 12 }), async (ops) => {
        let settled = 0;
        const ps = [];
        for (const [c, fence] of ops) ps.push((await g.driver.submit(c, { fence })).response.finally(() => settled++));
        for (let i = 0; i < 50 && settled < ps.length; i++) await region.confirm();
        expect(settled).toBe(ps.length);
        await Promise.all(ps);
        await expectHealthy(g);
        expect(g.device.paused).toBe(false);
        expect(region.maps.size).toBeLessThanOrEqual(6);
      }),
      { numRuns: 200, seed: 0xb10b },
    );
  });

  it('createInProcessGpu (the demo\'s wiring): fully random bytes on both queues are all answered ERR_* or OK, never a throw', async () => {
    const display = new Display();
    const { driver, device } = createInProcessGpu({ scanouts: [{ width: 32, height: 32 }], ramBytes: 8 << 20, queueSize: 32, sink: display });
    display.setSource(device);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ queue: fc.constantFrom(0, 1), bytes: fc.uint8Array({ minLength: 1, maxLength: 200 }) }), { minLength: 1, maxLength: 40 }), async (batch) => {
        const types = await Promise.all(batch.map(async (r) => (await (await driver.submitRaw(r.queue, r.bytes)).response).type));
        for (const t of types) expect(t === P.VIRTIO_GPU_RESP_OK_NODATA || (t >= P.VIRTIO_GPU_RESP_ERR_UNSPEC && t <= P.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER) || (t >= 0x1101 && t <= 0x1106)).toBe(true);
        expect(device.needsReset).toBe(false);
        expect(driver.inFlight).toBe(0);
      }),
      { numRuns: 200, seed: 0x7a7a },
    );
  });
});
