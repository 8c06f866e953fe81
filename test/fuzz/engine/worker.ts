/**
 * The fuzz loop, in a worker thread so the main thread can stop a hung run (an endless loop in
 * the target) and survive an out-of-memory one: pick a corpus entry, mutate it, run it with the
 * counters zeroed, keep it when it produced a new coverage feature, report findings.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { CoverageMap } from './coverage.js';
import { Mutator, Rng } from './mutator.js';
import { COVERAGE_VAR, CURRENT_HEADER_BYTES, type FuzzTarget, type Stats, type WorkerConfig, type WorkerMessage } from './protocol.js';

const cfg = workerData as WorkerConfig;
const port = parentPort!;
const post = (m: WorkerMessage): void => port.postMessage(m);

const target = createRequire(__filename)(cfg.targetPath) as FuzzTarget;
const cov = new CoverageMap((globalThis as unknown as Record<string, never>)[COVERAGE_VAR]);
const maxLen = target.maxLen ?? 4096;
const rng = new Rng(cfg.seed);
const mutator = new Mutator(rng, maxLen, target.dictionary ?? []);
const header = new Int32Array(cfg.current, 0, 2);
const currentBytes = new Uint8Array(cfg.current, CURRENT_HEADER_BYTES);
const corpus: Uint8Array[] = [];
const started = performance.now();
let runs = 0;
let current: Uint8Array = new Uint8Array(0);

function stats(): Stats {
  return { runs, ms: Math.round(performance.now() - started), corpus: corpus.length, covered: cov.coveredCount, counters: cov.size, features: cov.featureCount };
}

/** Errors thrown outside the awaited run (a timer, a dropped promise) belong to the current input. */
let stray: unknown = null;
process.on('uncaughtException', (e) => (stray ??= e));
process.on('unhandledRejection', (e) => (stray ??= e));

function describeError(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}

/** Run one input; null, or the error it raised. */
async function run(input: Uint8Array): Promise<unknown> {
  current = input;
  currentBytes.set(input.subarray(0, currentBytes.length));
  Atomics.store(header, 1, input.length);
  Atomics.add(header, 0, 1);
  runs++;
  cov.reset();
  try {
    const r = target.fuzz(input);
    if (r && typeof (r as Promise<void>).then === 'function') await r;
  } catch (e) {
    return e ?? new Error('threw a nullish value');
  }
  if (stray !== null) {
    const e = stray;
    stray = null;
    return e;
  }
  return null;
}

async function main(): Promise<void> {
  if (cfg.merge) {
    for (let i = 0; i < cfg.seeds.length; i++) {
      const e = await run(cfg.seeds[i]);
      if (e !== null) {
        post({ kind: 'crash', input: cfg.seeds[i], error: describeError(e), stats: stats() });
        return;
      }
      post({ kind: 'merge', index: i, features: cov.runFeatures() });
    }
    post({ kind: 'done', stats: stats() });
    return;
  }
  const seeds = cfg.seeds.length > 0 ? cfg.seeds : [new Uint8Array(1)];
  for (const s of seeds) {
    const e = await run(s);
    if (e !== null) {
      post({ kind: 'crash', input: s, error: describeError(e), stats: stats() });
      return;
    }
    if (cov.collect() > 0 || !cfg.feedback) corpus.push(s);
  }
  if (corpus.length === 0) corpus.push(seeds[0]);
  let lastReport = performance.now();
  while (runs < cfg.maxRuns && performance.now() - started < cfg.timeMs) {
    const parent = corpus[rng.below(corpus.length)];
    const other = corpus[rng.below(corpus.length)];
    const child = mutator.mutate(parent, other);
    const e = await run(child);
    if (e !== null) {
      post({ kind: 'crash', input: child, error: describeError(e), stats: stats() });
      return;
    }
    const fresh = cov.collect();
    if (fresh > 0 && cfg.feedback) {
      corpus.push(child);
      post({ kind: 'new', input: child, stats: stats() });
    }
    const now = performance.now();
    if (now - lastReport >= 1000) {
      lastReport = now;
      post({ kind: 'stats', stats: stats() });
    }
  }
  post({ kind: 'done', stats: stats() });
}

main().catch((e) => post({ kind: 'crash', input: current, error: `engine: ${describeError(e)}`, stats: stats() }));
