/**
 * The same 2D workload through the TypeScript renderer and through rutabaga (napi), side by side:
 * a 1920x1080 B8G8R8X8 resource backed by 4 KiB guest pages in shuffled order (SharedArrayBuffer
 * guest RAM, as rutabaga needs), then
 * - renderer level: full-frame TRANSFER_TO_HOST_2D, full-frame RGBA readback, a 1x1 transfer
 *   (call overhead dominated);
 * - whole path: per frame TRANSFER_TO_HOST_2D + RESOURCE_FLUSH through the driver's ring and the
 *   device, plus the scanout readback a display does on flush.
 * Ratios are rutabaga time / TS time from this one run (>1: rutabaga slower).
 * Run: node bench/renderers.mjs (after `pnpm build` and `build:native`).
 */
import { Backing, Renderer2D, createInProcessGpu } from '@virtio-gpu/device';
import { GuestRam, cmd, rect } from '@virtio-gpu/guest';
import { VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM } from '@virtio-gpu/protocol';
import { RutabagaRenderer, nativeStatus } from '../dist/index.js';
import { fmtNs, table, timeOps } from './stats.mjs';

const st = nativeStatus();
if (!st.available) {
  console.log(`renderers bench skipped: ${st.reason}`);
  process.exit(process.env.CI ? 1 : 0);
}

const W = 1920;
const H = 1080;
const FRAME = W * H * 4;
const full = { x: 0, y: 0, width: W, height: H };

function fill(ram) {
  const entries = ram.allocScattered(FRAME, false);
  const img = new Uint8Array(FRAME);
  for (let i = 0; i < FRAME; i += 61) img[i] = i & 255;
  ram.writeEntries(entries, 0, img);
  return { ram, entries };
}

function makeRam() {
  return fill(new GuestRam({ regions: [{ gpa: 0x4000_0000, bytes: 64 << 20 }], shared: true, seed: 7 }));
}

function rendererLevel(make) {
  const { ram, entries } = makeRam();
  const backing = Backing.resolve(ram.memory, entries, 1 << 20);
  const r = make();
  r.setFenceHandler(() => {});
  r.createResource2d(1, { format: VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, width: W, height: H });
  if (!r.attachBacking(1, backing.value).ok) throw new Error('attach');
  const dst = new Uint8Array(FRAME);
  const one = { x: 7, y: 9, width: 1, height: 1 };
  return {
    transfer: timeOps(() => r.transferToHost2d(1, full, 0), { n: 5 }),
    readback: timeOps(() => r.readback(1, full, dst, W * 4), { n: 5 }),
    small: timeOps(() => r.transferToHost2d(1, one, 9 * W * 4 + 28), { n: 20000, samples: 7 }),
  };
}

async function wholePath(make) {
  const gpu = createInProcessGpu({ renderer: make(), scanouts: [{ width: W, height: H }], sharedRam: true, ramBytes: 64 << 20, queueSize: 64 });
  const { driver, device } = gpu;
  const { entries } = fill(gpu.ram);
  await driver.send(cmd.resourceCreate2d(1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, W, H));
  await driver.send(cmd.attachBacking(1, entries));
  await driver.send(cmd.setScanout(0, 1, rect(0, 0, W, H)));
  const dst = new Uint8Array(FRAME);
  const frame = async () => {
    const a = driver.send(cmd.transferToHost2d(1, rect(0, 0, W, H)));
    const b = driver.send(cmd.resourceFlush(1, rect(0, 0, W, H)), { fence: true });
    await Promise.all([a, b]);
    device.readScanout(0, full, dst, W * 4);
  };
  for (let i = 0; i < 10; i++) await frame();
  const per = [];
  for (let s = 0; s < 7; s++) {
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) await frame();
    per.push(((performance.now() - t0) * 1e6) / 10);
  }
  per.sort((x, y) => x - y);
  return { best: per[0], median: per[3] };
}

const makers = { ts: () => new Renderer2D(), rutabaga: () => new RutabagaRenderer() };
const lvl = { ts: rendererLevel(makers.ts), rutabaga: rendererLevel(makers.rutabaga) };
const path = { ts: await wholePath(makers.ts), rutabaga: await wholePath(makers.rutabaga) };

const gbps = (ns) => `${(FRAME / ns).toFixed(2)} GB/s`;
const row = (name, a, b, rate) => [
  name,
  `${fmtNs(a.best)}${rate ? ` (${rate(a.best)})` : ''}`,
  `${fmtNs(b.best)}${rate ? ` (${rate(b.best)})` : ''}`,
  `${(b.best / a.best).toFixed(2)}x`,
  `${(b.median / a.median).toFixed(2)}x`,
];
table('2D workload, 1920x1080 from shuffled 4 KiB pages: TS renderer vs rutabaga (best of samples)', [
  ['what', 'TypeScript', 'rutabaga (napi)', 'ratio best', 'ratio median'],
  row('full-frame TRANSFER_TO_HOST_2D', lvl.ts.transfer, lvl.rutabaga.transfer, gbps),
  row('full-frame RGBA readback', lvl.ts.readback, lvl.rutabaga.readback, gbps),
  row('1x1 TRANSFER_TO_HOST_2D', lvl.ts.small, lvl.rutabaga.small),
  row('frame: transfer + flush via queue + readback', path.ts, path.rutabaga),
]);
