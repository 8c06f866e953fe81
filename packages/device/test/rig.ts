/**
 * Test rig: a VirtioGpuDevice over ArrayGuestMemory with fake queues whose chains are plain
 * byte buffers, a recording sink, and helpers to build commands and backing.
 */
import {
  VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM,
  VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
  VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
  type Command,
  type CtrlHdr,
  type MemEntry,
  type Rect,
  type Response,
  commandSize,
  decodeResponse,
  encodeCommand,
} from '@virtio-gpu/protocol';
import { ArrayGuestMemory, type Chain, type ChainReader, type ChainWriter, type Virtqueue } from '@virtio-gpu/virtqueue';
import { VirtioGpuDevice, type VirtioGpuDeviceOptions } from '../src/device.js';
import type { CursorState, ScanoutInfo, ScanoutSink } from '../src/scanouts.js';

export const PAGE = 4096;

/** A chain over two plain buffers: `input` to read, `output` to write. */
export class FakeChain implements Chain {
  private rd = 0;
  /** Bytes written into `output`. */
  wr = 0;
  readonly reader: ChainReader;
  readonly writer: ChainWriter;

  constructor(
    readonly head: number,
    readonly input: Uint8Array,
    readonly output: Uint8Array,
  ) {
    const self = this;
    this.reader = {
      get remaining() {
        return self.input.byteLength - self.rd;
      },
      read(dst) {
        const n = Math.min(dst.byteLength, self.input.byteLength - self.rd);
        dst.set(self.input.subarray(self.rd, self.rd + n));
        self.rd += n;
        return n;
      },
      readBytes(n) {
        if (n > self.input.byteLength - self.rd) return null;
        const v = self.input.subarray(self.rd, self.rd + n);
        self.rd += n;
        return v;
      },
      skip(n) {
        if (n > self.input.byteLength - self.rd) return false;
        self.rd += n;
        return true;
      },
    };
    this.writer = {
      get remaining() {
        return self.output.byteLength - self.wr;
      },
      get written() {
        return self.wr;
      },
      write(src) {
        const n = Math.min(src.byteLength, self.output.byteLength - self.wr);
        self.output.set(src.subarray(0, n), self.wr);
        self.wr += n;
        return n;
      },
      // Like a transport without direct views: the device must go through write().
      claim: () => null,
    };
  }

  /** The same buffers from the start, as a transport rebuilds a held chain after a restore. */
  rebuilt(): FakeChain {
    return new FakeChain(this.head, this.input, this.output);
  }
}

/** A queue of FakeChains; records used entries. */
export class FakeQueue implements Virtqueue<FakeChain> {
  avail: FakeChain[] = [];
  used: { head: number; len: number; bytes: Uint8Array }[] = [];
  broken: { kind: 'internal'; message: string } | null = null;
  notifyWanted = true;
  /** Every chain ever queued, by head. */
  readonly chains = new Map<number, FakeChain>();
  pop(): FakeChain | null {
    return this.avail.shift() ?? null;
  }
  pushUsed(chain: FakeChain, bytesWritten: number): void {
    this.used.push({ head: chain.head, len: bytesWritten, bytes: chain.output.slice(0, bytesWritten) });
  }
  shouldNotify(): boolean {
    return this.notifyWanted;
  }
  reset(): void {
    this.avail = [];
  }
}

/** Records everything the device tells the display. */
export class RecordingSink implements ScanoutSink {
  changes: { scanoutId: number; info: ScanoutInfo | null }[] = [];
  flushes: { scanoutId: number; damage: Rect }[] = [];
  cursors: CursorState[] = [];
  scanoutChanged(scanoutId: number, info: ScanoutInfo | null): void {
    this.changes.push({ scanoutId, info });
  }
  flushed(scanoutId: number, damage: Rect): void {
    this.flushes.push({ scanoutId, damage });
  }
  cursorChanged(cursor: CursorState): void {
    this.cursors.push(cursor);
  }
}

/** hdr with defaults. */
export function hdr(over: Partial<CtrlHdr> = {}): CtrlHdr {
  return { type: 0, flags: 0, fenceId: 0n, ctxId: 0, ringIdx: 0, ...over };
}

export interface RigOptions extends Partial<Omit<VirtioGpuDeviceOptions, 'onInterrupt'>> {
  ramBytes?: number;
  /** Guest RAM at RAM_BASE to use (a restored copy); default fresh zeroed RAM of `ramBytes`. */
  ram?: Uint8Array;
  features?: bigint;
}

/** Device plus fake queues over `ramBytes` of guest RAM at gpa 0x10000. */
export class Rig {
  static readonly RAM_BASE = 0x10000;
  readonly ram: Uint8Array;
  readonly memory: ArrayGuestMemory;
  readonly control = new FakeQueue();
  readonly cursorq = new FakeQueue();
  readonly sink = new RecordingSink();
  readonly interrupts: { cause: string; queue?: number }[] = [];
  readonly logs: string[] = [];
  readonly device: VirtioGpuDevice;
  private nextHead = 0;
  private nextPage = 0;

  constructor(opts: RigOptions = {}) {
    this.ram = opts.ram ?? new Uint8Array(opts.ramBytes ?? 8 * 1024 * 1024);
    this.memory = new ArrayGuestMemory([{ gpa: Rig.RAM_BASE, bytes: this.ram }]);
    this.device = new VirtioGpuDevice({
      sink: this.sink,
      log: (_l, m) => this.logs.push(m),
      ...opts,
      memory: opts.memory ?? this.memory,
      onInterrupt: (cause, queue) => this.interrupts.push({ cause, queue }),
    });
    this.device.negotiate(opts.features ?? this.device.features);
    this.device.attachQueues(this.control, this.cursorq);
  }

  /** Queue a command without notifying; returns its head. */
  enqueue(cmd: Command, opts: { queue?: 0 | 1; writable?: number; raw?: Uint8Array } = {}): number {
    const input = opts.raw ?? new Uint8Array(commandSize(cmd));
    if (!opts.raw) encodeCommand(cmd, input, 0);
    const head = this.nextHead++;
    const chain = new FakeChain(head, input, new Uint8Array(opts.writable ?? 2048));
    const q = opts.queue === 1 ? this.cursorq : this.control;
    q.avail.push(chain);
    q.chains.set(head, chain);
    return head;
  }

  /** Send one command and return its response (undefined when held). */
  send(cmd: Command, opts: { queue?: 0 | 1; writable?: number; raw?: Uint8Array } = {}): Response | undefined {
    const head = this.enqueue(cmd, opts);
    this.device.notify(opts.queue ?? 0);
    return this.responseFor(head, opts.queue ?? 0);
  }

  /** The decoded response of `head`, if answered. */
  responseFor(head: number, queue: 0 | 1 = 0): Response | undefined {
    const u = (queue === 1 ? this.cursorq : this.control).used.find((x) => x.head === head);
    if (!u) return undefined;
    const d = decodeResponse(u.bytes, 0, u.bytes.byteLength);
    if (!d.ok) throw new Error(`bad response: ${d.error.message}`);
    return d.resp;
  }

  /** Answer order of heads on the control queue. */
  usedHeads(queue: 0 | 1 = 0): number[] {
    return (queue === 1 ? this.cursorq : this.control).used.map((u) => u.head);
  }

  /** Allocate `n` pages of guest RAM (sequential unless `scatter`), returns their gpas. */
  pages(n: number, scatter = false): number[] {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(Rig.RAM_BASE + (this.nextPage++) * PAGE);
    if (this.nextPage * PAGE > this.ram.byteLength) throw new Error('rig RAM exhausted');
    if (scatter) {
      for (let i = out.length - 1; i > 0; i--) {
        const j = (i * 7919) % (i + 1);
        [out[i], out[j]] = [out[j], out[i]];
      }
    }
    return out;
  }

  /** Mem entries for pages. */
  static entries(gpas: number[], length = PAGE): MemEntry[] {
    return gpas.map((g) => ({ addr: BigInt(g), length }));
  }

  /** Bytes of guest RAM at a gpa. */
  at(gpa: number, length: number): Uint8Array {
    return this.ram.subarray(gpa - Rig.RAM_BASE, gpa - Rig.RAM_BASE + length);
  }

  /** Create a 2D resource with scattered backing; returns the backing page gpas. */
  resource2d(id: number, width: number, height: number, format = VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, scatter = true): number[] {
    const r = this.send({ type: VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, hdr: hdr({ type: VIRTIO_GPU_CMD_RESOURCE_CREATE_2D }), resourceId: id, format, width, height });
    if (r?.type !== 0x1100) throw new Error(`create2d failed: ${r?.type.toString(16)}`);
    const gpas = this.pages(Math.ceil((width * height * 4) / PAGE), scatter);
    const entries = Rig.entries(gpas);
    const a = this.send({ type: VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, hdr: hdr({ type: VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING }), resourceId: id, nrEntries: entries.length, entries });
    if (a?.type !== 0x1100) throw new Error(`attach failed: ${a?.type.toString(16)}`);
    return gpas;
  }

  /** Write `data` at backing offset `off` of a resource backed by `gpas` (4 KiB pages). */
  writeBacking(gpas: number[], off: number, data: Uint8Array): void {
    for (let i = 0; i < data.byteLength; ) {
      const o = off + i;
      const page = Math.floor(o / PAGE);
      const within = o % PAGE;
      const n = Math.min(PAGE - within, data.byteLength - i);
      this.at(gpas[page] + within, n).set(data.subarray(i, i + n));
      i += n;
    }
  }
}
