/**
 * Fuzz target: the whole device with the embedded 2D renderer, fed command streams through real
 * split queues (harness/command-stream.ts has the format and the checks); a stream that restores
 * the device onto a new one must get the same answers as without the restores.
 */
import { Renderer2D } from '@virtio-gpu/device';
import { STREAM_DICTIONARY, type StreamSetup, StreamRig, checkRestoreInvisible } from '../harness/command-stream';

export const maxLen = 32 * 1024;
export const dictionary = STREAM_DICTIONARY;

const setup: StreamSetup = { renderer: () => new Renderer2D() };

export async function fuzz(data: Uint8Array): Promise<void> {
  const rig = new StreamRig(setup);
  await rig.run(data);
  await rig.finish();
  await checkRestoreInvisible(setup, data);
}
