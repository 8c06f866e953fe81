/**
 * Coverage feedback from istanbul counters. The instrumented target counts every statement,
 * function and branch arm it executes; after each run those counts become libFuzzer-style
 * features: (counter, hit-count bucket) pairs with AFL's buckets 1, 2, 3, 4-7, 8-15, 16-31,
 * 32-127, 128+. An input is kept when it produces a feature no earlier input produced, so a loop
 * that runs more often, or a branch arm taken for the first time, both count as progress.
 */

/** One file's istanbul counters (`s` statements, `f` functions, `b` branch arms). */
interface FileCounters {
  s: Record<string, number>;
  f: Record<string, number>;
  b: Record<string, number[]>;
}

/** Bucket bit (0..7) of a non-zero hit count. */
function bucket(n: number): number {
  if (n <= 3) return n - 1;
  if (n <= 7) return 3;
  if (n <= 15) return 4;
  if (n <= 31) return 5;
  if (n <= 127) return 6;
  return 7;
}

/** A flat view of every counter in the coverage object, with the features seen so far. */
export class CoverageMap {
  /** Counter holders and their keys, flattened once so a run costs two array walks. */
  private readonly holders: (Record<string, number> | number[])[] = [];
  private readonly keys: (string | number)[] = [];
  /** Bucket bits seen per counter, over every input kept or not. */
  private readonly seen: Uint8Array;
  /** Counters hit at least once by any input. */
  private covered = 0;
  /** (counter, bucket) pairs seen. */
  private features = 0;

  constructor(coverage: Record<string, FileCounters>) {
    for (const file of Object.values(coverage)) {
      for (const k of Object.keys(file.s)) this.add(file.s, k);
      for (const k of Object.keys(file.f)) this.add(file.f, k);
      for (const arms of Object.values(file.b)) for (let i = 0; i < arms.length; i++) this.add(arms, i);
    }
    this.seen = new Uint8Array(this.holders.length);
  }

  private add(holder: Record<string, number> | number[], key: string | number): void {
    this.holders.push(holder);
    this.keys.push(key);
  }

  /** Number of counters (statements + functions + branch arms) in the target. */
  get size(): number {
    return this.holders.length;
  }

  /** Counters any input has hit. */
  get coveredCount(): number {
    return this.covered;
  }

  /** Features any input has produced. */
  get featureCount(): number {
    return this.features;
  }

  /** Zero every counter before a run. */
  reset(): void {
    const h = this.holders as Record<string | number, number>[];
    const k = this.keys;
    for (let i = 0; i < h.length; i++) h[i][k[i]] = 0;
  }

  /**
   * Fold the counts of the run that just ended into the seen set; returns how many new
   * features it produced (0: the input adds nothing).
   */
  collect(): number {
    const h = this.holders as Record<string | number, number>[];
    const k = this.keys;
    const seen = this.seen;
    let fresh = 0;
    for (let i = 0; i < h.length; i++) {
      const n = h[i][k[i]];
      if (n === 0) continue;
      const bit = 1 << bucket(n);
      const s = seen[i];
      if ((s & bit) !== 0) continue;
      if (s === 0) this.covered++;
      seen[i] = s | bit;
      fresh++;
    }
    this.features += fresh;
    return fresh;
  }

  /** Features of the run that just ended, without recording them (for corpus minimisation). */
  runFeatures(): number[] {
    const h = this.holders as Record<string | number, number>[];
    const k = this.keys;
    const out: number[] = [];
    for (let i = 0; i < h.length; i++) {
      const n = h[i][k[i]];
      if (n !== 0) out.push(i * 8 + bucket(n));
    }
    return out;
  }
}
