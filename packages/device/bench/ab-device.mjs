/**
 * Before/after on a noisy machine: the device-only queue path (device.notify over a batch of
 * pre-encoded chains, as queue-path.mjs's first rows) for two builds of @virtio-gpu/device in ONE
 * process, batches interleaved A/B/B/A, so both see the same load. Prints min and median ns per
 * command and new/base ratios. The rig (ring, driver, RAM) is this checkout's; only the device
 * class differs.
 *
 * Run: node bench/ab-device.mjs /path/to/other/checkout/packages/device/dist/index.js [command] [fenced]
 *   command: flush | transfer1x1 | displayInfo | flush,transfer1x1 (mixed); fenced: sync-retired fences
 */
import { pathToFileURL } from 'node:url';
import { VirtioGpuDevice } from '@virtio-gpu/device';
import { createRawRig } from './raw-rig.mjs';

const [basePath, command = 'flush', fencedArg] = process.argv.slice(2);
if (!basePath) throw new Error('usage: node bench/ab-device.mjs <base dist/index.js> [command] [fenced]');
const Base = (await import(pathToFileURL(basePath).href)).VirtioGpuDevice;
const fenced = fencedArg === 'fenced';
const make = (deviceClass) => createRawRig({ command: command.includes(',') ? command.split(',') : command, deviceClass, fenced });
const rigs = { base: make(Base), new: make(VirtioGpuDevice) };
let fenceId = 0;

/** Mean ns per command over `units` batches, device.notify only. */
function batch(rig, units) {
  let ns = 0;
  for (let u = 0; u < units; u++) {
    for (let i = 0; i < rig.slots; i++) {
      if (fenced) rig.setFenceId(i, ++fenceId);
      rig.add(i);
    }
    rig.ring.publish();
    const t0 = performance.now();
    rig.device.notify(0);
    ns += (performance.now() - t0) * 1e6;
    if (rig.reap() !== rig.slots) throw new Error('device did not answer the whole batch');
  }
  return ns / (units * rig.slots);
}

for (let w = 0; w < 20; w++) for (const k of ['base', 'new']) batch(rigs[k], 50);
const samples = { base: [], new: [] };
for (let r = 0; r < 40; r++) for (const k of r % 2 ? ['base', 'new'] : ['new', 'base']) samples[k].push(batch(rigs[k], 40));
if (rigs.base.bad || rigs.new.bad) throw new Error('unexpected responses');
const min = (a) => Math.min(...a);
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const f = (x) => x.toFixed(0);
console.log(
  `${command}${fenced ? ' fenced' : ''}: base min ${f(min(samples.base))} / median ${f(med(samples.base))} ns, new min ${f(min(samples.new))} / median ${f(med(samples.new))} ns, new/base ${(min(samples.new) / min(samples.base)).toFixed(2)} (min) ${(med(samples.new) / med(samples.base)).toFixed(2)} (median)`,
);
