/**
 * Full-frame 1920x1080 TRANSFER_TO_HOST_2D from 4 KiB pages scattered (shuffled) through guest
 * RAM, against the floor: a plain typed-array gather of the same pages into a frame buffer.
 * Fixtures are built outside the timed functions. Prints GB/s and the ratio after the run.
 */
import { VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM } from '@virtio-gpu/protocol';
import { ArrayGuestMemory } from '@virtio-gpu/virtqueue';
import { afterAll, bench, describe } from 'vitest';
import { Backing } from '../src/backing.js';
import { Renderer2D } from '../src/renderer-2d.js';

const W = 1920;
const H = 1080;
const FRAME = W * H * 4;
const PAGE = 4096;
const PAGES = Math.ceil(FRAME / PAGE);
const BASE = 0x100000;

const ram = new Uint8Array((PAGES + 64) * PAGE);
for (let i = 0; i < ram.length; i += 97) ram[i] = i & 255;
const memory = new ArrayGuestMemory([{ gpa: BASE, bytes: ram }]);
// Shuffle page order (deterministic) and leave a gap so no two backing pages are adjacent.
const order = Array.from({ length: PAGES }, (_, i) => i);
let seed = 12345;
for (let i = order.length - 1; i > 0; i--) {
  seed = (seed * 1103515245 + 12345) >>> 0;
  const j = seed % (i + 1);
  [order[i], order[j]] = [order[j], order[i]];
}
const entries = order.map((p) => ({ addr: BigInt(BASE + p * PAGE), length: PAGE }));
const backing = Backing.resolve(memory, entries, 1 << 20);
if (!backing.ok) throw new Error(backing.why);

const renderer = new Renderer2D();
renderer.createResource2d(1, { format: VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, width: W, height: H });
renderer.attachBacking(1, backing.value);
const full = { x: 0, y: 0, width: W, height: H };

const pageViews = order.map((p) => ram.subarray(p * PAGE, (p + 1) * PAGE));
const gatherDst = new Uint8Array(PAGES * PAGE);

const times: Record<string, number> = {};
function timeIt(name: string, f: () => void): () => void {
  return () => {
    const t0 = performance.now();
    f();
    const dt = performance.now() - t0;
    times[name] = Math.min(times[name] ?? Infinity, dt);
  };
}

describe('1920x1080 full-frame transfer from scattered 4 KiB pages', () => {
  bench(
    'TRANSFER_TO_HOST_2D (Renderer2D)',
    timeIt('transfer', () => {
      const r = renderer.transferToHost2d(1, full, 0);
      if (!r.ok) throw new Error(r.why);
    }),
    { time: 1500 },
  );
  bench(
    'plain typed-array gather of the same pages',
    timeIt('gather', () => {
      for (let i = 0; i < pageViews.length; i++) gatherDst.set(pageViews[i], i * PAGE);
    }),
    { time: 1500 },
  );
});

afterAll(() => {
  const t = times.transfer;
  const g = times.gather;
  if (!t || !g) return;
  const gbps = (ms: number) => (FRAME / (ms / 1000) / 1e9).toFixed(2);
  console.log(`transfer: best ${t.toFixed(3)} ms = ${gbps(t)} GB/s; gather: best ${g.toFixed(3)} ms = ${gbps(g)} GB/s; ratio transfer/gather throughput = ${(g / t).toFixed(2)}x`);
});
