import * as P from '@virtio-gpu/protocol';
import { describe, expect, it } from 'vitest';
import { C, rect } from '../test/cmd.js';
import { Rig } from '../test/rig.js';
import { FakeRenderer3D } from '../test/fake-renderer.js';
import { VirtioGpuDevice } from './device.js';
import type { DeviceSnapshot } from './snapshot.js';

const W = 64, H = 48;

/** Step k of a workload: write a band of colour k into the backing, transfer it, flush. */
function step(rig: Rig, gpas: number[], k: number): void {
  const y0 = (k * 7) % H;
  const rows = 5;
  const band = new Uint8Array(W * rows * 4).fill(0).map((_, i) => (i * 13 + k * 31) & 255);
  rig.writeBacking(gpas, y0 * W * 4, band.subarray(0, Math.min(rows, H - y0) * W * 4));
  rig.send(C.transfer2d(1, rect(0, y0, W, Math.min(rows, H - y0)), BigInt(y0 * W * 4)));
  rig.send(C.flush(1, rect(0, y0, W, Math.min(rows, H - y0))));
}

function pixels(d: VirtioGpuDevice): Uint8Array {
  const out = new Uint8Array(W * H * 4);
  expect(d.readScanout(0, rect(0, 0, W, H), out, W * 4)).toBe(true);
  return out;
}

describe('snapshot / restore', () => {
  it('restore into a fresh device over copied memory continues like an uninterrupted run', () => {
    const run = new Rig({ scanouts: [{ width: W, height: H }] });
    const gpas = run.resource2d(1, W, H, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM);
    run.send(C.setScanout(0, 1, rect(0, 0, W, H)));
    run.send(C.uuid(1));
    run.send(C.updateCursor(0, 0, 5, 6), { queue: 1 });
    for (let k = 0; k < 6; k++) step(run, gpas, k);

    const snap: DeviceSnapshot = structuredClone(run.device.snapshot());
    const ramCopy = run.ram.slice();

    for (let k = 6; k < 12; k++) step(run, gpas, k);

    const restored = new Rig({ scanouts: [{ width: W, height: H }], ram: ramCopy });
    restored.device.restore(snap);
    expect(restored.sink.changes.at(-1)).toMatchObject({ scanoutId: 0, info: { resourceId: 1 } });
    for (let k = 6; k < 12; k++) step(restored, gpas, k);

    expect(pixels(restored.device)).toEqual(pixels(run.device));
    const u1 = run.send(C.uuid(1));
    const u2 = restored.send(C.uuid(1));
    expect(u2).toEqual(u1);
    expect(restored.device.negotiatedFeatures).toBe(run.device.negotiatedFeatures);
    expect(restored.device.hostBytesUsed).toBe(run.device.hostBytesUsed);
  });

  it('pending fences survive: re-created in the renderer and answered through chainFor', () => {
    const r = new FakeRenderer3D();
    const rig = new Rig({ renderer: r });
    rig.send(C.ctxCreate(1));
    const head = rig.enqueue(C.submit(1, new Uint8Array(4), { flags: P.VIRTIO_GPU_FLAG_FENCE, fenceId: 8n }));
    rig.device.notify(0);
    const snap = structuredClone(rig.device.snapshot());
    expect(snap.pending).toHaveLength(1);

    const r2 = new FakeRenderer3D();
    const rig2 = new Rig({ renderer: r2 });
    // The held chain's buffers as the restored guest RAM has them (its reply was written at once).
    const restoredChain = rig.control.chains.get(head)!.rebuilt();
    rig2.device.restore(snap, { chainFor: (q, h) => (q === 0 && h === head ? restoredChain : null) });
    expect(r2.fences.map((f) => f.fenceId)).toEqual([8n]);
    r2.retire({ ctxId: 0, ringIdx: 0, ringed: false }, 8n);
    expect(rig2.responseFor(head)?.hdr).toMatchObject({ type: P.VIRTIO_GPU_RESP_OK_NODATA, flags: P.VIRTIO_GPU_FLAG_FENCE, fenceId: 8n });
  });

  it('contexts, blobs, cursor and config events round-trip', () => {
    const r = new FakeRenderer3D();
    const rig = new Rig({ renderer: r });
    rig.send(C.ctxCreate(3));
    rig.send(C.createBlob(2, P.VIRTIO_GPU_BLOB_MEM_GUEST, 0, 4096n, Rig.entries(rig.pages(1))));
    rig.send(C.ctxAttach(3, 2));
    rig.device.resizeScanout(0, 300, 200);
    const snap = structuredClone(rig.device.snapshot());
    const rig2 = new Rig({ renderer: new FakeRenderer3D(), memory: rig.memory });
    rig2.device.restore(snap);
    expect(rig2.device.readConfig(0, 4)).toBe(P.VIRTIO_GPU_EVENT_DISPLAY);
    expect(rig2.send(C.ctxCreate(3))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
    expect(rig2.send(C.ctxDetach(3, 2))?.type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
    expect(rig2.send(C.createBlob(2, P.VIRTIO_GPU_BLOB_MEM_GUEST, 0, 4096n, []))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
  });

  it('wrong version throws', () => {
    const rig = new Rig();
    const snap = rig.device.snapshot();
    expect(() => rig.device.restore({ ...snap, version: 99 })).toThrow();
  });
});

describe('snapshot / restore: cursor', () => {
  it('restore reports the cursor to the new sink with its image read back', () => {
    const rig = new Rig();
    const gpas = rig.resource2d(7, 64, 64, P.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM);
    rig.writeBacking(gpas, 0, new Uint8Array(64 * 64 * 4).fill(0x7f));
    rig.send(C.transfer2d(7, rect(0, 0, 64, 64), 0n));
    rig.send(C.updateCursor(0, 7, 9, 2, 3, 4), { queue: 1 });
    const snap = structuredClone(rig.device.snapshot());
    const rig2 = new Rig({ memory: rig.memory });
    rig2.device.restore(snap);
    const c = rig2.sink.cursors.at(-1)!;
    expect(c).toMatchObject({ scanoutId: 0, resourceId: 7, x: 9, y: 2, hotX: 3, hotY: 4 });
    expect(c.image).toEqual(new Uint8Array(64 * 64 * 4).fill(0x7f));
  });
});

describe('snapshot / restore: available chains', () => {
  it('chains made available before restore (their kick went to the old device) are processed by restore', () => {
    const rig = new Rig();
    const snap = structuredClone(rig.device.snapshot());
    const rig2 = new Rig({ memory: rig.memory });
    const head = rig2.enqueue(C.create2d(1, P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 4, 4));
    rig2.device.restore(snap);
    expect(rig2.responseFor(head)?.type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
  });
});
