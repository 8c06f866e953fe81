/**
 * `pnpm fuzz [target...] [options]`: runs each fuzz target (all by default) for a time budget
 * with its seed corpus, one after the other, and prints coverage growth: the TypeScript targets
 * in this engine, then the native crate's `cargo fuzz` targets (native.ts). See docs/fuzzing.md.
 *
 *   --time S        seconds per target (default 60)
 *   --ci            CI's bounded run: CI_FUZZ_SECONDS (160) shared by all targets (a native
 *                   target gets NATIVE_CI_SECONDS of it), committed corpora only
 *   --runs N        stop a target after N runs
 *   --seed N        mutator seed (default: from the clock; printed)
 *   --no-feedback   unguided baseline: mutate the seeds only, keep nothing (for comparisons)
 *   --no-seeds      start from one zero byte instead of the corpora (for comparisons; the
 *                   TypeScript targets only, as --no-feedback)
 *   --merge         minimise: keep the fewest inputs giving every feature, write them to
 *                   test/fuzz/corpus/TARGET (named seeds stay)
 *   --timeout S     a run that takes longer is a hang finding (default 10)
 *   --rss MB        the worker's old-generation limit; past it is an OOM finding (default 1024)
 *   --json FILE     write the per-target summaries and growth series as JSON
 *   --build         only build the native targets (cargo fuzz build), as .ci/run does first
 * Exit status 1 when any target found a crash, hang or OOM; the input is written under
 * .cache/fuzz/findings/TARGET/ and printed in hex.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BUILD_DIR, ROOT, buildInstrumented, buildPlain } from './build.js';
import { CURRENT_HEADER_BYTES, type Stats, type WorkerConfig, type WorkerMessage } from './protocol.js';
import { NATIVE_TARGETS, buildNative, fuzzNative, nativeUnavailable } from './native.js';
import { TARGETS } from './targets.js';

const FUZZ_DIR = join(ROOT, 'test/fuzz');

/** Run options (the command line's, see the module comment). */
export interface Options {
  targets: string[];
  timeS: number;
  runs: number;
  seed: number;
  feedback: boolean;
  merge: boolean;
  timeoutS: number;
  rssMb: number;
  json: string | null;
  ci: boolean;
  seeds: boolean;
  /** Seconds for each native target (`--time`, or its share under `--ci`). */
  nativeTimeS: number;
  build: boolean;
}

const isNative = (t: string): boolean => NATIVE_TARGETS.includes(t);

/** The whole fuzz step in CI, shared by the targets (docs/fuzzing.md). */
const CI_FUZZ_SECONDS = 160;
/**
 * A native target's share in CI: libFuzzer runs compiled code at 10^4-10^5 inputs a second, so a
 * few seconds reach what the TypeScript targets need their larger share for.
 */
const NATIVE_CI_SECONDS = 8;

function parseArgs(argv: string[]): Options {
  const o: Options = { targets: [], timeS: 60, runs: Number.MAX_SAFE_INTEGER, seed: Date.now() >>> 0, feedback: true, merge: false, timeoutS: 10, rssMb: 1024, json: null, ci: false, seeds: true, nativeTimeS: 60, build: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v)) throw new Error(`${a} needs a number`);
      return v;
    };
    if (a === '--time') o.timeS = num();
    else if (a === '--runs') o.runs = num();
    else if (a === '--seed') o.seed = num() >>> 0;
    else if (a === '--no-feedback') o.feedback = false;
    else if (a === '--ci') o.ci = true;
    else if (a === '--no-seeds') o.seeds = false;
    else if (a === '--merge') o.merge = true;
    else if (a === '--build') o.build = true;
    else if (a === '--timeout') o.timeoutS = num();
    else if (a === '--rss') o.rssMb = num();
    else if (a === '--json') o.json = argv[++i];
    else if (a === '--') continue;
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else if (!TARGETS[a] && !NATIVE_TARGETS.includes(a)) throw new Error(`unknown target ${a} (targets: ${[...Object.keys(TARGETS), ...NATIVE_TARGETS].join(', ')})`);
    else o.targets.push(a);
  }
  if (o.targets.length === 0) o.targets = [...Object.keys(TARGETS), ...NATIVE_TARGETS];
  if (o.ci) {
    const native = o.targets.filter(isNative).length;
    const script = o.targets.length - native;
    o.nativeTimeS = script > 0 ? NATIVE_CI_SECONDS : Math.floor(CI_FUZZ_SECONDS / native);
    o.timeS = script > 0 ? Math.floor((CI_FUZZ_SECONDS - native * o.nativeTimeS) / script) : 0;
  } else {
    o.nativeTimeS = o.timeS;
  }
  return o;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const sha1 = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex');

/** Files of a folder, or nothing when it does not exist. */
function readDir(dir: string): { name: string; data: Uint8Array }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.') && !n.endsWith('.md'))
    .sort()
    .map((name) => ({ name, data: new Uint8Array(readFileSync(join(dir, name))) }));
}

/** The committed seeds and regressions of a target, then what earlier local runs found. */
function seedsOf(target: string, committedOnly: boolean): { name: string; data: Uint8Array; dir: string }[] {
  const dirs = [join(FUZZ_DIR, 'corpus', target), join(FUZZ_DIR, 'regressions', target)];
  if (!committedOnly) dirs.push(join(BUILD_DIR, 'corpus', target));
  return dirs.flatMap((dir) => readDir(dir).map((f) => ({ ...f, dir })));
}

/** What one target's run gave. */
export interface Summary {
  target: string;
  seeds: number;
  final: Stats;
  growth: Stats[];
  finding: { kind: 'crash' | 'hang' | 'oom'; file: string; error: string } | null;
}

/**
 * Fuzz one target in a worker; `entry` and `seeds` default to the registered target's module and
 * corpora (the engine's own tests pass a target of their own).
 */
export async function fuzzOne(
  o: Options,
  target: string,
  workerPath: string,
  entry: string = join(FUZZ_DIR, TARGETS[target]),
  seeds: { name: string; data: Uint8Array; dir: string }[] = o.seeds ? seedsOf(target, o.ci) : [],
): Promise<Summary> {
  const targetPath = await buildInstrumented(entry);
  const current = new SharedArrayBuffer(CURRENT_HEADER_BYTES + (1 << 20));
  const cfg: WorkerConfig = {
    targetName: target,
    targetPath,
    seeds: seeds.map((s) => s.data),
    seed: o.seed,
    timeMs: o.timeS * 1000,
    maxRuns: o.runs,
    feedback: o.feedback,
    current,
    merge: o.merge,
  };
  const worker = new Worker(workerPath, { workerData: cfg, resourceLimits: { maxOldGenerationSizeMb: o.rssMb } });
  const header = new Int32Array(current, 0, 2);
  const cacheCorpus = join(BUILD_DIR, 'corpus', target);
  mkdirSync(cacheCorpus, { recursive: true });
  const growth: Stats[] = [];
  const summary: Summary = { target, seeds: seeds.length, final: { runs: 0, ms: 0, corpus: 0, covered: 0, counters: 0, features: 0 }, growth, finding: null };
  const mergeFeatures: number[][] = [];
  const line = (tag: string, s: Stats): void => {
    const pct = s.counters > 0 ? ((100 * s.covered) / s.counters).toFixed(1) : '0';
    const rate = s.ms > 0 ? Math.round((s.runs * 1000) / s.ms) : 0;
    console.log(`[${target}] #${s.runs} ${tag.padEnd(5)} cov: ${s.covered}/${s.counters} (${pct}%) ft: ${s.features} corp: ${s.corpus} exec/s: ${rate} t: ${(s.ms / 1000).toFixed(1)}s`);
  };
  const record = (kind: 'crash' | 'hang' | 'oom', input: Uint8Array, error: string): void => {
    const dir = join(BUILD_DIR, 'findings', target);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${kind}-${sha1(input)}`);
    writeFileSync(file, input);
    summary.finding = { kind, file, error };
    console.log(`[${target}] ${kind.toUpperCase()} (${input.length} bytes) written to ${file}\n${error}\n[${target}] input hex: ${hex(input.subarray(0, 4096))}${input.length > 4096 ? '...' : ''}`);
  };
  const currentInput = (): Uint8Array => {
    const len = Math.min(Atomics.load(header, 1), current.byteLength - CURRENT_HEADER_BYTES);
    return new Uint8Array(current, CURRENT_HEADER_BYTES, len).slice();
  };
  let lastRuns = -1;
  let lastChange = Date.now();
  await new Promise<void>((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearInterval(watchdog);
      resolve();
    };
    const watchdog = setInterval(() => {
      const r = Atomics.load(header, 0);
      if (r !== lastRuns) {
        lastRuns = r;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > o.timeoutS * 1000) {
        record('hang', currentInput(), `a run took more than ${o.timeoutS} s`);
        void worker.terminate();
        finish();
      }
    }, 250);
    worker.on('message', (m: WorkerMessage) => {
      if (m.kind === 'merge') {
        mergeFeatures[m.index] = m.features;
        return;
      }
      summary.final = m.stats;
      if (m.kind === 'new') {
        writeFileSync(join(cacheCorpus, sha1(m.input)), m.input);
        if (growth.length === 0 || m.stats.ms - growth[growth.length - 1].ms >= 250) growth.push(m.stats);
        if (m.stats.runs < 1000 || growth.length % 16 === 0) line('NEW', m.stats);
      } else if (m.kind === 'stats') {
        growth.push(m.stats);
        if (Math.round(m.stats.ms / 1000) % 10 === 0) line('pulse', m.stats);
      } else if (m.kind === 'crash') {
        record('crash', m.input, m.error);
      } else if (m.kind === 'done') {
        growth.push(m.stats);
        line('DONE', m.stats);
      }
    });
    worker.on('error', (e: Error & { code?: string }) => {
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') record('oom', currentInput(), `the worker's heap passed ${o.rssMb} MiB`);
      else record('crash', currentInput(), `engine: ${e.stack ?? e.message}`);
      finish();
    });
    worker.on('exit', finish);
  });
  if (o.merge && summary.finding === null) writeMerged(target, seeds, mergeFeatures);
  return summary;
}

/** Greedy set cover: the fewest inputs that together give every feature any input gave. */
function writeMerged(target: string, seeds: { name: string; data: Uint8Array; dir: string }[], features: number[][]): void {
  const order = seeds.map((_, i) => i).sort((a, b) => (features[b]?.length ?? 0) - (features[a]?.length ?? 0) || seeds[a].data.length - seeds[b].data.length);
  const have = new Set<number>();
  const keep: number[] = [];
  for (const i of order) {
    const f = features[i] ?? [];
    if (f.some((x) => !have.has(x))) {
      keep.push(i);
      for (const x of f) have.add(x);
    }
  }
  const dir = join(FUZZ_DIR, 'corpus', target);
  mkdirSync(dir, { recursive: true });
  // Hash-named files are engine output and are replaced; named seeds (recorded workloads) stay.
  for (const f of readDir(dir)) if (/^[0-9a-f]{40}$/.test(f.name)) rmSync(join(dir, f.name));
  let written = 0;
  for (const i of keep) {
    const s = seeds[i];
    if (s.dir.endsWith(join('regressions', target))) continue;
    const name = s.dir === dir && !/^[0-9a-f]{40}$/.test(s.name) ? s.name : sha1(s.data);
    writeFileSync(join(dir, name), s.data);
    written++;
  }
  console.log(`[${target}] merge: ${seeds.length} inputs -> ${keep.length} cover all ${have.size} features; ${written} in test/fuzz/corpus/${target}`);
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.build) {
    const missing = nativeUnavailable();
    if (missing) throw new Error(missing);
    buildNative();
    return;
  }
  console.log(`fuzz: targets ${o.targets.join(', ')}; ${o.merge ? 'merge' : `${o.timeS} s each${o.nativeTimeS !== o.timeS ? ` (native: ${o.nativeTimeS} s)` : ''}`}; seed ${o.seed}${o.feedback ? '' : '; NO coverage feedback (baseline)'}`);
  const workerPath = await buildPlain(join(FUZZ_DIR, 'engine/worker.ts'), 'worker');
  const summaries: Summary[] = [];
  for (const t of o.targets.filter((x) => !isNative(x))) summaries.push(await fuzzOne(o, t, workerPath));
  const native = o.targets.filter(isNative);
  const missing = native.length > 0 ? nativeUnavailable() : null;
  if (missing && (o.ci || process.env.CI)) throw new Error(`the native fuzz targets need cargo-fuzz: ${missing}`);
  if (missing) console.log(`fuzz: skipping ${native.join(', ')}: ${missing}`);
  else {
    for (const t of native) {
      const r = await fuzzNative(t, { timeS: o.nativeTimeS, seed: o.seed, timeoutS: o.timeoutS, rssMb: o.rssMb, runs: o.runs, merge: o.merge, committedOnly: o.ci });
      summaries.push({ target: t, seeds: 0, final: r.final, growth: [], finding: r.finding });
    }
  }
  console.log('\ntarget               runs      exec/s  covered/counters  features  corpus  finding');
  for (const s of summaries) {
    const f = s.final;
    const rate = f.ms > 0 ? Math.round((f.runs * 1000) / f.ms) : 0;
    console.log(
      `${s.target.padEnd(20)} ${String(f.runs).padStart(8)} ${String(rate).padStart(8)}  ${`${f.covered}/${f.counters}`.padStart(16)}  ${String(f.features).padStart(8)}  ${String(f.corpus).padStart(6)}  ${s.finding ? `${s.finding.kind} ${s.finding.file}` : '-'}`,
    );
  }
  if (o.json) writeFileSync(o.json, JSON.stringify(summaries, null, 1));
  if (summaries.some((s) => s.finding)) process.exitCode = 1;
}

/** Default options, for callers other than the command line. */
export function defaultOptions(): Options {
  return parseArgs([]);
}

if (process.argv[1]?.endsWith('cli.ts')) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 2;
  });
}
