/**
 * What the chain fuzz targets do with a queue whose rings the input wrote: pop every chain the
 * "driver" made available, read and write each the ways a device does (read, readBytes, skip,
 * claim, write), push it used, and check what must hold whatever the guest wrote:
 * - no queue method throws;
 * - a chain never yields more bytes than it says it has, and reads and writes add up exactly;
 * - pop gives nothing once the queue is broken, and never more chains than the ring holds
 *   before a pushUsed (a walk bounded by the queue size);
 * - the queue's own bookkeeping (`usedIdx`) moves by one per pushed chain (split).
 */
import { ArrayGuestMemory, type Chain, type GuestMemory, type Virtqueue } from '@virtio-gpu/virtqueue';

/** Guest memory of the chain targets: two adjacent regions (ranges cross from one into the
 * other), a hole, and a small region further up. */
export function chainMemory(): { mem: GuestMemory; ram: Uint8Array } {
  const ram = new Uint8Array(0x10000);
  const mem = new ArrayGuestMemory([
    { gpa: 0, bytes: ram.subarray(0, 0x8000) },
    { gpa: 0x8000, bytes: ram.subarray(0x8000) },
    { gpa: 0x20000, bytes: new Uint8Array(0x1000) },
  ]);
  return { mem, ram };
}

/** Addresses and lengths that matter in {@link chainMemory}, for the mutator's dictionary. */
export const CHAIN_DICTIONARY: number[] = [0x1000, 0x2000, 0x3000, 0x4000, 0x7ff8, 0x8000, 0xfff0, 0x10000, 0x20000, 0x20ff0, 0x21000, 16, 32, 48, 0xffff, 1, 2, 3, 4, 5, 6, 7];

function fail(what: string): never {
  throw new Error(`chain walk: ${what}`);
}

/** A cursor over the action bytes: what the device does with each chain. */
export class Actions {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  next(): number {
    return this.at < this.bytes.length ? this.bytes[this.at++] : 0;
  }
}

/** Consume one popped chain the way the action bytes say; returns the bytes written. */
function consume(chain: Chain, act: Actions, mirror: ((head: number) => Chain | null) | null): number {
  const r = chain.reader;
  const w = chain.writer;
  const readTotal = r.remaining;
  const writeTotal = w.remaining;
  if (!(readTotal >= 0 && readTotal <= 0xffff_ffff && writeTotal >= 0 && readTotal + writeTotal <= 0xffff_ffff)) fail(`sizes ${readTotal}+${writeTotal}`);
  const got: Uint8Array[] = [];
  let read = 0;
  // At most 64 KiB read for real: aliasing descriptors may describe up to 4 GiB.
  for (let step = 0; step < 8 && r.remaining > 0; step++) {
    const a = act.next();
    const n = Math.min(r.remaining, 1 + (a & 0x3f) * 97, 0x2000);
    if ((a & 0xc0) === 0x40) {
      const v = r.readBytes(n);
      if (v === null || v.length !== n) fail(`readBytes(${n}) gave ${v?.length}`);
      got.push(v.slice());
    } else if ((a & 0xc0) === 0x80) {
      if (!r.skip(n)) fail(`skip(${n}) refused with ${r.remaining} left`);
      got.push(new Uint8Array(0)); // skipped bytes are not compared
      read += n;
      continue;
    } else {
      const dst = new Uint8Array(n);
      if (r.read(dst) !== n) fail(`read(${n}) short`);
      got.push(dst);
    }
    read += n;
  }
  if (r.remaining !== readTotal - read) fail(`reader remaining ${r.remaining}, expected ${readTotal - read}`);
  if (r.readBytes(r.remaining + 1) !== null || r.skip(r.remaining + 1)) fail('reader went past its end');
  if (mirror && read > 0 && got.every((g) => g.length > 0)) {
    // A second walk of the same chain from the descriptor table must read the same bytes.
    const again = mirror(chain.head);
    if (again) {
      const all = new Uint8Array(read);
      if (again.reader.read(all) !== read) fail('rebuilt chain reads fewer bytes');
      let off = 0;
      for (const g of got) {
        for (let i = 0; i < g.length; i++) if (g[i] !== all[off + i]) fail(`rebuilt chain differs at byte ${off + i}`);
        off += g.length;
      }
    }
  }
  let written = 0;
  for (let step = 0; step < 4 && w.remaining > 0; step++) {
    const a = act.next();
    const n = Math.min(w.remaining, 1 + (a & 0x7f) * 31, 0x2000);
    if ((a & 0x80) !== 0) {
      const v = w.claim(n);
      if (v !== null) {
        if (v.length !== n) fail(`claim(${n}) gave ${v.length}`);
        v.fill(0xd0);
        written += n;
      }
    } else {
      if (w.write(new Uint8Array(n).fill(0xd1)) !== n) fail(`write(${n}) short`);
      written += n;
    }
  }
  if (w.written !== written || w.remaining !== writeTotal - written) fail(`writer counts ${w.written}/${w.remaining} vs ${written}/${writeTotal - written}`);
  if (w.claim(w.remaining + 1) !== null) fail('writer went past its end');
  return written;
}

/**
 * Pop and answer chains until the queue is empty or broken (at most 4 * size pops), with the
 * guest's later writes (`patch`) applied half way, as a driver adding work while the device runs.
 */
export function walkQueue(
  q: Virtqueue & { readonly size: number; readonly usedIdx?: number },
  act: Actions,
  patch: () => void,
  mirror: ((head: number) => Chain | null) | null,
): void {
  let pops = 0;
  let held: Chain[] = [];
  for (let round = 0; round < 2; round++) {
    for (;;) {
      const c = q.pop();
      if (c === null) break;
      if (q.broken) fail('pop gave a chain from a broken queue');
      if (++pops > 4 * q.size) fail(`more than ${4 * q.size} chains popped`);
      if (held.length >= q.size) fail(`more than ${q.size} chains out at once`);
      const written = consume(c, act, mirror);
      // Some chains are answered late (a fence), out of order.
      if ((act.next() & 3) === 0) {
        held.push(c);
        continue;
      }
      const before = q.usedIdx;
      q.pushUsed(c, written);
      if (before !== undefined && q.usedIdx !== ((before + 1) & 0xffff)) fail(`usedIdx ${before} -> ${q.usedIdx}`);
      if ((act.next() & 7) === 0) q.shouldNotify();
    }
    if (q.broken && q.pop() !== null) fail('a broken queue popped a chain');
    for (const c of held.reverse()) q.pushUsed(c, 0);
    held = [];
    q.shouldNotify();
    patch();
  }
}
