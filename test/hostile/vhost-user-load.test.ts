/**
 * Under load, vhost-user: a frontend keeps the control ring (256 entries) full of commands that
 * fail (RESOURCE_FLUSH of a resource that does not exist) and kicks on every turn of its event
 * loop, against `virtio-gpu serve --vhost-user` in a child process. Meanwhile the backend must
 * still answer a command queued behind the storm, refuse a second frontend on its listening
 * socket, and end on SIGTERM with its clean exit, as an idle backend does.
 *
 * The backend bounds the work of one event-loop turn (packages/vhost-user GatedQueue): at most
 * `budget` chains (256) or `budgetMs` (4 ms) per batch, then the rest waits for a fresh turn, in
 * which signals, sockets and timers run first. The numbers of one run are printed (docs/hostile.md
 * has them); the assertions are about outcomes, never about time.
 */
import * as P from '@virtio-gpu/protocol';
import { eventfdRead, eventfdWrite, nativeStatus } from '@virtio-gpu/native';
import { describe, expect, it } from 'vitest';
import { OurBackend, cleanupTemp, stopProcess } from '../guest/harness';
import { NativeFrontend, type Started, negotiate, startRings } from './vhost-user-rig';

const QUEUE_SIZE = 256;
const STORM_MS = 3000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** The storm: refills the control ring with failing flushes and kicks, every event-loop turn. */
class Storm {
  answered = 0;
  /** Answers that were not ERR_INVALID_RESOURCE_ID (must stay 0). */
  unexpected = 0;
  private running = true;
  private readonly req: number;
  private readonly resp: number;
  private probeWanted: ((ms: number) => void) | null = null;
  private probeHead = -1;
  private probeAt = 0;
  private readonly done: Promise<void>;
  /** Response slots not in use, and the slot of each chain out. */
  private readonly freeSlots: number[] = Array.from({ length: QUEUE_SIZE }, (_, i) => i);
  private readonly slotOf = new Map<number, number>();

  /** `flood` false: only the probes are queued (the same loop, for the quiet measurement). */
  constructor(
    private readonly s: Started,
    private readonly flood = true,
  ) {
    const b = new Uint8Array(P.ResourceFlush.SIZE);
    const v = new DataView(b.buffer);
    v.setUint32(0, P.VIRTIO_GPU_CMD_RESOURCE_FLUSH, true);
    v.setUint32(P.ResourceFlush.resourceId, 0xdead, true);
    v.setUint32(P.ResourceFlush.r + 8, 1, true);
    v.setUint32(P.ResourceFlush.r + 12, 1, true);
    this.req = s.ram.alloc(b.length);
    s.ram.memory.writeFrom(this.req, b);
    this.resp = s.ram.alloc(QUEUE_SIZE * 408);
    this.done = this.loop();
  }

  /** Queue GET_DISPLAY_INFO behind the storm's chains; resolves with its latency in ms. */
  probe(): Promise<number> {
    return new Promise((resolve) => (this.probeWanted = resolve));
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  private respType(slot: number): number {
    const t = new Uint8Array(4);
    this.s.ram.memory.readInto(this.resp + slot * 408, t);
    return new DataView(t.buffer).getUint32(0, true);
  }

  private async loop(): Promise<void> {
    const ring = this.s.rings[0];
    const hdr = new Uint8Array(P.CtrlHdr.SIZE);
    new DataView(hdr.buffer).setUint32(0, P.VIRTIO_GPU_CMD_GET_DISPLAY_INFO, true);
    const probeReq = this.s.ram.alloc(hdr.length);
    this.s.ram.memory.writeFrom(probeReq, hdr);
    let resolveProbe: ((ms: number) => void) | null = null;
    while (this.running) {
      for (let head = ring.popUsedHead(); head >= 0; head = ring.popUsedHead()) {
        const slot = this.slotOf.get(head)!;
        this.slotOf.delete(head);
        this.freeSlots.push(slot);
        const type = this.respType(slot);
        if (head === this.probeHead && resolveProbe) {
          if (type !== P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO) this.unexpected++;
          resolveProbe(performance.now() - this.probeAt);
          resolveProbe = null;
          this.probeHead = -1;
        } else if (type === P.VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID) this.answered++;
        else this.unexpected++;
      }
      while (ring.free >= 2 && (this.flood || (this.probeWanted !== null && resolveProbe === null))) {
        const probe = this.probeWanted !== null && resolveProbe === null;
        const slot = this.freeSlots.pop()!;
        const next = ring.add([
          { gpa: probe ? probeReq : this.req, length: probe ? hdr.length : P.ResourceFlush.SIZE, write: false },
          { gpa: this.resp + slot * 408, length: 408, write: true },
        ]);
        if (next < 0) {
          this.freeSlots.push(slot);
          break;
        }
        this.slotOf.set(next, slot);
        if (probe) {
          resolveProbe = this.probeWanted;
          this.probeWanted = null;
          this.probeHead = next;
          this.probeAt = performance.now();
        }
      }
      ring.publish();
      eventfdWrite(this.s.kick[0], 1n);
      eventfdRead(this.s.call[0]);
      await turn();
    }
  }
}

const ms = (xs: number[]): string => xs.map((x) => x.toFixed(1)).join(', ');

/** Time from SIGTERM to the process's exit, with its exit code. */
async function sigterm(b: OurBackend): Promise<{ ms: number; code: number | string }> {
  const t0 = performance.now();
  const code = await stopProcess(b.proc, 'SIGTERM');
  return { ms: performance.now() - t0, code };
}

/** Connect a second frontend; resolves with the time until the backend closed it. */
async function refusal(path: string): Promise<number> {
  const t0 = performance.now();
  const fe = new NativeFrontend(path);
  try {
    if (!(await fe.closedByBackend(30_000))) throw new Error('the second frontend was not refused');
    return performance.now() - t0;
  } finally {
    fe.close();
  }
}

const native = nativeStatus();
const suite = native.fdPlumbing || process.env.CI ? describe : describe.skip;

suite('vhost-user under a storm of failing commands', () => {
  it('the backend still answers a queued command, refuses a second frontend and stops on SIGTERM', async () => {
    const stormed = new OurBackend();
    const idle = new OurBackend();
    let storm: Storm | null = null;
    let fe: NativeFrontend | null = null;
    try {
      await Promise.all([stormed.ready(), idle.ready()]);
      fe = new NativeFrontend(stormed.socket);
      await sleep(50);
      const started = await startRings(fe, await negotiate(fe), QUEUE_SIZE);
      // The same measurements before the storm, for the ratios.
      const quiet = new Storm(started, false);
      const quietProbes: number[] = [];
      for (let i = 0; i < 5; i++) quietProbes.push(await quiet.probe());
      await quiet.stop();
      const quietRefusals: number[] = [];
      for (let i = 0; i < 3; i++) quietRefusals.push(await refusal(stormed.socket));
      storm = new Storm(started);
      const stormStart = performance.now();
      await sleep(STORM_MS / 3);
      const probes: number[] = [];
      for (let i = 0; i < 5; i++) probes.push(await storm.probe());
      const refusals: number[] = [];
      for (let i = 0; i < 3; i++) refusals.push(await refusal(stormed.socket));
      await sleep(STORM_MS / 3);
      const answeredBeforeTerm = storm.answered;
      const stormMs = performance.now() - stormStart;
      // Both at once, so the machine's load is the same for the pair.
      const [s, i] = await Promise.all([sigterm(stormed), sigterm(idle)]);
      await storm.stop();
      const rate = (answeredBeforeTerm * 1000) / stormMs;
      console.log(
        `vhost-user storm: ${answeredBeforeTerm} failing chains answered in ${stormMs.toFixed(0)} ms (~${Math.round(rate)}/s, ring of ${QUEUE_SIZE}); ` +
          `GET_DISPLAY_INFO behind the storm answered in ${ms(probes)} ms (quiet: ${ms(quietProbes)}); ` +
          `second frontend refused in ${ms(refusals)} ms (quiet: ${ms(quietRefusals)}); ` +
          `SIGTERM to exit: stormed ${s.ms.toFixed(0)} ms, idle ${i.ms.toFixed(0)} ms (ratio ${(s.ms / i.ms).toFixed(2)})`,
      );
      expect(answeredBeforeTerm, 'the storm really ran').toBeGreaterThan(QUEUE_SIZE * 4);
      expect(storm.unexpected, 'answers other than ERR_INVALID_RESOURCE_ID (flushes) and OK_DISPLAY_INFO (probes)').toBe(0);
      expect(s.code, 'the stormed backend ended on SIGTERM itself (not SIGKILL)').toBe(0);
      expect(stormed.stdout).toMatch(/stopped \(SIGTERM\)/);
      expect(i.code).toBe(0);
    } finally {
      await storm?.stop();
      fe?.close();
      await Promise.all([stormed.stop(), idle.stop()]);
      cleanupTemp();
    }
  }, 120_000);
});
