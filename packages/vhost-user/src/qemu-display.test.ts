/**
 * The display sink against a console that behaves like QEMU 10's vhost-user-gpu display code
 * (FakeConsole), over an in-memory socket whose buffer size the tests choose.
 */
import type { ScanoutConfig } from '@virtio-gpu/device';
import { describe, expect, it } from 'vitest';
import { DisplayChannel } from './display-channel.js';
import * as G from './gpu-wire.js';
import { QemuDisplay, type QemuDisplayOptions } from './qemu-display.js';
import { FakeHost } from './testing/fake-host.js';
import { FakeConsole } from './testing/fake-frontend.js';

const settle = async (turns = 50) => {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
};

/** A guest frame buffer per scanout: B8G8R8X8 words the test paints. */
class Frames {
  readonly fb = new Map<number, { w: number; h: number; px: Uint32Array }>();
  set(id: number, w: number, h: number, paint: (x: number, y: number) => number): void {
    const px = new Uint32Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px[y * w + x] = paint(x, y);
    this.fb.set(id, { w, h, px });
  }
  read = (id: number, r: { x: number; y: number; width: number; height: number }, dst: Uint8Array, stride: number): boolean => {
    const f = this.fb.get(id);
    if (!f) return false;
    const out = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
    for (let y = 0; y < r.height; y++) for (let x = 0; x < r.width; x++) out.setUint32(y * stride + x * 4, f.px[(r.y + y) * f.w + r.x + x], true);
    return true;
  };
}

function setup(opts: Partial<QemuDisplayOptions> & { capacity?: number } = {}) {
  const host = new FakeHost();
  const [qemuEnd, ourEnd] = host.socketPair();
  if (opts.capacity) qemuEnd.capacity = opts.capacity;
  const console = new FakeConsole(qemuEnd, host);
  const frames = new Frames();
  const applied: ScanoutConfig[][] = [];
  const logs: string[] = [];
  let closedWith: string | null | undefined;
  const display = new QemuDisplay({
    numScanouts: 2,
    readPixels: frames.read,
    applyModes: (c) => void applied.push(c),
    log: (l, m) => logs.push(`${l} ${m}`),
    maxFps: 0,
    ...opts,
  });
  const channel = new DisplayChannel(ourEnd, { drained: () => display.drained(), closed: (e) => (closedWith = e) }, (fd) => host.close(fd), 200);
  display.attach(channel);
  return { host, console, frames, display, channel, applied, logs, closed: () => closedWith };
}

const info = (w: number, h: number) => ({ resourceId: 1, width: w, height: h, r: { x: 0, y: 0, width: w, height: h } });
const full = (w: number, h: number) => ({ x: 0, y: 0, width: w, height: h });

function surfaceWords(c: FakeConsole, id = 0): number[] {
  const s = c.surfaces[id]!;
  return [...new Uint32Array(s.pixels.buffer)];
}

describe('QemuDisplay', () => {
  it('SCANOUT once per size; a resource switch of the same size sends pixels, not a new surface', async () => {
    const { console, frames, display } = setup();
    frames.set(0, 8, 4, () => 0x00112233);
    display.scanoutChanged(0, info(8, 4));
    display.flushed(0, full(8, 4));
    await settle();
    expect(console.count(G.VHOST_USER_GPU_SCANOUT)).toBe(1);
    frames.set(0, 8, 4, () => 0x00445566);
    display.scanoutChanged(0, { ...info(8, 4), resourceId: 2 });
    await settle();
    expect(console.count(G.VHOST_USER_GPU_SCANOUT)).toBe(1);
    expect(new Set(surfaceWords(console))).toEqual(new Set([0x00445566]));
    display.scanoutChanged(0, info(4, 4));
    frames.set(0, 4, 4, () => 7);
    await settle();
    expect(console.count(G.VHOST_USER_GPU_SCANOUT)).toBe(2);
    expect(console.surfaces[0]!.width).toBe(4);
    expect(console.errors).toEqual([]);
  });

  it('no UPDATE ever precedes a scanout\'s SCANOUT (QEMU would dereference a missing surface)', async () => {
    const { console, frames, display } = setup();
    frames.set(1, 4, 4, () => 1);
    display.flushed(1, full(4, 4)); // not shown yet: ignored
    await settle();
    expect(console.count(G.VHOST_USER_GPU_UPDATE)).toBe(0);
    display.scanoutChanged(1, info(4, 4));
    await settle();
    expect(console.errors).toEqual([]);
    expect(console.count(G.VHOST_USER_GPU_UPDATE)).toBeGreaterThan(0);
  });

  it('updates go in strips of whole rows no larger than stripBytes', async () => {
    const { console, frames, display } = setup({ stripBytes: 3 * 40 * 4 });
    frames.set(0, 40, 10, (x, y) => x + y * 40);
    display.scanoutChanged(0, info(40, 10));
    await settle();
    expect(console.count(G.VHOST_USER_GPU_UPDATE)).toBe(4); // 3 + 3 + 3 + 1 rows
    expect(console.maxUpdateBytes).toBe(3 * 40 * 4);
    expect(surfaceWords(console)).toEqual([...frames.fb.get(0)!.px]);
  });

  it('while the socket is full, flushes merge: QEMU gets the newest pixels, not every frame', async () => {
    const { console, frames, display } = setup({ capacity: 2000 });
    display.scanoutChanged(0, info(32, 32));
    for (let f = 1; f <= 50; f++) {
      frames.set(0, 32, 32, () => f);
      display.flushed(0, full(32, 32));
      await new Promise<void>((r) => setImmediate(r));
    }
    await settle(400);
    expect(new Set(surfaceWords(console))).toEqual(new Set([50]));
    expect(display.stats.updateBytes).toBeLessThan(50 * 32 * 32 * 4);
    expect(display.stats.coalescedFlushes).toBeGreaterThan(0);
  });

  it('maxFps: a second round within 1/maxFps waits for its turn, then carries the newest pixels', async () => {
    let t = 1000;
    const { console, frames, display } = setup({ maxFps: 10, now: () => t });
    frames.set(0, 4, 4, () => 1);
    display.scanoutChanged(0, info(4, 4));
    await settle();
    const after1 = console.count(G.VHOST_USER_GPU_UPDATE);
    frames.set(0, 4, 4, () => 2);
    display.flushed(0, full(4, 4));
    t += 50; // half a frame period
    await settle();
    expect(console.count(G.VHOST_USER_GPU_UPDATE)).toBe(after1);
    t += 60;
    await new Promise((r) => setTimeout(r, 120));
    await settle();
    expect(console.count(G.VHOST_USER_GPU_UPDATE)).toBe(after1 + 1);
    expect(new Set(surfaceWords(console))).toEqual(new Set([2]));
  });

  it('cursor: image as CURSOR_UPDATE, moves as CURSOR_POS, hidden as CURSOR_POS_HIDE', async () => {
    const { console, display } = setup();
    display.cursorChanged({ scanoutId: 0, x: 1, y: 2, hotX: 0, hotY: 0, resourceId: 5, image: new Uint8Array(64 * 64 * 4) });
    await settle();
    display.cursorChanged({ scanoutId: 0, x: 3, y: 4, hotX: 0, hotY: 0, resourceId: 5 });
    await settle();
    display.cursorChanged({ scanoutId: 0, x: 3, y: 4, hotX: 0, hotY: 0, resourceId: 0 });
    await settle();
    expect([console.count(G.VHOST_USER_GPU_CURSOR_UPDATE), console.count(G.VHOST_USER_GPU_CURSOR_POS), console.count(G.VHOST_USER_GPU_CURSOR_POS_HIDE)]).toEqual([1, 1, 1]);
  });

  it('refresh: QEMU\'s modes and EDIDs become the device\'s scanout configuration (applied once per change)', async () => {
    const { console, display, applied } = setup();
    console.modes = [{ width: 1024, height: 768, enabled: true }, { width: 0, height: 0, enabled: false }];
    expect(await display.refresh()).toBe(true);
    expect(await display.refresh()).toBe(true);
    expect(applied).toHaveLength(1);
    expect(applied[0][0]).toMatchObject({ width: 1024, height: 768, enabled: true });
    expect([...applied[0][0].edid!]).toEqual([...FakeConsole.edidFor(0, 1024, 768)]);
    expect(applied[0][1]).toMatchObject({ enabled: false });
    expect(applied[0][1].edid).toBeUndefined();
    console.modes = [{ width: 800, height: 600, enabled: true }];
    await display.refresh();
    expect(applied).toHaveLength(2);
  });

  it('refresh against a QEMU that does not answer: resolves false after the reply timeout, the channel stays up', async () => {
    const { console, display, logs, channel } = setup();
    console.silent = true;
    expect(await display.refresh()).toBe(false);
    expect(logs.join('\n')).toMatch(/did not answer GET_DISPLAY_INFO/);
    expect(channel.closed).toBe(false);
  });

  it('a reply QEMU was not asked for closes the channel with the reason', async () => {
    const { console, closed, channel } = setup();
    await settle();
    const b = new Uint8Array(12 + 408);
    new DataView(b.buffer).setUint32(0, G.VHOST_USER_GPU_GET_DISPLAY_INFO, true);
    new DataView(b.buffer).setUint32(4, G.VHOST_USER_GPU_MSG_FLAG_REPLY, true);
    new DataView(b.buffer).setUint32(8, 408, true);
    console.sock.send(b);
    await settle();
    expect(channel.closed).toBe(true);
    expect(closed()).toMatch(/unexpected reply to GET_DISPLAY_INFO/);
  });

  it('a new channel (guest reboot, VM resumed) gets every shown scanout again', async () => {
    const { host, frames, display } = setup();
    frames.set(0, 4, 4, () => 9);
    display.scanoutChanged(0, info(4, 4));
    await settle();
    const [q2, o2] = host.socketPair();
    const c2 = new FakeConsole(q2, host);
    display.attach(new DisplayChannel(o2, { drained: () => display.drained(), closed: () => {} }, (fd) => host.close(fd)));
    await settle();
    expect(c2.count(G.VHOST_USER_GPU_SCANOUT)).toBe(1);
    expect(new Set(surfaceWords(c2))).toEqual(new Set([9]));
  });

  it('busy/onIdle: set by a flush, cleared once its pixels are all with the socket', async () => {
    let idle = 0;
    const { frames, display } = setup({ onIdle: () => idle++, capacity: 100 });
    frames.set(0, 16, 16, () => 3);
    display.scanoutChanged(0, info(16, 16));
    display.flushed(0, full(16, 16));
    expect(display.busy).toBe(true);
    await settle(300);
    expect(display.busy).toBe(false);
    expect(idle).toBe(1);
  });
});
