/**
 * Opaque readback through the device (readScanout's `opaque`): RGBA8 with every alpha 255, written
 * in the conversion's one pass, equal to the plain readback followed by an alpha fill; also into
 * another format (convertRow). Renderer2D's own opaque readback is tested in renderer-2d.test.ts.
 */
import * as P from '@virtio-gpu/protocol';
import { describe, expect, it } from 'vitest';
import { C, rect } from '../test/cmd.js';
import { noise } from '../test/noise.js';
import { alphaFilled } from '../test/pixels.js';
import { Rig } from '../test/rig.js';
import { PIXEL_FORMATS, convertRow } from './pixel-formats.js';

describe('opaque readback into another format', () => {
  it('B8G8R8A8 scanout read as B8G8R8X8 -> colour bytes copied, X is 255 (not the source alpha)', () => {
    const rig = new Rig({ scanouts: [{ width: 2, height: 1 }] });
    const gpas = rig.resource2d(1, 2, 1, P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, false);
    rig.at(gpas[0], 8).set([1, 2, 3, 4, 5, 6, 7, 8]);
    rig.send(C.transfer2d(1, rect(0, 0, 2, 1), 0n));
    rig.send(C.setScanout(0, 1, rect(0, 0, 2, 1)));
    const dst = new Uint8Array(8);
    expect(rig.device.readScanout(0, rect(0, 0, 2, 1), dst, 8, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, true)).toBe(true);
    expect([...dst]).toEqual([1, 2, 3, 255, 5, 6, 7, 255]);
  });

  it('every source format into A8B8G8R8 -> the plain conversion with alpha 255', () => {
    for (const [format] of PIXEL_FORMATS) {
      const src = noise(16 * 4, format);
      const plain = new Uint8Array(src.length);
      const opaque = new Uint8Array(src.length);
      expect(convertRow(format, src, 0, P.VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, plain, 0, 16)).toBe(true);
      expect(convertRow(format, src, 0, P.VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, opaque, 0, 16, true)).toBe(true);
      // A8B8G8R8 keeps alpha in byte 0.
      for (let i = 0; i < 16; i++) plain[i * 4] = 255;
      expect(opaque).toEqual(plain);
    }
  });
});

describe('readScanout opaque', () => {
  it('2D scanout: the device passes opaque to the renderer', () => {
    const rig = new Rig({ scanouts: [{ width: 4, height: 2 }] });
    const gpas = rig.resource2d(1, 4, 2, P.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, false);
    rig.at(gpas[0], 32).set(noise(32, 3));
    rig.send(C.transfer2d(1, rect(0, 0, 4, 2), 0n));
    rig.send(C.setScanout(0, 1, rect(0, 0, 4, 2)));
    const plain = new Uint8Array(32);
    const opaque = new Uint8Array(32);
    expect(rig.device.readScanout(0, rect(0, 0, 4, 2), plain, 16)).toBe(true);
    expect(rig.device.readScanout(0, rect(0, 0, 4, 2), opaque, 16, undefined, true)).toBe(true);
    expect(plain.some((v, i) => i % 4 === 3 && v !== 255)).toBe(true);
    expect(opaque).toEqual(alphaFilled(plain, 4, 2, 16));
  });

  it('guest blob scanout, every format: the RGBA8 readback with alpha 255', () => {
    for (const [format] of PIXEL_FORMATS) {
      const rig = new Rig();
      const gpas = rig.pages(1);
      expect(rig.send(C.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_GUEST, 0, 4096n, Rig.entries(gpas)))?.type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
      rig.writeBacking(gpas, 0, noise(4096, format));
      // 8x4 framebuffer at offset 256, stride 64 bytes.
      expect(rig.send(C.setScanoutBlob(0, 1, rect(0, 0, 8, 4), 8, 4, format, 64, 256))?.type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
      const plain = new Uint8Array(8 * 4 * 4);
      const opaque = new Uint8Array(8 * 4 * 4);
      expect(rig.device.readScanout(0, rect(1, 1, 6, 3), plain, 32)).toBe(true);
      expect(rig.device.readScanout(0, rect(1, 1, 6, 3), opaque, 32, undefined, true)).toBe(true);
      expect(opaque).toEqual(alphaFilled(plain, 6, 3, 32));
    }
  });
});
