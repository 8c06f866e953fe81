/**
 * Fuzz target: packed virtqueue descriptor handling (packages/virtqueue PackedQueue), direct and
 * indirect, wrap counters included, against whatever a guest can write into its ring. The input
 * is the ring memory itself; harness/chain-walk.ts says what is checked.
 *
 * Input: byte 0 = queue size - 1 (low 5 bits, sizes 1..32; packed sizes need no power of 2) |
 * EVENT_IDX (bit 5) | small indirect bound (bit 6); byte 1 = how many action bytes follow; then
 * the actions, then bytes copied over guest memory from the descriptor ring at 0x1000 on (driver
 * event suppression at 0x2000, device's at 0x2010, data from 0x4000), the last 32 of which are
 * patched over the start of the ring half way through (the driver's next lap).
 */
import { PackedQueue } from '@virtio-gpu/virtqueue';
import { Actions, CHAIN_DICTIONARY, chainMemory, walkQueue } from '../harness/chain-walk';

export const maxLen = 0x6000;
/** Flag words with AVAIL/USED in every combination, NEXT, WRITE, INDIRECT. */
export const dictionary = [...CHAIN_DICTIONARY, 0x0080_0000, 0x8000_0000, 0x8080_0000, 0x0081_0000, 0x0082_0000, 0x0083_0000, 0x0084_0000, 0x8001_0000];

export function fuzz(data: Uint8Array): void {
  if (data.length < 2) return;
  const size = 1 + (data[0] & 31);
  const nAct = data[1];
  const actions = new Actions(data.subarray(2, 2 + nAct));
  const image = data.subarray(2 + nAct);
  const { mem, ram } = chainMemory();
  ram.set(image.subarray(0, ram.length - 0x1000), 0x1000);
  const cfg = { size, descAddr: 0x1000, driverAddr: 0x2000, deviceAddr: 0x2010, eventIdx: (data[0] & 32) !== 0, maxIndirectEntries: (data[0] & 64) !== 0 ? 4 : undefined };
  if (PackedQueue.check(mem, cfg) !== null) throw new Error('the fixed layout must be valid');
  const q = new PackedQueue(mem, cfg);
  const tail = image.subarray(Math.max(0, image.length - 32));
  walkQueue(q, actions, () => ram.set(tail, 0x1000), null);
  q.reset();
  walkQueue(q, actions, () => {}, null);
}
