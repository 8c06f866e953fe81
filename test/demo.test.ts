/**
 * The README's main job, `virtio-gpu demo`, exercised for real: PNG mode is deterministic and
 * shows exactly what the guest drew, serve mode serves the viewer from the built CLI, and the
 * workload runs on every scanout configuration the demo accepts.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInProcessGpu, type InProcessGpuOptions } from '@virtio-gpu/device';
import { Display } from '@virtio-gpu/display';
import { DemoWorkload } from '@virtio-gpu/guest';
import { PNG } from 'pngjs';
import { recordingIo, runDemo } from 'virtio-gpu';
import { WebSocket } from 'ws';
import { afterAll, describe, expect, test } from 'vitest';

const BIN = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'vgpu-demo-'));
  dirs.push(d);
  return d;
}
/** The demo's wiring: the device's in-process GPU with a Display as its sink. */
function displayedGpu(opts: InProcessGpuOptions) {
  const display = new Display();
  const gpu = createInProcessGpu({ ...opts, sink: display });
  display.setSource(gpu.device);
  return Object.assign(gpu, { display });
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});


/** The guest's 0xAARRGGBB framebuffer as opaque RGBA8. */
function guestRgba(px: Uint32Array): Buffer {
  const out = Buffer.alloc(px.length * 4);
  for (let i = 0; i < px.length; i++) {
    const v = px[i]!;
    out[i * 4] = (v >>> 16) & 255;
    out[i * 4 + 1] = (v >>> 8) & 255;
    out[i * 4 + 2] = v & 255;
    out[i * 4 + 3] = 255;
  }
  return out;
}

describe('virtio-gpu demo --png', () => {
  test('two runs write byte-identical frames, one PNG per frame and scanout', async () => {
    const [a, b] = [await tempDir(), await tempDir()];
    for (const d of [a, b]) {
      const t = recordingIo();
      expect(await runDemo(['--png', d, '--frames', '5', '--scanouts', '320x240,256x192'], t.io)).toBe(0);
      expect(JSON.parse(t.out.join(''))).toMatchObject({ frames: 5, dir: d });
    }
    const names = (await readdir(a)).sort();
    expect(names).toHaveLength(10);
    expect(names[0]).toBe('frame-000000-s0.png');
    for (const n of names) expect((await readFile(join(a, n))).equals(await readFile(join(b, n))), n).toBe(true);
    // The animation moves: consecutive frames of each scanout differ.
    expect((await readFile(join(a, 'frame-000000-s0.png'))).equals(await readFile(join(a, 'frame-000001-s0.png')))).toBe(false);
    expect((await readFile(join(a, 'frame-000000-s1.png'))).equals(await readFile(join(a, 'frame-000001-s1.png')))).toBe(false);
  });

  test('a frame PNG shows the guest framebuffer, with the cursor drawn at the guest cursor position', async () => {
    const d = await tempDir();
    expect(await runDemo(['--png', d, '--frames', '3', '--scanouts', '320x240'], recordingIo().io)).toBe(0);
    const png = PNG.sync.read(await readFile(join(d, 'frame-000002-s0.png')));
    // Replay the same workload in-process: the guest's own pixels are the reference.
    const gpu = displayedGpu({ scanouts: [{ width: 320, height: 240 }] });
    const demo = new DemoWorkload(gpu.driver, { maxScanouts: 1 });
    await demo.setup();
    for (let n = 0; n < 3; n++) await demo.frame(n);
    const want = guestRgba(demo.scanouts[0]!.px);
    expect([png.width, png.height]).toEqual([320, 240]);
    const cur = gpu.display.cursor;
    let differing = 0;
    for (let y = 0; y < 240; y++) {
      for (let x = 0; x < 320; x++) {
        const i = (y * 320 + x) * 4;
        const same = png.data[i] === want[i] && png.data[i + 1] === want[i + 1] && png.data[i + 2] === want[i + 2];
        if (same) continue;
        differing++;
        // Only the cursor's 64x64 box may differ from the guest's framebuffer.
        const inCursor = x >= cur.x - cur.hotX && x < cur.x - cur.hotX + 64 && y >= cur.y - cur.hotY && y < cur.y - cur.hotY + 64;
        expect(inCursor, `pixel ${x},${y} differs outside the cursor`).toBe(true);
      }
    }
    expect(differing).toBeGreaterThan(50); // the arrow is there
  });

  test('bad option values exit 1 with the usage text', async () => {
    for (const args of [['--frames', '0'], ['--scanouts', '10x10'], ['--fps', 'x'], ['--bogus']]) {
      const t = recordingIo();
      expect(await runDemo(args, t.io), args.join(' ')).toBe(1);
      expect(t.err.join('')).toContain('usage: virtio-gpu demo');
    }
  });
});

describe('demo workload on every scanout configuration', () => {
  test.each([
    ['tiny scanouts', [{ width: 64, height: 64 }, { width: 100, height: 70 }]],
    ['16 scanouts', Array.from({ length: 16 }, (_, i) => ({ width: 64 + 8 * i, height: 64 + 4 * i }))],
  ])('%s: every frame reaches every surface exactly as the guest drew it', async (_name, scanouts) => {
    const gpu = displayedGpu({ scanouts, ramBytes: 64 << 20, queueSize: 64 });
    const demo = new DemoWorkload(gpu.driver, { maxScanouts: scanouts.length });
    await demo.setup();
    expect(demo.scanouts).toHaveLength(scanouts.length);
    for (let n = 0; n < 3; n++) {
      await demo.frame(n);
      for (const s of demo.scanouts) expect(Buffer.compare(gpu.display.surface(s.id)!.data, guestRgba(s.px)), `scanout ${s.id} frame ${n}`).toBe(0);
    }
    await demo.teardown();
    expect(gpu.device.resourceCount).toBe(0);
  });
});

describe('virtio-gpu demo (serve), the built CLI', () => {
  const haveDist = existsSync(BIN);
  // The build is a prerequisite of `pnpm test` (turbo: test needs build); only a bare
  // `vitest run` without a build may lack it, and then only outside CI.
  test.skipIf(!haveDist && !process.env.CI)('prints the viewer URL, serves the page and the stream, and exits after --frames', async () => {
    const child = spawn(process.execPath, [BIN, 'demo', '--frames', '120', '--fps', '30', '--scanouts', '320x240,256x192'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL in: ${stdout}`)), 20_000);
      child.stdout.on('data', (b: Buffer) => {
        stdout += b.toString();
        const m = /viewer at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    try {
      const page = await fetch(url);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('<title>virtio-gpu demo</title>');
      expect(html).toContain("createElement('canvas')");
      const hello = await new Promise<{ type: string; scanouts: Array<{ width: number; height: number }> }>((resolve, reject) => {
        const ws = new WebSocket(url.replace('http', 'ws') + 'ws');
        ws.on('message', (data, isBinary) => {
          if (isBinary) return;
          resolve(JSON.parse(data.toString()));
          ws.close();
        });
        ws.on('error', reject);
      });
      expect(hello.type).toBe('hello');
      expect(hello.scanouts.map((s) => [s.width, s.height])).toEqual([[320, 240], [256, 192]]);
    } finally {
      expect(await exited).toBe(0);
    }
    expect(stdout).toContain('stopped after 120 frames');
  });
});
