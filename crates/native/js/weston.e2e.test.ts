/**
 * Cross-domain end to end against a real weston: guest driver -> split queue -> device ->
 * RutabagaRenderer -> rutabaga's cross-domain worker -> weston's Wayland socket and back. The
 * guest does what Linux's Wayland proxy does: rings as guest blobs (ctx 0) attached to a capset-5
 * context, CROSS_DOMAIN_CMD_INIT with a Wayland channel, a CMD_SEND carrying
 * wl_display.get_registry + sync, then fenced polls on ring 1 until the sync's callback arrives.
 */
import { cmd } from '@virtio-gpu/guest';
import * as P from '@virtio-gpu/protocol';
import { expect, it } from 'vitest';
import {
  CHANNEL_RING,
  CHANNEL_TYPE_WAYLAND,
  globalInterfaces,
  initCmd,
  pollCmd,
  readReceive,
  sendCmd,
  waylandEvents,
  waylandGetRegistryAndSync,
} from '../test/cross-domain.js';
import { describeFd } from '../test/native-available.js';
import { rig, send } from '../test/rig.js';
import { startWeston, westonInstalled } from '../test/weston.js';
import { RutabagaRenderer } from './index.js';

const OK = P.VIRTIO_GPU_RESP_OK_NODATA;
// Outside CI a machine without weston skips (say why); .ci/run installs it, so CI never skips.
const needWeston = westonInstalled || Boolean(process.env.CI);
if (!needWeston) console.warn('weston e2e skipped: weston is not installed (apt-get install weston)');

describeFd('cross-domain against a real weston', () => {
  it.runIf(needWeston)('the guest lists the compositor globals through the real queues', async () => {
    const weston = await startWeston();
    try {
      const r = rig(new RutabagaRenderer({ crossDomain: { waylandSocket: weston.socket } }));
      expect(await send(r, cmd.ctxCreate(1, 'wayland', 5))).toBe(OK);
      const rings = [100, 101].map((id) => ({ id, gpa: r.ram.alloc(4096) }));
      for (const ring of rings) {
        // As Linux sends them: guest blobs created with ctx_id 0, then attached to the context.
        expect(await send(r, cmd.createBlob(ring.id, P.VIRTIO_GPU_BLOB_MEM_GUEST, P.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, 4096, [{ addr: BigInt(ring.gpa), length: 4096 }]))).toBe(OK);
        expect(await send(r, cmd.ctxAttachResource(1, ring.id))).toBe(OK);
      }
      const channel = r.ram.bytes(rings[1]!.gpa, 4096);
      expect(await send(r, cmd.submit3d(1, initCmd(100, 101, CHANNEL_TYPE_WAYLAND)))).toBe(OK);
      expect(await send(r, cmd.submit3d(1, sendCmd(waylandGetRegistryAndSync())))).toBe(OK);

      const chunks: Uint8Array[] = [];
      let done = false;
      for (let polls = 0; polls < 50 && !done; polls++) {
        const resp = await r.driver.send(cmd.submit3d(1, pollCmd()), { fence: true, ringIdx: CHANNEL_RING });
        expect(resp.type).toBe(OK);
        const data = readReceive(channel);
        if (data) chunks.push(data);
        const events = waylandEvents(Buffer.concat(chunks));
        done = events.some((e) => e.objectId === 3 && e.opcode === 0); // wl_callback.done of our sync
      }
      expect(done, weston.log()).toBe(true);
      const globals = globalInterfaces(waylandEvents(Buffer.concat(chunks)));
      expect(globals.length).toBeGreaterThanOrEqual(10);
      expect(globals).toEqual(expect.arrayContaining(['wl_compositor', 'wl_shm', 'xdg_wm_base']));
      r.device.reset();
    } finally {
      await weston.stop();
    }
  });
});
