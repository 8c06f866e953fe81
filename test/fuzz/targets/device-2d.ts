/**
 * Fuzz target: the whole device with the embedded 2D renderer, fed command streams through real
 * split queues (harness/command-stream.ts has the format and the checks).
 */
import { Renderer2D } from '@virtio-gpu/device';
import { STREAM_DICTIONARY, StreamRig } from '../harness/command-stream';

export const maxLen = 32 * 1024;
export const dictionary = STREAM_DICTIONARY;

export async function fuzz(data: Uint8Array): Promise<void> {
  const rig = new StreamRig({ renderer: () => new Renderer2D() });
  await rig.run(data);
  await rig.finish();
}
