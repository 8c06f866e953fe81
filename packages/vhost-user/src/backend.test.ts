/**
 * The backend against a scripted QEMU (FakeFrontend over FakeHost): QEMU 10's message sequence,
 * a guest driver on real split rings in the frontend's memory, kicks and calls through eventfds,
 * and QEMU's console fed over the display channel.
 */
import { cmd, rect } from '@virtio-gpu/guest';
import * as P from '@virtio-gpu/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { OFFERED_PROTOCOL_FEATURES } from './backend.js';
import { VhostUserServer } from './server.js';
import { FakeHost } from './testing/fake-host.js';
import { FakeConsole, FakeFrontend } from './testing/fake-frontend.js';
import * as W from './wire.js';

const PATH = '/fake/vgpu.sock';
const tick = () => new Promise<void>((r) => setImmediate(r));
async function until(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

interface Setup {
  host: FakeHost;
  server: VhostUserServer;
  logs: string[];
  closed: (string | null)[];
}

let current: Setup | null = null;

function setup(opts: { numScanouts?: number; stripBytes?: number; budget?: number } = {}): Setup {
  const host = new FakeHost();
  const logs: string[] = [];
  const closed: (string | null)[] = [];
  const server = new VhostUserServer({
    host,
    path: PATH,
    numScanouts: opts.numScanouts ?? 1,
    stripBytes: opts.stripBytes,
    budget: opts.budget,
    log: (l, m) => logs.push(`${l}: ${m}`),
    onConnectionClosed: (_id, e) => closed.push(e),
  });
  server.listen();
  current = { host, server, logs, closed };
  return current;
}

afterEach(() => {
  current?.server.close();
  current = null;
});

/** A 2D resource with its backing filled by `paint(x, y) -> BGRX u32`, shown on scanout 0. */
async function showImage(fe: FakeFrontend, id: number, w: number, h: number, paint: (x: number, y: number) => number): Promise<void> {
  const d = fe.driver;
  const ok = async (p: Promise<P.Response>) => expect((await p).type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
  await ok(d.send(cmd.resourceCreate2d(id, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, w, h)));
  const entries = fe.ram.allocScattered(w * h * 4);
  const img = new Uint8Array(w * h * 4);
  const v = new DataView(img.buffer);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) v.setUint32((y * w + x) * 4, paint(x, y), true);
  fe.ram.writeEntries(entries, 0, img);
  await ok(d.send(cmd.attachBacking(id, entries)));
  await ok(d.send(cmd.transferToHost2d(id, rect(0, 0, w, h))));
  await ok(d.send(cmd.setScanout(0, id, rect(0, 0, w, h))));
  await ok(d.send(cmd.resourceFlush(id, rect(0, 0, w, h))));
}

function expectSurface(c: FakeConsole, w: number, h: number, paint: (x: number, y: number) => number): void {
  const s = c.surfaces[0];
  expect(s, 'console surface').toBeTruthy();
  expect([s!.width, s!.height]).toEqual([w, h]);
  const v = new DataView(s!.pixels.buffer);
  let bad = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (v.getUint32((y * w + x) * 4, true) !== paint(x, y) >>> 0) bad++;
  expect(bad, 'pixels that differ').toBe(0);
}

const pattern = (x: number, y: number) => (((x * 7) & 0xff) | ((y & 0xff) << 8) | (((x ^ y) & 0xff) << 16)) >>> 0;

describe('QEMU 10 boot sequence', () => {
  it('negotiates, starts both rings, answers the guest and puts its frame on the console pixel for pixel', async () => {
    const { host } = setup({ stripBytes: 4096 });
    const fe = new FakeFrontend(host, PATH);
    await fe.boot({ modes: [{ width: 320, height: 200, enabled: true }] }).catch((e) => { throw new Error(`${e}\n${current!.logs.join("\n")}`); });
    expect(fe.features & (1n << 32n)).not.toBe(0n); // VERSION_1 offered and acked
    const info = await fe.driver.send(cmd.getDisplayInfo());
    if (info.type !== P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO) throw new Error('type');
    expect(info.pmodes[0]).toMatchObject({ r: { width: 320, height: 200 }, enabled: 1 });
    const edid = await fe.driver.send(cmd.getEdid(0));
    if (edid.type !== P.VIRTIO_GPU_RESP_OK_EDID) throw new Error('type');
    expect([...edid.edid.subarray(0, edid.size)]).toEqual([...FakeConsole.edidFor(0, 320, 200)]);
    await showImage(fe, 1, 320, 200, pattern);
    await until(() => (fe.console.surfaces[0] ? true : false) && fe.console.count(8) >= Math.ceil((320 * 200 * 4) / 4096), 'updates');
    await until(() => current!.server.backend!.display.stats.updateBytes >= 320 * 200 * 4, 'all pixels');
    await tick();
    expect(fe.console.errors).toEqual([]);
    expectSurface(fe.console, 320, 200, pattern);
    // Strips: each UPDATE carries at most 4096 bytes of pixels (whole rows); one SCANOUT.
    expect(fe.console.maxUpdateBytes).toBe(3 * 320 * 4);
    expect(fe.console.count(7)).toBe(1);
  });

  it('GET_CONFIG answers virtio_gpu_config: num_scanouts from --outputs', async () => {
    const { host } = setup({ numScanouts: 3 });
    const fe = new FakeFrontend(host, PATH);
    await fe.call(W.VHOST_USER_GET_PROTOCOL_FEATURES);
    fe.send(W.VHOST_USER_SET_PROTOCOL_FEATURES, FakeFrontend.u64(OFFERED_PROTOCOL_FEATURES));
    const r = await fe.call(W.VHOST_USER_GET_CONFIG, FakeFrontend.config(0, 16));
    const v = new DataView(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength);
    expect(v.getUint32(4, true)).toBe(16);
    expect(v.getUint32(12 + 8, true)).toBe(3);
  });
});
