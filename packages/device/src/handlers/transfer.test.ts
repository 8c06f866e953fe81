import * as P from '@virtio-gpu/protocol';
import { describe, expect, it } from 'vitest';
import { C, rect } from '../../test/cmd.js';
import { Rig } from '../../test/rig.js';

const OKT = P.VIRTIO_GPU_RESP_OK_NODATA;
const BAD = P.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;

/** Fill a w x h image's backing with a pattern: pixel (x,y) bytes = [x, y, x^y, 0x80|x]. */
function pattern(w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.set([x & 255, y & 255, (x ^ y) & 255, 0x80 | (x & 127)], (y * w + x) * 4);
  return out;
}

function readAll(rig: Rig, w: number, h: number): Uint8Array {
  const dst = new Uint8Array(w * h * 4);
  expect(rig.device.readScanout(0, rect(0, 0, w, h), dst, w * 4)).toBe(true);
  return dst;
}

describe('TRANSFER_TO_HOST_2D', () => {
  it('full frame from scattered pages reaches the image (R8G8B8A8 reads back as-is)', () => {
    const rig = new Rig();
    const gpas = rig.resource2d(1, 40, 30, P.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM);
    const img = pattern(40, 30);
    rig.writeBacking(gpas, 0, img);
    expect(rig.send(C.transfer2d(1, rect(0, 0, 40, 30), 0n))?.type).toBe(OKT);
    rig.send(C.setScanout(0, 1, rect(0, 0, 40, 30)));
    expect(readAll(rig, 40, 30)).toEqual(img);
  });
  it('sub-rect: row h comes from offset + h*stride and lands at (r.x, r.y+h)', () => {
    const rig = new Rig();
    const w = 20, h = 10;
    const gpas = rig.resource2d(1, w, h, P.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM);
    const img = pattern(w, h);
    rig.writeBacking(gpas, 0, img);
    const r = rect(3, 2, 5, 4);
    expect(rig.send(C.transfer2d(1, r, BigInt(r.y * w * 4 + r.x * 4)))?.type).toBe(OKT);
    rig.send(C.setScanout(0, 1, rect(0, 0, w, h)));
    const got = readAll(rig, w, h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const inside = x >= 3 && x < 8 && y >= 2 && y < 6;
        const px = [...got.subarray((y * w + x) * 4, (y * w + x) * 4 + 4)];
        expect(px).toEqual(inside ? [...img.subarray((y * w + x) * 4, (y * w + x) * 4 + 4)] : [0, 0, 0, 0]);
      }
  });
  it('rect outside the resource -> ERR_INVALID_PARAMETER', () => {
    const rig = new Rig();
    rig.resource2d(1, 16, 16);
    expect(rig.send(C.transfer2d(1, rect(8, 0, 9, 16), 0n))?.type).toBe(BAD);
    expect(rig.send(C.transfer2d(1, rect(0xffffffff, 0, 2, 1), 0n))?.type).toBe(BAD);
  });
  it('source past the backing -> ERR_INVALID_PARAMETER', () => {
    const rig = new Rig();
    rig.resource2d(1, 16, 16);
    expect(rig.send(C.transfer2d(1, rect(0, 0, 16, 16), 3076n))?.type).toBe(BAD);
    expect(rig.send(C.transfer2d(1, rect(0, 0, 16, 16), 3072n))?.type).toBe(OKT);
    expect(rig.send(C.transfer2d(1, rect(0, 0, 1, 1), 1n << 62n))?.type).toBe(BAD);
  });
  it('no backing -> ERR_UNSPEC', () => {
    const rig = new Rig();
    rig.send(C.create2d(1, 1, 16, 16));
    expect(rig.send(C.transfer2d(1, rect(0, 0, 16, 16), 0n))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
  });
  it('unknown resource -> ERR_INVALID_RESOURCE_ID', () => {
    expect(new Rig().send(C.transfer2d(5, rect(0, 0, 1, 1), 0n))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
  });
  it('guest blob (Linux fbdev flushing a blob dumb buffer) -> OK, and the scanout shows the guest pages', () => {
    const rig = new Rig();
    const gpas = rig.pages(1);
    expect(rig.send(C.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_GUEST, 0, 4096n, Rig.entries(gpas)))?.type).toBe(OKT);
    expect(rig.send(C.setScanoutBlob(0, 1, rect(0, 0, 4, 4), 4, 4, P.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, 16))?.type).toBe(OKT);
    const img = pattern(4, 4);
    rig.writeBacking(gpas, 0, img);
    expect(rig.send(C.transfer2d(1, rect(0, 0, 4, 4), 0n))?.type).toBe(OKT);
    expect(readAll(rig, 4, 4)).toEqual(img);
  });
  it('guest blob, offset at or past its end -> ERR_INVALID_PARAMETER', () => {
    const rig = new Rig();
    rig.send(C.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_GUEST, 0, 4096n, Rig.entries(rig.pages(1))));
    expect(rig.send(C.transfer2d(1, rect(0, 0, 1, 1), 4095n))?.type).toBe(OKT);
    expect(rig.send(C.transfer2d(1, rect(0, 0, 1, 1), 4096n))?.type).toBe(BAD);
    expect(rig.send(C.transfer2d(1, rect(0, 0, 1, 1), 1n << 62n))?.type).toBe(BAD);
  });
});

describe('readback converts each format to RGBA8', () => {
  const src = [0x11, 0x22, 0x33, 0x44];
  const cases: [number, number[]][] = [
    [P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, [0x33, 0x22, 0x11, 0x44]],
    [P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, [0x33, 0x22, 0x11, 255]],
    [P.VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, [0x22, 0x33, 0x44, 0x11]],
    [P.VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, [0x22, 0x33, 0x44, 255]],
    [P.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, [0x11, 0x22, 0x33, 0x44]],
    [P.VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, [0x44, 0x33, 0x22, 255]],
    [P.VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, [0x44, 0x33, 0x22, 0x11]],
    [P.VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, [0x11, 0x22, 0x33, 255]],
  ];
  it.each(cases)('format %i', (format, want) => {
    const rig = new Rig();
    const gpas = rig.resource2d(1, 2, 1, format);
    rig.writeBacking(gpas, 0, new Uint8Array([...src, ...src]));
    rig.send(C.transfer2d(1, rect(0, 0, 2, 1), 0n));
    rig.send(C.setScanout(0, 1, rect(0, 0, 2, 1)));
    const dst = new Uint8Array(8);
    expect(rig.device.readScanout(0, rect(0, 0, 2, 1), dst, 8)).toBe(true);
    expect([...dst]).toEqual([...want, ...want]);
  });
});

describe('RESOURCE_FLUSH', () => {
  it('damage clipped to and translated into each scanout showing the resource', () => {
    const rig = new Rig({ scanouts: [{ width: 50, height: 50 }, { width: 50, height: 50 }] });
    rig.resource2d(1, 100, 50);
    rig.send(C.setScanout(0, 1, rect(0, 0, 50, 50)));
    rig.send(C.setScanout(1, 1, rect(50, 0, 50, 50)));
    expect(rig.send(C.flush(1, rect(40, 10, 20, 5)))?.type).toBe(OKT);
    expect(rig.sink.flushes).toEqual([
      { scanoutId: 0, damage: rect(40, 10, 10, 5) },
      { scanoutId: 1, damage: rect(0, 10, 10, 5) },
    ]);
  });
  it('damage outside every scanout -> OK and no sink call', () => {
    const rig = new Rig();
    rig.resource2d(1, 100, 50);
    rig.send(C.setScanout(0, 1, rect(0, 0, 50, 50)));
    expect(rig.send(C.flush(1, rect(60, 0, 10, 10)))?.type).toBe(OKT);
    expect(rig.sink.flushes).toEqual([]);
  });
  it('rect outside the resource -> ERR_INVALID_PARAMETER', () => {
    const rig = new Rig();
    rig.resource2d(1, 10, 10);
    expect(rig.send(C.flush(1, rect(0, 0, 11, 10)))?.type).toBe(BAD);
  });
  it('unknown resource -> ERR_INVALID_RESOURCE_ID', () => {
    expect(new Rig().send(C.flush(2, rect(0, 0, 1, 1)))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
  });
});
