/**
 * The guest side of the device fuzz targets: a split ring per queue (the guest package's
 * DriverSplitRing) with a request/response area, and nothing that waits. Unlike GpuDriver it
 * never blocks on a full ring (a held chain could make it wait forever) and it checks every used
 * element the device returns: a head the driver has out, a length within the writable space, and
 * a response header whose type is OK_* or ERR_*.
 */
import * as P from '@virtio-gpu/protocol';
import type { GuestRam } from '@virtio-gpu/guest';
import { DriverSplitRing } from '@virtio-gpu/virtqueue';

/** Bytes of request and response area per queue, by default. */
const AREA = 160 * 1024;

interface Out {
  respAt: number;
  respLen: number;
}

class FuzzQueue {
  readonly ring: DriverSplitRing;
  readonly out = new Map<number, Out>();
  readonly area: number;
  private bump = 0;

  constructor(
    ram: GuestRam,
    size: number,
    readonly areaBytes: number,
  ) {
    this.ring = DriverSplitRing.allocate(ram, size, true);
    this.area = ram.alloc(areaBytes);
  }

  /** Space for `n` bytes in the area, 8-aligned; the area is reused once nothing is out. */
  take(n: number): number {
    if (this.out.size === 0) this.bump = 0;
    const at = (this.bump + 7) & ~7;
    if (at + n > this.areaBytes) return -1;
    this.bump = at + n;
    return this.area + at;
  }
}

/** Valid response types: OK_* (0x1100..0x1108) and ERR_* (0x1200..0x1206). */
export function isResponseType(t: number): boolean {
  return (t >= P.VIRTIO_GPU_RESP_OK_NODATA && t <= 0x1108) || (t >= P.VIRTIO_GPU_RESP_ERR_UNSPEC && t <= 0x1206);
}

/** See the module comment. */
export class FuzzDriver {
  readonly queues: [FuzzQueue, FuzzQueue];
  /** Answers received, by response type. */
  readonly answers = new Map<number, number>();
  answered = 0;
  /** When set, every returned chain in order: queue, head, used length, response type (-1: under 4 bytes). */
  trace: { qi: number; head: number; len: number; type: number; respAt: number; bytes?: Uint8Array }[] | null = null;
  /** With trace: keep a copy of each response's bytes too. */
  traceBytes = false;

  constructor(
    readonly ram: GuestRam,
    queueSize: number,
    areaBytes = AREA,
  ) {
    this.queues = [new FuzzQueue(ram, queueSize, areaBytes), new FuzzQueue(ram, queueSize, areaBytes)];
  }

  /** Chains the device has not returned. */
  get outstanding(): number {
    return this.queues[0].out.size + this.queues[1].out.size;
  }

  /**
   * Place `req` (device-readable) and `respLen` device-writable bytes (none when 0) as one chain.
   * False when the ring or the area is full.
   */
  submit(qi: 0 | 1, req: Uint8Array, respLen: number): boolean {
    const q = this.queues[qi];
    if (q.ring.free < 2) return false;
    const reqAt = q.take(req.length);
    const respAt = respLen > 0 ? q.take(respLen) : 0;
    if (reqAt < 0 || respAt < 0) return false;
    this.ram.write(reqAt, req);
    const bufs = [{ gpa: reqAt, length: req.length, write: false }];
    if (respLen > 0) bufs.push({ gpa: respAt, length: respLen, write: true });
    const head = q.ring.add(bufs);
    if (head < 0) return false;
    q.out.set(head, { respAt, respLen });
    q.ring.publish();
    return true;
  }

  /** Collect what the device returned; throws on anything a correct device cannot return. */
  reap(): void {
    for (let qi = 0; qi < 2; qi++) {
      const q = this.queues[qi];
      for (let head = q.ring.popUsedHead(); head >= 0; head = q.ring.popUsedHead()) {
        const o = q.out.get(head);
        if (!o) throw new Error(`device returned head ${head} on queue ${qi}, which the driver does not have out`);
        q.out.delete(head);
        const len = q.ring.lastUsedLength;
        if (len > o.respLen) throw new Error(`device wrote ${len} bytes into ${o.respLen} writable`);
        if (this.trace) {
          const type = len >= 4 ? new DataView(this.ram.bytes(o.respAt, 4).slice().buffer).getUint32(0, true) : -1;
          this.trace.push({ qi, head, len, type, respAt: o.respAt, bytes: this.traceBytes && len > 0 ? this.ram.bytes(o.respAt, len).slice() : undefined });
        }
        if (o.respLen >= P.CtrlHdr.SIZE) {
          if (len < P.CtrlHdr.SIZE) throw new Error(`device answered ${len} bytes with ${o.respLen} writable`);
          const type = new DataView(this.ram.bytes(o.respAt, 4).slice().buffer).getUint32(0, true);
          if (!isResponseType(type)) throw new Error(`response type 0x${type.toString(16)}`);
          this.answers.set(type, (this.answers.get(type) ?? 0) + 1);
        }
        this.answered++;
      }
    }
  }
}
