import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as G from './gpu-wire.js';

const le = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

describe('vhost-user-gpu encoders', () => {
  it('SCANOUT: header (request 7, flags 0, size 12) and scanout_id, width, height', () => {
    const b = new Uint8Array(24);
    expect(G.encodeScanout(le(b), 0, 2, 1280, 800)).toBe(24);
    expect([...new Uint32Array(b.buffer)]).toEqual([7, 0, 12, 2, 1280, 800]);
  });

  it('UPDATE head: size covers the w*h*4 pixel bytes that follow; DMABUF_UPDATE has none', () => {
    const b = new Uint8Array(32);
    expect(G.encodeUpdateHead(le(b), 0, G.VHOST_USER_GPU_UPDATE, 0, 10, 20, 30, 40)).toBe(32);
    expect([...new Uint32Array(b.buffer)]).toEqual([8, 0, 20 + 30 * 40 * 4, 0, 10, 20, 30, 40]);
    G.encodeUpdateHead(le(b), 0, G.VHOST_USER_GPU_DMABUF_UPDATE, 1, 0, 0, 5, 5);
    expect(le(b).getUint32(8, true)).toBe(20);
    expect(G.updateMessageSize(30, 40)).toBe(32 + 4800);
  });

  it('CURSOR_UPDATE: RGBA8 becomes a8r8g8b8 (bytes B, G, R, A), hotspot and position kept', () => {
    const rgba = new Uint8Array(64 * 64 * 4);
    rgba.set([10, 20, 30, 40], 0);
    rgba.set([1, 2, 3, 4], 64 * 64 * 4 - 4);
    const b = new Uint8Array(12 + G.VhostUserGpuCursorUpdate.SIZE);
    G.encodeCursorUpdate(le(b), 0, 1, 100, 200, 3, 4, rgba);
    const v = le(b);
    expect([v.getUint32(0, true), v.getUint32(8, true)]).toEqual([G.VHOST_USER_GPU_CURSOR_UPDATE, G.VhostUserGpuCursorUpdate.SIZE]);
    expect([v.getUint32(12, true), v.getUint32(16, true), v.getUint32(20, true), v.getUint32(24, true), v.getUint32(28, true)]).toEqual([1, 100, 200, 3, 4]);
    expect([...b.subarray(32, 36)]).toEqual([30, 20, 10, 40]);
    expect([...b.subarray(b.length - 4)]).toEqual([3, 2, 1, 4]);
    expect(() => G.encodeCursorUpdate(le(b), 0, 0, 0, 0, 0, 0, new Uint8Array(16))).toThrow(RangeError);
  });

  it('GET_EDID and SET_PROTOCOL_FEATURES', () => {
    const b = new Uint8Array(20);
    expect(G.encodeGetEdid(le(b), 0, 3)).toBe(16);
    expect([...new Uint32Array(b.buffer, 0, 4)]).toEqual([11, 0, 4, 3]);
    expect(G.encodeSetProtocolFeatures(le(b), 0, 1n)).toBe(20);
    expect(le(b).getBigUint64(12, true)).toBe(1n);
  });

  it('tables match vhost-user-gpu.rst / QEMU (packed structs)', () => {
    expect([G.VhostUserGpuCursorPos.SIZE, G.VhostUserGpuScanout.SIZE, G.VhostUserGpuUpdate.SIZE, G.VhostUserGpuDMABUFScanout.SIZE, G.VhostUserGpuDMABUFScanout2.SIZE, G.VhostUserGpuEdidRequest.SIZE]).toEqual([12, 12, 20, 40, 48, 4]);
    expect(G.VhostUserGpuCursorUpdate.SIZE).toBe(12 + 8 + 16384);
  });
});

function displayInfo(type = 0x1101): Uint8Array {
  const p = new Uint8Array(408);
  const v = le(p);
  v.setUint32(0, type, true);
  v.setUint32(24 + 8, 1280, true);
  v.setUint32(24 + 12, 800, true);
  v.setUint32(24 + 16, 1, true);
  return p;
}

describe('QEMU replies', () => {
  it('reply header: the reply flag is required and the size bounded', () => {
    expect(G.checkReplyHeader(3, 4, 408)).toBeNull();
    expect(G.checkReplyHeader(3, 0, 408)).toMatch(/reply flag/);
    expect(G.checkReplyHeader(11, 4, 1_000_000)).toMatch(/at most/);
  });

  it('GET_DISPLAY_INFO: 16 modes', () => {
    const r = G.decodeReply(G.VHOST_USER_GPU_GET_DISPLAY_INFO, displayInfo());
    if ('error' in r || r.request !== G.VHOST_USER_GPU_GET_DISPLAY_INFO) throw new Error('decode');
    expect(r.pmodes).toHaveLength(16);
    expect(r.pmodes[0]).toMatchObject({ r: { width: 1280, height: 800 }, enabled: 1 });
  });

  it.each([
    ['wrong size', G.VHOST_USER_GPU_GET_DISPLAY_INFO, new Uint8Array(407)],
    ['not OK_DISPLAY_INFO', G.VHOST_USER_GPU_GET_DISPLAY_INFO, displayInfo(0x1200)],
    ['protocol features of 4 bytes', G.VHOST_USER_GPU_GET_PROTOCOL_FEATURES, new Uint8Array(4)],
    ['a reply to UPDATE (which has none)', G.VHOST_USER_GPU_UPDATE, new Uint8Array(0)],
    ['DMABUF_UPDATE unblock with a payload', G.VHOST_USER_GPU_DMABUF_UPDATE, new Uint8Array(1)],
  ])('%s -> error', (_n, req, payload) => {
    expect('error' in G.decodeReply(req, payload)).toBe(true);
  });

  it('GET_EDID: whole 128-byte blocks only, copied out of the message', () => {
    const p = new Uint8Array(1056);
    const v = le(p);
    v.setUint32(0, 0x1104, true);
    v.setUint32(24, 256, true);
    p[32] = 0x00;
    p[33] = 0xff;
    const r = G.decodeReply(G.VHOST_USER_GPU_GET_EDID, p);
    if ('error' in r || r.request !== G.VHOST_USER_GPU_GET_EDID) throw new Error('decode');
    expect(r.edid.byteLength).toBe(256);
    expect(r.edid[1]).toBe(0xff);
    expect(r.edid.buffer).not.toBe(p.buffer);
    v.setUint32(24, 100, true);
    expect('error' in G.decodeReply(G.VHOST_USER_GPU_GET_EDID, p)).toBe(true);
    v.setUint32(24, 2048, true);
    expect('error' in G.decodeReply(G.VHOST_USER_GPU_GET_EDID, p)).toBe(true);
  });

  it('random replies never throw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 13 }), fc.uint8Array({ maxLength: 1100 }), (req, payload) => {
        G.decodeReply(req, payload);
      }),
      { numRuns: 2000 },
    );
  });
});
