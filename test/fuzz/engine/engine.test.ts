/**
 * The fuzz engine itself: the mutator stays in bounds and repeats with its seed, the coverage map
 * turns hit counts into features, coverage feedback finds a bug random mutation does not, and a
 * hung run is stopped and saved.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlain } from './build';
import { defaultOptions, fuzzOne } from './cli';
import { CoverageMap } from './coverage';
import { Mutator, Rng } from './mutator';

const here = __dirname;

describe('mutator', () => {
  it('10,000 stacked mutations stay within [1, maxLen] bytes and repeat exactly with the same seed', () => {
    const run = (seed: number): string[] => {
      const m = new Mutator(new Rng(seed), 100, [0x1234, Uint8Array.of(1, 2, 3)]);
      let x: Uint8Array = new Uint8Array(10);
      const out: string[] = [];
      for (let i = 0; i < 10_000; i++) {
        x = m.mutate(x, i % 3 === 0 ? Uint8Array.of(9, 9, 9, 9) : null);
        expect(x.length).toBeGreaterThanOrEqual(1);
        expect(x.length).toBeLessThanOrEqual(100);
        if (i % 1000 === 0) out.push(Buffer.from(x).toString('hex'));
      }
      return out;
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });
});

describe('coverage map', () => {
  it('a counter hit once, twice, then 100 times gives three features; the same counts again give none', () => {
    const cov = { f: { s: { '0': 0, '1': 0 }, f: { '0': 0 }, b: { '0': [0, 0] } } };
    const map = new CoverageMap(cov);
    expect(map.size).toBe(5);
    const run = (n: number): number => {
      map.reset();
      cov.f.s['0'] = n;
      return map.collect();
    };
    expect(run(1)).toBe(1);
    expect(run(2)).toBe(1);
    expect(run(100)).toBe(1);
    expect(run(2)).toBe(0);
    expect(map.coveredCount).toBe(1);
    expect(map.featureCount).toBe(3);
  });
});

describe('fuzz loop', { timeout: 120_000 }, () => {
  it('with coverage feedback it reaches a bug behind five byte comparisons; the same number of unguided runs does not', async () => {
    const worker = await buildPlain(join(here, 'worker.ts'), 'worker-test');
    const entry = join(here, 'testdata/planted.ts');
    const o = { ...defaultOptions(), timeS: 60, runs: 400_000, seed: 12345 };
    const guided = await fuzzOne(o, 'engine-test-planted', worker, entry, []);
    expect(guided.finding?.kind).toBe('crash');
    expect(guided.finding?.error).toContain('planted bug reached');
    expect([...readFileSync(guided.finding!.file).subarray(0, 5)]).toEqual([0x46, 0x55, 0x5a, 0x5a, 0x21]);
    const blind = await fuzzOne({ ...o, feedback: false, runs: guided.final.runs }, 'engine-test-planted', worker, entry, []);
    expect(blind.finding).toBeNull();
  });

  it('a run that never returns is stopped by the watchdog and saved as a hang', async () => {
    const worker = await buildPlain(join(here, 'worker.ts'), 'worker-test');
    const seed = { name: 'loop', data: Uint8Array.of(0x99, 1, 2), dir: here };
    const r = await fuzzOne({ ...defaultOptions(), timeS: 30, timeoutS: 1 }, 'engine-test-hang', worker, join(here, 'testdata/hang.ts'), [seed]);
    expect(r.finding?.kind).toBe('hang');
    expect([...readFileSync(r.finding!.file)]).toEqual([0x99, 1, 2]);
  });
});
