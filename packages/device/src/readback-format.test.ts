/**
 * Reading a scanout in another pixel format (a display that takes B8G8R8X8 gets the guest's
 * bytes copied) and per-scanout EDID overrides: the two hooks a vhost-user-gpu backend needs.
 */
import * as P from '@virtio-gpu/protocol';
import { describe, expect, it } from 'vitest';
import { C, rect } from '../test/cmd.js';
import { Rig } from '../test/rig.js';
import { buildEdid } from './edid.js';
import { convertRow } from './pixel-formats.js';

const px = (...b: number[]) => new Uint8Array(b);

describe('convertRow', () => {
  it('B8G8R8A8 into B8G8R8X8: bytes copied as they are (alpha lands in X)', () => {
    const dst = new Uint8Array(8);
    expect(convertRow(P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, px(1, 2, 3, 4, 5, 6, 7, 8), 0, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, dst, 0, 2)).toBe(true);
    expect([...dst]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('R8G8B8A8 into B8G8R8X8: red and blue swap, X is 255', () => {
    const dst = new Uint8Array(4);
    convertRow(P.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, px(10, 20, 30, 40), 0, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, dst, 0, 1);
    expect([...dst]).toEqual([30, 20, 10, 255]);
  });

  it('X8R8G8B8 into A8B8G8R8: alpha from an X source is 255', () => {
    const dst = new Uint8Array(4);
    convertRow(P.VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, px(9, 1, 2, 3), 0, P.VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, dst, 0, 1);
    expect([...dst]).toEqual([255, 3, 2, 1]);
  });

  it('unknown format -> false, destination untouched', () => {
    const dst = new Uint8Array(4).fill(7);
    expect(convertRow(99, px(1, 2, 3, 4), 0, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, dst, 0, 1)).toBe(false);
    expect([...dst]).toEqual([7, 7, 7, 7]);
  });
});

/** A 4x2 scanout showing resource 1 (format `format`), pixel i = bytes (i, 16+i, 32+i, 48+i). */
function shownScanout(format: number) {
  const rig = new Rig({ scanouts: [{ width: 4, height: 2 }] });
  const gpas = rig.resource2d(1, 4, 2, format, false);
  const img = rig.at(gpas[0], 32);
  for (let i = 0; i < 8; i++) img.set([i, 16 + i, 32 + i, 48 + i], i * 4);
  rig.send(C.transfer2d(1, rect(0, 0, 4, 2), 0n));
  rig.send(C.setScanout(0, 1, rect(0, 0, 4, 2)));
  return rig;
}

describe('readScanout with a format', () => {
  it('B8G8R8X8 of a B8G8R8X8 scanout: the guest bytes, whole frame', () => {
    const rig = shownScanout(P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM);
    const dst = new Uint8Array(32);
    expect(rig.device.readScanout(0, rect(0, 0, 4, 2), dst, 16, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM)).toBe(true);
    expect([...dst.subarray(0, 8)]).toEqual([0, 16, 32, 48, 1, 17, 33, 49]);
    expect([...dst.subarray(28)]).toEqual([7, 23, 39, 55]);
  });

  it('sub-rect of an R8G8B8X8 scanout into B8G8R8X8, padded stride', () => {
    const rig = shownScanout(P.VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM);
    const dst = new Uint8Array(24).fill(0xaa);
    expect(rig.device.readScanout(0, rect(1, 0, 2, 2), dst, 12, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM)).toBe(true);
    // pixel 1 = (1,17,33,_) as R,G,B -> B,G,R,255
    expect([...dst.subarray(0, 8)]).toEqual([33, 17, 1, 255, 34, 18, 2, 255]);
    expect([...dst.subarray(8, 12)]).toEqual([0xaa, 0xaa, 0xaa, 0xaa]);
    expect([...dst.subarray(12, 16)]).toEqual([37, 21, 5, 255]);
  });

  it('without a format: still RGBA8', () => {
    const rig = shownScanout(P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM);
    const dst = new Uint8Array(4);
    rig.device.readScanout(0, rect(0, 0, 1, 1), dst, 4);
    expect([...dst]).toEqual([32, 16, 0, 255]);
  });

  it('unknown target format -> false', () => {
    const rig = shownScanout(P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM);
    expect(rig.device.readScanout(0, rect(0, 0, 1, 1), new Uint8Array(4), 4, 1234)).toBe(false);
  });
});

describe('EDID override', () => {
  it('GET_EDID answers the configured EDID bytes', () => {
    const edid = buildEdid({ width: 1920, height: 1080, name: 'FRONTEND' });
    const rig = new Rig({ scanouts: [{ width: 1920, height: 1080, edid }] });
    const r = rig.send(C.edid(0));
    if (r?.type !== P.VIRTIO_GPU_RESP_OK_EDID) throw new Error(`type ${r?.type}`);
    expect([...r.edid.subarray(0, r.size)]).toEqual([...edid]);
  });

  it('setScanouts replaces it; resizeScanout drops it (it described the old size)', () => {
    const a = buildEdid({ width: 800, height: 600, name: 'A' });
    const rig = new Rig({ scanouts: [{ width: 640, height: 480 }] });
    rig.device.setScanouts([{ width: 800, height: 600, edid: a }]);
    let r = rig.send(C.edid(0));
    if (r?.type !== P.VIRTIO_GPU_RESP_OK_EDID) throw new Error('type');
    expect([...r.edid.subarray(0, r.size)]).toEqual([...a]);
    rig.device.resizeScanout(0, 1024, 768);
    r = rig.send(C.edid(0));
    if (r?.type !== P.VIRTIO_GPU_RESP_OK_EDID) throw new Error('type');
    expect([...r.edid.subarray(0, r.size)]).toEqual([...buildEdid({ width: 1024, height: 768, serial: 0 })]);
  });

  it('an override that is not whole 128-byte blocks is refused at configuration', () => {
    expect(() => new Rig({ scanouts: [{ width: 640, height: 480, edid: new Uint8Array(100) }] })).toThrow(RangeError);
  });
});
