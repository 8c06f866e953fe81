import * as P from '@virtio-gpu/protocol';
import { describe, expect, it } from 'vitest';
import { C, rect } from '../../test/cmd.js';
import { PAGE, Rig } from '../../test/rig.js';
import { Backing } from '../backing.js';
import { Renderer2D } from '../renderer-2d.js';
import { RESOURCE_HOST_BYTES } from '../resources.js';

const OKT = P.VIRTIO_GPU_RESP_OK_NODATA;
const FORMATS = [
  P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, P.VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, P.VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM,
  P.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, P.VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, P.VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, P.VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM,
];

describe('RESOURCE_CREATE_2D', () => {
  it.each(FORMATS)('format %i -> OK_NODATA', (f) => {
    const rig = new Rig();
    expect(rig.send(C.create2d(1, f, 16, 16))?.type).toBe(OKT);
    expect(rig.device.hostBytesUsed).toBe(16 * 16 * 4 + RESOURCE_HOST_BYTES);
  });
  it('unknown format -> ERR_INVALID_PARAMETER', () => {
    expect(new Rig().send(C.create2d(1, 5, 16, 16))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
  });
  it('id 0 -> ERR_INVALID_RESOURCE_ID', () => {
    expect(new Rig().send(C.create2d(0, 1, 16, 16))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
  });
  it('id in use -> ERR_INVALID_RESOURCE_ID', () => {
    const rig = new Rig();
    rig.send(C.create2d(1, 1, 16, 16));
    expect(rig.send(C.create2d(1, 1, 16, 16))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
  });
  it('zero width or height -> ERR_INVALID_PARAMETER', () => {
    const rig = new Rig();
    expect(rig.send(C.create2d(1, 1, 0, 16))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
    expect(rig.send(C.create2d(2, 1, 16, 0))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
  });
  it('above maxDimension -> ERR_INVALID_PARAMETER', () => {
    expect(new Rig().send(C.create2d(1, 1, 0xffffffff, 0xffffffff))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
  });
  it('quota exceeded -> ERR_OUT_OF_MEMORY and nothing allocated', () => {
    const rig = new Rig({ limits: { hostMemoryBytes: 64 * 64 * 4 + RESOURCE_HOST_BYTES } });
    expect(rig.send(C.create2d(1, 1, 64, 64))?.type).toBe(OKT);
    expect(rig.send(C.create2d(2, 1, 1, 1))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
    expect(rig.device.resourceCount).toBe(1);
    expect(rig.device.hostBytesUsed).toBe(64 * 64 * 4 + RESOURCE_HOST_BYTES);
  });
  it('resource count cap -> ERR_OUT_OF_MEMORY', () => {
    const rig = new Rig({ limits: { maxResources: 2 } });
    rig.send(C.create2d(1, 1, 4, 4));
    rig.send(C.create2d(2, 1, 4, 4));
    expect(rig.send(C.create2d(3, 1, 4, 4))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
  });
});

describe('RESOURCE_UNREF', () => {
  it('frees the resource and its quota', () => {
    const rig = new Rig();
    rig.send(C.create2d(1, 1, 16, 16));
    expect(rig.send(C.unref(1))?.type).toBe(OKT);
    expect(rig.device.resourceCount).toBe(0);
    expect(rig.device.hostBytesUsed).toBe(0);
    expect(rig.send(C.create2d(1, 1, 16, 16))?.type).toBe(OKT);
  });
  it('unknown id -> ERR_INVALID_RESOURCE_ID', () => {
    expect(new Rig().send(C.unref(9))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
  });
  it('a scanout showing it is disabled and the sink told', () => {
    const rig = new Rig();
    rig.resource2d(1, 16, 16);
    rig.send(C.setScanout(0, 1, rect(0, 0, 16, 16)));
    rig.send(C.unref(1));
    expect(rig.sink.changes.at(-1)).toEqual({ scanoutId: 0, info: null });
    expect(rig.device.scanout(0)?.resourceId).toBe(0);
  });
});

describe('ATTACH_BACKING / DETACH_BACKING', () => {
  it('backing entries are charged to the quota: many tiny entries -> ERR_OUT_OF_MEMORY, detach releases', () => {
    // 1-byte entries at distinct, non-adjacent addresses: one host view each, nothing to merge.
    const tiny = (n: number, base: number) => Array.from({ length: n }, (_, i) => ({ addr: BigInt(base + i * 2), length: 1 }));
    const rig = new Rig({ limits: { hostMemoryBytes: 4 + RESOURCE_HOST_BYTES + Backing.hostBytesFor(100) } });
    const gpa = rig.pages(1)[0]!;
    expect(rig.send(C.create2d(1, 1, 1, 1))?.type).toBe(OKT);
    expect(rig.send(C.attach(1, tiny(101, gpa)))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
    expect(rig.device.hostBytesUsed).toBe(4 + RESOURCE_HOST_BYTES);
    expect(rig.send(C.attach(1, tiny(100, gpa)))?.type).toBe(OKT);
    expect(rig.device.hostBytesUsed).toBe(4 + RESOURCE_HOST_BYTES + Backing.hostBytesFor(100));
    expect(rig.send(C.detach(1))?.type).toBe(OKT);
    expect(rig.device.hostBytesUsed).toBe(4 + RESOURCE_HOST_BYTES);
    expect(rig.send(C.attach(1, tiny(100, gpa)))?.type).toBe(OKT);
    expect(rig.send(C.unref(1))?.type).toBe(OKT);
    expect(rig.device.hostBytesUsed).toBe(0);
  });
  it("a renderer's own bytes per run (hostBytesPerBackingRun) are charged too, and refused from nr_entries", () => {
    // A renderer that keeps 16 bytes a run (the rutabaga renderer's run table).
    class KeepsRuns extends Renderer2D {
      override readonly capabilities = { ...new Renderer2D().capabilities, hostBytesPerBackingRun: 16 };
    }
    const tiny = (n: number, base: number) => Array.from({ length: n }, (_, i) => ({ addr: BigInt(base + i * 2), length: 1 }));
    const charge = (runs: number) => Backing.hostBytesFor(runs) + 16 * runs;
    const rig = new Rig({ renderer: new KeepsRuns(), limits: { hostMemoryBytes: 4 + RESOURCE_HOST_BYTES + charge(100) } });
    const gpa = rig.pages(1)[0]!;
    expect(rig.send(C.create2d(1, 1, 1, 1))?.type).toBe(OKT);
    // 101 entries would fit without the renderer's share: Backing.hostBytesFor(101) < charge(100).
    expect(Backing.hostBytesFor(101)).toBeLessThan(charge(100));
    expect(rig.send(C.attach(1, tiny(101, gpa)))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
    expect(rig.send(C.attach(1, tiny(100, gpa)))?.type).toBe(OKT);
    expect(rig.device.hostBytesUsed).toBe(4 + RESOURCE_HOST_BYTES + charge(100));
    expect(rig.send(C.detach(1))?.type).toBe(OKT);
    expect(rig.device.hostBytesUsed).toBe(4 + RESOURCE_HOST_BYTES);
  });
  it('attach -> OK; second attach -> ERR_UNSPEC', () => {
    const rig = new Rig();
    rig.send(C.create2d(1, 1, 32, 32));
    const e = Rig.entries(rig.pages(1));
    expect(rig.send(C.attach(1, e))?.type).toBe(OKT);
    expect(rig.send(C.attach(1, e))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
  });
  it('unknown resource -> ERR_INVALID_RESOURCE_ID', () => {
    const rig = new Rig();
    expect(rig.send(C.attach(7, Rig.entries(rig.pages(1))))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
  });
  it('an unmapped entry -> ERR_UNSPEC and nothing attached', () => {
    const rig = new Rig();
    rig.send(C.create2d(1, 1, 32, 32));
    const e = [...Rig.entries(rig.pages(1)), { addr: 0x1000n, length: PAGE }];
    expect(rig.send(C.attach(1, e))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
    expect(rig.send(C.transfer2d(1, rect(0, 0, 1, 1), 0n))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
    expect(rig.send(C.attach(1, Rig.entries(rig.pages(1))))?.type).toBe(OKT);
  });
  it('an entry past 2^53 -> ERR_UNSPEC', () => {
    const rig = new Rig();
    rig.send(C.create2d(1, 1, 32, 32));
    expect(rig.send(C.attach(1, [{ addr: 0xffff_ffff_ffff_f000n, length: PAGE }]))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
  });
  it('more entries than maxBackingEntries -> ERR_INVALID_PARAMETER', () => {
    const rig = new Rig({ limits: { maxBackingEntries: 2 } });
    rig.send(C.create2d(1, 1, 32, 32));
    expect(rig.send(C.attach(1, Rig.entries(rig.pages(3))))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
  });
  it('detach -> OK; then transfer -> ERR_UNSPEC; detach again -> ERR_UNSPEC', () => {
    const rig = new Rig();
    rig.resource2d(1, 16, 16);
    expect(rig.send(C.detach(1))?.type).toBe(OKT);
    expect(rig.send(C.transfer2d(1, rect(0, 0, 16, 16), 0n))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
    expect(rig.send(C.detach(1))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
  });
  it('detach of unknown resource -> ERR_INVALID_RESOURCE_ID', () => {
    expect(new Rig().send(C.detach(3))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
  });
});

describe('RESOURCE_ASSIGN_UUID', () => {
  it('returns a v4 UUID, stable for the resource', () => {
    const rig = new Rig();
    rig.send(C.create2d(1, 1, 4, 4));
    const a = rig.send(C.uuid(1));
    const b = rig.send(C.uuid(1));
    expect(a?.type).toBe(P.VIRTIO_GPU_RESP_OK_RESOURCE_UUID);
    if (a?.type !== P.VIRTIO_GPU_RESP_OK_RESOURCE_UUID || b?.type !== P.VIRTIO_GPU_RESP_OK_RESOURCE_UUID) return;
    expect(a.uuid[6] >> 4).toBe(4);
    expect(a.uuid[8] >> 6).toBe(2);
    expect([...a.uuid]).toEqual([...b.uuid]);
    rig.send(C.create2d(2, 1, 4, 4));
    const c = rig.send(C.uuid(2));
    if (c?.type === P.VIRTIO_GPU_RESP_OK_RESOURCE_UUID) expect([...c.uuid]).not.toEqual([...a.uuid]);
  });
  it('unknown resource -> ERR_INVALID_RESOURCE_ID', () => {
    expect(new Rig().send(C.uuid(4))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
  });
  it('without VIRTIO_GPU_F_RESOURCE_UUID -> ERR_UNSPEC', () => {
    const rig = new Rig({ features: 0n });
    rig.send(C.create2d(1, 1, 4, 4));
    expect(rig.send(C.uuid(1))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
  });
});
