/**
 * Fence round-trip latency on the built code: one fenced command (RESOURCE_FLUSH of an
 * off-scanout resource, VIRTIO_GPU_FLAG_FENCE, increasing fence ids) sent -> its response
 * received by the driver's interrupt handler, one at a time (queue otherwise idle).
 *
 * Renderers:
 * - Renderer2D: retires the fence synchronously inside createFence, so the answer is pushed
 *   before notify() returns.
 * - microtask: a Renderer2D whose fences retire on the next microtask (queueMicrotask).
 * - setImmediate: fences retire on the next event-loop turn (like a renderer polled by the
 *   embedder's loop).
 *
 * Drivers: the raw driver (pre-encoded slot; only the fence id rewritten) and the general
 * GpuDriver (send() encodes the command object, awaits a promise, decodes the response).
 * Each sample is one round trip timed alone; the table gives min / median / p99 in microseconds.
 * Run: node bench/fence-latency.mjs  (after `pnpm build`)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { OK, Renderer2D, VirtioGpuDevice } from '@virtio-gpu/device';
import { GpuDriver, GuestRam } from '@virtio-gpu/guest';
import { VIRTIO_GPU_FLAG_FENCE, VIRTIO_GPU_RESP_OK_NODATA } from '@virtio-gpu/protocol';
import { SplitQueue } from '@virtio-gpu/virtqueue';
import { percentile, printTable } from './harness.mjs';
import { COMMANDS, RES_ID, createRawRig } from './raw-rig.mjs';

const quick = process.argv.includes('--quick');
const WARMUP = quick ? 2000 : 5000;
const SAMPLES = quick ? 5000 : 20000;

/** Renderer2D whose fences retire later, through `schedule`. */
class DeferredRetireRenderer extends Renderer2D {
  constructor(schedule) {
    super();
    this.schedule = schedule;
    this.retire = null;
  }
  setFenceHandler(handler) {
    this.retire = handler;
    super.setFenceHandler(handler);
  }
  createFence(fence) {
    this.schedule(() => this.retire(fence));
    return OK;
  }
}

const RENDERERS = {
  'Renderer2D (sync retire)': () => new Renderer2D(),
  'microtask retire': () => new DeferredRetireRenderer(queueMicrotask),
  'setImmediate retire': () => new DeferredRetireRenderer(setImmediate),
};

/** Raw driver: slot 0 re-submitted with a fresh fence id; resolves when the interrupt reaps it. */
async function rawLatency(makeRenderer) {
  const rig = createRawRig({ command: 'flush', fenced: true, renderer: makeRenderer() });
  let fenceId = 0;
  let done = null;
  let got = 0;
  rig.onInterrupt = () => {
    got += rig.reap();
    if (done && got > 0) {
      const d = done;
      done = null;
      d();
    }
  };
  const times = [];
  for (let k = 0; k < WARMUP + SAMPLES; k++) {
    got = 0;
    rig.setFenceId(0, ++fenceId);
    const t0 = performance.now();
    rig.add(0);
    rig.ring.publish();
    if (rig.ring.needsKick()) rig.device.notify(0);
    if (got === 0) await new Promise((r) => (done = r));
    const dt = performance.now() - t0;
    if (got !== 1) throw new Error(`reaped ${got}`);
    if (k >= WARMUP) times.push(dt * 1000);
  }
  if (rig.bad) throw new Error(`${rig.bad} unexpected responses`);
  return times.sort((a, b) => a - b);
}

/** GpuDriver.send(cmd, { fence: true }) awaited. */
async function driverLatency(makeRenderer) {
  const ram = new GuestRam({ regions: [{ gpa: 0x4000_0000, bytes: 32 << 20 }] });
  let driver = null;
  const device = new VirtioGpuDevice({ memory: ram.memory, renderer: makeRenderer(), onInterrupt: () => driver?.interrupt() });
  driver = new GpuDriver({ ram, transport: { notify: (q) => device.notify(q) } });
  device.negotiate(device.features);
  const qs = [0, 1].map((i) => {
    const l = driver.queueLayout(i);
    return new SplitQueue(ram.memory, { size: l.size, descAddr: l.descAddr, availAddr: l.availAddr, usedAddr: l.usedAddr, eventIdx: l.eventIdx });
  });
  device.attachQueues(qs[0], qs[1]);
  const h = (type) => ({ type, flags: 0, fenceId: 0n, ctxId: 0, ringIdx: 0 });
  const created = await driver.send({ type: 0x0101, hdr: h(0x0101), resourceId: RES_ID, format: 2, width: 64, height: 64 });
  if (created.type !== VIRTIO_GPU_RESP_OK_NODATA) throw new Error('setup failed');
  const c = COMMANDS.flush.make(0, 0n);
  const fenced = { fence: true };
  const times = [];
  for (let k = 0; k < WARMUP + SAMPLES; k++) {
    const t0 = performance.now();
    const resp = await driver.send(c, fenced);
    const dt = performance.now() - t0;
    if (resp.type !== VIRTIO_GPU_RESP_OK_NODATA || (resp.hdr.flags & VIRTIO_GPU_FLAG_FENCE) === 0) throw new Error('bad fenced response');
    if (k >= WARMUP) times.push(dt * 1000);
  }
  return times.sort((a, b) => a - b);
}

const DRIVERS = { raw: rawLatency, 'GpuDriver.send': driverLatency };
const CASES = Object.keys(RENDERERS).flatMap((r) => Object.keys(DRIVERS).map((d) => [r, d]));
const caseArg = process.argv.indexOf('--case');
if (caseArg >= 0) {
  // Child: one renderer/driver pair in a fresh process (no JIT feedback from the other cases).
  const [r, d] = CASES[Number(process.argv[caseArg + 1])];
  const t = await DRIVERS[d](RENDERERS[r]);
  const mean = t.reduce((a, b) => a + b, 0) / t.length;
  console.log(JSON.stringify({ min: t[0], median: percentile(t, 50), p99: percentile(t, 99), mean }));
} else {
  const self = fileURLToPath(import.meta.url);
  const rows = [['renderer', 'driver', 'min µs', 'median µs', 'p99 µs', 'mean µs']];
  for (let i = 0; i < CASES.length; i++) {
    const child = spawnSync(process.execPath, [self, '--case', String(i), ...(quick ? ['--quick'] : [])], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`case ${i} failed:\n${child.stderr}`);
    const r = JSON.parse(child.stdout.trim().split('\n').pop());
    rows.push([...CASES[i], r.min.toFixed(2), r.median.toFixed(2), r.p99.toFixed(2), r.mean.toFixed(2)]);
  }
  printTable(`Fence round trip: fenced RESOURCE_FLUSH sent -> response reaped (built code, node ${process.version}; ${SAMPLES} samples each, each case in its own process)`, rows);
}
