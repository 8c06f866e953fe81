/**
 * The queue loop decodes every command of a queue into the same scratch objects
 * (decodeCommandInto). These tests send batches where a later command would overwrite state an
 * earlier one kept if the device kept a reference to the scratch instead of a copy.
 */
import * as P from '@virtio-gpu/protocol';
import { describe, expect, it } from 'vitest';
import { C, rect } from '../test/cmd.js';
import { FakeRenderer3D } from '../test/fake-renderer.js';
import { Rig } from '../test/rig.js';

const OKT = P.VIRTIO_GPU_RESP_OK_NODATA;
const FENCE = P.VIRTIO_GPU_FLAG_FENCE;
const GLOBAL = { ctxId: 0, ringIdx: 0, ringed: false };

describe('scratch reuse: nothing the device keeps aliases a later command', () => {
  it('SET_SCANOUT, SET_SCANOUT in one batch: the first scanout keeps its own rect', () => {
    const rig = new Rig({ scanouts: [{ width: 64, height: 64 }, { width: 64, height: 64 }] });
    rig.resource2d(1, 64, 64);
    const a = rig.enqueue(C.setScanout(0, 1, rect(0, 0, 32, 32)));
    const b = rig.enqueue(C.setScanout(1, 1, rect(8, 8, 16, 16)));
    rig.device.notify(0);
    expect(rig.responseFor(a)?.type).toBe(OKT);
    expect(rig.responseFor(b)?.type).toBe(OKT);
    expect(rig.device.scanout(0)?.r).toEqual(rect(0, 0, 32, 32));
    expect(rig.device.scanout(1)?.r).toEqual(rect(8, 8, 16, 16));
    expect(rig.sink.changes.map((c) => c.info?.r)).toEqual([rect(0, 0, 32, 32), rect(8, 8, 16, 16)]);
  });

  it('SET_SCANOUT, SET_SCANOUT, FLUSH in one batch: flush damage uses the rect the first SET_SCANOUT stored', () => {
    const rig = new Rig({ scanouts: [{ width: 64, height: 64 }, { width: 64, height: 64 }] });
    rig.resource2d(1, 64, 64);
    rig.resource2d(2, 64, 64);
    rig.enqueue(C.setScanout(0, 1, rect(16, 16, 32, 32)));
    rig.enqueue(C.setScanout(1, 2, rect(0, 0, 8, 8)));
    rig.enqueue(C.flush(1, rect(0, 0, 64, 64)));
    rig.device.notify(0);
    // Scanout 0 shows (16,16)-(48,48) of resource 1: the whole-resource flush damages all of it.
    expect(rig.sink.flushes).toEqual([{ scanoutId: 0, damage: rect(0, 0, 32, 32) }]);
  });

  it('fenced commands held while later commands decode: each answer echoes its own header', () => {
    const r = new FakeRenderer3D();
    const rig = new Rig({ renderer: r });
    rig.resource2d(1, 64, 64);
    const a = rig.enqueue(C.flush(1, rect(0, 0, 8, 8), { flags: FENCE, fenceId: 5n, ctxId: 7 }));
    const b = rig.enqueue(C.flush(1, rect(0, 0, 4, 4), { flags: FENCE, fenceId: 6n, ctxId: 9 }));
    const c = rig.enqueue(C.displayInfo());
    rig.device.notify(0);
    expect(rig.responseFor(c)?.type).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
    expect(rig.responseFor(a)).toBeUndefined();
    expect(r.fences.map((f) => f.fenceId)).toEqual([5n, 6n]);
    // A snapshot taken now stores each held command's own fence (its reply is in the chain).
    const snap = rig.device.snapshot();
    expect(snap.pending.map((p) => [p.fence?.fenceId, p.fence?.ctxId, p.length])).toEqual([
      [5n, 7, 24],
      [6n, 9, 24],
    ]);
    r.retire(GLOBAL, 6n);
    expect(rig.responseFor(a)?.hdr).toEqual({ type: OKT, flags: FENCE, fenceId: 5n, ctxId: 7, ringIdx: 0 });
    expect(rig.responseFor(b)?.hdr).toEqual({ type: OKT, flags: FENCE, fenceId: 6n, ctxId: 9, ringIdx: 0 });
  });

  it('UPDATE_CURSOR then MOVE_CURSOR in one batch: the first report keeps its values', () => {
    const rig = new Rig();
    rig.resource2d(3, 64, 64);
    rig.enqueue(C.updateCursor(0, 3, 10, 20, 1, 2), { queue: 1 });
    rig.enqueue(C.moveCursor(0, 30, 40), { queue: 1 });
    rig.device.notify(1);
    const [first, second] = rig.sink.cursors;
    expect([first.x, first.y, first.hotX, first.hotY, first.resourceId]).toEqual([10, 20, 1, 2, 3]);
    expect([second.x, second.y, second.hotX, second.hotY, second.resourceId]).toEqual([30, 40, 1, 2, 3]);
  });
});
