/** DeviceLimits.maxCommandBytes: how much of a chain's readable part the device reads. */
import * as P from '@virtio-gpu/protocol';
import { describe, expect, it } from 'vitest';
import { C } from '../test/cmd.js';
import { FakeRenderer3D } from '../test/fake-renderer.js';
import { Rig } from '../test/rig.js';

describe('maxCommandBytes', () => {
  it('a command followed by more bytes than the limit -> decoded from the first bytes, answered normally', () => {
    const rig = new Rig({ limits: { maxCommandBytes: 64 } });
    const raw = new Uint8Array(4096);
    P.encodeCommand(C.create2d(1, P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 4, 4), raw, 0);
    expect(rig.send(C.create2d(1, 1, 4, 4), { raw })?.type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
    expect(rig.device.resourceCount).toBe(1);
  });

  it('SUBMIT_3D whose stream exceeds the limit -> ERR_UNSPEC, nothing submitted', () => {
    const r = new FakeRenderer3D();
    const rig = new Rig({ renderer: r, limits: { maxCommandBytes: 1024 } });
    rig.send(C.ctxCreate(1));
    expect(rig.send(C.submit(1, new Uint8Array(2048)))?.type).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
    expect(r.calls.some((c) => c.startsWith('submit'))).toBe(false);
    expect(rig.send(C.submit(1, new Uint8Array(512)))?.type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
  });

  it('default -> 64 MiB', () => {
    expect(new Rig().device.limits.maxCommandBytes).toBe(64 << 20);
  });
});
