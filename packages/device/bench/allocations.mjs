/**
 * Heap bytes the device allocates per command on the queue path, on the built code.
 *
 * Same rig as queue-path.mjs (a DriverSplitRing in guest RAM, pre-encoded request slots). Only
 * device.notify() is inside the measurement: the heap's used size is read right before and right
 * after it, with a young generation large enough that no scavenge runs in between (a GC between
 * the two reads would hide allocations; such batches are discarded and counted). The cost of the
 * reads themselves is measured with nothing between them and subtracted.
 *
 * Rows: unfenced commands (answered at once), fenced commands with a renderer that retires the
 * fence inside createFence (answered at once too), and fenced commands held until a microtask
 * retires them (the held-chain path; the microtask runs outside the measurement, so its record is
 * counted but the retirement's own work is not).
 *
 * Run: node --expose-gc --max-semi-space-size=64 bench/allocations.mjs  (after `pnpm build`)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { OK, Renderer2D } from '@virtio-gpu/device';
import { printTable } from './harness.mjs';
import { COMMANDS, createRawRig } from './raw-rig.mjs';

const BATCHES = 400;

/** Renderer2D whose fences retire on the next microtask. */
class MicrotaskRetire extends Renderer2D {
  setFenceHandler(handler) {
    this.retire = handler;
    super.setFenceHandler(handler);
  }
  createFence(fence) {
    queueMicrotask(() => this.retire(fence));
    return OK;
  }
}

const ROWS = [
  ['RESOURCE_FLUSH', 'flush', false, null],
  ['TRANSFER_TO_HOST_2D 1x1', 'transfer1x1', false, null],
  ['GET_DISPLAY_INFO', 'displayInfo', false, null],
  ['RESOURCE_FLUSH, fenced, sync retire', 'flush', true, () => new Renderer2D()],
  ['TRANSFER_TO_HOST_2D, fenced, sync retire', 'transfer1x1', true, () => new Renderer2D()],
  ['RESOURCE_FLUSH, fenced, held to a microtask', 'flush', true, () => new MicrotaskRetire()],
];

const used = () => process.memoryUsage().heapUsed;

async function row(command, fenced, makeRenderer) {
  const rig = createRawRig({ command, fenced, renderer: makeRenderer?.() });
  const n = rig.slots;
  let fenceId = 0;
  const batch = () => {
    for (let i = 0; i < n; i++) {
      if (fenced) rig.setFenceId(i, ++fenceId);
      rig.add(i);
    }
    rig.ring.publish();
  };
  const drain = async () => {
    if (fenced) await new Promise((r) => setImmediate(r));
    if (rig.reap() !== n) throw new Error('device did not answer the whole batch');
  };
  // Warm up the JIT on the real loop.
  for (let k = 0; k < 300; k++) {
    batch();
    rig.device.notify(0);
    await drain();
  }
  globalThis.gc();
  let overhead = Infinity;
  for (let k = 0; k < 50; k++) {
    const a = used();
    const b = used();
    overhead = Math.min(overhead, b - a);
  }
  let bytes = 0;
  let counted = 0;
  let discarded = 0;
  for (let k = 0; k < BATCHES; k++) {
    batch();
    const a = used();
    rig.device.notify(0);
    const b = used();
    await drain();
    if (b < a) {
      discarded++; // a GC ran in between
      continue;
    }
    bytes += b - a - overhead;
    counted++;
  }
  if (rig.bad) throw new Error(`${rig.bad} unexpected responses`);
  return { perCommand: bytes / (counted * n), counted, discarded };
}

const rowArg = process.argv.indexOf('--row');
if (rowArg >= 0) {
  const [, command, fenced, make] = ROWS[Number(process.argv[rowArg + 1])];
  console.log(JSON.stringify(await row(command, fenced, make)));
} else {
  const self = fileURLToPath(import.meta.url);
  const rows = [['command', 'bytes / command', 'batches', 'discarded (GC)']];
  for (let i = 0; i < ROWS.length; i++) {
    const child = spawnSync(process.execPath, ['--expose-gc', '--max-semi-space-size=64', self, '--row', String(i)], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`row ${i} failed:\n${child.stderr}`);
    const r = JSON.parse(child.stdout.trim().split('\n').pop());
    rows.push([ROWS[i][0], r.perCommand.toFixed(1), r.counted, r.discarded]);
  }
  printTable(`Heap bytes allocated per command inside device.notify (built code, node ${process.version}; ${COMMANDS.flush.label} etc., ${BATCHES} batches each)`, rows);
}
