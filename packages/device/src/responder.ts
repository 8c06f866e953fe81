/**
 * Answering a command, the shape of crosvm's process_descriptor: when the handler returns, create
 * the fence the command asks for (a failure there replaces the reply), write the final reply,
 * header included, straight into the chain with the protocol's encoder, then push the chain used,
 * or hold it (queue, chain, length, fence: pending-fences.ts) until the fence retires. Nothing
 * keeps a reply object: once written, the reply is guest memory.
 *
 * The one exception is a Deferred outcome (an unmap waiting for the host-visible region): its
 * reply is not known yet, so the chain waits with the fence its command asked for, and is
 * answered the same way when the Deferred settles.
 */
import {
  CONTROLQ,
  CtrlHdr,
  VIRTIO_GPU_RESP_ERR_UNSPEC,
  VIRTIO_GPU_RESP_OK_NODATA,
  type ResponseBody,
  encodeReply,
  encodeReplyHeader,
  responseSize,
} from '@virtio-gpu/protocol';
import type { Chain } from '@virtio-gpu/virtqueue';
import type { RateLimitedLog } from './log.js';
import { Deferred, NODATA, type Outcome, isFailure } from './outcome.js';
import { type HeldChain, type PendingFences, fenceHdr, requestedFence } from './pending-fences.js';
import type { Fence, Renderer } from './renderer.js';
import { type Failure, type Result, errUnspec } from './result.js';
import type { DeviceState } from './state.js';
import type { UsedBuffers } from './used-buffers.js';

/** A chain waiting for a Deferred: its queue, and the fence its command asked for. */
export interface HeldDeferred {
  readonly queueIndex: 0 | 1;
  readonly chain: Chain;
  readonly fence: Fence | null;
}

/** Writes replies into chains and decides between used now and held. */
export class Responder {
  private scratch = new Uint8Array(2048);
  /** The 24 bytes of a header-only reply, for chains that cannot hand out a view. */
  private readonly hdrOut = new Uint8Array(CtrlHdr.SIZE);
  private readonly deferred = new Set<HeldDeferred>();

  constructor(
    private readonly state: DeviceState,
    private readonly renderer: Renderer,
    private readonly used: UsedBuffers,
    private readonly fences: PendingFences,
    private readonly log: RateLimitedLog,
  ) {}

  /** Commands waiting for a Deferred. */
  get deferredCount(): number {
    return this.deferred.size;
  }

  /** Chains waiting for a Deferred, for snapshots. */
  deferredChains(): readonly HeldDeferred[] {
    return [...this.deferred];
  }

  /** Device reset: the Deferreds' answers are no longer wanted. */
  clear(): void {
    this.deferred.clear();
  }

  /**
   * Answer the command whose header is `cmdHdr`, which came in `chain` on queue `qi` and whose
   * handler returned `outcome`. Failures are answered at once, without a fence (as ever).
   */
  respond(qi: 0 | 1, chain: Chain, cmdHdr: CtrlHdr, outcome: Outcome): void {
    if (outcome instanceof Deferred) {
      this.hold(qi, chain, requestedFence(cmdHdr), outcome);
      return;
    }
    if (isFailure(outcome)) {
      this.log.log('warn', `virtio-gpu: ${outcome.why}`);
      this.answerHeader(qi, chain, cmdHdr, outcome.err);
      return;
    }
    const fence = qi === CONTROLQ ? this.fenceToWaitFor(cmdHdr) : null;
    if (fence === null) {
      this.used.push(qi, chain, this.write(chain, cmdHdr, outcome));
      return;
    }
    const held: HeldChain = { queueIndex: qi, chain, head: chain.head, length: -1, fence, retired: false };
    this.fences.add(held);
    const r = this.createFence(fence);
    if (!r.ok && this.fences.remove(held)) {
      this.log.log('warn', `virtio-gpu: ${r.why}`);
      this.answerHeader(qi, chain, cmdHdr, r.err);
      return;
    }
    held.length = this.write(chain, cmdHdr, outcome);
    // A renderer that retires inside createFence left the push to us (pending-fences.ts).
    if (held.retired) this.used.push(qi, chain, held.length);
  }

  /** Answer `chain` with a header-only reply of `type` (OK_NODATA or an error) and push it used. */
  answerHeader(qi: 0 | 1, chain: Chain, cmdHdr: CtrlHdr, type: number): void {
    this.used.push(qi, chain, this.writeHeader(chain, cmdHdr, type));
  }

  /**
   * A restored command that waited for an unmap when the snapshot was taken: the unmap is over
   * on the new host, so it is answered OK_NODATA now (with its fence, if it asked for one).
   */
  respondRestoredUnmap(qi: 0 | 1, chain: Chain, fence: Fence | null): void {
    this.respond(qi, chain, fenceHdr(fence), NODATA);
  }

  /**
   * The fence to hold the chain for, or null to answer at once: none was asked for, or its ring's
   * context is gone (CTX_DESTROY on its own ring), leaving nothing to wait for.
   */
  private fenceToWaitFor(cmdHdr: CtrlHdr): Fence | null {
    const fence = requestedFence(cmdHdr);
    if (fence !== null && fence.ringed && !this.state.contexts.get(fence.ctxId)) return null;
    return fence;
  }

  private createFence(fence: Fence): Result {
    try {
      return this.renderer.createFence(fence);
    } catch (e) {
      return errUnspec(`renderer createFence threw: ${String(e)}`);
    }
  }

  private hold(qi: 0 | 1, chain: Chain, fence: Fence | null, outcome: Deferred): void {
    const held: HeldDeferred = { queueIndex: qi, chain, fence };
    const gen = this.state.generation;
    this.deferred.add(held);
    outcome.onSettle((o) => this.settled(held, gen, o));
  }

  private settled(held: HeldDeferred, gen: number, o: ResponseBody | Failure): void {
    if (!this.deferred.delete(held) || gen !== this.state.generation) return;
    this.used.begin();
    try {
      this.respond(held.queueIndex, held.chain, fenceHdr(held.fence), o);
    } finally {
      this.used.end();
    }
  }

  /**
   * Writes `reply` with the header §5.7.6.7 gives it into `chain`; returns the bytes written. Too
   * little writable space gives a header-only ERR_UNSPEC instead: a well-formed error beats a
   * truncated payload the driver would misread.
   */
  private write(chain: Chain, cmdHdr: CtrlHdr, reply: ResponseBody): number {
    if (reply.type === VIRTIO_GPU_RESP_OK_NODATA) return this.writeHeader(chain, cmdHdr, VIRTIO_GPU_RESP_OK_NODATA);
    // GET_DISPLAY_INFO's cached reply comes encoded: copy it, then write this command's header.
    const cached = this.state.displayInfo;
    const encoded = cached !== null && reply === cached.body ? cached.bytes : null;
    const size = encoded !== null ? encoded.byteLength : responseSize(reply);
    const room = chain.writer.remaining;
    if (size > room) {
      this.log.log('warn', `virtio-gpu: response needs more than the ${room} writable bytes`);
      return this.writeHeader(chain, cmdHdr, VIRTIO_GPU_RESP_ERR_UNSPEC);
    }
    const dst = chain.writer.claim(size);
    const out = dst ?? this.scratchOf(size);
    if (encoded !== null) {
      out.set(encoded);
      encodeReplyHeader(reply.type, cmdHdr, out, 0);
    } else {
      encodeReply(reply, cmdHdr, out, 0);
    }
    return dst !== null ? size : chain.writer.write(out.subarray(0, size));
  }

  /** Writes a header-only reply; with under 24 writable bytes, ERR_UNSPEC and what fits. */
  private writeHeader(chain: Chain, cmdHdr: CtrlHdr, type: number): number {
    const w = chain.writer;
    if (w.remaining < CtrlHdr.SIZE) {
      type = VIRTIO_GPU_RESP_ERR_UNSPEC;
      this.log.log('warn', `virtio-gpu: response needs more than the ${w.remaining} writable bytes`);
    }
    // In place when the guest's buffer allows (the usual case), else through a copy.
    const dst = w.claim(CtrlHdr.SIZE);
    if (dst !== null) return encodeReplyHeader(type, cmdHdr, dst, 0);
    encodeReplyHeader(type, cmdHdr, this.hdrOut, 0);
    return w.write(this.hdrOut);
  }

  private scratchOf(size: number): Uint8Array {
    if (this.scratch.byteLength < size) this.scratch = new Uint8Array(size);
    return this.scratch;
  }
}
