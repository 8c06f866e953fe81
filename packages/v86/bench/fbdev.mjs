#!/usr/bin/env node
/**
 * Full-screen fbdev redraw in the v86 guest, on our virtio-gpu and on v86's own VGA (bochs-drm
 * over v86's Bochs VBE adapter), in one boot of the test guest (guest.mode=bench): the guest
 * writes FRAMES whole 1024x768x32 frames to each framebuffer, one write() each, timed by its own
 * clock. After an unmeasured warm-up on each device (v86 compiles the hot guest code once), the
 * rounds alternate A B B A so load drift on a shared machine hits both alike.
 *
 * Per phase, host side: process CPU time, CPU time inside v86's main_loop (the emulated CPU and every
 * device it calls), CPU time in our device's port handlers (transport, device, 2D renderer) and the
 * part of it spent telling v86's JIT what the device wrote; guest side: the guest kernel's
 * /proc/stat ticks (user, system, idle, irq, softirq), and what the device saw (notifies, IRQs,
 * flushes, damaged pixels, warnings). No display is attached: v86's VGA renders nothing under
 * Node either. What a display would add, one full-frame RGBA readback per flush, is measured
 * after the boot and reported beside.
 *
 * usage: node bench/fbdev.mjs [FRAMES] [ROUNDS]   (guest: .cache/guest-v86 or $V86_GUEST_DIR,
 * built by test/guest-v86/build.sh). Prints one JSON line per device and a summary with the
 * ratios. Needs `pnpm build` first.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bootLinux } from '../dist/node.js';

// Many short phases: on a shared machine the CPU this process gets drifts within seconds.
const frames = Number(process.argv[2] ?? process.env.V86_BENCH_FRAMES ?? 10);
const rounds = Number(process.argv[3] ?? process.env.V86_BENCH_ROUNDS ?? 8);
/** V86_BENCH_PROFILE=1: sample the guest's instruction pointer and name the kernel functions it was in. */
const profile = process.env.V86_BENCH_PROFILE === '1';
/** V86_BENCH_TRACE=N: N more frames per device under the guest kernel's function_graph tracer. */
const traceFrames = Number(process.env.V86_BENCH_TRACE ?? 0);
const traceDepth = Number(process.env.V86_BENCH_TRACE_DEPTH ?? 3);
/** V86_BENCH_TRACE_ROOTS=f1,f2: the tracer's root functions instead of the guest's default set. */
const traceRoots = process.env.V86_BENCH_TRACE_ROOTS;
const guest = process.env.V86_GUEST_DIR ? `${process.env.V86_GUEST_DIR.replace(/\/$/, '')}/` : fileURLToPath(new URL('../../../.cache/guest-v86/', import.meta.url));
if (!existsSync(`${guest}bzImage`)) {
  console.log(`v86 fbdev bench skipped: no guest in ${guest} (run test/guest-v86/build.sh)`);
  process.exit(0);
}

/** What the device saw: flushes reach the sink, refused commands the log. */
const seen = { flushes: 0, damagePx: 0, warnings: 0 };
const lastWarnings = new Map();
const sink = {
  scanoutChanged() {},
  cursorChanged() {},
  flushed(_id, d) {
    seen.flushes++;
    seen.damagePx += d.width * d.height;
  },
};
const log = (level, m) => {
  if (level === 'info') return;
  seen.warnings++;
  lastWarnings.set(m.replace(/\d+/g, 'N'), (lastWarnings.get(m.replace(/\d+/g, 'N')) ?? 0) + 1);
};

/** This process's CPU time in milliseconds: the machine is shared, wall time counts others' turns. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

let gpu = null;
/**
 * v86 internals, counted once the emulator exists: CPU milliseconds inside main_loop, guest code
 * compiled by its JIT (modules handed to WebAssembly; V8 compiles them on other threads, so
 * that CPU shows outside main_loop) and memory-mapped I/O that left wasm for JavaScript.
 */
const loop = { ms: 0, calls: 0, jitModules: 0, jitBytes: 0, jitClears: 0, mmio: 0 };
const phases = { 'virtio-gpu': [], vga: [] };
/** Guest EIPs sampled at each return from main_loop (a time slice's end) in the measured phases. */
const samples = { 'virtio-gpu': [], vga: [] };
let sampling = null;
let open = null;
const snap = () => ({
  cpu: process.cpuUsage(),
  wall: performance.now(),
  loopMs: loop.ms,
  loopCalls: loop.calls,
  jitModules: loop.jitModules,
  jitBytes: loop.jitBytes,
  jitClears: loop.jitClears,
  mmio: loop.mmio,
  deviceMs: gpu?.stats.deviceMs ?? 0,
  jitMs: gpu?.stats.jitDirtyMs ?? 0,
  jitCalls: gpu?.stats.jitDirtyCalls ?? 0,
  io: gpu?.stats.ioAccesses ?? 0,
  irqs: gpu?.stats.irqs ?? 0,
  ...seen,
});
const diff = (a, b, k) => b[k] - a[k];
let line = '';
// The end is watched here, line by line: waitFor tests its pattern against the whole console
// text at every newline, and the profile's symbol list is tens of thousands of lines.
const endMark = profile ? 'V86G-KALLSYMS end' : 'bench done';
let ended;
const end = new Promise((resolve) => (ended = resolve));
const t0 = performance.now();
const g = await bootLinux({
  kernel: `${guest}bzImage`,
  initrd: `${guest}initrd.cpio.gz`,
  append: [
    `console=ttyS0 quiet guest.mode=bench guest.frames=${frames} guest.rounds=${rounds}`,
    profile && 'guest.profile=1',
    traceFrames > 0 && `guest.trace=${traceFrames} guest.tracedepth=${traceDepth}`,
    traceFrames > 0 && traceRoots && `guest.traceroots=${traceRoots}`,
  ]
    .filter(Boolean)
    .join(' '),
  memoryMiB: 128,
  sink,
  attach: { measure: true, clock: cpuMs, log, device: { limits: { logLinesPerSecond: 1e9 } } },
  onSerial: (ch) => {
    line += ch;
    if (ch !== '\n') return;
    if (line.includes(endMark) || line.includes('FAIL')) ended();
    const start = /bench start device=(\S+) .*phase=measure/.exec(line);
    if (start) sampling = samples[start[1]];
    if (/bench start device=/.test(line)) open = snap();
    const m = /V86G-BENCH device=(\S+) phase=(\S+) .*?seconds=([\d.]+) .*?cpu=(\d+),(\d+),(\d+),(\d+),(\d+)/.exec(line);
    if (m && open && m[2] === 'measure') {
      const end = snap();
      const [user, system, idle, irq, softirq] = m.slice(4).map(Number);
      phases[m[1]].push({
        guestSeconds: Number(m[3]),
        guestTicks: { user, system, idle, irq, softirq },
        cpuMs: (end.cpu.user - open.cpu.user + end.cpu.system - open.cpu.system) / 1000,
        wallMs: end.wall - open.wall,
        ...Object.fromEntries(['loopMs', 'loopCalls', 'jitModules', 'jitBytes', 'jitClears', 'mmio', 'deviceMs', 'jitMs', 'jitCalls', 'io', 'irqs', 'flushes', 'damagePx', 'warnings'].map((k) => [k, diff(open, end, k)])),
      });
    }
    if (m) {
      open = null;
      sampling = null;
    }
    line = '';
  },
});
gpu = g.gpu;
// v86 calls cpu.main_loop() through the property on every tick: wrapping it measures the CPU
// time of the emulation (the guest's code and every device it calls), apart from the event loop.
const cpu = g.emulator.v86.cpu;
const mainLoop = cpu.main_loop;
cpu.main_loop = (...a) => {
  const s = process.cpuUsage();
  try {
    return mainLoop.apply(cpu, a);
  } finally {
    const e = process.cpuUsage(s);
    loop.ms += (e.user + e.system) / 1000;
    loop.calls++;
    // The view is made per sample: v86's own detaches when the wasm memory grows.
    if (profile && sampling) sampling.push(new Int32Array(cpu.wasm_memory.buffer, 556, 1)[0] >>> 0);
  }
};
// The wasm imports call these through the CPU object at each call, so wrapping them counts.
const count = (name, f) => {
  const orig = cpu[name];
  cpu[name] = function (...a) {
    f(a);
    return orig.apply(this, a);
  };
};
count('codegen_finalize', (a) => {
  loop.jitModules++;
  loop.jitBytes += a[4] >>> 0;
});
count('jit_clear_func', () => loop.jitClears++);
for (const n of ['mmap_read8', 'mmap_read32', 'mmap_write8', 'mmap_write16', 'mmap_write32', 'mmap_write64', 'mmap_write128']) count(n, () => loop.mmio++);
try {
  let timer;
  await Promise.race([end, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('bench timed out after 30 min')), 1_800_000)))]);
  clearTimeout(timer);
} catch (e) {
  await g.stop();
  throw e;
}

// What a display pays per full-screen flush: reading scanout 0 back as RGBA8 (Display.flushed).
const px = new Uint8Array(1024 * 768 * 4);
const full = { x: 0, y: 0, width: 1024, height: 768 };
gpu.readScanout(0, full, px, 4096);
const r0 = cpuMs();
for (let i = 0; i < 20; i++) gpu.readScanout(0, full, px, 4096);
const readbackMs = (cpuMs() - r0) / 20;
await g.stop();
if (process.env.V86_BENCH_SERIAL) writeFileSync(process.env.V86_BENCH_SERIAL, g.serial());
if (/FAIL/.test(g.serial())) {
  console.error(g.serial().split('\n').filter((l) => l.includes('V86G')).join('\n'));
  process.exit(1);
}

const sum = (xs, k) => xs.reduce((n, x) => n + x[k], 0);
const per = (v, n, digits = 2) => +(v / n).toFixed(digits);
const results = {};
for (const [dev, ps] of Object.entries(phases)) {
  const n = frames * ps.length;
  const cpuMs = sum(ps, 'cpuMs');
  const deviceMs = sum(ps, 'deviceMs');
  const ticks = {};
  for (const k of ['user', 'system', 'idle', 'irq', 'softirq']) ticks[k] = ps.reduce((t, p) => t + p.guestTicks[k], 0);
  results[dev] = {
    device: dev,
    frames: n,
    guestFps: per(n, sum(ps, 'guestSeconds')),
    perRoundGuestFps: ps.map((p) => per(frames, p.guestSeconds)),
    hostWallFps: per(n * 1000, sum(ps, 'wallMs')),
    hostCpuMsPerFrame: per(cpuMs, n, 1),
    emulationCpuMsPerFrame: per(sum(ps, 'loopMs'), n, 1),
    mainLoopCallsPerFrame: per(sum(ps, 'loopCalls'), n, 1),
    jitModulesPerFrame: per(sum(ps, 'jitModules'), n, 1),
    jitKiBPerFrame: per(sum(ps, 'jitBytes') / 1024, n, 1),
    jitClearsPerFrame: per(sum(ps, 'jitClears'), n, 1),
    mmioToJsPerFrame: per(sum(ps, 'mmio'), n, 0),
    guestTicksPerFrame: Object.fromEntries(Object.entries(ticks).map(([k, v]) => [k, per(v, n)])),
    ourDeviceMsPerFrame: per(deviceMs, n),
    ourDeviceShareOfCpu: per(deviceMs, cpuMs, 4),
    jitDirtyCallsPerFrame: per(sum(ps, 'jitCalls'), n, 1),
    jitDirtyMsPerFrame: per(sum(ps, 'jitMs'), n, 3),
    portAccessesPerFrame: per(sum(ps, 'io'), n, 1),
    irqsPerFrame: per(sum(ps, 'irqs'), n, 1),
    flushesPerFrame: per(sum(ps, 'flushes'), n, 2),
    damagePxPerFrame: Math.round(sum(ps, 'damagePx') / n),
    warningsPerFrame: per(sum(ps, 'warnings'), n, 2),
  };
  console.log(JSON.stringify(results[dev]));
}
if (lastWarnings.size > 0) console.log(`device warnings over the run: ${JSON.stringify(Object.fromEntries(lastWarnings))}`);
if (profile) printProfile(g.serial());
if (traceFrames > 0) printTrace(g.serial());
const v = results['virtio-gpu'];
const b = results.vga;
console.log(
  `v86 fbdev full-screen redraw, 1024x768x32, ${frames} frames x ${rounds} rounds per device (A B B A), ${((performance.now() - t0) / 1000).toFixed(0)} s in all: ` +
    `virtio-gpu ${v.guestFps} fps vs v86 VGA (bochs-drm) ${b.guestFps} fps -> ratio ${(v.guestFps / b.guestFps).toFixed(2)} (goal >= 1); ` +
    `host CPU per frame ${v.hostCpuMsPerFrame} vs ${b.hostCpuMsPerFrame} ms (ratio ${(b.hostCpuMsPerFrame / v.hostCpuMsPerFrame).toFixed(2)}); ` +
    `our device ${v.ourDeviceMsPerFrame} ms/frame = ${(100 * v.ourDeviceShareOfCpu).toFixed(2)}% of host CPU in the virtio-gpu phases (goal < 5%); ` +
    `a display's full-frame RGBA readback would add ${readbackMs.toFixed(2)} ms/frame (${((100 * readbackMs) / v.hostCpuMsPerFrame).toFixed(1)}% more)`,
);

/** The share of each device's samples per kernel function (module functions carry [module]). */
function printProfile(serial) {
  const text = serial.slice(serial.indexOf('V86G-KALLSYMS begin'), serial.indexOf('V86G-KALLSYMS end'));
  const syms = [];
  for (const l of text.split('\n').slice(1)) {
    const [addr, name, mod] = l.trim().split(/\s+/);
    if (name) syms.push([parseInt(addr, 16), mod ? `${name} ${mod}` : name]);
  }
  syms.sort((a, b) => a[0] - b[0]);
  const nameOf = (eip) => {
    if (eip < 0xc000_0000) return '(user space)';
    let lo = 0;
    let hi = syms.length - 1;
    if (hi < 0 || eip < syms[0][0]) return '(unknown)';
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (syms[mid][0] <= eip) lo = mid;
      else hi = mid - 1;
    }
    return syms[lo][1];
  };
  const shares = {};
  for (const [dev, eips] of Object.entries(samples)) {
    const byName = new Map();
    for (const e of eips) byName.set(nameOf(e), (byName.get(nameOf(e)) ?? 0) + 1);
    shares[dev] = { n: eips.length, byName };
  }
  const names = new Set([...shares['virtio-gpu'].byName.keys(), ...shares.vga.byName.keys()]);
  const rows = [...names].map((n) => {
    const a = (shares['virtio-gpu'].byName.get(n) ?? 0) / shares['virtio-gpu'].n;
    const b = (shares.vga.byName.get(n) ?? 0) / shares.vga.n;
    return { n, a, b };
  });
  rows.sort((x, y) => Math.max(y.a, y.b) - Math.max(x.a, x.b));
  console.log(`guest EIP samples: virtio-gpu ${shares['virtio-gpu'].n}, vga ${shares.vga.n}; share of samples per function (virtio-gpu / vga):`);
  for (const r of rows.slice(0, 25)) console.log(`  ${(100 * r.a).toFixed(1).padStart(5)}% ${(100 * r.b).toFixed(1).padStart(5)}%  ${r.n}`);
}

/**
 * The guest kernel's own account of a frame (guest.trace): each traced function's time per frame
 * on both devices, the functions where they differ most first. Guest microseconds are v86's
 * emulated time and include the tracer's own cost; compare the two columns, not with host CPU.
 */
function printTrace(serial) {
  const rows = new Map();
  for (const m of serial.matchAll(/V86G-TRACE device=(\S+) depth=(\d+) calls=(\d+) us=(\d+) fn=(.*)/g)) {
    const key = `${m[2]} ${m[5].trim()}`;
    const row = rows.get(key) ?? { depth: Number(m[2]), fn: m[5].trim(), 'virtio-gpu': { calls: 0, us: 0 }, vga: { calls: 0, us: 0 } };
    row[m[1]] = { calls: Number(m[3]), us: Number(m[4]) };
    rows.set(key, row);
  }
  const ms = (r, d) => r[d].us / 1000 / traceFrames;
  const sorted = [...rows.values()].sort((a, b) => Math.abs(ms(b, 'virtio-gpu') - ms(b, 'vga')) - Math.abs(ms(a, 'virtio-gpu') - ms(a, 'vga')));
  const total = (d) => [...rows.values()].filter((r) => r.depth === 1).reduce((n, r) => n + ms(r, d), 0);
  console.log(`guest function_graph, ${traceFrames} frames per device, depth <= ${traceDepth}: guest ms per frame (calls per frame), virtio-gpu vs vga; roots total ${total('virtio-gpu').toFixed(1)} vs ${total('vga').toFixed(1)} ms`);
  for (const r of sorted.slice(0, 60)) {
    const cell = (d) => `${ms(r, d).toFixed(2).padStart(8)} (${(r[d].calls / traceFrames).toFixed(1).padStart(6)})`;
    console.log(`  ${cell('virtio-gpu')} ${cell('vga')}  ${'  '.repeat(r.depth - 1)}${r.fn}`);
  }
  for (const l of serial.split('\n').filter((l) => /trace done|no trace root|no tracefs/.test(l))) console.log(`  ${l.trim()}`);
}
