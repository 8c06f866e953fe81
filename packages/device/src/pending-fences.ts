/**
 * Chains whose reply is written but which wait for their fence (virtio-gpu §5.7.6.7): what
 * crosvm keeps in its fence descriptors. A held chain is only its queue, chain (or, after a
 * restore, its head), reply length and fence; the reply bytes are already in guest memory. When
 * the renderer retires fence N of a timeline, every held chain of that timeline with a fence id
 * up to N goes to the used ring, in submission order.
 */
import { VIRTIO_GPU_FLAG_FENCE, VIRTIO_GPU_FLAG_INFO_RING_IDX, type CtrlHdr } from '@virtio-gpu/protocol';
import type { Chain } from '@virtio-gpu/virtqueue';
import { FenceTimelines } from './fences.js';
import type { RateLimitedLog } from './log.js';
import type { Fence } from './renderer.js';
import type { Result } from './result.js';
import type { UsedBuffers } from './used-buffers.js';

/** A chain answered but not yet used. */
export interface HeldChain {
  readonly queueIndex: 0 | 1;
  /** The chain; null when restored from a snapshot until `chainFor` gives it back. */
  chain: Chain | null;
  readonly head: number;
  /** Bytes of the reply in the chain; -1 while the reply is still being written. */
  length: number;
  /** The fence it waits for. */
  readonly fence: Fence;
  /** The fence retired before the reply was written (a renderer retiring inside createFence). */
  retired: boolean;
}

/** Gives back the chain with `head` on queue `queueIndex` from restored guest memory, or null. */
export type ChainFor = (queueIndex: 0 | 1, head: number) => Chain | null;

/** The fence a command's header asks for (VIRTIO_GPU_FLAG_FENCE), on its timeline, or null. */
export function requestedFence(hdr: CtrlHdr): Fence | null {
  if ((hdr.flags & VIRTIO_GPU_FLAG_FENCE) === 0) return null;
  const ringed = (hdr.flags & VIRTIO_GPU_FLAG_INFO_RING_IDX) !== 0;
  return { fenceId: hdr.fenceId, ctxId: hdr.ctxId, ringIdx: ringed ? hdr.ringIdx : 0, ringed };
}

/** The command header fields a reply echoes, rebuilt from the fence the command asked for. */
export function fenceHdr(fence: Fence | null): CtrlHdr {
  if (fence === null) return { type: 0, flags: 0, fenceId: 0n, ctxId: 0, ringIdx: 0 };
  const flags = VIRTIO_GPU_FLAG_FENCE | (fence.ringed ? VIRTIO_GPU_FLAG_INFO_RING_IDX : 0);
  return { type: 0, flags, fenceId: fence.fenceId, ctxId: fence.ctxId, ringIdx: fence.ringIdx };
}

/** The held chains, per fence timeline. */
export class PendingFences {
  private readonly timelines = new FenceTimelines<HeldChain>();
  /** Resolves held chains restored from a snapshot (RestoreOptions.chainFor). */
  chainFor: ChainFor | undefined;

  constructor(
    private readonly used: UsedBuffers,
    private readonly log: RateLimitedLog,
  ) {}

  /** Hold `h` until its fence retires. */
  add(h: HeldChain): void {
    this.timelines.add(h.fence, h.fence.fenceId, h);
  }

  /** Stop holding `h` (its fence could not be created); false when it is not held. */
  remove(h: HeldChain): boolean {
    return this.timelines.remove(h);
  }

  /**
   * A held chain from a snapshot: held again and its fence created again with `create`; when that
   * fails, it goes used at once (its reply is in guest memory already).
   */
  restore(h: HeldChain, create: (fence: Fence) => Result): void {
    this.add(h);
    const r = create(h.fence);
    if (!r.ok && this.remove(h)) this.release(h);
  }

  /** The renderer's fence handler: release everything up to `fence` on its timeline, in order. */
  retired(fence: Fence): void {
    this.used.begin();
    try {
      this.timelines.retireEach(fence, fence.fenceId, this.releaseOne);
    } finally {
      this.used.end();
    }
  }

  /** {@link release} as a value made once (an arrow per retirement would be an allocation). */
  private readonly releaseOne = (h: HeldChain): void => this.release(h);

  /** CTX_DESTROY: the context's rings are gone, so their held chains are released now. */
  dropContext(ctxId: number): void {
    for (const h of this.timelines.dropContext(ctxId)) this.release(h);
  }

  /** Every held chain, for snapshots. */
  held(): HeldChain[] {
    return this.timelines.entries().map((e) => e.item);
  }

  /** Number of held chains. */
  get size(): number {
    return this.timelines.size;
  }

  /** Device reset: forget everything. */
  clear(): void {
    this.timelines.clear();
    this.chainFor = undefined;
  }

  private release(h: HeldChain): void {
    if (h.length < 0) {
      // Retired inside createFence, before the responder wrote the reply: it pushes the chain.
      h.retired = true;
      return;
    }
    const chain = h.chain ?? this.chainFor?.(h.queueIndex, h.head) ?? null;
    if (chain === null) {
      this.log.log('error', `virtio-gpu: no chain for held head ${h.head} on queue ${h.queueIndex}; dropped`);
      return;
    }
    this.used.push(h.queueIndex, chain, h.length);
  }
}
