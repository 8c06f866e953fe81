/**
 * The device's vrings under the frontend's control: the vring requests (SET_VRING_NUM, _ADDR,
 * _BASE, _KICK, _CALL, _ERR, _ENABLE and GET_VRING_BASE) and when a ring starts (its kick fd
 * arrives), stops (GET_VRING_BASE, RESET_OWNER, RESET_DEVICE) and runs (a kick, an enable, the
 * start itself). Each ring feeds the device through its GatedQueue, which the backend builds.
 *
 * Device resets: vhost-user tells the backend nothing when the guest resets the device (QEMU
 * stops the rings exactly as it does when the VM is paused). A stopped ring that is started again
 * at another index than the one GET_VRING_BASE reported was not resumed, so the driver started
 * over (reset or reboot): the device is reset before that ring runs. A paused VM resumes at the
 * reported index and keeps its resources.
 */
import type { VirtioGpuDevice } from '@virtio-gpu/device';
import { VIRTIO_F_EVENT_IDX } from '@virtio-gpu/virtqueue';
import type { Features } from './features.js';
import type { GatedQueue } from './gated-queue.js';
import type { VhostHost } from './host.js';
import type { VhostMemory } from './memory.js';
import { takeEventfd } from './message-fds.js';
import { fail } from './protocol-error.js';
import { Vring } from './vring.js';
import * as W from './wire.js';

/** Queues of virtio-gpu: controlq and cursorq (virtio-gpu §5.7.2). */
export const NUM_QUEUES = 2;

/** What the rings work with, all owned by the backend. */
export interface VringSetContext {
  host: VhostHost;
  memory: VhostMemory;
  device: VirtioGpuDevice;
  features: Features;
  /** Ring i's GatedQueue at index i. */
  gates: readonly GatedQueue[];
  /** Whether the connection has ended (a late kick or resume then does nothing). */
  closed: () => boolean;
  /** Resets the device before a ring restarted at a new index runs; the backend's reset calls {@link VringSet.forgetStops}. */
  resetDevice: (why: string) => void;
  /** Ends the connection with one error line. */
  close: (why: string) => void;
}

/** See the module comment. */
export class VringSet {
  /** Ring i at index i. */
  readonly all: readonly Vring[];
  /** Per ring: the index GET_VRING_BASE reported, null when not stopped since the last reset. */
  private readonly stoppedAt: (number | null)[] = [null, null];
  private resetOnStart = false;

  constructor(private readonly ctx: VringSetContext) {
    this.all = [0, 1].map((i) => new Vring(i, ctx.host));
  }

  /** Whether any ring has started. */
  get anyStarted(): boolean {
    return this.all.some((r) => r.started);
  }

  /** The ring a request names; the message is refused when the device has no such ring. */
  private named(index: number): Vring {
    if (index >= NUM_QUEUES) fail(`vring index ${index} (the device has ${NUM_QUEUES})`);
    return this.all[index];
  }

  /** VHOST_USER_SET_VRING_NUM. */
  setVringNum(index: number, num: number): void {
    const r = this.named(index);
    const bad = Vring.checkNum(num);
    if (bad) fail(bad);
    if (r.started) fail(`SET_VRING_NUM on running vring ${index}`);
    r.num = num;
  }

  /** VHOST_USER_SET_VRING_ADDR (checked against the memory when the ring starts). */
  setVringAddr(req: { index: number; descUserAddr: number; availUserAddr: number; usedUserAddr: number }): void {
    const r = this.named(req.index);
    if (r.started) fail(`SET_VRING_ADDR on running vring ${req.index}`);
    r.descUserAddr = req.descUserAddr;
    r.availUserAddr = req.availUserAddr;
    r.usedUserAddr = req.usedUserAddr;
  }

  /** VHOST_USER_SET_VRING_BASE: where the ring resumes. */
  setVringBase(index: number, num: number): void {
    const r = this.named(index);
    if (r.started) fail(`SET_VRING_BASE on running vring ${index}`);
    if (num > 0xffff) fail(`SET_VRING_BASE ${num} (a split ring index is 16 bits)`);
    r.base = num;
    const at = this.stoppedAt[index];
    if (at !== null && at !== num) this.resetOnStart = true;
  }

  /** VHOST_USER_GET_VRING_BASE: stops the ring; returns the index it resumes at. */
  getVringBase(index: number): number {
    this.named(index);
    const base = this.stop(index);
    this.stoppedAt[index] = base;
    return base;
  }

  /** VHOST_USER_SET_VRING_KICK: takes the kick eventfd from `fds` and starts the ring. */
  setVringKick(index: number, noFd: boolean, fds: number[]): void {
    const r = this.named(index);
    if (noFd) fail(`vring ${index}: polling (no kick fd) is not supported`);
    const kick = takeEventfd(this.ctx.host, fds, `vring ${index}`);
    r.kickWatch?.stop();
    r.setFd('kickFd', kick);
    this.start(index);
  }

  /** VHOST_USER_SET_VRING_CALL (`callFd`) or VHOST_USER_SET_VRING_ERR (`errFd`): takes the eventfd from `fds`, or none. */
  setVringEventfd(kind: 'callFd' | 'errFd', index: number, noFd: boolean, fds: number[]): void {
    this.named(index).setFd(kind, noFd ? -1 : takeEventfd(this.ctx.host, fds, `vring ${index}`));
  }

  /** VHOST_USER_SET_VRING_ENABLE. */
  setVringEnable(index: number, num: number): void {
    const r = this.named(index);
    if (num > 1) fail(`SET_VRING_ENABLE ${num}`);
    if (!this.ctx.features.isAcked(W.VHOST_USER_F_PROTOCOL_FEATURES) && !this.ctx.features.anyProtocolFeature) fail('SET_VRING_ENABLE without protocol features');
    r.enabled = num === 1;
    if (r.enabled) this.run(index as 0 | 1);
  }

  /** Stops every ring (RESET_OWNER, RESET_DEVICE). */
  stopAll(): void {
    for (let i = 0; i < NUM_QUEUES; i++) this.stop(i);
  }

  /** The device was reset: no ring resumes where it stopped any more. */
  forgetStops(): void {
    this.resetOnStart = false;
    this.stoppedAt.fill(null);
  }

  /** Lets the device take chains from ring `i` (a batch), if it is started and enabled. */
  run(i: 0 | 1): void {
    if (this.ctx.closed()) return;
    const r = this.all[i];
    const g = this.ctx.gates[i];
    if (!r.started || !r.enabled || !g.running) return;
    g.beginBatch();
    this.ctx.device.notify(i);
    const broken = g.broken;
    if (broken !== null && r.errFd >= 0) this.ctx.host.signalEventfd(r.errFd);
    // The device's reads of a shrunk file found zeros; the guest's memory is gone for good.
    const lost = this.ctx.memory.lostRegion();
    if (lost !== null) this.ctx.close(lost);
  }

  /** Signals ring `i`'s call eventfd, if it has one. */
  signalCall(i: number): void {
    const fd = this.all[i]?.callFd ?? -1;
    if (fd >= 0) this.ctx.host.signalEventfd(fd);
  }

  /** Signals every ring's error eventfd that exists. */
  signalErrors(): void {
    for (let i = 0; i < NUM_QUEUES; i++) if (this.all[i].errFd >= 0) this.ctx.host.signalEventfd(this.all[i].errFd);
  }

  private start(i: number): void {
    const r = this.all[i];
    if (this.resetOnStart) {
      // The ring does not resume where it stopped: the driver started over.
      this.resetOnStart = false;
      this.ctx.resetDevice('a ring restarted at a new index');
    }
    const q = r.buildQueue(this.ctx.memory, this.ctx.features.isAcked(VIRTIO_F_EVENT_IDX));
    if (typeof q === 'string') fail(q);
    r.started = true;
    // Without VHOST_USER_F_PROTOCOL_FEATURES a ring starts enabled (vhost-user.rst "Ring states").
    if (!this.ctx.features.isAcked(W.VHOST_USER_F_PROTOCOL_FEATURES)) r.enabled = true;
    this.ctx.gates[i].start(q);
    r.kickWatch = this.ctx.host.watchEventfd(r.kickFd, () => this.run(i as 0 | 1));
    // Buffers made available before the kick fd existed will not be kicked again.
    this.run(i as 0 | 1);
  }

  /** Stops ring `i` and returns the next index it would have processed. */
  private stop(i: number): number {
    const r = this.all[i];
    const g = this.ctx.gates[i];
    if (!r.started) return r.base;
    if (g.holding) {
      // Answer the held command with what is known now rather than drop it.
      g.release();
      g.beginBatch();
      this.ctx.device.notify(i as 0 | 1);
    }
    const base = g.ring?.lastAvailIdx ?? r.base;
    g.stop();
    r.kickWatch?.stop();
    r.kickWatch = null;
    r.setFd('kickFd', -1);
    r.started = false;
    r.base = base;
    return base;
  }
}
