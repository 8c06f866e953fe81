/**
 * The backend against a scripted QEMU (FakeFrontend over FakeHost): QEMU 10's message sequence,
 * a guest driver on real split rings in the frontend's memory, kicks and calls through eventfds,
 * and QEMU's console fed over the display channel.
 */
import { GpuDriver, cmd, rect } from '@virtio-gpu/guest';
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

// ---- hostile frontends -------------------------------------------------------------------------

/** A connection that has done QEMU's handshake up to (not including) the memory table. */
async function negotiated(host: FakeHost): Promise<FakeFrontend> {
  const fe = new FakeFrontend(host, PATH);
  await fe.call(W.VHOST_USER_GET_FEATURES);
  fe.send(W.VHOST_USER_SET_PROTOCOL_FEATURES, FakeFrontend.u64(OFFERED_PROTOCOL_FEATURES));
  fe.send(W.VHOST_USER_SET_OWNER);
  return fe;
}

function raw(request: number, payload: Uint8Array, flags = W.VHOST_USER_VERSION): Uint8Array {
  const b = new Uint8Array(12 + payload.byteLength);
  const v = new DataView(b.buffer);
  v.setUint32(0, request, true);
  v.setUint32(4, flags, true);
  v.setUint32(8, payload.byteLength, true);
  b.set(payload, 12);
  return b;
}

/** Sends what `bad` sends, expects the connection closed with one error line, then a healthy boot on a new one. */
async function expectRejected(bad: (fe: FakeFrontend, host: FakeHost) => void | Promise<void>, why: RegExp): Promise<void> {
  const s = setup();
  const fe = await negotiated(s.host);
  await bad(fe, s.host);
  await until(() => s.closed.length === 1, 'the connection to close');
  const errors = s.logs.filter((l) => l.startsWith('error'));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(why);
  expect(errors[0]).toMatch(/closing the connection/);
  fe.quit();
  await tick();
  // Every descriptor the backend received is closed, every mapping gone.
  expect(s.host.liveMappings).toBe(0);
  expect(s.host.receivedOpen).toBe(0);
  // The server serves the next connection.
  const next = new FakeFrontend(s.host, PATH);
  await next.boot({ modes: [{ width: 64, height: 32, enabled: true }] });
  const r = await next.driver.send(cmd.getDisplayInfo());
  expect(r.type).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
  next.quit();
}

describe('hostile frontend: one log line, connection closed, next connection served', () => {
  it('a message with the reply flag', () => expectRejected((fe) => void fe.sock.send(raw(W.VHOST_USER_GET_FEATURES, new Uint8Array(0), 5)), /reply flag/));
  it('version 2', () => expectRejected((fe) => void fe.sock.send(raw(W.VHOST_USER_GET_FEATURES, new Uint8Array(0), 2)), /version 2/));
  it('a payload of 1 MiB announced', () => expectRejected((fe) => void fe.sock.send(raw(W.VHOST_USER_SET_MEM_TABLE, new Uint8Array(0)).map((b, i) => (i === 10 ? 0x10 : b))), /payload of 1048576 bytes/));
  it('an unknown request', () => expectRejected((fe) => fe.send(77, new Uint8Array(8)), /unsupported request 77/));
  it('SET_VRING_NUM 3', () => expectRejected((fe) => fe.send(W.VHOST_USER_SET_VRING_NUM, FakeFrontend.state(0, 3)), /power of 2/));
  it('a vring index the device does not have', () => expectRejected((fe) => fe.send(W.VHOST_USER_SET_VRING_NUM, FakeFrontend.state(2, 64)), /vring index 2/));
  it('SET_VRING_BASE beyond 16 bits', () => expectRejected((fe) => fe.send(W.VHOST_USER_SET_VRING_BASE, FakeFrontend.state(0, 0x10000)), /16 bits/));
  it('packed rings acked', () => expectRejected((fe) => fe.send(W.VHOST_USER_SET_FEATURES, FakeFrontend.u64(1n << 34n)), /not supported/));
  it('protocol features not offered', () => expectRejected((fe) => fe.send(W.VHOST_USER_SET_PROTOCOL_FEATURES, FakeFrontend.u64(1n << 1n)), /not offered/));
  it('descriptors on a message that takes none', () => expectRejected((fe, host) => fe.send(W.VHOST_USER_GET_QUEUE_NUM, undefined, [host.eventfd()]), /with 1 descriptors/));
  it('ADD_MEM_REG without its fd', () => expectRejected((fe) => fe.send(W.VHOST_USER_ADD_MEM_REG, FakeFrontend.memReg(0, 4096, 0x1000, 0)), /with 0 descriptors/));
  it('ADD_MEM_REG of an fd smaller than the region', () =>
    expectRejected((fe, host) => fe.send(W.VHOST_USER_ADD_MEM_REG, FakeFrontend.memReg(0, 1 << 20, 0x1000_0000, 0), [host.memfd(new ArrayBuffer(4096))]), /mmap/));
  it('overlapping regions', () =>
    expectRejected(async (fe, host) => {
      await fe.call(W.VHOST_USER_ADD_MEM_REG, FakeFrontend.memReg(0, 1 << 20, 0x1000_0000, 0), [host.memfd(new ArrayBuffer(1 << 20))], true);
      fe.send(W.VHOST_USER_ADD_MEM_REG, FakeFrontend.memReg(0x8_0000, 1 << 20, 0x2000_0000, 0), [host.memfd(new ArrayBuffer(1 << 20))]);
    }, /overlaps/));
  it('REM_MEM_REG of a region that does not exist', () => expectRejected((fe) => fe.send(W.VHOST_USER_REM_MEM_REG, FakeFrontend.memReg(0, 4096, 0x1000, 0)), /no region/));
  it('a ring outside the frontend memory', () =>
    expectRejected(async (fe, host) => {
      await fe.call(W.VHOST_USER_ADD_MEM_REG, FakeFrontend.memReg(0, 1 << 20, 0x1000_0000, 0), [host.memfd(new ArrayBuffer(1 << 20))], true);
      fe.send(W.VHOST_USER_SET_VRING_NUM, FakeFrontend.state(0, 64));
      fe.send(W.VHOST_USER_SET_VRING_ADDR, FakeFrontend.addr(0, 0x1000_0000 + (1 << 20) - 16, 0x1000_2000, 0x1000_3000));
      fe.send(W.VHOST_USER_SET_VRING_KICK, FakeFrontend.u64(0n), [host.eventfd()]);
    }, /not inside one memory region/));
  it('a misaligned descriptor table', () =>
    expectRejected(async (fe, host) => {
      await fe.call(W.VHOST_USER_ADD_MEM_REG, FakeFrontend.memReg(0, 1 << 20, 0x1000_0000, 0), [host.memfd(new ArrayBuffer(1 << 20))], true);
      fe.send(W.VHOST_USER_SET_VRING_NUM, FakeFrontend.state(0, 64));
      fe.send(W.VHOST_USER_SET_VRING_ADDR, FakeFrontend.addr(0, 0x1000_0008, 0x1000_2000, 0x1000_3000));
      fe.send(W.VHOST_USER_SET_VRING_KICK, FakeFrontend.u64(0n), [host.eventfd()]);
    }, /aligned/));
  it('(fuzz) a kick for a vring the device does not have: its eventfd is closed too', () =>
    expectRejected((fe, host) => fe.send(W.VHOST_USER_SET_VRING_KICK, FakeFrontend.u64(114n), [host.eventfd()]), /vring index 114/));
  it('(fuzz) a call descriptor that is a memfd, not an eventfd', () =>
    expectRejected((fe, host) => fe.send(W.VHOST_USER_SET_VRING_CALL, FakeFrontend.u64(0n), [host.memfd(new ArrayBuffer(4096))]), /SET_VRING_CALL: vring 0: the descriptor is not an eventfd/));
  it('a display channel descriptor that is an eventfd, not a socket', () =>
    expectRejected((fe, host) => fe.send(W.VHOST_USER_GPU_SET_SOCKET, undefined, [host.eventfd()]), /GPU_SET_SOCKET: fd \d+ is not a socket/));
  it('polling requested (kick without fd)', () => expectRejected((fe) => fe.send(W.VHOST_USER_SET_VRING_KICK, FakeFrontend.u64(0x100n)), /polling/));
  it('descriptors in the middle of a message', () =>
    expectRejected((fe, host) => {
      const m = raw(W.VHOST_USER_SET_FEATURES, FakeFrontend.u64(0n));
      fe.sock.send(m.subarray(0, 14));
      fe.sock.send(m.subarray(14), [host.eventfd()]);
    }, /middle of a message/));
  it('a garbled display channel reply', () =>
    expectRejected(async (fe, host) => {
      const [qemuEnd, backendEnd] = host.socketPair();
      fe.send(W.VHOST_USER_GPU_SET_SOCKET, undefined, [backendEnd.fd]);
      backendEnd.close();
      await tick();
      const b = new Uint8Array(12);
      new DataView(b.buffer).setUint32(0, 3, true); // a reply without the reply flag
      qemuEnd.send(b);
    }, /display channel: message 3 without the reply flag/));

  it('REPLY_ACK: a request asking for a reply gets 0 (success)', async () => {
    const s = setup();
    const fe = await negotiated(s.host);
    const r = await fe.call(W.VHOST_USER_SET_OWNER, undefined, undefined, true);
    expect(r.request).toBe(W.VHOST_USER_SET_OWNER);
    expect(FakeFrontend.replyU64(r)).toBe(0n);
    fe.quit();
  });

  it('GET_CONFIG beyond virtio_gpu_config: an empty reply (the protocol\'s error), the connection stays', async () => {
    const s = setup();
    const fe = await negotiated(s.host);
    const r = await fe.call(W.VHOST_USER_GET_CONFIG, FakeFrontend.config(8, 16));
    expect(r.payload.byteLength).toBe(0);
    const ok = await fe.call(W.VHOST_USER_GET_QUEUE_NUM);
    expect(FakeFrontend.replyU64(ok)).toBe(2n);
    expect(s.closed).toHaveLength(0);
    fe.quit();
  });

  it('frontend features it was not offered (QEMU passes the guest\'s) are ignored with a log line', async () => {
    const s = setup();
    const fe = await negotiated(s.host);
    fe.send(W.VHOST_USER_SET_FEATURES, FakeFrontend.u64((1n << 32n) | (1n << 40n)));
    await fe.call(W.VHOST_USER_GET_QUEUE_NUM);
    expect(s.closed).toHaveLength(0);
    expect(s.logs.join('\n')).toMatch(/acked features 0x10000000000 it was not offered; ignored/);
    fe.quit();
  });
});

// ---- lifecycle ---------------------------------------------------------------------------------

/** Boot, show a 64x32 picture, and return the frontend. */
async function running(s: Setup): Promise<FakeFrontend> {
  const fe = new FakeFrontend(s.host, PATH);
  await fe.boot({ modes: [{ width: 64, height: 32, enabled: true }] });
  await fe.driver.send(cmd.getDisplayInfo());
  await showImage(fe, 1, 64, 32, pattern);
  return fe;
}

describe('connection lifecycle', () => {
  it('VM paused and resumed (rings stopped, restarted at the reported indexes): resources kept', async () => {
    const s = setup();
    const fe = await running(s);
    const device = s.server.backend!.device;
    expect(device.resourceCount).toBe(1);
    const bases = [await fe.stopRing(0), await fe.stopRing(1)];
    expect(bases[0]).toBeGreaterThan(0);
    fe.startRing(0, bases[0]);
    fe.startRing(1, bases[1]);
    for (let i = 0; i < 2; i++) await fe.call(W.VHOST_USER_SET_VRING_ENABLE, FakeFrontend.state(i, 1), undefined, true);
    expect((await fe.driver.send(cmd.resourceFlush(1, rect(0, 0, 64, 32)))).type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
    expect(device.resourceCount).toBe(1);
    expect(s.logs.join('\n')).not.toMatch(/device reset/);
    fe.quit();
  });

  it('guest driver restarted (a ring restarted at index 0): the device is reset before it runs', async () => {
    const s = setup();
    const fe = await running(s);
    const device = s.server.backend!.device;
    await fe.stopRing(0);
    await fe.stopRing(1);
    // The "rebooted" guest's driver: fresh rings from index 0 over the same memory.
    fe.driver = new GpuDriver({ ram: fe.ram, transport: { notify: (q) => s.host.kick(fe.kickFds[q]) }, queueSize: 64 });
    fe.startRing(0, 0);
    fe.startRing(1, 0);
    for (let i = 0; i < 2; i++) await fe.call(W.VHOST_USER_SET_VRING_ENABLE, FakeFrontend.state(i, 1), undefined, true);
    expect(device.resourceCount).toBe(0);
    expect(s.logs.join('\n')).toMatch(/device reset \(a ring restarted at a new index\), 1 resources released/);
    // Resource id 1 is free again for the new driver.
    await showImage(fe, 1, 64, 32, pattern);
    fe.quit();
  });

  it('RESET_DEVICE releases every resource', async () => {
    const s = setup();
    const fe = await running(s);
    fe.send(W.VHOST_USER_RESET_DEVICE);
    await fe.call(W.VHOST_USER_GET_QUEUE_NUM);
    expect(s.server.backend!.device.resourceCount).toBe(0);
    expect(s.logs.join('\n')).toMatch(/device reset \(RESET_DEVICE\)/);
    fe.quit();
  });

  it('QEMU closes the display channel and hands over a new one: the picture is sent again', async () => {
    const s = setup();
    const fe = await running(s);
    fe.console.sock.close();
    await tick();
    expect(s.closed).toHaveLength(0);
    const [qemuEnd, backendEnd] = s.host.socketPair();
    const c2 = new FakeConsole(qemuEnd, s.host);
    fe.send(W.VHOST_USER_GPU_SET_SOCKET, undefined, [backendEnd.fd]);
    backendEnd.close();
    await until(() => c2.surfaces[0] !== undefined && (s.server.backend?.display.busy ?? true) === false && c2.count(8) > 0, 'the new console to get the picture');
    await tick();
    expectSurface(c2, 64, 32, pattern);
    fe.quit();
  });

  it('20 connect/disconnect cycles: no descriptor or mapping left behind', async () => {
    const s = setup();
    for (let i = 0; i < 20; i++) {
      const fe = await running(s);
      fe.quit();
      await until(() => s.closed.length === i + 1, `connection ${i + 1} to end`);
      expect(s.host.receivedOpen, `cycle ${i + 1}: descriptors the backend still holds`).toBe(0);
      expect(s.host.liveMappings, `cycle ${i + 1}: mappings`).toBe(0);
    }
    expect(s.server.connections).toBe(20);
    expect(s.closed.every((e) => e === null)).toBe(true);
  });

  it('a second frontend while one is served is refused; the first keeps working', async () => {
    const s = setup();
    const fe = await running(s);
    const other = s.host.connect(PATH);
    await until(() => other.peerClosed, 'the second connection to be closed');
    expect(s.logs.join('\n')).toMatch(/connection 2 refused/);
    expect((await fe.driver.send(cmd.resourceFlush(1, rect(0, 0, 8, 8)))).type).toBe(P.VIRTIO_GPU_RESP_OK_NODATA);
    other.close();
    fe.quit();
  });

  it('a guest that keeps the queue full does not starve the socket: a request is answered mid-flood', async () => {
    const s = setup({ budget: 2 });
    const fe = await running(s);
    fe.driver.batching = true;
    const pending = [];
    for (let i = 0; i < 30; i++) pending.push(fe.driver.send(cmd.resourceFlush(1, rect(0, 0, 8, 8))));
    fe.driver.kick(0);
    const r = await fe.call(W.VHOST_USER_GET_QUEUE_NUM);
    expect(FakeFrontend.replyU64(r)).toBe(2n);
    expect(fe.driver.inFlight, 'commands still unanswered when the reply came').toBeGreaterThan(0);
    const all = await Promise.all(pending);
    expect(all.every((x) => x.type === P.VIRTIO_GPU_RESP_OK_NODATA)).toBe(true);
    fe.quit();
  });
});
