/**
 * The native crate's fuzz targets: `cargo fuzz` (libFuzzer, AddressSanitizer) over the plain Rust
 * modules of crates/native (crates/native/fuzz). `pnpm fuzz` runs them after the TypeScript
 * targets, with the same corpus layout (`test/fuzz/corpus/TARGET`, `test/fuzz/regressions/TARGET`,
 * `.cache/fuzz/corpus/TARGET`) and findings folder. See docs/fuzzing.md.
 *
 * The sanitizer needs `-Zsanitizer`, a nightly flag: the stable toolchain accepts it under
 * RUSTC_BOOTSTRAP=1 (its AddressSanitizer runtime ships with rust-std), so CI needs no nightly.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { BUILD_DIR, ROOT } from './build.js';
import type { Stats } from './protocol.js';

/** The cargo-fuzz targets (crates/native/fuzz/Cargo.toml's [[bin]] names). */
export const NATIVE_TARGETS: readonly string[] = ['native-map-fd', 'native-cmsg', 'native-recv-fds', 'native-guest-iovecs'];

const CRATE = join(ROOT, 'crates/native/fuzz');
const FUZZ_DIR = join(ROOT, 'test/fuzz');
/** Where .ci/run installs cargo-fuzz (`cargo install --root`). */
const CARGO_FUZZ_BIN = join(ROOT, '.cache/cargo-fuzz/bin');

/** What one libFuzzer run gave (the fields of the engine's Summary). */
export interface NativeResult {
  final: Stats;
  finding: { kind: 'crash' | 'hang' | 'oom'; file: string; error: string } | null;
}

const env = (): NodeJS.ProcessEnv => ({
  ...process.env,
  PATH: `${CARGO_FUZZ_BIN}${delimiter}${process.env.PATH ?? ''}`,
  RUSTC_BOOTSTRAP: '1',
});

/** Why the native targets cannot run here, or null when cargo and cargo-fuzz are present. */
export function nativeUnavailable(): string | null {
  const r = spawnSync('cargo', ['fuzz', '--version'], { env: env(), encoding: 'utf8' });
  if (r.status === 0) return null;
  return 'cargo-fuzz not found (install it with `cargo install cargo-fuzz --locked --root .cache/cargo-fuzz`, as .ci/run does)';
}

let built: string | null = null;

/** Build every native target once (incremental); returns the folder holding the binaries. */
export function buildNative(): string {
  if (built) return built;
  const host = /^host: (\S+)$/m.exec(spawnSync('rustc', ['-vV'], { encoding: 'utf8' }).stdout ?? '')?.[1];
  if (!host) throw new Error('rustc -vV names no host triple');
  console.log('fuzz: cargo fuzz build (crates/native/fuzz, AddressSanitizer, debug assertions, any toolchain via RUSTC_BOOTSTRAP=1)');
  // -a: debug assertions (integer overflow panics) in the fuzzed code, as in `cargo test`.
  const r = spawnSync('cargo', ['fuzz', 'build', '-a', '--target', host], { cwd: CRATE, env: env(), stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`cargo fuzz build failed (status ${r.status})`);
  built = join(CRATE, 'target', host, 'release');
  return built;
}

const FINDING = /^(crash|leak|oom|timeout|slow-unit)-/;

/**
 * Run one native target for `timeS` seconds from its committed seeds and regressions (and, unless
 * `committedOnly`, what earlier local runs found), or merge them into the committed corpus.
 */
export async function fuzzNative(target: string, o: { timeS: number; seed: number; timeoutS: number; rssMb: number; runs: number; merge: boolean; committedOnly: boolean }): Promise<NativeResult> {
  const bin = join(buildNative(), target);
  const committed = join(FUZZ_DIR, 'corpus', target);
  const regressions = join(FUZZ_DIR, 'regressions', target);
  // libFuzzer writes what it finds into the first folder; in CI a fresh one, so a run starts from
  // the committed inputs only.
  const found = join(BUILD_DIR, o.committedOnly ? 'ci-corpus' : 'corpus', target);
  if (o.committedOnly) rmSync(found, { recursive: true, force: true });
  const findings = join(BUILD_DIR, 'findings', target);
  for (const d of [committed, found, findings]) mkdirSync(d, { recursive: true });
  const dirs = o.merge ? [committed, found] : [found, committed, ...(existsSync(regressions) ? [regressions] : [])];
  const flags = o.merge
    ? ['-merge=1']
    : [`-max_total_time=${o.timeS}`, `-seed=${o.seed || 1}`, `-timeout=${o.timeoutS}`, `-rss_limit_mb=${o.rssMb}`, `-artifact_prefix=${findings}/`, '-print_final_stats=1', ...(o.runs < Number.MAX_SAFE_INTEGER ? [`-runs=${o.runs}`] : [])];
  const before = new Set(readdirSync(findings));
  const started = Date.now();
  const final: Stats = { runs: 0, ms: 0, corpus: 0, covered: 0, counters: 0, features: 0 };
  let errorLines: string[] = [];
  let newLines = 0;
  const status = await new Promise<number>((resolve) => {
    const child = spawn(bin, [...flags, ...dirs], { cwd: CRATE, env: env(), stdio: ['ignore', 'inherit', 'pipe'] });
    let rest = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const counters = /Loaded \d+ modules\s+\((\d+) inline 8-bit counters\)/.exec(line);
        if (counters) final.counters = Number(counters[1]);
        const status = /^#(\d+)\s+\S+\s+cov: (\d+) ft: (\d+) corp: (\d+)/.exec(line);
        if (status) [final.runs, final.covered, final.features, final.corpus] = status.slice(1, 5).map(Number);
        const executed = /^stat::number_of_executed_units: (\d+)/.exec(line);
        if (executed) final.runs = Number(executed[1]);
        if (/ERROR|SUMMARY|panicked|assertion|Test unit written|==\d+==/.test(line)) errorLines.push(line);
        // Every NEW line early on, then only pulses and the end, as the TypeScript engine prints.
        const isNew = /\s(NEW|REDUCE)\s|NEW_FUNC/.test(line);
        if (isNew) newLines++;
        if (!isNew || newLines <= 20) console.log(`[${target}] ${line}`);
      }
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  final.ms = Date.now() - started;
  const fresh = readdirSync(findings).filter((f) => !before.has(f) && FINDING.test(f));
  let finding: NativeResult['finding'] = null;
  if (status !== 0 || fresh.length > 0) {
    const name = fresh[0];
    const kind = !name ? 'crash' : name.startsWith('oom') || name.startsWith('leak') ? 'oom' : name.startsWith('timeout') || name.startsWith('slow') ? 'hang' : 'crash';
    errorLines = errorLines.slice(0, 40);
    finding = { kind, file: name ? join(findings, name) : '(no input written)', error: `libFuzzer exited with status ${status}\n${errorLines.join('\n')}` };
    console.log(`[${target}] ${kind.toUpperCase()} written to ${finding.file}; repeat it with: ${bin} ${finding.file}`);
  }
  return { final, finding };
}
