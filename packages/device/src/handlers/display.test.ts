import { GuestRam } from '@virtio-gpu/guest';
import * as P from '@virtio-gpu/protocol';
import { DriverSplitRing, SplitQueue } from '@virtio-gpu/virtqueue';
import { describe, expect, it } from 'vitest';
import { C } from '../../test/cmd.js';
import { FakeRenderer3D } from '../../test/fake-renderer.js';
import { Rig } from '../../test/rig.js';
import { VirtioGpuDevice } from '../device.js';
import type { ScanoutConfig } from '../scanouts.js';

/** Sizes GET_DISPLAY_INFO reports for the first `n` scanouts. */
function modes(r: P.Response | undefined, n = 2): string[] {
  if (r?.type !== P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO) throw new Error(`type ${r?.type.toString(16)}`);
  return r.pmodes.slice(0, n).map((m) => `${m.r.x},${m.r.y} ${m.r.width}x${m.r.height}${m.enabled ? '' : ' off'}`);
}

/**
 * A device behind a real split ring (the test Rig's fake chains cannot hand out writable views,
 * so they never take the in-place copy of the cached reply).
 */
function ringDevice(scanouts: ScanoutConfig[]) {
  const ram = new GuestRam({ regions: [{ gpa: 0x10_0000, bytes: 1 << 20 }] });
  const device = new VirtioGpuDevice({ memory: ram.memory, scanouts, numScanouts: 2, onInterrupt: () => {} });
  device.negotiate(device.features);
  const ring = DriverSplitRing.allocate(ram, 16, false);
  const cring = DriverSplitRing.allocate(ram, 16, false);
  const q = (l: DriverSplitRing['layout']) => new SplitQueue(ram.memory, { size: l.size, descAddr: l.descAddr, availAddr: l.availAddr, usedAddr: l.usedAddr, eventIdx: false });
  device.attachQueues(q(ring.layout), q(cring.layout));
  const buf = ram.alloc(4096);
  const send = (cmd: P.Command): P.Response => {
    const n = P.encodeCommand(cmd, ram.bytes(buf, P.commandSize(cmd)), 0);
    ram.bytes(buf + 1024, 1024).fill(0xee);
    ring.add([
      { gpa: buf, length: n, write: false },
      { gpa: buf + 1024, length: 1024, write: true },
    ]);
    ring.publish();
    device.notify(0);
    const u = ring.popUsed();
    if (!u) throw new Error('not answered');
    const d = P.decodeResponse(ram.bytes(buf + 1024, u.length), 0, u.length);
    if (!d.ok) throw new Error(d.error.message);
    return d.resp;
  };
  return { device, send };
}

describe('GET_DISPLAY_INFO', () => {
  it('reports every configured scanout, the rest disabled', () => {
    const rig = new Rig({ scanouts: [{ width: 800, height: 600 }, { width: 1024, height: 768, x: 800, enabled: false }] });
    const r = rig.send(C.displayInfo());
    if (r?.type !== P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO) throw new Error('type');
    expect(r.pmodes[0]).toMatchObject({ r: { x: 0, y: 0, width: 800, height: 600 }, enabled: 1 });
    expect(r.pmodes[1]).toMatchObject({ r: { x: 800, width: 1024, height: 768 }, enabled: 0 });
    expect(r.pmodes[2].enabled).toBe(0);
  });

  it('repeated through a real ring (cached reply copied in place): same modes, each with its own header', () => {
    const { send } = ringDevice([{ width: 800, height: 600 }]);
    expect(modes(send(C.displayInfo()))).toEqual(['0,0 800x600', '0,0 0x0 off']);
    const fenced = send(C.displayInfo({ flags: P.VIRTIO_GPU_FLAG_FENCE, fenceId: 9n, ctxId: 4 }));
    expect(fenced.hdr).toEqual({ type: P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO, flags: P.VIRTIO_GPU_FLAG_FENCE, fenceId: 9n, ctxId: 4, ringIdx: 0 });
    expect(modes(fenced)).toEqual(['0,0 800x600', '0,0 0x0 off']);
    const plain = send(C.displayInfo());
    expect(plain.hdr).toEqual({ type: P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO, flags: 0, fenceId: 0n, ctxId: 0, ringIdx: 0 });
  });

  it('cache invalidated by resizeScanout, setScanouts, restore and reset (real ring)', () => {
    const { device, send } = ringDevice([{ width: 800, height: 600 }]);
    expect(modes(send(C.displayInfo()))).toEqual(['0,0 800x600', '0,0 0x0 off']);
    const snap = device.snapshot();
    device.resizeScanout(0, 1280, 720);
    expect(modes(send(C.displayInfo()))).toEqual(['0,0 1280x720', '0,0 0x0 off']);
    device.setScanouts([{ width: 640, height: 480 }, { width: 320, height: 200, x: 640 }]);
    expect(modes(send(C.displayInfo()))).toEqual(['0,0 640x480', '640,0 320x200']);
    device.setScanouts([{ width: 640, height: 480, enabled: false }]);
    expect(modes(send(C.displayInfo()))).toEqual(['0,0 640x480 off', '0,0 0x0 off']);
    device.restore(snap);
    expect(modes(send(C.displayInfo()))).toEqual(['0,0 800x600', '0,0 0x0 off']);
    device.resizeScanout(1, 1024, 768);
    device.reset();
    // Reset forgets the queues; modes are host configuration and stay.
    const again = ringDevice([{ width: 1, height: 1 }]);
    again.device.restore(device.snapshot());
    expect(modes(again.send(C.displayInfo()))).toEqual(['0,0 800x600', '0,0 1024x768']);
  });

  it('cache invalidated through the fallback path too (fake chains without claim)', () => {
    const rig = new Rig({ scanouts: [{ width: 800, height: 600 }], numScanouts: 2 });
    expect(modes(rig.send(C.displayInfo()))).toEqual(['0,0 800x600', '0,0 0x0 off']);
    rig.device.resizeScanout(1, 100, 50);
    expect(modes(rig.send(C.displayInfo()))).toEqual(['0,0 800x600', '0,0 100x50']);
  });

  it('a fenced GET_DISPLAY_INFO held across a resize answers the modes of when it ran', () => {
    const r = new FakeRenderer3D();
    const rig = new Rig({ renderer: r, scanouts: [{ width: 800, height: 600 }] });
    const held = rig.enqueue(C.displayInfo({ flags: P.VIRTIO_GPU_FLAG_FENCE, fenceId: 3n }));
    rig.device.notify(0);
    expect(rig.responseFor(held)).toBeUndefined();
    rig.device.resizeScanout(0, 1920, 1080);
    expect(modes(rig.send(C.displayInfo()), 1)).toEqual(['0,0 1920x1080']);
    r.retire({ ctxId: 0, ringIdx: 0, ringed: false }, 3n);
    expect(modes(rig.responseFor(held), 1)).toEqual(['0,0 800x600']);
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
