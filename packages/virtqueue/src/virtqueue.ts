/** The device-side queue contract shared by split and packed rings (docs/architecture.md). */

import type { DescriptorChain } from './chain.js';
import type { QueueError } from './queue-error.js';

/** Device side of one virtqueue. No method throws for any guest memory content. */
export interface Virtqueue {
  /** The next available chain, or `null` when none is available or the queue is broken. */
  pop(): DescriptorChain | null;
  /**
   * Returns a popped chain to the driver with `bytesWritten` bytes written (clamped to the
   * chain's writable size). The chain object is recycled: do not use it afterwards.
   */
  pushUsed(chain: DescriptorChain, bytesWritten: number): void;
  /** After a batch of `pushUsed`: does the driver want an interrupt for it? */
  shouldNotify(): boolean;
  /** Set on ring corruption; the device should set DEVICE_NEEDS_RESET. */
  readonly broken: QueueError | null;
  /** Back to the initial state (indexes 0, not broken) for the same ring addresses. */
  reset(): void;
}
