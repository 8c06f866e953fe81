#!/usr/bin/env node
/**
 * Full-screen fbdev redraw in the v86 guest, on our virtio-gpu and on v86's own VGA (bochs-drm
 * over v86's Bochs VBE adapter), in one boot of the test guest (guest.mode=bench): the guest
 * writes FRAMES whole 1024x768x32 frames to each framebuffer, one write() each, timed by its own
 * clock. The host side records, per phase, its CPU time (process.cpuUsage) and the time spent in
 * our device (port handlers: transport, device, renderer and the Display's surface copy, all of
 * which run inside the guest's notify write).
 *
 * usage: node bench/fbdev.mjs [FRAMES]     (guest: .cache/guest-v86, test/guest-v86/build.sh)
 * Prints one JSON line per device and a summary with the ratios. Needs `pnpm build` first.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Display } from '@virtio-gpu/display';
import { bootLinux } from '../dist/node.js';

const frames = Number(process.argv[2] ?? process.env.V86_BENCH_FRAMES ?? 60);
const guest = fileURLToPath(new URL('../../../.cache/guest-v86/', import.meta.url));
if (!existsSync(`${guest}bzImage`)) {
  console.log(`v86 fbdev bench skipped: no guest in ${guest} (run test/guest-v86/build.sh)`);
  process.exit(0);
}

let gpu = null;
const display = new Display({ source: { readScanout: (id, r, dst, stride) => gpu?.device.readScanout(id, r, dst, stride) ?? false } });
const marks = {};
const snap = () => ({ cpu: process.cpuUsage(), wall: performance.now(), deviceMs: gpu?.stats.deviceMs ?? 0, flushes: display.stats.flushes });
let line = '';
const t0 = performance.now();
const g = await bootLinux({
  kernel: `${guest}bzImage`,
  initrd: `${guest}initrd.cpio.gz`,
  append: `console=ttyS0 quiet guest.mode=bench guest.frames=${frames}`,
  memoryMiB: 128,
  sink: display,
  attach: { measure: true },
  onSerial: (ch) => {
    line += ch;
    if (ch !== '\n') return;
    const m = /bench start device=(\S+)/.exec(line) ?? /V86G-BENCH device=(\S+)/.exec(line);
    if (m) (marks[m[1]] ??= []).push({ ...snap(), line: line.trim() });
    line = '';
  },
});
gpu = g.gpu;
try {
  await g.waitFor(/bench done|FAIL/, 900_000);
} finally {
  await g.stop();
}
if (/FAIL/.test(g.serial())) {
  console.error(g.serial().split('\n').filter((l) => l.includes('V86G')).join('\n'));
  process.exit(1);
}

const results = {};
for (const dev of ['virtio-gpu', 'vga']) {
  const [start, end] = marks[dev];
  const r = /fps=([\d.]+).*?bytes=(\d+)/.exec(end.line);
  const cpuMs = (end.cpu.user - start.cpu.user + end.cpu.system - start.cpu.system) / 1000;
  const wallMs = end.wall - start.wall;
  const deviceMs = end.deviceMs - start.deviceMs;
  results[dev] = {
    device: dev,
    frames,
    guestFps: Number(r[1]),
    hostWallFps: +((frames * 1000) / wallMs).toFixed(2),
    hostCpuMs: Math.round(cpuMs),
    wallMs: Math.round(wallMs),
    ourDeviceMs: +deviceMs.toFixed(1),
    ourDeviceShareOfCpu: +(deviceMs / cpuMs).toFixed(4),
    flushes: end.flushes - start.flushes,
  };
  console.log(JSON.stringify(results[dev]));
}
const v = results['virtio-gpu'];
const b = results.vga;
console.log(
  `v86 fbdev full-screen redraw, 1024x768x32, ${frames} frames each, boot ${((performance.now() - t0) / 1000).toFixed(0)} s total: ` +
    `virtio-gpu ${v.guestFps} fps vs v86 VGA (bochs-drm) ${b.guestFps} fps -> ratio ${(v.guestFps / b.guestFps).toFixed(2)} (goal >= 1); ` +
    `our device ${(100 * v.ourDeviceShareOfCpu).toFixed(2)}% of host CPU during the virtio-gpu phase (goal < 5%)`,
);
