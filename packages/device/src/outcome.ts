/**
 * What a command handler returns: a response to send (its hdr is filled in by the queue loop), a
 * failure, or a Deferred for commands that finish later (UNMAP_BLOB waits for the host-visible
 * region to confirm).
 */
import { VIRTIO_GPU_RESP_OK_NODATA, type CtrlHdr, type Response } from '@virtio-gpu/protocol';
import type { Failure } from './result.js';

/** Placeholder header in handler replies; the queue loop writes the real one. */
export const EMPTY_HDR: CtrlHdr = Object.freeze({ type: 0, flags: 0, fenceId: 0n, ctxId: 0, ringIdx: 0 });

/** VIRTIO_GPU_RESP_OK_NODATA reply. */
export const NODATA: Response = Object.freeze({ type: VIRTIO_GPU_RESP_OK_NODATA, hdr: EMPTY_HDR }) as Response;

/** A reply that will be known later. */
export class Deferred {
  private settled: Response | Failure | null = null;
  private listener: ((o: Response | Failure) => void) | null = null;

  /** Finish the command (only the first call counts). */
  resolve(outcome: Response | Failure): void {
    if (this.settled) return;
    this.settled = outcome;
    const l = this.listener;
    this.listener = null;
    l?.(outcome);
  }

  /** Run `cb` once settled (at once if already settled). */
  onSettle(cb: (o: Response | Failure) => void): void {
    if (this.settled) cb(this.settled);
    else this.listener = cb;
  }
}

/** A handler's result. */
export type Outcome = Response | Failure | Deferred;

/** Whether an outcome is a failure. */
export function isFailure(o: Outcome): o is Failure {
  return (o as Failure).ok === false;
}
