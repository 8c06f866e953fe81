/**
 * Every command's success path, driven through GpuDriver and the real split queues: the device
 * sees only what a guest would put in its rings, and answers through the used ring.
 */
import * as P from '@virtio-gpu/protocol';
import { cmd, rect } from '@virtio-gpu/guest';
import { describe, expect, it } from 'vitest';
import { FakeRegion } from '../../packages/device/test/fake-renderer';
import { RAM_BASE, backed2d, buildGpu, pattern, scanoutPixels, sendOk, sendType, settle } from '../support/gpu';
import { TestRenderer3D, fill3d } from '../support/renderer3d';

type R<T extends number> = Extract<P.Response, { type: T }>;
const OK = P.VIRTIO_GPU_RESP_OK_NODATA;

/** The eight formats and their bytes in memory, first to last ('X' is unused alpha). */
const FORMATS: [string, number, string][] = [
  ['B8G8R8A8', P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 'BGRA'],
  ['B8G8R8X8', P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 'BGRX'],
  ['A8R8G8B8', P.VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, 'ARGB'],
  ['X8R8G8B8', P.VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, 'XRGB'],
  ['R8G8B8A8', P.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, 'RGBA'],
  ['X8B8G8R8', P.VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, 'XBGR'],
  ['A8B8G8R8', P.VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, 'ABGR'],
  ['R8G8B8X8', P.VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, 'RGBX'],
];

/** RGBA8 of guest pixels stored in byte order `order`; `opaque` forces alpha 255 (Display). */
function toRgba(src: Uint8Array, order: string, opaque = false): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let p = 0; p < src.length; p += 4) {
    for (const [i, ch] of ['R', 'G', 'B', 'A'].entries()) {
      const at = order.indexOf(ch);
      out[p + i] = at < 0 ? 255 : src[p + at]!;
    }
    if (opaque) out[p + 3] = 255;
  }
  return out;
}

describe('display queries', () => {
  it('GET_DISPLAY_INFO -> the configured scanouts, enabled, the rest zero', async () => {
    const g = buildGpu({ scanouts: [{ width: 640, height: 480 }, { width: 320, height: 200, x: 640, y: 0 }, { width: 100, height: 50, enabled: false }] });
    const r = (await g.driver.send(cmd.getDisplayInfo())) as R<typeof P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO>;
    expect(r.type).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
    expect(r.pmodes).toHaveLength(16);
    expect(r.pmodes[0]).toEqual({ r: rect(0, 0, 640, 480), enabled: 1, flags: 0 });
    expect(r.pmodes[1]).toEqual({ r: rect(640, 0, 320, 200), enabled: 1, flags: 0 });
    expect(r.pmodes[2]).toMatchObject({ r: rect(0, 0, 100, 50), enabled: 0 });
    for (const m of r.pmodes.slice(3)) expect(m).toEqual({ r: rect(0, 0, 0, 0), enabled: 0, flags: 0 });
  });

  it('GET_EDID -> 128-byte EDID 1.4 with header, checksum and the scanout size as preferred timing', async () => {
    const g = buildGpu({ scanouts: [{ width: 64, height: 48 }, { width: 1920, height: 1080 }] });
    const r = (await g.driver.send(cmd.getEdid(1))) as R<typeof P.VIRTIO_GPU_RESP_OK_EDID>;
    expect(r.type).toBe(P.VIRTIO_GPU_RESP_OK_EDID);
    expect(r.size).toBe(128);
    const e = r.edid.subarray(0, 128);
    expect([...e.subarray(0, 8)]).toEqual([0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]);
    expect([e[18], e[19]]).toEqual([1, 4]);
    expect(e.reduce((s, b) => s + b, 0) % 256).toBe(0);
    const dtd = 54;
    expect(e[dtd]! | (e[dtd + 1]! << 8)).toBeGreaterThan(0); // pixel clock: a timing, not a descriptor
    expect(e[dtd + 2]! | ((e[dtd + 4]! >> 4) << 8)).toBe(1920);
    expect(e[dtd + 5]! | ((e[dtd + 7]! >> 4) << 8)).toBe(1080);
  });
});

describe('hotplug', () => {
  it('host resizes a scanout -> config interrupt with VIRTIO_GPU_EVENT_DISPLAY; GET_DISPLAY_INFO and GET_EDID show the new mode', async () => {
    const g = buildGpu({ scanouts: [{ width: 64, height: 48 }] });
    g.device.resizeScanout(0, 800, 600);
    expect(g.interrupts.at(-1)).toEqual({ cause: 'config', queueIndex: undefined });
    expect(g.device.readConfig(0, 4) & P.VIRTIO_GPU_EVENT_DISPLAY).toBe(P.VIRTIO_GPU_EVENT_DISPLAY);
    const info = (await g.driver.send(cmd.getDisplayInfo())) as R<typeof P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO>;
    expect(info.pmodes[0]!.r).toEqual(rect(0, 0, 800, 600));
    const e = ((await g.driver.send(cmd.getEdid(0))) as R<typeof P.VIRTIO_GPU_RESP_OK_EDID>).edid;
    expect(e[56]! | ((e[58]! >> 4) << 8)).toBe(800);
    g.device.writeConfig(4, 4, P.VIRTIO_GPU_EVENT_DISPLAY); // events_clear
    expect(g.device.readConfig(0, 4)).toBe(0);
  });
});

describe('RESOURCE_CREATE_2D formats', () => {
  it.each(FORMATS)('%s -> OK; scanout readback converts the guest bytes to RGBA8', async (_n, format, order) => {
    const g = buildGpu({ scanouts: [{ width: 8, height: 4 }] });
    const px = pattern(8 * 4 * 4, format);
    await backed2d(g, 1, 8, 4, format, px);
    await sendOk(g, cmd.setScanout(0, 1, rect(0, 0, 8, 4)));
    expect(scanoutPixels(g, 0, 8, 4)).toEqual(toRgba(px, order));
    expect(g.display.surface(0)!.data).toEqual(toRgba(px, order, true));
  });
});

describe('resources and backing', () => {
  it('RESOURCE_UNREF -> OK; the id is free again and its quota released', async () => {
    const g = buildGpu();
    await backed2d(g, 5, 16, 16);
    expect(g.device.hostBytesUsed).toBeGreaterThanOrEqual(16 * 16 * 4);
    await sendOk(g, cmd.resourceUnref(5));
    expect(g.device.resourceCount).toBe(0);
    expect(g.device.hostBytesUsed).toBe(0);
    await sendOk(g, cmd.resourceCreate2d(5, P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 4, 4));
  });

  it('RESOURCE_UNREF of the shown resource -> OK and the scanout goes dark', async () => {
    const g = buildGpu({ scanouts: [{ width: 8, height: 8 }] });
    await backed2d(g, 1, 8, 8);
    await sendOk(g, cmd.setScanout(0, 1, rect(0, 0, 8, 8)));
    await sendOk(g, cmd.resourceUnref(1));
    expect(g.display.surface(0)).toBeUndefined();
  });

  it('ATTACH_BACKING with single pages alternating between two RAM regions -> transfers gather them in order', async () => {
    const HIGH = 0x1_0000_0000;
    const g = buildGpu({ regions: [{ gpa: RAM_BASE, bytes: 8 << 20 }, { gpa: HIGH, bytes: 8 << 20 }], scanouts: [{ width: 64, height: 64 }] });
    const pages = Array.from({ length: 64 }, () => g.ram.allocScattered(4096)[0]!);
    const low = pages.filter((e) => e.addr < BigInt(HIGH)).reverse();
    const high = pages.filter((e) => e.addr >= BigInt(HIGH));
    expect(Math.min(low.length, high.length)).toBeGreaterThanOrEqual(8);
    const entries = Array.from({ length: 16 }, (_, i) => (i % 2 ? high[i >> 1]! : low[i >> 1]!));
    const px = pattern(64 * 64 * 4, 3);
    g.ram.writeEntries(entries, 0, px);
    await sendOk(g, cmd.resourceCreate2d(1, P.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, 64, 64));
    await sendOk(g, cmd.attachBacking(1, entries));
    await sendOk(g, cmd.transferToHost2d(1, rect(0, 0, 64, 64)));
    await sendOk(g, cmd.setScanout(0, 1, rect(0, 0, 64, 64)));
    expect(scanoutPixels(g, 0, 64, 64)).toEqual(px);
  });

  it('ATTACH_BACKING with one entry spanning the boundary of two adjacent regions -> OK, bytes from both', async () => {
    const A = 1 << 20;
    const g = buildGpu({ regions: [{ gpa: RAM_BASE, bytes: A }, { gpa: RAM_BASE + A, bytes: A }], scanouts: [{ width: 16, height: 16 }] });
    const px = pattern(16 * 16 * 4, 4);
    const at = RAM_BASE + A - 512; // 512 bytes in the first region, the rest in the second
    g.ram.write(at, px);
    await sendOk(g, cmd.resourceCreate2d(1, P.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, 16, 16));
    await sendOk(g, cmd.attachBacking(1, [{ addr: BigInt(at), length: px.length }]));
    await sendOk(g, cmd.transferToHost2d(1, rect(0, 0, 16, 16)));
    await sendOk(g, cmd.setScanout(0, 1, rect(0, 0, 16, 16)));
    expect(scanoutPixels(g, 0, 16, 16)).toEqual(px);
  });

  it('DETACH_BACKING -> OK; later guest writes no longer reach the resource; re-attach works', async () => {
    const g = buildGpu({ scanouts: [{ width: 8, height: 8 }] });
    const px = pattern(8 * 8 * 4, 5);
    const entries = await backed2d(g, 1, 8, 8, P.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, px);
    await sendOk(g, cmd.detachBacking(1));
    g.ram.writeEntries(entries, 0, new Uint8Array(px.length));
    expect(await sendType(g, cmd.transferToHost2d(1, rect(0, 0, 8, 8)))).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
    await sendOk(g, cmd.setScanout(0, 1, rect(0, 0, 8, 8)));
    expect(scanoutPixels(g, 0, 8, 8)).toEqual(px);
    await sendOk(g, cmd.attachBacking(1, entries));
    await sendOk(g, cmd.transferToHost2d(1, rect(0, 0, 8, 8)));
    expect(scanoutPixels(g, 0, 8, 8)).toEqual(new Uint8Array(px.length));
  });
});

describe('TRANSFER_TO_HOST_2D and RESOURCE_FLUSH', () => {
  const W = 32;
  const H = 24;
  async function shown(g: ReturnType<typeof buildGpu>) {
    const entries = await backed2d(g, 1, W, H, P.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, new Uint8Array(W * H * 4));
    await sendOk(g, cmd.setScanout(0, 1, rect(0, 0, W, H)));
    return entries;
  }

  it('full transfer -> every pixel of the backing in the resource', async () => {
    const g = buildGpu({ scanouts: [{ width: W, height: H }] });
    const entries = await shown(g);
    const px = pattern(W * H * 4, 6);
    g.ram.writeEntries(entries, 0, px);
    await sendOk(g, cmd.transferToHost2d(1, rect(0, 0, W, H)));
    expect(scanoutPixels(g, 0, W, H)).toEqual(px);
  });

  it('partial transfer with offset = y*stride + x*bpp -> only that rect changes', async () => {
    const g = buildGpu({ scanouts: [{ width: W, height: H }] });
    const entries = await shown(g);
    const px = pattern(W * H * 4, 7);
    g.ram.writeEntries(entries, 0, px);
    const r = rect(5, 3, 10, 7);
    await sendOk(g, cmd.transferToHost2d(1, r, r.y * W * 4 + r.x * 4));
    const want = new Uint8Array(W * H * 4);
    for (let y = r.y; y < r.y + r.height; y++) want.set(px.subarray((y * W + r.x) * 4, (y * W + r.x + r.width) * 4), (y * W + r.x) * 4);
    expect(scanoutPixels(g, 0, W, H)).toEqual(want);
  });

  it('partial transfer from a packed buffer at another offset -> rows read stride apart from there', async () => {
    const g = buildGpu({ scanouts: [{ width: W, height: H }] });
    const entries = await shown(g);
    const px = pattern(W * H * 4, 8);
    g.ram.writeEntries(entries, 0, px);
    // Rect (2,2) 4x3 taken from backing offset 100: row h comes from 100 + h * W*4.
    await sendOk(g, cmd.transferToHost2d(1, rect(2, 2, 4, 3), 100));
    const got = scanoutPixels(g, 0, W, H);
    for (let h = 0; h < 3; h++) {
      expect(got.subarray(((2 + h) * W + 2) * 4, ((2 + h) * W + 6) * 4)).toEqual(px.subarray(100 + h * W * 4, 100 + h * W * 4 + 16));
    }
  });

  it('RESOURCE_FLUSH -> the Display surface equals the guest pixels (flush copies, transfer alone does not)', async () => {
    const g = buildGpu({ scanouts: [{ width: W, height: H }] });
    const entries = await shown(g);
    const px = pattern(W * H * 4, 9);
    for (let i = 3; i < px.length; i += 4) px[i] = 255;
    g.ram.writeEntries(entries, 0, px);
    await sendOk(g, cmd.transferToHost2d(1, rect(0, 0, W, H)));
    expect(g.display.surface(0)!.data).not.toEqual(px);
    await sendOk(g, cmd.resourceFlush(1, rect(0, 0, W, H)));
    expect(g.display.surface(0)!.data).toEqual(px);
  });

  it('RESOURCE_FLUSH of a sub-rect -> Display damage is that rect in scanout coordinates', async () => {
    const g = buildGpu({ scanouts: [{ width: 16, height: 16 }] });
    await backed2d(g, 1, W, H);
    await sendOk(g, cmd.setScanout(0, 1, rect(8, 4, 16, 16)));
    g.display.takeDamage(0);
    await sendOk(g, cmd.resourceFlush(1, rect(10, 6, 4, 4)));
    expect(g.display.takeDamage(0)).toEqual([rect(2, 2, 4, 4)]);
  });
});

describe('scanouts', () => {
  it('SET_SCANOUT with a sub-rect -> the scanout shows that part of the resource', async () => {
    const g = buildGpu({ scanouts: [{ width: 4, height: 4 }] });
    const px = pattern(16 * 8 * 4, 10);
    await backed2d(g, 1, 16, 8, P.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, px);
    await sendOk(g, cmd.setScanout(0, 1, rect(6, 2, 4, 4)));
    const got = scanoutPixels(g, 0, 4, 4);
    expect(got.subarray(0, 16)).toEqual(px.subarray((2 * 16 + 6) * 4, (2 * 16 + 10) * 4));
  });

  it('SET_SCANOUT resource 0 -> OK; the scanout is disabled and the Display drops the surface', async () => {
    const g = buildGpu({ scanouts: [{ width: 8, height: 8 }] });
    await backed2d(g, 1, 8, 8);
    await sendOk(g, cmd.setScanout(0, 1, rect(0, 0, 8, 8)));
    expect(g.display.surface(0)).toBeDefined();
    await sendOk(g, cmd.setScanout(0, 0, rect(0, 0, 0, 0)));
    expect(g.display.surface(0)).toBeUndefined();
    expect(g.device.readScanout(0, rect(0, 0, 1, 1), new Uint8Array(4), 4)).toBe(false);
  });

  it('SET_SCANOUT_BLOB with a guest blob, stride and offset -> scanout and Display show the framebuffer', async () => {
    const g = buildGpu({ scanouts: [{ width: 8, height: 4 }] });
    const entries = g.ram.allocScattered(4 * 4096, false);
    await sendOk(g, cmd.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_GUEST, 0, 4 * 4096, entries));
    const stride = 64;
    const offset = 4096 - 40; // the framebuffer starts near the end of the first page
    const px = pattern(8 * 4 * 4, 11);
    for (let y = 0; y < 4; y++) g.ram.writeEntries(entries, offset + y * stride, px.subarray(y * 32, y * 32 + 32));
    const f = P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM;
    await sendOk(g, cmd.setScanoutBlob(0, 1, rect(0, 0, 8, 4), 8, 4, f, [stride, 0, 0, 0], [offset, 0, 0, 0]));
    expect(scanoutPixels(g, 0, 8, 4)).toEqual(toRgba(px, 'BGRX'));
    expect(g.display.surface(0)!.data).toEqual(toRgba(px, 'BGRX', true));
  });
});

describe('multi-scanout and blob flushes', () => {
  it('one resource on two scanouts, one flush -> both Display surfaces show their part', async () => {
    const g = buildGpu({ scanouts: [{ width: 8, height: 8 }, { width: 8, height: 8 }] });
    const entries = await backed2d(g, 1, 16, 8, P.VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, new Uint8Array(16 * 8 * 4));
    await sendOk(g, cmd.setScanout(0, 1, rect(0, 0, 8, 8)));
    await sendOk(g, cmd.setScanout(1, 1, rect(8, 0, 8, 8)));
    const px = pattern(16 * 8 * 4, 15);
    g.ram.writeEntries(entries, 0, px);
    await sendOk(g, cmd.transferToHost2d(1, rect(0, 0, 16, 8)));
    await sendOk(g, cmd.resourceFlush(1, rect(0, 0, 16, 8)));
    const all = toRgba(px, 'RGBX', true);
    for (const [id, x0] of [[0, 0], [1, 8]] as const) {
      const want = new Uint8Array(8 * 8 * 4);
      for (let y = 0; y < 8; y++) want.set(all.subarray((y * 16 + x0) * 4, (y * 16 + x0 + 8) * 4), y * 32);
      expect(g.display.surface(id)!.data, `scanout ${id}`).toEqual(want);
    }
  });

  it('blob scanout: guest rewrites its pages and flushes -> the Display shows the new pixels', async () => {
    const g = buildGpu({ scanouts: [{ width: 8, height: 8 }] });
    const entries = g.ram.allocScattered(8 * 8 * 4, false);
    await sendOk(g, cmd.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_GUEST, 0, 8 * 8 * 4, entries));
    await sendOk(g, cmd.setScanoutBlob(0, 1, rect(0, 0, 8, 8), 8, 8, P.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, [32, 0, 0, 0], [0, 0, 0, 0]));
    const px = pattern(8 * 8 * 4, 16);
    for (let i = 3; i < px.length; i += 4) px[i] = 255;
    g.ram.writeEntries(entries, 0, px);
    await sendOk(g, cmd.resourceFlush(1, rect(0, 0, 8, 8)));
    expect(g.display.surface(0)!.data).toEqual(px);
  });
});

describe('blobs', () => {
  it('RESOURCE_ASSIGN_UUID -> v4 UUID, the same on every call, different per resource', async () => {
    const g = buildGpu();
    await sendOk(g, cmd.resourceCreate2d(1, P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 4, 4));
    await sendOk(g, cmd.resourceCreate2d(2, P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 4, 4));
    const u = async (id: number) => {
      const r = (await g.driver.send(cmd.assignUuid(id))) as R<typeof P.VIRTIO_GPU_RESP_OK_RESOURCE_UUID>;
      expect(r.type).toBe(P.VIRTIO_GPU_RESP_OK_RESOURCE_UUID);
      return [...r.uuid];
    };
    const a = await u(1);
    expect(a[6]! >> 4).toBe(4);
    expect(a[8]! >> 6).toBe(0b10);
    expect(await u(1)).toEqual(a);
    expect(await u(2)).not.toEqual(a);
  });

  it('RESOURCE_CREATE_BLOB (guest memory) -> OK and charged to the quota', async () => {
    const g = buildGpu();
    await sendOk(g, cmd.createBlob(7, P.VIRTIO_GPU_BLOB_MEM_GUEST, P.VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE, 3 * 4096, g.ram.allocScattered(3 * 4096, false)));
    expect(g.device.resourceCount).toBe(1);
    expect(g.device.hostBytesUsed).toBeGreaterThanOrEqual(3 * 4096);
  });

  function hostBlobGpu(asyncUnmap: boolean) {
    const renderer = new TestRenderer3D();
    const region = new FakeRegion(1n << 24n);
    region.async = asyncUnmap;
    const g = buildGpu({ renderer, hostVisible: region });
    return { g, renderer, region };
  }
  async function hostBlob(g: ReturnType<typeof buildGpu>, id: number) {
    await sendOk(g, cmd.ctxCreate(1, 'blobs'));
    await sendOk(g, cmd.createBlob(id, P.VIRTIO_GPU_BLOB_MEM_HOST3D, P.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, 8192, [], 42, 1));
  }

  it('RESOURCE_MAP_BLOB of a host blob -> OK_MAP_INFO with the renderer cache type; the region holds it', async () => {
    const { g, region } = hostBlobGpu(false);
    await hostBlob(g, 10);
    const r = (await g.driver.send(cmd.mapBlob(10, 0x3000))) as R<typeof P.VIRTIO_GPU_RESP_OK_MAP_INFO>;
    expect(r).toMatchObject({ type: P.VIRTIO_GPU_RESP_OK_MAP_INFO, mapInfo: P.VIRTIO_GPU_MAP_CACHE_WC });
    expect(region.maps.get(0x3000n)?.size).toBe(8192);
  });

  it('RESOURCE_UNMAP_BLOB, synchronous region -> OK after the region dropped it and the renderer released it', async () => {
    const { g, renderer, region } = hostBlobGpu(false);
    await hostBlob(g, 10);
    await g.driver.send(cmd.mapBlob(10, 0));
    await sendOk(g, cmd.unmapBlob(10));
    expect(region.maps.size).toBe(0);
    expect(renderer.calls.at(-1)).toBe('release 10');
  });

  it('RESOURCE_UNMAP_BLOB, region confirms later -> response (and the next command) only after confirmation', async () => {
    const { g, renderer, region } = hostBlobGpu(true);
    await hostBlob(g, 10);
    await g.driver.send(cmd.mapBlob(10, 0));
    const order: string[] = [];
    const unmap = g.driver.send(cmd.unmapBlob(10)).then((r) => order.push(`unmap ${r.type === OK}`));
    const next = g.driver.send(cmd.getDisplayInfo()).then(() => order.push('next'));
    await settle(20);
    expect(order).toEqual([]);
    expect(renderer.calls).not.toContain('release 10');
    expect(region.pending).toBe(1);
    await region.confirm();
    await Promise.all([unmap, next]);
    expect(order).toEqual(['unmap true', 'next']);
    expect(renderer.calls).toContain('release 10');
  });
});

describe('UNREF of a mapped blob', () => {
  it('region confirms later -> RESOURCE_UNREF answered only after confirmation, then the id is free', async () => {
    const renderer = new TestRenderer3D();
    const region = new FakeRegion(1n << 24n);
    region.async = true;
    const g = buildGpu({ renderer, hostVisible: region });
    await sendOk(g, cmd.ctxCreate(1, 'c'));
    await sendOk(g, cmd.createBlob(10, P.VIRTIO_GPU_BLOB_MEM_HOST3D, P.VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, 4096, [], 0, 1));
    await g.driver.send(cmd.mapBlob(10, 0));
    let answered = false;
    const unref = g.driver.send(cmd.resourceUnref(10)).then((r) => ((answered = true), r));
    await settle(20);
    expect(answered).toBe(false);
    expect(renderer.calls).not.toContain('destroy 10');
    await region.confirm();
    expect((await unref).type).toBe(OK);
    expect(renderer.calls.slice(-2)).toEqual(['release 10', 'destroy 10']);
    await sendOk(g, cmd.createBlob(10, P.VIRTIO_GPU_BLOB_MEM_HOST3D, 0, 4096, [], 0, 1));
  });
});

describe('3D: capsets, contexts, resources, submits', () => {
  function gpu3d() {
    const renderer = new TestRenderer3D();
    return { g: buildGpu({ renderer }), renderer };
  }

  it('GET_CAPSET_INFO -> each capset id, max version and size in index order', async () => {
    const { g } = gpu3d();
    const r0 = await g.driver.send(cmd.getCapsetInfo(0));
    const r1 = await g.driver.send(cmd.getCapsetInfo(1));
    expect(r0).toMatchObject({ type: P.VIRTIO_GPU_RESP_OK_CAPSET_INFO, capsetId: P.VIRTIO_GPU_CAPSET_VIRGL2, capsetMaxVersion: 2, capsetMaxSize: 64 });
    expect(r1).toMatchObject({ type: P.VIRTIO_GPU_RESP_OK_CAPSET_INFO, capsetId: P.VIRTIO_GPU_CAPSET_VENUS, capsetMaxVersion: 0, capsetMaxSize: 16 });
    expect(g.device.readConfig(12, 4)).toBe(2); // num_capsets
  });

  it('GET_CAPSET -> the renderer payload for that id and version', async () => {
    const { g } = gpu3d();
    const r = (await g.driver.send(cmd.getCapset(P.VIRTIO_GPU_CAPSET_VIRGL2, 1))) as R<typeof P.VIRTIO_GPU_RESP_OK_CAPSET>;
    expect(r.type).toBe(P.VIRTIO_GPU_RESP_OK_CAPSET);
    expect([...r.data]).toEqual([P.VIRTIO_GPU_CAPSET_VIRGL2, 1, 0xaa]);
  });

  it('CTX_CREATE with context_init, ATTACH, DETACH, DESTROY -> OK each and the renderer sees them', async () => {
    const { g, renderer } = gpu3d();
    await sendOk(g, cmd.resourceCreate2d(3, P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 4, 4));
    await sendOk(g, cmd.ctxCreate(9, 'venus-ctx', P.VIRTIO_GPU_CAPSET_VENUS));
    await sendOk(g, cmd.ctxAttachResource(9, 3));
    await sendOk(g, cmd.ctxDetachResource(9, 3));
    await sendOk(g, cmd.ctxDestroy(9));
    expect(renderer.calls).toEqual(['ctx 9 capset 4 venus-ctx', 'attach 9 3', 'detach 9 3', 'ctxdestroy 9']);
    await sendOk(g, cmd.ctxCreate(9, 'again'));
  });

  const box = (x: number, y: number, w: number, h: number) => ({ x, y, z: 0, w, h, d: 1 });

  it('RESOURCE_CREATE_3D + TRANSFER_TO_HOST_3D + TRANSFER_FROM_HOST_3D -> the bytes round-trip through the host', async () => {
    const { g } = gpu3d();
    await sendOk(g, cmd.ctxCreate(1, 'gl'));
    await sendOk(g, cmd.resourceCreate3d(20, { target: 2, format: 1, bind: 2, width: 16, height: 8 }, 1));
    await sendOk(g, cmd.ctxAttachResource(1, 20));
    const entries = g.ram.allocScattered(16 * 8 * 4, false);
    await sendOk(g, cmd.attachBacking(20, entries));
    const px = pattern(16 * 8 * 4, 12);
    g.ram.writeEntries(entries, 0, px);
    await sendOk(g, cmd.transferToHost3d(1, 20, box(0, 0, 16, 8)));
    g.ram.writeEntries(entries, 0, new Uint8Array(px.length));
    await sendOk(g, cmd.transferFromHost3d(1, 20, box(4, 2, 8, 3), (2 * 16 + 4) * 4, 0, 16 * 4));
    const back = g.ram.readEntries(entries, 0, px.length);
    for (let y = 0; y < 8; y++) {
      const row = back.subarray(y * 64, y * 64 + 64);
      const inBox = y >= 2 && y < 5;
      expect(row.subarray(16, 48)).toEqual(inBox ? px.subarray(y * 64 + 16, y * 64 + 48) : new Uint8Array(32));
    }
  });

  it('SUBMIT_3D -> the stream reaches the renderer in its context and its effect is visible', async () => {
    const { g, renderer } = gpu3d();
    await sendOk(g, cmd.ctxCreate(1, 'gl'));
    await sendOk(g, cmd.resourceCreate3d(20, { target: 2, format: 1, bind: 2, width: 4, height: 4 }, 1));
    const entries = g.ram.allocScattered(64, false);
    await sendOk(g, cmd.attachBacking(20, entries));
    await sendOk(g, cmd.submit3d(1, fill3d(20, 0x5a)));
    await sendOk(g, cmd.transferFromHost3d(1, 20, box(0, 0, 4, 4)));
    expect(renderer.submits).toEqual([{ ctxId: 1, data: [...fill3d(20, 0x5a)], ring: null }]);
    expect(g.ram.readEntries(entries, 0, 64)).toEqual(new Uint8Array(64).fill(0x5a));
  });
});

describe('cursor queue', () => {
  it('UPDATE_CURSOR -> the Display gets the 64x64 image, hot spot and position', async () => {
    const g = buildGpu();
    const px = pattern(64 * 64 * 4, 13);
    await backed2d(g, 100, 64, 64, P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, px);
    await sendOk(g, cmd.updateCursor(0, 30, 20, 100, 3, 4));
    const c = g.display.cursor;
    expect(c).toMatchObject({ scanoutId: 0, x: 30, y: 20, hotX: 3, hotY: 4, resourceId: 100, visible: true });
    expect(c.image).toEqual(toRgba(px, 'BGRA'));
    expect(g.interrupts.some((i) => i.queueIndex === 1)).toBe(true);
  });

  it('MOVE_CURSOR -> position changes, image and hot spot stay', async () => {
    const g = buildGpu();
    await backed2d(g, 100, 64, 64, P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, pattern(64 * 64 * 4, 14));
    await sendOk(g, cmd.updateCursor(0, 1, 2, 100, 5, 6));
    const img = g.display.cursor.image;
    await sendOk(g, cmd.moveCursor(0, 40, 41));
    expect(g.display.cursor).toMatchObject({ x: 40, y: 41, hotX: 5, hotY: 6, visible: true });
    expect(g.display.cursor.image).toBe(img);
  });

  it('UPDATE_CURSOR with resource 0 -> the cursor is hidden', async () => {
    const g = buildGpu();
    await backed2d(g, 100, 64, 64);
    await sendOk(g, cmd.updateCursor(0, 1, 2, 100, 0, 0));
    await sendOk(g, cmd.updateCursor(0, 1, 2, 0, 0, 0));
    expect(g.display.cursor.visible).toBe(false);
  });
});
