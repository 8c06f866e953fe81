import * as P from '@virtio-gpu/protocol';
import { describe, expect, it } from 'vitest';
import { C } from '../../test/cmd.js';
import { Rig } from '../../test/rig.js';

describe('GET_DISPLAY_INFO', () => {
  it('reports every configured scanout, the rest disabled', () => {
    const rig = new Rig({ scanouts: [{ width: 800, height: 600 }, { width: 1024, height: 768, x: 800, enabled: false }] });
    const r = rig.send(C.displayInfo());
    if (r?.type !== P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO) throw new Error('type');
    expect(r.pmodes[0]).toMatchObject({ r: { x: 0, y: 0, width: 800, height: 600 }, enabled: 1 });
    expect(r.pmodes[1]).toMatchObject({ r: { x: 800, width: 1024, height: 768 }, enabled: 0 });
    expect(r.pmodes[2].enabled).toBe(0);
  });
});

describe('GET_EDID', () => {
  it('valid EDID 1.4 with checksum, manufacturer, preferred timing for the scanout size, name', () => {
    const rig = new Rig({ scanouts: [{ width: 1920, height: 1080, name: 'TestMon' }] });
    const r = rig.send(C.edid(0));
    if (r?.type !== P.VIRTIO_GPU_RESP_OK_EDID) throw new Error('type');
    const e = r.edid.subarray(0, r.size);
    expect(r.size).toBe(128);
    expect([...e.subarray(0, 8)]).toEqual([0, 255, 255, 255, 255, 255, 255, 0]);
    expect(e.reduce((a, b) => a + b, 0) % 256).toBe(0);
    expect([e[18], e[19]]).toEqual([1, 4]);
    const mid = (e[8] << 8) | e[9];
    expect(String.fromCharCode(((mid >> 10) & 31) + 64, ((mid >> 5) & 31) + 64, (mid & 31) + 64)).toBe('VGT');
    const dtd = e.subarray(54, 72);
    expect(dtd[2] | ((dtd[4] >> 4) << 8)).toBe(1920);
    expect(dtd[5] | ((dtd[7] >> 4) << 8)).toBe(1080);
    expect(dtd[0] | (dtd[1] << 8)).toBeGreaterThan(0);
    const names = [72, 90, 108].map((o) => e.subarray(o, o + 18)).filter((d) => d[3] === 0xfc);
    expect(names).toHaveLength(1);
    expect(String.fromCharCode(...names[0].subarray(5, 12))).toBe('TestMon');
  });
  it('follows a resize', () => {
    const rig = new Rig();
    rig.device.resizeScanout(0, 1280, 720);
    const r = rig.send(C.edid(0));
    if (r?.type !== P.VIRTIO_GPU_RESP_OK_EDID) throw new Error('type');
    expect(r.edid[54 + 2] | ((r.edid[54 + 4] >> 4) << 8)).toBe(1280);
  });
  it('bad scanout -> ERR_INVALID_SCANOUT_ID', () => {
    expect(new Rig().send(C.edid(1))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
  });
  it('without VIRTIO_GPU_F_EDID -> ERR_UNSPEC', () => {
    expect(new Rig({ features: 0n }).send(C.edid(0))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
  });
});
