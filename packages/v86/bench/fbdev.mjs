#!/usr/bin/env node
/**
 * Full-screen fbdev redraw in the v86 guest, on our virtio-gpu and on v86's own VGA (bochs-drm
 * over v86's Bochs VBE adapter), in one boot of the test guest (guest.mode=bench): the guest
 * writes FRAMES whole 1024x768x32 frames to each framebuffer, one write() each, timed by its own
 * clock, alternating devices for ROUNDS rounds so load drift on a shared machine hits both.
 *
 * Host side, per phase: process CPU time (process.cpuUsage) and the time spent in our device's
 * port handlers (transport, device, 2D renderer: everything the guest's notify runs). No display
 * is attached: v86's VGA renders nothing under Node either. What a display would add, one
 * full-frame RGBA readback per flush, is measured after the boot and reported beside.
 *
 * usage: node bench/fbdev.mjs [FRAMES] [ROUNDS]   (guest: .cache/guest-v86, test/guest-v86/build.sh)
 * Prints one JSON line per device and a summary with the ratios. Needs `pnpm build` first.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bootLinux } from '../dist/node.js';

const frames = Number(process.argv[2] ?? process.env.V86_BENCH_FRAMES ?? 40);
const rounds = Number(process.argv[3] ?? process.env.V86_BENCH_ROUNDS ?? 2);
const guest = fileURLToPath(new URL('../../../.cache/guest-v86/', import.meta.url));
if (!existsSync(`${guest}bzImage`)) {
  console.log(`v86 fbdev bench skipped: no guest in ${guest} (run test/guest-v86/build.sh)`);
  process.exit(0);
}

let gpu = null;
const phases = { 'virtio-gpu': [], vga: [] };
let open = null;
const snap = () => ({ cpu: process.cpuUsage(), wall: performance.now(), deviceMs: gpu?.stats.deviceMs ?? 0, io: gpu?.stats.ioAccesses ?? 0 });
let line = '';
const t0 = performance.now();
const g = await bootLinux({
  kernel: `${guest}bzImage`,
  initrd: `${guest}initrd.cpio.gz`,
  append: `console=ttyS0 quiet guest.mode=bench guest.frames=${frames} guest.rounds=${rounds}`,
  memoryMiB: 128,
  attach: { measure: true },
  onSerial: (ch) => {
    line += ch;
    if (ch !== '\n') return;
    if (/bench start device=/.test(line)) open = snap();
    const m = /V86G-BENCH device=(\S+) .*?seconds=([\d.]+)/.exec(line);
    if (m && open) {
      const end = snap();
      phases[m[1]].push({
        guestSeconds: Number(m[2]),
        cpuMs: (end.cpu.user - open.cpu.user + end.cpu.system - open.cpu.system) / 1000,
        wallMs: end.wall - open.wall,
        deviceMs: end.deviceMs - open.deviceMs,
        io: end.io - open.io,
      });
      open = null;
    }
    line = '';
  },
});
gpu = g.gpu;
try {
  await g.waitFor(/bench done|FAIL/, 1_800_000);
} catch (e) {
  await g.stop();
  throw e;
}

// What a display pays per full-screen flush: reading scanout 0 back as RGBA8 (Display.flushed).
const px = new Uint8Array(1024 * 768 * 4);
const full = { x: 0, y: 0, width: 1024, height: 768 };
gpu.readScanout(0, full, px, 4096);
const r0 = performance.now();
for (let i = 0; i < 20; i++) gpu.readScanout(0, full, px, 4096);
const readbackMs = (performance.now() - r0) / 20;
await g.stop();
if (/FAIL/.test(g.serial())) {
  console.error(g.serial().split('\n').filter((l) => l.includes('V86G')).join('\n'));
  process.exit(1);
}

const sum = (xs, k) => xs.reduce((n, x) => n + x[k], 0);
const results = {};
for (const [dev, ps] of Object.entries(phases)) {
  const n = frames * ps.length;
  const cpuMs = sum(ps, 'cpuMs');
  const deviceMs = sum(ps, 'deviceMs');
  results[dev] = {
    device: dev,
    frames: n,
    guestFps: +(n / sum(ps, 'guestSeconds')).toFixed(2),
    perRoundGuestFps: ps.map((p) => +(frames / p.guestSeconds).toFixed(2)),
    hostWallFps: +((n * 1000) / sum(ps, 'wallMs')).toFixed(2),
    hostCpuMs: Math.round(cpuMs),
    ourDeviceMs: +deviceMs.toFixed(1),
    ourDeviceMsPerFrame: +(deviceMs / n).toFixed(2),
    ourDeviceShareOfCpu: +(deviceMs / cpuMs).toFixed(4),
    portAccesses: sum(ps, 'io'),
  };
  console.log(JSON.stringify(results[dev]));
}
const v = results['virtio-gpu'];
const b = results.vga;
console.log(
  `v86 fbdev full-screen redraw, 1024x768x32, ${frames} frames x ${rounds} rounds per device, ${((performance.now() - t0) / 1000).toFixed(0)} s in all: ` +
    `virtio-gpu ${v.guestFps} fps vs v86 VGA (bochs-drm) ${b.guestFps} fps -> ratio ${(v.guestFps / b.guestFps).toFixed(2)} (goal >= 1); ` +
    `our device ${v.ourDeviceMsPerFrame} ms/frame = ${(100 * v.ourDeviceShareOfCpu).toFixed(2)}% of host CPU in the virtio-gpu phases (goal < 5%); ` +
    `a display's full-frame RGBA readback would add ${readbackMs.toFixed(2)} ms/frame (${((100 * readbackMs * v.frames) / v.hostCpuMs).toFixed(1)}% more)`,
);
