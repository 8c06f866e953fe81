/**
 * Small control commands per second through the whole queue path, on the built code.
 *
 * Batched like a busy guest: fill the ring with N chains, publish once, one kick; the device pops,
 * decodes, dispatches, encodes each response and pushes it used, then raises one interrupt; the
 * driver reaps. Three levels:
 * - device only: the ring is refilled outside the clock; only device.notify (pop .. interrupt) is
 *   timed. The interrupt handler does nothing; reaping happens after the clock stops.
 * - round trip, raw driver: pre-encoded request slots re-submitted (descriptors, avail entries,
 *   publish, kick decision), the device, the interrupt, and the driver reaping the used ring and
 *   checking every response header. Everything timed.
 * - round trip, GpuDriver: the guest package's general driver (encodes each command object,
 *   a promise per command, decodes each response). Everything timed.
 *
 * Each row runs in a fresh node process, so one row's JIT feedback (other command shapes) does
 * not slow the next; the "mixed" row alternates two commands in every batch to show the cost of
 * polymorphic call sites a real guest's mix brings.
 *
 * Goal (issue): >= 2 million small commands per second through the whole path.
 * Run: node bench/queue-path.mjs [--quick]  (after `pnpm build`)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { VirtioGpuDevice } from '@virtio-gpu/device';
import { GpuDriver, GuestRam } from '@virtio-gpu/guest';
import { SplitQueue } from '@virtio-gpu/virtqueue';
import { fmtRate, measure, nowNs, printTable } from './harness.mjs';
import { COMMANDS, RES_ID, createRawRig } from './raw-rig.mjs';

const GOAL = 2e6;
const quick = process.argv.includes('--quick');
const opts = quick ? { warmupMs: 150, sampleMs: 30, samples: 5 } : { warmupMs: 300, sampleMs: 60, samples: 11 };

function deviceOnly(command, queueSize) {
  const rig = createRawRig({ command, queueSize });
  const n = rig.slots;
  const run = (units) => {
    let ns = 0;
    for (let u = 0; u < units; u++) {
      for (let i = 0; i < n; i++) rig.add(i);
      rig.ring.publish();
      const t0 = nowNs();
      rig.device.notify(0);
      ns += nowNs() - t0;
      if (rig.reap() !== n) throw new Error('device did not answer the whole batch');
    }
    return ns;
  };
  const r = measure(run, { ...opts, opsPerUnit: n });
  if (rig.bad) throw new Error(`${rig.bad} unexpected responses`);
  return r;
}

function roundTripRaw(command, queueSize) {
  const rig = createRawRig({ command, queueSize });
  const n = rig.slots;
  let reaped = 0;
  rig.onInterrupt = () => {
    reaped += rig.reap();
  };
  const run = (units) => {
    const t0 = nowNs();
    for (let u = 0; u < units; u++) {
      for (let i = 0; i < n; i++) rig.add(i);
      rig.ring.publish();
      if (rig.ring.needsKick()) rig.device.notify(0);
    }
    const ns = nowNs() - t0;
    if (reaped !== units * n) throw new Error(`reaped ${reaped} of ${units * n}`);
    reaped = 0;
    return ns;
  };
  const r = measure(run, { ...opts, opsPerUnit: n });
  if (rig.bad) throw new Error(`${rig.bad} unexpected responses`);
  return r;
}

/** The general GpuDriver in batching mode: trySubmit N command objects, one kick. */
function roundTripGpuDriver(command, queueSize) {
  const ram = new GuestRam({ regions: [{ gpa: 0x4000_0000, bytes: 32 << 20 }] });
  let driver = null;
  const device = new VirtioGpuDevice({ memory: ram.memory, onInterrupt: () => driver?.interrupt() });
  driver = new GpuDriver({ ram, transport: { notify: (q) => device.notify(q) }, queueSize });
  device.negotiate(device.features);
  const qs = [0, 1].map((i) => {
    const l = driver.queueLayout(i);
    return new SplitQueue(ram.memory, { size: l.size, descAddr: l.descAddr, availAddr: l.availAddr, usedAddr: l.usedAddr, eventIdx: l.eventIdx });
  });
  device.attachQueues(qs[0], qs[1]);
  // Setup: the resource and its backing, synchronously answered by Renderer2D.
  const spec = COMMANDS[command];
  driver.trySubmit(0, { type: 0x0101, hdr: { type: 0x0101, flags: 0, fenceId: 0n, ctxId: 0, ringIdx: 0 }, resourceId: RES_ID, format: 2, width: 64, height: 64 });
  const page = ram.alloc(64 * 64 * 4);
  driver.trySubmit(0, { type: 0x0106, hdr: { type: 0x0106, flags: 0, fenceId: 0n, ctxId: 0, ringIdx: 0 }, resourceId: RES_ID, nrEntries: 1, entries: [{ addr: BigInt(page), length: 64 * 64 * 4 }] });
  const c = spec.make(0, 0n);
  const n = queueSize / 2;
  let bad = 0;
  driver.batching = true;
  const check = (resp) => {
    if (resp.type !== spec.okType) bad++;
  };
  const run = (units) => {
    const t0 = nowNs();
    for (let u = 0; u < units; u++) {
      for (let i = 0; i < n; i++) {
        const p = driver.trySubmit(0, c);
        if (p === null) throw new Error('ring full');
        if (i === 0) p.response.then(check);
      }
      driver.kick(0);
    }
    return nowNs() - t0;
  };
  const r = measure(run, { ...opts, opsPerUnit: n });
  if (driver.inFlight !== 0) throw new Error(`${driver.inFlight} commands unanswered`);
  return { ...r, bad: () => bad };
}

const LABEL = (command) => (Array.isArray(command) ? command.map((c) => COMMANDS[c].label.split(' ')[0]).join(' / ') + ' (mixed)' : COMMANDS[command].label);
const PATHS = {
  device: ['device only', deviceOnly],
  raw: ['round trip, raw driver', roundTripRaw],
  driver: ['round trip, GpuDriver', roundTripGpuDriver],
};
const ROWS = [
  ['device', 'flush', 256],
  ['device', 'transfer1x1', 256],
  ['device', 'displayInfo', 256],
  ['device', ['flush', 'transfer1x1'], 256],
  ['device', 'flush', 1024],
  ['raw', 'flush', 256],
  ['raw', 'transfer1x1', 256],
  ['raw', 'displayInfo', 256],
  ['raw', ['flush', 'transfer1x1'], 256],
  ['raw', 'flush', 1024],
  ['driver', 'flush', 256],
];

const rowArg = process.argv.indexOf('--row');
if (rowArg >= 0) {
  // Child: measure one row, print it as JSON.
  const [path, command, queueSize] = ROWS[Number(process.argv[rowArg + 1])];
  const r = PATHS[path][1](command, queueSize);
  await new Promise((res) => setTimeout(res, 0));
  if (r.bad?.()) throw new Error('GpuDriver saw unexpected responses');
  console.log(JSON.stringify({ best: r.best, median: r.median }));
} else {
  const self = fileURLToPath(import.meta.url);
  const rows = [['path', 'command', 'batch', 'best ns/op', 'median ns/op', 'best ops/s', 'median ops/s', 'best / goal']];
  for (let i = 0; i < ROWS.length; i++) {
    const [path, command, queueSize] = ROWS[i];
    const child = spawnSync(process.execPath, [self, '--row', String(i), ...(quick ? ['--quick'] : [])], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`row ${i} failed:\n${child.stderr}`);
    const r = JSON.parse(child.stdout.trim().split('\n').pop());
    rows.push([PATHS[path][0], LABEL(command), queueSize / 2, r.best.toFixed(0), r.median.toFixed(0), fmtRate(1e9 / r.best), fmtRate(1e9 / r.median), `${(1e9 / r.best / GOAL).toFixed(2)}x`]);
  }
  printTable(`Small commands through the whole queue path (built code, node ${process.version}; goal ${fmtRate(GOAL)}/s; each row in its own process)`, rows);
}
