import { Backing, Renderer2D } from '@virtio-gpu/device';
import { DemoWorkload, cmd, rect } from '@virtio-gpu/guest';
import * as P from '@virtio-gpu/protocol';
import { expect, it } from 'vitest';
import { describeFd, describeRenderer } from '../test/native-available.js';
import { rig, scanoutPixels, send } from '../test/rig.js';
import { RutabagaRenderer, closeFd, mapFd, memfdCreate } from './index.js';

const OK = P.VIRTIO_GPU_RESP_OK_NODATA;
const FORMATS = [
  P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM,
  P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
  P.VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM,
  P.VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM,
  P.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM,
  P.VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM,
  P.VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM,
  P.VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM,
];

/** Bytes 0..n-1 scrambled, deterministic. */
function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 16;
  }
  return out;
}

/** A 16x8 image of `format` holding pattern bytes, transferred and shown on scanout 0. */
async function showPattern(r: ReturnType<typeof rig>, format: number): Promise<void> {
  const entries = r.ram.allocScattered(16 * 8 * 4);
  r.ram.writeEntries(entries, 0, pattern(16 * 8 * 4, format));
  await send(r, cmd.resourceCreate2d(1, format, 16, 8));
  await send(r, cmd.attachBacking(1, entries));
  await send(r, cmd.transferToHost2d(1, rect(0, 0, 16, 8)));
  await send(r, cmd.setScanout(0, 1, rect(0, 0, 16, 8)));
}

/** Run the same guest commands on a TS-rendered and a rutabaga-rendered GPU; return both scanouts. */
async function both(w: number, h: number, body: (r: ReturnType<typeof rig>) => Promise<void>): Promise<[Uint8Array, Uint8Array]> {
  const out: Uint8Array[] = [];
  for (const renderer of [new Renderer2D(), new RutabagaRenderer()]) {
    const r = rig(renderer, { scanouts: [{ width: w, height: h }] });
    await body(r);
    out.push(scanoutPixels(r, 0, w, h));
  }
  return [out[0]!, out[1]!];
}

describeRenderer('RutabagaRenderer through the device', () => {
  it('demo workload: every frame byte-identical to the TypeScript renderer', async () => {
    const frames: Uint8Array[][] = [[], []];
    const renderers = [new Renderer2D(), new RutabagaRenderer()];
    for (let k = 0; k < 2; k++) {
      const r = rig(renderers[k], { scanouts: [{ width: 320, height: 240 }, { width: 256, height: 192 }] });
      const demo = new DemoWorkload(r.driver, { maxScanouts: 2 });
      await demo.setup();
      for (let n = 0; n < 6; n++) {
        await demo.frame(n);
        frames[k].push(scanoutPixels(r, 0, 320, 240), scanoutPixels(r, 1, 256, 192));
      }
      await demo.teardown();
    }
    expect(frames[1].length).toBe(12);
    for (let i = 0; i < frames[0].length; i++) expect(Buffer.compare(frames[0][i], frames[1][i]), `image ${i}`).toBe(0);
  });

  it('guest-style partial transfer (offset = y*stride + x*4) from scattered pages', async () => {
    const [ts, rb] = await both(64, 48, async (r) => {
      const entries = r.ram.allocScattered(64 * 48 * 4, false);
      r.ram.writeEntries(entries, 0, pattern(64 * 48 * 4, 5));
      expect(await send(r, cmd.resourceCreate2d(1, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 48))).toBe(OK);
      expect(await send(r, cmd.attachBacking(1, entries))).toBe(OK);
      expect(await send(r, cmd.setScanout(0, 1, rect(0, 0, 64, 48)))).toBe(OK);
      for (const [x, y, w, h] of [[5, 3, 10, 4], [60, 40, 4, 8], [0, 47, 64, 1]]) {
        expect(await send(r, cmd.transferToHost2d(1, rect(x, y, w, h), y * 64 * 4 + x * 4))).toBe(OK);
      }
    });
    expect(rb.some((b, i) => i % 4 !== 3 && b !== 0)).toBe(true);
    expect(Buffer.compare(ts, rb)).toBe(0);
  });

  it('an offset below the rect start reads rows from that offset, as the TS renderer does', async () => {
    const [ts, rb] = await both(32, 16, async (r) => {
      const entries = r.ram.allocScattered(32 * 16 * 4, false);
      r.ram.writeEntries(entries, 0, pattern(32 * 16 * 4, 8));
      await send(r, cmd.resourceCreate2d(1, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 32, 16));
      await send(r, cmd.attachBacking(1, entries));
      await send(r, cmd.setScanout(0, 1, rect(0, 0, 32, 16)));
      expect(await send(r, cmd.transferToHost2d(1, rect(7, 9, 5, 3), 12))).toBe(OK);
    });
    expect(Buffer.compare(ts, rb)).toBe(0);
  });

  it('all eight 2D formats read back exactly as with the TS renderer', async () => {
    for (const format of FORMATS) {
      const [ts, rb] = await both(16, 8, (r) => showPattern(r, format));
      expect(Buffer.compare(ts, rb), `format ${format}`).toBe(0);
    }
  });

  it('opaque readback, all eight formats: the RGBA8 readback with alpha 255, as from the TS renderer', async () => {
    for (const format of FORMATS) {
      const outs: Uint8Array[] = [];
      for (const renderer of [new Renderer2D(), new RutabagaRenderer()]) {
        const r = rig(renderer, { scanouts: [{ width: 16, height: 8 }] });
        await showPattern(r, format);
        // A sub-rect into a padded stride: the bytes between rows stay as they were.
        const sub = { x: 3, y: 1, width: 11, height: 6 };
        const plain = pattern(60 * 6, 9);
        const opaque = plain.slice();
        expect(r.device.readScanout(0, sub, plain, 60)).toBe(true);
        expect(r.device.readScanout(0, sub, opaque, 60, undefined, true)).toBe(true);
        for (let y = 0; y < sub.height; y++) for (let x = 0; x < sub.width; x++) plain[y * 60 + x * 4 + 3] = 255;
        expect(Buffer.compare(opaque, plain), `format ${format}, ${renderer.constructor.name}`).toBe(0);
        outs.push(opaque);
      }
      expect(Buffer.compare(outs[0]!, outs[1]!), `format ${format}`).toBe(0);
    }
  });

  it('readback into another format -> false (RGBA8 is the only target it writes)', async () => {
    const renderer = new RutabagaRenderer();
    expect(renderer.createResource2d(1, { format: P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, width: 4, height: 4 }).ok).toBe(true);
    const out = new Uint8Array(64);
    expect(renderer.readback(1, { x: 0, y: 0, width: 4, height: 4 }, out, 16)).toBe(true);
    expect(renderer.readback(1, { x: 0, y: 0, width: 4, height: 4 }, out, 16, undefined, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM)).toBe(false);
  });

  it('bad commands get the same answers as from the TS renderer', async () => {
    const answers: number[][] = [];
    for (const renderer of [new Renderer2D(), new RutabagaRenderer()]) {
      const r = rig(renderer);
      const entries = r.ram.allocScattered(4096);
      const got = [
        await send(r, cmd.resourceCreate2d(1, 999, 4, 4)),
        await send(r, cmd.resourceCreate2d(1, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64)),
        await send(r, cmd.transferToHost2d(1, rect(0, 0, 64, 64))),
        await send(r, cmd.attachBacking(1, entries)),
        await send(r, cmd.transferToHost2d(1, rect(0, 0, 64, 64))),
        await send(r, cmd.transferToHost2d(1, rect(0, 0, 1, 1), 2n ** 40n)),
        await send(r, cmd.transferToHost2d(2, rect(0, 0, 1, 1))),
        await send(r, cmd.resourceCreate3d(3, { target: 2, format: 1, bind: 2, width: 4, height: 4 })),
      ];
      answers.push(got);
    }
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[1][4]).toBe(P.VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
  });

  it('fenced commands retire through the fence queue', async () => {
    const r = rig(new RutabagaRenderer());
    const resp = await r.driver.send(cmd.resourceCreate2d(1, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 4, 4), { fence: true });
    expect(resp.type).toBe(OK);
    expect(resp.hdr.fenceId).toBe(r.driver.lastFenceId);
  });

  it('snapshot and restore keep pixels (rutabaga itself drops them) and re-attach backing', async () => {
    const renderer = new RutabagaRenderer();
    const r = rig(renderer, { scanouts: [{ width: 32, height: 16 }] });
    const entries = r.ram.allocScattered(32 * 16 * 4);
    r.ram.writeEntries(entries, 0, pattern(32 * 16 * 4, 3));
    await send(r, cmd.resourceCreate2d(1, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 32, 16));
    await send(r, cmd.attachBacking(1, entries));
    await send(r, cmd.transferToHost2d(1, rect(0, 0, 32, 16)));
    await send(r, cmd.setScanout(0, 1, rect(0, 0, 32, 16)));
    const before = scanoutPixels(r, 0, 32, 16);
    const snap = structuredClone(r.device.snapshot());
    const renderer2 = new RutabagaRenderer();
    const r2 = rig(renderer2, { scanouts: [{ width: 32, height: 16 }] });
    r2.ram.write(0x4000_0000, r.ram.bytes(0x4000_0000, 32 << 20));
    r2.device.restore(snap);
    expect(Buffer.compare(scanoutPixels(r2, 0, 32, 16), before)).toBe(0);
    expect(renderer2.heldBackings).toBeGreaterThan(0);
  });

  it('ArrayBuffer guest RAM is refused (rutabaga would keep pointers into detachable memory)', async () => {
    const r = rig(new RutabagaRenderer(), { shared: false });
    await send(r, cmd.resourceCreate2d(1, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 4, 4));
    expect(await send(r, cmd.attachBacking(1, r.ram.allocScattered(64)))).toBe(P.VIRTIO_GPU_RESP_ERR_UNSPEC);
    expect(r.log.join('\n')).toMatch(/ERR_GUEST_MEMORY|SharedArrayBuffer/);
    // The device keeps running.
    expect(await send(r, cmd.resourceCreate2d(2, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 4, 4))).toBe(OK);
  });

  it('detach, unref and reset release the guest memory the native side held', async () => {
    const renderer = new RutabagaRenderer();
    const r = rig(renderer);
    for (const id of [1, 2, 3]) {
      await send(r, cmd.resourceCreate2d(id, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 8, 8));
      await send(r, cmd.attachBacking(id, r.ram.allocScattered(256)));
    }
    expect(renderer.heldBackings).toBe(3);
    await send(r, cmd.detachBacking(1));
    await send(r, cmd.resourceUnref(2));
    expect(renderer.heldBackings).toBe(1);
    r.device.reset();
    expect(renderer.heldBackings).toBe(0);
  });

  it('a backing of many runs in one SharedArrayBuffer holds one reference, and the device charges 16 bytes a run for the native run table', async () => {
    const renderer = new RutabagaRenderer();
    expect(renderer.capabilities.hostBytesPerBackingRun).toBe(16);
    const r = rig(renderer);
    await send(r, cmd.resourceCreate2d(1, P.VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64));
    const used = r.device.hostBytesUsed;
    // 64 one-byte entries two bytes apart: 64 runs that never merge, all in guest RAM's one buffer.
    const base = r.ram.alloc(4096);
    const entries = Array.from({ length: 64 }, (_, i) => ({ addr: BigInt(base + 2 * i), length: 1 }));
    expect(await send(r, cmd.attachBacking(1, entries))).toBe(OK);
    expect(renderer.heldBackings).toBe(1);
    expect(r.device.hostBytesUsed - used).toBe(Backing.hostBytesFor(64) + 64 * 16);
    expect(new RutabagaRenderer({ crossDomain: true }).capabilities.hostBytesPerBackingRun).toBe(32);
  });
});

describeFd('RutabagaRenderer over native-mapped guest RAM', () => {
  it('memfd guest RAM works, and the mapping refuses unmap (EBUSY) while rutabaga holds it', () => {
    const fd = memfdCreate('guest-ram', 1 << 20);
    const region = mapFd(fd, 0, 1 << 20);
    const renderer = new RutabagaRenderer();
    expect(renderer.createResource2d(1, { format: P.VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, width: 4, height: 4 }).ok).toBe(true);
    // Two runs of one mapping, pages apart (so they do not merge): pinned once, released once.
    const p = pattern(64, 1);
    region.bytes.set(p.subarray(0, 16), 8192);
    region.bytes.set(p.subarray(16), 12288);
    expect(renderer.attachBacking(1, new Backing([region.bytes.subarray(8192, 8192 + 16), region.bytes.subarray(12288, 12288 + 48)])).ok).toBe(true);
    expect(renderer.heldBackings).toBe(1);
    expect(renderer.transferToHost2d(1, { x: 0, y: 0, width: 4, height: 4 }, 0).ok).toBe(true);
    const out = new Uint8Array(64);
    expect(renderer.readback(1, { x: 0, y: 0, width: 4, height: 4 }, out, 16)).toBe(true);
    expect([...out]).toEqual([...pattern(64, 1)]);
    expect(() => region.unmap()).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    expect(region.mapped).toBe(true);
    renderer.detachBacking(1);
    region.unmap();
    closeFd(fd);
  });
});
