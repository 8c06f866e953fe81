/**
 * Device snapshots: the format, and taking one. Plain, structured-clone-able data (numbers,
 * bigints, strings, arrays, plain objects, Uint8Arrays). Guest memory is not in it; backing is
 * stored as guest addresses and re-resolved on restore, so the VMM restores guest RAM first.
 * Replies are not in it either: the device writes each reply into its chain when the command is
 * handled, so a held chain's reply travels with guest RAM, and the snapshot keeps only what the
 * used ring needs (queue, head, length) and the fence it waits for.
 *
 * What a transport must do around snapshot/restore:
 * 1. Save its queues' configuration and indexes (SplitQueue.lastAvailIdx / usedIdx) with the
 *    device snapshot, and restore them (restoreIndexes) on the new queues.
 * 2. attachQueues on the new device, then call restore with `chainFor`, which rebuilds the
 *    descriptor chain of a given head from the restored descriptor table. Commands that were
 *    waiting on a fence go used through it when the fence retires again (pending fences are
 *    re-created in the renderer); commands waiting on an unmap are answered during restore.
 */
import type { MemEntry } from '@virtio-gpu/protocol';
import type { ConfigSpace } from './config-space.js';
import type { PendingFences } from './pending-fences.js';
import type { Fence, Renderer, Resource3dArgs } from './renderer.js';
import type { Responder } from './responder.js';
import type { BlobInfo, ResourceKind } from './resources.js';
import type { CursorState, ScanoutState } from './scanouts.js';
import type { DeviceState } from './state.js';

/** Format version of {@link DeviceSnapshot} (2: held chains without responses). */
export const DEVICE_SNAPSHOT_VERSION = 2;

/** A held chain in a snapshot. */
export interface PendingSnapshot {
  queueIndex: 0 | 1;
  head: number;
  /**
   * Bytes of its reply, which is in guest memory already; -1 when it waited for an unmap (no
   * reply yet: restore answers it OK_NODATA, the unmap being over on the new host).
   */
  length: number;
  /** The fence it waits for, or (waiting for an unmap) the fence its command asked for. */
  fence: Fence | null;
}

/** One resource in a snapshot. */
export interface ResourceSnapshot {
  id: number;
  kind: ResourceKind;
  format: number;
  width: number;
  height: number;
  args3d: Resource3dArgs | null;
  blob: BlobInfo | null;
  hostBytes: number;
  backingEntries: MemEntry[] | null;
  uuid: Uint8Array | null;
  map: { offset: bigint; size: number; mapInfo: number } | null;
  contexts: number[];
}

/** The whole device state. */
export interface DeviceSnapshot {
  version: number;
  features: bigint;
  eventsRead: number;
  needsReset: boolean;
  scanouts: ScanoutState[];
  cursor: CursorState;
  resources: ResourceSnapshot[];
  /** Resources UNREF'd but waiting for an unmap: dropped from the renderer at restore. */
  dyingResources: number[];
  contexts: { id: number; capsetId: number; debugName: string; resources: number[] }[];
  /** The renderer's own snapshot. */
  renderer: unknown;
  pending: PendingSnapshot[];
}

/** What a snapshot is taken from. */
export interface SnapshotSource {
  readonly state: DeviceState;
  readonly config: ConfigSpace;
  readonly renderer: Renderer;
  readonly needsReset: boolean;
  readonly fences: PendingFences;
  readonly responder: Responder;
}

const copyFence = (f: Fence): Fence => ({ fenceId: f.fenceId, ctxId: f.ctxId, ringIdx: f.ringIdx, ringed: f.ringed });

/** Copies of a scanout's state (its rect and layout are objects of their own). */
export function copyScanout(sc: ScanoutState): ScanoutState {
  return { ...sc, r: { ...sc.r }, layout: sc.layout ? { ...sc.layout } : null };
}

/** The device's state as a snapshot. */
export function takeSnapshot(d: SnapshotSource): DeviceSnapshot {
  const s = d.state;
  const pending: PendingSnapshot[] = [];
  for (const h of d.fences.held()) {
    pending.push({ queueIndex: h.queueIndex, head: h.chain?.head ?? h.head, length: h.length, fence: copyFence(h.fence) });
  }
  for (const w of d.responder.deferredChains()) {
    pending.push({ queueIndex: w.queueIndex, head: w.chain.head, length: -1, fence: w.fence ? copyFence(w.fence) : null });
  }
  const resources: ResourceSnapshot[] = [];
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
    eventsRead: d.config.eventsRead,
    needsReset: d.needsReset,
    scanouts: s.scanouts.map(copyScanout),
    cursor: { scanoutId: s.cursor.scanoutId, x: s.cursor.x, y: s.cursor.y, hotX: s.cursor.hotX, hotY: s.cursor.hotY, resourceId: s.cursor.resourceId },
    resources,
    dyingResources: dying,
    contexts: [...s.contexts.all()].map((c) => ({ id: c.id, capsetId: c.capsetId, debugName: c.debugName, resources: [...c.resources] })),
    renderer: d.renderer.snapshot(),
    pending,
  };
}
