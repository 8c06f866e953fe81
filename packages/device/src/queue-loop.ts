/**
 * The queue loop (crosvm's mod.rs part): pop a chain, read its command, decode it into the
 * queue's scratch, dispatch it to its handler, and hand the outcome to the responder. Chains are
 * taken in ring order, and nothing re-enters the loop: a kick that arrives while it runs (from a
 * sink or renderer callback inside a handler, or a region's confirmation) only marks the queue,
 * and the running loop drains it after the current chain.
 *
 * Ring corruption stops the device (DEVICE_NEEDS_RESET); the control queue pauses while the
 * host-visible region has unmaps to confirm, because later commands may reuse the range.
 */
import {
  CONTROLQ,
  CURSORQ,
  CommandScratch,
  type CtrlHdr,
  VIRTIO_GPU_RESP_ERR_UNSPEC,
  decodeCommandInto,
  decodeHeader,
} from '@virtio-gpu/protocol';
import type { Chain } from '@virtio-gpu/virtqueue';
import { type DispatchHooks, dispatch } from './dispatch.js';
import type { RateLimitedLog } from './log.js';
import { NO_FENCE, type Outcome } from './outcome.js';
import type { Responder } from './responder.js';
import type { DeviceState } from './state.js';
import type { UsedBuffers } from './used-buffers.js';

const NO_BYTES = new Uint8Array(0);

/** The loop over the device's two queues. */
export class QueueLoop {
  /** A broken queue stopped the device; the transport must reset it. */
  needsReset = false;
  private readonly kicked = [false, false];
  private running = false;
  /** The control queue stopped for an unmap and wants to go on once it is confirmed. */
  private controlPaused = false;
  /**
   * Per queue, the objects every command is decoded into (no allocation per command). A decoded
   * command is valid only while its handler runs: whatever outlives that is copied (rects kept as
   * scanout state, entries kept as backing). No re-entry means one command per queue at a time.
   */
  private readonly scratch = [new CommandScratch(), new CommandScratch()];

  constructor(
    private readonly state: DeviceState,
    private readonly used: UsedBuffers,
    private readonly responder: Responder,
    private readonly hooks: DispatchHooks,
    private readonly log: RateLimitedLog,
    /** Raise a config interrupt (the transport then reads needsReset). */
    private readonly configInterrupt: () => void,
  ) {}

  /** The driver kicked queue `qi` (or the device resumes it): process everything available. */
  notify(qi: 0 | 1): void {
    if (!this.used.queues || this.needsReset) return;
    if (qi !== CONTROLQ && qi !== CURSORQ) return;
    this.kicked[qi] = true;
    if (this.running) return; // the loop below sees the mark after its current chain
    this.running = true;
    this.used.begin();
    try {
      while ((this.kicked[CONTROLQ] || this.kicked[CURSORQ]) && !this.needsReset && this.used.queues) {
        if (this.kicked[CONTROLQ]) {
          this.kicked[CONTROLQ] = false;
          this.drain(CONTROLQ);
        }
        if (this.kicked[CURSORQ] && !this.needsReset && this.used.queues) {
          this.kicked[CURSORQ] = false;
          this.drain(CURSORQ);
        }
      }
    } finally {
      this.running = false;
      this.kicked[CONTROLQ] = this.kicked[CURSORQ] = false;
      this.used.end();
    }
  }

  /** The region confirmed every unmap: pick up the control queue where it stopped. */
  resume(): void {
    if (!this.controlPaused || !this.used.queues) return;
    this.controlPaused = false;
    // On a fresh stack: this may run inside a region's completion callback.
    queueMicrotask(() => this.notify(CONTROLQ));
  }

  /** Device reset: forget kicks and pauses. */
  reset(): void {
    this.needsReset = false;
    this.controlPaused = false;
    this.kicked[CONTROLQ] = this.kicked[CURSORQ] = false;
  }

  private drain(qi: 0 | 1): void {
    const queue = this.used.queues![qi];
    for (;;) {
      if (qi === CONTROLQ && this.state.outstandingUnmaps > 0) {
        this.controlPaused = true;
        return;
      }
      let chain: Chain | null;
      try {
        chain = queue.pop();
      } catch (e) {
        this.log.log('error', `virtio-gpu: queue ${qi} pop threw: ${String(e)}`);
        this.markNeedsReset();
        return;
      }
      if (!chain) break;
      this.process(qi, chain);
      if (this.needsReset || !this.used.queues) return;
    }
    if (queue.broken) {
      this.log.log('error', `virtio-gpu: queue ${qi} broken: ${queue.broken.message}`);
      this.markNeedsReset();
    }
  }

  private markNeedsReset(): void {
    if (this.needsReset) return;
    this.needsReset = true;
    this.configInterrupt();
  }

  /** One chain: read, decode, dispatch, respond. A host bug is contained to this chain. */
  private process(qi: 0 | 1, chain: Chain): void {
    const scratch = this.scratch[qi];
    let hdr: CtrlHdr = NO_FENCE;
    let outcome: Outcome;
    try {
      // Descriptors may alias one buffer, so a chain can describe up to 4 GiB whatever the guest's
      // RAM: read only what a command can use. Bytes after a command are ignored anyway.
      const readable = Math.min(chain.reader.remaining, this.state.limits.maxCommandBytes);
      const bytes = chain.reader.readBytes(readable) ?? NO_BYTES;
      const cmd = decodeCommandInto(bytes, 0, bytes.byteLength, scratch);
      if (cmd === null) {
        hdr = decodeHeader(bytes, 0, bytes.byteLength) ?? NO_FENCE;
        this.log.log('warn', `virtio-gpu: undecodable command on queue ${qi}: ${scratch.error?.message ?? 'unknown'}`);
        this.responder.answerHeader(qi, chain, hdr, VIRTIO_GPU_RESP_ERR_UNSPEC);
        return;
      }
      hdr = cmd.hdr;
      outcome = dispatch(this.state, qi, cmd, this.hooks);
    } catch (e) {
      this.hostBug(qi, e);
      this.responder.answerHeader(qi, chain, hdr, VIRTIO_GPU_RESP_ERR_UNSPEC);
      return;
    }
    try {
      this.responder.respond(qi, chain, hdr, outcome);
    } catch (e) {
      this.hostBug(qi, e);
    }
  }

  private hostBug(qi: number, e: unknown): void {
    this.log.log('error', `virtio-gpu: internal error on queue ${qi}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  }
}
