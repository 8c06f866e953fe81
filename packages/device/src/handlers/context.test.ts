import * as P from '@virtio-gpu/protocol';
import { describe, expect, it } from 'vitest';
import { C } from '../../test/cmd.js';
import { FakeRenderer3D } from '../../test/fake-renderer.js';
import { Rig } from '../../test/rig.js';

const OKT = P.VIRTIO_GPU_RESP_OK_NODATA;
const BAD = P.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
const CTX = P.VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;

function rig3d(opts: ConstructorParameters<typeof Rig>[0] = {}): { rig: Rig; r: FakeRenderer3D } {
  const r = new FakeRenderer3D();
  return { rig: new Rig({ renderer: r, ...opts }), r };
}

describe('capsets', () => {
  it('GET_CAPSET_INFO per index; num_capsets matches', () => {
    const { rig } = rig3d();
    expect(rig.device.readConfig(12, 4)).toBe(2);
    expect(rig.send(C.capsetInfo(0))).toMatchObject({ type: P.VIRTIO_GPU_RESP_OK_CAPSET_INFO, capsetId: P.VIRTIO_GPU_CAPSET_VIRGL2, capsetMaxVersion: 2, capsetMaxSize: 64 });
    expect(rig.send(C.capsetInfo(1))).toMatchObject({ capsetId: P.VIRTIO_GPU_CAPSET_VENUS });
  });
  it('GET_CAPSET_INFO bad index -> ERR_INVALID_PARAMETER', () => {
    expect(rig3d().rig.send(C.capsetInfo(2))?.type).toBe(BAD);
    expect(new Rig().send(C.capsetInfo(0))?.type).toBe(BAD);
  });
  it('GET_CAPSET returns the renderer data', () => {
    const r = rig3d().rig.send(C.capset(P.VIRTIO_GPU_CAPSET_VIRGL2, 1));
    expect(r?.type).toBe(P.VIRTIO_GPU_RESP_OK_CAPSET);
    if (r?.type === P.VIRTIO_GPU_RESP_OK_CAPSET) expect([...r.data.subarray(0, 3)]).toEqual([2, 1, 0xaa]);
  });
  it('GET_CAPSET bad id or version -> ERR_INVALID_PARAMETER', () => {
    const { rig } = rig3d();
    expect(rig.send(C.capset(77, 0))?.type).toBe(BAD);
    expect(rig.send(C.capset(P.VIRTIO_GPU_CAPSET_VIRGL2, 3))?.type).toBe(BAD);
  });
});

describe('contexts', () => {
  it('CTX_CREATE with a capset in context_init reaches the renderer', () => {
    const { rig, r } = rig3d();
    expect(rig.send(C.ctxCreate(1, P.VIRTIO_GPU_CAPSET_VENUS, 'venus'))?.type).toBe(OKT);
    expect(r.calls).toContain('ctx 1 capset 4 venus');
  });
  it('ctx id 0 or in use -> ERR_INVALID_CONTEXT_ID', () => {
    const { rig } = rig3d();
    expect(rig.send(C.ctxCreate(0))?.type).toBe(CTX);
    rig.send(C.ctxCreate(1));
    expect(rig.send(C.ctxCreate(1))?.type).toBe(CTX);
  });
  it('unknown capset or unknown context_init bits -> ERR_INVALID_PARAMETER', () => {
    const { rig } = rig3d();
    expect(rig.send(C.ctxCreate(1, 9))?.type).toBe(BAD);
    expect(rig.send(C.ctxCreate(1, 0x100 | 4))?.type).toBe(BAD);
  });
  it('context_init without CONTEXT_INIT negotiated -> ERR_INVALID_PARAMETER', () => {
    const { rig } = rig3d({ features: 1n << BigInt(P.VIRTIO_GPU_F_VIRGL) });
    expect(rig.send(C.ctxCreate(1, 4))?.type).toBe(BAD);
    expect(rig.send(C.ctxCreate(1, 0))?.type).toBe(OKT);
  });
  it('context cap -> ERR_OUT_OF_MEMORY', () => {
    const { rig } = rig3d({ limits: { maxContexts: 1 } });
    rig.send(C.ctxCreate(1));
    expect(rig.send(C.ctxCreate(2))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
  });
  it('2D renderer refuses contexts and 3D -> ERR_UNSPEC', () => {
    const rig = new Rig();
    expect(rig.send(C.ctxCreate(1))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
    expect(rig.send(C.create3d(1, 4, 4))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
    expect(rig.send(C.submit(1, new Uint8Array(4)))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
    expect(rig.send(C.transfer3d(true, 1))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
  });
  it('destroy; attach/detach resources; errors', () => {
    const { rig, r } = rig3d();
    rig.send(C.ctxCreate(1));
    rig.send(C.create3d(5, 4, 4));
    expect(rig.send(C.ctxAttach(1, 5))?.type).toBe(OKT);
    expect(rig.send(C.ctxAttach(2, 5))?.type).toBe(CTX);
    expect(rig.send(C.ctxAttach(1, 6))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    expect(rig.send(C.ctxDetach(1, 5))?.type).toBe(OKT);
    expect(rig.send(C.ctxDetach(1, 5))?.type).toBe(BAD);
    expect(rig.send(C.ctxDestroy(1))?.type).toBe(OKT);
    expect(rig.send(C.ctxDestroy(1))?.type).toBe(CTX);
    expect(r.calls).toEqual(expect.arrayContaining(['attach 1 5', 'detach 1 5', 'ctxdestroy 1']));
  });
});

describe('3D commands', () => {
  it('RESOURCE_CREATE_3D, transfers, SUBMIT_3D reach the renderer', () => {
    const { rig, r } = rig3d();
    rig.send(C.ctxCreate(1));
    expect(rig.send(C.create3d(5, 16, 16))?.type).toBe(OKT);
    expect(rig.send(C.transfer3d(true, 5, { ctxId: 1 }))?.type).toBe(OKT);
    expect(rig.send(C.transfer3d(false, 5, { ctxId: 1 }))?.type).toBe(OKT);
    expect(rig.send(C.submit(1, new Uint8Array(12)))?.type).toBe(OKT);
    expect(r.calls).toEqual(expect.arrayContaining(['create3d 5', 't2h3d 5', 'fh3d 5', 'submit 1 12 null']));
  });
  it('CREATE_3D id in use -> ERR_INVALID_RESOURCE_ID; zero width -> ERR_INVALID_PARAMETER', () => {
    const { rig } = rig3d();
    rig.send(C.create3d(5, 16, 16));
    expect(rig.send(C.create3d(5, 16, 16))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    expect(rig.send(C.create3d(6, 0, 16))?.type).toBe(BAD);
  });
  it('transfer of unknown resource -> ERR_INVALID_RESOURCE_ID; submit to unknown ctx -> ERR_INVALID_CONTEXT_ID', () => {
    const { rig } = rig3d();
    expect(rig.send(C.transfer3d(true, 9))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
    expect(rig.send(C.submit(4, new Uint8Array(4)))?.type).toBe(CTX);
  });
});
