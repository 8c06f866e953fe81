import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cmd, rect } from '@virtio-gpu/guest';
import * as P from '@virtio-gpu/protocol';
import { afterAll, expect, it } from 'vitest';
import {
  CHANNEL_RING,
  CHANNEL_TYPE_WAYLAND,
  DRM_FORMAT_XRGB8888,
  QUERY_RING,
  imageRequirementsCmd,
  initCmd,
  pollCmd,
  readImageRequirements,
  readReceive,
  sendCmd,
} from '../test/cross-domain.js';
import { describeFd } from '../test/native-available.js';
import { RecordingRegion, rig, send } from '../test/rig.js';
import { RutabagaRenderer, acceptUnix, closeFd, listenUnix, recvWithFds, sendWithFds } from './index.js';

const OK = P.VIRTIO_GPU_RESP_OK_NODATA;
const CAPSET_CROSS_DOMAIN = 5;
const dir = mkdtempSync(join(tmpdir(), 'vgn-cd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A cross-domain context 1 with a query ring (resource 100) and a channel ring (101). */
async function context(r: ReturnType<typeof rig>) {
  expect(await send(r, cmd.ctxCreate(1, 'wayland', CAPSET_CROSS_DOMAIN))).toBe(OK);
  const rings = [100, 101].map((id) => ({ id, gpa: r.ram.alloc(4096) }));
  for (const ring of rings) {
    expect(await send(r, cmd.createBlob(ring.id, P.VIRTIO_GPU_BLOB_MEM_GUEST, P.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, 4096, [{ addr: BigInt(ring.gpa), length: 4096 }]))).toBe(OK);
    expect(await send(r, cmd.ctxAttachResource(1, ring.id))).toBe(OK);
  }
  return { query: r.ram.bytes(rings[0]!.gpa, 4096), channel: r.ram.bytes(rings[1]!.gpa, 4096) };
}

describeFd('cross-domain through the device', () => {
  it('capset 5 is offered with CONTEXT_INIT; GET_CAPSET answers version 1', async () => {
    const r = rig(new RutabagaRenderer({ crossDomain: true }));
    expect(r.device.features & (1n << BigInt(P.VIRTIO_GPU_F_CONTEXT_INIT))).not.toBe(0n);
    const info = await r.driver.send(cmd.getCapsetInfo(0));
    expect(info).toMatchObject({ type: P.VIRTIO_GPU_RESP_OK_CAPSET_INFO, capsetId: CAPSET_CROSS_DOMAIN, capsetMaxVersion: 0, capsetMaxSize: 16 });
    const caps = (await r.driver.send(cmd.getCapset(CAPSET_CROSS_DOMAIN, 0))) as { type: number; data: Uint8Array };
    expect(caps.type).toBe(P.VIRTIO_GPU_RESP_OK_CAPSET);
    expect(new DataView(caps.data.buffer, caps.data.byteOffset).getUint32(0, true)).toBe(1);
  });

  it('image requirements on the query ring, then a host blob mapped, shown as a scanout and unmapped', async () => {
    const region = new RecordingRegion();
    const r = rig(new RutabagaRenderer({ crossDomain: true }), { hostVisible: region, scanouts: [{ width: 16, height: 4 }] });
    const rings = await context(r);
    expect(await send(r, cmd.submit3d(1, initCmd(100, 101, 0)))).toBe(OK);
    const fenced = await r.driver.send(cmd.submit3d(1, imageRequirementsCmd(16, 4, DRM_FORMAT_XRGB8888)), { fence: true, ringIdx: QUERY_RING });
    expect(fenced.type).toBe(OK);
    const req = readImageRequirements(rings.query);
    expect(req.stride0).toBe(64);
    expect(await send(r, cmd.createBlob(7, P.VIRTIO_GPU_BLOB_MEM_HOST3D, P.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, req.size, [], req.blobId, 1))).toBe(OK);
    const m = (await r.driver.send(cmd.mapBlob(7, 0n))) as { type: number; mapInfo: number };
    expect(m.type).toBe(P.VIRTIO_GPU_RESP_OK_MAP_INFO);
    expect(m.mapInfo & P.VIRTIO_GPU_MAP_CACHE_MASK).toBe(P.VIRTIO_GPU_MAP_CACHE_CACHED);
    const view = region.mapped.get(0n)![0]!;
    expect(view.byteLength).toBe(req.size);
    view.set([30, 20, 10, 0], 64 + 4); // pixel (1,1), XRGB8888 little-endian = B G R X
    const strides = [64, 0, 0, 0];
    expect(await send(r, cmd.setScanoutBlob(0, 7, rect(0, 0, 16, 4), 16, 4, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, strides, [0, 0, 0, 0]))).toBe(OK);
    const px = new Uint8Array(4);
    expect(r.device.readScanout(0, { x: 1, y: 1, width: 1, height: 1 }, px, 4)).toBe(true);
    expect([...px]).toEqual([10, 20, 30, 255]);
    expect(await send(r, cmd.unmapBlob(7))).toBe(OK);
    expect(view.byteLength).toBe(0); // detached before rutabaga unmapped
    expect(view[68]).toBeUndefined();
  });

  it('channel: guest SEND reaches the socket; host bytes come back on ring 1 through the worker thread', async () => {
    const path = join(dir, 'fake-compositor.sock');
    const server = listenUnix(path);
    const r = rig(new RutabagaRenderer({ crossDomain: { waylandSocket: path } }));
    const rings = await context(r);
    expect(await send(r, cmd.submit3d(1, initCmd(100, 101, CHANNEL_TYPE_WAYLAND)))).toBe(OK);
    let conn: number | null = null;
    for (let i = 0; i < 500 && conn === null; i++) {
      conn = acceptUnix(server);
      if (conn === null) await new Promise((res) => setTimeout(res, 2));
    }
    expect(conn).not.toBeNull();
    expect(await send(r, cmd.submit3d(1, sendCmd(new TextEncoder().encode('hello compositor'))))).toBe(OK);
    const got = new Uint8Array(64);
    let n = null;
    for (let i = 0; i < 500 && !n; i++) {
      n = recvWithFds(conn!, got, 0);
      if (!n) await new Promise((res) => setTimeout(res, 2));
    }
    expect(new TextDecoder().decode(got.subarray(0, n!.bytes))).toBe('hello compositor');

    // A poll fenced on the channel ring stays pending until the host has something to say.
    let answered = false;
    const poll = r.driver.send(cmd.submit3d(1, pollCmd()), { fence: true, ringIdx: CHANNEL_RING }).then((resp) => {
      answered = true;
      return resp;
    });
    await new Promise((res) => setTimeout(res, 100));
    expect(answered).toBe(false);
    sendWithFds(conn!, new TextEncoder().encode('hello guest'));
    expect((await poll).type).toBe(OK);
    expect(new TextDecoder().decode(readReceive(rings.channel)!)).toBe('hello guest');
    r.device.reset();
    closeFd(conn!);
    closeFd(server);
  });

  it('a live cross-domain context cannot be snapshotted (its host connection cannot be saved)', async () => {
    const renderer = new RutabagaRenderer({ crossDomain: true });
    const r = rig(renderer);
    await context(r);
    expect(() => r.device.snapshot()).toThrow(/cannot snapshot 1 live cross-domain context/);
    expect(await send(r, cmd.ctxDestroy(1))).toBe(OK);
    expect(() => r.device.snapshot()).not.toThrow();
  });
});
