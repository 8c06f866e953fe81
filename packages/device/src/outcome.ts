/**
 * What a command handler returns: the reply body to send (the responder gives it its header), a
 * failure, or a Deferred for commands that finish later (UNMAP_BLOB and UNREF of a mapped blob
 * wait for the host-visible region to confirm).
 */
import { VIRTIO_GPU_RESP_OK_NODATA, type CtrlHdr, type ResponseBody } from '@virtio-gpu/protocol';
import type { Failure } from './result.js';

/** VIRTIO_GPU_RESP_OK_NODATA: the reply of most commands. */
export const NODATA: ResponseBody = Object.freeze({ type: VIRTIO_GPU_RESP_OK_NODATA });

/**
 * The header of a command that asked for nothing (no fence): a reply to it has zeros but for its
 * type. Stands in where no command header could be read (a chain shorter than a header).
 */
export const NO_FENCE: CtrlHdr = Object.freeze({ type: 0, flags: 0, fenceId: 0n, ctxId: 0, ringIdx: 0 });

/** A reply that will be known later. */
export class Deferred {
  private settled: ResponseBody | Failure | null = null;
  private listener: ((o: ResponseBody | Failure) => void) | null = null;

  /** Finish the command (only the first call counts). */
  resolve(outcome: ResponseBody | Failure): void {
    if (this.settled) return;
    this.settled = outcome;
    const l = this.listener;
    this.listener = null;
    l?.(outcome);
  }

  /** Run `cb` once settled (at once if already settled). */
  onSettle(cb: (o: ResponseBody | Failure) => void): void {
    if (this.settled) cb(this.settled);
    else this.listener = cb;
  }
}

/**
 * OK_NODATA once `start` calls its `done`: at once (NODATA) when it does so before returning,
 * else a Deferred that settles then. For handlers whose work waits for the host-visible region.
 */
export function nodataWhenDone(start: (done: () => void) => void): ResponseBody | Deferred {
  let sync = true;
  let finished = false;
  const d = new Deferred();
  start(() => {
    finished = true;
    if (!sync) d.resolve(NODATA);
  });
  sync = false;
  return finished ? NODATA : d;
}

/** A handler's result. */
export type Outcome = ResponseBody | Failure | Deferred;

/** Whether an outcome is a failure. */
export function isFailure(o: Outcome): o is Failure {
  return (o as Failure).ok === false;
}
