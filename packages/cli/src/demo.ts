import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInProcessGpu } from '@virtio-gpu/device';
import { Display } from '@virtio-gpu/display';
import { startViewer, writePng } from '@virtio-gpu/display/node';
import { DemoWorkload } from '@virtio-gpu/guest';
import { onStopSignal, parseCommandLine } from './command-line.js';
import type { CliIo } from './cli-io.js';
import { loadRenderer } from './renderer-choice.js';
import { runDemoLinux } from './demo-linux.js';

export const DEMO_USAGE = `usage: virtio-gpu demo [options]

Runs the device in-process, driven by the guest driver's deterministic workload (full-frame and
partial transfers from scattered pages, flushes, a moving cursor, two scanouts, fenced frames).

  --png DIR          write each frame of each scanout as DIR/frame-NNNNNN-sS.png (cursor drawn) and exit
  --frames N         frames to run (default: forever when serving, 60 with --png)
  --fps N            frames per second when serving (default 30)
  --host H           viewer address (default 127.0.0.1)
  --port N           viewer port (default 0: any free port)
  --scanouts LIST    scanout sizes, e.g. 800x600,640x480 (1 to 16; default 800x600,640x480)
  --renderer NAME    ts (default: the embedded TypeScript renderer) or rutabaga (rutabaga_gfx
                     through @virtio-gpu/native; needs its binary for this platform)
  --linux            instead: serve a page booting Linux in v86 on our device (demo --linux --help)
  -h, --help         this text
`;

/** Parses "800x600,640x480" into scanout sizes; null when malformed. */
export function parseScanouts(text: string): Array<{ width: number; height: number }> | null {
  const out = [];
  for (const part of text.split(',')) {
    const m = /^(\d{1,5})x(\d{1,5})$/.exec(part.trim());
    if (!m) return null;
    const width = Number(m[1]);
    const height = Number(m[2]);
    if (width < 64 || height < 64 || width > 8192 || height > 8192) return null;
    out.push({ width, height });
  }
  return out.length >= 1 && out.length <= 16 ? out : null;
}

/** `virtio-gpu demo`: serves the live viewer, or writes PNG frames with --png. */
export async function runDemo(args: string[], io: CliIo): Promise<number> {
  if (args.includes('--linux')) return runDemoLinux(args.filter((a) => a !== '--linux'), io);
  const values = parseCommandLine(
    'demo',
    DEMO_USAGE,
    {
      png: { type: 'string' },
      frames: { type: 'string' },
      fps: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      scanouts: { type: 'string' },
      renderer: { type: 'string' },
    },
    args,
    io,
  );
  if (typeof values === 'number') return values;
  const scanouts = parseScanouts(values.scanouts ?? '800x600,640x480');
  const frames = values.frames === undefined ? (values.png ? 60 : Infinity) : Number(values.frames);
  const fps = Number(values.fps ?? 30);
  const port = Number(values.port ?? 0);
  if (!scanouts || !(frames >= 1) || !Number.isInteger(frames === Infinity ? 1 : frames) || !(fps > 0 && fps <= 1000) || !Number.isInteger(port) || port < 0 || port > 65535) {
    io.stderr(`virtio-gpu demo: bad option value\n\n${DEMO_USAGE}`);
    return 1;
  }

  const choice = await loadRenderer(values.renderer ?? 'ts');
  if (typeof choice === 'string') {
    io.stderr(`virtio-gpu demo: ${choice}\n`);
    return 1;
  }
  // The device's in-process wiring (guest RAM, driver, rings, device) with a Display as its sink.
  const display = new Display();
  const gpu = createInProcessGpu({ scanouts, sink: display, renderer: choice.renderer, sharedRam: choice.sharedRam });
  display.setSource(gpu.device);
  const demo = new DemoWorkload(gpu.driver, { maxScanouts: scanouts.length });
  await demo.setup();

  if (values.png !== undefined) {
    const dir = values.png;
    await mkdir(dir, { recursive: true });
    const step = Math.max(1, Math.floor(frames / 10));
    for (let n = 0; n < frames; n++) {
      await demo.frame(n);
      for (const s of demo.scanouts) {
        const name = `frame-${String(n).padStart(6, '0')}-s${s.id}.png`;
        await writePng(join(dir, name), display, s.id, { cursor: true });
      }
      if ((n + 1) % step === 0 || n + 1 === frames) io.stderr(`demo: ${n + 1}/${frames} frames\n`);
    }
    await demo.teardown();
    io.stdout(`${JSON.stringify({ frames, scanouts: demo.scanouts.length || scanouts.length, dir })}\n`);
    return 0;
  }

  const viewer = await startViewer({ display, host: values.host ?? '127.0.0.1', port, title: 'virtio-gpu demo' });
  io.stdout(`virtio-gpu demo: viewer at ${viewer.url}\n`);
  io.stdout('Press Ctrl+C to stop.\n');
  let stopped = false;
  const offStop = onStopSignal(() => {
    stopped = true;
  });
  const start = performance.now();
  let lastReport = start;
  let n = 0;
  while (!stopped && n < frames) {
    await demo.frame(n);
    n++;
    // Frame pacing from the frame number, so a slow frame is caught up rather than drifting.
    const due = start + (n * 1000) / fps;
    const now = performance.now();
    if (now - lastReport >= 5000) {
      io.stderr(`demo: frame ${n}, ${((n * 1000) / (now - start)).toFixed(1)} fps, ${viewer.clientCount} viewer(s)\n`);
      lastReport = now;
    }
    if (due > now) await new Promise((r) => setTimeout(r, due - now));
  }
  offStop();
  await viewer.close();
  await demo.teardown();
  io.stdout(`virtio-gpu demo: stopped after ${n} frames\n`);
  return 0;
}
