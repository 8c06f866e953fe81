/**
 * Does the display keep up with the device? A frame's display update (readback with format
 * conversion, opaque alpha, damage, events) against a plain copy of the same bytes, on the BUILT
 * code (vitest's transform slows these loops 3-5x; see packages/device/bench/harness.mjs).
 *
 * 1. Demo frames: the guest package's DemoWorkload on 800x600 + 640x480 (B8G8R8X8, as Linux
 *    scans out), the same frames the CLI demo runs. Frames take turns between four sinks: the
 *    Display (opaque, the default: the readback forces alpha in its conversion pass), a Display
 *    with `opaque: false`, the earlier opaque path (readback, then a second pass forcing alpha in
 *    the surface), and a copy sink that copies each flushed rect's bytes from the renderer's
 *    image into a surface-sized buffer with TypedArray.set (memcpy). All run at the same point of
 *    the frame, right after the transfer, so all see the same cache state. Prints ms a frame,
 *    GB/s of damage, and the ratio to the copy (goal: <= 2).
 * 2. Demo frames per second with the device alone (a sink that does nothing) and with the Display.
 * 3. Primitives: Renderer2D.readback of 800x600 per pixel format (RGBA8, and opaque RGBA8),
 *    composite() into a new and into a reused buffer, PNG, each next to a plain copy of the same
 *    bytes.
 *
 * Run: node bench/display-update.mjs [--quick]   (after `pnpm build`)
 */
import { Renderer2D, convertRowToRgba, createInProcessGpu } from '@virtio-gpu/device';
import { Display } from '@virtio-gpu/display';
import { DemoWorkload } from '@virtio-gpu/guest';
import { FORMATS, VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, formatName } from '@virtio-gpu/protocol';
import { measure, nowNs, printTable } from '../../device/bench/harness.mjs';

const quick = process.argv.includes('--quick');
const SCANOUTS = [
  { width: 800, height: 600 },
  { width: 640, height: 480 },
];
const NULL_SINK = { scanoutChanged() {}, flushed() {}, cursorChanged() {} };

/** The in-process wiring (the CLI demo's), with the sink and renderer chosen by the bench. */
function wire(sink, renderer) {
  const gpu = createInProcessGpu({ scanouts: SCANOUTS, sink, renderer, ramBytes: 64 << 20 });
  return { device: gpu.device, driver: gpu.driver };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const gbps = (bytes, ns) => (bytes / ns).toFixed(2);

/** The alpha pass an opaque Display made before the readback forced alpha itself. */
function alphaPass(surface, r) {
  for (let y = r.y; y < r.y + r.height; y++) {
    const at = y * surface.strideBytes + r.x * 4;
    convertRowToRgba(VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, surface.data, at, surface.data, at, r.width);
  }
}

// ---- 1. display update vs plain copy, per demo frame ------------------------------------------

async function updateVsCopy(frames) {
  // Three displays see every scanout change; each flush goes to one of them or to the copy sink.
  // `twoPass` reads like `raw`, then forces alpha in the surface as a second pass (the old path).
  const displays = { opaque: new Display(), raw: new Display({ opaque: false }), twoPass: new Display({ opaque: false }) };
  const renderer = new Renderer2D();
  let mode = 'opaque';
  let ns = 0;
  let bytes = 0;
  /** The renderer's image of a scanout's resource: the bytes the display reads. */
  const scanoutResource = new Map();
  const copies = new Map();
  const imageOf = (scanoutId) => {
    // Bench-only peek at Renderer2D's private map: the copy must read the very same bytes.
    const e = renderer.entries?.get(scanoutResource.get(scanoutId));
    if (!e?.pixels) throw new Error('Renderer2D internals changed: update the copy sink of this bench');
    return e;
  };
  const copyRect = (scanoutId, r) => {
    const src = imageOf(scanoutId);
    let dst = copies.get(scanoutId);
    if (dst === undefined || dst.byteLength !== src.pixels.byteLength) copies.set(scanoutId, (dst = new Uint8Array(src.pixels.byteLength)));
    const stride = src.strideBytes;
    if (r.x === 0 && r.width * 4 === stride) {
      dst.set(src.pixels.subarray(r.y * stride, (r.y + r.height) * stride), r.y * stride);
      return;
    }
    for (let y = r.y; y < r.y + r.height; y++) dst.set(src.pixels.subarray(y * stride + r.x * 4, y * stride + (r.x + r.width) * 4), y * stride + r.x * 4);
  };
  const sink = {
    scanoutChanged(id, info) {
      scanoutResource.set(id, info?.resourceId);
      for (const d of Object.values(displays)) d.scanoutChanged(id, info);
    },
    flushed(id, r) {
      const t0 = nowNs();
      if (mode === 'copy') copyRect(id, r);
      else displays[mode].flushed(id, r);
      if (mode === 'twoPass') alphaPass(displays.twoPass.surface(id), r);
      ns += nowNs() - t0;
      bytes += r.width * r.height * 4;
    },
    cursorChanged(c) {
      const t0 = nowNs();
      if (mode !== 'copy') displays[mode].cursorChanged(c);
      ns += nowNs() - t0;
    },
  };
  const { device, driver } = wire(sink, renderer);
  for (const d of Object.values(displays)) d.setSource(device);
  const demo = new DemoWorkload(driver, { maxScanouts: SCANOUTS.length });
  await demo.setup();
  const modes = ['opaque', 'raw', 'twoPass', 'copy'];
  const per = { opaque: [], raw: [], twoPass: [], copy: [] };
  let damageBytes = 0;
  const warmup = 60;
  for (let n = 0; n < modes.length * frames + warmup; n++) {
    // Round robin, so each mode runs at the same point of a frame and sees the same machine noise.
    mode = modes[n % modes.length];
    ns = 0;
    bytes = 0;
    await demo.frame(n);
    if (n < warmup) continue;
    per[mode].push(ns);
    if (mode === 'copy') damageBytes += bytes;
  }
  await demo.teardown();
  const frameBytes = damageBytes / frames;
  const [o, r, t, c] = modes.map((m) => median(per[m]));
  printTable(`A demo frame's display update vs a plain copy of the same bytes: ${SCANOUTS.map((s) => `${s.width}x${s.height}`).join(' + ')}, B8G8R8X8, ${(frameBytes / 1e6).toFixed(2)} MB of damage a frame (${frames} frames each, median)`, [
    ['per frame', 'ms', 'GB/s', 'x copy'],
    ['plain copy: TypedArray.set of the same rects from the renderer image', (c / 1e6).toFixed(3), gbps(frameBytes, c), '1.00'],
    ['Display update, opaque (default): readback + convert forcing alpha, damage, event', (o / 1e6).toFixed(3), gbps(frameBytes, o), (o / c).toFixed(2)],
    ['Display update, opaque: false: readback + convert, damage, event', (r / 1e6).toFixed(3), gbps(frameBytes, r), (r / c).toFixed(2)],
    ['earlier opaque path: opaque: false, then a second pass forcing alpha', (t / 1e6).toFixed(3), gbps(frameBytes, t), (t / c).toFixed(2)],
  ]);
  console.log(`ratio display update / copy: ${(o / c).toFixed(2)} (opaque, the default), ${(r / c).toFixed(2)} (opaque: false), ${(t / c).toFixed(2)} (earlier two-pass opaque); goal <= 2`);
  return o / c;
}

// ---- 2. demo frames per second, device alone vs with the Display ------------------------------

async function demoFps(frames, withDisplay) {
  const display = withDisplay ? new Display() : null;
  const { device, driver } = wire(display ?? NULL_SINK, undefined);
  display?.setSource(device);
  const demo = new DemoWorkload(driver, { maxScanouts: SCANOUTS.length });
  await demo.setup();
  for (let n = 0; n < 30; n++) await demo.frame(n);
  const t0 = nowNs();
  for (let n = 30; n < 30 + frames; n++) await demo.frame(n);
  const ns = nowNs() - t0;
  await demo.teardown();
  return (frames * 1e9) / ns;
}

async function fpsTable(frames, rounds) {
  const alone = [];
  const shown = [];
  // Interleaved, so machine noise hits both alike.
  for (let i = 0; i < rounds; i++) {
    alone.push(await demoFps(frames, false));
    shown.push(await demoFps(frames, true));
  }
  const best = (xs) => Math.max(...xs);
  printTable(`Demo frames per second (${frames} frames x ${rounds} rounds, interleaved)`, [
    ['', 'best fps', 'median fps', 'ms/frame (median)'],
    ['device alone (sink does nothing)', best(alone).toFixed(0), median(alone).toFixed(0), (1000 / median(alone)).toFixed(2)],
    ['device + Display', best(shown).toFixed(0), median(shown).toFixed(0), (1000 / median(shown)).toFixed(2)],
  ]);
  console.log(`Display costs ${((1000 / median(shown) - 1000 / median(alone))).toFixed(2)} ms a frame (median)`);
}

// ---- 3. primitives -----------------------------------------------------------------------------

function primitives() {
  const W = 800;
  const H = 600;
  const bytes = W * H * 4;
  const opts = quick ? { warmupMs: 100, sampleMs: 20, samples: 5 } : { warmupMs: 200, sampleMs: 40, samples: 9 };
  const rows = [['800x600 (1.92 MB)', 'ms', 'GB/s', 'x copy']];
  // Alpha bytes 255: the composite's source below then honours `opaque` by copying.
  const src = new Uint8Array(bytes).map((_, i) => (i % 4 === 3 ? 255 : (i * 2654435761) >>> 24));
  const dst = new Uint8Array(bytes);
  const copy = measure((units) => {
    const t0 = nowNs();
    for (let u = 0; u < units; u++) dst.set(src);
    return nowNs() - t0;
  }, { ...opts, opsPerUnit: 1 }).median;
  rows.push(['plain copy (Uint8Array.set)', (copy / 1e6).toFixed(3), gbps(bytes, copy), '1.00']);
  const row = (label, ns) => rows.push([label, (ns / 1e6).toFixed(3), gbps(bytes, ns), (ns / copy).toFixed(2)]);

  const formats = FORMATS.map((f) => [formatName(f).replace(/^VIRTIO_GPU_FORMAT_|_UNORM$/g, ''), f]);
  const full = { x: 0, y: 0, width: W, height: H };
  for (const [name, format] of formats) {
    const r = new Renderer2D();
    if (!r.createResource2d(1, { format, width: W, height: H }).ok) throw new Error(`create ${name}`);
    for (const opaque of [false, true]) {
      const ns = measure((units) => {
        const t0 = nowNs();
        for (let u = 0; u < units; u++) if (!r.readback(1, full, dst, W * 4, undefined, undefined, opaque)) throw new Error('readback failed');
        return nowNs() - t0;
      }, { ...opts, opsPerUnit: 1 }).median;
      row(`Renderer2D.readback ${name} -> RGBA8${opaque ? ' opaque' : ''}`, ns);
    }
  }

  const source = { readScanout: (_id, rect, out, stride) => {
    for (let y = 0; y < rect.height; y++) out.set(src.subarray(((rect.y + y) * W + rect.x) * 4, ((rect.y + y) * W + rect.x + rect.width) * 4), y * stride);
    return true;
  } };
  const display = new Display({ source });
  display.scanoutChanged(0, { resourceId: 1, width: W, height: H, r: full });
  const cursorImage = new Uint8Array(64 * 64 * 4).map((_, i) => (i % 4 === 3 ? 160 : 200));
  display.cursorChanged({ scanoutId: 0, x: 300, y: 200, hotX: 0, hotY: 0, resourceId: 9, image: cursorImage });
  const into = new Uint8Array(bytes);
  for (const [label, target] of [['new buffer', undefined], ['into a reused buffer', into]]) {
    row(`Display.composite, ${label} (copy + cursor blend)`, measure((units) => {
      const t0 = nowNs();
      for (let u = 0; u < units; u++) display.composite(0, target);
      return nowNs() - t0;
    }, { ...opts, opsPerUnit: 1 }).median);
  }
  row('Display.toPng (cursor drawn)', measure((units) => {
    const t0 = nowNs();
    for (let u = 0; u < units; u++) display.toPng(0, { cursor: true });
    return nowNs() - t0;
  }, { ...opts, warmupMs: 50, samples: 3, opsPerUnit: 1 }).median);
  printTable('Primitives (median)', rows);
}

await updateVsCopy(quick ? 100 : 400);
await fpsTable(quick ? 100 : 300, quick ? 2 : 5);
primitives();
