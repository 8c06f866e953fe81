/**
 * The hostile catalogue's rig: a device over real split queues whose guest side is the fuzz
 * driver (it never blocks and checks every used element), plus raw access to the rings for
 * cases that corrupt them. `send` places one chain, kicks and returns what came back.
 */
import * as P from '@virtio-gpu/protocol';
import { type DeviceLimits, type HostVisibleRegion, type Renderer, VirtioGpuDevice } from '@virtio-gpu/device';
import { GuestRam } from '@virtio-gpu/guest';
import { SplitQueue } from '@virtio-gpu/virtqueue';
import { expect } from 'vitest';
import { FuzzDriver } from '../fuzz/harness/fuzz-driver';

export const RAM_BASE = 0x4000_0000;
export const RAM_BYTES = 2 << 20;

/** What one chain got back. */
export interface Answer {
  len: number;
  /** Response type, or -1 with fewer than 4 bytes written. */
  type: number;
  /** The written response bytes. */
  bytes: Uint8Array;
}

export interface RigOptions {
  renderer?: Renderer;
  limits?: Partial<DeviceLimits>;
  hostVisible?: HostVisibleRegion;
  queueSize?: number;
  features?: bigint;
}

/** Encode a command. */
export function enc(c: P.Command): Uint8Array {
  const b = new Uint8Array(P.commandSize(c));
  P.encodeCommand(c, b, 0);
  return b;
}

export class HostileRig {
  readonly ram = new GuestRam({ regions: [{ gpa: RAM_BASE, bytes: RAM_BYTES }] });
  driver!: FuzzDriver;
  readonly device: VirtioGpuDevice;
  queues!: [SplitQueue, SplitQueue];
  readonly interrupts: string[] = [];
  readonly log: string[] = [];
  /** Chains placed by hand (not through the driver) are answered: the driver must not reap them. */
  raw = false;

  constructor(readonly o: RigOptions = {}) {
    this.device = new VirtioGpuDevice({
      memory: this.ram.memory,
      renderer: o.renderer,
      limits: { logLinesPerSecond: 1e9, ...o.limits },
      hostVisible: o.hostVisible,
      scanouts: [{ width: 64, height: 48 }],
      random: (b) => b.fill(9),
      log: (_l, line) => void this.log.push(line),
      onInterrupt: (cause, q) => {
        this.interrupts.push(q === undefined ? cause : `${cause} ${q}`);
        if (cause === 'queue' && !this.raw) this.driver.reap();
      },
    });
    this.attach();
  }

  /** Negotiate and give the device fresh driver rings (at start, and after a reset). */
  attach(): void {
    this.raw = false;
    this.driver = new FuzzDriver(this.ram, this.o.queueSize ?? 64, 320 * 1024);
    this.driver.trace = [];
    this.device.negotiate(this.o.features ?? this.device.features);
    this.queues = [0, 1].map((i) => new SplitQueue(this.ram.memory, this.driver.queues[i].ring.layout)) as [SplitQueue, SplitQueue];
    this.device.attachQueues(this.queues[0], this.queues[1]);
  }

  /** Place `req` with `room` writable bytes on queue `qi`, kick, and return the answer (null: none yet). */
  send(req: Uint8Array | P.Command, room = 1536, qi: 0 | 1 = 0): Answer | null {
    const bytes = req instanceof Uint8Array ? req : enc(req);
    const trace = this.driver.trace!;
    const before = trace.length;
    if (!this.driver.submit(qi, bytes, room)) throw new Error('ring full');
    this.device.notify(qi);
    this.driver.reap();
    const got = trace.slice(before).find((t) => t.qi === qi);
    if (!got) return null;
    return { len: got.len, type: got.type, bytes: got.len > 0 ? this.ram.bytes(got.respAt, got.len).slice() : new Uint8Array(0) };
  }

  /** `send`, expecting an answer; returns its type. */
  type(req: Uint8Array | P.Command, room = 1536, qi: 0 | 1 = 0): number {
    const a = this.send(req, room, qi);
    if (!a) throw new Error('no answer');
    return a.type;
  }

  /** Raw ring access: write descriptor `i` of queue `qi`'s table (or of a table at `table`). */
  desc(qi: number, i: number, addr: number, len: number, flags: number, next: number, table?: number): void {
    const at = (table ?? this.driver.queues[qi].ring.layout.descAddr) + 16 * i;
    const dv = new DataView(this.ram.bytes(at, 16).buffer, this.ram.bytes(at, 16).byteOffset, 16);
    dv.setUint32(0, addr >>> 0, true);
    dv.setUint32(4, Math.floor(addr / 0x1_0000_0000), true);
    dv.setUint32(8, len >>> 0, true);
    dv.setUint16(12, flags, true);
    dv.setUint16(14, next, true);
  }

  /** Raw ring access: make `head` available as avail ring entry `slot`, and set avail idx to `idx`. */
  publishRaw(qi: number, head: number, idx = 1, slot = 0): void {
    const l = this.driver.queues[qi].ring.layout;
    const b = this.ram.bytes(l.availAddr, 4 + 2 * l.size);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    dv.setUint16(4 + 2 * slot, head, true);
    dv.setUint16(2, idx, true);
  }

  /** The device still serves: queues intact, GET_DISPLAY_INFO and a full 2D round answered OK. */
  healthy(): void {
    expect(this.queues[0].broken).toBeNull();
    expect(this.queues[1].broken).toBeNull();
    expect(this.device.needsReset).toBe(false);
    expect(this.type({ type: P.VIRTIO_GPU_CMD_GET_DISPLAY_INFO, hdr: hdr(P.VIRTIO_GPU_CMD_GET_DISPLAY_INFO) } as P.Command)).toBe(P.VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
    const id = 0x7000 + (healthSeq++ % 1000);
    const page = RAM_BASE + RAM_BYTES - 0x1000;
    const ok = P.VIRTIO_GPU_RESP_OK_NODATA;
    expect(this.type(cmd2d(id, 4, 4))).toBe(ok);
    expect(this.type({ type: P.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, hdr: hdr(P.VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING), resourceId: id, nrEntries: 1, entries: [{ addr: BigInt(page), length: 64 }] } as P.Command)).toBe(ok);
    expect(this.type({ type: P.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, hdr: hdr(P.VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D), r: { x: 0, y: 0, width: 4, height: 4 }, offset: 0n, resourceId: id, padding: 0 } as P.Command)).toBe(ok);
    expect(this.type({ type: P.VIRTIO_GPU_CMD_RESOURCE_UNREF, hdr: hdr(P.VIRTIO_GPU_CMD_RESOURCE_UNREF), resourceId: id, padding: 0 } as P.Command)).toBe(ok);
  }

  /** After ring corruption: the device wants a reset; the transport resets it and the driver starts over. */
  resetAndHealthy(): void {
    this.device.reset();
    expect(this.device.needsReset).toBe(false);
    expect(this.device.resourceCount).toBe(0);
    expect(this.device.hostBytesUsed).toBe(0);
    this.attach();
    this.healthy();
  }
}

let healthSeq = 0;

/** A command header. */
export function hdr(type: number, o: Partial<P.CtrlHdr> = {}): P.CtrlHdr {
  return { type, flags: 0, fenceId: 0n, ctxId: 0, ringIdx: 0, ...o };
}

/** RESOURCE_CREATE_2D, B8G8R8A8. */
export function cmd2d(id: number, w: number, h: number): P.Command {
  return { type: P.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, hdr: hdr(P.VIRTIO_GPU_CMD_RESOURCE_CREATE_2D), resourceId: id, format: P.VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, width: w, height: h } as P.Command;
}
