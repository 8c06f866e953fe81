/**
 * Answer at once (crosvm's process_descriptor): the reply, header included, is in the chain's
 * buffer when the handler returns; a fenced command's chain only waits to be pushed used.
 */
import * as P from '@virtio-gpu/protocol';
import { describe, expect, it } from 'vitest';
import { C } from '../test/cmd.js';
import { FakeRenderer3D } from '../test/fake-renderer.js';
import { Rig } from '../test/rig.js';

const FENCE = P.VIRTIO_GPU_FLAG_FENCE;
const RING = P.VIRTIO_GPU_FLAG_INFO_RING_IDX;
const GLOBAL = { ctxId: 0, ringIdx: 0, ringed: false };

function rig3d() {
  const r = new FakeRenderer3D();
  const rig = new Rig({ renderer: r });
  rig.send(C.ctxCreate(1));
  return { rig, r };
}

describe('responder: answer at once', () => {
  it('a held fenced command already has its final reply in the chain; retiring only pushes it used', () => {
    const { rig, r } = rig3d();
    const head = rig.enqueue(C.submit(1, new Uint8Array(4), { flags: FENCE | RING, fenceId: 0x1_0000_0009n, ctxId: 1, ringIdx: 2 }));
    rig.device.notify(0);
    expect(rig.responseFor(head)).toBeUndefined();
    const chain = rig.control.chains.get(head)!;
    expect(chain.wr).toBe(24);
    const written = P.decodeResponse(chain.output, 0, 24);
    expect(written.ok && written.resp.hdr).toEqual({ type: P.VIRTIO_GPU_RESP_OK_NODATA, flags: FENCE | RING, fenceId: 0x1_0000_0009n, ctxId: 1, ringIdx: 2 });
    r.retire({ ctxId: 1, ringIdx: 2, ringed: true }, 0x1_0000_0009n);
    expect(rig.control.used.at(-1)).toMatchObject({ head, len: 24 });
    expect(chain.wr).toBe(24); // nothing written again
  });

  it('GET_DISPLAY_INFO with a fence: the 408-byte reply is written at once and held', () => {
    const { rig, r } = rig3d();
    const head = rig.enqueue(C.displayInfo({ flags: FENCE, fenceId: 4n }));
    rig.device.notify(0);
    expect(rig.control.chains.get(head)!.wr).toBe(408);
    expect(rig.device.snapshot().pending).toEqual([{ queueIndex: 0, head, length: 408, fence: { fenceId: 4n, ctxId: 0, ringIdx: 0, ringed: false } }]);
    r.retire(GLOBAL, 4n);
    expect(rig.responseFor(head)?.type).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
  });

  it('a snapshot holds no reply objects: per held chain only queue, head, reply length and fence', () => {
    const { rig } = rig3d();
    rig.enqueue(C.submit(1, new Uint8Array(4), { flags: FENCE, fenceId: 7n }));
    rig.device.notify(0);
    const [p] = rig.device.snapshot().pending;
    expect(Object.keys(p).sort()).toEqual(['fence', 'head', 'length', 'queueIndex']);
  });

  it('a renderer that retires inside createFence: the chain is used once, after its reply is written', () => {
    const rig = new Rig();
    const head = rig.enqueue(C.create2d(1, P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 4, 4, { flags: FENCE, fenceId: 3n }));
    rig.device.notify(0);
    expect(rig.usedHeads()).toEqual([head]);
    expect(rig.responseFor(head)?.hdr).toMatchObject({ type: P.VIRTIO_GPU_RESP_OK_NODATA, flags: FENCE, fenceId: 3n });
    expect(rig.device.pendingCount).toBe(0);
  });

  it('retiring a later fence inside createFence releases earlier held chains first, in order', () => {
    const { rig, r } = rig3d();
    const a = rig.enqueue(C.submit(1, new Uint8Array(4), { flags: FENCE, fenceId: 1n }));
    rig.device.notify(0);
    r.autoRetire = true;
    const b = rig.enqueue(C.submit(1, new Uint8Array(4), { flags: FENCE, fenceId: 2n }));
    rig.device.notify(0);
    expect(rig.usedHeads().slice(-2)).toEqual([a, b]);
  });
});
