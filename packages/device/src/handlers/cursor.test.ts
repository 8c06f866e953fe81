import * as P from '@virtio-gpu/protocol';
import { describe, expect, it } from 'vitest';
import { C, rect } from '../../test/cmd.js';
import { Rig } from '../../test/rig.js';

const OKT = P.VIRTIO_GPU_RESP_OK_NODATA;

describe('cursor queue', () => {
  it('UPDATE_CURSOR delivers a 64x64 RGBA8 image and hot spot', () => {
    const rig = new Rig();
    const gpas = rig.resource2d(9, 64, 64, P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM);
    rig.writeBacking(gpas, 0, new Uint8Array(64 * 64 * 4).fill(0).map((_, i) => [10, 20, 30, 40][i % 4]));
    rig.send(C.transfer2d(9, rect(0, 0, 64, 64), 0n));
    expect(rig.send(C.updateCursor(0, 9, 100, 50, 3, 4), { queue: 1 })?.type).toBe(OKT);
    const c = rig.sink.cursors.at(-1)!;
    expect(c).toMatchObject({ scanoutId: 0, x: 100, y: 50, hotX: 3, hotY: 4, resourceId: 9 });
    expect(c.image?.byteLength).toBe(64 * 64 * 4);
    expect([...c.image!.subarray(0, 4)]).toEqual([30, 20, 10, 40]);
  });
  it('UPDATE_CURSOR with resource 0 hides', () => {
    const rig = new Rig();
    rig.send(C.updateCursor(0, 0, 1, 1), { queue: 1 });
    expect(rig.sink.cursors.at(-1)).toMatchObject({ resourceId: 0 });
    expect(rig.sink.cursors.at(-1)?.image).toBeUndefined();
  });
  it('MOVE_CURSOR updates the position only', () => {
    const rig = new Rig();
    rig.resource2d(9, 64, 64);
    rig.send(C.updateCursor(0, 9, 1, 1, 5, 5), { queue: 1 });
    rig.send(C.moveCursor(0, 30, 40), { queue: 1 });
    const c = rig.sink.cursors.at(-1)!;
    expect(c).toMatchObject({ x: 30, y: 40, hotX: 5, hotY: 5, resourceId: 9 });
    expect(c.image).toBeUndefined();
  });
  it('not 64x64 -> ERR_INVALID_PARAMETER; unknown -> ERR_INVALID_RESOURCE_ID; bad scanout -> ERR_INVALID_SCANOUT_ID', () => {
    const rig = new Rig();
    rig.resource2d(9, 32, 32);
    expect(rig.send(C.updateCursor(0, 9, 0, 0), { queue: 1 })?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    expect(rig.send(C.updateCursor(0, 8, 0, 0), { queue: 1 })?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    expect(rig.send(C.moveCursor(5, 0, 0), { queue: 1 })?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
  });
});
