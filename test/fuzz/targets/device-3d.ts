/**
 * Fuzz target: the whole device with a renderer offering 3D, host blobs and context init
 * (test/support/renderer3d.ts: capsets, contexts, 3D transfers, a tiny SUBMIT_3D stream, fences
 * retiring on microtasks) and a host-visible region for MAP_BLOB that confirms unmaps late, fed
 * command streams through real split queues (harness/command-stream.ts); restores must be
 * invisible to the guest, as for device-2d.
 */
import { FakeRegion } from '../../../packages/device/test/fake-renderer';
import { TestRenderer3D } from '../../support/renderer3d';
import { STREAM_DICTIONARY, type StreamSetup, StreamRig, checkRestoreInvisible } from '../harness/command-stream';

export const maxLen = 32 * 1024;
export const dictionary = STREAM_DICTIONARY;

/** The renderer, noting when a TRANSFER_FROM_HOST_3D wrote guest memory (possibly the rings). */
class Renderer extends TestRenderer3D {
  wroteGuest = false;
  override transferFromHost3d(...a: Parameters<TestRenderer3D['transferFromHost3d']>): ReturnType<TestRenderer3D['transferFromHost3d']> {
    const r = super.transferFromHost3d(...a);
    if (r.ok) this.wroteGuest = true;
    return r;
  }
}

const setup: StreamSetup = {
  renderer: () => {
    const r = new Renderer();
    r.mode = { kind: 'microtask' };
    return r;
  },
  region: () => {
    const region = new FakeRegion(1n << 20n);
    region.async = true;
    return region;
  },
  guestWroteItself: (r) => (r as Renderer).wroteGuest,
};

export async function fuzz(data: Uint8Array): Promise<void> {
  const rig = new StreamRig(setup);
  await rig.run(data);
  await rig.finish();
  await checkRestoreInvisible(setup, data);
}
