/**
 * Byte-level mutations in the style of libFuzzer's MutationDispatcher: small edits, integer
 * arithmetic at any width, interesting values, dictionary tokens (little-endian constants of the
 * protocol under test) and cross-over with another corpus entry. Seeded, so a run is repeatable.
 */

/** xorshift128+ reduced to 32 bits: fast, seeded, never Math.random (runs must be repeatable). */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = seed >>> 0 || 1;
    this.b = 0x9e3779b9;
    this.c = 0x85ebca6b;
    this.d = 0xc2b2ae35;
    for (let i = 0; i < 16; i++) this.u32();
  }

  /** Next value in [0, 2^32). */
  u32(): number {
    let t = this.d;
    const s = this.a;
    this.d = this.c;
    this.c = this.b;
    this.b = s;
    t ^= t << 11;
    t ^= t >>> 8;
    this.a = (t ^ s ^ (s >>> 19)) >>> 0;
    return this.a;
  }

  /** Integer in [0, n); n > 0. */
  below(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** True with probability 1/n. */
  oneIn(n: number): boolean {
    return this.below(n) === 0;
  }
}

/** Values that sit on boundaries: libFuzzer's interesting integers plus this device's sizes. */
const INTERESTING: readonly number[] = [
  0, 1, 2, 3, 4, 7, 8, 15, 16, 23, 24, 31, 32, 63, 64, 127, 128, 255, 256, 511, 512, 1023, 1024, 4095, 4096, 4097,
  16383, 16384, 16385, 32767, 32768, 65535, 65536, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff,
];

/** A mutation's name, for statistics. */
export type MutationName =
  | 'erase'
  | 'insert'
  | 'insert-repeat'
  | 'change-byte'
  | 'flip-bit'
  | 'shuffle'
  | 'arith'
  | 'interesting'
  | 'copy-part'
  | 'cross-over'
  | 'dict-insert'
  | 'dict-overwrite';

/** Mutates byte strings; see the module comment. */
export class Mutator {
  /** Little-endian dictionary tokens (u32s of protocol constants, plus whatever the target adds). */
  private readonly tokens: Uint8Array[];

  constructor(
    private readonly rng: Rng,
    readonly maxLen: number,
    dictionary: readonly (number | Uint8Array)[] = [],
  ) {
    this.tokens = [];
    for (const t of dictionary) {
      if (typeof t !== 'number') {
        this.tokens.push(t);
        continue;
      }
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, t >>> 0, true);
      this.tokens.push(b);
    }
  }

  /**
   * 1 to 8 stacked mutations of `input` (never changed in place). `other` is a second corpus
   * entry for cross-over. The result is at most maxLen bytes and at least 1.
   */
  mutate(input: Uint8Array, other: Uint8Array | null): Uint8Array {
    let out = input;
    const n = 1 + this.rng.below(this.rng.oneIn(4) ? 8 : 3);
    for (let i = 0; i < n; i++) out = this.once(out, other);
    if (out.length === 0) out = new Uint8Array([this.rng.below(256)]);
    return out.length > this.maxLen ? out.slice(0, this.maxLen) : out;
  }

  private once(b: Uint8Array, other: Uint8Array | null): Uint8Array {
    const r = this.rng;
    switch (r.below(12)) {
      case 0:
        return this.erase(b);
      case 1:
        return this.insert(b, Uint8Array.of(r.below(256)));
      case 2: {
        const v = r.oneIn(2) ? 0 : r.oneIn(2) ? 0xff : r.below(256);
        return this.insert(b, new Uint8Array(1 + r.below(r.oneIn(8) ? 512 : 16)).fill(v));
      }
      case 3: {
        if (b.length === 0) return this.insert(b, Uint8Array.of(r.below(256)));
        const c = b.slice();
        c[r.below(c.length)] = r.below(256);
        return c;
      }
      case 4: {
        if (b.length === 0) return b;
        const c = b.slice();
        c[r.below(c.length)] ^= 1 << r.below(8);
        return c;
      }
      case 5: {
        if (b.length < 2) return b;
        const c = b.slice();
        const at = r.below(c.length);
        const n = Math.min(c.length - at, 1 + r.below(8));
        for (let i = n - 1; i > 0; i--) {
          const j = r.below(i + 1);
          const t = c[at + i];
          c[at + i] = c[at + j];
          c[at + j] = t;
        }
        return c;
      }
      case 6:
        return this.arith(b);
      case 7:
        return this.interesting(b);
      case 8:
        return this.copyPart(b, b);
      case 9:
        return other && other.length > 0 ? (r.oneIn(2) ? this.copyPart(other, b) : this.crossOver(b, other)) : this.arith(b);
      case 10:
        return this.tokens.length > 0 ? this.insert(b, this.tokens[r.below(this.tokens.length)]) : this.interesting(b);
      default:
        return this.tokens.length > 0 ? this.overwrite(b, this.tokens[r.below(this.tokens.length)]) : this.interesting(b);
    }
  }

  private erase(b: Uint8Array): Uint8Array {
    if (b.length <= 1) return b;
    const r = this.rng;
    const n = 1 + r.below(Math.min(b.length - 1, r.oneIn(4) ? 256 : 8));
    const at = r.below(b.length - n + 1);
    const c = new Uint8Array(b.length - n);
    c.set(b.subarray(0, at));
    c.set(b.subarray(at + n), at);
    return c;
  }

  private insert(b: Uint8Array, what: Uint8Array): Uint8Array {
    if (b.length + what.length > this.maxLen) return this.overwrite(b, what);
    const at = this.alignedOffset(b.length + 1);
    const c = new Uint8Array(b.length + what.length);
    c.set(b.subarray(0, at));
    c.set(what, at);
    c.set(b.subarray(at), at + what.length);
    return c;
  }

  private overwrite(b: Uint8Array, what: Uint8Array): Uint8Array {
    if (b.length < what.length) return this.insert(b, what.subarray(0, Math.max(0, this.maxLen - b.length)));
    const c = b.slice();
    c.set(what, this.alignedOffset(b.length - what.length + 1));
    return c;
  }

  /** An offset below `n`, 4-aligned three times in four: the wire formats here are le32 fields. */
  private alignedOffset(n: number): number {
    const at = this.rng.below(n);
    return this.rng.oneIn(4) ? at : at & ~3;
  }

  private width(): 1 | 2 | 4 | 8 {
    return ([1, 2, 4, 4, 8] as const)[this.rng.below(5)];
  }

  /** Add or subtract a small delta to an integer of 1, 2, 4 or 8 bytes, either endianness. */
  private arith(b: Uint8Array): Uint8Array {
    const w = this.width();
    if (b.length < w) return this.interesting(b);
    const c = b.slice();
    const dv = new DataView(c.buffer);
    const at = this.alignedOffset(b.length - w + 1);
    const le = !this.rng.oneIn(4);
    const delta = (1 + this.rng.below(35)) * (this.rng.oneIn(2) ? 1 : -1);
    if (w === 1) c[at] = (c[at] + delta) & 0xff;
    else if (w === 2) dv.setUint16(at, (dv.getUint16(at, le) + delta) & 0xffff, le);
    else if (w === 4) dv.setUint32(at, (dv.getUint32(at, le) + delta) >>> 0, le);
    else dv.setBigUint64(at, BigInt.asUintN(64, dv.getBigUint64(at, le) + BigInt(delta)), le);
    return c;
  }

  /** Overwrite an integer of 1, 2, 4 or 8 bytes with a boundary value. */
  private interesting(b: Uint8Array): Uint8Array {
    const w = this.width();
    if (b.length < w) return this.insert(b, new Uint8Array(w).fill(this.rng.oneIn(2) ? 0 : 0xff));
    const c = b.slice();
    const dv = new DataView(c.buffer);
    const at = this.alignedOffset(b.length - w + 1);
    const v = INTERESTING[this.rng.below(INTERESTING.length)];
    if (w === 1) c[at] = v & 0xff;
    else if (w === 2) dv.setUint16(at, v & 0xffff, true);
    else if (w === 4) dv.setUint32(at, v >>> 0, true);
    else dv.setBigUint64(at, this.rng.oneIn(2) ? BigInt(v) : (1n << 64n) - 1n - BigInt(v), true);
    return c;
  }

  /** Copy a piece of `from` over (or into) `to`. */
  private copyPart(from: Uint8Array, to: Uint8Array): Uint8Array {
    if (from.length === 0) return to;
    const r = this.rng;
    const n = 1 + r.below(Math.min(from.length, r.oneIn(2) ? 64 : 1024));
    const src = from.subarray(r.below(from.length - n + 1)).subarray(0, n);
    return r.oneIn(2) ? this.insert(to, src.slice()) : this.overwrite(to, src.slice());
  }

  /** A prefix of one input followed by a suffix of the other. */
  private crossOver(a: Uint8Array, b: Uint8Array): Uint8Array {
    const i = this.rng.below(a.length + 1);
    const j = this.rng.below(b.length + 1);
    const c = new Uint8Array(Math.min(this.maxLen, i + b.length - j));
    c.set(a.subarray(0, Math.min(i, c.length)));
    if (c.length > i) c.set(b.subarray(j, j + c.length - i), i);
    return c;
  }
}
