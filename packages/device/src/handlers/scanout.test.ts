import * as P from '@virtio-gpu/protocol';
import { describe, expect, it } from 'vitest';
import { C, rect } from '../../test/cmd.js';
import { Rig } from '../../test/rig.js';

const OKT = P.VIRTIO_GPU_RESP_OK_NODATA;
const BAD = P.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
const F = P.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM;

describe('SET_SCANOUT', () => {
  it('shows a resource rect and tells the sink', () => {
    const rig = new Rig();
    rig.resource2d(1, 64, 64);
    expect(rig.send(C.setScanout(0, 1, rect(8, 8, 32, 16)))?.type).toBe(OKT);
    expect(rig.sink.changes).toEqual([{ scanoutId: 0, info: { resourceId: 1, width: 32, height: 16, r: rect(8, 8, 32, 16) } }]);
  });
  it('resource 0 disables', () => {
    const rig = new Rig();
    rig.resource2d(1, 64, 64);
    rig.send(C.setScanout(0, 1, rect(0, 0, 64, 64)));
    expect(rig.send(C.setScanout(0, 0, rect(0, 0, 0, 0)))?.type).toBe(OKT);
    expect(rig.sink.changes.at(-1)).toEqual({ scanoutId: 0, info: null });
    expect(rig.device.readScanout(0, rect(0, 0, 1, 1), new Uint8Array(4), 4)).toBe(false);
  });
  it('scanout id >= num_scanouts -> ERR_INVALID_SCANOUT_ID', () => {
    const rig = new Rig();
    rig.resource2d(1, 64, 64);
    expect(rig.send(C.setScanout(1, 1, rect(0, 0, 64, 64)))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
  });
  it('rect outside the resource -> ERR_INVALID_PARAMETER', () => {
    const rig = new Rig();
    rig.resource2d(1, 64, 64);
    expect(rig.send(C.setScanout(0, 1, rect(32, 0, 64, 64)))?.type).toBe(BAD);
    expect(rig.send(C.setScanout(0, 1, rect(0, 0, 0, 64)))?.type).toBe(BAD);
  });
  it('unknown resource -> ERR_INVALID_RESOURCE_ID', () => {
    expect(new Rig().send(C.setScanout(0, 3, rect(0, 0, 1, 1)))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
  });
});

describe('SET_SCANOUT_BLOB', () => {
  function blobRig(): { rig: Rig; gpas: number[] } {
    const rig = new Rig();
    const gpas = rig.pages(4);
    expect(rig.send(C.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_GUEST, 0, 4n * 4096n, Rig.entries(gpas)))?.type).toBe(OKT);
    return { rig, gpas };
  }
  it('shows a guest blob; readback honours offset and stride', () => {
    const { rig, gpas } = blobRig();
    // 8x4 framebuffer at offset 256, stride 64 bytes.
    for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) rig.writeBacking(gpas, 256 + y * 64 + x * 4, new Uint8Array([x, y, 7, 9]));
    expect(rig.send(C.setScanoutBlob(0, 1, rect(0, 0, 8, 4), 8, 4, F, 64, 256))?.type).toBe(OKT);
    const dst = new Uint8Array(8 * 4 * 4);
    expect(rig.device.readScanout(0, rect(0, 0, 8, 4), dst, 32)).toBe(true);
    expect([...dst.subarray((2 * 8 + 5) * 4, (2 * 8 + 5) * 4 + 4)]).toEqual([5, 2, 7, 9]);
  });
  it('framebuffer past the blob -> ERR_INVALID_PARAMETER', () => {
    const { rig } = blobRig();
    expect(rig.send(C.setScanoutBlob(0, 1, rect(0, 0, 64, 64), 64, 64, F, 256, 4096 * 4 - 100))?.type).toBe(BAD);
  });
  it('stride below width*bpp -> ERR_INVALID_PARAMETER', () => {
    const { rig } = blobRig();
    expect(rig.send(C.setScanoutBlob(0, 1, rect(0, 0, 8, 4), 8, 4, F, 16))?.type).toBe(BAD);
  });
  it('unknown format -> ERR_INVALID_PARAMETER', () => {
    const { rig } = blobRig();
    expect(rig.send(C.setScanoutBlob(0, 1, rect(0, 0, 8, 4), 8, 4, 99, 64))?.type).toBe(BAD);
  });
  it('rect outside the framebuffer -> ERR_INVALID_PARAMETER', () => {
    const { rig } = blobRig();
    expect(rig.send(C.setScanoutBlob(0, 1, rect(4, 0, 8, 4), 8, 4, F, 64))?.type).toBe(BAD);
  });
  it('not a blob -> ERR_INVALID_PARAMETER; bad scanout -> ERR_INVALID_SCANOUT_ID', () => {
    const { rig } = blobRig();
    rig.resource2d(2, 8, 4);
    expect(rig.send(C.setScanoutBlob(0, 2, rect(0, 0, 8, 4), 8, 4, F, 64))?.type).toBe(BAD);
    expect(rig.send(C.setScanoutBlob(3, 1, rect(0, 0, 8, 4), 8, 4, F, 64))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
  });
});
