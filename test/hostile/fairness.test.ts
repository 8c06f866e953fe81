/**
 * Fairness under load: guest A keeps its control queue full of commands that all fail and refills
 * it from inside every interrupt (the fastest a guest can be); guest B, a second device instance
 * in the same process, sends one GET_DISPLAY_INFO per event-loop turn. With the queue loop's
 * budget (limits.chainsPerTurn) A's work is cut into turns and B is served throughout; with no
 * budget (the old loop) A's first kick never returns until A stops, and B gets nothing.
 * The numbers of one run are printed (docs/hostile.md quotes them); the assertions are counts.
 */
import * as P from '@virtio-gpu/protocol';
import { DEFAULT_LIMITS, VirtioGpuDevice } from '@virtio-gpu/device';
import { GuestRam } from '@virtio-gpu/guest';
import { SplitQueue } from '@virtio-gpu/virtqueue';
import { describe, expect, it } from 'vitest';
import { FuzzDriver } from '../fuzz/harness/fuzz-driver';

const STORM_MS = 600;

function encode(c: P.Command): Uint8Array {
  const b = new Uint8Array(P.commandSize(c));
  P.encodeCommand(c, b, 0);
  return b;
}
const FAILING = encode({ type: P.VIRTIO_GPU_CMD_RESOURCE_FLUSH, hdr: { type: P.VIRTIO_GPU_CMD_RESOURCE_FLUSH, flags: 0, fenceId: 0n, ctxId: 0, ringIdx: 0 }, r: { x: 0, y: 0, width: 1, height: 1 }, resourceId: 999, padding: 0 } as P.Command);
const DISPLAY_INFO = encode({ type: P.VIRTIO_GPU_CMD_GET_DISPLAY_INFO, hdr: { type: P.VIRTIO_GPU_CMD_GET_DISPLAY_INFO, flags: 0, fenceId: 0n, ctxId: 0, ringIdx: 0 } } as P.Command);

function gpu(chainsPerTurn: number, onInterrupt: () => void) {
  const ram = new GuestRam({ regions: [{ gpa: 0x4000_0000, bytes: 2 << 20 }] });
  const driver = new FuzzDriver(ram, 256);
  const device = new VirtioGpuDevice({ memory: ram.memory, limits: { chainsPerTurn }, onInterrupt: () => onInterrupt(), log: () => {} });
  device.negotiate(device.features);
  device.attachQueues(new SplitQueue(ram.memory, driver.queues[0].ring.layout), new SplitQueue(ram.memory, driver.queues[1].ring.layout));
  return { driver, device };
}

interface Storm {
  aAnswered: number;
  bAnswered: number;
  bMaxGapMs: number;
  timerMaxLagMs: number;
}

async function storm(chainsPerTurn: number): Promise<Storm> {
  let end = 0;
  let stormStart = Number.POSITIVE_INFINITY;
  // Guest A: refill and kick from inside the interrupt, until the storm ends.
  const a = gpu(chainsPerTurn, () => {
    a.driver.reap();
    if (performance.now() > end) return;
    while (a.driver.submit(0, FAILING, 24));
    a.device.notify(0);
  });
  // Guest B: one GET_DISPLAY_INFO per event-loop turn.
  let bAnswered = 0;
  let last = 0;
  let bMaxGapMs = 0;
  const b = gpu(DEFAULT_LIMITS.chainsPerTurn, () => {
    const before = b.driver.answered;
    b.driver.reap();
    const now = performance.now();
    if (b.driver.answered > before && now >= stormStart && now <= end) {
      bAnswered++;
      bMaxGapMs = Math.max(bMaxGapMs, now - last);
      last = now;
    }
  });
  let stop = false;
  const bLoop = (): void => {
    if (stop) return;
    if (b.driver.submit(0, DISPLAY_INFO, 1536)) b.device.notify(0);
    setImmediate(bLoop);
  };
  // A timer that should fire every millisecond: how late it gets is how unresponsive the process is.
  let timerMaxLagMs = 0;
  let expected = Number.POSITIVE_INFINITY;
  const timer = setInterval(() => {
    const now = performance.now();
    timerMaxLagMs = Math.max(timerMaxLagMs, now - expected);
    expected = now + 1;
  }, 1);
  expected = performance.now() + 1;
  setImmediate(bLoop);
  await new Promise((r) => setTimeout(r, 5));
  stormStart = performance.now();
  end = stormStart + STORM_MS;
  last = stormStart;
  timerMaxLagMs = 0;
  while (a.driver.submit(0, FAILING, 24));
  a.device.notify(0);
  while (performance.now() < end + 20) await new Promise((r) => setTimeout(r, 10));
  stop = true;
  clearInterval(timer);
  const types = [...a.driver.answers.keys()];
  expect(types).toEqual([P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID]);
  return { aAnswered: a.driver.answered, bAnswered, bMaxGapMs: Math.max(bMaxGapMs, end - last), timerMaxLagMs };
}

describe('fairness: a guest flooding failing commands does not starve a second device in the process', () => {
  it('with the per-turn budget B is served all through A\'s storm; without it B gets nothing until A stops', async () => {
    const unbounded = await storm(Number.POSITIVE_INFINITY);
    const bounded = await storm(DEFAULT_LIMITS.chainsPerTurn);
    console.log(
      `fairness over ${STORM_MS} ms: no budget: A ${unbounded.aAnswered} chains, B ${unbounded.bAnswered} answers, B's longest wait ${unbounded.bMaxGapMs.toFixed(0)} ms, timer lag ${unbounded.timerMaxLagMs.toFixed(0)} ms; ` +
        `budget ${DEFAULT_LIMITS.chainsPerTurn}: A ${bounded.aAnswered} chains, B ${bounded.bAnswered} answers, B's longest wait ${bounded.bMaxGapMs.toFixed(1)} ms, timer lag ${bounded.timerMaxLagMs.toFixed(1)} ms`,
    );
    expect(unbounded.bAnswered).toBe(0);
    expect(bounded.bAnswered).toBeGreaterThan(50);
    // A still gets the device's full attention whenever it is its turn.
    expect(bounded.aAnswered).toBeGreaterThan(10_000);
  });
});
