/**
 * VirtioGpuDevice: the virtio-gpu device model (virtio 1.3 §5.7), transport-agnostic. Like
 * crosvm's frontend: pop a chain, decode, dispatch to a handler, encode the response into the
 * chain's writable part, push it used. A fenced command (VIRTIO_GPU_FLAG_FENCE) is answered when
 * its fence retires. See docs/architecture.md for the contract and README for the behaviour.
 */
import {
  VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE,
  VIRTIO_GPU_CMD_CTX_CREATE,
  VIRTIO_GPU_CMD_CTX_DESTROY,
  VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE,
  VIRTIO_GPU_CMD_GET_CAPSET,
  VIRTIO_GPU_CMD_GET_CAPSET_INFO,
  VIRTIO_GPU_CMD_GET_DISPLAY_INFO,
  VIRTIO_GPU_CMD_GET_EDID,
  VIRTIO_GPU_CMD_MOVE_CURSOR,
  VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID,
  VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
  VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
  VIRTIO_GPU_CMD_RESOURCE_CREATE_3D,
  VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
  VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
  VIRTIO_GPU_CMD_RESOURCE_FLUSH,
  VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB,
  VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB,
  VIRTIO_GPU_CMD_RESOURCE_UNREF,
  VIRTIO_GPU_CMD_SET_SCANOUT,
  VIRTIO_GPU_CMD_SET_SCANOUT_BLOB,
  VIRTIO_GPU_CMD_SUBMIT_3D,
  VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D,
  VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
  VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D,
  VIRTIO_GPU_CMD_UPDATE_CURSOR,
  VIRTIO_GPU_EVENT_DISPLAY,
  VIRTIO_GPU_F_CONTEXT_INIT,
  VIRTIO_GPU_FLAG_FENCE,
  VIRTIO_GPU_FLAG_INFO_RING_IDX,
  VIRTIO_GPU_MAX_SCANOUTS,
  VIRTIO_GPU_RESP_ERR_UNSPEC,
  VIRTIO_GPU_RESP_OK_NODATA,
  type CmdCursor,
  type CmdCtxCreate,
  type CmdCtxDestroy,
  type CmdCtxResource,
  type CmdGetCapset,
  type CmdGetCapsetInfo,
  type CmdGetEdid,
  type CmdResourceAssignUuid,
  type CmdResourceAttachBacking,
  type CmdResourceCreate2d,
  type CmdResourceCreate3d,
  type CmdResourceCreateBlob,
  type CmdResourceDetachBacking,
  type CmdResourceFlush,
  type CmdResourceMapBlob,
  type CmdResourceUnmapBlob,
  type CmdResourceUnref,
  type CmdSetScanout,
  type CmdSetScanoutBlob,
  type CmdSubmit3d,
  type CmdTransferHost3d,
  type CmdTransferToHost2d,
  type Command,
  CommandScratch,
  CtrlHdr,
  type Rect,
  type Response,
  decodeCommandInto,
  decodeHeader,
  encodeResponse,
  responseSize,
} from '@virtio-gpu/protocol';
import type { DescriptorChain, GuestMemory, Virtqueue, Writer as ChainWriter } from '@virtio-gpu/virtqueue';

/** A chain writer as transports may provide it: `claim` is an optional fast path. */
type Writer = Omit<ChainWriter, 'claim'> & Partial<Pick<ChainWriter, 'claim'>>;
import { Backing } from './backing.js';
import type { HostVisibleRegion } from './blob.js';
import { ConfigSpace } from './config-space.js';
import { offeredFeatures } from './features.js';
import { FenceTimelines, MAX_RINGS } from './fences.js';
import { capset, capsetInfo } from './handlers/capset.js';
import { ctxCreate, ctxDestroy, ctxResource } from './handlers/context.js';
import { cursor } from './handlers/cursor.js';
import { getDisplayInfo, getEdid } from './handlers/display.js';
import { createBlob, mapBlob, unmapBlob } from './handlers/blob.js';
import { assignUuid, attachBacking, create2d, detachBacking, unref } from './handlers/resource.js';
import { setScanout, setScanoutBlob } from './handlers/scanout.js';
import { create3d, submit3d, transfer3d } from './handlers/three-d.js';
import { flush, transferToHost2d } from './handlers/transfer.js';
import { type DeviceLimits, resolveLimits } from './limits.js';
import { type LogSink, RateLimitedLog } from './log.js';
import { Deferred, EMPTY_HDR, NODATA, type Outcome, isFailure } from './outcome.js';
import type { Fence, Renderer } from './renderer.js';
import { Renderer2D } from './renderer-2d.js';
import { newResource } from './resources.js';
import { type Failure, errContextId, errParameter, errUnspec } from './result.js';
import { CURSOR_SIZE, type CursorState, type ScanoutConfig, type ScanoutSink, type ScanoutState, rectInside, scanoutFromConfig } from './scanouts.js';
import { DEVICE_SNAPSHOT_VERSION, type DeviceSnapshot, type PendingSnapshot } from './snapshot.js';
import { DeviceState } from './state.js';

/** Why the device raised an interrupt: a used buffer on a queue, or a config change. */
export type InterruptCause = 'queue' | 'config';

/** Constructor options (docs/architecture.md). */
export interface VirtioGpuDeviceOptions {
  /** Guest memory the queues and backing live in. */
  memory: GuestMemory;
  /** Renderer; default a new Renderer2D. */
  renderer?: Renderer;
  /** 1..16 scanouts; default one 1024x768. num_scanouts is their count (or `numScanouts`). */
  scanouts?: ScanoutConfig[];
  /** num_scanouts when more outputs may be hotplugged later than are configured now. */
  numScanouts?: number;
  /** Limits; missing fields take DEFAULT_LIMITS. */
  limits?: Partial<DeviceLimits>;
  /** The host-visible shared memory region for MAP_BLOB. */
  hostVisible?: HostVisibleRegion;
  /** Display callbacks. */
  sink?: ScanoutSink;
  /** Raise an interrupt: used buffers on `queueIndex`, or a config change (events, needs-reset). */
  onInterrupt: (cause: InterruptCause, queueIndex?: number) => void;
  /** Log lines (rate-limited when guest-triggered). */
  log?: LogSink;
  /** Random bytes for UUIDs; default globalThis.crypto.getRandomValues. */
  random?: (bytes: Uint8Array) => void;
}

/** Options for {@link VirtioGpuDevice.restore}. */
export interface RestoreOptions {
  /**
   * Give back the chain with head `head` on queue `queueIndex`, for commands that were waiting on a
   * fence (or an unmap) when the snapshot was taken. The transport re-walks the descriptor table
   * in the restored guest memory (the chain is still owned by the device). Without it, or when it
   * returns null, such commands are dropped with a log line.
   */
  chainFor?: (queueIndex: 0 | 1, head: number) => DescriptorChain | null;
}

/** A chain waiting for its answer. */
interface Held {
  readonly queueIndex: 0 | 1;
  chain: DescriptorChain | null;
  readonly head: number;
  /** The handler's reply; its header is a placeholder (see `hdr`). */
  readonly reply: Response;
  /**
   * The header the response's fence fields come from by {@link responseHdr}'s rules: the
   * command's, or a final response header (the rules give it back unchanged).
   */
  readonly hdr: CtrlHdr;
}

/** The response a held chain will get, header final (snapshots store this). */
function heldResponse(h: Held): Response {
  return { ...h.reply, hdr: responseHdr(h.hdr, h.reply.type) } as Response;
}

/** A chain waiting on a Deferred handler result (unmap confirmation). */
interface HeldDeferred {
  readonly queueIndex: 0 | 1;
  readonly chain: DescriptorChain;
  readonly hdr: CtrlHdr;
}

const CONTROLQ = 0;
const CURSORQ = 1;

function defaultRandom(bytes: Uint8Array): void {
  const c = (globalThis as { crypto?: { getRandomValues?: (b: Uint8Array) => Uint8Array } }).crypto;
  if (!c?.getRandomValues) throw new Error('no crypto.getRandomValues for UUIDs');
  c.getRandomValues(bytes);
}

/**
 * A copy of a command header, for anything that outlives the command's handling (a held
 * answer, a snapshot): the queue loop decodes every command into the same scratch objects.
 */
function copyHdr(h: CtrlHdr): CtrlHdr {
  return { type: h.type, flags: h.flags, fenceId: h.fenceId, ctxId: h.ctxId, ringIdx: h.ringIdx };
}

/** The response header: echo the fence fields when the command asked for a fence (§5.7.6.7). */
export function responseHdr(cmdHdr: CtrlHdr, type: number): CtrlHdr {
  if ((cmdHdr.flags & VIRTIO_GPU_FLAG_FENCE) === 0) return { type, flags: 0, fenceId: 0n, ctxId: 0, ringIdx: 0 };
  const ringed = (cmdHdr.flags & VIRTIO_GPU_FLAG_INFO_RING_IDX) !== 0;
  return {
    type,
    flags: VIRTIO_GPU_FLAG_FENCE | (ringed ? VIRTIO_GPU_FLAG_INFO_RING_IDX : 0),
    fenceId: cmdHdr.fenceId,
    ctxId: cmdHdr.ctxId,
    ringIdx: ringed ? cmdHdr.ringIdx : 0,
  };
}

/** 2^32 as a bigint, to split a fence id into its le32 halves. */
const TWO_32 = 0x1_0000_0000n;

/** Little-endian u32 store; the caller checked the bounds (at most CtrlHdr.SIZE bytes at 0). */
function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v;
  b[at + 1] = v >>> 8;
  b[at + 2] = v >>> 16;
  b[at + 3] = v >>> 24;
}

/**
 * Writes the response's struct virtio_gpu_ctrl_hdr into `out[0, 24)`: `type`, and the fence
 * fields echoed by {@link responseHdr}'s rules. The hot path's replacement for building a header
 * object and encoding it: same bytes, no allocation (unfenced commands, the common case, write
 * only the type and zeros).
 */
function writeResponseHdr(out: Uint8Array, type: number, cmdHdr: CtrlHdr): void {
  putU32(out, CtrlHdr.type, type);
  if ((cmdHdr.flags & VIRTIO_GPU_FLAG_FENCE) === 0) {
    // Five word stores beat fill() (a builtin call) for 20 bytes.
    putU32(out, CtrlHdr.flags, 0);
    putU32(out, CtrlHdr.fenceId, 0);
    putU32(out, CtrlHdr.fenceId + 4, 0);
    putU32(out, CtrlHdr.ctxId, 0);
    putU32(out, CtrlHdr.ringIdx, 0); // ring_idx and padding[3]
    return;
  }
  const ringed = (cmdHdr.flags & VIRTIO_GPU_FLAG_INFO_RING_IDX) !== 0;
  putU32(out, CtrlHdr.flags, VIRTIO_GPU_FLAG_FENCE | (ringed ? VIRTIO_GPU_FLAG_INFO_RING_IDX : 0));
  // fence_id came from a le64 on the wire, so it is in [0, 2^64): the halves are exact.
  const id = cmdHdr.fenceId;
  putU32(out, CtrlHdr.fenceId, Number(id % TWO_32));
  putU32(out, CtrlHdr.fenceId + 4, Number(id / TWO_32));
  putU32(out, CtrlHdr.ctxId, cmdHdr.ctxId);
  out[CtrlHdr.ringIdx] = ringed ? cmdHdr.ringIdx : 0;
  out[CtrlHdr.padding] = 0;
  out[CtrlHdr.padding + 1] = 0;
  out[CtrlHdr.padding + 2] = 0;
}

/** The virtio-gpu device. */
export class VirtioGpuDevice {
  /** Device-specific features offered to the driver. */
  readonly features: bigint;
  /** The renderer in use. */
  readonly renderer: Renderer;
  /** Effective limits. */
  readonly limits: DeviceLimits;

  private readonly state: DeviceState;
  private readonly config: ConfigSpace;
  private readonly onInterrupt: (cause: InterruptCause, queueIndex?: number) => void;
  private readonly log: RateLimitedLog;
  private queues: [Virtqueue, Virtqueue] | null = null;
  private readonly fences = new FenceTimelines<Held>();
  private readonly deferred = new Set<HeldDeferred>();
  /** Held items from a restore, answered when their fence retires (resolved through chainFor). */
  private chainFor: RestoreOptions['chainFor'] | undefined;
  private needsResetFlag = false;
  private readonly usedPending = [false, false];
  private draining = 0;
  private controlKickPending = false;
  private scratch = new Uint8Array(2048);
  /** The 24 bytes of every header-only response (OK_NODATA, errors), reused. */
  private readonly hdrOut = new Uint8Array(CtrlHdr.SIZE);
  /**
   * Per queue, the objects every command is decoded into (no allocation per command). A decoded
   * command is only valid while processChain handles it: whatever outlives that is copied
   * (held headers here, rects kept as scanout state in the handlers).
   */
  private readonly cmdScratch: [CommandScratch, CommandScratch] = [new CommandScratch(), new CommandScratch()];
  /** Whether queue i's scratch holds the command being handled (processChain re-entered). */
  private readonly scratchBusy = [false, false];

  constructor(opts: VirtioGpuDeviceOptions) {
    this.renderer = opts.renderer ?? new Renderer2D();
    this.limits = resolveLimits(opts.limits);
    this.onInterrupt = opts.onInterrupt;
    this.log = new RateLimitedLog(opts.log, this.limits.logLinesPerSecond);
    const configs = opts.scanouts ?? [{ width: 1024, height: 768 }];
    const n = opts.numScanouts ?? configs.length;
    if (!Number.isInteger(n) || n < 1 || n > VIRTIO_GPU_MAX_SCANOUTS || configs.length > n) {
      throw new RangeError(`VirtioGpuDevice: ${n} scanouts (1..${VIRTIO_GPU_MAX_SCANOUTS})`);
    }
    this.checkConfigs(configs);
    const scanouts: ScanoutState[] = [];
    for (let i = 0; i < n; i++) scanouts.push(scanoutFromConfig(configs[i]));
    this.state = new DeviceState(
      opts.memory,
      this.renderer,
      this.limits,
      scanouts,
      opts.sink,
      opts.hostVisible,
      this.log,
      opts.random ?? defaultRandom,
    );
    this.state.onUnmapsDrained = () => this.unmapsDrained();
    this.features = offeredFeatures(this.renderer.capabilities);
    this.config = new ConfigSpace(n, this.renderer.capabilities.capsets.length);
    this.renderer.setFenceHandler((f) => this.fenceRetired(f));
  }

  // ---- features and config space -------------------------------------------------------------

  /** Accept the driver's features; returns the negotiated set (driver's & offered). */
  negotiate(driverFeatures: bigint): bigint {
    this.state.features = driverFeatures & this.features;
    return this.state.features;
  }

  /** The negotiated features. */
  get negotiatedFeatures(): bigint {
    return this.state.features;
  }

  /** Read `size` bytes of struct virtio_gpu_config at `offset`. */
  readConfig(offset: number, size: number): number {
    return this.config.read(offset, size);
  }

  /** Write config space; only events_clear is writable (write 1 to clear). */
  writeConfig(offset: number, size: number, value: number): void {
    this.config.write(offset, size, value);
  }

  /** Whether a broken queue requires a device reset (transport sets DEVICE_NEEDS_RESET). */
  get needsReset(): boolean {
    return this.needsResetFlag;
  }

  /** Number of scanouts (num_scanouts). */
  get numScanouts(): number {
    return this.config.numScanouts;
  }

  // ---- queues --------------------------------------------------------------------------------

  /** Give the device its control (0) and cursor (1) queues, when the driver sets DRIVER_OK. */
  attachQueues(control: Virtqueue, cursorQueue: Virtqueue): void {
    this.queues = [control, cursorQueue];
  }

  /** The driver kicked queue `queueIndex`: process everything available. */
  notify(queueIndex: 0 | 1): void {
    if (!this.queues || this.needsResetFlag) return;
    if (queueIndex !== CONTROLQ && queueIndex !== CURSORQ) return;
    this.draining++;
    try {
      this.drain(queueIndex);
    } finally {
      this.draining--;
    }
    this.flushInterrupts();
  }

  private drain(qi: 0 | 1): void {
    const queue = this.queues![qi];
    for (;;) {
      if (qi === CONTROLQ && this.state.outstandingUnmaps > 0) {
        // Paused until the host-visible region confirms: later commands may reuse the range.
        this.controlKickPending = true;
        return;
      }
      let chain: DescriptorChain | null;
      try {
        chain = queue.pop();
      } catch (e) {
        this.log.log('error', `virtio-gpu: queue ${qi} pop threw: ${String(e)}`);
        this.markNeedsReset();
        return;
      }
      if (!chain) break;
      this.processChain(qi, chain);
      if (this.needsResetFlag) return;
    }
    if (queue.broken) {
      this.log.log('error', `virtio-gpu: queue ${qi} broken: ${queue.broken.message}`);
      this.markNeedsReset();
    }
  }

  private markNeedsReset(): void {
    if (this.needsResetFlag) return;
    this.needsResetFlag = true;
    this.onInterrupt('config');
  }

  private processChain(qi: 0 | 1, chain: DescriptorChain): void {
    let hdr: CtrlHdr = EMPTY_HDR;
    // Re-entered (a sink or renderer callback kicked a queue while a command of this queue is
    // being handled): the outer command still reads the queue's scratch, so use a fresh one.
    const outer = !this.scratchBusy[qi];
    const scratch = outer ? this.cmdScratch[qi] : new CommandScratch();
    this.scratchBusy[qi] = true;
    try {
      // Descriptors may alias one buffer, so a chain can describe up to 4 GiB whatever the guest's
      // RAM: read only what a command can use. Bytes after a command are ignored anyway.
      const readable = Math.min(chain.reader.remaining, this.limits.maxCommandBytes);
      const bytes = chain.reader.readBytes(readable) ?? new Uint8Array(0);
      const cmd = decodeCommandInto(bytes, 0, bytes.byteLength, scratch);
      if (cmd === null) {
        const h = decodeHeader(bytes, 0, bytes.byteLength);
        if (h) hdr = h;
        this.log.log('warn', `virtio-gpu: undecodable command on queue ${qi}: ${scratch.error?.message ?? 'unknown'}`);
        this.answerHdr(qi, chain, hdr, VIRTIO_GPU_RESP_ERR_UNSPEC);
        return;
      }
      // scratch.hdr, not cmd.hdr: one object shape for every command type keeps these reads
      // monomorphic (the same values; see decodeCommandInto).
      hdr = scratch.hdr;
      const outcome = qi === CONTROLQ ? this.dispatchControl(hdr, cmd) : this.dispatchCursor(hdr, cmd);
      this.settle(qi, chain, hdr, outcome);
    } catch (e) {
      // A host bug: contain it to this chain.
      this.log.log('error', `virtio-gpu: internal error on queue ${qi}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      if (!this.isDeferred(chain)) {
        this.answerHdr(qi, chain, hdr, VIRTIO_GPU_RESP_ERR_UNSPEC);
      }
    } finally {
      if (outer) this.scratchBusy[qi] = false;
    }
  }

  /**
   * Whether `chain` waits on a Deferred. A method, not an inline `some((d) => ...)`: a closure
   * over processChain's `chain` would make V8 allocate a context on every processChain call.
   */
  private isDeferred(chain: DescriptorChain): boolean {
    for (const d of this.deferred) if (d.chain === chain) return true;
    return false;
  }

  /** Made once: an arrow in dispatchControl would cost a context allocation on every command. */
  private readonly dropFences = (ctxId: number): void => this.dropContextFences(ctxId);

  /** Fence fields that must be valid before the command runs (§5.7.6.7, CONTEXT_INIT). */
  private checkFence(hdr: CtrlHdr, type: number): Failure | null {
    if ((hdr.flags & VIRTIO_GPU_FLAG_FENCE) === 0 || (hdr.flags & VIRTIO_GPU_FLAG_INFO_RING_IDX) === 0) return null;
    if (!this.state.has(VIRTIO_GPU_F_CONTEXT_INIT)) return errParameter('INFO_RING_IDX without VIRTIO_GPU_F_CONTEXT_INIT');
    if (hdr.ringIdx >= MAX_RINGS) return errParameter(`ring_idx ${hdr.ringIdx} >= ${MAX_RINGS}`);
    if (type !== VIRTIO_GPU_CMD_CTX_CREATE && !this.state.contexts.get(hdr.ctxId)) return errContextId(`fence ring of unknown context ${hdr.ctxId}`);
    return null;
  }

  /**
   * Switches on `hdr.type` (equal to `cmd.type`): the header object has one shape whatever the
   * command, while each command type has its own, so `cmd.type` would be a polymorphic load.
   */
  private dispatchControl(hdr: CtrlHdr, cmd: Command): Outcome {
    const type = hdr.type;
    const bad = this.checkFence(hdr, type);
    if (bad) return bad;
    const s = this.state;
    switch (type) {
      case VIRTIO_GPU_CMD_RESOURCE_FLUSH:
        return flush(s, cmd as CmdResourceFlush);
      case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
        return transferToHost2d(s, cmd as CmdTransferToHost2d);
      case VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
        return getDisplayInfo(s);
      case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
        return create2d(s, cmd as CmdResourceCreate2d);
      case VIRTIO_GPU_CMD_RESOURCE_UNREF:
        return unref(s, cmd as CmdResourceUnref);
      case VIRTIO_GPU_CMD_SET_SCANOUT:
        return setScanout(s, cmd as CmdSetScanout);
      case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
        return attachBacking(s, cmd as CmdResourceAttachBacking);
      case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
        return detachBacking(s, cmd as CmdResourceDetachBacking);
      case VIRTIO_GPU_CMD_GET_CAPSET_INFO:
        return capsetInfo(s, cmd as CmdGetCapsetInfo);
      case VIRTIO_GPU_CMD_GET_CAPSET:
        return capset(s, cmd as CmdGetCapset);
      case VIRTIO_GPU_CMD_GET_EDID:
        return getEdid(s, cmd as CmdGetEdid);
      case VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID:
        return assignUuid(s, cmd as CmdResourceAssignUuid);
      case VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB:
        return createBlob(s, cmd as CmdResourceCreateBlob);
      case VIRTIO_GPU_CMD_SET_SCANOUT_BLOB:
        return setScanoutBlob(s, cmd as CmdSetScanoutBlob);
      case VIRTIO_GPU_CMD_CTX_CREATE:
        return ctxCreate(s, cmd as CmdCtxCreate);
      case VIRTIO_GPU_CMD_CTX_DESTROY:
        return ctxDestroy(s, cmd as CmdCtxDestroy, this.dropFences);
      case VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE:
        return ctxResource(s, cmd as CmdCtxResource, true);
      case VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE:
        return ctxResource(s, cmd as CmdCtxResource, false);
      case VIRTIO_GPU_CMD_RESOURCE_CREATE_3D:
        return create3d(s, cmd as CmdResourceCreate3d);
      case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D:
      case VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D:
        return transfer3d(s, cmd as CmdTransferHost3d);
      case VIRTIO_GPU_CMD_SUBMIT_3D:
        return submit3d(s, cmd as CmdSubmit3d);
      case VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB:
        return mapBlob(s, cmd as CmdResourceMapBlob);
      case VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB:
        return unmapBlob(s, cmd as CmdResourceUnmapBlob);
      default:
        return errUnspec(`command 0x${type.toString(16)} is not for the control queue`);
    }
  }

  private dispatchCursor(hdr: CtrlHdr, cmd: Command): Outcome {
    const type = hdr.type;
    if (type === VIRTIO_GPU_CMD_UPDATE_CURSOR || type === VIRTIO_GPU_CMD_MOVE_CURSOR) return cursor(this.state, cmd as CmdCursor);
    return errUnspec(`command 0x${type.toString(16)} is not for the cursor queue`);
  }

  /** Turn a handler outcome into a response now, after a fence, or after a Deferred settles. */
  private settle(qi: 0 | 1, chain: DescriptorChain, hdr: CtrlHdr, outcome: Outcome): void {
    if (outcome instanceof Deferred) {
      this.holdDeferred(qi, chain, hdr, outcome);
      return;
    }
    if (isFailure(outcome)) {
      this.log.log('warn', `virtio-gpu: ${outcome.why}`);
      this.answerHdr(qi, chain, hdr, outcome.err);
      return;
    }
    if (qi !== CONTROLQ || (hdr.flags & VIRTIO_GPU_FLAG_FENCE) === 0) {
      // No fence to wait for (fenceOrAnswer would answer at once): skip the Held record.
      this.answerNow(qi, chain, hdr, outcome);
      return;
    }
    // Answered when the fence retires, long after the scratch header was overwritten: copy it.
    const held: Held = { queueIndex: qi, chain, head: chain.head, reply: outcome, hdr: copyHdr(hdr) };
    this.fenceOrAnswer(held, held.hdr);
  }

  /**
   * Answer `chain` when `outcome` settles. Apart from settle because its callback closes over
   * the arguments, which would make every settle call allocate a context.
   */
  private holdDeferred(qi: 0 | 1, chain: DescriptorChain, hdr: CtrlHdr, outcome: Deferred): void {
    // The answer comes after this command's handling: keep a copy of its header, not the scratch.
    const held: HeldDeferred = { queueIndex: qi, chain, hdr: copyHdr(hdr) };
    const gen = this.state.generation;
    this.deferred.add(held);
    outcome.onSettle((o) => {
      if (!this.deferred.delete(held) || gen !== this.state.generation) return;
      this.draining++;
      try {
        this.settle(qi, chain, held.hdr, o instanceof Deferred ? errUnspec('nested deferral') : o);
      } finally {
        this.draining--;
      }
      this.flushInterrupts();
    });
  }

  /** Answer now, or hold until the command's fence retires (control queue only). */
  private fenceOrAnswer(held: Held, hdr: CtrlHdr): void {
    if (held.queueIndex !== CONTROLQ || (hdr.flags & VIRTIO_GPU_FLAG_FENCE) === 0) {
      this.answer(held);
      return;
    }
    const ringed = (hdr.flags & VIRTIO_GPU_FLAG_INFO_RING_IDX) !== 0;
    if (ringed && !this.state.contexts.get(hdr.ctxId)) {
      // The ring's context is gone (CTX_DESTROY on its own ring): nothing left to wait for.
      this.answer(held);
      return;
    }
    const fence: Fence = { fenceId: hdr.fenceId, ctxId: hdr.ctxId, ringIdx: ringed ? hdr.ringIdx : 0, ringed };
    this.fences.add(fence, fence.fenceId, held);
    let r;
    try {
      r = this.renderer.createFence(fence);
    } catch (e) {
      r = errUnspec(`renderer createFence threw: ${String(e)}`);
    }
    if (!r.ok && this.fences.remove(held)) {
      this.log.log('warn', `virtio-gpu: ${r.why}`);
      this.answer(held, r.err);
    }
  }

  /** The renderer retired `fence`: answer everything up to it on its timeline, in order. */
  private fenceRetired(fence: Fence): void {
    const done = this.fences.retire(fence, fence.fenceId);
    if (done.length === 0) return;
    this.draining++;
    try {
      for (const h of done) this.answer(h);
    } finally {
      this.draining--;
    }
    this.flushInterrupts();
  }

  private dropContextFences(ctxId: number): void {
    for (const h of this.fences.dropContext(ctxId)) this.answer(h);
  }

  /**
   * Encode a held chain's response (or, with `err`, that header-only error) into the chain and
   * push it used. Too little writable space gives ERR_UNSPEC (see {@link answerNow}).
   */
  private answer(h: Held, err?: number): void {
    const queues = this.queues;
    if (!queues) return;
    const chain = h.chain ?? this.chainFor?.(h.queueIndex, h.head) ?? null;
    if (!chain) {
      this.log.log('error', `virtio-gpu: no chain for held head ${h.head} on queue ${h.queueIndex}; dropped`);
      return;
    }
    if (err !== undefined) this.answerHdr(h.queueIndex, chain, h.hdr, err);
    else this.answerNow(h.queueIndex, chain, h.hdr, h.reply);
  }

  /**
   * Answer `chain` now with handler reply `resp` to the command whose header was `cmdHdr`; the
   * same bytes as answer({ response: { ...resp, hdr: responseHdr(cmdHdr, resp.type) } }) without
   * building either object.
   */
  private answerNow(qi: 0 | 1, chain: DescriptorChain, cmdHdr: CtrlHdr, resp: Response): void {
    if (resp.type === VIRTIO_GPU_RESP_OK_NODATA) {
      this.answerHdr(qi, chain, cmdHdr, VIRTIO_GPU_RESP_OK_NODATA);
      return;
    }
    const queues = this.queues;
    if (!queues) return;
    // The cached GET_DISPLAY_INFO reply comes with its encoding; a held reply whose modes changed
    // since is another object (the cache was dropped) and is encoded below.
    const cached = this.state.displayInfo;
    const encoded = cached !== null && resp === cached.resp ? cached.bytes : null;
    const size = encoded !== null ? encoded.byteLength : responseSize(resp);
    const room = chain.writer.remaining;
    if (size > room) {
      // A well-formed error beats a truncated payload the driver would misread.
      this.log.log('warn', `virtio-gpu: response needs more than the ${room} writable bytes`);
      this.answerHdr(qi, chain, cmdHdr, VIRTIO_GPU_RESP_ERR_UNSPEC);
      return;
    }
    const w = chain.writer as Writer;
    const dst = encoded !== null && w.claim !== undefined ? w.claim(size) : null;
    if (encoded !== null && dst !== null) {
      // In place: copy the cached bytes into the guest's buffer, then the header over them.
      dst.set(encoded);
      writeResponseHdr(dst, resp.type, cmdHdr);
      queues[qi].pushUsed(chain, size);
      this.usedPending[qi] = true;
      return;
    }
    if (this.scratch.byteLength < size) this.scratch = new Uint8Array(size);
    // Handler replies carry a placeholder header: encode, then write the real one over it.
    const n = encodeResponse(resp, this.scratch, 0);
    writeResponseHdr(this.scratch, resp.type, cmdHdr);
    const written = chain.writer.write(this.scratch.subarray(0, n));
    queues[qi].pushUsed(chain, written);
    this.usedPending[qi] = true;
  }

  /**
   * Answer `chain` now with a header-only response of `type` (OK_NODATA or an error). With fewer
   * than 24 writable bytes the type becomes ERR_UNSPEC and what fits is written, as in answer().
   */
  private answerHdr(qi: 0 | 1, chain: DescriptorChain, cmdHdr: CtrlHdr, type: number): void {
    const queues = this.queues;
    if (!queues) return;
    if (chain.writer.remaining < CtrlHdr.SIZE) {
      type = VIRTIO_GPU_RESP_ERR_UNSPEC;
      this.log.log('warn', `virtio-gpu: response needs more than the ${chain.writer.remaining} writable bytes`);
    }
    // In place when the guest's buffer allows (the usual case); transports whose chains lack
    // Writer.claim, or a header split across descriptors, go through the scratch copy.
    const w = chain.writer as Writer;
    const dst = w.claim !== undefined ? w.claim(CtrlHdr.SIZE) : null;
    let written: number = CtrlHdr.SIZE;
    if (dst !== null) {
      writeResponseHdr(dst, type, cmdHdr);
    } else {
      writeResponseHdr(this.hdrOut, type, cmdHdr);
      written = w.write(this.hdrOut);
    }
    queues[qi].pushUsed(chain, written);
    this.usedPending[qi] = true;
  }

  private flushInterrupts(): void {
    if (this.draining > 0 || !this.queues) return;
    for (let qi: 0 | 1 = CONTROLQ; qi <= CURSORQ; qi++) {
      if (!this.usedPending[qi]) continue;
      this.usedPending[qi] = false;
      if (this.queues[qi].shouldNotify()) this.onInterrupt('queue', qi);
    }
  }

  private unmapsDrained(): void {
    if (this.resetRendererPending) {
      this.resetRendererPending = false;
      this.renderer.reset();
    }
    if (this.controlKickPending && this.queues) {
      this.controlKickPending = false;
      // Resume on a fresh stack: this may run inside a region's completion callback.
      queueMicrotask(() => this.notify(CONTROLQ));
    }
  }

  private resetRendererPending = false;

  // ---- reset ---------------------------------------------------------------------------------

  /**
   * Device reset (§2.4): free resources, contexts, pending fences and mappings; forget queues and
   * negotiated features; clear config events. Mapped blobs are unmapped from the region first and
   * the renderer is reset only after the region confirmed every unmap (the control queue stays
   * paused until then).
   */
  reset(): void {
    const s = this.state;
    s.generation++;
    this.fences.clear();
    this.deferred.clear();
    this.chainFor = undefined;
    this.queues = null;
    this.needsResetFlag = false;
    this.usedPending[0] = this.usedPending[1] = false;
    this.controlKickPending = false;
    for (const ctx of [...s.contexts.all()]) this.renderer.destroyContext(ctx.id);
    s.contexts.clear();
    for (let i = 0; i < s.scanouts.length; i++) {
      const sc = s.scanouts[i];
      if (sc.resourceId !== 0) {
        sc.resourceId = 0;
        sc.r = { x: 0, y: 0, width: 0, height: 0 };
        sc.layout = null;
        s.notifyScanout(i);
      }
    }
    const hadCursor = s.cursor.resourceId !== 0;
    s.cursor = { scanoutId: 0, x: 0, y: 0, hotX: 0, hotY: 0, resourceId: 0 };
    if (hadCursor) {
      const c = { ...s.cursor };
      s.callSink(() => s.sink?.cursorChanged(c));
    }
    for (const res of [...s.resources.all()]) {
      if (res.map) {
        s.resources.remove(res.id);
        res.dying = true;
        s.unmapBlob(res, () => {});
      }
    }
    s.resources.clear();
    if (s.outstandingUnmaps > 0) this.resetRendererPending = true;
    else this.renderer.reset();
    s.features = 0n;
    // Modes survive a reset, but dropping the cache here keeps every path that rebuilds state safe.
    s.modesChanged();
    this.config.eventsRead = 0;
  }

  // ---- scanouts ------------------------------------------------------------------------------

  private checkConfigs(configs: readonly ScanoutConfig[]): void {
    for (const c of configs) {
      if (!Number.isInteger(c.width) || !Number.isInteger(c.height) || c.width < 0 || c.height < 0 || c.width > this.limits.maxDimension || c.height > this.limits.maxDimension) {
        throw new RangeError(`VirtioGpuDevice: scanout size ${c.width}x${c.height}`);
      }
      const e = c.edid;
      if (e !== undefined && (!(e instanceof Uint8Array) || e.byteLength === 0 || e.byteLength > 1024 || e.byteLength % 128 !== 0)) {
        throw new RangeError('VirtioGpuDevice: an EDID override is 1 to 8 blocks of 128 bytes');
      }
    }
  }

  /**
   * Replace the scanouts' modes (hotplug, resize): entry i configures scanout i, missing entries
   * are disconnected. Sets VIRTIO_GPU_EVENT_DISPLAY and raises a config interrupt so the driver
   * asks GET_DISPLAY_INFO again.
   */
  setScanouts(configs: ScanoutConfig[]): void {
    if (configs.length > this.state.scanouts.length) throw new RangeError(`setScanouts: ${configs.length} > num_scanouts ${this.state.scanouts.length}`);
    this.checkConfigs(configs);
    for (let i = 0; i < this.state.scanouts.length; i++) {
      const next = scanoutFromConfig(configs[i]);
      const cur = this.state.scanouts[i];
      cur.width = next.width;
      cur.height = next.height;
      cur.enabled = next.enabled;
      cur.x = next.x;
      cur.y = next.y;
      cur.name = next.name;
      cur.edid = next.edid;
    }
    this.state.modesChanged();
    this.displayEvent();
  }

  /** Change one scanout's mode; same event as {@link setScanouts}. */
  resizeScanout(scanoutId: number, width: number, height: number): void {
    const sc = this.state.scanouts[scanoutId];
    if (!sc) throw new RangeError(`resizeScanout: scanout ${scanoutId}`);
    this.checkConfigs([{ width, height }]);
    sc.width = width;
    sc.height = height;
    sc.enabled = true;
    sc.edid = undefined; // an EDID override describes the old size
    this.state.modesChanged();
    this.displayEvent();
  }

  private displayEvent(): void {
    this.config.eventsRead |= VIRTIO_GPU_EVENT_DISPLAY;
    this.onInterrupt('config');
  }

  /** A copy of scanout `scanoutId`'s state, or null. */
  scanout(scanoutId: number): Readonly<ScanoutState> | null {
    const sc = this.state.scanouts[scanoutId];
    return sc ? { ...sc, r: { ...sc.r }, layout: sc.layout ? { ...sc.layout } : null } : null;
  }

  /**
   * Read `rect` (scanout coordinates) of what scanout `scanoutId` shows into `dst`, rows
   * `dstStrideBytes` apart, as RGBA8 or, with `format`, in that VIRTIO_GPU_FORMAT_* (a display
   * that takes B8G8R8X8 then gets the guest's own bytes copied). False when the scanout shows
   * nothing or the rect is outside it.
   */
  readScanout(scanoutId: number, rect: Rect, dst: Uint8Array, dstStrideBytes: number, format?: number): boolean {
    const sc = this.state.scanouts[scanoutId];
    if (!sc || sc.resourceId === 0) return false;
    if (!rectInside(rect, sc.r.width, sc.r.height)) return false;
    if (rect.width === 0 || rect.height === 0) return true;
    if (dstStrideBytes < rect.width * 4 || (rect.height - 1) * dstStrideBytes + rect.width * 4 > dst.byteLength) return false;
    const src = { x: sc.r.x + rect.x, y: sc.r.y + rect.y, width: rect.width, height: rect.height };
    return this.renderer.readback(sc.resourceId, src, dst, dstStrideBytes, sc.layout ?? undefined, format);
  }

  // ---- introspection for embedders and tests ---------------------------------------------------

  /** Number of live resources. */
  get resourceCount(): number {
    return this.state.resources.count;
  }

  /** Host bytes charged against the quota. */
  get hostBytesUsed(): number {
    return this.state.resources.usedBytes;
  }

  /** Commands waiting for fences or unmaps. */
  get pendingCount(): number {
    return this.fences.size + this.deferred.size;
  }

  /** Whether the control queue is paused waiting for the host-visible region. */
  get paused(): boolean {
    return this.state.outstandingUnmaps > 0;
  }

  // ---- snapshot ------------------------------------------------------------------------------

  /**
   * The whole device state as structured-clone-able data. Held chains are stored by queue and
   * head with their final response; the transport saves its queues' indexes
   * (SplitQueue.lastAvailIdx/usedIdx) alongside and passes chainFor to restore.
   */
  snapshot(): DeviceSnapshot {
    const s = this.state;
    const pending: PendingSnapshot[] = [];
    for (const e of this.fences.entries()) {
      const h = e.item;
      const response = heldResponse(h);
      const f = response.hdr;
      const ringed = (f.flags & VIRTIO_GPU_FLAG_INFO_RING_IDX) !== 0;
      pending.push({
        queueIndex: h.queueIndex,
        head: h.chain?.head ?? h.head,
        fence: { fenceId: e.fenceId, ctxId: f.ctxId, ringIdx: f.ringIdx, ringed },
        response: cloneResponse(response),
      });
    }
    for (const d of this.deferred) {
      // Only unmaps defer, and they always end in OK_NODATA: answered at restore.
      pending.push({ queueIndex: d.queueIndex, head: d.chain.head, fence: null, response: { ...NODATA, hdr: responseHdr(d.hdr, NODATA.type) } as Response, hdr: { ...d.hdr } });
    }
    const resources: DeviceSnapshot['resources'] = [];
    const dying: number[] = [];
    for (const r of s.resources.all()) {
      if (r.dying) {
        dying.push(r.id);
        continue;
      }
      resources.push({
        id: r.id,
        kind: r.kind,
        format: r.format,
        width: r.width,
        height: r.height,
        args3d: r.args3d ? { ...r.args3d } : null,
        blob: r.blob ? { ...r.blob } : null,
        hostBytes: r.hostBytes,
        backingEntries: r.backingEntries ? r.backingEntries.map((e) => ({ addr: e.addr, length: e.length })) : null,
        uuid: r.uuid ? r.uuid.slice() : null,
        map: r.map && r.map.state === 'mapped' ? { offset: r.map.offset, size: r.map.size, mapInfo: r.map.mapInfo } : null,
        contexts: [...r.contexts],
      });
    }
    return {
      version: DEVICE_SNAPSHOT_VERSION,
      features: s.features,
      eventsRead: this.config.eventsRead,
      needsReset: this.needsResetFlag,
      scanouts: s.scanouts.map((sc) => ({ ...sc, r: { ...sc.r }, layout: sc.layout ? { ...sc.layout } : null })),
      cursor: { scanoutId: s.cursor.scanoutId, x: s.cursor.x, y: s.cursor.y, hotX: s.cursor.hotX, hotY: s.cursor.hotY, resourceId: s.cursor.resourceId },
      resources,
      dyingResources: dying,
      contexts: [...s.contexts.all()].map((c) => ({ id: c.id, capsetId: c.capsetId, debugName: c.debugName, resources: [...c.resources] })),
      renderer: this.renderer.snapshot(),
      pending,
    };
  }

  /**
   * Load a snapshot (into a freshly built or reset device over the restored guest memory).
   * Backing entries are re-resolved through guest memory; mapped blobs are mapped again into the
   * host-visible region; fences still pending are created again in the renderer; chains already
   * available on attached queues are then processed (their kick went to the old device). Throws
   * on a snapshot this device cannot take (wrong version, renderer refuses, scanout count
   * differs): that is host configuration, not guest input.
   */
  restore(snap: DeviceSnapshot, opts: RestoreOptions = {}): void {
    if (snap.version !== DEVICE_SNAPSHOT_VERSION) throw new Error(`restore: snapshot version ${snap.version}`);
    if (snap.scanouts.length !== this.state.scanouts.length) throw new Error('restore: num_scanouts differs');
    const queues = this.queues;
    this.reset();
    this.queues = queues;
    const s = this.state;
    const r = this.renderer.restore(snap.renderer);
    if (!r.ok) throw new Error(`restore: renderer refused its snapshot: ${r.why}`);
    s.features = snap.features & this.features;
    this.config.eventsRead = snap.eventsRead;
    this.needsResetFlag = snap.needsReset;
    snap.scanouts.forEach((sc, i) => Object.assign(s.scanouts[i], { ...sc, r: { ...sc.r }, layout: sc.layout ? { ...sc.layout } : null }));
    s.modesChanged();
    s.cursor = { ...snap.cursor };
    for (const c of snap.contexts) s.contexts.add({ id: c.id, capsetId: c.capsetId, debugName: c.debugName, resources: new Set(c.resources) });
    for (const rr of snap.resources) {
      const rec = newResource({ id: rr.id, kind: rr.kind, format: rr.format, width: rr.width, height: rr.height, args3d: rr.args3d, blob: rr.blob, hostBytes: rr.hostBytes });
      rec.uuid = rr.uuid ? rr.uuid.slice() : null;
      for (const c of rr.contexts) rec.contexts.add(c);
      s.resources.add(rec);
      if (rr.backingEntries) {
        const b = Backing.resolve(s.memory, rr.backingEntries, Number.MAX_SAFE_INTEGER);
        if (b.ok) {
          const a = this.renderer.attachBacking(rr.id, b.value);
          if (a.ok) {
            rec.backingEntries = rr.backingEntries.map((e) => ({ addr: e.addr, length: e.length }));
            // The snapshot came from a device with these limits, so the charge fits as it did there.
            if (rec.kind !== 'blob') s.resources.chargeBacking(rec, rr.backingEntries.length);
          }
          else this.log.log('error', `virtio-gpu: restore: resource ${rr.id}: ${a.why}`);
        } else {
          this.log.log('error', `virtio-gpu: restore: resource ${rr.id} backing: ${b.why}`);
        }
      }
      if (rr.map) {
        const m = this.renderer.mapBlob(rr.id);
        let ok = false;
        if (m.ok) {
          try {
            ok = s.region?.map(rr.map.offset, m.value, rr.id) ?? false;
          } catch {
            ok = false;
          }
          if (!ok) this.renderer.unmapBlob(rr.id);
        }
        if (ok) rec.map = { offset: rr.map.offset, size: rr.map.size, mapInfo: rr.map.mapInfo, state: 'mapped' };
        else this.log.log('error', `virtio-gpu: restore: could not map blob ${rr.id} again`);
      }
    }
    for (const id of snap.dyingResources) this.renderer.destroyResource(id);
    for (let i = 0; i < s.scanouts.length; i++) if (s.scanouts[i].resourceId !== 0) s.notifyScanout(i);
    this.reportRestoredCursor();
    this.chainFor = opts.chainFor;
    this.draining++;
    try {
      for (const p of snap.pending) {
        const reply = cloneResponse(p.response);
        const held: Held = { queueIndex: p.queueIndex, chain: null, head: p.head, reply, hdr: reply.hdr };
        if (p.fence) {
          this.fences.add(p.fence, p.fence.fenceId, held);
          const fr = this.renderer.createFence(p.fence);
          if (!fr.ok && this.fences.remove(held)) this.answer(held);
        } else {
          this.fenceOrAnswer(held, p.hdr ?? p.response.hdr);
        }
      }
    } finally {
      this.draining--;
    }
    this.flushInterrupts();
    // The old device may have taken the driver's last kick without popping everything (its control
    // queue paused behind an unmap, or a kick not yet drained): that kick is not coming again, so
    // pick up whatever the driver made available.
    if (this.queues) {
      this.notify(CONTROLQ);
      this.notify(CURSORQ);
    }
  }

  /**
   * A restored device's sink has never seen the cursor (UPDATE_CURSOR ran on the old device), and
   * guests only send MOVE_CURSOR until the image changes: report the cursor now, with its image
   * read back from the restored cursor resource, so the display shows what it showed before.
   */
  private reportRestoredCursor(): void {
    const s = this.state;
    const c: CursorState = { ...s.cursor };
    if (c.resourceId !== 0) {
      const image = new Uint8Array(CURSOR_SIZE * CURSOR_SIZE * 4);
      const full = { x: 0, y: 0, width: CURSOR_SIZE, height: CURSOR_SIZE };
      let ok = false;
      try {
        ok = s.resources.get(c.resourceId) !== undefined && this.renderer.readback(c.resourceId, full, image, CURSOR_SIZE * 4);
      } catch (e) {
        this.log.log('error', `virtio-gpu: restore: cursor readback threw: ${String(e)}`);
      }
      if (ok) c.image = image;
    }
    s.callSink(() => s.sink?.cursorChanged(c));
  }
}

function cloneResponse(r: Response): Response {
  const out: Record<string, unknown> = { ...r, hdr: { ...r.hdr } };
  for (const [k, v] of Object.entries(r)) {
    if (v instanceof Uint8Array) out[k] = v.slice();
    else if (Array.isArray(v)) out[k] = v.map((x) => (typeof x === 'object' && x !== null ? structuredCopy(x) : x));
  }
  return out as unknown as Response;
}

function structuredCopy<T extends object>(x: T): T {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) o[k] = typeof v === 'object' && v !== null && !(v instanceof Uint8Array) ? structuredCopy(v) : v;
  return o as T;
}
