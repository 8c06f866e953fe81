import type { GuestRam } from './guest-ram';
import { DriverSplitRing, type ChainBuffer, type SplitRingLayout } from '@virtio-gpu/virtqueue';

/** Options of {@link PreparedRing}. */
export interface PreparedRingOptions {
  /** Descriptors in the ring (a power of two); there are `queueSize / 2` slots. Default 256. */
  queueSize?: number;
  /** Negotiate VIRTIO_F_EVENT_IDX. Default true. */
  eventIdx?: boolean;
  /** Bytes of request space per slot. Default 128. */
  requestBytes?: number;
  /** Bytes of writable response space per slot. Default 512 (fits GET_DISPLAY_INFO). */
  responseBytes?: number;
}

/** ctrl_hdr.fence_id's offset in a request (struct virtio_gpu_ctrl_hdr). */
const FENCE_ID_OFFSET = 8;

/**
 * A driver-side split ring with request slots encoded once and re-submitted as they are: for
 * benchmarks and load generators that want the queue path without a driver's per-command
 * bookkeeping. {@link GpuDriver} encodes every command object, keeps a promise per command and
 * decodes every response; this does none of that.
 *
 * Slot i owns a request buffer and a response buffer (two descriptors per chain, like Linux's
 * virtio-gpu). Write the request once with {@link request} (bytes from `encodeCommand`), then
 * per round: {@link submit} the slots, {@link publish}, kick when {@link needsKick} says so, and
 * {@link reap} in the interrupt handler. A slot may be in flight once at a time; the caller
 * tracks that. Nothing is validated beyond the ring's own bookkeeping: it is a test driver.
 */
export class PreparedRing {
  /** The ring, for its layout and for mixing with hand-built chains. */
  readonly ring: DriverSplitRing;
  /** Request/response slot pairs: queueSize / 2. */
  readonly slots: number;
  private readonly ram: GuestRam;
  private readonly base: number;
  private readonly stride: number;
  private readonly reqBytes: number;
  private readonly chains: ChainBuffer[][] = [];
  private readonly dv: DataView;
  private readonly dvBase: number;
  /** Slot of each in-flight head, -1 when none. */
  private readonly slotOfHead: Int32Array;

  constructor(ram: GuestRam, opts: PreparedRingOptions = {}) {
    const size = opts.queueSize ?? 256;
    this.ram = ram;
    this.ring = DriverSplitRing.allocate(ram, size, opts.eventIdx ?? true);
    this.slots = Math.max(1, size >>> 1);
    this.reqBytes = opts.requestBytes ?? 128;
    const respBytes = opts.responseBytes ?? 512;
    this.stride = this.reqBytes + respBytes;
    this.base = ram.alloc(this.slots * this.stride);
    const { dv, offset } = ram.dataView(this.base, this.slots * this.stride);
    this.dv = dv;
    this.dvBase = offset;
    this.slotOfHead = new Int32Array(size).fill(-1);
    for (let i = 0; i < this.slots; i++) {
      const at = this.base + i * this.stride;
      // Reused for every submit: DriverSplitRing.add reads them, nothing allocates per command.
      this.chains.push([
        { gpa: at, length: 0, write: false },
        { gpa: at + this.reqBytes, length: respBytes, write: true },
      ]);
    }
  }

  /** Where the ring lives, to configure the device side with. */
  get layout(): SplitRingLayout {
    return this.ring.layout;
  }

  /** Sets slot `slot`'s request to `bytes` (copied into guest RAM), used by every later submit. */
  request(slot: number, bytes: Uint8Array): void {
    const c = this.chain(slot);
    if (bytes.byteLength === 0 || bytes.byteLength > this.reqBytes) throw new RangeError(`request of ${bytes.byteLength} bytes (1..${this.reqBytes})`);
    this.ram.write(c[0]!.gpa, bytes);
    c[0]!.length = bytes.byteLength;
  }

  /** Rewrites hdr.fence_id of slot `slot`'s request (fenced commands want increasing ids). */
  setFenceId(slot: number, fenceId: number): void {
    this.chain(slot);
    const at = this.dvBase + slot * this.stride + FENCE_ID_OFFSET;
    this.dv.setUint32(at, fenceId >>> 0, true);
    this.dv.setUint32(at + 4, Math.floor(fenceId / 0x1_0000_0000), true);
  }

  /** Places slot `slot`'s chain in the avail ring (visible after {@link publish}); false when full. */
  submit(slot: number): boolean {
    const c = this.chains[slot];
    if (c === undefined || c[0]!.length === 0) throw new RangeError(`slot ${slot} has no request`);
    const head = this.ring.add(c);
    if (head < 0) return false;
    this.slotOfHead[head] = slot;
    return true;
  }

  /** Makes submitted chains visible to the device. */
  publish(): void {
    this.ring.publish();
  }

  /** Whether the device asked to be notified about what was published since the last kick. */
  needsKick(): boolean {
    return this.ring.needsKick();
  }

  /**
   * Collects every used chain; calls `done(slot, responseType, bytesWritten)` for each (response
   * type 0 when the device wrote under 4 bytes). Returns how many completed.
   */
  reap(done?: (slot: number, responseType: number, bytesWritten: number) => void): number {
    let n = 0;
    const ring = this.ring;
    const typeAt = this.dvBase + this.reqBytes;
    for (let head = ring.popUsedHead(); head >= 0; head = ring.popUsedHead()) {
      const slot = this.slotOfHead[head]!;
      this.slotOfHead[head] = -1;
      const len = ring.lastUsedLength;
      // slot < 0: a chain added to `ring` by hand, not through submit().
      if (done !== undefined && slot >= 0) done(slot, len >= 4 ? this.dv.getUint32(typeAt + slot * this.stride, true) : 0, len);
      n++;
    }
    return n;
  }

  /** The le32 type at the start of slot `slot`'s response buffer. */
  responseType(slot: number): number {
    this.chain(slot);
    return this.dv.getUint32(this.dvBase + slot * this.stride + this.reqBytes, true);
  }

  /** The response buffer of slot `slot` (a view into guest RAM), to decode in full. */
  response(slot: number): Uint8Array {
    const c = this.chain(slot);
    return this.ram.bytes(c[1]!.gpa, c[1]!.length);
  }

  private chain(slot: number): ChainBuffer[] {
    const c = this.chains[slot];
    if (c === undefined) throw new RangeError(`slot ${slot} (0..${this.slots - 1})`);
    return c;
  }
}
