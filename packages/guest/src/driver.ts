import {
  CONTROLQ,
  CURSORQ,
  VIRTIO_GPU_FLAG_FENCE,
  VIRTIO_GPU_FLAG_INFO_RING_IDX,
  VIRTIO_GPU_CMD_MOVE_CURSOR,
  VIRTIO_GPU_CMD_UPDATE_CURSOR,
  commandSize,
  decodeResponse,
  encodeCommand,
  type Command,
  type Response,
} from '@virtio-gpu/protocol';
import type { GuestRam } from './guest-ram';
import { DriverSplitRing, type SplitRingLayout } from '@virtio-gpu/virtqueue';

/** How the driver reaches the device: a queue notification (the MMIO/PCI notify write). */
export interface DriverTransport {
  notify(queueIndex: number): void;
}

/** Options of {@link GpuDriver}. */
export interface GpuDriverOptions {
  ram: GuestRam;
  transport: DriverTransport;
  /** Descriptors per queue. Default 256. */
  queueSize?: number;
  /** Negotiate VIRTIO_F_EVENT_IDX. Default true. */
  eventIdx?: boolean;
}

/** Per-command submission options. */
export interface SendOptions {
  /** Set VIRTIO_GPU_FLAG_FENCE with a fresh fence id. */
  fence?: boolean;
  /** Per-context ring (sets VIRTIO_GPU_FLAG_INFO_RING_IDX); needs a ctxId. */
  ringIdx?: number;
  /** Context id for hdr.ctx_id. */
  ctxId?: number;
  /** Writable response space; default fits every fixed-size response. */
  responseBytes?: number;
}

/** A command the device has not answered yet. */
export interface Pending {
  /** The command as sent (with its fence id filled in). */
  readonly cmd: Command;
  /** Resolves with the decoded response. */
  readonly response: Promise<Response>;
}

/** A raw request ({@link GpuDriver.submitRaw}) the device has not answered yet. */
export interface RawPending {
  /** Resolves with the decoded response; rejects when the answer does not decode. */
  readonly response: Promise<Response>;
}

/** Slot sizes: most commands and responses fit, larger ones get pages of their own. */
const SLOT_REQ = 512;
const SLOT_RESP = 1536;

interface InFlight {
  slot: number;
  respAt: number;
  respLen: number;
  extra: Array<[number, number]>;
  resolve: (r: Response) => void;
  reject: (e: Error) => void;
}

class DriverQueue {
  readonly ring: DriverSplitRing;
  readonly slotBase: number;
  readonly freeSlots: number[] = [];
  readonly inFlight = new Map<number, InFlight>();
  readonly waiters: Array<() => void> = [];

  constructor(ram: GuestRam, size: number, eventIdx: boolean) {
    this.ring = DriverSplitRing.allocate(ram, size, eventIdx);
    // Each request/response pair uses two descriptors, so size/2 slots cover a full ring.
    const slots = size / 2;
    this.slotBase = ram.alloc(slots * (SLOT_REQ + SLOT_RESP));
    for (let i = slots - 1; i >= 0; i--) this.freeSlots.push(i);
  }
}

/**
 * A guest-side virtio-gpu driver: the control and cursor queues in guest RAM, commands encoded
 * with the protocol package, fences numbered like Linux's (one counter, strictly increasing),
 * and responses decoded when the device returns the chains.
 */
export class GpuDriver {
  readonly ram: GuestRam;
  private readonly transport: DriverTransport;
  private readonly queues: DriverQueue[];
  private fenceSeq = 0n;
  /** When true, {@link send} leaves kicks to the caller ({@link kick}), so commands batch. */
  batching = false;

  constructor(opts: GpuDriverOptions) {
    this.ram = opts.ram;
    this.transport = opts.transport;
    const size = opts.queueSize ?? 256;
    const eventIdx = opts.eventIdx ?? true;
    this.queues = [new DriverQueue(this.ram, size, eventIdx), new DriverQueue(this.ram, size, eventIdx)];
  }

  /** The ring layout of a queue, to configure the device side with. */
  queueLayout(queueIndex: number): SplitRingLayout {
    return this.queue(queueIndex).ring.layout;
  }

  /** Fence id of the last fenced command sent. */
  get lastFenceId(): bigint {
    return this.fenceSeq;
  }

  /** Commands sent and not yet answered, on both queues. */
  get inFlight(): number {
    return this.queues[0]!.inFlight.size + this.queues[1]!.inFlight.size;
  }

  /**
   * Sends a command on the control queue (cursor commands go to the cursor queue) and returns
   * its response promise. Waits for ring space when the queue is full.
   */
  async send(cmd: Command, opts: SendOptions = {}): Promise<Response> {
    return (await this.submit(cmd, opts)).response;
  }

  /** Like {@link send} but returns once the command is in the ring, with its response pending. */
  async submit(cmd: Command, opts: SendOptions = {}): Promise<Pending> {
    const qi = isCursorCommand(cmd.type) ? CURSORQ : CONTROLQ;
    const q = this.queue(qi);
    for (;;) {
      const p = this.trySubmit(qi, cmd, opts);
      if (p) return p;
      // Ring full: let the device catch up, then wait for a used buffer.
      this.kick(qi);
      this.reap(qi);
      if (q.freeSlots.length > 0 && q.ring.free >= 2) continue;
      await new Promise<void>((resolve) => q.waiters.push(resolve));
    }
  }

  /**
   * Places a command in the ring without waiting; null when the ring is full. Kicks unless
   * {@link batching} is on.
   */
  trySubmit(queueIndex: number, cmd: Command, opts: SendOptions = {}): Pending | null {
    const q = this.queue(queueIndex);
    if (q.freeSlots.length === 0 || q.ring.free < 2) return null;
    const hdr = { ...cmd.hdr };
    if (opts.ctxId !== undefined) hdr.ctxId = opts.ctxId;
    if (opts.fence) {
      this.fenceSeq += 1n;
      hdr.flags |= VIRTIO_GPU_FLAG_FENCE;
      hdr.fenceId = this.fenceSeq;
    }
    if (opts.ringIdx !== undefined) {
      hdr.flags |= VIRTIO_GPU_FLAG_INFO_RING_IDX;
      hdr.ringIdx = opts.ringIdx;
    }
    const sent = { ...cmd, hdr } as Command;
    const reqLen = commandSize(sent);
    const response = this.place(queueIndex, reqLen, opts.responseBytes ?? SLOT_RESP, (out) => encodeCommand(sent, out, 0));
    return { cmd: sent, response };
  }

  /**
   * Places `bytes` as the request of a new chain, as they are (no encoding, no fence): for
   * hostile-input tests that need malformed commands on the real ring. `responseBytes` of
   * writable space follow (default: fits every fixed-size response). Waits for ring space like
   * {@link submit}; the response promise rejects when the device's answer does not decode.
   */
  async submitRaw(queueIndex: number, bytes: Uint8Array, responseBytes: number = SLOT_RESP): Promise<RawPending> {
    const q = this.queue(queueIndex);
    if (bytes.byteLength === 0 || responseBytes < 1) throw new RangeError('submitRaw: request and response need at least one byte');
    for (;;) {
      if (q.freeSlots.length > 0 && q.ring.free >= 2) {
        return { response: this.place(queueIndex, bytes.byteLength, responseBytes, (out) => out.set(bytes)) };
      }
      this.kick(queueIndex);
      this.reap(queueIndex);
      if (q.freeSlots.length > 0 && q.ring.free >= 2) continue;
      await new Promise<void>((resolve) => q.waiters.push(resolve));
    }
  }

  /** Writes a request with `fill` into a slot (or pages of its own), adds the chain and kicks. */
  private place(queueIndex: number, reqLen: number, respLen: number, fill: (out: Uint8Array) => void): Promise<Response> {
    const q = this.queue(queueIndex);
    const slot = q.freeSlots.pop()!;
    const extra: Array<[number, number]> = [];
    let reqAt = q.slotBase + slot * (SLOT_REQ + SLOT_RESP);
    let respAt = reqAt + SLOT_REQ;
    if (reqLen > SLOT_REQ) {
      reqAt = this.ram.alloc(reqLen);
      extra.push([reqAt, reqLen]);
    }
    if (respLen > SLOT_RESP) {
      respAt = this.ram.alloc(respLen);
      extra.push([respAt, respLen]);
    }
    fill(this.ram.bytes(reqAt, reqLen));
    const head = q.ring.add([
      { gpa: reqAt, length: reqLen, write: false },
      { gpa: respAt, length: respLen, write: true },
    ]);
    let resolve!: (r: Response) => void;
    let reject!: (e: Error) => void;
    const response = new Promise<Response>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    q.inFlight.set(head, { slot, respAt, respLen, extra, resolve, reject });
    q.ring.publish();
    if (!this.batching) this.kick(queueIndex);
    return response;
  }

  /** Notifies the device about published chains, if it asked to be notified. */
  kick(queueIndex: number = CONTROLQ): void {
    if (this.queue(queueIndex).ring.needsKick()) this.transport.notify(queueIndex);
  }

  /** Notifies the device unconditionally (tests of notification suppression use {@link kick}). */
  forceKick(queueIndex: number = CONTROLQ): void {
    this.queue(queueIndex).ring.needsKick();
    this.transport.notify(queueIndex);
  }

  /** The interrupt handler: collects used buffers of both queues. Returns how many completed. */
  interrupt(): number {
    return this.reap(CONTROLQ) + this.reap(CURSORQ);
  }

  /** Collects used buffers of one queue, resolving their responses. */
  reap(queueIndex: number): number {
    const q = this.queue(queueIndex);
    let n = 0;
    for (let used = q.ring.popUsed(); used; used = q.ring.popUsed()) {
      const f = q.inFlight.get(used.head);
      if (!f) throw new Error(`device completed head ${used.head} twice`);
      q.inFlight.delete(used.head);
      const len = Math.min(used.length, f.respLen);
      const dec = decodeResponse(this.ram.bytes(f.respAt, len), 0, len);
      for (const [at, bytes] of f.extra) this.ram.free(at, bytes);
      q.freeSlots.push(f.slot);
      if (dec.ok) f.resolve(dec.resp);
      else f.reject(new Error(`undecodable response (${used.length} bytes): ${dec.error.message}`));
      n++;
    }
    if (n > 0) for (const w of q.waiters.splice(0)) w();
    return n;
  }

  private queue(i: number): DriverQueue {
    const q = this.queues[i];
    if (!q) throw new RangeError(`no queue ${i}`);
    return q;
  }
}

/** UPDATE_CURSOR and MOVE_CURSOR travel on the cursor queue (virtio-gpu §5.7.6.10). */
function isCursorCommand(type: number): boolean {
  return type === VIRTIO_GPU_CMD_UPDATE_CURSOR || type === VIRTIO_GPU_CMD_MOVE_CURSOR;
}
