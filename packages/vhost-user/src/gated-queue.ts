/**
 * The Virtqueue the device sees for one vhost-user vring. It wraps the SplitQueue over the
 * frontend's memory and adds what a vhost-user backend needs between the ring and the device:
 *
 * - A budget per batch. The guest runs on other threads (QEMU's vCPUs) and can refill the ring
 *   as fast as the device drains it, so `device.notify` would never return. After `budget` chains,
 *   or `budgetMs` milliseconds (a full-frame transfer costs far more than a flush), pop() reports
 *   an empty ring and the rest is picked up from a fresh event-loop turn, so socket messages, the
 *   display channel and interrupts are served in between.
 * - Holding a chain back. GET_DISPLAY_INFO and GET_EDID must be answered with what QEMU's display
 *   reports now, which takes a round trip on the display channel; such a chain waits here (the
 *   ring behind it waits too, preserving order) until the backend releases it.
 * - Stopping (GET_VRING_BASE) and swapping the ring underneath (a new SET_VRING_ADDR / start)
 *   while the device keeps this object.
 */
import type { DescriptorChain, QueueError, SplitQueue, Virtqueue } from '@virtio-gpu/virtqueue';

/** Reads the le32 at the start of a chain's readable bytes (a command's type) without consuming it; -1 if unreadable. */
export function peekType(chain: DescriptorChain): number {
  if (chain.descriptorCount === 0 || chain.descriptorWritable(0)) return -1;
  const len = chain.descriptorLength(0);
  if (len < 4) return -1;
  const v = chain.mem.view(chain.descriptorGpa(0), 4);
  if (v === null) return -1;
  return (v[0] | (v[1] << 8) | (v[2] << 16) | (v[3] << 24)) >>> 0;
}

/** Options of a gated queue. */
export interface GatedQueueOptions {
  /** Most chains handed out per batch (see {@link GatedQueue.beginBatch}). */
  budget: number;
  /** Most milliseconds a batch may take (checked between chains), or a function giving it per batch; default no limit. */
  budgetMs?: number | (() => number);
  /** Clock for budgetMs; default performance.now. */
  now?: () => number;
  /** Run the device on this queue again (from a fresh event-loop turn). */
  resume: () => void;
  /** Whether a chain must wait for {@link GatedQueue.release}; called once per popped chain. */
  shouldHold?: (chain: DescriptorChain) => boolean;
  /** While true, no chain is handed out (back-pressure); call {@link GatedQueue.unpause} when it turns false. */
  paused?: () => boolean;
  /** Schedules `fn` on a later event-loop turn; default setImmediate. */
  defer?: (fn: () => void) => void;
}

/** See the module comment. */
export class GatedQueue implements Virtqueue {
  private inner: SplitQueue | null = null;
  private held: DescriptorChain | null = null;
  private releasedHeld = false;
  private popped = 0;
  private batchStart = 0;
  private batchMs = Infinity;
  private resumeScheduled = false;
  private wasPaused = false;
  private stopped = true;
  /** Chains handed to the device since the last start (for statistics and reset decisions). */
  processed = 0;

  private readonly clock: () => number;

  constructor(private readonly opts: GatedQueueOptions) {
    this.clock = opts.now ?? (() => performance.now());
  }

  /** The ring currently underneath, or null. */
  get ring(): SplitQueue | null {
    return this.inner;
  }

  /** Whether a chain is waiting for {@link release}. */
  get holding(): boolean {
    return this.held !== null && !this.releasedHeld;
  }

  /** Start serving `ring` (a started vring). */
  start(ring: SplitQueue): void {
    this.inner = ring;
    this.stopped = false;
    this.popped = 0;
    this.held = null;
    this.releasedHeld = false;
  }

  /**
   * Stop handing out chains. A held chain must have been released and processed before (the
   * backend answers it first); one still held is dropped with the ring, as a stopped ring's
   * unanswered chains are (the frontend resubmits from the base it gets back).
   */
  stop(): void {
    this.stopped = true;
    this.held = null;
    this.releasedHeld = false;
  }

  /** Whether chains are being handed out. */
  get running(): boolean {
    return !this.stopped && this.inner !== null;
  }

  /** A new batch: the budget starts over (call before `device.notify` for a kick). */
  beginBatch(): void {
    this.popped = 0;
    const b = this.opts.budgetMs;
    if (b !== undefined) {
      this.batchStart = this.clock();
      this.batchMs = typeof b === 'number' ? b : b();
    }
  }

  private overBudget(): boolean {
    if (this.popped >= this.opts.budget) return true;
    return this.opts.budgetMs !== undefined && this.popped > 0 && this.clock() - this.batchStart >= this.batchMs;
  }

  /** The pause condition may have cleared: resume if pop() had refused a chain for it. */
  unpause(): void {
    if (!this.wasPaused) return;
    this.wasPaused = false;
    this.scheduleResume();
  }

  /** Let the held chain through (the display information it needs has arrived) and resume. */
  release(): void {
    if (this.held === null || this.releasedHeld) return;
    this.releasedHeld = true;
    this.scheduleResume();
  }

  /** See {@link Virtqueue.pop}. */
  pop(): DescriptorChain | null {
    if (this.stopped || this.inner === null) return null;
    if (this.held !== null) {
      if (!this.releasedHeld) return null;
      const c = this.held;
      this.held = null;
      this.releasedHeld = false;
      this.popped++;
      this.processed++;
      return c;
    }
    if (this.overBudget()) {
      this.scheduleResume();
      return null;
    }
    if (this.opts.paused?.()) {
      this.wasPaused = true;
      return null;
    }
    const c = this.inner.pop();
    if (c === null) return null;
    if (this.opts.shouldHold?.(c)) {
      this.held = c;
      return null;
    }
    this.popped++;
    this.processed++;
    return c;
  }

  /** See {@link Virtqueue.pushUsed}; chains from a ring that was swapped out are dropped. */
  pushUsed(chain: DescriptorChain, bytesWritten: number): void {
    this.inner?.pushUsed(chain, bytesWritten);
  }

  /** See {@link Virtqueue.shouldNotify}. */
  shouldNotify(): boolean {
    return this.inner?.shouldNotify() ?? false;
  }

  /** See {@link Virtqueue.broken}. */
  get broken(): QueueError | null {
    return this.inner?.broken ?? null;
  }

  /** See {@link Virtqueue.reset}. */
  reset(): void {
    this.inner?.reset();
    this.held = null;
    this.releasedHeld = false;
  }

  private scheduleResume(): void {
    if (this.resumeScheduled) return;
    this.resumeScheduled = true;
    (this.opts.defer ?? setImmediate)(() => {
      this.resumeScheduled = false;
      if (!this.running) return;
      this.beginBatch();
      this.opts.resume();
    });
  }
}
