/**
 * Fuzz target: split virtqueue descriptor handling (packages/virtqueue SplitQueue), direct and
 * indirect chains, against whatever a guest can write into its rings. The input is the ring
 * memory itself; harness/chain-walk.ts says what is checked.
 *
 * Input: byte 0 = log2 queue size (low 3 bits, sizes 1..128) | EVENT_IDX (bit 3) | small
 * indirect bound (bit 4); byte 1 = how many action bytes follow; then the actions, then bytes
 * copied over guest memory from the descriptor table at 0x1000 on (table, avail ring at 0x2000,
 * used ring at 0x3000, data from 0x4000), the last 16 of which are patched over the avail ring
 * half way through.
 */
import { SplitQueue } from '@virtio-gpu/virtqueue';
import { Actions, CHAIN_DICTIONARY, chainMemory, walkQueue } from '../harness/chain-walk';

export const maxLen = 0x6000;
export const dictionary = [...CHAIN_DICTIONARY, 0x10001, 0x10002, 0x10004, 0x20004];

export function fuzz(data: Uint8Array): void {
  if (data.length < 2) return;
  const size = 1 << (data[0] & 7);
  const nAct = data[1];
  const actions = new Actions(data.subarray(2, 2 + nAct));
  const image = data.subarray(2 + nAct);
  const { mem, ram } = chainMemory();
  ram.set(image.subarray(0, ram.length - 0x1000), 0x1000);
  const cfg = { size, descAddr: 0x1000, availAddr: 0x2000, usedAddr: 0x3000, eventIdx: (data[0] & 8) !== 0, maxIndirectEntries: (data[0] & 16) !== 0 ? 4 : undefined };
  if (SplitQueue.check(mem, cfg) !== null) throw new Error('the fixed layout must be valid');
  const q = new SplitQueue(mem, cfg);
  const tail = image.subarray(Math.max(0, image.length - 16));
  walkQueue(q, actions, () => ram.set(tail, 0x2000), (head) => q.rebuildChain(head));
  // A reset queue starts over on the same rings and must hold the same guarantees.
  q.reset();
  walkQueue(q, actions, () => {}, null);
}
