/**
 * Giving chains back: pushUsed on the device's two queues, and the queue interrupts that follow,
 * coalesced. Whatever pushes (the queue loop, a fence retiring, an unmap confirming) brackets its
 * work with begin()/end(); the interrupt decision (Virtqueue.shouldNotify) is taken once, when
 * the outermost bracket ends, for every queue that got used buffers.
 */
import type { Chain, Virtqueue } from '@virtio-gpu/virtqueue';

/** Why the device raised an interrupt: a used buffer on a queue, or a config change. */
export type InterruptCause = 'queue' | 'config';

/** The device's queues' used side. */
export class UsedBuffers {
  /** controlq and cursorq, from attachQueues until reset. */
  queues: [Virtqueue, Virtqueue] | null = null;
  private readonly pending = [false, false];
  private depth = 0;

  constructor(private readonly onInterrupt: (cause: InterruptCause, queueIndex?: number) => void) {}

  /** Returns `chain` to the driver of queue `queueIndex` with `length` bytes written. */
  push(queueIndex: 0 | 1, chain: Chain, length: number): void {
    const queues = this.queues;
    if (queues === null) return;
    queues[queueIndex].pushUsed(chain, length);
    this.pending[queueIndex] = true;
  }

  /** Work that may push several buffers starts: interrupts wait for its {@link end}. */
  begin(): void {
    this.depth++;
  }

  /** Work ends; the outermost end raises the interrupts the queues want. */
  end(): void {
    if (--this.depth > 0) return;
    const queues = this.queues;
    for (let qi: 0 | 1 = 0; qi <= 1; qi++) {
      if (!this.pending[qi]) continue;
      this.pending[qi] = false;
      if (queues?.[qi].shouldNotify()) this.onInterrupt('queue', qi);
    }
  }

  /** Device reset: the queues are forgotten with anything not yet signalled. */
  detach(): void {
    this.queues = null;
    this.pending[0] = this.pending[1] = false;
  }
}
