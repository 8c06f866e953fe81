import { describe, expect, it } from 'vitest';
import {
  VIRTIO_GPU_CMD_GET_DISPLAY_INFO,
  VIRTIO_GPU_RESP_OK_DISPLAY_INFO,
} from '@virtio-gpu/protocol';
import { Rig, hdr } from '../test/rig.js';

describe('smoke', () => {
  it('GET_DISPLAY_INFO -> OK_DISPLAY_INFO', () => {
    const rig = new Rig({ scanouts: [{ width: 800, height: 600 }] });
    const r = rig.send({ type: VIRTIO_GPU_CMD_GET_DISPLAY_INFO, hdr: hdr({ type: VIRTIO_GPU_CMD_GET_DISPLAY_INFO }) });
    expect(r?.type).toBe(VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
    if (r?.type === VIRTIO_GPU_RESP_OK_DISPLAY_INFO) expect(r.pmodes[0]).toMatchObject({ r: { width: 800, height: 600 }, enabled: 1 });
  });
});
