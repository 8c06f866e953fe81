/**
 * The whole device fed a guest's command stream through real split queues: the fuzz targets
 * device-2d and device-3d, the seed recorder and the regression replays all run streams here.
 *
 * Stream format, one record after another (little-endian):
 *   u8 ctl, u16 length, `length` request bytes
 *   ctl bit 0     queue: 0 controlq, 1 cursorq
 *   ctl bits 1-2  writable space after the request: 1536, 24, none, 8 bytes
 *   ctl bit 3     notify the device after placing this chain (a kick)
 *   ctl bit 4     let microtasks run (fences retiring, region confirmations)
 *   ctl bit 5     host action, chosen by the first request byte (`hostAction`), instead of a chain
 * Whatever the stream says, after it ends (and a final kick) the checks in `finish` must hold.
 */
import * as P from '@virtio-gpu/protocol';
import { type DeviceLimits, type DeviceSnapshot, type HostVisibleRegion, type Renderer, VirtioGpuDevice } from '@virtio-gpu/device';
import { GuestRam } from '@virtio-gpu/guest';
import { SplitQueue } from '@virtio-gpu/virtqueue';
import { FuzzDriver } from './fuzz-driver';

/** Guest RAM of the device targets (also what the seed recorder uses, so recorded addresses fit). */
export const STREAM_RAM = { gpa: 0x4000_0000, bytes: 2 << 20 };
/** Queue size of both queues. */
export const STREAM_QUEUE_SIZE = 64;
/** Scanouts: two connected, one more the host may plug in. */
export const STREAM_SCANOUTS = [
  { width: 64, height: 48 },
  { width: 32, height: 24 },
];
export const STREAM_NUM_SCANOUTS = 3;
/** Small limits, so the fuzzer reaches them. */
export const STREAM_LIMITS: Partial<DeviceLimits> = {
  hostMemoryBytes: 1 << 20,
  maxResources: 48,
  maxContexts: 6,
  maxBackingEntries: 1024,
  maxCommandBytes: 96 * 1024,
  logLinesPerSecond: 1e9,
};
const RESPONSE_ROOM = [1536, 24, 0, 8];

export const CTL_CURSORQ = 1;
export const CTL_KICK = 8;
export const CTL_SETTLE = 16;
export const CTL_HOST = 32;

/** One record of a stream. */
export interface StreamRecord {
  ctl: number;
  bytes: Uint8Array;
}

/** Encode records (the seed recorder's output format). */
export function encodeStream(records: readonly StreamRecord[]): Uint8Array {
  const total = records.reduce((n, r) => n + 3 + r.bytes.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const r of records) {
    out[at] = r.ctl;
    out[at + 1] = r.bytes.length & 0xff;
    out[at + 2] = r.bytes.length >>> 8;
    out.set(r.bytes, at + 3);
    at += 3 + r.bytes.length;
  }
  return out;
}

/** Decode records; a truncated last record keeps what is there. */
export function* decodeStream(data: Uint8Array): Generator<StreamRecord> {
  let at = 0;
  while (at + 3 <= data.length) {
    const ctl = data[at];
    const len = data[at + 1] | (data[at + 2] << 8);
    const bytes = data.subarray(at + 3, Math.min(data.length, at + 3 + len));
    at += 3 + len;
    if (bytes.length > 0 || (ctl & CTL_HOST) !== 0) yield { ctl, bytes };
  }
}

/** How a target builds its renderer and region, fresh for each input. */
export interface StreamSetup {
  renderer(): Renderer;
  region?(): HostVisibleRegion & { confirm?(): Promise<void> };
  /** True once the guest made the device write guest memory (it may have hit its own rings). */
  guestWroteItself?(r: Renderer): boolean;
}

/** A wired device over fresh guest RAM, with the fuzz driver on the other side. */
export class StreamRig {
  readonly ram = new GuestRam({ regions: [STREAM_RAM] });
  readonly driver = new FuzzDriver(this.ram, STREAM_QUEUE_SIZE);
  readonly log: string[] = [];
  device!: VirtioGpuDevice;
  queues!: [SplitQueue, SplitQueue];
  renderer!: Renderer;
  readonly region: (HostVisibleRegion & { confirm?(): Promise<void> }) | undefined;

  /** Host action "restore onto a new device" does nothing (the twin run of the restore check). */
  skipRestore = false;

  constructor(readonly setup: StreamSetup) {
    this.region = setup.region?.();
    this.attach(null);
  }

  /** A new device (and queues), restored from `snap` when given, in place of the current one. */
  attach(snap: DeviceSnapshot | null): void {
    const old = this.queues;
    this.renderer = this.setup.renderer();
    const device = new VirtioGpuDevice({
      memory: this.ram.memory,
      renderer: this.renderer,
      scanouts: STREAM_SCANOUTS,
      numScanouts: STREAM_NUM_SCANOUTS,
      limits: STREAM_LIMITS,
      hostVisible: this.region,
      random: (b) => b.fill(7),
      log: (_level, line) => void this.log.push(line),
      onInterrupt: (cause) => {
        if (cause === 'queue' && this.device === device) this.driver.reap();
      },
    });
    const queues = [0, 1].map((i) => {
      const q = new SplitQueue(this.ram.memory, this.driver.queues[i].ring.layout);
      if (old) q.restoreIndexes(old[i].lastAvailIdx, old[i].usedIdx);
      return q;
    }) as [SplitQueue, SplitQueue];
    device.negotiate(device.features);
    device.attachQueues(queues[0], queues[1]);
    this.device = device;
    this.queues = queues;
    if (snap) device.restore(snap, { chainFor: (qi, head) => queues[qi].rebuildChain(head) });
  }

  /** Let promise callbacks (fences retiring on microtasks, unmap confirmations) run. */
  async settle(): Promise<void> {
    for (let i = 0; i < 6; i++) await Promise.resolve();
    if (this.region?.confirm) await this.region.confirm();
  }

  /** Host-side events a VMM causes: hotplug, resize, snapshot and restore, scanout readback. */
  hostAction(b: Uint8Array): void {
    const arg = b.length > 1 ? b[1] : 0;
    switch (b.length > 0 ? b[0] % 6 : 0) {
      case 0:
        this.device.resizeScanout(arg % STREAM_NUM_SCANOUTS, 16 + (arg & 0x3f), 8 + (arg >>> 2));
        break;
      case 1:
        this.device.setScanouts(STREAM_SCANOUTS.slice(0, 1 + (arg % STREAM_NUM_SCANOUTS)).concat(arg & 1 ? [{ width: 40, height: 30 }] : []).slice(0, STREAM_NUM_SCANOUTS));
        break;
      case 2:
        structuredClone(this.device.snapshot());
        break;
      case 3:
        // Restore onto a new device, as a VMM moving the guest to another host does.
        if (!this.skipRestore) this.attach(structuredClone(this.device.snapshot()));
        break;
      case 4: {
        const out = new Uint8Array(64 * 48 * 4);
        this.device.readScanout(arg % STREAM_NUM_SCANOUTS, { x: 0, y: 0, width: 1 + (arg & 31), height: 1 + (arg >>> 5) }, out, 64 * 4);
        break;
      }
      default:
        this.device.writeConfig(4, 4, arg); // events_clear
        this.device.readConfig(arg & 15, 4);
    }
  }

  /** Run `data` as a stream; see the module comment. */
  async run(data: Uint8Array): Promise<void> {
    for (const r of decodeStream(data)) {
      if ((r.ctl & CTL_HOST) !== 0) {
        this.hostAction(r.bytes);
        continue;
      }
      const qi = (r.ctl & CTL_CURSORQ) as 0 | 1;
      const room = RESPONSE_ROOM[(r.ctl >>> 1) & 3];
      if (!this.driver.submit(qi, r.bytes, room)) {
        this.device.notify(0);
        this.device.notify(1);
        await this.settle();
        this.driver.reap();
        if (!this.driver.submit(qi, r.bytes, room)) continue; // still full: held chains (a guest may do that)
      }
      if ((r.ctl & CTL_KICK) !== 0) this.device.notify(qi);
      if ((r.ctl & CTL_SETTLE) !== 0) await this.settle();
      if (this.selfHarm()) return;
    }
  }

  private selfHarm(): boolean {
    return this.setup.guestWroteItself?.(this.renderer) === true;
  }

  /**
   * What must hold after any stream: no host bug logged, queues intact, every chain answered,
   * host memory within the quota, the device still serving, and a reset frees everything.
   */
  async finish(): Promise<void> {
    for (let i = 0; i < 4 && this.driver.outstanding > 0; i++) {
      this.device.notify(0);
      this.device.notify(1);
      await this.settle();
      this.driver.reap();
    }
    const bug = this.log.find((l) => /internal error|threw|no chain for held/.test(l));
    if (bug) throw new Error(`host bug logged: ${bug}`);
    const self = this.selfHarm();
    if (!self) {
      for (const q of this.queues) if (q.broken) throw new Error(`queue broken by a stream of well-formed chains: ${q.broken.message}`);
      if (this.device.needsReset) throw new Error('device needs reset after well-formed chains');
      if (this.driver.outstanding > 0) throw new Error(`${this.driver.outstanding} chains never answered (pending ${this.device.pendingCount}, paused ${this.device.paused})`);
    }
    const limits = this.device.limits;
    if (this.device.hostBytesUsed > limits.hostMemoryBytes) throw new Error(`host bytes ${this.device.hostBytesUsed} > quota ${limits.hostMemoryBytes}`);
    if (this.device.resourceCount > limits.maxResources) throw new Error(`resources ${this.device.resourceCount} > ${limits.maxResources}`);
    if (!self) {
      // Still serving: a fresh GET_DISPLAY_INFO is answered OK_DISPLAY_INFO.
      const before = this.driver.answers.get(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO) ?? 0;
      const req = new Uint8Array(P.CtrlHdr.SIZE);
      req[0] = P.VIRTIO_GPU_CMD_GET_DISPLAY_INFO & 0xff;
      req[1] = P.VIRTIO_GPU_CMD_GET_DISPLAY_INFO >>> 8;
      if (this.driver.submit(0, req, 1536)) {
        this.device.notify(0);
        await this.settle();
        this.driver.reap();
        if ((this.driver.answers.get(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO) ?? 0) !== before + 1) throw new Error('GET_DISPLAY_INFO after the stream was not answered OK_DISPLAY_INFO');
      } else if (!this.device.paused) {
        throw new Error('the ring stayed full after every chain was answered');
      }
    }
    this.device.reset();
    await this.settle();
    if (this.device.hostBytesUsed !== 0 || this.device.resourceCount !== 0 || this.device.pendingCount !== 0) {
      throw new Error(`reset left ${this.device.resourceCount} resources, ${this.device.hostBytesUsed} bytes, ${this.device.pendingCount} pending`);
    }
    const snap = this.renderer.snapshot() as { resources?: unknown[] };
    if (snap.resources && snap.resources.length !== 0) throw new Error(`reset left ${snap.resources.length} renderer resources`);
  }
}

/**
 * Run `data` twice, once restoring onto a new device at each "restore" host action and once
 * ignoring those: a guest must not be able to tell. Every chain must get the same answer, byte
 * for byte (compared as a multiset: held chains may be answered in another order).
 */
export async function checkRestoreInvisible(setup: StreamSetup, data: Uint8Array): Promise<void> {
  let restores = 0;
  for (const r of decodeStream(data)) if ((r.ctl & CTL_HOST) !== 0 && r.bytes.length > 0 && r.bytes[0] % 6 === 3) restores++;
  if (restores === 0) return;
  const answers: string[][] = [];
  for (const skip of [false, true]) {
    const rig = new StreamRig(setup);
    rig.skipRestore = skip;
    rig.driver.trace = [];
    rig.driver.traceBytes = true;
    await rig.run(data);
    await rig.finish();
    if (setup.guestWroteItself?.(rig.renderer)) return;
    answers.push(rig.driver.trace.map((t) => `${t.qi}:${Buffer.from(t.bytes ?? []).toString('hex')}`).sort());
  }
  const [a, b] = answers;
  if (a.length !== b.length) throw new Error(`restore changed the number of answers: ${a.length} vs ${b.length} without`);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) throw new Error(`restore changed an answer:\n  with    ${a[i]}\n  without ${b[i]}`);
}

/** Every VIRTIO_GPU_* number (command types, formats, flags, capsets), and the RAM's addresses. */
export const STREAM_DICTIONARY: number[] = [
  ...Object.entries(P)
    .filter(([k, v]) => k.startsWith('VIRTIO_GPU_') && typeof v === 'number')
    .map(([, v]) => v as number),
  STREAM_RAM.gpa,
  STREAM_RAM.gpa + 0x1000,
  STREAM_RAM.gpa + 0x10_0000,
  STREAM_RAM.gpa + STREAM_RAM.bytes - 0x1000,
  STREAM_RAM.gpa + STREAM_RAM.bytes,
  0x1000,
  0x3000,
  64,
  48,
];
