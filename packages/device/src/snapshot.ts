/**
 * Device snapshots: plain, structured-clone-able data (numbers, bigints, strings, arrays, plain
 * objects, Uint8Arrays). Guest memory is not in it; backing is stored as guest addresses and
 * re-resolved on restore, so the VMM restores guest RAM first.
 *
 * What a transport must do around snapshot/restore:
 * 1. Save its queues' configuration and indexes (SplitQueue.lastAvailIdx / usedIdx) with the
 *    device snapshot, and restore them (restoreIndexes) on the new queues.
 * 2. attachQueues on the new device, then call restore with `chainFor`, which rebuilds the
 *    descriptor chain of a given head from the restored descriptor table. Commands that were
 *    waiting on a fence are answered through it when the fence retires again (pending fences are
 *    re-created in the renderer); commands waiting on an unmap are answered during restore.
 */
import type { CtrlHdr, MemEntry, Response } from '@virtio-gpu/protocol';
import type { Fence, Resource3dArgs } from './renderer.js';
import type { BlobInfo, ResourceKind } from './resources.js';
import type { CursorState, ScanoutState } from './scanouts.js';

/** Format version of {@link DeviceSnapshot}. */
export const DEVICE_SNAPSHOT_VERSION = 1;

/** A held chain in a snapshot. */
export interface PendingSnapshot {
  queueIndex: 0 | 1;
  head: number;
  /** The fence it waits for; null: it waited for an unmap and is answered at restore. */
  fence: Fence | null;
  /** The response to send (header final). */
  response: Response;
  /** The command's header, for deferred commands that still need their fence. */
  hdr?: CtrlHdr;
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
