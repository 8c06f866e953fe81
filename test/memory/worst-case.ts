/**
 * One worst case of guest-driven host memory, run in a child process by memory.test.ts (which
 * measures this process from outside). A guest driver sends everything through real split queues
 * to a device with the default limits. Prints JSON lines: `{ "mark": ... }` at phase boundaries
 * (the parent samples RSS around them) and one `{ "result": ... }` at the end, then waits for
 * stdin to close so the parent can read the final /proc numbers.
 *
 * Scenarios (argv[2]):
 * - scattered: 16384 1x1 resources, each attaching 16384 one-byte backing entries none of which
 *   merge, until the quota refuses; every refused attach is timed against the accepted ones.
 * - blobs: the same through CREATE_BLOB (BLOB_MEM_GUEST) with 16384 entries each.
 * - rutabaga-scattered, rutabaga-blobs: the same two against the native RutabagaRenderer (with
 *   cross-domain, so guest blobs are also held by rutabaga itself), whose bookkeeping lives outside
 *   the JS heap: what it keeps is the RSS growth, after full GCs, over the baseline.
 * - huge: 4096x3840 resources backed by 60 MiB of scattered 4 KiB pages (15360 entries),
 *   full-frame transfers, until the quota refuses.
 * - contexts: every context the limits allow, each with a 64-byte debug name and a resource.
 * - fences: the control queue (8192 descriptors) full of fenced commands that never retire, one
 *   on each of the 64 rings of each of 64 contexts.
 */
import * as P from '@virtio-gpu/protocol';
import { DEFAULT_LIMITS, type Renderer, Renderer2D, VirtioGpuDevice } from '@virtio-gpu/device';
import { GpuDriver, GuestRam, cmd, rect } from '@virtio-gpu/guest';
import { SplitQueue } from '@virtio-gpu/virtqueue';
import { RutabagaRenderer } from '@virtio-gpu/native';
import { TestRenderer3D } from '../support/renderer3d';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const out = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
const RAM_BASE = 0x4000_0000;

/** JS heap plus ArrayBuffer memory (typed arrays live outside the heap) after full GCs. */
function heap(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function mark(name: string): void {
  const m = process.memoryUsage();
  out({ mark: name, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, rss: m.rss });
}

/** How long the last kick spent inside the device (the driver's own copying excluded). */
let lastNotifyMs = 0;

function rig(renderer: Renderer, ramBytes: number, queueSize = 256) {
  // Shared memory: what the rutabaga renderer needs (it keeps raw pointers), harmless for the rest.
  const ram = new GuestRam({ regions: [{ gpa: RAM_BASE, bytes: ramBytes }], shared: true });
  // Touch guest RAM now (before the driver lays out its rings), so the baseline holds it and
  // later RSS growth is the host's own.
  ram.bytes(RAM_BASE, ramBytes).fill(1);
  let device!: VirtioGpuDevice;
  const driver = new GpuDriver({
    ram,
    queueSize,
    transport: {
      notify: (q) => {
        const t0 = performance.now();
        device.notify(q as 0 | 1);
        lastNotifyMs = performance.now() - t0;
      },
    },
  });
  device = new VirtioGpuDevice({ memory: ram.memory, renderer, scanouts: [{ width: 1024, height: 768 }], onInterrupt: () => void driver.interrupt(), log: () => {} });
  device.negotiate(device.features);
  device.attachQueues(new SplitQueue(ram.memory, driver.queueLayout(0)), new SplitQueue(ram.memory, driver.queueLayout(1)));
  return { ram, driver, device };
}

/** ATTACH_BACKING (or CREATE_BLOB) with `n` one-byte entries two bytes apart (nothing merges). */
function scatteredEntries(n: number): P.MemEntry[] {
  const e: P.MemEntry[] = [];
  for (let i = 0; i < n; i++) e.push({ addr: BigInt(RAM_BASE + 0x10_0000 + 2 * i), length: 1 });
  return e;
}

function encode(c: P.Command): Uint8Array {
  const b = new Uint8Array(P.commandSize(c));
  P.encodeCommand(c, b, 0);
  return b;
}

/** Send raw bytes with the resource id at byte 24 replaced; resolves with the response type and ms. */
async function sendWithId(driver: GpuDriver, bytes: Uint8Array, id: number): Promise<{ type: number; ms: number; deviceMs: number }> {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(24, id, true);
  const t0 = performance.now();
  const r = await (await driver.submitRaw(0, bytes)).response;
  return { type: r.type, ms: performance.now() - t0, deviceMs: lastNotifyMs };
}

interface Timing {
  n: number;
  ms: number[];
  deviceMs: number[];
}
const med = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : 0;
};

/** RSS after full GCs: with a native renderer, what it keeps shows here and not in heap(). */
function rss(): number {
  gc!();
  gc!();
  return process.memoryUsage().rss;
}

async function entriesCase(kind: 'scattered' | 'blobs', renderer: Renderer = new Renderer2D()): Promise<object> {
  const ENTRIES = DEFAULT_LIMITS.maxBackingEntries;
  const { driver, device } = rig(renderer, 4 << 20);
  const attach =
    kind === 'scattered'
      ? encode(cmd.attachBacking(1, scatteredEntries(ENTRIES)))
      : encode(cmd.createBlob(1, P.VIRTIO_GPU_BLOB_MEM_GUEST, 0, ENTRIES, scatteredEntries(ENTRIES)));
  const base = heap();
  const baseRss = rss();
  mark('baseline');
  const ok: Timing = { n: 0, ms: [], deviceMs: [] };
  const refused: Timing = { n: 0, ms: [], deviceMs: [] };
  if (kind === 'scattered') {
    // Every resource first (16384 1x1 resources), then each attaches its 16384 entries.
    for (let id = 1; id <= DEFAULT_LIMITS.maxResources; id++) {
      const c = await driver.send(cmd.resourceCreate2d(id, P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 1, 1));
      if (c.type !== P.VIRTIO_GPU_RESP_OK_NODATA) throw new Error(`CREATE_2D ${id}: 0x${c.type.toString(16)}`);
    }
  }
  for (let id = 1; id <= DEFAULT_LIMITS.maxResources; id++) {
    const r = await sendWithId(driver, attach, id);
    const t = r.type === P.VIRTIO_GPU_RESP_OK_NODATA ? ok : r.type === P.VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY ? refused : null;
    if (!t) throw new Error(`attach ${id}: 0x${r.type.toString(16)}`);
    t.n++;
    if (t.ms.length < 4000) {
      t.ms.push(r.ms);
      t.deviceMs.push(r.deviceMs);
    }
  }
  mark('filled');
  const kept = heap() - base;
  const keptRss = rss() - baseRss;
  return {
    keptRss,
    keptRssPerEntry: keptRss / (ok.n * ENTRIES),
    accepted: ok.n,
    refused: refused.n,
    entriesKept: ok.n * ENTRIES,
    chargedBytes: device.hostBytesUsed,
    keptBytes: kept,
    keptPerEntry: kept / (ok.n * ENTRIES),
    chargedPerEntry: device.hostBytesUsed / (ok.n * ENTRIES),
    acceptedMedianMs: med(ok.ms),
    refusedMedianMs: med(refused.ms),
    acceptedDeviceMedianMs: med(ok.deviceMs),
    refusedDeviceMedianMs: med(refused.deviceMs),
  };
}

async function hugeCase(): Promise<object> {
  const { driver, device, ram } = rig(new Renderer2D(), 72 << 20);
  // Keep 1 MiB contiguous for the driver's 240 KiB ATTACH_BACKING requests; scatter the rest.
  const hold = ram.alloc(1 << 20);
  const backing = ram.allocScattered(60 << 20, false);
  ram.free(hold, 1 << 20);
  const base = heap();
  mark('baseline');
  let accepted = 0;
  let refused = 0;
  for (let id = 1; id <= 16; id++) {
    const c = await driver.send(cmd.resourceCreate2d(id, P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 4096, 3840));
    if (c.type !== P.VIRTIO_GPU_RESP_OK_NODATA) {
      refused++;
      continue;
    }
    const a = await driver.send(cmd.attachBacking(id, backing));
    if (a.type !== P.VIRTIO_GPU_RESP_OK_NODATA) {
      refused++;
      continue;
    }
    accepted++;
    const t = await driver.send(cmd.transferToHost2d(id, rect(0, 0, 4096, 3840)));
    if (t.type !== P.VIRTIO_GPU_RESP_OK_NODATA) throw new Error(`TRANSFER ${id}: 0x${t.type.toString(16)}`);
  }
  mark('filled');
  return { accepted, refused, chargedBytes: device.hostBytesUsed, keptBytes: heap() - base };
}

function renderer3d(): TestRenderer3D {
  const r = new TestRenderer3D();
  r.mode = { kind: 'manual' };
  return r;
}

async function contextsCase(): Promise<object> {
  const r = renderer3d();
  const { driver, device } = rig(r, 4 << 20);
  const base = heap();
  mark('baseline');
  let made = 0;
  for (let id = 1; id <= DEFAULT_LIMITS.maxContexts + 16; id++) {
    const c = await driver.send(cmd.ctxCreate(id, 'x'.repeat(64), P.VIRTIO_GPU_CAPSET_VIRGL2));
    if (c.type !== P.VIRTIO_GPU_RESP_OK_NODATA) continue;
    made++;
    await driver.send(cmd.resourceCreate3d(id, { target: 2, format: 1, bind: 2, width: 1, height: 1 }));
    await driver.send(cmd.ctxAttachResource(id, id));
  }
  r.calls.length = 0; // the test renderer's call log is not the device's memory
  mark('filled');
  return { contexts: made, limit: DEFAULT_LIMITS.maxContexts, keptBytes: heap() - base, chargedBytes: device.hostBytesUsed };
}

async function fencesCase(): Promise<object> {
  // 64 contexts x 64 rings = 4096 timelines: a queue of 8192 descriptors holds one chain on each.
  const QUEUE = 8192;
  const r = renderer3d();
  const { driver, device } = rig(r, 32 << 20, QUEUE);
  const CONTEXTS = 64;
  for (let id = 1; id <= CONTEXTS; id++) await driver.send(cmd.ctxCreate(id, `c${id}`, P.VIRTIO_GPU_CAPSET_VIRGL2));
  const base = heap();
  mark('baseline');
  driver.batching = true;
  const pending: Promise<unknown>[] = [];
  // Every chain the control queue holds is a fenced SUBMIT_3D, one on each ring of each context.
  for (let i = 0; i < QUEUE / 2; i++) {
    const ctx = 1 + (i % CONTEXTS);
    const p = driver.trySubmit(0, cmd.submit3d(ctx, new Uint8Array(4)), { fence: true, ctxId: ctx, ringIdx: Math.floor(i / CONTEXTS) % 64 });
    if (!p) break;
    pending.push(p.response);
  }
  driver.kick(0);
  // The queue loop answers limits.chainsPerTurn chains a turn: let the later turns run.
  for (let i = 0; i < 64 && device.pendingCount < pending.length; i++) await new Promise((res) => setImmediate(res));
  mark('filled');
  r.calls.length = 0;
  const kept = heap() - base;
  return { pendingFences: device.pendingCount, queueSize: QUEUE, keptBytes: kept, keptPerPending: kept / Math.max(1, device.pendingCount), chargedBytes: device.hostBytesUsed };
}

const scenario = process.argv[2];
const cases: Record<string, () => Promise<object>> = {
  scattered: () => entriesCase('scattered'),
  blobs: () => entriesCase('blobs'),
  'rutabaga-scattered': () => entriesCase('scattered', new RutabagaRenderer()),
  'rutabaga-blobs': () => entriesCase('blobs', new RutabagaRenderer({ crossDomain: true })),
  huge: hugeCase,
  contexts: contextsCase,
  fences: fencesCase,
};
if (!cases[scenario]) throw new Error(`scenario ${scenario}? (${Object.keys(cases).join(', ')})`);
out({ result: await cases[scenario](), quota: DEFAULT_LIMITS.hostMemoryBytes });
// Stay alive until the parent has read /proc/<pid>/status.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
