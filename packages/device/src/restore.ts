/**
 * Restoring a snapshot (snapshot.ts) into a freshly built or reset device over the restored guest
 * memory. Backing entries are re-resolved through guest memory; mapped blobs are mapped again into
 * the host-visible region; held chains are held again with their fences re-created, and chains
 * that waited for an unmap are answered (the unmap is over on the new host).
 */
import { CURSOR_SIZE } from '@virtio-gpu/protocol';
import { Backing } from './backing.js';
import type { ConfigSpace } from './config-space.js';
import type { RateLimitedLog } from './log.js';
import type { ChainFor, PendingFences } from './pending-fences.js';
import type { Renderer } from './renderer.js';
import { newResource } from './resources.js';
import type { Responder } from './responder.js';
import { type Result, errUnspec } from './result.js';
import type { CursorState } from './scanouts.js';
import { DEVICE_SNAPSHOT_VERSION, type DeviceSnapshot, type ResourceSnapshot, copyScanout } from './snapshot.js';
import type { DeviceState } from './state.js';
import type { UsedBuffers } from './used-buffers.js';

/** What a snapshot is restored into. */
export interface RestoreTarget {
  readonly state: DeviceState;
  readonly config: ConfigSpace;
  readonly renderer: Renderer;
  readonly log: RateLimitedLog;
  readonly used: UsedBuffers;
  readonly fences: PendingFences;
  readonly responder: Responder;
  /** The features the device offers (a snapshot's negotiated set is cut down to them). */
  readonly offered: bigint;
  setNeedsReset(v: boolean): void;
}

/**
 * Throws on a snapshot this device cannot take (wrong version, scanout count differs): host
 * configuration, not guest input. Checked before anything is reset.
 */
export function checkSnapshot(state: DeviceState, snap: DeviceSnapshot): void {
  if (snap.version !== DEVICE_SNAPSHOT_VERSION) throw new Error(`restore: snapshot version ${snap.version}`);
  if (snap.scanouts.length !== state.scanouts.length) throw new Error('restore: num_scanouts differs');
}

/** Loads `snap` into `t`, which has just been reset. Throws when the renderer refuses its part. */
export function restoreSnapshot(t: RestoreTarget, snap: DeviceSnapshot, chainFor: ChainFor | undefined): void {
  const s = t.state;
  const r = t.renderer.restore(snap.renderer);
  if (!r.ok) throw new Error(`restore: renderer refused its snapshot: ${r.why}`);
  s.features = snap.features & t.offered;
  t.config.eventsRead = snap.eventsRead;
  t.setNeedsReset(snap.needsReset);
  snap.scanouts.forEach((sc, i) => Object.assign(s.scanouts[i], copyScanout(sc)));
  s.modesChanged();
  s.cursor = { ...snap.cursor };
  for (const c of snap.contexts) s.contexts.add({ id: c.id, capsetId: c.capsetId, debugName: c.debugName, resources: new Set(c.resources) });
  for (const rr of snap.resources) restoreResource(t, rr);
  for (const id of snap.dyingResources) t.renderer.destroyResource(id);
  for (let i = 0; i < s.scanouts.length; i++) if (s.scanouts[i].resourceId !== 0) s.notifyScanout(i);
  reportRestoredCursor(t);
  t.fences.chainFor = chainFor;
  const create = (fence: Parameters<Renderer['createFence']>[0]): Result => {
    try {
      return t.renderer.createFence(fence);
    } catch (e) {
      return errUnspec(`renderer createFence threw: ${String(e)}`);
    }
  };
  t.used.begin();
  try {
    for (const p of snap.pending) {
      if (p.length >= 0 && p.fence !== null) {
        t.fences.restore({ queueIndex: p.queueIndex, chain: null, head: p.head, length: p.length, fence: p.fence, retired: false }, create);
        continue;
      }
      const chain = chainFor?.(p.queueIndex, p.head) ?? null;
      if (chain === null) t.log.log('error', `virtio-gpu: no chain for held head ${p.head} on queue ${p.queueIndex}; dropped`);
      else t.responder.respondRestoredUnmap(p.queueIndex, chain, p.fence);
    }
  } finally {
    t.used.end();
  }
}

function restoreResource(t: RestoreTarget, rr: ResourceSnapshot): void {
  const s = t.state;
  const rec = newResource({ id: rr.id, kind: rr.kind, format: rr.format, width: rr.width, height: rr.height, args3d: rr.args3d, blob: rr.blob, hostBytes: rr.hostBytes });
  rec.uuid = rr.uuid ? rr.uuid.slice() : null;
  for (const c of rr.contexts) rec.contexts.add(c);
  s.resources.add(rec);
  if (rr.backingEntries) {
    const b = Backing.resolve(s.memory, rr.backingEntries, Number.MAX_SAFE_INTEGER);
    if (b.ok) {
      const a = t.renderer.attachBacking(rr.id, b.value);
      if (a.ok) {
        rec.backing = b.value;
        // The snapshot came from a device with these limits, so the charge fits as it did there.
        if (rec.kind !== 'blob') s.resources.chargeBacking(rec, s.backingHostBytes(b.value.runCount));
      } else {
        t.log.log('error', `virtio-gpu: restore: resource ${rr.id}: ${a.why}`);
      }
    } else {
      t.log.log('error', `virtio-gpu: restore: resource ${rr.id} backing: ${b.why}`);
    }
  }
  if (rr.map) {
    const m = t.renderer.mapBlob(rr.id);
    let ok = false;
    if (m.ok) {
      try {
        ok = s.region?.map(rr.map.offset, m.value, rr.id) ?? false;
      } catch {
        ok = false;
      }
      if (!ok) t.renderer.unmapBlob(rr.id);
    }
    if (ok) rec.map = { offset: rr.map.offset, size: rr.map.size, mapInfo: rr.map.mapInfo, state: 'mapped' };
    else t.log.log('error', `virtio-gpu: restore: could not map blob ${rr.id} again`);
  }
}

/**
 * A restored device's sink has never seen the cursor (UPDATE_CURSOR ran on the old device), and
 * guests only send MOVE_CURSOR until the image changes: report the cursor now, with its image
 * read back from the restored cursor resource, so the display shows what it showed before.
 */
function reportRestoredCursor(t: RestoreTarget): void {
  const s = t.state;
  const c: CursorState = { ...s.cursor };
  if (c.resourceId !== 0) {
    const image = new Uint8Array(CURSOR_SIZE * CURSOR_SIZE * 4);
    const full = { x: 0, y: 0, width: CURSOR_SIZE, height: CURSOR_SIZE };
    let ok = false;
    try {
      ok = s.resources.get(c.resourceId) !== undefined && t.renderer.readback(c.resourceId, full, image, CURSOR_SIZE * 4);
    } catch (e) {
      t.log.log('error', `virtio-gpu: restore: cursor readback threw: ${String(e)}`);
    }
    if (ok) c.image = image;
  }
  s.sink.cursorChanged(c);
}
