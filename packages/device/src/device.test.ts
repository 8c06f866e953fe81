import * as P from '@virtio-gpu/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { C, rect } from '../test/cmd.js';
import { FakeRenderer3D } from '../test/fake-renderer.js';
import { Rig } from '../test/rig.js';
import { VirtioGpuDevice } from './device.js';
import { featureBit } from './features.js';

const OKT = P.VIRTIO_GPU_RESP_OK_NODATA;

describe('queue loop', () => {
  it('undecodable command -> ERR_UNSPEC', () => {
    const rig = new Rig();
    const raw = new Uint8Array(24);
    new DataView(raw.buffer).setUint32(0, 0x0999, true);
    expect(rig.send(C.displayInfo(), { raw })?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
    expect(rig.send(C.displayInfo(), { raw: new Uint8Array(3) })?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
  });
  it('response larger than the writable space -> ERR_UNSPEC header that fits', () => {
    const rig = new Rig();
    const resp = rig.send(C.displayInfo(), { writable: 24 });
    expect(resp?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
  });
  it('less than a header of writable space -> as many bytes as fit, still used', () => {
    const rig = new Rig();
    rig.enqueue(C.displayInfo(), { writable: 8 });
    rig.device.notify(0);
    expect(rig.control.used[0].len).toBe(8);
  });
  it('a renderer that throws (host bug) -> ERR_UNSPEC for that chain, loop goes on', () => {
    const rig = new Rig();
    rig.resource2d(1, 4, 4);
    rig.device.renderer.transferToHost2d = () => {
      throw new Error('bug');
    };
    const a = rig.enqueue(C.transfer2d(1, rect(0, 0, 4, 4), 0n));
    const b = rig.enqueue(C.displayInfo());
    rig.device.notify(0);
    expect(rig.responseFor(a)?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
    expect(rig.responseFor(b)?.type).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
    expect(rig.logs.some((l) => l.includes('internal error'))).toBe(true);
  });
  it('broken queue -> needsReset and a config interrupt', () => {
    const rig = new Rig();
    rig.control.broken = { kind: 'internal', message: 'loop' };
    rig.device.notify(0);
    expect(rig.device.needsReset).toBe(true);
    expect(rig.interrupts).toContainEqual({ cause: 'config', queue: undefined });
  });
  it('queue interrupt only when the queue wants one', () => {
    const rig = new Rig();
    rig.control.notifyWanted = false;
    rig.send(C.displayInfo());
    expect(rig.interrupts).toEqual([]);
    rig.control.notifyWanted = true;
    rig.send(C.displayInfo());
    expect(rig.interrupts).toEqual([{ cause: 'queue', queue: 0 }]);
  });
  it('control command on the cursor queue -> ERR_UNSPEC', () => {
    expect(new Rig().send(C.displayInfo(), { queue: 1 })?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
  });
  it('guest-triggered logging is rate-limited', () => {
    const rig = new Rig({ limits: { logLinesPerSecond: 5 } });
    for (let i = 0; i < 50; i++) rig.send(C.unref(1000 + i));
    expect(rig.logs.length).toBe(5);
  });
  it('property: random command bytes never throw and always get a response', () => {
    const types = [...P.COMMAND_TYPES, 0, 0x1100, 0xffff];
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ type: fc.constantFrom(...types), body: fc.uint8Array({ minLength: 0, maxLength: 120 }), writable: fc.integer({ min: 0, max: 1200 }), q: fc.constantFrom(0 as const, 1 as const) }),
          { minLength: 1, maxLength: 12 },
        ),
        (cmds) => {
          const rig = new Rig({ ramBytes: 1 << 20, renderer: new FakeRenderer3D() });
          (rig.device.renderer as FakeRenderer3D).autoRetire = true;
          for (const c of cmds) {
            const raw = new Uint8Array(24 + c.body.byteLength);
            raw.set(c.body, 24);
            const dv = new DataView(raw.buffer);
            dv.setUint32(0, c.type, true);
            dv.setUint32(4, c.body[0] ?? 0, true);
            dv.setUint32(16, (c.body[1] ?? 0) & 3, true);
            raw[20] = c.body[2] ?? 0;
            const head = rig.enqueue(C.displayInfo(), { raw, writable: c.writable, queue: c.q });
            rig.device.notify(c.q);
            const used = (c.q === 1 ? rig.cursorq : rig.control).used.find((u) => u.head === head);
            expect(used).toBeDefined();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('features and config space', () => {
  it('2D renderer offers EDID, RESOURCE_UUID, RESOURCE_BLOB; not VIRGL or CONTEXT_INIT', () => {
    const d = new VirtioGpuDevice({ memory: new Rig().memory, onInterrupt: () => {} });
    expect(d.features).toBe(featureBit(P.VIRTIO_GPU_F_EDID) | featureBit(P.VIRTIO_GPU_F_RESOURCE_UUID) | featureBit(P.VIRTIO_GPU_F_RESOURCE_BLOB));
  });
  it('3D renderer adds VIRGL and CONTEXT_INIT; negotiate masks to the offer', () => {
    const d = new VirtioGpuDevice({ memory: new Rig().memory, renderer: new FakeRenderer3D(), onInterrupt: () => {} });
    expect(d.features & featureBit(P.VIRTIO_GPU_F_VIRGL)).not.toBe(0n);
    expect(d.features & featureBit(P.VIRTIO_GPU_F_CONTEXT_INIT)).not.toBe(0n);
    expect(d.negotiate((1n << 40n) | featureBit(P.VIRTIO_GPU_F_EDID))).toBe(featureBit(P.VIRTIO_GPU_F_EDID));
  });
  it('num_scanouts and num_capsets read back; read-only fields ignore writes', () => {
    const d = new VirtioGpuDevice({ memory: new Rig().memory, renderer: new FakeRenderer3D(), scanouts: [{ width: 1, height: 1 }, { width: 2, height: 2 }], onInterrupt: () => {} });
    expect(d.readConfig(8, 4)).toBe(2);
    expect(d.readConfig(12, 4)).toBe(2);
    d.writeConfig(8, 4, 7);
    expect(d.readConfig(8, 4)).toBe(2);
    expect(d.readConfig(8, 1)).toBe(2);
    expect(d.readConfig(16, 4)).toBe(0);
  });
  it('hotplug: setScanouts sets EVENT_DISPLAY, raises a config interrupt; events_clear clears it', () => {
    const rig = new Rig({ numScanouts: 2, scanouts: [{ width: 640, height: 480 }] });
    rig.device.setScanouts([{ width: 640, height: 480 }, { width: 800, height: 600 }]);
    expect(rig.device.readConfig(0, 4)).toBe(P.VIRTIO_GPU_EVENT_DISPLAY);
    expect(rig.interrupts).toContainEqual({ cause: 'config', queue: undefined });
    const info = rig.send(C.displayInfo());
    if (info?.type !== P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO) throw new Error('no display info');
    expect(info.pmodes[1]).toMatchObject({ r: { width: 800, height: 600 }, enabled: 1 });
    expect(rig.device.readConfig(4, 4)).toBe(0);
    rig.device.writeConfig(4, 4, P.VIRTIO_GPU_EVENT_DISPLAY);
    expect(rig.device.readConfig(0, 4)).toBe(0);
  });
  it('resizeScanout changes the mode reported by GET_DISPLAY_INFO', () => {
    const rig = new Rig();
    rig.device.resizeScanout(0, 1280, 720);
    const info = rig.send(C.displayInfo());
    if (info?.type !== P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO) throw new Error('no display info');
    expect(info.pmodes[0].r).toMatchObject({ width: 1280, height: 720 });
    expect(info.pmodes[1].enabled).toBe(0);
  });
  it('bad scanout configuration throws at construction', () => {
    const memory = new Rig().memory;
    expect(() => new VirtioGpuDevice({ memory, scanouts: [], onInterrupt: () => {} })).toThrow(RangeError);
    expect(() => new VirtioGpuDevice({ memory, numScanouts: 17, onInterrupt: () => {} })).toThrow(RangeError);
  });
});

describe('reset', () => {
  it('frees resources, contexts, scanouts; clears features and events', () => {
    const r = new FakeRenderer3D();
    const rig = new Rig({ renderer: r });
    rig.resource2d(1, 8, 8);
    rig.send(C.setScanout(0, 1, rect(0, 0, 8, 8)));
    rig.send(C.ctxCreate(4));
    rig.device.resizeScanout(0, 100, 100);
    rig.device.reset();
    expect(rig.device.resourceCount).toBe(0);
    expect(rig.device.hostBytesUsed).toBe(0);
    expect(rig.device.negotiatedFeatures).toBe(0n);
    expect(rig.device.readConfig(0, 4)).toBe(0);
    expect(rig.sink.changes.at(-1)).toEqual({ scanoutId: 0, info: null });
    expect(r.calls).toContain('ctxdestroy 4');
    rig.device.negotiate(rig.device.features);
    rig.device.attachQueues(rig.control, rig.cursorq);
    expect(rig.send(C.create2d(1, 1, 8, 8))?.type).toBe(OKT);
    expect(rig.send(C.ctxCreate(4))?.type).toBe(OKT);
  });
});
