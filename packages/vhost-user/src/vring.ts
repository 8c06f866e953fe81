/**
 * One vring as the frontend configures it (SET_VRING_NUM/ADDR/BASE/KICK/CALL/ERR/ENABLE) and its
 * life: stopped -> started (a kick fd arrived) -> stopped (GET_VRING_BASE). Started and enabled
 * rings feed the device through their GatedQueue.
 */
import { SplitQueue, VirtqAvail, VirtqDesc, VirtqUsed, VIRTQ_MAX_SIZE, readU16 } from '@virtio-gpu/virtqueue';
import type { VhostMemory } from './memory.js';
import type { VhostHost, Watch } from './host.js';

/** A ring's configuration and descriptors. */
export class Vring {
  /** Queue size (SET_VRING_NUM); 0 until set. */
  num = 0;
  /** Ring addresses in the frontend's address space (SET_VRING_ADDR); -1 until set. */
  descUserAddr = -1;
  availUserAddr = -1;
  usedUserAddr = -1;
  /** Next available index to process (SET_VRING_BASE). */
  base = 0;
  kickFd = -1;
  callFd = -1;
  errFd = -1;
  kickWatch: Watch | null = null;
  enabled = false;
  started = false;

  constructor(
    readonly index: number,
    private readonly host: VhostHost,
  ) {}

  /** Why `n` is not a split ring size, or null. */
  static checkNum(n: number): string | null {
    return n >= 1 && n <= VIRTQ_MAX_SIZE && (n & (n - 1)) === 0 ? null : `vring size ${n} is not a power of 2 in [1, ${VIRTQ_MAX_SIZE}]`;
  }

  /** Replace one of the ring's eventfds, closing the old one. */
  setFd(kind: 'kickFd' | 'callFd' | 'errFd', fd: number): void {
    const old = this[kind];
    this[kind] = fd;
    if (old >= 0 && old !== fd) this.host.close(old);
  }

  /**
   * The split ring over `memory` for the current configuration, resuming at `base` (the driver's
   * used index is read back from the ring, as the frontend left it). Returns why not when the
   * configuration is incomplete or points outside the frontend's memory.
   */
  buildQueue(memory: VhostMemory, eventIdx: boolean): SplitQueue | string {
    if (this.num === 0) return `vring ${this.index}: started without SET_VRING_NUM`;
    if (this.descUserAddr < 0) return `vring ${this.index}: started without SET_VRING_ADDR`;
    const desc = memory.uvaToGpa(this.descUserAddr, VirtqDesc.SIZE * this.num);
    const avail = memory.uvaToGpa(this.availUserAddr, VirtqAvail.size(this.num));
    const used = memory.uvaToGpa(this.usedUserAddr, VirtqUsed.size(this.num));
    if (desc < 0 || avail < 0 || used < 0) return `vring ${this.index}: ring areas are not inside one memory region each`;
    const cfg = { size: this.num, descAddr: desc, availAddr: avail, usedAddr: used, eventIdx };
    const bad = SplitQueue.check(memory, cfg);
    if (bad !== null) return `vring ${this.index}: ${bad}`;
    const q = new SplitQueue(memory, cfg);
    const usedIdx = readU16(memory, used + VirtqUsed.idx);
    q.restoreIndexes(this.base, usedIdx < 0 ? this.base : usedIdx);
    return q;
  }

  /** Stop watching and close every descriptor (connection gone). */
  dispose(): void {
    this.kickWatch?.stop();
    this.kickWatch = null;
    this.started = false;
    for (const kind of ['kickFd', 'callFd', 'errFd'] as const) {
      const fd = this[kind];
      this[kind] = -1;
      if (fd >= 0) this.host.close(fd);
    }
  }
}
